package exporter

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/sinks"
)

// landing is a directory of Sigma exports that tests add files to.
type landing struct {
	t   *testing.T
	dir string
}

func newLanding(t *testing.T) *landing { return &landing{t: t, dir: t.TempDir()} }

func (l *landing) add(name, content string) {
	l.t.Helper()
	if err := os.WriteFile(filepath.Join(l.dir, name), []byte(content), 0o644); err != nil {
		l.t.Fatal(err)
	}
}

func memDest(t *testing.T) *sinks.Bucket {
	t.Helper()
	b, err := sinks.Open(context.Background(), "mem://", sinks.OpenOptions{Prefix: "archive"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// incremental runs the exporter as the run command does.
func incremental(t *testing.T, l *landing, dest *sinks.Bucket, runID string, mutate func(*Options)) testRun {
	t.Helper()
	return exportDir(t, l.dir, dest, func(o *Options) {
		o.RunID = runID
		o.Incremental = true
		o.Lookback = 72 * time.Hour
		if mutate != nil {
			mutate(o)
		}
	})
}

// publishedFiles maps each published Parquet key to its sha256, and checks
// that no staging object is left.
func publishedFiles(t *testing.T, b *sinks.Bucket) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range keys(t, b) {
		if strings.HasPrefix(k, archive.StagingPrefix) {
			t.Errorf("staging object left: %s", k)
		}
		if strings.HasSuffix(k, ".parquet") {
			data, err := b.ReadAll(context.Background(), k)
			if err != nil {
				t.Fatal(err)
			}
			out[k] = sha256Hex(data)
		}
	}
	return out
}

// eventsByPartition reads every published file and maps partition -> event
// IDs, failing on any event written twice.
func eventsByPartition(t *testing.T, b *sinks.Bucket) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	seen := map[string]string{}
	for k, f := range readArchive(t, b) {
		part := filepath.Dir(k)
		for _, row := range f.rows {
			id := row["EVENT_ID"].(string)
			if prev, dup := seen[id]; dup {
				t.Errorf("event %s is in %s and %s", id, prev, k)
			}
			seen[id] = k
			out[part] = append(out[part], id)
		}
	}
	for p := range out {
		sort.Strings(out[p])
	}
	return out
}

const hdr = "Timestamp,Event Id,Event Category,Event Type\n"

// A rerun over the same exports reads nothing and commits nothing.
func TestRerunIsANoOp(t *testing.T) {
	l, dest := newLanding(t), memDest(t)
	l.add("2026-11-24T06-00-00Z_audit_logs.csv", hdr+"2026-11-23 10:00:00,e1,ACCESS_SIGMA,Login\n2026-11-23 11:00:00,e2,ACCESS_SIGMA,Login\n")
	r := incremental(t, l, dest, "run1", nil)
	if r.err != nil || r.sum.Commit != 1 || r.sum.RowsWritten != 2 {
		t.Fatalf("first run: err %v commit %d written %d", r.err, r.sum.Commit, r.sum.RowsWritten)
	}
	before := publishedFiles(t, dest)
	r = incremental(t, l, dest, "run2", nil)
	if r.err != nil || r.sum.Commit != 0 || r.sum.InputsSkipped != 1 || r.sum.RowsRead != 0 {
		t.Fatalf("rerun: err %v commit %d skipped %d read %d; want no commit, the export skipped", r.err, r.sum.Commit, r.sum.InputsSkipped, r.sum.RowsRead)
	}
	if after := publishedFiles(t, dest); len(after) != len(before) {
		t.Fatalf("rerun changed the archive: %v -> %v", before, after)
	}
}

// Day D exported; then a new overlapping export brings late rows for D and
// copies of archived rows: D gains exactly the late rows, in a new file, and
// no committed file changes.
func TestLateRowsLandOnce(t *testing.T) {
	l, dest := newLanding(t), memDest(t)
	l.add("2026-11-24T06-00-00Z_audit_logs.csv", hdr+
		"2026-11-23 10:00:00,e1,ACCESS_SIGMA,Login\n"+
		"2026-11-23 11:00:00,e2,ACCESS_SIGMA,Login\n"+
		"2026-11-23 11:00:00,e2,ACCESS_SIGMA,Login\n")
	if r := incremental(t, l, dest, "run1", nil); r.err != nil {
		t.Fatal(r.err)
	}
	before := publishedFiles(t, dest)
	// The next export holds the whole table again, plus a late row for D
	// and a row for D+1.
	l.add("2026-11-25T06-00-00Z_audit_logs.csv", hdr+
		"2026-11-23 10:00:00,e1,ACCESS_SIGMA,Login\n"+
		"2026-11-23 11:00:00,e2,ACCESS_SIGMA,Login\n"+
		"2026-11-23 23:30:00,e3,ACCESS_SIGMA,Logout\n"+
		"2026-11-24 09:00:00,e4,EXPORTS,Download\n"+
		"2026-11-24 09:00:00,e4,EXPORTS,Download\n")
	r := incremental(t, l, dest, "run2", nil)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.sum.Commit != 2 || r.sum.InputsSkipped != 1 || r.sum.RowsWritten != 2 || r.sum.RowsArchived != 2 || r.sum.RowsDuplicate != 1 {
		t.Fatalf("second run: commit %d skipped %d written %d archived %d duplicate %d; want 2 1 2 2 1",
			r.sum.Commit, r.sum.InputsSkipped, r.sum.RowsWritten, r.sum.RowsArchived, r.sum.RowsDuplicate)
	}
	after := publishedFiles(t, dest)
	for k, sum := range before {
		if after[k] != sum {
			t.Errorf("committed file %s changed or vanished", k)
		}
	}
	if len(after) != len(before)+2 {
		t.Errorf("files %d -> %d, want one new file for D and one for D+1", len(before), len(after))
	}
	got := eventsByPartition(t, dest)
	if strings.Join(got["event_date=2026-11-23"], ",") != "e1,e2,e3" || strings.Join(got["event_date=2026-11-24"], ",") != "e4" {
		t.Errorf("archive = %v", got)
	}
	m, err := archive.ReadManifest(context.Background(), dest, "event_date=2026-11-23")
	if err != nil || m == nil || len(m.Files) != 2 || m.Rows != 3 || m.Commit != 2 {
		t.Fatalf("manifest of 2026-11-23 = %+v, %v; want 2 files, 3 rows, commit 2", m, err)
	}
	if ok, _ := dest.Exists(context.Background(), "event_date=2026-11-23/_SUCCESS"); !ok {
		t.Error("no _SUCCESS in 2026-11-23")
	}
	// The hash chain links commit 2 to commit 1.
	_, raw1, err := archive.ReadCommit(context.Background(), dest, 1)
	if err != nil {
		t.Fatal(err)
	}
	c2, _, err := archive.ReadCommit(context.Background(), dest, 2)
	if err != nil || c2.Previous != archive.SHA256(raw1) {
		t.Fatalf("commit 2 previous = %q, want sha256 of commit 1 (%v)", c2.Previous, err)
	}
}

// A backfill over a range a run already exported writes nothing again.
func TestBackfillOverlapsRun(t *testing.T) {
	l, dest := newLanding(t), memDest(t)
	l.add("a.csv", hdr+"2026-11-23 10:00:00,e1,ACCESS_SIGMA,Login\n2026-11-24 10:00:00,e2,ACCESS_SIGMA,Login\n")
	if r := incremental(t, l, dest, "run1", nil); r.err != nil {
		t.Fatal(r.err)
	}
	l.add("b.csv", hdr+"2026-11-23 12:00:00,e3,ACCESS_SIGMA,Login\n2026-11-23 10:00:00,e1,ACCESS_SIGMA,Login\n")
	from, _ := time.Parse(time.DateOnly, "2026-11-23")
	r := exportDir(t, l.dir, dest, func(o *Options) {
		o.RunID, o.Command = "bf1", "backfill"
		o.Window = source.Window{From: from, To: from.AddDate(0, 0, 1)}
	})
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.sum.RowsWritten != 1 || r.sum.RowsArchived != 2 || r.sum.RowsOutOfWindow != 1 {
		t.Fatalf("backfill: written %d archived %d out of window %d; want 1 2 1", r.sum.RowsWritten, r.sum.RowsArchived, r.sum.RowsOutOfWindow)
	}
	if got := eventsByPartition(t, dest); strings.Join(got["event_date=2026-11-23"], ",") != "e1,e3" {
		t.Errorf("archive = %v", got)
	}
}

// Two runs race for the same commit: the loser re-plans against the
// winner's commit and the archive is what one run would have made.
func TestConcurrentRunsRace(t *testing.T) {
	l, dest := newLanding(t), memDest(t)
	l.add("a.csv", hdr+"2026-11-23 10:00:00,e1,ACCESS_SIGMA,Login\n2026-11-23 11:00:00,e2,ACCESS_SIGMA,Login\n2026-11-24 10:00:00,e3,ACCESS_SIGMA,Login\n")
	release := make(chan struct{})
	var wg sync.WaitGroup
	var loser testRun
	wg.Add(1)
	go func() {
		defer wg.Done()
		// The loser stages everything, then waits at the commit point
		// until the winner has committed.
		loser = incremental(t, l, dest, "loser", func(o *Options) {
			o.Phase = func(p string) {
				if p == PhaseStaged {
					<-release
				}
			}
		})
	}()
	winner := incremental(t, l, dest, "winner", nil)
	close(release)
	wg.Wait()
	if winner.err != nil || loser.err != nil {
		t.Fatalf("winner: %v; loser: %v", winner.err, loser.err)
	}
	if winner.sum.Commit != 1 || loser.sum.CommitAttempts != 2 || loser.sum.RowsWritten != 0 || loser.sum.RowsArchived != 3 {
		t.Fatalf("winner commit %d; loser attempts %d written %d archived %d; want 1, 2, 0, 3",
			winner.sum.Commit, loser.sum.CommitAttempts, loser.sum.RowsWritten, loser.sum.RowsArchived)
	}
	got := eventsByPartition(t, dest)
	if strings.Join(got["event_date=2026-11-23"], ",") != "e1,e2" || strings.Join(got["event_date=2026-11-24"], ",") != "e3" {
		t.Errorf("archive = %v", got)
	}
	_ = publishedFiles(t, dest) // no staging left
}

// Many runs at once, each with its own export, all land exactly once.
func TestManyConcurrentRuns(t *testing.T) {
	l, dest := newLanding(t), memDest(t)
	var want []string
	for i := 0; i < 4; i++ {
		var b strings.Builder
		b.WriteString(hdr)
		for j := 0; j < 50; j++ {
			id := "e" + string(rune('a'+i)) + strconv.Itoa(j)
			b.WriteString("2026-11-23 10:00:00," + id + ",ACCESS_SIGMA,Login\n")
			want = append(want, id)
		}
		// Every export also repeats the first export's events.
		for j := 0; j < 50; j++ {
			b.WriteString("2026-11-23 10:00:00,ea" + strconv.Itoa(j) + ",ACCESS_SIGMA,Login\n")
		}
		l.add("export-"+string(rune('a'+i))+".csv", b.String())
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := incremental(t, l, dest, "run"+strconv.Itoa(i), func(o *Options) { o.MaxCommitAttempts = 10 })
			errs[i] = r.err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("run %d: %v", i, err)
		}
	}
	sort.Strings(want)
	if got := eventsByPartition(t, dest)["event_date=2026-11-23"]; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("archive holds %d events, want %d", len(got), len(want))
	}
}

