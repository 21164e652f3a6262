package sinks

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob"
)

var tinyRetry = RetryPolicy{MaxTries: 4, InitialInterval: time.Millisecond, MaxInterval: 4 * time.Millisecond}

func faultyBucket(t *testing.T, p RetryPolicy) (*Bucket, *faulty) {
	t.Helper()
	f := newFaulty()
	b := wrap(blob.NewBucket(f), "mem://faulty", "mem", "", p)
	t.Cleanup(func() { _ = b.Close() })
	return b, f
}

func TestRetryEachIdempotentCall(t *testing.T) {
	ctx := context.Background()
	var waits []time.Duration
	p := tinyRetry
	p.OnRetry = func(op, key string, err error, wait time.Duration) {
		waits = append(waits, wait)
		if !strings.Contains(err.Error(), "injected") || IsPermanent(err) {
			t.Errorf("OnRetry(%s %s) got %v", op, key, err)
		}
	}
	b, f := faultyBucket(t, p)
	calls := []struct {
		op string
		fn func() error
	}{
		{"put", func() error { _, err := b.PutBytes(ctx, "k", []byte("data"), PutOptions{}); return err }},
		{"read", func() error { _, err := b.ReadAll(ctx, "k"); return err }},
		{"read", func() error {
			r, err := b.NewReader(ctx, "k")
			if err == nil {
				r.Close()
			}
			return err
		}},
		{"stat", func() error { _, err := b.Attributes(ctx, "k"); return err }},
		{"stat", func() error { _, err := b.Exists(ctx, "k"); return err }},
		{"list", func() error { return b.List(ctx, "", func(Object) error { return nil }) }},
		{"copy", func() error { return b.Copy(ctx, "k2", "k") }},
		{"delete", func() error { return b.Delete(ctx, "k2") }},
	}
	for _, c := range calls {
		before := f.count(c.op)
		f.failTimes(c.op, 2, false)
		if err := c.fn(); err != nil {
			t.Errorf("%s after two transient failures: %v", c.op, err)
		}
		if n := f.count(c.op) - before; n < 3 {
			t.Errorf("%s: %d driver calls, want at least 3", c.op, n)
		}
	}
	if len(waits) != 2*len(calls) {
		t.Errorf("OnRetry calls = %d, want %d", len(waits), 2*len(calls))
	}
	for _, w := range waits {
		if w <= 0 || w > 6*time.Millisecond {
			t.Errorf("wait %v outside (0, MaxInterval*1.5]", w)
		}
	}
}

func TestRetryGivesUp(t *testing.T) {
	b, f := faultyBucket(t, RetryPolicy{MaxTries: 3, InitialInterval: time.Millisecond})
	f.failTimes("read", 100, false)
	_, err := b.ReadAll(context.Background(), "k")
	if err == nil || IsPermanent(err) {
		t.Fatalf("ReadAll against a dead backend: %v, want a transient error", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "read k in mem://faulty: ") || !strings.Contains(msg, "injected") {
		t.Errorf("message = %q", msg)
	}
	if n := f.count("read"); n != 3 {
		t.Errorf("driver calls = %d, want MaxTries = 3", n)
	}
}

func TestRetryOffWithOneTry(t *testing.T) {
	b, f := faultyBucket(t, RetryPolicy{MaxTries: 1})
	f.failTimes("stat", 1, false)
	if _, err := b.Attributes(context.Background(), "k"); err == nil {
		t.Fatal("want the injected error")
	}
	if n := f.count("stat"); n != 1 {
		t.Errorf("driver calls = %d, want 1", n)
	}
}

func TestRetryNotPermanent(t *testing.T) {
	b, f := faultyBucket(t, tinyRetry)
	if _, err := b.ReadAll(context.Background(), "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
	if n := f.count("read"); n != 1 {
		t.Errorf("driver calls for a missing key = %d, want 1", n)
	}
}

func TestRetryStopsWhenContextEnds(t *testing.T) {
	b, f := faultyBucket(t, RetryPolicy{MaxTries: 1000, InitialInterval: 20 * time.Millisecond, MaxInterval: 20 * time.Millisecond})
	f.failTimes("read", 1_000_000, false)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := b.ReadAll(ctx, "k")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("ReadAll took %v after the deadline", d)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "read k in mem://faulty") {
		t.Errorf("err = %v, want DeadlineExceeded naming the read", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := b.ReadAll(ctx, "k"); !errors.Is(err, context.Canceled) || !IsPermanent(err) {
		t.Errorf("canceled: %v, want a permanent context.Canceled", err)
	}
}

func TestIfNotExistLandedAfterTransient(t *testing.T) {
	for _, noMD5 := range []bool{false, true} {
		b, f := faultyBucket(t, tinyRetry)
		f.noMD5 = noMD5
		ctx := context.Background()
		f.failTimes("put", 1, true) // stored, but the caller saw 503
		w, err := b.PutBytes(ctx, "log/7.json", []byte(`{"n":7}`), PutOptions{IfNotExist: true})
		if err != nil || !w.Existed || w.Size != 7 {
			t.Fatalf("noMD5=%v: PutBytes = %+v, %v; want success with Existed", noMD5, w, err)
		}
		if n := f.count("put"); n != 2 {
			t.Errorf("noMD5=%v: put calls = %d, want 2", noMD5, n)
		}
		// Without a stored MD5 the object is read back and hashed.
		if n, want := f.count("read"), map[bool]int{false: 0, true: 1}[noMD5]; n != want {
			t.Errorf("noMD5=%v: reads = %d, want %d", noMD5, n, want)
		}
	}
}

func TestIfNotExistRetryMeetsAnotherObject(t *testing.T) {
	b, f := faultyBucket(t, tinyRetry)
	ctx := context.Background()
	if _, err := b.PutBytes(ctx, "k", []byte("theirs"), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	f.failTimes("put", 1, false)
	for _, mine := range []string{"mine!!", "longer than theirs"} {
		f.failTimes("put", 1, false)
		_, err := b.PutBytes(ctx, "k", []byte(mine), PutOptions{IfNotExist: true})
		if !errors.Is(err, ErrExists) {
			t.Errorf("retry meeting %q: %v, want ErrExists", "theirs", err)
		}
	}
	if got, _ := b.ReadAll(ctx, "k"); string(got) != "theirs" {
		t.Errorf("stored %q, want theirs", got)
	}
	// A conflict with identical bytes, even on the first attempt (an SDK may
	// have retried inside it after a lost response), is our object: success.
	w, err := b.PutBytes(ctx, "k", []byte("theirs"), PutOptions{IfNotExist: true})
	if err != nil || !w.Existed {
		t.Errorf("first-attempt conflict with identical bytes: %+v, %v; want success with Existed", w, err)
	}
}

func TestDeleteLandedAfterTransient(t *testing.T) {
	b, f := faultyBucket(t, tinyRetry)
	ctx := context.Background()
	if _, err := b.PutBytes(ctx, "k", []byte("x"), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	f.failTimes("delete", 1, true)
	if err := b.Delete(ctx, "k"); err != nil {
		t.Errorf("Delete whose first attempt landed: %v", err)
	}
	if err := b.Delete(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete of a missing key: %v, want ErrNotFound", err)
	}
}

func TestPutSourceChanged(t *testing.T) {
	b, f := faultyBucket(t, tinyRetry)
	ctx := context.Background()
	sums, _ := hashAll(strings.NewReader("what was hashed"))
	for _, now := range []string{"what was HASHED", "what was hashed, then more", "short"} {
		_, err := b.put(ctx, "k", PutOptions{}, sums, func() (io.Reader, error) { return strings.NewReader(now), nil })
		if !errors.Is(err, ErrIntegrity) || !IsPermanent(err) || !strings.Contains(err.Error(), "source changed") {
			t.Errorf("source now %q: %v, want a permanent ErrIntegrity", now, err)
		}
	}
	if ok, _ := b.Exists(ctx, "k"); ok {
		t.Error("a put whose source changed stored an object")
	}
	if n := f.count("put"); n != 0 {
		t.Errorf("driver puts = %d, want 0 (the writer is aborted before it commits)", n)
	}
}
