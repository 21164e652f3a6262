package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every setting of every registered source kind (and of the rest of the
// config), misspelt in a file, is named by its dotted path with the
// setting it meant; none of the messages shows Go's type names.
func TestConfigFileTypoOfEverySetting(t *testing.T) {
	scratch := defaultConfig()
	for _, s := range settingsOf(&scratch) {
		i := strings.LastIndexByte(s.key, '.')
		section, name := s.key[:i], s.key[i+1:]
		if len(name) < 4 {
			continue // too short for one edit to be a recognisable typo
		}
		typo := name[:len(name)-1] + "x" + name[len(name)-1:] // one inserted letter
		var yaml strings.Builder
		parts := strings.Split(section, ".")
		for d, p := range parts {
			yaml.WriteString(strings.Repeat("  ", d) + p + ":\n")
		}
		yaml.WriteString(strings.Repeat("  ", len(parts)) + typo + ": x\n")
		path := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(path, []byte(yaml.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		c := defaultConfig()
		err := readConfigFile(path, &c)
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%s misspelt as %s: %v, want a ConfigError", s.key, typo, err)
			continue
		}
		want := section + "." + typo + ": is not a setting; did you mean " + s.key + "?"
		if !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "main.") {
			t.Errorf("%s misspelt: %q, want %q", s.key, err, want)
		}
	}
}

// Every bad key and value of a file comes in one error, with its line,
// together with the problems of the environment and the flags.
func TestConfigFileEveryProblemAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	data := "source:\n  url: ./landing\n  pefix: a\nparquet:\n  row_group_rows: lots\n  lower_case_columns: maybe\nsinks: {}\ndestination:\n  url: ./out\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AUDITEXPORT_RUN_WORKERS", "many")
	fs, cf := newTestFlags(t)
	if err := fs.Parse([]string{"--config", path, "--run.lookback", "3days"}); err != nil {
		t.Fatal(err)
	}
	_, err := cf.load()
	got := splitJoined(err)
	for _, want := range []string{
		"source.pefix: is not a setting; did you mean source.prefix? (" + path + " line 3)",
		`parquet.row_group_rows "lots": is not an integer (` + path + " line 5)",
		`parquet.lower_case_columns "maybe": is not a boolean`,
		"sinks: is not a section (the sections are ",
		`AUDITEXPORT_RUN_WORKERS "many": is not an integer`,
		`--run.lookback "3days": is not a duration`,
	} {
		found := false
		for _, e := range got {
			found = found || strings.Contains(e.Error(), want)
		}
		if !found {
			t.Errorf("errors %q lack %q", got, want)
		}
	}
	if exitCode(err) != exitUsage {
		t.Errorf("exit %d, want %d", exitCode(err), exitUsage)
	}
}

// A boolean setting's flag alone means true; =false still works.
func TestBareBooleanFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"--parquet.lower_case_columns"}, true},
		{[]string{"--parquet.lower_case_columns=false"}, false},
		{[]string{"--parquet.lower_case_columns=true", "--schema.strict"}, true},
	} {
		fs, cf := newTestFlags(t)
		args := append([]string{"--source.url", "./in", "--destination.url", "./out"}, tc.args...)
		if err := fs.Parse(args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		lc, err := cf.load()
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if lc.Parquet.LowerCaseColumns != tc.want {
			t.Errorf("%v: lower_case_columns = %v, want %v", tc.args, lc.Parquet.LowerCaseColumns, tc.want)
		}
	}
}

// newTestFlags is a command's flag set with the config flags on it.
func newTestFlags(t *testing.T) (*flag.FlagSet, *configFlags) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs, addConfigFlags(fs)
}

// On the command line a boolean setting also takes its value as the next
// argument, as every other setting does.
func TestBooleanFlagSeparateValue(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--parquet.lower_case_columns"}, `parquet\.lower_case_columns\s+true\s+flag`},
		{[]string{"--parquet.lower_case_columns", "true"}, `parquet\.lower_case_columns\s+true\s+flag`},
		{[]string{"--parquet.lower_case_columns", "false"}, `parquet\.lower_case_columns\s+false\s+flag`},
	} {
		args := append([]string{"config", "validate", "--source.url", "./in", "--destination.url", "./out"}, tc.args...)
		code, out, errOut := cli(t, args...)
		if code != exitOK || !regexp.MustCompile(`(?m)^`+tc.want+`\s*$`).MatchString(out) {
			t.Errorf("%v: exit %d, stderr %q, want a line %s", tc.args, code, errOut, tc.want)
		}
	}
}
