package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/auditexport/auditexport/exporter"
	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/sinks"
)

func TestErrorKind(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("put x: %w", sinks.ErrPermission), "permission"},
		{fmt.Errorf("read commit 3: %w", sinks.ErrNotFound), "not_found"},
		{fmt.Errorf("wrap: %w", &exporter.RejectsError{Rejected: 5, Read: 10}), "rejects"},
		{fmt.Errorf("commit 4: %w", archive.ErrConflict), "conflict"},
		{&ConfigError{Setting: "schema.columns"}, "config"},
		{errors.New("boom"), "other"},
	} {
		if got := errorKind(c.err); got != c.want {
			t.Errorf("errorKind(%v) = %s, want %s", c.err, got, c.want)
		}
	}
	if runStatus(nil) != statusOK || runStatus(fmt.Errorf("stopped: %w", context.Canceled)) != statusCanceled || runStatus(errors.New("x")) != statusFailed {
		t.Error("runStatus")
	}
}

// A failed run counts what it read, and nothing as written.
func TestObserveFailedRun(t *testing.T) {
	m := newMetrics()
	sum := &exporter.Summary{Destination: "file:///a/", RowsRead: 10, RowsWritten: 7, Files: []exporter.FileInfo{{Bytes: 100}}, Finished: time.Now()}
	m.observe(sum, fmt.Errorf("put: %w", sinks.ErrPermission), time.Second)
	got := gather(t, m)
	for name, want := range map[string]float64{
		"auditexport_rows_read_total": 10, "auditexport_rows_written_total": 0, "auditexport_files_uploaded_total": 0,
		`auditexport_runs_total{status="failed"}`: 1, `auditexport_errors_total{kind="permission"}`: 1, `auditexport_runs_total{status="ok"}`: 0,
	} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}
	if _, ok := got[`auditexport_last_success_timestamp_seconds{destination="file:///a/"}`]; ok {
		t.Error("a failed run set the last success time")
	}
}

// A successful run counts the late events it committed, so an alert can
// fire on them; a failed run counts none.
func TestObserveLateRows(t *testing.T) {
	m := newMetrics()
	m.observe(&exporter.Summary{Destination: "file:///a/", RowsWritten: 5, RowsLate: 2, Finished: time.Now()}, nil, time.Second)
	m.observe(&exporter.Summary{Destination: "file:///a/", RowsWritten: 5, RowsLate: 3}, errors.New("boom"), time.Second)
	if got := gather(t, m)["auditexport_rows_late_total"]; got != 2 {
		t.Errorf("auditexport_rows_late_total = %v, want 2", got)
	}
}

func gather(t *testing.T, m *metrics) map[string]float64 {
	t.Helper()
	mfs, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return parseExposition(t, strings.NewReader(b.String()))
}

// fakePushgateway records the pushes it receives.
type fakePushgateway struct {
	mu     sync.Mutex
	pushes []pushRecord
}

type pushRecord struct {
	method, path, auth string
	body               map[string]float64
}

func (f *fakePushgateway) handler(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		user, pass, _ := r.BasicAuth()
		f.pushes = append(f.pushes, pushRecord{method: r.Method, path: r.URL.Path, auth: user + ":" + pass, body: parseExposition(t, strings.NewReader(string(b)))})
		w.WriteHeader(http.StatusOK)
	})
}

// run --pushgateway.url pushes the run's metrics once, and they agree with
// the summary line; the password in the URL is sent as basic auth and
// printed nowhere.
func TestRunPushesMetrics(t *testing.T) {
	var gw fakePushgateway
	srv := httptest.NewServer(gw.handler(t))
	defer srv.Close()
	dir := t.TempDir()
	land, truth := generated(t, dir, 2, 200, 2)
	out := filepath.Join(dir, "out")
	u := strings.Replace(srv.URL, "http://", "http://pusher:s3cret-planted@", 1)
	code, stdout, stderr := cli(t, "run", "--source.url", land, "--destination.url", out, "--pushgateway.url", u, "--log.level", "debug")
	if code != exitOK {
		t.Fatalf("run: %d %s", code, stderr)
	}
	if strings.Contains(stdout+stderr, "s3cret-planted") {
		t.Error("the Pushgateway password was printed")
	}
	s := summaries(t, stdout)[0]
	gw.mu.Lock()
	defer gw.mu.Unlock()
	if len(gw.pushes) != 1 {
		t.Fatalf("%d pushes, want 1", len(gw.pushes))
	}
	p := gw.pushes[0]
	if p.method != http.MethodPost || p.path != "/metrics/job/auditexport/command/run" || p.auth != "pusher:s3cret-planted" {
		t.Errorf("push %s %s auth %q; want POST /metrics/job/auditexport/command/run with basic auth", p.method, p.path, p.auth)
	}
	var bytes int64
	for _, f := range s.Files {
		bytes += f.Bytes
	}
	for name, want := range map[string]float64{
		"auditexport_rows_read_total": float64(s.RowsRead), "auditexport_rows_written_total": float64(truth.Distinct),
		"auditexport_rows_duplicate_total": float64(s.RowsDup), "auditexport_files_uploaded_total": float64(len(s.Files)),
		"auditexport_bytes_uploaded_total": float64(bytes), `auditexport_runs_total{status="ok"}`: 1,
	} {
		if p.body[name] != want {
			t.Errorf("pushed %s = %v, want %v", name, p.body[name], want)
		}
	}
	if s.RowsWritten != int64(truth.Distinct) {
		t.Errorf("summary rows_written %d, want %d", s.RowsWritten, truth.Distinct)
	}
	if p.body[fmt.Sprintf("auditexport_last_committed_event_timestamp_seconds{destination=%q}", s.Destination)] == 0 {
		t.Errorf("no watermark pushed: %v", p.body)
	}
}

// A Pushgateway that is down does not fail the run.
func TestPushFailureIsNotFatal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusInternalServerError)
	}))
	defer srv.Close()
	dir := t.TempDir()
	land, _ := generated(t, dir, 1, 50, 1)
	code, _, stderr := cli(t, "run", "--source.url", land, "--destination.url", filepath.Join(dir, "out"), "--metrics.pushgateway_url", srv.URL)
	if code != exitOK || !strings.Contains(stderr, "metrics not pushed") {
		t.Errorf("code %d stderr %s", code, stderr)
	}
}

func TestMetricsConfigErrors(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "c.yaml", "source:\n  url: ./in\ndestination:\n  url: ./out\nmetrics:\n  pushgateway_url: http://u:s3cret-planted@gw:9091\n")
	code, out, stderr := cli(t, "config", "validate", "--config", p)
	if code != exitUsage || !strings.Contains(stderr, "metrics.pushgateway_url") || strings.Contains(out+stderr, "s3cret-planted") {
		t.Errorf("password in the file: code %d stderr %q", code, stderr)
	}
	code, _, stderr = cli(t, "config", "validate", "--source.url", "x", "--destination.url", "y", "--metrics.pushgateway_url", "gw:9091")
	if code != exitUsage || !strings.Contains(stderr, "http:// or https://") {
		t.Errorf("bad URL: code %d stderr %q", code, stderr)
	}
}
