package exporter

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/sinks"
)

// pausedRun is a run held at PhaseStaged: everything is staged, the commit
// is next.
type pausedRun struct {
	resume chan struct{}
	done   chan testRun
}

func pauseAtStaged(t *testing.T, l *landing, dest *sinks.Bucket, runID string) *pausedRun {
	t.Helper()
	p := &pausedRun{resume: make(chan struct{}), done: make(chan testRun, 1)}
	staged := make(chan struct{})
	go func() {
		p.done <- incremental(t, l, dest, runID, func(o *Options) {
			o.Phase = func(ph string) {
				if ph == PhaseStaged {
					close(staged)
					<-p.resume
				}
			}
		})
	}()
	select {
	case <-staged:
	case r := <-p.done:
		t.Fatalf("run %s ended before staging: %v", runID, r.err)
	}
	return p
}

func (p *pausedRun) finish() testRun {
	close(p.resume)
	return <-p.done
}

func stagingKeys(t *testing.T, b *sinks.Bucket) []string {
	t.Helper()
	var out []string
	for _, k := range keys(t, b) {
		if strings.HasPrefix(k, archive.StagingPrefix) {
			out = append(out, k)
		}
	}
	return out
}

func verifyClean(t *testing.T, b *sinks.Bucket) {
	t.Helper()
	rep, err := archive.Verify(context.Background(), b, archive.VerifyOptions{ReadData: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if f.Severity == archive.SeverityError {
			t.Errorf("verify: %s", f)
		}
	}
}

const slowRows = hdr + "2026-11-23 10:00:00,e1,ACCESS_SIGMA,Login\n2026-11-24 10:00:00,e2,ACCESS_SIGMA,Login\n2026-11-24 11:00:00,e3,ACCESS_SIGMA,Login\n"

// A run whose staged files another run removed (its clean-up saw them, and
// the lease, older than the grace period) fails before its commit: nothing
// is committed, the archive stays valid, and the next run exports those
// rows exactly once.
func TestSlowRunFailsBeforeCommittingCollectedFiles(t *testing.T) {
	l, dest := newLanding(t), memDest(t)
	l.add("a.csv", slowRows)
	slow := pauseAtStaged(t, l, dest, "slow")
	if len(stagingKeys(t, dest)) == 0 {
		t.Fatal("the slow run staged nothing")
	}
	// Another run's clean-up, two days on.
	n, err := archive.CollectStaging(context.Background(), dest, 24*time.Hour, time.Now().Add(48*time.Hour))
	if err != nil || n == 0 {
		t.Fatalf("CollectStaging = %d, %v; want the slow run's staging removed", n, err)
	}

	r := slow.finish()
	if r.err == nil || !strings.Contains(r.err.Error(), "missing") || !strings.Contains(r.err.Error(), "nothing was committed") {
		t.Fatalf("the slow run: %v; want it to fail, naming a missing staged file", r.err)
	}
	if r.sum.Commit != 0 {
		t.Errorf("the slow run reports commit %d", r.sum.Commit)
	}
	st, err := archive.LoadState(context.Background(), dest)
	if err != nil || st.Head != nil {
		t.Fatalf("after the slow run the log has head %+v (%v), want no commit", st.Head, err)
	}
	verifyClean(t, dest)
	if left := stagingKeys(t, dest); len(left) != 0 {
		t.Errorf("the slow run left %q", left)
	}

	next := incremental(t, l, dest, "next", nil)
	if next.err != nil || next.sum.Commit != 1 || next.sum.RowsWritten != 3 {
		t.Fatalf("the next run: err %v, commit %d, written %d; want commit 1 with all 3 events", next.err, next.sum.Commit, next.sum.RowsWritten)
	}
	got := eventsByPartition(t, dest)
	if strings.Join(got["event_date=2026-11-23"], ",") != "e1" || strings.Join(got["event_date=2026-11-24"], ",") != "e2,e3" {
		t.Errorf("archive holds %v", got)
	}
	_ = publishedFiles(t, dest)
	verifyClean(t, dest)
}

// A run slower than the grace period keeps its staged files: its lease is
// young, so another run's clean-up leaves the whole staging directory
// alone, and the slow run commits and publishes.
func TestSlowRunLeaseKeepsItsStaging(t *testing.T) {
	dir := t.TempDir()
	dest, err := sinks.Open(context.Background(), "file://"+dir, sinks.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dest.Close() })
	l := newLanding(t)
	l.add("a.csv", slowRows)
	slow := pauseAtStaged(t, l, dest, "slow")

	// Everything the run staged is two days old; its lease is renewed.
	old := time.Now().Add(-48 * time.Hour)
	aged := 0
	err = filepath.WalkDir(filepath.Join(dir, filepath.FromSlash(archive.StagingPrefix)), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == archive.LeaseName {
			return err
		}
		aged++
		return os.Chtimes(p, old, old)
	})
	if err != nil || aged == 0 {
		t.Fatalf("aged %d staged files: %v", aged, err)
	}
	if n, err := archive.CollectStaging(context.Background(), dest, 24*time.Hour, time.Now()); err != nil || n != 0 {
		t.Fatalf("CollectStaging = %d, %v; want the slow run's staging kept", n, err)
	}

	r := slow.finish()
	if r.err != nil || r.sum.Commit != 1 || r.sum.RowsWritten != 3 {
		t.Fatalf("the slow run: err %v, commit %d, written %d", r.err, r.sum.Commit, r.sum.RowsWritten)
	}
	if left := stagingKeys(t, dest); len(left) != 0 {
		t.Errorf("staging left after the slow run: %q", left)
	}
	verifyClean(t, dest)
	next := incremental(t, l, dest, "next", nil)
	if next.err != nil || next.sum.RowsWritten != 0 {
		t.Errorf("the next run: err %v, written %d; want nothing new", next.err, next.sum.RowsWritten)
	}
}
