package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// samplesArgs runs the bundled samples into a fresh local archive.
func samplesArgs(t *testing.T, command string, extra ...string) []string {
	t.Helper()
	root, _ := filepath.Abs("../..")
	out := filepath.Join(t.TempDir(), "archive")
	return append([]string{command, "--config", filepath.Join(root, "configs/local.yaml"),
		"--source.url", filepath.Join(root, "configs/samples"), "--destination.url", out}, extra...)
}

// jsonKeys decodes one JSON object line.
func jsonKeys(t *testing.T, line string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(strings.TrimSpace(line)), &m); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, line)
	}
	return m
}

// plan's line says what a run would write, never what was written.
func TestPlanSummarySaysWhatItWouldWrite(t *testing.T) {
	code, stdout, stderr := cli(t, samplesArgs(t, "plan")...)
	if code != exitOK {
		t.Fatalf("plan: exit %d\n%s", code, stderr)
	}
	m := jsonKeys(t, stdout)
	for _, k := range []string{"dry_run", "rows_read", "rows_to_write", "partitions_to_write", "rows_duplicate"} {
		if _, ok := m[k]; !ok {
			t.Errorf("plan summary lacks %s: %s", k, stdout)
		}
	}
	for _, k := range []string{"rows_written", "bytes_written", "files", "commit", "partitions"} {
		if _, ok := m[k]; ok {
			t.Errorf("plan summary has %s beside dry_run: %s", k, stdout)
		}
	}
}

// A run that reads nothing has no latest event time to show.
func TestNoOpRunOmitsZeroEventTime(t *testing.T) {
	args := samplesArgs(t, "run")
	for i := range 2 {
		code, stdout, stderr := cli(t, args...)
		if code != exitOK {
			t.Fatalf("run %d: exit %d\n%s", i, code, stderr)
		}
		if i == 1 && (strings.Contains(stdout, "0001-01-01") || strings.Contains(stdout, "max_event_time")) {
			t.Errorf("the no-op run shows a zero time: %s", stdout)
		}
	}
}

// Every JSON a command prints names its fields in snake_case (generate
// and schema used Go's field names).
func TestJSONOutputsSnakeCase(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := cli(t, "generate", "--out", filepath.Join(dir, "land"), "--days", "1", "--rows-per-day", "20")
	if code != exitOK {
		t.Fatalf("generate: exit %d\n%s", code, stderr)
	}
	if n := strings.Count(strings.TrimSpace(stdout), "\n"); n != 0 {
		t.Errorf("generate printed %d lines, want one", n+1)
	}
	if m := jsonKeys(t, stdout); string(m["rows_written"]) != "20" {
		t.Errorf("generate: rows_written = %s, want 20", m["rows_written"])
	}
	outputs := map[string]string{"generate": stdout}
	settings := []string{"--source.url", filepath.Join(dir, "land"), "--destination.url", filepath.Join(dir, "archive")}
	// In this order: verify needs the archive run writes.
	for _, c := range []struct {
		name string
		args []string
	}{
		{"schema --header", []string{"schema", "--header", "Timestamp,Event Type,Something New", "--json"}},
		{"schema", []string{"schema", "--json"}},
		{"schema --categories", []string{"schema", "--categories", "--json"}},
		{"plan", append([]string{"plan", "--json"}, settings...)},
		{"run", append([]string{"run", "--json"}, settings...)},
		{"check", append([]string{"check", "--json"}, settings...)},
		{"config validate", append([]string{"config", "validate", "--json"}, settings...)},
		{"verify", append([]string{"verify", "--json"}, settings...)},
	} {
		_, out, errOut := cli(t, c.args...)
		if strings.TrimSpace(out) == "" {
			t.Errorf("%s printed no JSON: %s", c.name, errOut)
		}
		outputs[c.name] = out
	}
	// Fields whose keys are data (categories, dates, headers), not names.
	dataMaps := map[string]bool{"categories": true, "unknown_categories": true, "distinct_per_day": true, "renames": true}
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	var walk func(name, path string, v any)
	walk = func(name, path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if !snake.MatchString(k) {
					t.Errorf("%s: field %s.%s is not snake_case", name, path, k)
				}
				if !dataMaps[k] {
					walk(name, path+"."+k, e)
				}
			}
		case []any:
			for _, e := range v {
				walk(name, path+"[]", e)
			}
		}
	}
	for name, out := range outputs {
		var v any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Errorf("%s: not one JSON value: %v\n%s", name, err, out)
			continue
		}
		walk(name, "", v)
	}
}

