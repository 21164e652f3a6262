package archive

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditexport/auditexport/sinks"
	"github.com/auditexport/auditexport/sinks/sinktest"
	"github.com/auditexport/auditexport/sinks/sinktest/faultblob"
)

// The commit protocol (docs/archive-format.md, "Commit protocol") tested
// directly, without exporter.Run: Append and LoadState here, Publish and
// CheckStaged in publish_test.go. Failures come from a fault-injecting
// mem:// bucket (sinktest.OpenFaulty); faults match keys with the bucket's
// prefix.

const protoPrefix = "archive/"

// protoArchive is an empty archive in a faulty mem:// bucket, as a
// fixture (see verify_test.go), and the driver to inject faults with.
func protoArchive(t *testing.T, retry sinks.RetryPolicy) (*fixture, *faultblob.Bucket) {
	t.Helper()
	b, faults := sinktest.OpenFaulty(t, sinktest.FaultyOptions{Prefix: protoPrefix, Retry: retry})
	return &fixture{t: t, ctx: context.Background(), b: b}, faults
}

// noRetry makes every injected fault reach the caller of sinks.
func noRetry() sinks.RetryPolicy { return sinks.RetryPolicy{MaxTries: 1} }

// protoCommit is commit n of run, adding no files: what Append stores
// does not depend on them.
func protoCommit(n int64, previous, run string) *Commit {
	return &Commit{Version: CommitVersion, Number: n, Previous: previous, RunID: run, Command: "run",
		Created: time.Date(2026, 11, 26, 6, 0, int(n), 0, time.UTC), Tool: "test", Window: "[-inf, +inf)",
		Files: []File{}, Keys: []KeyFile{}, Source: Progress{Source: "test", Inputs: []Input{}},
		Shape: &Shape{PartitionTimezone: "UTC", TimeColumn: "EVENT_TIME", IDColumn: "EVENT_ID", CategoryColumn: "EVENT_CATEGORY", KeyColumns: []string{}}}
}

func encoded(t *testing.T, c *Commit) []byte {
	t.Helper()
	data, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Append creates the commit only if its number is free: the same bytes
// again are our own commit, other bytes (even of the same size) are
// another run's, ErrConflict, and the stored commit is left as it was.
func TestAppendCreatesOnlyIfAbsent(t *testing.T) {
	fx, _ := protoArchive(t, sinks.RetryPolicy{})
	mine := protoCommit(1, "", "run-a")
	sum, err := Append(fx.ctx, fx.b, mine)
	if err != nil {
		t.Fatalf("Append to an empty log: %v", err)
	}
	want := encoded(t, mine)
	if got := fx.read(CommitKey(1)); string(got) != string(want) {
		t.Fatalf("stored commit:\n%s\nwant:\n%s", got, want)
	}
	if sum != SHA256(want) {
		t.Errorf("Append returned %s, want the SHA-256 of the stored bytes %s", sum, SHA256(want))
	}

	if again, err := Append(fx.ctx, fx.b, protoCommit(1, "", "run-a")); err != nil || again != sum {
		t.Errorf("Append of the same commit again = %s, %v; want %s, nil (a retried write finding its own bytes)", again, err, sum)
	}
	theirs := protoCommit(1, "", "run-b") // same length, other bytes
	if len(encoded(t, theirs)) != len(want) {
		t.Fatal("the test needs a conflicting commit of the same size")
	}
	for _, other := range []*Commit{theirs, protoCommit(1, "", "a-longer-run-id")} {
		got, err := Append(fx.ctx, fx.b, other)
		if !errors.Is(err, ErrConflict) || got != "" {
			t.Errorf("Append of run %s's commit 1 over run-a's = %q, %v; want ErrConflict", other.RunID, got, err)
		}
	}
	if got := fx.read(CommitKey(1)); string(got) != string(want) {
		t.Errorf("a conflicting Append changed the stored commit to:\n%s", got)
	}

	st, err := LoadState(fx.ctx, fx.b)
	if err != nil {
		t.Fatal(err)
	}
	if st.Head == nil || st.Head.RunID != "run-a" || st.HeadSHA256 != sum || st.NextNumber() != 2 {
		t.Errorf("state after the conflicts: head %+v sha %s next %d; want run-a's commit 1, %s, 2", st.Head, st.HeadSHA256, st.NextNumber(), sum)
	}
}

// A create whose response is lost (stored, but the call fails) is
// recognised as our own commit, whether sinks' retry meets it (and finds
// the same bytes) or the failure reaches Append (which reads the log).
func TestAppendLostResponse(t *testing.T) {
	for _, tc := range []struct {
		name      string
		retry     sinks.RetryPolicy
		wantReads int // reads of the commit after the write
	}{
		{"retried by sinks", sinks.RetryPolicy{}, 0},
		{"seen by Append", noRetry(), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx, faults := protoArchive(t, tc.retry)
			c := protoCommit(1, "", "run-a")
			faults.Inject(faultblob.Fault{Op: faultblob.Put, Prefix: protoPrefix + LogPrefix, Land: true})
			sum, err := Append(fx.ctx, fx.b, c)
			if err != nil {
				t.Fatalf("Append whose create landed but failed: %v, want success", err)
			}
			if faults.Injected() != 1 {
				t.Fatalf("the fault fired %d times, want 1", faults.Injected())
			}
			want := encoded(t, c)
			if sum != SHA256(want) || string(fx.read(CommitKey(1))) != string(want) {
				t.Errorf("Append = %s; want %s and the commit stored once as encoded", sum, SHA256(want))
			}
			if n := faults.Calls(faultblob.Read); n != tc.wantReads+1 { // + fx.read
				t.Errorf("reads = %d, want %d", n-1, tc.wantReads)
			}
		})
	}
}

