package main

import (
	"fmt"
	"io"
	"path"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/auditexport/auditexport/exporter"
)

// progressBar draws how far a run has got, on a terminal only
// (run and backfill; never in schedule mode or when stderr is a pipe or a
// file): the inputs read with their rows, then the partitions written
// with the rows encoded and the bytes uploaded, then the commit and the
// publishing. It is fed by the exporter's progress callback and phase
// hook, and log lines go
// through it (Write) so that none lands in the middle of the bar. A nil
// *progressBar does nothing.
type progressBar struct {
	mu    sync.Mutex
	w     io.Writer
	bar   *progressbar.ProgressBar
	stage string    // the exporter's stage the bar counts
	drawn time.Time // when the write stage's bar was last drawn
	dry   bool      // a dry run: partitions are counted, not encoded
	done  bool
}

// newProgressBar returns a bar drawn on w, or nil when tty is false.
func newProgressBar(w io.Writer, tty bool) *progressBar {
	if !tty {
		return nil
	}
	return &progressBar{w: w}
}

// progressFor returns the bar of a command writing to stderr: drawn when
// stderr is a terminal.
func progressFor(stderr io.Writer) *progressBar {
	return newProgressBar(stderr, isTerminalWriter(stderr))
}

// callback is the exporter's Progress option, or nil without a bar.
func (p *progressBar) callback() func(exporter.ProgressEvent) {
	if p == nil {
		return nil
	}
	return p.event
}

func (p *progressBar) event(ev exporter.ProgressEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	if ev.Stage == exporter.StageWrite {
		if p.stage != exporter.StageWrite {
			p.restart(ev.PartitionsTotal, 0) // throttled here, for Set and Describe at once
			p.stage = exporter.StageWrite
		} else if time.Since(p.drawn) < 100*time.Millisecond && ev.Partitions < ev.PartitionsTotal {
			return
		}
		p.drawn = time.Now()
		_ = p.bar.Set(ev.Partitions)
		if p.dry {
			p.bar.Describe(fmt.Sprintf("planning: %s rows to write; partitions", groupDigits(ev.RowsWritten)))
		} else {
			p.bar.Describe(fmt.Sprintf("writing: %s rows encoded, %s uploaded; partitions", groupDigits(ev.RowsWritten), humanBytes(ev.BytesStaged)))
		}
		return
	}
	if p.bar == nil {
		p.restart(ev.Total, 100*time.Millisecond)
		p.stage = exporter.StageRead
	}
	p.bar.Describe(fmt.Sprintf("reading %s: %s rows; inputs", path.Base(ev.Input), groupDigits(ev.RowsRead)))
	if ev.Done {
		_ = p.bar.Add(1)
	} else {
		_ = p.bar.Add(0)
	}
}

// restart replaces the bar by one counting to max, drawn at most once
// per throttle.
func (p *progressBar) restart(max int, throttle time.Duration) {
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	p.bar = progressbar.NewOptions(max,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetWidth(24),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionThrottle(throttle),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
	)
}

// phaseHook is the exporter's phase hook for the bar: after the write, it
// says the run is committing, then publishing. Nil without a bar.
func (p *progressBar) phaseHook() func(string) {
	if p == nil {
		return nil
	}
	return func(phase string) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.done || p.bar == nil {
			return
		}
		switch phase {
		case exporter.PhaseStaged:
			p.bar.Describe("committing: every file is uploaded")
		case exporter.PhaseCommitted:
			p.bar.Describe("publishing: the commit is written")
		}
	}
}

// dryRun makes the bar say what a dry run does: count what it would
// write. Nil-safe; it returns the bar.
func (p *progressBar) dryRun(dry bool) *progressBar {
	if p != nil {
		p.dry = dry
	}
	return p
}

// finish removes the bar; log lines then go straight to the terminal.
func (p *progressBar) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil && !p.done {
		_ = p.bar.Clear()
	}
	p.done = true
}

// Write writes a log line above the bar: clear it, write, draw it again.
func (p *progressBar) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == nil || p.done {
		return p.w.Write(b)
	}
	_ = p.bar.Clear()
	n, err := p.w.Write(b)
	_ = p.bar.RenderBlank()
	return n, err
}

// Terminal tells newLogger that its output is a terminal (text logs).
func (p *progressBar) Terminal() bool { return true }

// logWriter is where a command's logger writes: through the bar when one
// is drawn.
func (p *progressBar) logWriter(stderr io.Writer) io.Writer {
	if p == nil {
		return stderr
	}
	return p
}

// groupDigits renders 1234567 as 1,234,567.
func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
