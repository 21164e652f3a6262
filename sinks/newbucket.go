package sinks

import (
	"net/url"
	"slices"
	"strings"

	"gocloud.dev/blob"
)

// NewBucket makes a Bucket of a *blob.Bucket the caller has opened, most
// often over a driver of its own (sinktest.OpenFaulty puts a
// fault-injecting one under it), so that the caller's driver runs under
// this package's key checks, retries, create-if-absent handling and error
// classes exactly as a bucket from Open would.
//
// rawURL stands for the bucket: its scheme (s3, gs, azblob or mem) selects
// the per-cloud behaviour, and its redacted form names the bucket in String
// and in errors, e.g. "mem://faulty". file:// is refused: a local
// directory needs Open. Of opts, Prefix and Retry apply as in Open; the
// others act while opening and are refused. The Bucket owns bb: its Close
// closes bb (after an error, bb is still the caller's to close).
func NewBucket(bb *blob.Bucket, rawURL string, opts OpenOptions) (*Bucket, error) {
	b := &Bucket{url: Redact(rawURL), retryPolicy: opts.Retry.withDefaults()}
	fail := func(err error) (*Bucket, error) {
		return nil, b.classify("open", "", err, false)
	}
	if bb == nil {
		return fail(errorf(ErrInvalid, "no *blob.Bucket to wrap"))
	}
	if opts.CreateDir || opts.S3Encryption != (S3Encryption{}) {
		return fail(errorf(ErrInvalid, "CreateDir and S3Encryption apply while opening a URL: use Open"))
	}
	if err := CheckURL(rawURL); err != nil {
		return fail(err)
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" {
		return fail(errorf(ErrInvalid, "NewBucket needs a URL with a scheme, such as mem://faulty"))
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme == "file" || !slices.Contains(schemes, scheme) {
		return fail(errorf(ErrInvalid, "NewBucket does not take scheme %q: use s3, gs, azblob or mem (Open a local directory)", u.Scheme))
	}
	prefix, err := normPrefix(opts.Prefix)
	if err != nil {
		return fail(err)
	}
	if prefix != "" {
		bb = blob.PrefixedBucket(bb, prefix)
	}
	return wrap(bb, b.url, scheme, prefix, opts.Retry), nil
}
