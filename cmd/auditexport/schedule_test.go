package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter"
	"github.com/auditexport/auditexport/exporter/generate"
)

func TestParseCron(t *testing.T) {
	for _, spec := range []string{"@daily", "@every 1s", "@hourly", "CRON_TZ=Europe/Paris 30 6 * * 1-5", "TZ=UTC 0 */6 * * *", "*/15 * * * *", "0 6 1 * *"} {
		if _, err := parseCron(spec); err != nil {
			t.Errorf("parseCron(%q): %v", spec, err)
		}
	}
	for _, c := range []struct{ spec, want string }{
		{"61 * * * *", `minute field "61"`},
		{"0 25 * * *", `hour field "25"`},
		{"* * 32 * *", `day-of-month field "32"`},
		{"* * * 13 *", `month field "13"`},
		{"* * * * 8", `day-of-week field "8"`},
		{"0 6 * * mon-fry", `day-of-week field "mon-fry"`},
		{"* * * *", "has 4 fields, want 5"},
		{"0 0 6 * * *", "has 6 fields, want 5"},
		{"@dayly", `descriptor "@dayly"`},
		{"CRON_TZ=Mars/Olympus 0 6 * * *", "CRON_TZ=Mars/Olympus: not an IANA time zone"},
		{"CRON_TZ=UTC", "no schedule after it"},
		{"0 0 30 2 *", "never fires"},
		{"  ", "is empty"},
	} {
		_, err := parseCron(c.spec)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("parseCron(%q) = %v, want an error containing %q", c.spec, err, c.want)
		}
	}
}

// A malformed spec fails at start with exit 2, naming the setting, where
// its value came from and the field.
func TestScheduleBadCronFailsAtStart(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := cli(t, "schedule", "--source.url", dir, "--destination.url", dir, "--cron", "0 25 * * *")
	if code != exitUsage {
		t.Fatalf("code %d, want %d; stderr %s", code, exitUsage, stderr)
	}
	for _, want := range []string{"schedule.cron", `"0 25 * * *"`, "hour field", "--schedule.cron", "Try:"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not name %q", stderr, want)
		}
	}
	t.Setenv("AUDITEXPORT_SCHEDULE_CRON", "CRON_TZ=Mars/Olympus @daily")
	code, _, stderr = cli(t, "schedule", "--source.url", dir, "--destination.url", dir)
	if code != exitUsage || !strings.Contains(stderr, "AUDITEXPORT_SCHEDULE_CRON") || !strings.Contains(stderr, "Mars/Olympus") {
		t.Errorf("code %d stderr %q", code, stderr)
	}
	t.Setenv("AUDITEXPORT_SCHEDULE_CRON", "")
	code, _, stderr = cli(t, "schedule", "--source.url", dir, "--destination.url", dir)
	if code != exitUsage || !strings.Contains(stderr, "schedule.cron") || !strings.Contains(stderr, "required") {
		t.Errorf("no spec: code %d stderr %q", code, stderr)
	}
}

// syncBuffer is a bytes.Buffer safe for the scheduler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// loadTestConfig loads a YAML config with flags, as a command would.
func loadTestConfig(t *testing.T, yaml string, flags map[string]string) *loadedConfig {
	t.Helper()
	cf := &configFlags{path: writeFile(t, t.TempDir(), "c.yaml", yaml), given: map[string]string{}}
	for k, v := range flags {
		cf.given[k] = v
		cf.order = append(cf.order, k)
	}
	lc, err := cf.load()
	if err != nil {
		t.Fatal(err)
	}
	return lc
}

// generated writes synthetic Sigma exports into dir/land and returns the
// landing directory and the generator's truth.
func generated(t *testing.T, dir string, days, rowsPerDay, exports int) (string, generate.Truth) {
	t.Helper()
	land := filepath.Join(dir, "land")
	code, stdout, stderr := cli(t, "generate", "--out", land, "--start", "2026-11-01", "--days", fmt.Sprint(days),
		"--rows-per-day", fmt.Sprint(rowsPerDay), "--exports", fmt.Sprint(exports), "--duplicate-rate", "0.05", "--seed", "7")
	if code != exitOK {
		t.Fatalf("generate: %s", stderr)
	}
	var truth generate.Truth
	if err := json.Unmarshal([]byte(stdout), &truth); err != nil {
		t.Fatal(err)
	}
	return land, truth
}

// scrape reads /metrics into sample -> value ("name{labels}" as exposed).
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return parseExposition(t, resp.Body)
}

