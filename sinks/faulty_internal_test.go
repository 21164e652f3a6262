package sinks

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/blob/memblob"
	"gocloud.dev/gcerrors"

	"github.com/auditexport/auditexport/sinks/sinktest/faultblob"
)

// faulty is the fault-injecting driver of package faultblob (objects in a
// memblob bucket, reached through the portable API), with what this
// package's own tests add: a fail function they set directly, and two
// quirks of real stores, so the retry logic is tested against the real
// *blob.Bucket code path without an SDK's own retries in between.
type faulty struct {
	*faultblob.Bucket
	inner *blob.Bucket
	mu    sync.Mutex
	// fail decides per call: an error to return, and whether the call should
	// take effect anyway ("landed", e.g. a lost response).
	fail  func(op, key string) (err error, land bool)
	noMD5 bool // Attributes without MD5 (like file:// or S3 multipart)
	// ignoreIfNotExist makes every write unconditional, like an S3-compatible
	// store that ignores If-None-Match.
	ignoreIfNotExist bool
}

func newFaulty() *faulty {
	f := &faulty{Bucket: faultblob.New(nil)}
	f.inner = f.Inner()
	f.SetHook(func(op faultblob.Op, key string) (error, bool) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.fail == nil {
			return nil, false
		}
		return f.fail(string(op), key)
	})
	return f
}

// failTimes fails the first n calls of op transiently, optionally landing them.
func (f *faulty) failTimes(op string, n int, land bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = func(o, _ string) (error, bool) {
		if o == op && n > 0 {
			n--
			return faultblob.ErrInjected, land
		}
		return nil, false
	}
}

func (f *faulty) count(op string) int { return f.Calls(faultblob.Op(op)) }

func (f *faulty) Attributes(ctx context.Context, key string) (*driver.Attributes, error) {
	a, err := f.Bucket.Attributes(ctx, key)
	if err == nil && f.noMD5 {
		a.MD5 = nil
	}
	return a, err
}

func (f *faulty) NewTypedWriter(ctx context.Context, key, contentType string, opts *driver.WriterOptions) (driver.Writer, error) {
	if f.ignoreIfNotExist {
		o := *opts
		o.IfNotExist = false
		opts = &o
	}
	return f.Bucket.NewTypedWriter(ctx, key, contentType, opts)
}

var _ driver.Bucket = (*faulty)(nil)

// gocloudPrecondition returns gocloud's own FailedPrecondition error (an
// IfNotExist conflict), whose constructor is internal to gocloud.
func gocloudPrecondition(t *testing.T) error {
	t.Helper()
	ctx := context.Background()
	b := memblob.OpenBucket(nil)
	defer b.Close()
	wo := &blob.WriterOptions{ContentType: "text/plain", IfNotExist: true}
	if err := b.Upload(ctx, "k", bytes.NewReader(nil), wo); err != nil {
		t.Fatal(err)
	}
	err := b.Upload(ctx, "k", bytes.NewReader(nil), wo)
	if gcerrors.Code(err) != gcerrors.FailedPrecondition {
		t.Fatalf("want FailedPrecondition, got %v", err)
	}
	return err
}
