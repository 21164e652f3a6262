package integration

// Helpers of the exactly-once tests (crash_test.go, faults_test.go,
// race_test.go): landing data with its truth read back from the source
// files themselves, archive destinations (a local directory and a versitygw
// bucket), and processes of the binary that can be killed, raced and
// timed. assertExact and the archive reader are in archive_helpers_test.go.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter/generate"
)

// --- landing data ---

// landingData is a directory of generated Sigma exports and what it holds:
// the generator's truth, and the distinct event IDs read from the files.
type landingData struct {
	dir   string
	truth generate.Truth
	ids   map[string]bool
}

// generateLanding runs `auditexport generate` into a fresh directory with
// args (which must keep the Event Id column) and reads every file back.
func generateLanding(t *testing.T, args ...string) landingData {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "landing")
	r := cli(t, nil, append([]string{"generate", "--out", dir}, args...)...)
	if r.code != 0 {
		t.Fatalf("auditexport generate %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	d := landingData{dir: dir}
	if err := json.Unmarshal([]byte(r.stdout), &d.truth); err != nil {
		t.Fatalf("auditexport generate printed no Truth: %v\n%s", err, r.stdout)
	}
	d.ids = sourceEventIDs(t, dir, d.truth.Files)
	if len(d.ids) != d.truth.Distinct {
		t.Fatalf("the landing files hold %d distinct event IDs, the generator says %d distinct events", len(d.ids), d.truth.Distinct)
	}
	return d
}

// sourceEventIDs reads the Event Id column of each CSV or CSV.gz file.
func sourceEventIDs(t *testing.T, dir string, files []string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, name := range files {
		func() {
			f, err := os.Open(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var r io.Reader = bufio.NewReader(f)
			if strings.HasSuffix(name, ".gz") {
				zr, err := gzip.NewReader(r)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				defer zr.Close()
				r = zr
			}
			cr := csv.NewReader(r)
			cr.ReuseRecord = true
			header, err := cr.Read()
			if err != nil {
				t.Fatalf("%s: header: %v", name, err)
			}
			col := -1
			for i, h := range header {
				if k := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(h), "_", " ")); k == "event id" {
					col = i
				}
			}
			if col < 0 {
				t.Fatalf("%s has no Event Id column (header %q)", name, header)
			}
			for {
				rec, err := cr.Read()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if rec[col] == "" {
					t.Fatalf("%s: a row without an event ID", name)
				}
				ids[rec[col]] = true
			}
		}()
	}
	return ids
}

// --- destinations ---

// archiveDest is an empty archive location for one test.
type archiveDest struct {
	kind   string // "local" or "s3"
	url    string // --destination.url
	bucket string // the S3 bucket, or the local directory
	// fsRoot is the directory that holds the bucket's objects as files: the
	// local directory itself, or the bucket's directory in versitygw's posix
	// backend. Tests use it to age staging objects past the grace period.
	fsRoot string
}

var destKinds = []string{"local", "s3"}

func newDest(t *testing.T, kind string) archiveDest {
	t.Helper()
	switch kind {
	case "local":
		dir := filepath.Join(t.TempDir(), "archive") // created by the run
		return archiveDest{kind: kind, url: "file://" + dir, bucket: dir, fsRoot: dir}
	case "s3":
		name, url := newS3Bucket(t)
		root := filepath.Join(versitygwDataDir(t), name)
		if st, err := os.Stat(root); err != nil || !st.IsDir() {
			t.Fatalf("bucket %s has no directory %s in versitygw's posix backend (%v): the crash tests age staging objects there; "+
				"start versitygw with integration/scripts/versitygw.sh on this machine", name, root, err)
		}
		return archiveDest{kind: kind, url: url, bucket: name, fsRoot: root}
	}
	t.Fatalf("unknown destination kind %q", kind)
	return archiveDest{}
}

// versitygwDataDir is where integration/scripts/versitygw.sh keeps objects.
func versitygwDataDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("AUDITEXPORT_VERSITYGW_DIR"); d != "" {
		if !filepath.IsAbs(d) {
			// The script resolves a relative directory against its caller's
			// working directory, normally the repository root.
			d = filepath.Join("..", d)
		}
		return filepath.Join(d, "data")
	}
	d, err := filepath.Abs(filepath.Join("..", "integration", ".run", "versitygw", "data"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// ageStaging sets the modification time of every staged object under prefix
// two days back, past the default staging grace of 24h, so the next run
// treats it as debris of a dead run.
func ageStaging(t *testing.T, d archiveDest, prefix string) int {
	t.Helper()
	root := filepath.Join(d.fsRoot, filepath.FromSlash(prefix), "_auditexport", "staging")
	old := time.Now().Add(-48 * time.Hour)
	n := 0
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || e.IsDir() {
			return err
		}
		n++
		return os.Chtimes(p, old, old)
	})
	if err != nil {
		t.Fatalf("age the staging objects under %s: %v", root, err)
	}
	return n
}

// --- processes ---

// exportArgs are the arguments of an export command (run, or backfill with
// its --from/--to in extra) from landing into prefix of d.
func exportArgs(t *testing.T, command string, landing string, d archiveDest, prefix string, extra ...string) []string {
	t.Helper()
	work := filepath.Join(t.TempDir(), "work") // a SIGKILLed run cannot clean its work directory
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{command, "--source.url", landing, "--destination.url", d.url, "--destination.prefix", prefix,
		"--run.work_dir", work, "--log.format", "json"}
	return append(args, extra...)
}

// proc is a running process of the binary.
type proc struct {
	args   []string
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr bytes.Buffer
	start  time.Time
	done   chan struct{}
	once   sync.Once
	res    procResult
}

// procResult is how a process ended.
type procResult struct {
	code    int  // exit status; -1 when killed by a signal
	killed  bool // ended by SIGKILL
	elapsed time.Duration
	stdout  string
	stderr  string
}

// startCLI starts the binary with extra environment; the test kills it at
// the end if it still runs.
func startCLI(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{args: args, done: make(chan struct{})}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Env = childEnv(env)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start auditexport %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		_ = p.cmd.Wait()
		p.res.elapsed = time.Since(p.start)
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// wait waits for the process (at most 90 seconds: every export here takes
// seconds) and returns how it ended.
func (p *proc) wait(t *testing.T) procResult {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(90 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("auditexport %s still ran after 90s; killed", strings.Join(p.args, " "))
	}
	p.once.Do(func() {
		st := p.cmd.ProcessState
		p.res.code = st.ExitCode()
		if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			p.res.killed = true
		}
		p.res.stdout, p.res.stderr = p.stdout.String(), p.stderr.String()
	})
	return p.res
}

// killAfter SIGKILLs the process once d has passed since it started, unless
// it has ended by then, and returns how it ended. A process that ended
// before the kill must have exited 0.
func (p *proc) killAfter(t *testing.T, d time.Duration) procResult {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(time.Until(p.start.Add(d))):
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	r := p.wait(t)
	if !r.killed && r.code != 0 {
		t.Errorf("auditexport %s ended before the kill: %s", strings.Join(p.args, " "), r)
	}
	return r
}

func (r procResult) String() string {
	return fmt.Sprintf("exit %d (killed %v) after %s\nstdout: %s\nstderr: %s", r.code, r.killed, r.elapsed.Round(time.Millisecond),
		r.stdout, tail(r.stderr, 4000))
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// mustRun runs an export to completion and requires exit status 0.
func mustRun(t *testing.T, env []string, args ...string) procResult {
	t.Helper()
	r := startCLI(t, env, args...).wait(t)
	if r.code != 0 {
		t.Fatalf("auditexport %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// exportSummary is the part of an export's JSON summary line these tests read.
type exportSummary struct {
	Status         string  `json:"status"`
	Error          string  `json:"error"`
	RunID          string  `json:"run_id"`
	RowsWritten    int64   `json:"rows_written"`
	Commit         int64   `json:"commit"`
	CommitAttempts int     `json:"commit_attempts"`
	RolledForward  []int64 `json:"rolled_forward"`
}

func summaryOf(t *testing.T, r procResult) exportSummary {
	t.Helper()
	var s exportSummary
	line := strings.TrimSpace(r.stdout)
	if strings.Contains(line, "\n") || json.Unmarshal([]byte(line), &s) != nil {
		t.Fatalf("stdout is not one JSON summary line:\n%s", r.stdout)
	}
	return s
}

// smallLanding is 3 days of 500 distinct events in 3 overlapping CSV.gz
// exports (with duplicates and late rows): several inputs to read and three
// partitions, so each phase has several files on either side of it.
func smallLanding(t *testing.T) landingData {
	t.Helper()
	return generateLanding(t, "--start", "2026-11-01", "--days", "3", "--rows-per-day", "500", "--exports", "3",
		"--format", "csv.gz", "--seed", "3")
}

// concurrentRecovery starts n copies of the export at once, with extra
// environment env, and checks each ends with exit 0 or with the clean
// "another run committed first" stop.
func concurrentRecovery(t *testing.T, n int, env []string, args []string) []procResult {
	t.Helper()
	ps := make([]*proc, n)
	for i := range ps {
		ps[i] = startCLI(t, env, args...)
	}
	rs := make([]procResult, n)
	for i, p := range ps {
		rs[i] = p.wait(t)
		checkRaceOutcome(t, rs[i])
	}
	return rs
}

// checkRaceOutcome accepts exit 0, or exit 1 saying another run committed
// first and that nothing of this run was committed.
func checkRaceOutcome(t *testing.T, r procResult) {
	t.Helper()
	if r.code == 0 {
		return
	}
	s := summaryOf(t, r)
	if r.code != 1 || s.Status != "failed" || !strings.Contains(s.Error, "another run committed first") ||
		!strings.Contains(s.Error, "nothing of this run was committed") {
		t.Errorf("a concurrent run must exit 0, or 1 saying another run committed first; %s", r)
	}
}

// testSeed is the seed of a randomized test: AUDITEXPORT_TEST_SEED when set,
// else the clock. It is logged so that a failure can be replayed.
func testSeed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv("AUDITEXPORT_TEST_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("AUDITEXPORT_TEST_SEED=%q is not an unsigned integer", s)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}