// dieAt runs the exporter in a goroutine that stops dead at the given
// phase, as a killed process would, leaving the bucket as it was at that
// moment. The goroutine that reaches the phase blocks for good, and one
// worker means nothing else of that run goes on.
func dieAt(t *testing.T, l *landing, dest *sinks.Bucket, phase string) {
	t.Helper()
	dead := make(chan struct{})
	go incremental(t, l, dest, "dead-"+phase, func(o *Options) {
		o.Workers = 1
		o.Phase = func(p string) {
			if p == phase {
				close(dead)
				select {}
			}
		}
	})
	<-dead
}

// A run that dies at any phase leaves an archive the next run completes
// exactly: every distinct event once, nothing staged left behind.
func TestCrashAtEachPhase(t *testing.T) {
	for _, phase := range []string{PhaseRead, PhaseStage, PhaseStaged, PhaseCommitted, PhasePublish} {
		t.Run(phase, func(t *testing.T) {
			l, dest := newLanding(t), memDest(t)
			l.add("a.csv", hdr+"2026-11-23 10:00:00,e1,ACCESS_SIGMA,Login\n2026-11-24 10:00:00,e2,ACCESS_SIGMA,Login\n2026-11-24 10:00:00,e2,ACCESS_SIGMA,Login\n")
			l.add("b.csv", hdr+"2026-11-24 11:00:00,e3,ACCESS_SIGMA,Login\n2026-11-25 10:00:00,e4,ACCESS_SIGMA,Login\n")
			dieAt(t, l, dest, phase)
			// The next run, a day later so staging debris is past its grace.
			r := incremental(t, l, dest, "next", func(o *Options) {
				o.Now = func() time.Time { return time.Now().Add(48 * time.Hour) }
			})
			if r.err != nil {
				t.Fatal(r.err)
			}
			committedBefore := phase == PhaseCommitted || phase == PhasePublish
			if committedBefore && (len(r.sum.RolledForward) != 1 || r.sum.RowsWritten != 0) {
				t.Errorf("rolled forward %v, written %d; want commit 1 rolled forward and nothing new", r.sum.RolledForward, r.sum.RowsWritten)
			}
			if !committedBefore && r.sum.RowsWritten != 4 {
				t.Errorf("written %d, want all 4 events", r.sum.RowsWritten)
			}
			got := eventsByPartition(t, dest)
			want := map[string]string{"event_date=2026-11-23": "e1", "event_date=2026-11-24": "e2,e3", "event_date=2026-11-25": "e4"}
			for p, ids := range want {
				if strings.Join(got[p], ",") != ids {
					t.Errorf("%s = %v, want %s", p, got[p], ids)
				}
			}
			_ = publishedFiles(t, dest)
			st, err := archive.LoadState(context.Background(), dest)
			if err != nil || len(st.Unpublished) != 0 {
				t.Errorf("state after recovery: %+v, %v", st, err)
			}
		})
	}
}

