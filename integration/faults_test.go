package integration

// Faults between auditexport and S3: transient ones (500, 503, slow answers,
// connections cut before or after the server acted) injected by a proxy in
// front of versitygw must cost retries only, never exactness; permanent ones
// (a wrong secret, a missing bucket) must fail fast and write nothing.

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditexport/auditexport/sinks"
)

// faultRate is the fraction of S3 requests that get a fault: high enough
// that every kind shows up in a run, low enough that the SDK's and the
// sinks' retries (5 tries each call) get through.
const faultRate = 0.10

// viaProxy is d with its endpoint replaced by the proxy's.
func viaProxy(t *testing.T, d archiveDest, p *faultProxy) archiveDest {
	t.Helper()
	e := s3Server(t)
	if !strings.Contains(d.url, "endpoint="+e.endpoint) {
		t.Fatalf("%s does not name the endpoint %s", d.url, e.endpoint)
	}
	pd := d
	pd.url = strings.Replace(d.url, "endpoint="+e.endpoint, "endpoint="+p.endpoint(), 1)
	return pd
}

// TestFaultsTransient: through a proxy that fails about 10% of the requests
// to versitygw (seeded; replay with AUDITEXPORT_TEST_SEED), a run, then two
// runs at once over a new export, then a run killed at "committed" and its
// recovery, all complete; the archive read directly from versitygw is exact.
func TestFaultsTransient(t *testing.T) {
	seed := testSeed(t)
	t.Logf("seed %d (replay: AUDITEXPORT_TEST_SEED=%d go test -run TestFaultsTransient ./integration/)", seed, seed)
	data := smallLanding(t)
	proxy := newFaultProxy(t, s3Server(t).endpoint, faultRate, seed)

	t.Run("run", func(t *testing.T) {
		d := newDest(t, "s3")
		pd := viaProxy(t, d, proxy)
		before := proxy.injected()
		r := mustRun(t, nil, exportArgs(t, "run", data.dir, pd, "faults")...)
		t.Logf("run took %s; proxy: %s", r.elapsed.Round(time.Millisecond), proxy.report())
		if proxy.injected() == before {
			t.Errorf("the proxy injected no fault into the run; proxy: %s", proxy.report())
		}
		assertExact(t, d, "faults", data)
		// A rerun through the faults writes nothing again.
		if s := summaryOf(t, mustRun(t, nil, exportArgs(t, "run", data.dir, pd, "faults")...)); s.RowsWritten != 0 {
			t.Errorf("a rerun wrote %d rows again", s.RowsWritten)
		}
		assertExact(t, d, "faults", data)
	})

	t.Run("two-at-once", func(t *testing.T) {
		d := newDest(t, "s3")
		pd := viaProxy(t, d, proxy)
		before := proxy.injected()
		concurrentRecovery(t, 2, nil, exportArgs(t, "run", data.dir, pd, "faults"))
		t.Logf("proxy: %s", proxy.report())
		if proxy.injected() == before {
			t.Errorf("the proxy injected no fault into the runs")
		}
		assertExact(t, d, "faults", data)
	})

	t.Run("crash-and-recover", func(t *testing.T) {
		d := newDest(t, "s3")
		pd := viaProxy(t, d, proxy)
		args := exportArgs(t, "run", data.dir, pd, "faults")
		crashAt(t, "committed", args)
		mid := readArchive(t, d.url, "faults")
		checkReaderView(t, mid)
		mustRun(t, nil, args...)
		t.Logf("proxy: %s", proxy.report())
		assertExact(t, d, "faults", data, exactOptions{debris: mid.staging})
	})

	t.Logf("in all: %s", proxy.report())
	for k := 1; k < numFaults; k++ {
		if proxy.counts[k].Load() == 0 {
			t.Errorf("the proxy never injected %s; the test does not prove that fault is survived", faultNames[k])
		}
	}
}

// TestFaultsLostStagingPut is the minimal case of a transient fault after
// the server acted: the first PUT of a staged Parquet file is stored by
// versitygw, but the client never sees the success (the connection is cut
// before the status line, or a 500 replaces it). The SDK retries the
// create-if-absent PUT, meets 412 (its own object), and the run must still
// complete with exactly the source's events and no staging debris.
func TestFaultsLostStagingPut(t *testing.T) {
	data := smallLanding(t)
	for _, kind := range []int{faultDropAfter, fault500After} {
		t.Run(faultNames[kind], func(t *testing.T) {
			proxy := newFaultProxy(t, s3Server(t).endpoint, 0, 1)
			var hit atomic.Bool
			proxy.setScript(func(r *http.Request) int {
				if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/_auditexport/staging/") &&
					strings.HasSuffix(r.URL.Path, ".parquet") && hit.CompareAndSwap(false, true) {
					return kind
				}
				return -1
			})
			d := newDest(t, "s3")
			r := startCLI(t, nil, exportArgs(t, "run", data.dir, viaProxy(t, d, proxy), "lost")...).wait(t)
			t.Logf("proxy: %s", proxy.report())
			if !hit.Load() {
				t.Fatalf("no staging PUT went through the proxy")
			}
			if r.code != 0 {
				v := readArchive(t, d.url, "lost")
				t.Fatalf("one lost response to a staging PUT failed the run, leaving %d commits and staging %q: %s",
					len(v.commits), v.staging, r)
			}
			assertExact(t, d, "lost", data)
		})
	}
}

