package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cli runs the CLI in process.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHelp(t *testing.T) {
	code, out, _ := cli(t, "--help")
	if code != exitOK || !strings.Contains(out, "EXIT STATUS") || !strings.Contains(out, "backfill") {
		t.Fatalf("--help: code %d, output:\n%s", code, out)
	}
	for _, c := range commands() {
		code, out, _ := cli(t, c.name, "--help")
		if code != exitOK {
			t.Errorf("%s --help: code %d", c.name, code)
		}
		for _, want := range []string{"Usage:", "Examples:", "EXIT STATUS"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s --help lacks %q", c.name, want)
			}
		}
	}
	code, out, _ = cli(t, "run", "--help")
	for _, want := range []string{"--destination.url", "AUDITEXPORT_DESTINATION_URL", "--dry-run"} {
		if !strings.Contains(out, want) {
			t.Errorf("run --help lacks %q", want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"run", "--no-such-flag"}, "no-such-flag"},
		{[]string{"backfill", "--destination.url", "x", "--source.url", "y"}, "--from and --to are required"},
		{[]string{"backfill", "--destination.url", "x", "--source.url", "y", "--from", "2026-10-01", "--to", "Oct 31"}, `--to "Oct 31" is not a date`},
		{[]string{"backfill", "--destination.url", "x", "--source.url", "y", "--from", "2026-10-02", "--to", "2026-10-01"}, "before --from"},
		{[]string{"generate"}, "--out is required"},
		{[]string{"generate", "--out", "x", "--rows-per-day", "0"}, "rows"},
	}
	for _, c := range cases {
		code, _, errOut := cli(t, c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, "Try:") {
			t.Errorf("%v: code %d, stderr %q; want %d naming %q and a Try: line", c.args, code, errOut, exitUsage, c.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		yaml string
		env  map[string]string
		args []string
		want []string
	}{
		{yaml: "destinaton:\n  url: ./out\n", want: []string{"destinaton", "line 1"}},
		{yaml: "source:\n  url: ./in\ndestination:\n  url: ./out\nparquet:\n  compression: brotli\n  row_group_rows: 0\n",
			want: []string{`parquet.compression "brotli"`, "parquet.row_group_rows"}},
		{yaml: "source:\n  url: ./in\ndestination:\n  url: ./out\n", env: map[string]string{"AUDITEXPORT_RUN_LOOKBACK": "3 days"},
			want: []string{"AUDITEXPORT_RUN_LOOKBACK", "not a duration"}},
		{yaml: "source:\n  url: ./in\ndestination:\n  url: ./out\n", args: []string{"--partitioning.timezone", "Mars/Olympus"},
			want: []string{"partitioning.timezone", "Mars/Olympus"}},
		{yaml: "source:\n  kind: kafka\ndestination:\n  url: ./out\n", want: []string{"source.kind", "kafka"}},
		{yaml: "source:\n  url: ./in\n", want: []string{"destination.url", "is required"}},
		{yaml: "source:\n  url: ./in\ndestination:\n  url: ./out\nschema:\n  columns:\n    - header: Who\n      id: not an id\n", want: []string{"schema.columns"}},
	}
	for i, c := range cases {
		p := writeFile(t, dir, "c.yaml", c.yaml)
		for k, v := range c.env {
			t.Setenv(k, v)
		}
		args := append([]string{"plan", "--config", p}, c.args...)
		code, _, errOut := cli(t, args...)
		if code != exitUsage {
			t.Errorf("case %d: code %d, want %d; stderr %s", i, code, exitUsage, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("case %d: stderr %q does not name %q", i, errOut, w)
			}
		}
		for k := range c.env {
			os.Unsetenv(k)
		}
	}
}

// A password in the YAML is refused, and never echoed.
func TestPasswordInConfigRefused(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "c.yaml", "source:\n  kind: postgres\n  postgres:\n    dsn: postgres://u:hunter2-planted@db/x\n    table: t\ndestination:\n  url: ./out\n")
	code, out, errOut := cli(t, "run", "--config", p)
	if code != exitUsage || !strings.Contains(errOut, "source.postgres.dsn") || !strings.Contains(errOut, "PGPASSWORD") {
		t.Fatalf("code %d stderr %q", code, errOut)
	}
	if strings.Contains(out+errOut, "hunter2-planted") {
		t.Fatal("the planted password was printed")
	}
	p = writeFile(t, dir, "c.yaml", "source:\n  url: s3://key:hunter2-planted@bucket\ndestination:\n  url: ./out\n")
	code, out, errOut = cli(t, "run", "--config", p)
	if code != exitUsage || strings.Contains(out+errOut, "hunter2-planted") || !strings.Contains(errOut, "source.url") {
		t.Fatalf("code %d stderr %q", code, errOut)
	}
}

// summaryLine parses the one JSON line a run prints.
func summaryLine(t *testing.T, out string) runSummaryView {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 {
		t.Fatalf("stdout has %d lines, want one JSON summary line:\n%s", len(lines), out)
	}
	var s runSummaryView
	if err := json.Unmarshal([]byte(lines[0]), &s); err != nil {
		t.Fatalf("summary %q: %v", lines[0], err)
	}
	return s
}

type runSummaryView struct {
	Status      string `json:"status"`
	Error       string `json:"error"`
	Destination string `json:"destination"`
	RowsRead    int64  `json:"rows_read"`
	RowsWritten int64  `json:"rows_written"`
	RowsDup     int64  `json:"rows_duplicate"`
	DryRun      bool   `json:"dry_run"`
	Partitions  []struct {
		Partition string `json:"partition"`
		Rows      int64  `json:"rows"`
	} `json:"partitions"`
	Files []struct {
		Key  string `json:"key"`
		Rows int64  `json:"rows"`
	} `json:"files"`
}

// Flags win over the environment, which wins over the file.
func TestSettingPrecedence(t *testing.T) {
	dir := t.TempDir()
	land := filepath.Join(dir, "land")
	os.MkdirAll(land, 0o755)
	writeFile(t, land, "a.csv", "Timestamp,Event Id\n2026-11-24 10:00:00,e1\n")
	p := writeFile(t, dir, "c.yaml", "source:\n  url: "+land+"\ndestination:\n  url: "+filepath.Join(dir, "out")+"\n  prefix: from-file\n")
	check := func(want string, args ...string) {
		t.Helper()
		code, out, errOut := cli(t, append([]string{"plan", "--config", p}, args...)...)
		if code != exitOK {
			t.Fatalf("code %d: %s", code, errOut)
		}
		if s := summaryLine(t, out); !strings.Contains(s.Destination, want) {
			t.Errorf("destination %q, want prefix %q", s.Destination, want)
		}
	}
	check("from-file")
	t.Setenv("AUDITEXPORT_DESTINATION_PREFIX", "from-env")
	check("from-env")
	check("from-flag", "--destination.prefix", "from-flag")
}