func parseExposition(t *testing.T, r io.Reader) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// fullSummary is the part of a run's JSON line the metrics are compared with.
type fullSummary struct {
	Status       string `json:"status"`
	Error        string `json:"error"`
	Commit       int64  `json:"commit"`
	RowsRead     int64  `json:"rows_read"`
	RowsWritten  int64  `json:"rows_written"`
	RowsDup      int64  `json:"rows_duplicate"`
	RowsArchived int64  `json:"rows_already_archived"`
	RowsRejected int64  `json:"rows_rejected"`
	Destination  string `json:"destination"`
	Files        []struct {
		Bytes   int64     `json:"bytes"`
		MaxTime time.Time `json:"max_time"`
	} `json:"files"`
}

func summaries(t *testing.T, out string) []fullSummary {
	t.Helper()
	var all []fullSummary
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var s fullSummary
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatalf("stdout line %q is not a JSON summary: %v", line, err)
		}
		all = append(all, s)
	}
	return all
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startSchedule runs runSchedule on a goroutine; stop cancels it and
// returns its error.
func startSchedule(t *testing.T, o *scheduleOpts) (addr string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	hook := o.onListen
	o.onListen = func(a string) {
		if hook != nil {
			hook(a)
		}
		addrc <- a
	}
	done := make(chan error, 1)
	go func() { done <- runSchedule(ctx, o) }()
	if o.lc.Schedule.Listen != "" {
		select {
		case addr = <-addrc:
		case err := <-done:
			t.Fatalf("schedule ended before listening: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("schedule did not listen")
		}
	}
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(60 * time.Second):
				err = fmt.Errorf("schedule did not stop within 60s")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return addr, stop
}

// The schedule fires on a fast spec, serves /healthz, /readyz and
// /metrics, and its metrics agree with the JSON summaries and the archive.
func TestScheduleFiresAndServesMetrics(t *testing.T) {
	dir := t.TempDir()
	land, truth := generated(t, dir, 3, 300, 2)
	out := filepath.Join(dir, "out")
	lc := loadTestConfig(t, fmt.Sprintf("source:\n  url: %s\ndestination:\n  url: %s\nschedule:\n  cron: '@every 1s'\n  listen: 127.0.0.1:0\n", land, out), nil)
	var stdout, logs syncBuffer
	readyAtListen := -1
	o := &scheduleOpts{lc: lc, log: slog.New(slog.NewJSONHandler(&logs, nil)), out: &stdout,
		onListen: func(a string) { readyAtListen = httpStatus(t, "http://"+a+"/readyz") }}
	addr, stop := startSchedule(t, o)
	if readyAtListen != http.StatusServiceUnavailable {
		t.Errorf("/readyz before the destination was checked: %d, want 503", readyAtListen)
	}
	if got := httpStatus(t, "http://"+addr+"/healthz"); got != http.StatusOK {
		t.Errorf("/healthz: %d", got)
	}
	waitFor(t, "a successful run", 30*time.Second, func() bool {
		return scrape(t, addr)[`auditexport_runs_total{status="ok"}`] >= 1
	})
	if got := httpStatus(t, "http://"+addr+"/readyz"); got != http.StatusOK {
		t.Errorf("/readyz when running: %d", got)
	}
	m := scrape(t, addr)
	if err := stop(); err != nil {
		t.Fatalf("schedule: %v", err)
	}
	sums := summaries(t, stdout.String())
	if len(sums) == 0 {
		t.Fatal("no summary line")
	}
	var read, written, dup, files, bytes int64
	var maxTime time.Time
	for _, s := range sums {
		if s.Status != "ok" {
			t.Errorf("run: %+v", s)
		}
		read, written, dup = read+s.RowsRead, written+s.RowsWritten, dup+s.RowsDup
		for _, f := range s.Files {
			files++
			bytes += f.Bytes
			if f.MaxTime.After(maxTime) {
				maxTime = f.MaxTime
			}
		}
	}
	// Runs after the first find nothing new (every export was read in
	// full), so the totals do not depend on how many runs the scrape saw.
	for name, want := range map[string]int64{
		"auditexport_rows_read_total": read, "auditexport_rows_written_total": written,
		"auditexport_rows_duplicate_total": dup, "auditexport_files_uploaded_total": files,
		"auditexport_bytes_uploaded_total": bytes, "auditexport_rows_rejected_total": 0,
	} {
		if got := m[name]; got != float64(want) {
			t.Errorf("%s = %v, the summaries say %d", name, got, want)
		}
	}
	if written != int64(truth.Distinct) || files == 0 {
		t.Errorf("written %d rows in %d files, generator made %d distinct events", written, files, truth.Distinct)
	}
	var onDisk int64
	for _, n := range parquetRowsByPartition(t, out) {
		onDisk += n
	}
	if onDisk != written {
		t.Errorf("archive holds %d rows, metrics say %d written", onDisk, written)
	}
	dest := sums[0].Destination
	wm := m[fmt.Sprintf("auditexport_last_committed_event_timestamp_seconds{destination=%q}", dest)]
	if want := float64(maxTime.UnixMicro()) / 1e6; math.Abs(wm-want) > 1e-3 {
		t.Errorf("last committed event %v, latest event written %v (%v)", wm, want, maxTime)
	}
	if ls := m[fmt.Sprintf("auditexport_last_success_timestamp_seconds{destination=%q}", dest)]; ls < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last success %v", ls)
	}
	if m["auditexport_run_duration_seconds_count"] < 1 || m["auditexport_schedule_next_run_timestamp_seconds"] == 0 {
		t.Errorf("run duration count %v, next run %v", m["auditexport_run_duration_seconds_count"], m["auditexport_schedule_next_run_timestamp_seconds"])
	}
	if _, ok := m["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}
	// Every log line of a run carries its run_id.
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		switch l["msg"] {
		case "plan", "read input", "partition", "committed", "run finished", "nothing new to commit":
			if l["run_id"] == nil || l["run_id"] == "" {
				t.Errorf("log line without run_id: %s", line)
			}
		}
	}
}

// A time of the schedule that comes while a run is in progress is skipped
// and counted; two runs never overlap.
func TestScheduleSkipsOverlaps(t *testing.T) {
	dir := t.TempDir()
	lc := loadTestConfig(t, fmt.Sprintf("source:\n  url: %s\ndestination:\n  url: %s\nschedule:\n  cron: '@every 1s'\n  listen: 127.0.0.1:0\n", dir, filepath.Join(dir, "out")), nil)
	var running, maxRunning, calls atomic.Int32
	var logs syncBuffer
	o := &scheduleOpts{lc: lc, log: slog.New(slog.NewJSONHandler(&logs, nil)), out: io.Discard,
		export: func(ctx context.Context, p exportPlan) (*exporter.Summary, error) {
			calls.Add(1)
			n := running.Add(1)
			defer running.Add(-1)
			for {
				m := maxRunning.Load()
				if n <= m || maxRunning.CompareAndSwap(m, n) {
					break
				}
			}
			select { // a slow run: longer than two periods
			case <-time.After(2500 * time.Millisecond):
			case <-ctx.Done():
			}
			return nil, nil
		}}
	addr, stop := startSchedule(t, o)
	waitFor(t, "two skipped times", 20*time.Second, func() bool {
		return scrape(t, addr)["auditexport_schedule_skipped_total"] >= 2
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if maxRunning.Load() != 1 || calls.Load() < 1 {
		t.Errorf("%d runs, at most %d at once; want at least one, never two at once", calls.Load(), maxRunning.Load())
	}
	if !strings.Contains(logs.String(), "previous run is still in progress") {
		t.Error("a skip was not logged")
	}
}

// A stop request during the jitter wait ends it without running.
func TestScheduleStopDuringJitter(t *testing.T) {
	dir := t.TempDir()
	lc := loadTestConfig(t, fmt.Sprintf("source:\n  url: %s\ndestination:\n  url: %s\nschedule:\n  cron: '@every 1s'\n  jitter: 1h\n  listen: ''\n", dir, filepath.Join(dir, "out")), nil)
	var calls atomic.Int32
	var logs syncBuffer
	o := &scheduleOpts{lc: lc, log: slog.New(slog.NewJSONHandler(&logs, nil)), out: io.Discard,
		export: func(ctx context.Context, p exportPlan) (*exporter.Summary, error) {
			calls.Add(1)
			return nil, nil
		}}
	_, stop := startSchedule(t, o)
	waitFor(t, "the jitter wait", 10*time.Second, func() bool { return strings.Contains(logs.String(), "schedule.jitter") })
	start := time.Now()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second || calls.Load() != 0 {
		t.Errorf("stopped after %v with %d runs; want a prompt stop and no run", took, calls.Load())
	}
}

// A stop request (SIGTERM) mid-run: before the commit, the run stops and
// commits nothing; once the commit has begun, the run finishes it. Either
// way the schedule exits cleanly, the archive is consistent, and the next
// run leaves every event in it exactly once.
func TestScheduleStopMidRun(t *testing.T) {
	for _, tc := range []struct {
		phase     string
		committed bool
	}{{exporter.PhaseRead, false}, {exporter.PhaseStaged, true}} {
		t.Run(tc.phase, func(t *testing.T) {
			dir := t.TempDir()
			land, truth := generated(t, dir, 3, 400, 3)
			out := filepath.Join(dir, "out")
			lc := loadTestConfig(t, fmt.Sprintf("source:\n  url: %s\ndestination:\n  url: %s\nschedule:\n  cron: '@every 1s'\n  listen: ''\n", land, out), nil)
			var stdout, logs syncBuffer
			var once sync.Once
			stopc := make(chan func() error, 1)
			stopped := make(chan struct{})
			o := &scheduleOpts{lc: lc, log: slog.New(slog.NewJSONHandler(&logs, nil)), out: &stdout,
				phase: func(p string) {
					if p != tc.phase {
						return
					}
					once.Do(func() {
						stop := <-stopc
						go func() { _ = stop(); close(stopped) }() // SIGTERM, as main's signal context turns it into
						// Let the stop request reach the run before it goes on.
						waitFor(t, "the stop request", 10*time.Second, func() bool { return strings.Contains(logs.String(), "stop requested") })
					})
				}}
			_, stop := startSchedule(t, o)
			stopc <- stop
			select {
			case <-stopped:
			case <-time.After(60 * time.Second):
				t.Fatal("the schedule did not stop")
			}
			if err := stop(); err != nil {
				t.Fatalf("schedule returned %v, want a clean stop", err)
			}
			sums := summaries(t, stdout.String())
			if len(sums) != 1 {
				t.Fatalf("%d summary lines, want the one run:\n%s", len(sums), stdout.String())
			}
			s := sums[0]
			onDisk := parquetRowsByPartition(t, out) // also fails on staging debris
			if tc.committed {
				if s.Status != "ok" || s.Commit != 1 || s.RowsWritten != int64(truth.Distinct) {
					t.Fatalf("a run stopped after it began its commit: %+v; want it finished (commit 1, %d rows)", s, truth.Distinct)
				}
			} else {
				if s.Status != "failed" || !strings.Contains(s.Error, "stopped by a signal before its commit") {
					t.Fatalf("a run stopped before its commit: %+v", s)
				}
				if len(onDisk) != 0 {
					t.Fatalf("a run stopped before its commit published %v", onDisk)
				}
			}
			code, stdout2, stderr := cli(t, "run", "--source.url", land, "--destination.url", out)
			if code != exitOK {
				t.Fatalf("the next run: %d %s", code, stderr)
			}
			next := summaryLine(t, stdout2)
			if want := int64(truth.Distinct) - s.RowsWritten; next.RowsWritten != want {
				t.Errorf("the next run wrote %d rows, want %d", next.RowsWritten, want)
			}
			assertEveryEventOnce(t, out, truth)
		})
	}
}

// assertEveryEventOnce checks that each day's partition holds exactly the
// generator's distinct events, each once.
func assertEveryEventOnce(t *testing.T, out string, truth generate.Truth) {
	t.Helper()
	got := eventIDsByPartition(t, out)
	if len(got) != len(truth.DistinctPerDay) {
		t.Errorf("%d partitions, generator made %d days", len(got), len(truth.DistinctPerDay))
	}
	for day, n := range truth.DistinctPerDay {
		ids := got["event_date="+day]
		if len(ids) != n || len(slices.Compact(slices.Clone(ids))) != n {
			t.Errorf("%s: %d events (%d distinct), want %d distinct, each once", day, len(ids), len(slices.Compact(slices.Clone(ids))), n)
		}
	}
}

// The real process: SIGTERM while a run is in progress exits 0, and the
// archive it leaves is consistent (the next run completes it exactly once).
func TestScheduleSIGTERM(t *testing.T) {
	bin := testBinary(t)
	dir := t.TempDir()
	land, truth := generated(t, dir, 4, 5000, 3)
	out := filepath.Join(dir, "out")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "schedule", "--source.url", land, "--destination.url", out, "--cron", "@every 1s", "--listen", addr, "--log.format", "json")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var logs syncBuffer
	started := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		var once sync.Once
		for sc.Scan() {
			fmt.Fprintln(&logs, sc.Text())
			if strings.Contains(sc.Text(), `"msg":"read input"`) {
				once.Do(func() { close(started) })
			}
		}
	}()
	select {
	case <-started:
	case <-time.After(60 * time.Second):
		t.Fatalf("no run started:\n%s", logs.String())
	}
	if got := httpStatus(t, "http://"+addr+"/readyz"); got != http.StatusOK {
		t.Errorf("/readyz: %d", got)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("schedule exited with %v after SIGTERM, want 0:\n%s", err, logs.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("schedule still running 60s after SIGTERM:\n%s", logs.String())
	}
	sums := summaries(t, stdout.String())
	if len(sums) == 0 {
		t.Fatalf("no summary line:\n%s", logs.String())
	}
	last := sums[len(sums)-1]
	t.Logf("the run in progress at SIGTERM ended %s (commit %d): %s", last.Status, last.Commit, last.Error)
	if last.Status != "ok" && !strings.Contains(last.Error, "stopped by a signal before its commit") {
		t.Errorf("the run in progress at SIGTERM: %+v", last)
	}
	_ = parquetRowsByPartition(t, out) // no staging debris, no stray files
	run := exec.Command(bin, "run", "--source.url", land, "--destination.url", out)
	if b, err := run.CombinedOutput(); err != nil {
		t.Fatalf("the next run: %v\n%s", err, b)
	}
	assertEveryEventOnce(t, out, truth)
}