// A failed create is not taken for success, and a failure that hides
// whether the create landed is not taken for a conflict: the caller must
// keep its staged files (exporter.Run does).
func TestAppendWriteFails(t *testing.T) {
	for _, tc := range []struct {
		name   string
		land   bool
		stored bool
	}{
		{"not stored", false, false},
		{"stored, read back fails", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx, faults := protoArchive(t, noRetry())
			faults.Inject(faultblob.Fault{Op: faultblob.Put, Prefix: protoPrefix + LogPrefix, Land: tc.land})
			faults.Inject(faultblob.Fault{Op: faultblob.Read, Prefix: protoPrefix + LogPrefix, Times: -1})
			sum, err := Append(fx.ctx, fx.b, protoCommit(1, "", "run-a"))
			if err == nil || errors.Is(err, ErrConflict) || sum != "" || !strings.HasPrefix(err.Error(), "write commit 1: ") {
				t.Fatalf("Append = %q, %v; want a write error that is not ErrConflict", sum, err)
			}
			faults.Clear()
			if ok, err := fx.b.Exists(fx.ctx, CommitKey(1)); err != nil || ok != tc.stored {
				t.Errorf("commit 1 stored: %v, %v; want %v", ok, err, tc.stored)
			}
		})
	}
}

// LoadState lists the log and the markers: the head is the highest commit,
// Unpublished every commit without a marker, in order; objects that are
// not commits or markers are ignored.
func TestLoadStateUnpublished(t *testing.T) {
	fx, faults := protoArchive(t, sinks.RetryPolicy{})
	st, err := LoadState(fx.ctx, fx.b)
	if err != nil || st.Head != nil || len(st.Numbers) != 0 || len(st.Unpublished) != 0 || st.NextNumber() != 1 {
		t.Fatalf("empty archive: %+v, %v; want no head and next number 1", st, err)
	}
	prev, sums := "", map[int64]string{}
	for n := int64(1); n <= 4; n++ {
		sum, err := Append(fx.ctx, fx.b, protoCommit(n, prev, "run"))
		if err != nil {
			t.Fatal(err)
		}
		prev, sums[n] = sum, sum
	}
	fx.put(PublishedKey(1), nil)
	fx.put(PublishedKey(3), nil)
	fx.put(PublishedKey(9), nil)                           // a marker without a commit
	fx.put(LogPrefix+"00000000000000000007.json.tmp", nil) // not a commit
	fx.put(LogPrefix+"notes.txt", []byte("x"))

	st, err = LoadState(fx.ctx, fx.b)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(st.Numbers, []int64{1, 2, 3, 4}) || !slices.Equal(st.Unpublished, []int64{2, 4}) {
		t.Errorf("Numbers %v Unpublished %v; want [1 2 3 4] and [2 4]", st.Numbers, st.Unpublished)
	}
	if st.Head == nil || st.Head.Number != 4 || st.HeadSHA256 != sums[4] || st.NextNumber() != 5 {
		t.Errorf("head %+v sha %s next %d; want commit 4, %s, 5", st.Head, st.HeadSHA256, st.NextNumber(), sums[4])
	}
	if st.Head != nil && st.Head.Previous != sums[3] {
		t.Errorf("head's previous_sha256 = %s, want commit 3's %s", st.Head.Previous, sums[3])
	}

	fx.put(PublishedKey(4), nil)
	if st, err := LoadState(fx.ctx, fx.b); err != nil || !slices.Equal(st.Unpublished, []int64{2}) {
		t.Errorf("after marking 4: Unpublished %v, %v; want [2]", st.Unpublished, err)
	}

	faults.Inject(faultblob.Fault{Op: faultblob.List, Prefix: protoPrefix + PublishedPrefix, Times: -1})
	if _, err := LoadState(fx.ctx, fx.b); err == nil || !strings.HasPrefix(err.Error(), "read the published markers: ") {
		t.Errorf("LoadState with the markers unlistable: %v; want it to fail, not take every commit as unpublished", err)
	}
}

// Reads belong to version 3: an older commit that holds them is damaged.
func TestDecodeCommitReadsNeedVersion3(t *testing.T) {
	shape := `"shape":{"partition_timezone":"UTC","by_category":false,"time_column":"TIMESTAMP","id_column":"EVENT_ID","category_column":"EVENT_CATEGORY","key_columns":["EVENT_ID"],"lower_case_columns":false}`
	base := `"number":1,"previous_sha256":"","run_id":"r","command":"run","created":"2026-11-26T06:00:00Z","tool_version":"t","window":"w","files":[],"keys":[],"source":{"source":"s","watermark":"0001-01-01T00:00:00Z","inputs":[]},` + shape
	reads := `,"reads":[{"key":"sigma-api/wb/el/2026-11-24","rows":5,"rejected":0}]`
	c, err := DecodeCommit([]byte(`{"version":3,` + base + reads + `}`))
	if err != nil || len(c.Reads) != 1 || c.Reads[0].Rows != 5 {
		t.Fatalf("version 3 with reads: %+v, %v", c, err)
	}
	if _, err := DecodeCommit([]byte(`{"version":2,` + base + reads + `}`)); err == nil {
		t.Error("a version 2 commit with reads was accepted")
	}
	if _, err := DecodeCommit([]byte(`{"version":4,` + base + `}`)); err == nil {
		t.Error("a version 4 commit was accepted")
	}
}
