package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// plantedSecret is the password planted in every URL below; it must never be
// printed, whatever the command and however badly the URL is formed.
const plantedSecret = "S3CR3T"

// malformedDestinations do not parse, or parse only on the outside: Go's
// url errors quote the raw URL, and the SDK's errors quote the endpoint.
var malformedDestinations = []string{
	"s3://b?endpoint=http://bob:S3CR3T@[::1&region=x",
	"s3://b?endpoint=http://bob:S3CR3T@host:99999&region=x",
	"s3://b?endpoint=http://bob:S3CR3T@host:99x&region=x",
	"s3://b?endpoint=http://bob:S3CR3T@ho st&region=x",
	"s3://b?endpoint=http://bob:S3CR3T@host/%zz&region=x",
	"s3://b?endpoint=http://bob:S3CR3T/x@host&region=x",
	"s3://b?endpoint=http%3A%2F%2Fbob%3AS3CR3T%40%5B%3A%3A1&region=x",
	"s3://bob:S3CR3T@b:99x?region=x",
}

// noCloud keeps the AWS SDK away from the metadata service, so a URL that
// gets past validation fails fast instead of waiting for credentials.
func noCloud(t *testing.T) {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKEFAKE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake-secret-key")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func assertNoSecret(t *testing.T, what string, code, wantCode int, setting, stdout, stderr string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("%s: exit %d, want %d\nstderr: %s", what, code, wantCode, stderr)
	}
	if !strings.Contains(stderr, setting) {
		t.Errorf("%s: stderr does not name %s:\n%s", what, setting, stderr)
	}
	if strings.Contains(stdout, plantedSecret) {
		t.Errorf("%s: stdout holds the planted secret:\n%s", what, stdout)
	}
	if strings.Contains(stderr, plantedSecret) {
		t.Errorf("%s: stderr holds the planted secret:\n%s", what, stderr)
	}
}

func TestMalformedURLSecretsNeverPrinted(t *testing.T) {
	noCloud(t)
	dir := t.TempDir()
	land, _ := generated(t, dir, 1, 20, 1)
	out := filepath.Join(dir, "out")
	commands := [][]string{{"run"}, {"check"}, {"config", "validate"}}
	for _, u := range malformedDestinations {
		for _, c := range commands {
			args := append(append([]string{}, c...), "--source.url", land, "--destination.url", u)
			code, stdout, stderr := cli(t, args...)
			assertNoSecret(t, strings.Join(c, " ")+" --destination.url "+u, code, exitUsage, "destination.url", stdout, stderr)
		}
		for _, c := range commands {
			args := append(append([]string{}, c...), "--source.url", u, "--destination.url", out)
			code, stdout, stderr := cli(t, args...)
			assertNoSecret(t, strings.Join(c, " ")+" --source.url "+u, code, exitUsage, "source.url", stdout, stderr)
		}
	}
}

// A password in an s3:// URL's endpoint= is refused like one in the URL's
// own user info: credentials come from the environment.
func TestPasswordInEndpointRefused(t *testing.T) {
	noCloud(t)
	dir := t.TempDir()
	land, _ := generated(t, dir, 1, 20, 1)
	for _, u := range []string{
		"s3://b?endpoint=http://bob:S3CR3T@127.0.0.1:7070&region=us-east-1&use_path_style=true",
		"s3://b?endpoint=http%3A%2F%2Fbob%3AS3CR3T%40127.0.0.1%3A7070&region=us-east-1",
	} {
		for _, c := range [][]string{{"run"}, {"check"}, {"config", "validate"}} {
			args := append(append([]string{}, c...), "--source.url", land, "--destination.url", u)
			code, stdout, stderr := cli(t, args...)
			what := strings.Join(c, " ") + " --destination.url " + u
			assertNoSecret(t, what, code, exitUsage, "destination.url", stdout, stderr)
			if !strings.Contains(stderr, "environment") {
				t.Errorf("%s: stderr does not say credentials come from the environment:\n%s", what, stderr)
			}
		}
	}
}

func TestMalformedPushgatewayURLSecretsNeverPrinted(t *testing.T) {
	dir := t.TempDir()
	land, _ := generated(t, dir, 1, 20, 1)
	out := filepath.Join(dir, "out")
	for _, u := range []string{
		"http://bob:S3CR3T@[::1",
		"http://bob:S3CR3T@host:99x",
		"http://bob:S3CR3T@host:99999",
		"http://bob:S3CR3T@ho st",
		"http://bob:S3CR3T@host/%zz",
		"http://bob:S3CR3T/x@host",
	} {
		for _, flag := range []string{"--pushgateway.url", "--metrics.pushgateway_url"} {
			commands := [][]string{{"run"}, {"backfill", "--from", "2026-11-01", "--to", "2026-11-01"}}
			if flag == "--metrics.pushgateway_url" { // config validate takes the settings' own names only
				commands = append(commands, []string{"config", "validate"})
			}
			for _, c := range commands {
				args := append(append([]string{}, c...), "--source.url", land, "--destination.url", out, flag, u)
				code, stdout, stderr := cli(t, args...)
				assertNoSecret(t, strings.Join(c, " ")+" "+flag+" "+u, code, exitUsage, "metrics.pushgateway_url", stdout, stderr)
			}
		}
	}
}

// NaN compares false with every bound: it must not pass as a fraction and
// switch the rejects threshold off.
func TestRejectsMaxFractionNotANumber(t *testing.T) {
	dir := t.TempDir()
	land, _ := generated(t, dir, 1, 20, 1)
	out := filepath.Join(dir, "out")
	for _, v := range []string{"NaN", "nan", "Inf", "+Inf", "-Inf"} {
		for _, c := range [][]string{{"run"}, {"config", "validate"}} {
			args := append(append([]string{}, c...), "--source.url", land, "--destination.url", out, "--rejects.max_fraction", v)
			code, _, stderr := cli(t, args...)
			if code != exitUsage || !strings.Contains(stderr, "rejects.max_fraction") {
				t.Errorf("%s --rejects.max_fraction %s: exit %d, want %d naming rejects.max_fraction\n%s", strings.Join(c, " "), v, code, exitUsage, stderr)
			}
		}
	}
	p := writeFile(t, dir, "c.yaml", "source:\n  url: "+land+"\ndestination:\n  url: "+out+"\nrejects:\n  max_fraction: .nan\n")
	code, _, stderr := cli(t, "config", "validate", "--config", p)
	if code != exitUsage || !strings.Contains(stderr, "rejects.max_fraction") {
		t.Errorf("max_fraction .nan in YAML: exit %d, want %d naming rejects.max_fraction\n%s", code, exitUsage, stderr)
	}
	t.Setenv("AUDITEXPORT_REJECTS_MAX_FRACTION", "NaN")
	code, _, stderr = cli(t, "config", "validate", "--source.url", land, "--destination.url", out)
	if code != exitUsage || !strings.Contains(stderr, "rejects.max_fraction") {
		t.Errorf("AUDITEXPORT_REJECTS_MAX_FRACTION=NaN: exit %d, want %d naming rejects.max_fraction\n%s", code, exitUsage, stderr)
	}
}
