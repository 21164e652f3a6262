package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/auditexport/auditexport/exporter/generate"
)

// parquetRowsByPartition counts the rows of every Parquet file under dir by
// partition directory, reading the files with parquet-go, and checks that
// no partial or sidecar files are left.
func parquetRowsByPartition(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch base := filepath.Base(rel); {
		case strings.HasPrefix(rel, "_auditexport/staging/"):
			t.Errorf("staging file %s left after the run", rel)
			return nil
		case strings.HasPrefix(rel, "_auditexport/"), base == "_manifest.json", base == "_SUCCESS":
			return nil
		case !strings.HasSuffix(p, ".parquet"):
			t.Errorf("unexpected file %s in the archive", rel)
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		out[filepath.Dir(rel)] += f.NumRows()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The README's first command: the sample exports in configs/ -> Parquet.
func TestRunLocalConfig(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	out := t.TempDir()
	code, stdout, stderr := cli(t, "run", "--config", "configs/local.yaml", "--destination.url", out)
	if code != exitOK {
		t.Fatalf("run: code %d\n%s", code, stderr)
	}
	s := summaryLine(t, stdout)
	if s.Status != "ok" || s.RowsWritten == 0 || s.RowsDup == 0 || s.RowsRead != s.RowsWritten+s.RowsDup {
		t.Fatalf("summary = %+v: want rows written, duplicates from the overlapping exports, and read = written + duplicate", s)
	}
	got := parquetRowsByPartition(t, filepath.Join(out, "sigma-audit"))
	var total int64
	for _, p := range s.Partitions {
		if got[p.Partition] != p.Rows {
			t.Errorf("%s: %d rows on disk, summary says %d", p.Partition, got[p.Partition], p.Rows)
		}
		total += got[p.Partition]
	}
	if total != s.RowsWritten || len(got) != len(s.Partitions) {
		t.Errorf("on disk %v (%d rows), summary %d rows in %d partitions", got, total, s.RowsWritten, len(s.Partitions))
	}
}

// generate -> run: every partition holds exactly the distinct events the
// generator wrote for that day, through overlaps, duplicates, late rows,
// renamed headers (mapped in the config) and mixed timestamp renderings.
func TestGenerateThenRun(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format string
		id     bool
	}{{"csv.gz-with-ids", "csv.gz", true}, {"csv-fingerprint", "csv", false}, {"jsonl", "jsonl", true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			land, out := filepath.Join(dir, "land"), filepath.Join(dir, "out")
			code, stdout, stderr := cli(t, "generate", "--out", land, "--start", "2026-11-01", "--days", "4",
				"--rows-per-day", "700", "--exports", "3", "--format", tc.format, "--headers", "renamed",
				"--event-id="+fmt.Sprint(tc.id), "--duplicate-rate", "0.05", "--late-rate", "0.05", "--seed", "11")
			if code != exitOK {
				t.Fatalf("generate: %d %s", code, stderr)
			}
			var truth generate.Truth
			if err := json.Unmarshal([]byte(stdout), &truth); err != nil {
				t.Fatal(err)
			}
			if truth.Late == 0 || truth.Duplicates == 0 || len(truth.Files) != 3 {
				t.Fatalf("generator truth %+v: want late rows, duplicates and 3 files", truth)
			}
			var cfg strings.Builder
			fmt.Fprintf(&cfg, "source:\n  url: %s\ndestination:\n  url: %s\nschema:\n  strict: true\n  columns:\n", land, out)
			renames := make([]string, 0, len(truth.Renames))
			for h := range truth.Renames {
				renames = append(renames, h)
			}
			sort.Strings(renames)
			for _, h := range renames {
				fmt.Fprintf(&cfg, "    - header: %q\n      id: %s\n", h, truth.Renames[h])
			}
			p := writeFile(t, dir, "c.yaml", cfg.String())
			code, stdout, stderr = cli(t, "run", "--config", p)
			if code != exitOK {
				t.Fatalf("run: %d %s", code, stderr)
			}
			s := summaryLine(t, stdout)
			if s.RowsWritten != int64(truth.Distinct) || s.RowsRead != int64(truth.RowsWritten) {
				t.Errorf("read %d written %d, generator wrote %d rows of %d distinct events", s.RowsRead, s.RowsWritten, truth.RowsWritten, truth.Distinct)
			}
			got := parquetRowsByPartition(t, out)
			want := map[string]int64{}
			for day, n := range truth.DistinctPerDay {
				want["event_date="+day] = int64(n)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("rows per partition:\n got %v\nwant %v", got, want)
			}
		})
	}
}

