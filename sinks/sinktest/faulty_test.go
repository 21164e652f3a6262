package sinktest_test

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"gocloud.dev/blob"

	"github.com/auditexport/auditexport/sinks"
	"github.com/auditexport/auditexport/sinks/sinktest"
	"github.com/auditexport/auditexport/sinks/sinktest/faultblob"
)

// Without faults, the faulty bucket is a faithful bucket: it passes the
// conformance suite every backend passes.
func TestFaultyConformance(t *testing.T) {
	b, faults := sinktest.OpenFaulty(t, sinktest.FaultyOptions{})
	sinktest.Run(t, func(*testing.T) *sinks.Bucket { return b })
	if n := faults.Injected(); n != 0 {
		t.Errorf("Injected = %d without a fault", n)
	}
}

func put(ctx context.Context, b *sinks.Bucket, key string) error {
	_, err := b.PutBytes(ctx, key, []byte("data of "+key), sinks.PutOptions{IfNotExist: true})
	return err
}

func stored(t *testing.T, faults *faultblob.Bucket, key string) bool {
	t.Helper()
	ok, err := faults.Inner().Exists(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// Skip and Prefix pick the call: the second put under log/ fails, the
// others, and puts elsewhere, do not.
func TestFaultSkipPrefix(t *testing.T) {
	ctx := context.Background()
	b, faults := sinktest.OpenFaulty(t, sinktest.FaultyOptions{Retry: sinks.RetryPolicy{MaxTries: 1}})
	faults.Inject(faultblob.Fault{Op: faultblob.Put, Prefix: "log/", Skip: 1})
	for _, c := range []struct {
		key  string
		fail bool
	}{{"log/1", false}, {"other/1", false}, {"log/2", true}, {"log/3", false}} {
		err := put(ctx, b, c.key)
		if got := err != nil; got != c.fail {
			t.Errorf("put %s: err %v, want failure %v", c.key, err, c.fail)
		}
		if c.fail && (!strings.Contains(err.Error(), "injected") || sinks.IsPermanent(err)) {
			t.Errorf("put %s: %v, want the injected transient error", c.key, err)
		}
		if stored(t, faults, c.key) == c.fail {
			t.Errorf("put %s: stored %v, want %v", c.key, !c.fail, !c.fail)
		}
	}
	if n := faults.Injected(); n != 1 {
		t.Errorf("Injected = %d, want 1", n)
	}
}

// A fault that fires once is retried away by sinks; one that fires every
// time outlasts the retries; Clear ends it.
func TestFaultTimes(t *testing.T) {
	ctx := context.Background()
	b, faults := sinktest.OpenFaulty(t, sinktest.FaultyOptions{})
	faults.Inject(faultblob.Fault{Op: faultblob.Read, Prefix: "k"})
	if err := put(ctx, b, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ReadAll(ctx, "k"); err != nil {
		t.Errorf("read failing once: %v, want it retried away", err)
	}
	if n := faults.Calls(faultblob.Read); n != 2 {
		t.Errorf("reads = %d, want 2", n)
	}
	faults.Inject(faultblob.Fault{Op: faultblob.Read, Times: -1})
	if _, err := b.ReadAll(ctx, "k"); err == nil {
		t.Error("read failing every time succeeded")
	}
	if n := faults.Calls(faultblob.Read); n != 5 {
		t.Errorf("reads = %d, want 5 (3 tries of the second read)", n)
	}
	faults.Clear()
	if _, err := b.ReadAll(ctx, "k"); err != nil {
		t.Errorf("read after Clear: %v", err)
	}
}

// A landed fault takes effect and still fails: the lost response.
func TestFaultLand(t *testing.T) {
	ctx := context.Background()
	b, faults := sinktest.OpenFaulty(t, sinktest.FaultyOptions{Retry: sinks.RetryPolicy{MaxTries: 1}})
	if err := put(ctx, b, "src"); err != nil {
		t.Fatal(err)
	}
	faults.Inject(faultblob.Fault{Op: faultblob.Put, Land: true})
	faults.Inject(faultblob.Fault{Op: faultblob.Copy, Land: true})
	faults.Inject(faultblob.Fault{Op: faultblob.Delete, Land: true})
	if err := put(ctx, b, "put"); err == nil || !stored(t, faults, "put") {
		t.Errorf("landed put: err %v, stored %v; want an error and the object stored", err, stored(t, faults, "put"))
	}
	if err := b.Copy(ctx, "dst", "src"); err == nil || !stored(t, faults, "dst") {
		t.Errorf("landed copy: err %v, stored %v; want an error and the copy made", err, stored(t, faults, "dst"))
	}
	if err := b.Delete(ctx, "src"); err == nil || stored(t, faults, "src") {
		t.Errorf("landed delete: err %v, stored %v; want an error and the object gone", err, stored(t, faults, "src"))
	}
}

// A fault's own error is classified like a driver's: here a permanent
// ErrPermission, not retried.
func TestFaultOwnError(t *testing.T) {
	ctx := context.Background()
	b, faults := sinktest.OpenFaulty(t, sinktest.FaultyOptions{})
	faults.Inject(faultblob.Fault{Op: faultblob.List, Times: -1, Err: &fs.PathError{Op: "list", Path: "x", Err: fs.ErrPermission}})
	err := b.List(ctx, "", func(sinks.Object) error { return nil })
	if !errors.Is(err, sinks.ErrPermission) || faults.Calls(faultblob.List) != 1 {
		t.Errorf("list: %v after %d calls, want ErrPermission after 1", err, faults.Calls(faultblob.List))
	}
}

// Faults see keys with the Bucket's prefix, as the driver does.
func TestFaultyPrefix(t *testing.T) {
	ctx := context.Background()
	b, faults := sinktest.OpenFaulty(t, sinktest.FaultyOptions{Prefix: "archive", Retry: sinks.RetryPolicy{MaxTries: 1}})
	if got := b.String(); got != "mem://faulty/archive/" {
		t.Errorf("String = %q", got)
	}
	faults.Inject(faultblob.Fault{Op: faultblob.Put, Prefix: "archive/log/", Times: -1})
	if err := put(ctx, b, "log/1"); err == nil || !strings.Contains(err.Error(), "archive/log/1 in mem://faulty") {
		t.Errorf("put log/1: %v, want the injected error naming archive/log/1", err)
	}
	if err := put(ctx, b, "data/1"); err != nil || !stored(t, faults, "archive/data/1") {
		t.Errorf("put data/1: %v; want it stored as archive/data/1", err)
	}
}

func TestNewBucketRefuses(t *testing.T) {
	for _, c := range []struct {
		url  string
		opts sinks.OpenOptions
	}{
		{"file:///tmp/x", sinks.OpenOptions{}},
		{"ftp://x", sinks.OpenOptions{}},
		{"/plain/path", sinks.OpenOptions{}},
		{"mem://", sinks.OpenOptions{CreateDir: true}},
		{"mem://", sinks.OpenOptions{Prefix: "../up"}},
	} {
		bb := blob.NewBucket(faultblob.New(nil))
		b, err := sinks.NewBucket(bb, c.url, c.opts)
		if !errors.Is(err, sinks.ErrInvalid) || b != nil {
			t.Errorf("NewBucket(%q, %+v) = %v, %v; want ErrInvalid", c.url, c.opts, b, err)
		}
		bb.Close()
	}
	if _, err := sinks.NewBucket(nil, "mem://", sinks.OpenOptions{}); !errors.Is(err, sinks.ErrInvalid) {
		t.Errorf("NewBucket(nil): %v, want ErrInvalid", err)
	}
}
