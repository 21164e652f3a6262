package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/sinks"
)

// exportCSV writes a Sigma-style export of events (time, ID) into land.
func exportCSV(t *testing.T, land, name string, events map[string]time.Time) {
	t.Helper()
	var b strings.Builder
	b.WriteString("Timestamp,Event Id,Event Category,Event Type\n")
	for id, at := range events {
		fmt.Fprintf(&b, "%s,%s,ACCESS_SIGMA,Login\n", at.UTC().Format(time.DateTime), id)
	}
	if err := os.MkdirAll(land, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, land, name, b.String())
}

// summaryFields decodes the one summary line into a map, for the fields
// runSummaryView leaves out.
func summaryFields(t *testing.T, stdout string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &m); err != nil {
		t.Fatalf("summary %q: %v", stdout, err)
	}
	return m
}

func count(m map[string]any, field string) int64 {
	n, _ := m[field].(float64)
	return int64(n)
}

// headOf reads the archive's head commit in a local destination.
func headOf(t *testing.T, out string) *archive.Commit {
	t.Helper()
	b, err := sinks.Open(context.Background(), out, sinks.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	st, err := archive.LoadState(context.Background(), b)
	if err != nil || st.Head == nil {
		t.Fatalf("load the log of %s: %v", out, err)
	}
	return st.Head
}

// One event ten days ahead and one at 9999-12-31 (clock skew, a bad
// offset) are rejected, never move the watermark past now, and the next
// day's events land.
func TestFutureEventsDoNotStopTheArchive(t *testing.T) {
	dir := t.TempDir()
	land, out := filepath.Join(dir, "land"), filepath.Join(dir, "out")
	now := time.Now().UTC()
	events := map[string]time.Time{
		"skewed": now.Add(10 * 24 * time.Hour),
		"far":    time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
	}
	for i := range 300 {
		events[fmt.Sprintf("a%03d", i)] = now.Add(-48*time.Hour + time.Duration(i)*time.Minute)
	}
	exportCSV(t, land, "export-1.csv", events)
	code, stdout, stderr := cli(t, "run", "--source.url", land, "--destination.url", out)
	if code != exitOK {
		t.Fatalf("run: code %d\n%s", code, stderr)
	}
	s := summaryFields(t, stdout)
	if count(s, "rows_written") != 300 || count(s, "rows_rejected") != 2 {
		t.Fatalf("summary %v: want 300 written and the 2 future rows rejected", s)
	}
	if !strings.Contains(stderr, "is in the future") {
		t.Errorf("stderr lacks the reason of the rejected rows:\n%s", stderr)
	}
	if wm := headOf(t, out).Source.Watermark; wm.After(time.Now()) {
		t.Fatalf("watermark %s is after now", wm)
	}
	later := map[string]time.Time{}
	for i := range 100 {
		later[fmt.Sprintf("b%03d", i)] = now.Add(-time.Duration(i+1) * time.Minute)
	}
	exportCSV(t, land, "export-2.csv", later)
	code, stdout, stderr = cli(t, "run", "--source.url", land, "--destination.url", out)
	if code != exitOK {
		t.Fatalf("second run: code %d\n%s", code, stderr)
	}
	if s := summaryFields(t, stdout); count(s, "rows_written") != 100 || count(s, "rows_out_of_window") != 0 {
		t.Fatalf("second run summary %v: want the 100 new events written", s)
	}
	var total int64
	for _, n := range parquetRowsByPartition(t, out) {
		total += n
	}
	if total != 400 {
		t.Errorf("archive holds %d rows, want 400", total)
	}
}

// A new event older than run.lookback that a later export holds lands, and
// the run says so in its summary and a warning.
func TestNewEventOlderThanLookbackIsWritten(t *testing.T) {
	dir := t.TempDir()
	land, out := filepath.Join(dir, "land"), filepath.Join(dir, "out")
	now := time.Now().UTC()
	first := map[string]time.Time{}
	for i := range 20 {
		first[fmt.Sprintf("a%02d", i)] = now.Add(-time.Duration(i) * 24 * time.Hour).Add(-time.Hour)
	}
	exportCSV(t, land, "export-1.csv", first)
	if code, _, stderr := cli(t, "run", "--source.url", land, "--destination.url", out); code != exitOK {
		t.Fatalf("run: %s", stderr)
	}
	// The next export: the whole table again, an event 15 days old that the
	// first lacked, and a new one.
	second := map[string]time.Time{"late": now.Add(-15 * 24 * time.Hour), "new": now.Add(-time.Minute)}
	for id, at := range first {
		second[id] = at
	}
	exportCSV(t, land, "export-2.csv", second)
	code, stdout, stderr := cli(t, "run", "--source.url", land, "--destination.url", out)
	if code != exitOK {
		t.Fatalf("second run: %s", stderr)
	}
	s := summaryFields(t, stdout)
	if count(s, "rows_written") != 2 || count(s, "rows_late") != 1 || count(s, "rows_already_archived") != 20 || count(s, "rows_out_of_window") != 0 {
		t.Fatalf("summary %v: want 2 written (1 late), 20 already archived, none out of window", s)
	}
	if !strings.Contains(fmt.Sprint(s["warnings"]), "1 new events older than the lookback") || !strings.Contains(stderr, "older than the lookback") {
		t.Errorf("no warning about the late event: summary warnings %v\n%s", s["warnings"], stderr)
	}
	var total int64
	for _, n := range parquetRowsByPartition(t, out) {
		total += n
	}
	if total != 22 {
		t.Errorf("archive holds %d rows, want 22", total)
	}
}
