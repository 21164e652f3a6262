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
	got := statement(options{in: "/data/it's/*.csv.gz", out: "/tmp/o", timeColumn: `Time "UTC"`})
	want := `COPY (SELECT *, CAST("Time ""UTC""" AS DATE) AS event_date FROM read_csv('/data/it''s/*.csv.gz')) ` +
		`TO '/tmp/o' (FORMAT PARQUET, PARTITION_BY (event_date), COMPRESSION ZSTD)`
	if got != want {
		t.Errorf("statement:\n got %s\nwant %s", got, want)
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
	} {
		_, err := parseFlags(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseFlags(%q) = %v, want an error naming %s", tc.args, err, tc.want)
		}
	}
}

// TestRunWritesPartitions runs the real COPY on a tiny CSV: one directory per event date, every row counted.
func TestRunWritesPartitions(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "export.csv")
	csv := "Timestamp,Event Id,Event Type\n" +
		"2026-11-24 23:59:59.999,a,Login\n" +
		"2026-11-25 00:00:00.000,b,Login\n" +
		"2026-11-25 13:45:12.123,c,View Workbook\n"
	if err := os.WriteFile(in, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	var buf strings.Builder
	if err := run(context.Background(), options{in: in, out: out, timeColumn: "Timestamp", threads: 1}, &buf); err != nil {
		t.Fatalf("run: %v", err)
	}
	var s summary
	if err := json.Unmarshal([]byte(buf.String()), &s); err != nil {
		t.Fatalf("summary %q: %v", buf.String(), err)
	}
	if s.Rows != 3 {
		t.Errorf("rows = %d, want 3", s.Rows)
	}
	for _, d := range []string{"event_date=2026-11-24", "event_date=2026-11-25"} {
		files, err := filepath.Glob(filepath.Join(out, d, "*.parquet"))
		if err != nil || len(files) == 0 {
			t.Errorf("no parquet file under %s (err %v)", d, err)
		}
	}
}
