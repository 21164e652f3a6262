package sinks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"gocloud.dev/blob"
)

// Object describes a stored object. Key is relative to the bucket's prefix.
type Object struct {
	Key     string
	Size    int64
	ETag    string // empty where the listing does not carry one cheaply
	MD5     []byte // nil where the service keeps none (file://, S3 multipart uploads, S3 SSE-KMS; every S3 listing)
	ModTime time.Time
}

// Bucket is a bucket (or a prefix of one) opened by Open. Keys passed to its
// methods are relative to the prefix. It is safe for concurrent use.
type Bucket struct {
	b           *blob.Bucket // already prefixed
	url         string       // redacted URL, no prefix
	prefix      string       // "" or "a/b/"
	scheme      string       // "s3", "gs", "azblob", "file", "mem"
	localDir    string       // file:// only: absolute directory of the URL (prefix not included)
	retryPolicy RetryPolicy
	closed      atomic.Bool
}

// String is the redacted bucket URL with the prefix put in its path, e.g.
// "s3://bucket/audit/?region=eu-west-1", for logs.
func (b *Bucket) String() string {
	if b.prefix == "" {
		return b.url
	}
	base, query, hasQuery := strings.Cut(b.url, "?")
	s := strings.TrimSuffix(base, "/") + "/" + b.prefix
	if hasQuery {
		s += "?" + query
	}
	return s
}

// Prefix returns the key prefix the bucket was opened with ("" or ending in "/").
func (b *Bucket) Prefix() string { return b.prefix }

// Scheme returns the URL scheme: s3, gs, azblob, file or mem.
func (b *Bucket) Scheme() string { return b.scheme }

// wrap makes a Bucket of an opened *blob.Bucket (already prefixed): what
// NewBucket returns once it has checked its arguments, and what internal
// tests use to put a fault-injecting driver under the real code.
func wrap(bb *blob.Bucket, redactedURL, scheme, prefix string, policy RetryPolicy) *Bucket {
	return &Bucket{b: bb, url: redactedURL, scheme: scheme, prefix: prefix, retryPolicy: policy.withDefaults()}
}

func (b *Bucket) fullKey(key string) string { return b.prefix + key }

// check refuses calls on a closed bucket and malformed keys, before any
// request is sent.
func (b *Bucket) check(op, key string) error {
	if b.closed.Load() {
		return b.classify(op, key, ErrClosed, false)
	}
	if err := validKey(key); err != nil {
		return b.classify(op, key, err, false)
	}
	return nil
}

// validKey accepts what every backend stores under the same name: non-empty
// valid UTF-8, "/"-separated segments that are neither empty, "." nor "..",
// no leading or trailing "/", no control characters. gocloud would escape
// some of these differently per driver; we refuse them instead.
func validKey(key string) error {
	switch {
	case key == "":
		return errorf(ErrInvalid, "empty key")
	case !utf8.ValidString(key):
		return errorf(ErrInvalid, "key %q is not valid UTF-8", key)
	case strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/"):
		return errorf(ErrInvalid, "key %q starts or ends with /", key)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return errorf(ErrInvalid, "key %q contains a control character", key)
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return errorf(ErrInvalid, "key %q has an empty, . or .. segment", key)
		}
	}
	return nil
}

// List calls fn for every object whose key (relative to the bucket prefix)
// starts with prefix, recursively, in key order. prefix is a plain string
// prefix, as in gocloud: "a/b" matches "a/bc/x" too; pass "a/b/" for the
// "directory". Each page is fetched with retries; fn is called once per
// object and an error from fn stops the listing and is returned as is.
func (b *Bucket) List(ctx context.Context, prefix string, fn func(Object) error) error {
	const op = "list"
	if b.closed.Load() {
		return b.classify(op, prefix, ErrClosed, false)
	}
	if !utf8.ValidString(prefix) {
		return b.classify(op, prefix, errorf(ErrInvalid, "prefix %q is not valid UTF-8", prefix), false)
	}
	if b.scheme == "file" {
		return b.listLocal(ctx, prefix, fn)
	}
	opts := &blob.ListOptions{Prefix: prefix}
	token := blob.FirstPageToken
	for len(token) > 0 {
		type page struct {
			objs []*blob.ListObject
			next []byte
		}
		p, err := retry(ctx, b, op, prefix, false, func() (page, error) {
			objs, next, err := b.b.ListPage(ctx, token, listPageSize, opts)
			return page{objs, next}, err
		})
		if err != nil {
			return err
		}
		for _, o := range p.objs {
			if o.IsDir {
				continue
			}
			if err := fn(b.listObject(o)); err != nil {
				return err
			}
		}
		token = p.next
	}
	return nil
}

const listPageSize = 1000

func (b *Bucket) listObject(o *blob.ListObject) Object {
	obj := Object{Key: o.Key, Size: o.Size, MD5: o.MD5, ModTime: o.ModTime, ETag: listETag(o)}
	if b.scheme == "s3" {
		obj.MD5 = nil // an S3 listing cannot tell an MD5 ETag from an SSE-KMS one (s3.go)
	}
	return obj
}

