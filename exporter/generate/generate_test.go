package generate

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestGenerateIsDeterministic(t *testing.T) {
	opts := baseOptions()
	opts.Format = FormatCSVGzip
	opts.Exports = 6
	read := func(opts Options) (Truth, map[string][]byte) {
		t.Helper()
		dir := t.TempDir()
		truth, err := Generate(context.Background(), dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{}
		for _, name := range truth.Files {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			files[name] = b
		}
		return truth, files
	}
	opts.Workers = 1
	truth1, files1 := read(opts)
	opts.Workers = 3 // the files must not depend on how many are written at once
	truth2, files2 := read(opts)
	if !slices.Equal(truth1.Files, truth2.Files) {
		t.Fatalf("files: got %q, want %q", truth2.Files, truth1.Files)
	}
	for _, name := range truth1.Files {
		if !bytes.Equal(files1[name], files2[name]) {
			t.Errorf("%s differs between two runs with the same options", name)
		}
	}
	if truth1.RowsWritten != truth2.RowsWritten || !maps.Equal(truth1.DistinctPerDay, truth2.DistinctPerDay) {
		t.Errorf("truth differs between runs: %+v vs %+v", truth1, truth2)
	}

	opts.Seed++
	_, files3 := read(opts)
	if bytes.Equal(files1[truth1.Files[0]], files3[truth1.Files[0]]) {
		t.Errorf("another seed gave the same file %s", truth1.Files[0])
	}
}

// TestTruthMatchesFiles counts the files independently: rows, distinct event
// IDs per UTC day and per category, duplicates within files, late events.
func TestTruthMatchesFiles(t *testing.T) {
	for _, format := range []string{FormatCSV, FormatCSVGzip, FormatJSONL} {
		t.Run(format, func(t *testing.T) {
			opts := baseOptions()
			opts.Format = format
			truth, exports := generate(t, opts)
			checkTruth(t, truth, exports, "Event Id")
		})
	}
}

func TestTruthWithoutEventID(t *testing.T) {
	opts := baseOptions()
	opts.WithEventID = false
	truth, exports := generate(t, opts)
	if slices.Contains(exports[0].header, "Event Id") {
		t.Fatalf("header has Event Id with WithEventID false: %q", exports[0].header)
	}
	checkTruth(t, truth, exports, "") // events identified by the whole row

	// The rows are the same events as with event IDs, minus that column.
	opts.WithEventID = true
	_, withID := generate(t, opts)
	id := withID[0].col(t, "Event Id")
	for i, row := range withID[0].rows {
		want := slices.Delete(slices.Clone(row), id, id+1)
		if !slices.Equal(exports[0].rows[i], want) {
			t.Fatalf("row %d without event ID = %q, want %q", i, exports[0].rows[i], want)
		}
	}
}

// checkTruth compares truth with an independent count; idCol "" keys events
// by the whole row.
func checkTruth(t *testing.T, truth Truth, exports []export, idCol string) {
	t.Helper()
	type seen struct {
		files    []int // export indexes holding the event
		firstDue int   // first export whose run is after the event time
		row      []string
	}
	events := map[string]*seen{}
	rows, dups := 0, 0
	perDay, perCat := map[string]int{}, map[string]int{}
	for k, e := range exports {
		tsCol, catCol := e.col(t, "Timestamp"), e.col(t, "Event Category")
		idIdx := -1
		if idCol != "" {
			idIdx = e.col(t, idCol)
		}
		inFile := map[string]bool{}
		for _, row := range e.rows {
			rows++
			key := strings.Join(row, "\x00")
			if idIdx >= 0 {
				key = row[idIdx]
			}
			if inFile[key] {
				dups++
				continue
			}
			inFile[key] = true
			ev := events[key]
			if ev == nil {
				ts, err := parseTS(row[tsCol])
				if err != nil {
					t.Fatalf("%s: timestamp %q: %v", e.name, row[tsCol], err)
				}
				due := slices.IndexFunc(exports, func(x export) bool { return x.run.After(ts) })
				ev = &seen{firstDue: due, row: row}
				events[key] = ev
				perDay[ts.UTC().Format(time.DateOnly)]++
				perCat[row[catCol]]++
			} else if !slices.Equal(ev.row, row) {
				t.Fatalf("%s: event %s renders differently than in an earlier file:\n got %q\nwant %q", e.name, key, row, ev.row)
			}
			ev.files = append(ev.files, k)
		}
	}
	late := 0
	for key, ev := range events {
		first := ev.files[0]
		switch {
		case first == ev.firstDue:
		case first == ev.firstDue+1:
			late++
			at, _ := parseTS(ev.row[exports[first].col(t, "Timestamp")])
			if gap := exports[ev.firstDue].run.Sub(at); gap > 2*time.Hour {
				t.Errorf("late event %s is %v before the cut-off it missed, want <= 2h", key, gap)
			}
		default:
			t.Errorf("event %s first appears in export %d, want %d or (late) %d", key, first, ev.firstDue, ev.firstDue+1)
		}
		if len(ev.files) != ev.files[len(ev.files)-1]-first+1 {
			t.Errorf("event %s is in exports %v: want a contiguous run", key, ev.files)
		}
	}
	if got, want := rows, truth.RowsWritten; got != want {
		t.Errorf("rows in files = %d, want Truth.RowsWritten %d", got, want)
	}
	if got, want := dups, truth.Duplicates; got != want {
		t.Errorf("duplicate rows in files = %d, want Truth.Duplicates %d", got, want)
	}
	if got, want := len(events), truth.Distinct; got != want {
		t.Errorf("distinct events in files = %d, want Truth.Distinct %d", got, want)
	}
	if !maps.Equal(perDay, truth.DistinctPerDay) {
		t.Errorf("distinct events per day = %v, want Truth.DistinctPerDay %v", perDay, truth.DistinctPerDay)
	}
	if !maps.Equal(perCat, truth.Categories) {
		t.Errorf("distinct events per category = %v, want Truth.Categories %v", perCat, truth.Categories)
	}
	if got, want := late, truth.Late; got != want {
		t.Errorf("late events in files = %d, want Truth.Late %d", got, want)
	}
}

func TestExportsOverlapWithin30DayWindow(t *testing.T) {
	opts := baseOptions()
	opts.Days, opts.RowsPerDay, opts.LateRate, opts.DuplicateRate = 36, 40, 0, 0
	truth, exports := generate(t, opts)
	if len(exports) != 36 {
		t.Fatalf("got %d exports, want one per day (36)", len(exports))
	}
	if got, want := exports[0].run, testStart.Add(30*time.Hour); !got.Equal(want) {
		t.Errorf("first export runs at %v, want %v", got, want)
	}
	perFile := map[string]int{}
	for _, e := range exports {
		ts := e.col(t, "Timestamp")
		for _, row := range e.rows {
			at, err := parseTS(row[ts])
			if err != nil {
				t.Fatal(err)
			}
			if !at.Before(e.run) || at.Before(e.run.Add(-30*24*time.Hour)) {
				t.Fatalf("%s holds an event at %v, outside its window [run-30d, run)", e.name, at)
			}
			perFile[row[e.col(t, "Event Id")]]++
		}
	}
	// An event of day 3 is in the exports of days 3..32 (30 of them).
	e := exports[5]
	mid := e.rows[len(e.rows)/2]
	if got := perFile[mid[e.col(t, "Event Id")]]; got < 25 {
		t.Errorf("an event of mid-run is in %d files, want the 30-day overlap (>= 25)", got)
	}
	if truth.Distinct != 36*40 {
		t.Errorf("distinct events = %d, want all %d", truth.Distinct, 36*40)
	}
}

func TestExportSchedule(t *testing.T) {
	opts := baseOptions()
	opts.Days, opts.Exports, opts.RowsPerDay = 2, 5, 100
	truth, exports := generate(t, opts)
	var runs []string
	for _, e := range exports {
		runs = append(runs, e.run.Format(time.RFC3339))
	}
	want := []string{"2026-11-20T15:36:00Z", "2026-11-21T01:12:00Z", "2026-11-21T10:48:00Z",
		"2026-11-21T20:24:00Z", "2026-11-22T06:00:00Z"}
	if !slices.Equal(runs, want) {
		t.Errorf("runs = %q, want %q", runs, want)
	}
	if got, want := truth.Files[0], "2026-11-20T15-36-00Z_audit_logs.csv"; got != want {
		t.Errorf("first file = %q, want %q", got, want)
	}
	checkTruth(t, truth, exports, "Event Id")

	// One export after 40 days: the first 10 days and 6 hours are out of its
	// 30-day window and not in Truth.
	opts.Days, opts.Exports, opts.RowsPerDay, opts.LateRate = 40, 1, 30, 0
	truth, exports = generate(t, opts)
	checkTruth(t, truth, exports, "Event Id")
	if _, ok := truth.DistinctPerDay["2026-11-29"]; ok || truth.DistinctPerDay["2026-11-30"] >= 30 || truth.Distinct >= 30*30 {
		t.Errorf("Truth counts events that no export holds: %v", truth.DistinctPerDay)
	}
}

func TestDuplicates(t *testing.T) {
	opts := baseOptions()
	opts.DuplicateRate = 0.1
	truth, exports := generate(t, opts)
	distinctRows := truth.RowsWritten - truth.Duplicates
	if rate := float64(truth.Duplicates) / float64(distinctRows); rate < 0.07 || rate > 0.13 {
		t.Errorf("duplicate rate = %.3f, want about 0.1", rate)
	}
	for _, e := range exports {
		seen := map[string]int{}
		for i, row := range e.rows {
			key := strings.Join(row, ",")
			if j, ok := seen[key]; ok {
				if i-j < 2 {
					t.Errorf("%s: duplicate of row %d right after it; want it some rows later", e.name, j)
				}
				continue
			}
			seen[key] = i
		}
	}

	opts.DuplicateRate = 0
	truth, _ = generate(t, opts)
	if truth.Duplicates != 0 {
		t.Errorf("DuplicateRate 0 wrote %d duplicates", truth.Duplicates)
	}
}

func TestLateEvents(t *testing.T) {
	for _, tt := range []struct {
		name     string
		exports  int
		lateRate float64
	}{
		{"daily", 0, 0.08}, // the most daily exports allow: 2h of 24h
		{"every 4h", 24, 0.3},
		{"hourly", 96, 0.9},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := baseOptions()
			opts.Exports, opts.LateRate = tt.exports, tt.lateRate
			truth, exports := generate(t, opts)
			checkTruth(t, truth, exports, "Event Id") // late by one export, within 2h of its cut-off
			// Events due before the last run: LateRate of them are late.
			distinctDue := truth.Distinct - distinctAfter(t, exports, exports[len(exports)-2].run)
			if rate := float64(truth.Late) / float64(distinctDue); math.Abs(rate-tt.lateRate) > 0.25*tt.lateRate {
				t.Errorf("late events = %d of %d due (%.3f), want about %v", truth.Late, distinctDue, rate, tt.lateRate)
			}
		})
	}

	opts := baseOptions()
	opts.LateRate = 0
	truth, exports := generate(t, opts)
	checkTruth(t, truth, exports, "Event Id")
	if truth.Late != 0 {
		t.Errorf("LateRate 0 gave %d late events", truth.Late)
	}
}

// distinctAfter counts the distinct events at or after t in the last export.
func distinctAfter(t *testing.T, exports []export, after time.Time) int {
	t.Helper()
	e := exports[len(exports)-1]
	ts, id := e.col(t, "Timestamp"), e.col(t, "Event Id")
	seen := map[string]bool{}
	for _, row := range e.rows {
		if at, _ := parseTS(row[ts]); !at.Before(after) {
			seen[row[id]] = true
		}
	}
	return len(seen)
}

func TestCanceledContext(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Generate(ctx, dir, baseOptions())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Generate with a canceled context: err = %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("canceled Generate left files: %v", entries)
	}
}