// runOnTerminal runs a command with stdout on a pseudo-terminal and
// returns what the terminal showed.
func runOnTerminal(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	done := make(chan string)
	go func() {
		var b bytes.Buffer
		_, _ = io.Copy(&b, ptmx) // ends with EIO once tty is closed
		done <- b.String()
	}()
	var errb bytes.Buffer
	code := Main(context.Background(), args, tty, &errb)
	tty.Close()
	select {
	case out := <-done:
		return code, strings.ReplaceAll(out, "\r\n", "\n")
	case <-time.After(10 * time.Second):
		t.Fatal("the terminal's output never ended")
	}
	return code, ""
}

// On a terminal a run ends with a few lines for a person: counts, where
// the data went, the time taken and what to run next; --json keeps the
// line for machines; secrets never show.
func TestHumanSummaryOnTerminal(t *testing.T) {
	t.Setenv("AUDITEXPORT_METRICS_PUSHGATEWAY_URL", "")
	os.Unsetenv("AUDITEXPORT_METRICS_PUSHGATEWAY_URL")
	args := samplesArgs(t, "run")
	code, out := runOnTerminal(t, args...)
	if code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	for _, want := range []string{
		`(?m)^run finished in \d`, `(?m)^  rows read +2,171$`, `(?m)^  rows written +1,036 in \d+ partitions, \d+ files, [\d.]+ KiB$`,
		`(?m)^  duplicates +1,135 \(0 already in the archive\)$`, `(?m)^  rejected +0$`,
		`(?m)^  destination +file:///.*/archive/sigma-audit/$`, `(?m)^Next: auditexport verify`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("terminal output lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, `"status"`) {
		t.Errorf("the JSON line was printed on a terminal:\n%s", out)
	}

	// Nothing new: says so, and what happens next.
	code, out = runOnTerminal(t, args...)
	if code != exitOK || !regexp.MustCompile(`(?m)^  rows written +0 in 0 partitions$`).MatchString(out) || !strings.Contains(out, "Next: nothing new") {
		t.Errorf("no-op run on a terminal: exit %d\n%s", code, out)
	}

	// --json forces the line.
	code, out = runOnTerminal(t, append(args, "--json")...)
	if m := jsonKeys(t, out); code != exitOK || string(m["status"]) != `"ok"` {
		t.Errorf("--json on a terminal: exit %d\n%s", code, out)
	}

	// A plan says it wrote nothing, and the command that would.
	code, out = runOnTerminal(t, samplesArgs(t, "plan")...)
	if code != exitOK || !strings.Contains(out, "plan (dry run, nothing written)") || !regexp.MustCompile(`(?m)^  rows to write +1,036 in \d+ partitions$`).MatchString(out) ||
		!strings.Contains(out, "Next: auditexport run") {
		t.Errorf("plan on a terminal: exit %d\n%s", code, out)
	}
}

// A failed run's summary on a terminal is redacted like the JSON line.
func TestHumanSummaryRedactsSecrets(t *testing.T) {
	var b bytes.Buffer
	summaryStyle{human: true}.print(&b, nil, errorString("open s3://audit?endpoint=https://u:planted-pw@host/ failed"), time.Second, "run")
	if strings.Contains(b.String(), "planted-pw") || !strings.HasPrefix(b.String(), "run failed after 1s: ") {
		t.Errorf("summary %q", b.String())
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }
