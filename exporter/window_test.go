package exporter

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter/archive"
)

// clock fixes a run's clock.
func clock(t *testing.T, s string) func(*Options) {
	t.Helper()
	now, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return func(o *Options) { o.Now = func() time.Time { return now } }
}

func headWatermark(t *testing.T, r testRun) time.Time {
	t.Helper()
	st, err := archive.LoadState(context.Background(), r.dest)
	if err != nil || st.Head == nil {
		t.Fatalf("load the log: head %v, %v", st, err)
	}
	return st.Head.Source.Watermark
}

// An event time past the clock plus the allowed skew (a clock skew of ten
// days, 9999-12-31) is rejected with its reason and never moves the
// watermark, so the next day's events land.
func TestFutureEventTimesAreRejected(t *testing.T) {
	l, dest := newLanding(t), memDest(t)
	l.add("2026-11-25T06-00-00Z_audit_logs.csv", hdr+
		"2026-11-24 10:00:00,e1,ACCESS_SIGMA,Login\n"+
		"2026-11-25 06:10:00,e2,ACCESS_SIGMA,Login\n"+ // within the 15m skew
		"2026-12-05 10:00:00,skewed,ACCESS_SIGMA,Login\n"+
		"9999-12-31 23:59:59,far,ACCESS_SIGMA,Login\n")
	r := incremental(t, l, dest, "run1", clock(t, "2026-11-25T06:00:00Z"))
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.sum.RowsWritten != 2 || r.sum.RowsRejected != 2 {
		t.Fatalf("written %d rejected %d, want 2 written and the 2 future rows rejected", r.sum.RowsWritten, r.sum.RowsRejected)
	}
	rejects := readRejects(t, r)
	if len(rejects) != 2 {
		t.Fatalf("rejects file holds %d rows, want 2", len(rejects))
	}
	for _, rej := range rejects {
		if !strings.Contains(rej.Reason, "is in the future") || rej.Column != "Timestamp" {
			t.Errorf("reject %+v: want the column and a reason saying the time is in the future", rej)
		}
	}
	if wm := headWatermark(t, r); !wm.Equal(time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)) {
		t.Errorf("watermark %s, want the clock (2026-11-25T06:00:00Z): an event 10 minutes ahead must not carry it past now", wm)
	}
	// The next day's export: the real events land, none is out of window.
	l.add("2026-11-26T06-00-00Z_audit_logs.csv", hdr+
		"2026-11-24 10:00:00,e1,ACCESS_SIGMA,Login\n"+
		"2026-11-25 12:00:00,e3,ACCESS_SIGMA,Login\n"+
		"2026-11-26 01:00:00,e4,ACCESS_SIGMA,Login\n")
	r = incremental(t, l, dest, "run2", clock(t, "2026-11-26T06:00:00Z"))
	if r.err != nil || r.sum.RowsWritten != 2 || r.sum.RowsOutOfWindow != 0 {
		t.Fatalf("next run: err %v written %d out of window %d; want e3 and e4 written", r.err, r.sum.RowsWritten, r.sum.RowsOutOfWindow)
	}
}

// A time that is year 10000 once in UTC is rejected like any value that
// does not parse, instead of failing every run when the summary is encoded.
func TestYear10000IsRejected(t *testing.T) {
	r := exportFiles(t, map[string][]byte{"a.csv": []byte(hdr +
		"9999-12-31 23:59:59 -0100,e1,ACCESS_SIGMA,Login\n" +
		"2026-11-24 10:00:00,e2,ACCESS_SIGMA,Login\n")}, nil)
	if r.err != nil || r.sum.RowsWritten != 1 || r.sum.RowsRejected != 1 {
		t.Fatalf("err %v written %d rejected %d, want 1 written, 1 rejected", r.err, r.sum.RowsWritten, r.sum.RowsRejected)
	}
	if rej := readRejects(t, r); len(rej) != 1 || !strings.Contains(rej[0].Reason, "outside years 0001 to 9999") {
		t.Fatalf("rejects = %+v", rej)
	}
}

// An archive whose watermark an earlier version let pass the clock is read
// from the clock minus the lookback, with a warning, and the watermark comes
// back to the clock.
func TestWatermarkInTheFutureIsClamped(t *testing.T) {
	l, dest := newLanding(t), memDest(t)
	l.add("a.csv", hdr+"2030-01-01 00:00:00,e1,ACCESS_SIGMA,Login\n")
	if r := incremental(t, l, dest, "run1", clock(t, "2030-01-01T00:00:00Z")); r.err != nil {
		t.Fatal(r.err)
	}
	l.add("b.csv", hdr+"2026-11-25 10:00:00,e2,ACCESS_SIGMA,Login\n")
	r := incremental(t, l, dest, "run2", clock(t, "2026-11-26T00:00:00Z"))
	if r.err != nil || r.sum.RowsWritten != 1 {
		t.Fatalf("err %v written %d, want e2 written", r.err, r.sum.RowsWritten)
	}
	if !strings.Contains(strings.Join(r.sum.Warnings, "\n"), "watermark 2030-01-01T00:00:00Z is later than the run's clock") {
		t.Errorf("warnings %q: want one about the watermark in the future", r.sum.Warnings)
	}
	if wm := headWatermark(t, r); !wm.Equal(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("watermark %s, want the clock", wm)
	}
}

