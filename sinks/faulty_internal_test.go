package sinks

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"

	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/blob/memblob"
	"gocloud.dev/gcerrors"
)

// faulty is a gocloud driver that keeps its objects in a memblob bucket
// (through the portable API) and fails calls on demand, so the retry logic
// is tested against the real *blob.Bucket code path without an SDK's own
// retries in between.
type faulty struct {
	inner *blob.Bucket
	mu    sync.Mutex
	// fail decides per call: an error to return, and whether the call should
	// take effect anyway ("landed", e.g. a lost response).
	fail  func(op, key string) (err error, land bool)
	calls map[string]int // op -> count
	noMD5 bool           // Attributes without MD5 (like file:// or S3 multipart)
	// ignoreIfNotExist makes every write unconditional, like an S3-compatible
	// store that ignores If-None-Match.
	ignoreIfNotExist bool
}

var errInjected = errors.New("injected: 503 service unavailable")

func newFaulty() *faulty {
	return &faulty{inner: memblob.OpenBucket(nil), calls: map[string]int{}}
}

// failTimes fails the first n calls of op transiently, optionally landing them.
func (f *faulty) failTimes(op string, n int, land bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = func(o, _ string) (error, bool) {
		if o == op && n > 0 {
			n--
			return errInjected, land
		}
		return nil, false
	}
}

func (f *faulty) hook(op, key string) (error, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	if f.fail == nil {
		return nil, false
	}
	return f.fail(op, key)
}

func (f *faulty) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (f *faulty) ErrorCode(err error) gcerrors.ErrorCode { return gcerrors.Code(err) }
func (f *faulty) As(any) bool                            { return false }
func (f *faulty) ErrorAs(error, any) bool                { return false }
func (f *faulty) Close() error                           { return f.inner.Close() }

func (f *faulty) SignedURL(context.Context, string, *driver.SignedURLOptions) (string, error) {
	return "", errors.New("unimplemented")
}

func (f *faulty) Attributes(ctx context.Context, key string) (*driver.Attributes, error) {
	err, land := f.hook("stat", key)
	if err != nil && !land {
		return nil, err
	}
	a, ierr := f.inner.Attributes(ctx, key)
	if ierr != nil {
		return nil, ierr
	}
	if err != nil {
		return nil, err
	}
	md5 := a.MD5
	if f.noMD5 {
		md5 = nil
	}
	return &driver.Attributes{Size: a.Size, MD5: md5, ETag: a.ETag, ModTime: a.ModTime, ContentType: a.ContentType}, nil
}

func (f *faulty) ListPaged(ctx context.Context, opts *driver.ListOptions) (*driver.ListPage, error) {
	if err, _ := f.hook("list", opts.Prefix); err != nil {
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

func (f *faulty) NewRangeReader(ctx context.Context, key string, offset, length int64, _ *driver.ReaderOptions) (driver.Reader, error) {
	if err, _ := f.hook("read", key); err != nil {
		return nil, err
	}
	r, err := f.inner.NewRangeReader(ctx, key, offset, length, nil)
	if err != nil {
		return nil, err
	}
	return &faultyReader{r: r}, nil
}

type faultyReader struct{ r *blob.Reader }

func (r *faultyReader) Read(p []byte) (int, error) { return r.r.Read(p) }
func (r *faultyReader) Close() error               { return r.r.Close() }
func (r *faultyReader) As(any) bool                { return false }
func (r *faultyReader) Attributes() *driver.ReaderAttributes {
	return &driver.ReaderAttributes{ContentType: r.r.ContentType(), ModTime: r.r.ModTime(), Size: r.r.Size()}
}

func (f *faulty) NewTypedWriter(ctx context.Context, key, contentType string, opts *driver.WriterOptions) (driver.Writer, error) {
	return &faultyWriter{f: f, ctx: ctx, key: key, ct: contentType, ifNotExist: opts.IfNotExist}, nil
}

type faultyWriter struct {
	f          *faulty
	ctx        context.Context
	key, ct    string
	ifNotExist bool
	buf        bytes.Buffer
}

func (w *faultyWriter) Write(p []byte) (int, error) { return w.buf.Write(p) }

func (w *faultyWriter) Close() error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	err, land := w.f.hook("put", w.key)
	if err != nil && !land {
		return err
	}
	if ierr := w.f.inner.Upload(w.ctx, w.key, bytes.NewReader(w.buf.Bytes()),
		&blob.WriterOptions{ContentType: w.ct, IfNotExist: w.ifNotExist && !w.f.ignoreIfNotExist}); ierr != nil {
		return ierr
	}
	return err
}

func (f *faulty) Copy(ctx context.Context, dst, src string, _ *driver.CopyOptions) error {
	err, land := f.hook("copy", src)
	if err != nil && !land {
		return err
	}
	if ierr := f.inner.Copy(ctx, dst, src, nil); ierr != nil {
		return ierr
	}
	return err
}

func (f *faulty) Delete(ctx context.Context, key string, _ *driver.DeleteOptions) error {
	err, land := f.hook("delete", key)
	if err != nil && !land {
		return err
	}
	if ierr := f.inner.Delete(ctx, key); ierr != nil {
		return ierr
	}
	return err
}

var _ driver.Bucket = (*faulty)(nil)
var _ io.Reader = (*faultyReader)(nil)

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
