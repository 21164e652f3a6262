package faultblob

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"

	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/blob/memblob"
	"gocloud.dev/gcerrors"
)

// Op is the kind of driver call a fault applies to.
type Op string

// The calls a fault can fail, and the key each is matched by.
const (
	Stat   Op = "stat"   // Attributes (sinks' Attributes, Exists); the key
	List   Op = "list"   // one page of a listing; the listing's prefix
	Read   Op = "read"   // opening a reader (sinks' NewReader, ReadAll); the key
	Put    Op = "put"    // an upload, decided when it completes; the key
	Copy   Op = "copy"   // a copy; the destination key
	Delete Op = "delete" // the key
)

// ErrInjected is a fault's error unless it names its own. It carries no
// gcerrors code, so sinks classifies it as transient and retries it.
var ErrInjected = errors.New("injected: 503 service unavailable")

// Fault fails calls of one kind on keys under a prefix.
type Fault struct {
	Op     Op
	Prefix string // keys that start with it; "" matches every key
	// Skip lets this many matching calls through before the fault fires: a
	// Skip of 2 fails the third.
	Skip int
	// Times is how many matching calls fail once the fault fires: 0 means
	// one, a negative number every one after Skip (outlasting any retries).
	Times int
	// Land makes the call take effect before it fails, as when the service
	// did the work and the response was lost. It applies to Put, Copy and
	// Delete; a failed Stat, List or Read never has an effect.
	Land bool
	// Err is the error returned; nil means ErrInjected.
	Err error
}

type fault struct {
	Fault
	seen, fired int
}

// Hook decides a call before the faults do: a non-nil err fails the call,
// land says whether it takes effect anyway (as Fault.Land).
type Hook func(op Op, key string) (err error, land bool)

// Bucket is the driver. Make one with New and open it with blob.NewBucket.
// Its methods are safe for concurrent use.
type Bucket struct {
	inner    *blob.Bucket
	mu       sync.Mutex
	hook     Hook
	faults   []*fault
	calls    map[Op]int
	injected int
}

var _ driver.Bucket = (*Bucket)(nil)

// New returns a driver over inner, where every object is kept; nil means a
// new, empty mem:// bucket. Closing the driver closes inner.
func New(inner *blob.Bucket) *Bucket {
	if inner == nil {
		inner = memblob.OpenBucket(nil)
	}
	return &Bucket{inner: inner, calls: map[Op]int{}}
}

// Inner is the bucket that holds the objects, to read or change them past
// the faults.
func (f *Bucket) Inner() *blob.Bucket { return f.inner }

// Inject adds a fault. Each call is matched against the faults in the
// order they were added, and the first that fires decides it; every
// matching fault counts the call towards its Skip.
func (f *Bucket) Inject(flt Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, &fault{Fault: flt})
}

// Clear removes every fault (not the hook): later calls succeed.
func (f *Bucket) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = nil
}

// SetHook sets a function that decides each call before the faults do;
// nil removes it.
func (f *Bucket) SetHook(h Hook) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hook = h
}

// Calls is how many calls of op the driver has had, failed ones included.
func (f *Bucket) Calls(op Op) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// Injected is how many calls the faults and the hook have failed.
func (f *Bucket) Injected() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.injected
}

