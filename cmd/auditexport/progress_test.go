package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter"
)

// The exporter's progress callback reports each input's start and end, in
// order, and its counts add up to the summary's.
func TestProgressEvents(t *testing.T) {
	dir := t.TempDir()
	land, _ := generated(t, dir, 2, 20000, 3)
	lc := loadTestConfig(t, "source:\n  url: "+land+"\ndestination:\n  url: "+filepath.Join(dir, "out")+"\n", nil)
	var events []exporter.ProgressEvent
	p := exportPlan{command: "run", incremental: true, progress: func(ev exporter.ProgressEvent) { events = append(events, ev) }}
	sum, err := runExport(context.Background(), lc, slog.New(slog.DiscardHandler), p, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var done, mid int
	var last int64
	var writes []exporter.ProgressEvent
	for _, ev := range events {
		if ev.Stage == exporter.StageWrite {
			writes = append(writes, ev)
			continue
		}
		if len(writes) > 0 {
			t.Fatalf("read event %+v after the write began", ev)
		}
		if ev.Total != 3 || ev.Index < 1 || ev.Index > 3 || ev.RowsRead < last {
			t.Fatalf("event %+v after rows %d", ev, last)
		}
		last = ev.RowsRead
		switch {
		case ev.Done:
			done++
			if ev.Index != done {
				t.Errorf("input %d done as number %d", ev.Index, done)
			}
		case ev.Rows > 0:
			mid++
			if ev.Rows%exporter.ProgressEvery != 0 {
				t.Errorf("mid-input event at %d rows", ev.Rows)
			}
		}
	}
	if done != 3 || mid == 0 || last != sum.RowsRead {
		t.Errorf("%d inputs done, %d mid-input events, last count %d; summary read %d", done, mid, last, sum.RowsRead)
	}
	if len(writes) == 0 {
		t.Fatal("no progress of the write stage")
	}
	if w := writes[len(writes)-1]; w.Partitions != len(sum.Partitions) || w.PartitionsTotal != len(sum.Partitions) ||
		w.RowsWritten != sum.RowsWritten || w.BytesStaged != sum.BytesWritten {
		t.Errorf("last write event %+v; summary wrote %d rows, %d bytes in %d partitions", w, sum.RowsWritten, sum.BytesWritten, len(sum.Partitions))
	}
}

// On a terminal the bar is drawn and log lines pass above it; elsewhere it
// is silent and logs are JSON.
func TestProgressBar(t *testing.T) {
	off := newProgressBar(io.Discard, false)
	if off != nil || off.callback() != nil || off.logWriter(io.Discard) != io.Discard {
		t.Fatal("a bar without a terminal")
	}
	off.finish() // nil-safe

	var term bytes.Buffer
	bar := newProgressBar(&term, true)
	log := newLogger(LogConfig{Level: "info", Format: "auto"}, bar.logWriter(&term))
	if _, ok := log.Handler().(*slog.TextHandler); !ok {
		t.Error("logs through the bar on a terminal are not text")
	}
	cb := bar.callback()
	cb(exporter.ProgressEvent{Input: "land/a.csv.gz", Index: 1, Total: 2, RowsRead: 0})
	cb(exporter.ProgressEvent{Input: "land/a.csv.gz", Index: 1, Total: 2, Rows: 1234567, RowsRead: 1234567})
	log.Info("read input", "input", "a.csv.gz")
	cb(exporter.ProgressEvent{Input: "land/a.csv.gz", Index: 1, Total: 2, Rows: 1234567, RowsRead: 1234567, Done: true})
	cb(exporter.ProgressEvent{Stage: exporter.StageWrite, Partitions: 0, PartitionsTotal: 5})
	throttle := func() { time.Sleep(150 * time.Millisecond) } // the bar redraws at most every 100ms
	throttle()
	cb(exporter.ProgressEvent{Stage: exporter.StageWrite, Partitions: 4, PartitionsTotal: 5, RowsWritten: 2345678, BytesStaged: 3 << 20})
	throttle()
	bar.phaseHook()(exporter.PhaseStaged)
	bar.finish()
	got := term.String()
	for _, want := range []string{"a.csv.gz", "1,234,567 rows", "/2", "msg=\"read input\"", "2,345,678 rows encoded, 3.0 MiB uploaded", "4/5", "committing"} {
		if !strings.Contains(got, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, got)
		}
	}

	// A dry run's bar counts what it would write.
	var dryTerm bytes.Buffer
	dry := newProgressBar(&dryTerm, true).dryRun(true)
	dry.callback()(exporter.ProgressEvent{Stage: exporter.StageWrite, Partitions: 1, PartitionsTotal: 3, RowsWritten: 1500})
	dry.finish()
	if got := dryTerm.String(); !strings.Contains(got, "planning: 1,500 rows to write") || strings.Contains(got, "uploaded") {
		t.Errorf("dry-run bar: %q", got)
	}

	var pipe bytes.Buffer
	if progressFor(&pipe) != nil {
		t.Error("a bar on a pipe")
	}
	if _, ok := newLogger(LogConfig{Level: "info", Format: "auto"}, &pipe).Handler().(*slog.JSONHandler); !ok {
		t.Error("logs to a pipe are not JSON")
	}
}

func TestGroupDigits(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -5: "-5"} {
		if got := groupDigits(n); got != want {
			t.Errorf("groupDigits(%d) = %q, want %q", n, got, want)
		}
	}
}