// plan writes nothing and reports what run would write.
func TestPlanWritesNothing(t *testing.T) {
	root, _ := filepath.Abs("../..")
	t.Chdir(root)
	out := filepath.Join(t.TempDir(), "archive")
	code, stdout, stderr := cli(t, "plan", "--config", "configs/local.yaml", "--destination.url", out)
	if code != exitOK {
		t.Fatalf("plan: %d %s", code, stderr)
	}
	var s struct {
		DryRun      bool  `json:"dry_run"`
		RowsToWrite int64 `json:"rows_to_write"`
	}
	if err := json.Unmarshal([]byte(stdout), &s); err != nil || !s.DryRun || s.RowsToWrite == 0 {
		t.Fatalf("plan summary = %+v (%v)", s, err)
	}
	if n := len(parquetRowsByPartition(t, out)); n != 0 {
		t.Fatalf("plan wrote %d partitions", n)
	}
}

// backfill keeps only the requested dates.
func TestBackfillRange(t *testing.T) {
	dir := t.TempDir()
	land, out := filepath.Join(dir, "land"), filepath.Join(dir, "out")
	code, stdout, stderr := cli(t, "generate", "--out", land, "--start", "2026-10-01", "--days", "5", "--rows-per-day", "300", "--exports", "2", "--seed", "3")
	if code != exitOK {
		t.Fatalf("generate: %s", stderr)
	}
	var truth generate.Truth
	if err := json.Unmarshal([]byte(stdout), &truth); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = cli(t, "backfill", "--source.url", land, "--destination.url", out, "--from", "2026-10-02", "--to", "2026-10-03")
	if code != exitOK {
		t.Fatalf("backfill: %s", stderr)
	}
	got := parquetRowsByPartition(t, out)
	want := map[string]int64{
		"event_date=2026-10-02": int64(truth.DistinctPerDay["2026-10-02"]),
		"event_date=2026-10-03": int64(truth.DistinctPerDay["2026-10-03"]),
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("backfill partitions = %v, want %v", got, want)
	}
	_ = summaryLine(t, stdout)
}

// A run that fails on a broken export exits 1, prints a failed summary,
// and writes no data.
func TestRunFailsOnBrokenGzip(t *testing.T) {
	dir := t.TempDir()
	land, out := filepath.Join(dir, "land"), filepath.Join(dir, "out")
	os.MkdirAll(land, 0o755)
	data, err := os.ReadFile("../../testdata/bad/truncated.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(land, "x.csv.gz"), data, 0o644)
	code, stdout, stderr := cli(t, "run", "--source.url", land, "--destination.url", out)
	if code != exitFailure || !strings.Contains(stderr, "x.csv.gz") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
	if s := summaryLine(t, stdout); s.Status != "failed" || s.Error == "" {
		t.Errorf("summary = %+v, want status failed with the error", s)
	}
	if n := len(parquetRowsByPartition(t, out)); n != 0 {
		t.Errorf("failed run wrote %d partitions", n)
	}
}

func TestSchemaCommand(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "c.yaml", "schema:\n  columns:\n    - header: Email Address\n      id: USER_EMAIL\n")
	code, out, stderr := cli(t, "schema", "--config", p, "--header", "Timestamp,event_type,Email Address,Shoe Size")
	if code != exitOK {
		t.Fatalf("schema: %d %s", code, stderr)
	}
	for _, want := range []string{"TIMESTAMP", "EVENT_TYPE", "USER_EMAIL", "SHOE_SIZE", "derived", "warning:"} {
		if !strings.Contains(out, want) {
			t.Errorf("schema --header output lacks %q:\n%s", want, out)
		}
	}
	code, _, stderr = cli(t, "schema", "--header", "Event Type,EVENT_TYPE")
	if code != exitFailure || !strings.Contains(stderr, "Event Type") || !strings.Contains(stderr, "EVENT_TYPE") {
		t.Errorf("duplicate header: code %d stderr %q", code, stderr)
	}
	code, out, _ = cli(t, "schema")
	if code != exitOK || !strings.Contains(out, "EVENT_STATUS_REASON_CODE") || !strings.Contains(out, "confirmed") || !strings.Contains(out, "assumed") {
		t.Errorf("schema: code %d output:\n%s", code, out)
	}
	code, out, _ = cli(t, "schema", "--categories")
	if code != exitOK || !strings.Contains(out, "MATERIALIZATIONS") {
		t.Errorf("schema --categories: code %d output:\n%s", code, out)
	}
	code, out, _ = cli(t, "schema", "--file", "../../testdata/bad/bom.csv", "--json")
	if code != exitOK || !strings.Contains(out, `"TIMESTAMP"`) {
		t.Errorf("schema --file: code %d output:\n%s", code, out)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := cli(t, "version")
	if code != exitOK || !strings.HasPrefix(out, "auditexport ") {
		t.Errorf("version: %d %q", code, out)
	}
}