// Attributes returns the stored object's size, ETag, MD5 (where the service
// keeps one) and modification time.
func (b *Bucket) Attributes(ctx context.Context, key string) (Object, error) {
	const op = "stat"
	if err := b.check(op, key); err != nil {
		return Object{}, err
	}
	a, err := retry(ctx, b, op, key, false, func() (*blob.Attributes, error) {
		return b.b.Attributes(ctx, key)
	})
	if err != nil {
		return Object{}, err
	}
	return Object{Key: key, Size: a.Size, ETag: normETag(a.ETag), MD5: b.storedMD5(a), ModTime: a.ModTime}, nil
}

// Exists reports whether key is stored.
func (b *Bucket) Exists(ctx context.Context, key string) (bool, error) {
	const op = "stat"
	if err := b.check(op, key); err != nil {
		return false, err
	}
	return retry(ctx, b, op, key, false, func() (bool, error) {
		return b.b.Exists(ctx, key)
	})
}

// NewReader opens key for reading. Opening is retried; a failure while
// reading is returned, classified, from Read and is not retried.
func (b *Bucket) NewReader(ctx context.Context, key string) (io.ReadCloser, error) {
	const op = "read"
	if err := b.check(op, key); err != nil {
		return nil, err
	}
	r, err := retry(ctx, b, op, key, false, func() (*blob.Reader, error) {
		return b.b.NewReader(ctx, key, nil)
	})
	if err != nil {
		return nil, err
	}
	return &reader{r: r, b: b, key: key}, nil
}

type reader struct {
	r   *blob.Reader
	b   *Bucket
	key string
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = r.b.classify("read", r.key, err, false)
	}
	return n, err
}

func (r *reader) Close() error {
	return r.b.classify("read", r.key, r.r.Close(), false)
}

// ReadAll reads the whole object, retrying the whole read on a transient
// error.
func (b *Bucket) ReadAll(ctx context.Context, key string) ([]byte, error) {
	const op = "read"
	if err := b.check(op, key); err != nil {
		return nil, err
	}
	return retry(ctx, b, op, key, false, func() ([]byte, error) {
		return b.b.ReadAll(ctx, key)
	})
}

// ReadRange reads length bytes of key from offset, retrying the whole read
// on a transient error; a negative length reads to the end. It returns
// fewer bytes only when the object ends first. Readers of a file's tail
// (a Parquet footer) use it instead of downloading the object.
func (b *Bucket) ReadRange(ctx context.Context, key string, offset, length int64) ([]byte, error) {
	const op = "read"
	if err := b.check(op, key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, b.classify(op, key, errorf(ErrInvalid, "read range: negative offset %d", offset), false)
	}
	return retry(ctx, b, op, key, false, func() ([]byte, error) {
		r, err := b.b.NewRangeReader(ctx, key, offset, length, nil)
		if err != nil {
			return nil, err
		}
		defer r.Close()
		return io.ReadAll(r)
	})
}

// Copy copies srcKey to dstKey inside the bucket, replacing dstKey.
func (b *Bucket) Copy(ctx context.Context, dstKey, srcKey string) error {
	const op = "copy"
	if err := b.check(op, srcKey); err != nil {
		return err
	}
	if err := b.check(op, dstKey); err != nil {
		return err
	}
	_, err := retry(ctx, b, op, srcKey+" to "+b.fullKey(dstKey), false, func() (struct{}, error) {
		if b.scheme == "file" {
			return struct{}{}, b.copyLocal(ctx, dstKey, srcKey)
		}
		return struct{}{}, b.b.Copy(ctx, dstKey, srcKey, nil)
	})
	return err
}

// Delete removes key; ErrNotFound when it is absent. A retry that finds the
// key gone after a transient failure of an earlier attempt counts as success:
// that attempt deleted it.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	const op = "delete"
	if err := b.check(op, key); err != nil {
		return err
	}
	attempt := 0
	_, err := retry(ctx, b, op, key, false, func() (struct{}, error) {
		attempt++
		err := b.b.Delete(ctx, key)
		if err != nil && attempt > 1 && errors.Is(b.classify(op, key, err, false), ErrNotFound) {
			return struct{}{}, nil
		}
		return struct{}{}, err
	})
	return err
}

// Check makes one cheap authenticated call (a one-object listing under the
// prefix) so a wrong credential, endpoint or bucket name fails at start-up
// with a classified error naming the bucket.
func (b *Bucket) Check(ctx context.Context) error {
	const op = "list"
	if b.closed.Load() {
		return b.classify(op, "", ErrClosed, false)
	}
	_, err := retry(ctx, b, op, "", false, func() (struct{}, error) {
		_, _, err := b.b.ListPage(ctx, blob.FirstPageToken, 1, nil)
		return struct{}{}, err
	})
	if errors.Is(err, ErrNotFound) {
		// Listing a prefix never finds nothing: NotFound means the bucket
		// (or container) itself is missing.
		return fmt.Errorf("the bucket does not exist or is not visible to these credentials: %w", err)
	}
	return err
}

// Close releases the bucket's clients. Later calls fail with ErrClosed.
func (b *Bucket) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	return b.classify("close", "", b.b.Close(), false)
}

// sortObjects orders a listing by key (byte order, as the services do).
func sortObjects(objs []Object) {
	slices.SortFunc(objs, func(a, c Object) int { return strings.Compare(a.Key, c.Key) })
}