// decide counts a call and returns the error it fails with, if any, and
// whether it takes effect anyway.
func (f *Bucket) decide(op Op, key string) (error, bool) {
	f.mu.Lock()
	f.calls[op]++
	hook := f.hook
	f.mu.Unlock()
	// The hook runs unlocked: it may hold locks of its own.
	if hook != nil {
		if err, land := hook(op, key); err != nil {
			f.mu.Lock()
			f.injected++
			f.mu.Unlock()
			return err, land
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var hit *fault
	for _, flt := range f.faults {
		if flt.Op != op || !strings.HasPrefix(key, flt.Prefix) {
			continue
		}
		flt.seen++
		if hit == nil && flt.seen > flt.Skip && (flt.Times < 0 || flt.fired < max(flt.Times, 1)) {
			hit = flt
		}
	}
	if hit == nil {
		return nil, false
	}
	hit.fired++
	f.injected++
	if hit.Err != nil {
		return hit.Err, hit.Land
	}
	return ErrInjected, hit.Land
}

// ErrorCode is the code gocloud gives the inner bucket's errors; an
// injected error without a code of its own is Unknown.
func (f *Bucket) ErrorCode(err error) gcerrors.ErrorCode { return gcerrors.Code(err) }
func (f *Bucket) As(any) bool                            { return false }
func (f *Bucket) ErrorAs(error, any) bool                { return false }
func (f *Bucket) Close() error                           { return f.inner.Close() }

func (f *Bucket) SignedURL(context.Context, string, *driver.SignedURLOptions) (string, error) {
	return "", errors.New("faultblob: SignedURL is not implemented")
}

func (f *Bucket) Attributes(ctx context.Context, key string) (*driver.Attributes, error) {
	if err, _ := f.decide(Stat, key); err != nil {
		return nil, err
	}
	a, err := f.inner.Attributes(ctx, key)
	if err != nil {
		return nil, err
	}
	return &driver.Attributes{Size: a.Size, MD5: a.MD5, ETag: a.ETag, ModTime: a.ModTime, ContentType: a.ContentType}, nil
}

func (f *Bucket) ListPaged(ctx context.Context, opts *driver.ListOptions) (*driver.ListPage, error) {
	if err, _ := f.decide(List, opts.Prefix); err != nil {
		return nil, err
	}
	token := opts.PageToken
	if token == nil {
		token = blob.FirstPageToken
	}
	objs, next, err := f.inner.ListPage(ctx, token, max(opts.PageSize, 1), &blob.ListOptions{Prefix: opts.Prefix, Delimiter: opts.Delimiter})
	if err != nil {
		return nil, err
	}
	page := &driver.ListPage{NextPageToken: next}
	for _, o := range objs {
		page.Objects = append(page.Objects, &driver.ListObject{Key: o.Key, Size: o.Size, MD5: o.MD5, ModTime: o.ModTime, IsDir: o.IsDir})
	}
	return page, nil
}

func (f *Bucket) NewRangeReader(ctx context.Context, key string, offset, length int64, _ *driver.ReaderOptions) (driver.Reader, error) {
	if err, _ := f.decide(Read, key); err != nil {
		return nil, err
	}
	r, err := f.inner.NewRangeReader(ctx, key, offset, length, nil)
	if err != nil {
		return nil, err
	}
	return &reader{r: r}, nil
}

type reader struct{ r *blob.Reader }

func (r *reader) Read(p []byte) (int, error) { return r.r.Read(p) }
func (r *reader) Close() error               { return r.r.Close() }
func (r *reader) As(any) bool                { return false }
func (r *reader) Attributes() *driver.ReaderAttributes {
	return &driver.ReaderAttributes{ContentType: r.r.ContentType(), ModTime: r.r.ModTime(), Size: r.r.Size()}
}

// NewTypedWriter buffers the upload; the fault is decided, and the object
// stored (create-if-absent as asked), when the writer is closed.
func (f *Bucket) NewTypedWriter(ctx context.Context, key, contentType string, opts *driver.WriterOptions) (driver.Writer, error) {
	return &writer{f: f, ctx: ctx, key: key, ct: contentType, ifNotExist: opts.IfNotExist}, nil
}

type writer struct {
	f          *Bucket
	ctx        context.Context
	key, ct    string
	ifNotExist bool
	buf        bytes.Buffer
}

func (w *writer) Write(p []byte) (int, error) { return w.buf.Write(p) }

func (w *writer) Close() error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	err, land := w.f.decide(Put, w.key)
	if err != nil && !land {
		return err
	}
	if ierr := w.f.inner.Upload(w.ctx, w.key, bytes.NewReader(w.buf.Bytes()),
		&blob.WriterOptions{ContentType: w.ct, IfNotExist: w.ifNotExist}); ierr != nil {
		return ierr
	}
	return err
}

func (f *Bucket) Copy(ctx context.Context, dst, src string, _ *driver.CopyOptions) error {
	err, land := f.decide(Copy, dst)
	if err != nil && !land {
		return err
	}
	if ierr := f.inner.Copy(ctx, dst, src, nil); ierr != nil {
		return ierr
	}
	return err
}

func (f *Bucket) Delete(ctx context.Context, key string, _ *driver.DeleteOptions) error {
	err, land := f.decide(Delete, key)
	if err != nil && !land {
		return err
	}
	if ierr := f.inner.Delete(ctx, key); ierr != nil {
		return ierr
	}
	return err
}
