package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter/generate"
)

// Built and generated once by TestMain, shared read-only by every test.
var (
	// binary is the auditexport command built from ./cmd/auditexport.
	binary string
	// landing is a directory of synthetic Sigma exports, and truth is what
	// the generator says it holds.
	landing string
	truth   generate.Truth
)

// The landing exports every end-to-end test reads: 3 days of 400 distinct
// events, in 2 overlapping CSV.gz exports with duplicates and late rows.
var generateArgs = []string{"--start", "2026-11-01", "--days", "3", "--rows-per-day", "400", "--exports", "2",
	"--format", "csv.gz", "--seed", "5"}

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "auditexport-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	if err := setup(tmp); err != nil {
		fmt.Fprintln(os.Stderr, "integration: setup:", err)
		return 1
	}
	return m.Run()
}

func setup(tmp string) error {
	root, err := filepath.Abs("..")
	if err != nil {
		return err
	}
	binary = filepath.Join(tmp, "auditexport")
	build := exec.Command("go", "build", "-o", binary, "./cmd/auditexport")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/auditexport: %v\n%s", err, out)
	}
	landing = filepath.Join(tmp, "landing")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := runBinary(ctx, nil, append([]string{"generate", "--out", landing}, generateArgs...)...)
	if r.err != nil || r.code != 0 {
		return fmt.Errorf("auditexport generate: exit %d %v\n%s", r.code, r.err, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), &truth); err != nil {
		return fmt.Errorf("auditexport generate printed no Truth: %v\n%s", err, r.stdout)
	}
	if len(truth.DistinctPerDay) != 3 || truth.Distinct == 0 || len(truth.Files) != 2 {
		return fmt.Errorf("auditexport generate: unexpected truth %+v, want 3 days in 2 files", truth)
	}
	return nil
}

// result is what one run of the binary did.
type result struct {
	code           int
	stdout, stderr string
	err            error // the process could not be run (not a non-zero exit)
}

// childEnv is this process's environment without any AUDITEXPORT_ setting
// (so the shell cannot change what a test runs), plus extra ("K=V"), which
// wins over inherited values.
func childEnv(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AUDITEXPORT_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

func runBinary(ctx context.Context, extraEnv []string, args ...string) result {
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = childEnv(extraEnv)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		r.err, r.code = err, -1
	}
	return r
}

// cli runs the binary with a two-minute limit and extra environment.
func cli(t *testing.T, extraEnv []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	r := runBinary(ctx, extraEnv, args...)
	if r.err != nil {
		t.Fatalf("auditexport %s: %v", strings.Join(args, " "), r.err)
	}
	return r
}
