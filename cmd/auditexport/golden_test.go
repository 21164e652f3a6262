package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata/golden from what the commands print now")

// goldenCase is one command line whose output is kept under
// testdata/golden/<name>.txt: the exit status, stdout and stderr.
type goldenCase struct {
	name     string
	args     []string
	env      map[string]string
	noStdout bool // stdout is the settings table, checked elsewhere
}

// noCloudCredentials is an environment in which no cloud SDK finds any.
var noCloudCredentials = map[string]string{
	"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
	"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true",
	"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
	"AZURE_STORAGE_ACCOUNT": "", "AZURE_STORAGE_CONNECTION_STRING": "", "AZURE_STORAGEBLOB_CONNECTIONSTRING": "",
}

func goldenCases() []goldenCase {
	return []goldenCase{
		// Errors that point at the fix.
		{name: "check-s3-no-credentials", env: noCloudCredentials,
			args: []string{"check", "--source.url", "./no-landing", "--destination.url", "s3://no-such-bucket?region=us-east-1"}},
		{name: "check-azblob-no-account", env: noCloudCredentials,
			args: []string{"check", "--source.url", "./no-landing", "--destination.url", "azblob://c"}},
		{name: "validate-ftp-url", noStdout: true,
			args: []string{"config", "validate", "--source.url", "./landing", "--destination.url", "ftp://x/y"}},
		{name: "validate-s3-param-typo", noStdout: true,
			args: []string{"config", "validate", "--source.url", "./landing", "--destination.url", "s3://b?regoin=x"}},
		{name: "validate-yaml-every-problem", noStdout: true,
			args: []string{"config", "validate", "--config", "bad.yaml", "--run.workers", "many"}},
		{name: "run-yaml-every-problem",
			args: []string{"run", "--config", "bad.yaml"}},
		{name: "run-bad-flag-values", noStdout: true,
			args: []string{"run", "--source.url", "./in", "--destination.url", "./out", "--parquet.row_group_rows", "lots", "--run.lookback", "3days", "--parquet.lower_case_columns", "--schema.strict=maybe"}},
		// Help: a command's own options, then the settings it reads.
		{name: "help-main", args: []string{"--help"}},
		{name: "help-check", args: []string{"check", "--help"}},
		{name: "help-generate", args: []string{"generate", "--help"}},
		{name: "help-completion", args: []string{"completion", "--help"}},
	}
}

// TestGolden runs each command in testdata and compares what it prints
// with its golden file. After an intended change of wording:
// go test ./cmd/auditexport -run TestGolden -update
func TestGolden(t *testing.T) {
	for _, gc := range goldenCases() {
		t.Run(gc.name, func(t *testing.T) {
			for _, kv := range os.Environ() {
				if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, envPrefix) {
					t.Setenv(k, "")
					os.Unsetenv(k)
				}
			}
			for k, v := range gc.env {
				t.Setenv(k, v)
				if v == "" {
					os.Unsetenv(k)
				}
			}
			t.Chdir("testdata")
			var out, errb bytes.Buffer
			code := Main(context.Background(), gc.args, &out, &errb)
			got := renderGolden(t, gc, code, out.String(), errb.String())
			file := filepath.Join("golden", gc.name+".txt")
			if *updateGolden {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (create it with -update)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from testdata/%s (accept an intended change with -update):\n--- got\n%s\n--- want\n%s", file, got, want)
			}
		})
	}
}

func renderGolden(t *testing.T, gc goldenCase, code int, stdout, stderr string) string {
	t.Helper()
	wd, _ := os.Getwd()
	clean := func(s string) string { return strings.ReplaceAll(s, wd, "<testdata>") }
	var b strings.Builder
	fmt.Fprintf(&b, "$ auditexport %s\nexit status %d\n", strings.Join(gc.args, " "), code)
	if !gc.noStdout {
		fmt.Fprintf(&b, "--- stdout\n%s", clean(stdout))
	}
	fmt.Fprintf(&b, "--- stderr\n%s", clean(stderr))
	return b.String()
}
