package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter"
)

// With schedule.run_on_start a new scheduler exports at once, though the
// spec's first time is far away; without it, it waits for the spec.
func TestScheduleRunOnStart(t *testing.T) {
	for _, c := range []struct {
		name  string
		flags map[string]string
		want  int32
	}{
		{"run_on_start", map[string]string{"schedule.run_on_start": "true"}, 1},
		{"default", nil, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			// @yearly with an hour of jitter: no time of the spec can come
			// during the test.
			lc := loadTestConfig(t, fmt.Sprintf("source:\n  url: %s\ndestination:\n  url: %s\nschedule:\n  cron: '@yearly'\n  jitter: 1h\n  listen: ''\n", dir, filepath.Join(dir, "out")), c.flags)
			var calls atomic.Int32
			ran := make(chan exportPlan, 4)
			o := &scheduleOpts{lc: lc, log: slog.New(slog.DiscardHandler), out: io.Discard,
				export: func(ctx context.Context, p exportPlan) (*exporter.Summary, error) {
					calls.Add(1)
					ran <- p
					return nil, nil
				}}
			_, stop := startSchedule(t, o)
			if c.want > 0 {
				select {
				case p := <-ran:
					if p.command != "run" || !p.incremental {
						t.Errorf("the run at start is %+v, want an incremental run", p)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("no run at start within 10s")
				}
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if got := calls.Load(); got != c.want {
				t.Errorf("%d runs, want %d", got, c.want)
			}
		})
	}
}

// The run at start keeps the no-overlap guarantee: times of the spec that
// come while it is in progress are skipped and counted, never run beside it.
func TestScheduleRunOnStartNeverOverlaps(t *testing.T) {
	dir := t.TempDir()
	lc := loadTestConfig(t, fmt.Sprintf("source:\n  url: %s\ndestination:\n  url: %s\nschedule:\n  cron: '@every 1s'\n  listen: 127.0.0.1:0\n", dir, filepath.Join(dir, "out")),
		map[string]string{"schedule.run_on_start": "true"})
	var running, maxRunning, calls atomic.Int32
	release := make(chan struct{})
	var logs syncBuffer
	o := &scheduleOpts{lc: lc, log: slog.New(slog.NewJSONHandler(&logs, nil)), out: io.Discard,
		export: func(ctx context.Context, p exportPlan) (*exporter.Summary, error) {
			n := running.Add(1)
			defer running.Add(-1)
			if n > maxRunning.Load() {
				maxRunning.Store(n)
			}
			if calls.Add(1) == 1 { // the run at start: held until released
				select {
				case <-release:
				case <-ctx.Done():
				}
			}
			return nil, nil
		}}
	addr, stop := startSchedule(t, o)
	waitFor(t, "two times skipped during the run at start", 20*time.Second, func() bool {
		return scrape(t, addr)["auditexport_schedule_skipped_total"] >= 2
	})
	if got := calls.Load(); got != 1 {
		t.Errorf("%d runs while the run at start was in progress, want only it", got)
	}
	close(release)
	waitFor(t, "a scheduled run after the run at start", 20*time.Second, func() bool { return calls.Load() >= 2 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if maxRunning.Load() != 1 {
		t.Errorf("%d runs at once, want never more than one", maxRunning.Load())
	}
	if !strings.Contains(logs.String(), "running once at start") {
		t.Error("the run at start was not logged")
	}
}

// --schedule.run_on_start turns it on, bare or =true; =false turns it off.
// A scheduler started already stopped logs what it would have done.
func TestScheduleRunOnStartFlag(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--schedule.run_on_start"}, `"run_on_start":true`},
		{[]string{"--schedule.run_on_start=true"}, `"run_on_start":true`},
		{[]string{"--schedule.run_on_start=false"}, `"run_on_start":false`},
		{nil, `"run_on_start":false`},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var out, errb bytes.Buffer
		args := append([]string{"schedule", "--source.url", dir, "--destination.url", dir, "--schedule.cron", "@yearly",
			"--schedule.listen", "", "--log.format", "json"}, c.args...)
		if code := Main(ctx, args, &out, &errb); code != exitOK {
			t.Errorf("%v: code %d\n%s", c.args, code, errb.String())
			continue
		}
		if !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: the log does not say %s:\n%s", c.args, c.want, errb.String())
		}
	}
	code, _, stderr := cli(t, "schedule", "--schedule.run_on_start=maybe", "--schedule.cron", "@yearly")
	if code != exitUsage || !strings.Contains(stderr, "run_on_start") {
		t.Errorf("--schedule.run_on_start=maybe: code %d, stderr %q", code, stderr)
	}
}
