package integration

// Races with real processes: several exports started at once on one archive,
// on a local directory and on versitygw (S3). The commit log lets one win
// each commit number; the others re-plan (or stop cleanly), and the archive
// ends exactly as one run would have left it.

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRaceRuns: three `auditexport run` processes start at once over the
// same landing exports. Each exits 0 or stops cleanly because another run
// committed first; the archive is exact and holds, partition by partition,
// the same events as a single run's archive.
func TestRaceRuns(t *testing.T) {
	data := smallLanding(t)
	for _, kind := range destKinds {
		t.Run(kind, func(t *testing.T) {
			single := newDest(t, kind)
			mustRun(t, nil, exportArgs(t, "run", data.dir, single, "race")...)
			want := assertExact(t, single, "race", data)

			d := newDest(t, kind)
			rs := concurrentRecovery(t, 3, nil, exportArgs(t, "run", data.dir, d, "race"))
			logRace(t, rs)
			got := assertExact(t, d, "race", data)
			if diff := sameEvents(want, got); diff != "" {
				t.Errorf("three runs at once and one run archived different events: %s", diff)
			}
		})
	}
}

// TestRaceBackfills: three `auditexport backfill` processes start at once
// over day ranges that overlap (11-01..11-02 and 11-02..11-03) or not
// (11-04); the archive is exact for the union of the ranges, all four days,
// and a later `run` finds nothing left to write.
func TestRaceBackfills(t *testing.T) {
	data := generateLanding(t, "--start", "2026-11-01", "--days", "4", "--rows-per-day", "500", "--exports", "3",
		"--format", "csv.gz", "--seed", "4")
	if len(data.truth.DistinctPerDay) != 4 {
		t.Fatalf("the landing data covers %d days, want 4: %v", len(data.truth.DistinctPerDay), data.truth.DistinctPerDay)
	}
	ranges := [][2]string{{"2026-11-01", "2026-11-02"}, {"2026-11-02", "2026-11-03"}, {"2026-11-04", "2026-11-04"}}
	for _, kind := range destKinds {
		t.Run(kind, func(t *testing.T) {
			d := newDest(t, kind)
			ps := make([]*proc, len(ranges))
			for i, rg := range ranges {
				ps[i] = startCLI(t, nil, exportArgs(t, "backfill", data.dir, d, "bf", "--from", rg[0], "--to", rg[1])...)
			}
			rs := make([]procResult, len(ps))
			for i, p := range ps {
				rs[i] = p.wait(t)
				checkRaceOutcome(t, rs[i])
			}
			logRace(t, rs)
			for i, r := range rs {
				if r.code != 0 {
					// A backfill that stopped cleanly is run again, as an
					// operator (or the Job's retry) would.
					t.Logf("backfill %v stopped; running it again", ranges[i])
					mustRun(t, nil, exportArgs(t, "backfill", data.dir, d, "bf", "--from", ranges[i][0], "--to", ranges[i][1])...)
				}
			}
			assertExact(t, d, "bf", data)

			if s := summaryOf(t, mustRun(t, nil, exportArgs(t, "run", data.dir, d, "bf")...)); s.RowsWritten != 0 {
				t.Errorf("a run after the backfills wrote %d rows again", s.RowsWritten)
			}
			assertExact(t, d, "bf", data)
		})
	}
}

// logRace logs how each racer ended, and whether any of them met a lost
// commit race (so a run of the test shows it exercised re-planning).
func logRace(t *testing.T, rs []procResult) {
	t.Helper()
	replans := 0
	for i, r := range rs {
		s := summaryOf(t, r)
		if s.CommitAttempts > 1 || strings.Contains(s.Error, "another run committed first") {
			replans++
		}
		t.Logf("racer %d: exit %d after %s, commit %d, %d attempts, %d rows written, rolled forward %v",
			i, r.code, r.elapsed.Round(time.Millisecond), s.Commit, s.CommitAttempts, s.RowsWritten, s.RolledForward)
	}
	t.Logf("%d of %d racers lost a commit race", replans, len(rs))
}

// TestRaceSlowPublisher forces one interleaving of two runs that commit one
// after the other, the first of which is slow to publish. Run A commits the
// first two of three exports, and its write of one partition's manifest is
// held back by a proxy in front of versitygw (a slow network). Meanwhile the
// third export lands and run B starts: it rolls A's commit forward, then
// commits and publishes the third export's new events, which add a file to
// that same partition. Then A's held manifest write goes through. Both runs
// exit 0 and the archive must be exact: every partition's manifest lists
// every committed file of the partition, whatever order the two writers'
// requests arrived in.
func TestRaceSlowPublisher(t *testing.T) {
	all := smallLanding(t) // exports at 11-02, 11-03 and 11-04 06:00 UTC
	if len(all.truth.Files) != 3 {
		t.Fatalf("want 3 exports, got %v", all.truth.Files)
	}
	// The partition both commits add files to: 11-03, whose first six
	// hours are in the second export and the rest in the third.
	const shared = "event_date=2026-11-03"
	landing := filepath.Join(t.TempDir(), "landing")
	if err := os.MkdirAll(landing, 0o755); err != nil {
		t.Fatal(err)
	}
	deliver := func(name string) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(all.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(landing, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	deliver(all.truth.Files[0])
	deliver(all.truth.Files[1])
	data := landingData{dir: landing, truth: all.truth, ids: all.ids}

	proxy := newFaultProxy(t, s3Server(t).endpoint, 0, 1)
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	proxy.setHold(func(r *http.Request) {
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/"+shared+"/_manifest.json") {
			once.Do(func() {
				close(held)
				<-release
			})
		}
	})
	d := newDest(t, "s3")
	a := startCLI(t, nil, exportArgs(t, "run", landing, viaProxy(t, d, proxy), "slow")...)
	select {
	case <-held:
	case <-a.done:
		t.Fatalf("run A ended without writing the manifest of %s: %s", shared, a.wait(t))
	case <-time.After(time.Minute):
		t.Fatalf("run A did not reach the manifest of %s within a minute", shared)
	}
	deliver(all.truth.Files[2])
	rb := mustRun(t, nil, exportArgs(t, "run", landing, d, "slow")...)
	sb := summaryOf(t, rb)
	t.Logf("run B: commit %d, %d rows written, rolled forward %v", sb.Commit, sb.RowsWritten, sb.RolledForward)
	close(release)
	if ra := a.wait(t); ra.code != 0 {
		t.Errorf("run A: %s", ra)
	}
	v := assertExact(t, d, "slow", data)
	files := 0
	for _, f := range v.published {
		if f.partition == shared {
			files++
		}
	}
	if sb.Commit != 2 || files < 2 {
		t.Errorf("the test did not set up what it meant to: run B made commit %d, %s has %d files; want commit 2 and 2 files",
			sb.Commit, shared, files)
	}
}
