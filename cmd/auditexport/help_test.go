package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Each command's help lists the settings it reads, grouped by section,
// with their type and default, and none it does not read.
func TestCommandHelpShowsItsSettings(t *testing.T) {
	for _, tc := range []struct {
		command   string
		want, not []string
	}{
		{"run", []string{"\n  parquet:\n", "--parquet.compression string (default zstd)", "--parquet.lower_case_columns\n", "--run.lookback duration (default 72h0m0s)", "--rejects.max_rows int (default -1)", "--json\n"},
			[]string{"--schedule.cron", "--backfill.shards", "\n  schedule:", "--shards", "--pushgateway.url"}},
		{"backfill", []string{"--backfill.shards int", "--shard i/n"}, []string{"--schedule.cron", "--shards "}},
		{"schedule", []string{"--schedule.cron string", "--schedule.listen string (default :9090)"}, []string{"--backfill.shards", "--cron ", "--listen "}},
		{"check", []string{"--destination.url string", "--timeout duration"}, []string{"--parquet.", "--run.", "--metrics."}},
		{"schema", []string{"--schema.strict"}, []string{"--destination.url", "--source.url"}},
		{"config", []string{"--schedule.cron", "--backfill.shards", "--parquet.compression"}, []string{"not used here"}},
	} {
		code, out, _ := cli(t, tc.command, "--help")
		if code != exitOK {
			t.Fatalf("%s --help: exit %d", tc.command, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s --help lacks %q", tc.command, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(out, n) {
				t.Errorf("%s --help shows %q", tc.command, n)
			}
		}
		if regexp.MustCompile(`--\S+ value\n`).MatchString(out) {
			t.Errorf("%s --help types a setting \"value\"", tc.command)
		}
	}
}

// Older spellings of settings' flags still work, with a warning naming
// the flag to use.
func TestDeprecatedFlagSpellings(t *testing.T) {
	for _, tc := range []struct {
		alias, key, value string
	}{
		{"shards", "backfill.shards", "4"},
		{"pushgateway.url", "metrics.pushgateway_url", "http://gw:9091"},
		{"cron", "schedule.cron", "@daily"},
		{"listen", "schedule.listen", ":9999"},
	} {
		fs, cf := newTestFlags(t)
		deprecatedFlag(fs, cf, tc.alias, tc.key, "x")
		if err := fs.Parse([]string{"--" + tc.alias, tc.value, "--source.url", "./in", "--destination.url", "./out"}); err != nil {
			t.Fatalf("--%s: %v", tc.alias, err)
		}
		lc, err := cf.load()
		if err != nil {
			t.Fatalf("--%s: %v", tc.alias, err)
		}
		var got string
		for _, s := range settingsOf(&lc.Config) {
			if s.key == tc.key {
				got = s.display()
			}
		}
		want := "--" + tc.alias + " is deprecated and will be removed: use --" + tc.key
		if got != tc.value || lc.origin[tc.key] != "flag" || len(cf.warnings) != 1 || cf.warnings[0] != want {
			t.Errorf("--%s %s: %s = %q (%s), warnings %q; want %q and %q", tc.alias, tc.value, tc.key, got, lc.origin[tc.key], cf.warnings, tc.value, want)
		}
	}
	// The command prints the warning on stderr.
	dir := t.TempDir()
	_, _, stderr := cli(t, "run", "--pushgateway.url", "http://127.0.0.1:1", "--source.url", filepath.Join(dir, "none"), "--destination.url", dir)
	if !strings.Contains(stderr, "auditexport: warning: --pushgateway.url is deprecated and will be removed: use --metrics.pushgateway_url") {
		t.Errorf("run --pushgateway.url: stderr lacks the warning:\n%s", stderr)
	}
}

// completion prints a script each shell can load, completing commands
// and every flag of a command.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, out, stderr := cli(t, "completion", shell)
		if code != exitOK {
			t.Fatalf("completion %s: exit %d %s", shell, code, stderr)
		}
		for _, w := range []string{"run", "backfill", "--parquet.lower_case_columns", "--dry-run", "--rows-per-day"} {
			if !strings.Contains(out, w) && !strings.Contains(out, strings.TrimPrefix(w, "--")) {
				t.Errorf("completion %s lacks %s", shell, w)
			}
		}
		if strings.Contains(out, "shards ") && shell == "fish" && strings.Contains(out, "-l shards ") {
			t.Errorf("completion %s offers the deprecated --shards", shell)
		}
	}
	// bash completes for real.
	_, script, _ := cli(t, "completion", "bash")
	path := filepath.Join(t.TempDir(), "c.bash")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("bash", "-c", `source "$1"; COMP_WORDS=(auditexport run --parquet.low); COMP_CWORD=2; _auditexport; echo "${COMPREPLY[@]}"; COMP_WORDS=(auditexport bac); COMP_CWORD=1; _auditexport; echo "${COMPREPLY[@]}"`, "bash", path).CombinedOutput()
	if err != nil || string(out) != "--parquet.lower_case_columns\nbackfill\n" {
		t.Errorf("bash completion: %q %v", out, err)
	}
	if code, _, stderr := cli(t, "completion", "tcsh"); code != exitUsage || !strings.Contains(stderr, "want bash, zsh or fish") {
		t.Errorf("completion tcsh: exit %d %s", code, stderr)
	}
}
