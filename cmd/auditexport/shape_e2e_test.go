package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter"
	"github.com/auditexport/auditexport/exporter/archive"
)

// A backfill under settings that would shape the archive otherwise fails at
// start (exit 2) naming the setting, the run's value and the archive's, and
// leaves the archive as it was.
func TestShapeChangeFailsAtStart(t *testing.T) {
	dir := t.TempDir()
	land, out := filepath.Join(dir, "land"), filepath.Join(dir, "out")
	now := time.Now().UTC()
	events := map[string]time.Time{}
	for i := range 50 {
		events[fmt.Sprintf("e%02d", i)] = now.Add(-time.Duration(i) * 3 * time.Hour)
	}
	exportCSV(t, land, "export-1.csv", events)
	if code, _, stderr := cli(t, "run", "--source.url", land, "--destination.url", out); code != exitOK {
		t.Fatalf("run: %s", stderr)
	}
	from, to := now.AddDate(0, 0, -10).Format(time.DateOnly), now.Format(time.DateOnly)
	for _, tt := range []struct {
		flags []string
		want  []string
	}{
		{[]string{"--partitioning.by_category", "true"}, []string{`partitioning.by_category "true"`, `written with "false"`}},
		{[]string{"--partitioning.timezone", "America/New_York"}, []string{`partitioning.timezone "America/New_York"`, `written with "UTC"`}},
		{[]string{"--dedup.key", "REQUEST_ID,TIMESTAMP"}, []string{`dedup.key "REQUEST_ID,TIMESTAMP"`, `written with ""`}},
		{[]string{"--parquet.lower_case_columns", "true"}, []string{`parquet.lower_case_columns "true"`}},
	} {
		args := append([]string{"backfill", "--source.url", land, "--destination.url", out, "--from", from, "--to", to}, tt.flags...)
		code, stdout, stderr := cli(t, args...)
		if code != exitUsage {
			t.Errorf("%v: code %d, want %d\n%s", tt.flags, code, exitUsage, stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr, w) || !strings.Contains(stdout, "failed") {
				t.Errorf("%v: output lacks %q:\n%s\n%s", tt.flags, w, stdout, stderr)
			}
		}
	}
	if n := headOf(t, out).Number; n != 1 {
		t.Errorf("head is commit %d after refused runs, want 1", n)
	}
	if code, _, stderr := cli(t, "verify", "--destination.url", out, "--read-data"); code != exitOK {
		t.Errorf("verify after refused runs: code %d\n%s", code, stderr)
	}
	code, stdout, stderr := cli(t, "backfill", "--source.url", land, "--destination.url", out, "--from", from, "--to", to)
	if s := summaryFields(t, stdout); code != exitOK || count(s, "rows_written") != 0 || count(s, "rows_already_archived") != 50 {
		t.Fatalf("backfill with the archive's settings: code %d summary %v\n%s", code, s, stderr)
	}
}

// A run refused for its shape reads as configuration errors, one line per
// setting, whatever wraps it on its way out of the run.
func TestShapeWords(t *testing.T) {
	se := &exporter.ShapeError{Commit: 7, Archive: "file:///a/", Fields: []archive.ShapeField{
		{Name: "by_category", Archive: "false", Other: "true"},
		{Name: "id_column", Archive: "EVENT_ID", Other: "X"},
	}}
	want := `partitioning.by_category "true": the archive at file:///a/ was written with "false" (its shape, recorded by commit 7); a run with another value would write archived events again: set it back to "false", or write a new archive under another destination.prefix (docs/archive-format.md, "Shape")` + "\n" +
		`id_column "X": the archive at file:///a/ was written with "EVENT_ID" (its shape, recorded by commit 7); a run with another value would write archived events again: set it back to "EVENT_ID", or write a new archive under another destination.prefix (docs/archive-format.md, "Shape")`
	if got := userError(fmt.Errorf("stopped: %w", se)).Error(); got != "stopped: "+want {
		t.Errorf("userError =\n%s\nwant\n%s", got, "stopped: "+want)
	}
	if code := exitCode(userError(se)); code != exitUsage {
		t.Errorf("exit code %d, want %d", code, exitUsage)
	}
}
