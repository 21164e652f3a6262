package integration

// Crash injection with real processes: `auditexport run` dies by SIGKILL at
// each phase of the commit protocol (AUDITEXPORT_TEST_CRASH_AT) and at random
// moments, on a local directory and on versitygw (S3); whatever a reader sees
// in between is never partial or doubled, and the next run (or two at once)
// leaves the archive exact.

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

// crashPhases are the points of a run where AUDITEXPORT_TEST_CRASH_AT makes it
// SIGKILL itself, in run order.
var crashPhases = []string{"read", "stage", "staged", "committed", "publish"}

// crashAt runs an export that must SIGKILL itself at phase.
func crashAt(t *testing.T, phase string, args []string) procResult {
	t.Helper()
	r := startCLI(t, []string{"AUDITEXPORT_TEST_CRASH_AT=" + phase}, args...).wait(t)
	if !r.killed || r.code != -1 {
		t.Fatalf("with AUDITEXPORT_TEST_CRASH_AT=%s the run must die by SIGKILL; %s", phase, r)
	}
	if r.stdout != "" {
		t.Errorf("a SIGKILLed run printed a summary: %s", r.stdout)
	}
	return r
}

// TestCrashAtEachPhase: for each phase and destination, a run SIGKILLed at
// that phase leaves a state in which readers see only committed, complete
// files and no event twice; the next run exits 0 and the archive is exact
// (the killed run's young staging debris may stay: the design keeps it for
// run.staging_grace); once that debris is older than the grace, a third run
// removes it and writes nothing again.
func TestCrashAtEachPhase(t *testing.T) {
	data := smallLanding(t)
	for _, kind := range destKinds {
		for _, phase := range crashPhases {
			t.Run(kind+"/"+phase, func(t *testing.T) {
				d := newDest(t, kind)
				const prefix = "crash"
				args := exportArgs(t, "run", data.dir, d, prefix)
				crashAt(t, phase, args)

				mid := readArchive(t, d.url, prefix)
				checkReaderView(t, mid)
				switch phase {
				case "read", "stage", "staged":
					if len(mid.commits) != 0 || len(mid.published) != 0 {
						t.Errorf("killed at %s: %d commits and %d published files, want none", phase, len(mid.commits), len(mid.published))
					}
				case "committed", "publish":
					if len(mid.commits) != 1 {
						t.Errorf("killed at %s: %d commits, want 1", phase, len(mid.commits))
					}
				}
				if phase == "stage" || phase == "staged" || phase == "committed" {
					if len(mid.staging) == 0 {
						t.Errorf("killed at %s: nothing staged; the phase point is not where this test expects it", phase)
					}
				}

				r := mustRun(t, nil, args...)
				s := summaryOf(t, r)
				if (phase == "committed" || phase == "publish") && !slices.Equal(s.RolledForward, []int64{1}) {
					t.Errorf("the run after a kill at %s rolled forward %v, want [1]", phase, s.RolledForward)
				}
				assertExact(t, d, prefix, data, exactOptions{debris: mid.staging})

				// The killed run's debris, once past the grace period, is
				// collected, and nothing is exported twice.
				if n := ageStaging(t, d, prefix); n > 0 {
					t.Logf("aged %d staged objects of the killed run", n)
				}
				s = summaryOf(t, mustRun(t, nil, args...))
				if s.RowsWritten != 0 {
					t.Errorf("a third run wrote %d rows again", s.RowsWritten)
				}
				assertExact(t, d, prefix, data)
			})
		}
	}
}

// TestCrashTwoRecoveries: a run killed at a phase, then two runs started at
// once to repair it. Both exit 0, or one stops cleanly because the other
// committed first; the archive is exact.
func TestCrashTwoRecoveries(t *testing.T) {
	data := smallLanding(t)
	for _, kind := range destKinds {
		for _, phase := range []string{"staged", "committed", "publish"} {
			t.Run(kind+"/"+phase, func(t *testing.T) {
				d := newDest(t, kind)
				const prefix = "crash2"
				args := exportArgs(t, "run", data.dir, d, prefix)
				crashAt(t, phase, args)
				mid := readArchive(t, d.url, prefix)
				checkReaderView(t, mid)
				concurrentRecovery(t, 2, nil, args)
				assertExact(t, d, prefix, data, exactOptions{debris: mid.staging})
			})
		}
	}
}

// TestCrashRandomKill: `auditexport run` over 5 days of 8,000 distinct
// events, SIGKILLed after a random delay within its normal duration
// (measured first on each destination). Even rounds kill the first run and
// then the first recovery run too, and finish with a third; odd rounds kill
// the first run and start two recovery runs at once. After every kill the
// reader's view is checked, after the recovery assertExact. Replay a failure
// with AUDITEXPORT_TEST_SEED=<seed from the log>.
func TestCrashRandomKill(t *testing.T) {
	const rounds = 6
	seed := testSeed(t)
	t.Logf("seed %d (replay: AUDITEXPORT_TEST_SEED=%d go test -run TestCrashRandomKill ./integration/)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	data := generateLanding(t, "--start", "2026-11-01", "--days", "5", "--rows-per-day", "8000", "--exports", "3",
		"--format", "csv.gz", "--seed", "11")

	// The normal duration on each destination, from a run that must also
	// be exact.
	normal := map[string]time.Duration{}
	for _, kind := range destKinds {
		d := newDest(t, kind)
		r := mustRun(t, nil, exportArgs(t, "run", data.dir, d, "normal")...)
		normal[kind] = r.elapsed
		t.Logf("%s: a full run takes %s", kind, r.elapsed.Round(time.Millisecond))
		assertExact(t, d, "normal", data)
	}

	for i := range rounds {
		kind := destKinds[(i/2)%len(destKinds)]
		twoAtOnce := i%2 == 1
		name := strconv.Itoa(i) + "/" + kind
		if twoAtOnce {
			name += "/kill+two-recoveries"
		} else {
			name += "/kill+kill+recovery"
		}
		delay := func() time.Duration { return time.Duration(rng.Int64N(int64(normal[kind]))) }
		d1, d2 := delay(), delay() // drawn every round, so rounds stay aligned with the seed
		t.Run(name, func(t *testing.T) {
			d := newDest(t, kind)
			const prefix = "random"
			args := exportArgs(t, "run", data.dir, d, prefix)
			r := startCLI(t, nil, args...).killAfter(t, d1)
			t.Logf("round %d (seed %d): first run, kill after %s: killed %v", i, seed, d1, r.killed)
			mid := readArchive(t, d.url, prefix)
			checkReaderView(t, mid)
			if twoAtOnce {
				concurrentRecovery(t, 2, nil, args)
				assertExact(t, d, prefix, data, exactOptions{debris: mid.staging})
				return
			}
			r = startCLI(t, nil, args...).killAfter(t, d2)
			t.Logf("round %d (seed %d): recovery run, kill after %s: killed %v", i, seed, d2, r.killed)
			mid = readArchive(t, d.url, prefix)
			checkReaderView(t, mid)
			mustRun(t, nil, args...)
			assertExact(t, d, prefix, data, exactOptions{debris: mid.staging})
		})
	}
}
