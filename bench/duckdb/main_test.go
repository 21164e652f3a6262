package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStatementQuotes(t *testing.T) {
	o := options{in: "/data/it's/*.csv.gz", out: "/tmp/o", timeColumn: `Time "UTC"`, keyColumn: `Event "Id"`, query: "copy"}
	got := statement(o)
	want := `COPY (SELECT *, CAST("Time ""UTC""" AS DATE) AS event_date FROM read_csv('/data/it''s/*.csv.gz')) ` +
		`TO '/tmp/o' (FORMAT PARQUET, PARTITION_BY (event_date), COMPRESSION ZSTD)`
	if got != want {
		t.Errorf("statement (copy):\n got %s\nwant %s", got, want)
	}
	o.query = "dedup"
	got = statement(o)
	want = `COPY (SELECT DISTINCT ON ("Event ""Id""") *, CAST("Time ""UTC""" AS DATE) AS event_date FROM read_csv('/data/it''s/*.csv.gz')) ` +
		`TO '/tmp/o' (FORMAT PARQUET, PARTITION_BY (event_date), COMPRESSION ZSTD)`
	if got != want {
		t.Errorf("statement (dedup):\n got %s\nwant %s", got, want)
	}
}

func TestParseFlagsNamesTheBadFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--out", "/tmp/o"}, "--in"},
		{[]string{"--in", "x.csv"}, "--out"},
		{[]string{"--in", "x.csv", "--out", "o", "--threads", "-1"}, "--threads"},
		{[]string{"--in", "x.csv", "--out", "o", "extra"}, "extra"},
		{[]string{"--in", "x.csv", "--out", "o", "--query", "all"}, "--query"},
		{[]string{"--in", "x.csv", "--out", "o", "--key-column", ""}, "--key-column"},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseFlags(%q) = %v, want an error naming %s", tc.args, err, tc.want)
		}
	}
}

// TestRunWritesPartitions runs the real COPY on a tiny CSV holding one event twice: one directory per event
// date; dedup writes each event once, copy every row.
func TestRunWritesPartitions(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "export.csv")
	csv := "Timestamp,Event Id,Event Type\n" +
		"2026-11-24 23:59:59.999,a,Login\n" +
		"2026-11-25 00:00:00.000,b,Login\n" +
		"2026-11-25 13:45:12.123,c,View Workbook\n" +
		"2026-11-25 00:00:00.000,b,Login\n"
	if err := os.WriteFile(in, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		query string
		want  int64
	}{{"dedup", 3}, {"copy", 4}} {
		out := filepath.Join(dir, "out-"+tc.query)
		var buf strings.Builder
		o := options{in: in, out: out, timeColumn: "Timestamp", keyColumn: "Event Id", query: tc.query, threads: 1}
		if err := run(context.Background(), o, &buf); err != nil {
			t.Fatalf("run %s: %v", tc.query, err)
		}
		var s summary
		if err := json.Unmarshal([]byte(buf.String()), &s); err != nil {
			t.Fatalf("summary %q: %v", buf.String(), err)
		}
		if s.Rows != tc.want || s.Query != tc.query {
			t.Errorf("%s: rows = %d, query %q, want %d rows", tc.query, s.Rows, s.Query, tc.want)
		}
		for _, d := range []string{"event_date=2026-11-24", "event_date=2026-11-25"} {
			files, err := filepath.Glob(filepath.Join(out, d, "*.parquet"))
			if err != nil || len(files) == 0 {
				t.Errorf("%s: no parquet file under %s (err %v)", tc.query, d, err)
			}
		}
	}
}
