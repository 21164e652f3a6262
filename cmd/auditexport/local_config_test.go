package main

import (
	"os"
	"strings"
	"testing"
)

// Nothing is built in: run without --config names the two settings it
// lacks, exits 2 and writes nothing, wherever it runs. A deployment whose
// config did not reach it fails; it never exports the samples instead.
func TestRunWithoutConfigWritesNothing(t *testing.T) {
	for _, e := range os.Environ() {
		if strings.HasPrefix(e, envPrefix) {
			k, _, _ := strings.Cut(e, "=")
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	dir := t.TempDir()
	t.Chdir(dir)
	code, stdout, stderr := cli(t, "run")
	if code != exitUsage {
		t.Fatalf("run without a config: code %d, want %d\n%s", code, exitUsage, stderr)
	}
	for _, want := range []string{"source.url", "destination.url", "required"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not name %q", stderr, want)
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 || stdout != "" {
		t.Errorf("run without a config wrote %d entries and printed %q", len(left), stdout)
	}
}