// permanentBudget is how fast a permanent error must fail the run: far
// below the retry budget (5 tries, waits up to 10s, 2 minutes per call).
const permanentBudget = 10 * time.Second

// checkPermanentFailure: exit status 1 within permanentBudget, a "failed"
// summary and stderr naming the bucket and the words.
func checkPermanentFailure(t *testing.T, r procResult, bucket string, words ...string) {
	t.Helper()
	if r.code != 1 || r.killed {
		t.Fatalf("want exit 1; %s", r)
	}
	if r.elapsed > permanentBudget {
		t.Errorf("the run took %s to fail, want under %s (a permanent error must not be retried)", r.elapsed, permanentBudget)
	}
	if s := summaryOf(t, r); s.Status != "failed" || s.RowsWritten != 0 || s.Commit != 0 {
		t.Errorf("summary: status %q, %d rows written, commit %d; want failed, 0, none", s.Status, s.RowsWritten, s.Commit)
	}
	for _, w := range append([]string{bucket}, words...) {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr does not say %q:\n%s", w, tail(r.stderr, 4000))
		}
	}
}

// checkBucketEmpty: nothing at all in the bucket, so no commit under
// _auditexport/log/ and no published file.
func checkBucketEmpty(t *testing.T, d archiveDest) {
	t.Helper()
	b, err := sinks.Open(setupCtx(t), d.url, sinks.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var left []string
	if err := b.List(setupCtx(t), "", func(o sinks.Object) error { left = append(left, o.Key); return nil }); err != nil {
		t.Fatalf("list %s: %v", d.url, err)
	}
	if len(left) > 0 {
		t.Errorf("a failed run left %q in %s", head(left, 10), d.url)
	}
}

// TestFaultsPermanent: a wrong secret key and a missing bucket fail the run
// fast with exit status 1 and a message naming the bucket, directly and
// through the fault proxy (so transient faults around the permanent one do
// not turn it into a long retry loop), and leave nothing behind.
func TestFaultsPermanent(t *testing.T) {
	seed := testSeed(t)
	t.Logf("seed %d", seed)
	data := smallLanding(t)
	for _, rate := range []float64{0, 0.2} {
		proxy := newFaultProxy(t, s3Server(t).endpoint, rate, seed)
		name := "clean"
		if rate > 0 {
			name = "faulty"
		}
		t.Run("wrong-secret/"+name, func(t *testing.T) {
			d := newDest(t, "s3")
			pd := viaProxy(t, d, proxy)
			before := proxy.total.Load()
			r := startCLI(t, []string{"AWS_SECRET_ACCESS_KEY=" + plantSecret()}, exportArgs(t, "run", data.dir, pd, "perm")...).wait(t)
			t.Logf("failed after %s; proxy: %s", r.elapsed.Round(time.Millisecond), proxy.report())
			checkPermanentFailure(t, r, d.bucket, "permission denied")
			if n := proxy.total.Load() - before; rate == 0 && n > 3 {
				t.Errorf("%d requests reached the server for a wrong secret; a permanent error must not be retried", n)
			}
			checkBucketEmpty(t, d)
		})
		t.Run("missing-bucket/"+name, func(t *testing.T) {
			d := newDest(t, "s3")
			missing := uniqueName(t) // never created
			md := d
			md.url = strings.Replace(d.url, "s3://"+d.bucket+"?", "s3://"+missing+"?", 1)
			md.bucket = missing
			before := proxy.total.Load()
			r := startCLI(t, nil, exportArgs(t, "run", data.dir, viaProxy(t, md, proxy), "perm")...).wait(t)
			t.Logf("failed after %s; proxy: %s", r.elapsed.Round(time.Millisecond), proxy.report())
			checkPermanentFailure(t, r, missing, "not found")
			if n := proxy.total.Load() - before; rate == 0 && n > 3 {
				t.Errorf("%d requests reached the server for a missing bucket; a permanent error must not be retried", n)
			}
			b, err := sinks.Open(setupCtx(t), md.url, sinks.OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if err := b.Check(setupCtx(t)); !errors.Is(err, sinks.ErrNotFound) {
				t.Errorf("after the run, bucket %s: %v; want it still missing", missing, err)
			}
		})
	}
}