// A new event older than the lookback that an export holds is written, not
// dropped as out of window, and the run says so; old copies of archived
// events are only counted.
func TestNewEventOlderThanLookbackLands(t *testing.T) {
	l, dest := newLanding(t), memDest(t)
	l.add("2026-11-24T06-00-00Z_audit_logs.csv", hdr+
		"2026-11-10 10:00:00,e1,ACCESS_SIGMA,Login\n"+
		"2026-11-24 05:00:00,e2,ACCESS_SIGMA,Login\n")
	if r := incremental(t, l, dest, "run1", clock(t, "2026-11-24T06:00:00Z")); r.err != nil {
		t.Fatal(r.err)
	}
	// The next export holds the whole table again, plus an event of
	// 2026-11-11 the first export lacked (16 days before the lookback).
	l.add("2026-11-25T06-00-00Z_audit_logs.csv", hdr+
		"2026-11-10 10:00:00,e1,ACCESS_SIGMA,Login\n"+
		"2026-11-11 10:00:00,old-but-new,ACCESS_SIGMA,Login\n"+
		"2026-11-24 05:00:00,e2,ACCESS_SIGMA,Login\n"+
		"2026-11-25 05:00:00,e3,ACCESS_SIGMA,Login\n")
	r := incremental(t, l, dest, "run2", clock(t, "2026-11-25T06:00:00Z"))
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.sum.RowsWritten != 2 || r.sum.RowsLate != 1 || r.sum.RowsBeforeLookback != 2 || r.sum.RowsArchived != 2 || r.sum.RowsOutOfWindow != 0 {
		t.Fatalf("written %d late %d before lookback %d archived %d out of window %d; want 2 1 2 2 0",
			r.sum.RowsWritten, r.sum.RowsLate, r.sum.RowsBeforeLookback, r.sum.RowsArchived, r.sum.RowsOutOfWindow)
	}
	if !strings.Contains(strings.Join(r.sum.Warnings, "\n"), "1 new events older than the lookback") {
		t.Errorf("warnings %q: want one about the late event", r.sum.Warnings)
	}
	got := eventsByPartition(t, dest)
	if strings.Join(got["event_date=2026-11-11"], ",") != "old-but-new" {
		t.Errorf("archive = %v, want the late event in 2026-11-11", got)
	}
}

// Rows whose configured key column is empty are keyed by the whole row, with
// a warning, instead of merging distinct events that share the other key
// columns; identical copies still merge.
func TestEmptyKeyColumnDoesNotMergeEvents(t *testing.T) {
	r := exportFiles(t, map[string][]byte{"a.csv": []byte("Timestamp,Event Type,Request Id\n" +
		"2026-11-24 10:00:00,Login,r1\n" +
		"2026-11-24 10:00:00,Login,r1\n" + // a copy
		"2026-11-24 10:00:00,Login,\n" +
		"2026-11-24 10:00:00,Logout,\n" + // distinct, same time, no request ID
		"2026-11-24 10:00:00,Logout,\n")}, // a copy of the row before
		func(o *Options) { o.KeyColumns = []string{"REQUEST_ID", "TIMESTAMP"} })
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.sum.RowsWritten != 3 || r.sum.RowsDuplicate != 2 || r.sum.RowsKeyEmpty != 3 {
		t.Fatalf("written %d duplicate %d key empty %d; want 3 2 3", r.sum.RowsWritten, r.sum.RowsDuplicate, r.sum.RowsKeyEmpty)
	}
	if !strings.Contains(strings.Join(r.sum.Warnings, "\n"), "3 rows have an empty event key column (REQUEST_ID, TIMESTAMP)") {
		t.Errorf("warnings %q", r.sum.Warnings)
	}
}

// A category too long to name a partition directory is rejected with its
// reason under by_category, instead of failing every run.
func TestCategoryTooLongForAPartition(t *testing.T) {
	long := strings.Repeat("x", 100) + strings.Repeat("/", 60) // 280 bytes once escaped
	r := exportFiles(t, map[string][]byte{"a.csv": []byte(hdr +
		"2026-11-24 10:00:00,e1," + long + ",Login\n" +
		"2026-11-24 10:00:00,e2," + strings.Repeat("y", 240) + ",Login\n")},
		func(o *Options) { o.ByCategory = true })
	if r.err != nil || r.sum.RowsWritten != 1 || r.sum.RowsRejected != 1 {
		t.Fatalf("err %v written %d rejected %d; want the 240-byte category written and the other rejected", r.err, r.sum.RowsWritten, r.sum.RowsRejected)
	}
	if rej := readRejects(t, r); len(rej) != 1 || !strings.Contains(rej[0].Reason, "too long to name a partition") {
		t.Fatalf("rejects %+v", rej)
	}
}
