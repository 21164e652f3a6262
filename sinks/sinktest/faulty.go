package sinktest

import (
	"cmp"
	"testing"
	"time"

	"gocloud.dev/blob"

	"github.com/auditexport/auditexport/sinks"
	"github.com/auditexport/auditexport/sinks/sinktest/faultblob"
)

// FaultyOptions configures OpenFaulty.
type FaultyOptions struct {
	// Prefix is the Bucket's key prefix, as in sinks.OpenOptions. Faults
	// match keys as the driver sees them: with the prefix.
	Prefix string
	// Retry is the Bucket's retry policy, with quick defaults for tests:
	// MaxTries 0 means 3 and the waits 0 mean about 1ms then 2ms, so a
	// fault that fires once (Times 1) is retried away and one that fires
	// every time (Times -1) reaches the caller. MaxTries 1 shows the caller
	// every fault.
	Retry sinks.RetryPolicy
}

// OpenFaulty opens an empty mem:// *sinks.Bucket (named "mem://faulty")
// over a faultblob driver, and returns both: the Bucket for the code under
// test, the driver to inject faults with (Inject, Clear), count calls and
// reach the stored objects past the faults (Inner). The Bucket is closed
// when the test ends.
//
//	b, faults := sinktest.OpenFaulty(t, sinktest.FaultyOptions{})
//	// The commit is stored, but the caller sees the call fail.
//	faults.Inject(faultblob.Fault{Op: faultblob.Put, Prefix: "_auditexport/log/", Times: -1, Land: true})
func OpenFaulty(t testing.TB, opts FaultyOptions) (*sinks.Bucket, *faultblob.Bucket) {
	t.Helper()
	retry := opts.Retry
	retry.MaxTries = cmp.Or(retry.MaxTries, 3)
	retry.InitialInterval = cmp.Or(retry.InitialInterval, time.Millisecond)
	retry.MaxInterval = cmp.Or(retry.MaxInterval, 2*time.Millisecond)
	f := faultblob.New(nil)
	bb := blob.NewBucket(f)
	b, err := sinks.NewBucket(bb, "mem://faulty", sinks.OpenOptions{Prefix: opts.Prefix, Retry: retry})
	if err != nil {
		_ = bb.Close()
		t.Fatalf("open a faulty bucket: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b, f
}