// Staging objects of a run in progress (younger than the grace period) are
// left alone.
func TestStagingGraceKeepsYoungDebris(t *testing.T) {
	l, dest := newLanding(t), memDest(t)
	l.add("a.csv", hdr+"2026-11-23 10:00:00,e1,ACCESS_SIGMA,Login\n")
	dieAt(t, l, dest, PhaseStaged)
	var staged int
	for _, k := range keys(t, dest) {
		if strings.HasPrefix(k, archive.StagingPrefix) {
			staged++
		}
	}
	if staged == 0 {
		t.Fatal("the dead run staged nothing")
	}
	r := incremental(t, l, dest, "next", nil)
	if r.err != nil || r.sum.StagingRemoved != 0 {
		t.Fatalf("err %v, removed %d young staging objects", r.err, r.sum.StagingRemoved)
	}
	var left int
	for _, k := range keys(t, dest) {
		if strings.HasPrefix(k, archive.StagingPrefix) {
			left++
		}
	}
	if left != staged {
		t.Errorf("%d of %d young staging objects left", left, staged)
	}
}

// A partition bigger than the in-memory key budget is deduplicated bucket
// by bucket: still exactly once across runs, with a sorted key file that
// verify accepts.
func TestBucketedDedup(t *testing.T) {
	old := maxSetKeys
	maxSetKeys = 7
	t.Cleanup(func() { maxSetKeys = old })
	l, dest := newLanding(t), memDest(t)
	var a, b strings.Builder
	a.WriteString(hdr)
	b.WriteString(hdr)
	for i := 0; i < 60; i++ {
		row := "2026-11-23 10:00:00,e" + strconv.Itoa(i) + ",ACCESS_SIGMA,Login\n"
		a.WriteString(row)
		if i%3 == 0 {
			a.WriteString(row) // duplicate within the export
		}
		if i >= 40 {
			b.WriteString(row) // overlap with the first export
		}
	}
	for i := 60; i < 90; i++ {
		b.WriteString("2026-11-23 11:00:00,e" + strconv.Itoa(i) + ",ACCESS_SIGMA,Login\n")
	}
	l.add("a.csv", a.String())
	r := incremental(t, l, dest, "run1", nil)
	if r.err != nil || r.sum.RowsWritten != 60 || r.sum.RowsDuplicate != 20 {
		t.Fatalf("first run: err %v written %d duplicate %d; want 60 and 20", r.err, r.sum.RowsWritten, r.sum.RowsDuplicate)
	}
	l.add("b.csv", b.String())
	r = incremental(t, l, dest, "run2", nil)
	if r.err != nil || r.sum.RowsWritten != 30 || r.sum.RowsArchived != 20 {
		t.Fatalf("second run: err %v written %d archived %d; want 30 and 20", r.err, r.sum.RowsWritten, r.sum.RowsArchived)
	}
	if got := eventsByPartition(t, dest)["event_date=2026-11-23"]; len(got) != 90 {
		t.Fatalf("archive holds %d events, want 90", len(got))
	}
	rep, err := archive.Verify(context.Background(), dest, archive.VerifyOptions{ReadData: true})
	if err != nil || rep.Errors() != 0 {
		t.Fatalf("verify: %v, findings %+v", err, rep)
	}
}
