package sinks

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/agnivade/levenshtein"
	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/memblob"
)

// OpenOptions configures Open.
type OpenOptions struct {
	// Prefix is a key prefix ("" or "a/b", no leading slash; a trailing slash
	// is added). Every key the Bucket takes or returns is relative to it.
	Prefix string
	// CreateDir creates a local directory (plain path or file:// URL) that
	// does not exist yet.
	CreateDir bool
	// Retry bounds retries of transient failures; the zero value means the
	// defaults (5 tries, 500ms doubling to at most 10s, with jitter).
	Retry RetryPolicy
	// S3Encryption is the server-side encryption of every object written to
	// an s3:// bucket (see s3.go); the zero value leaves it to the bucket's
	// default. Set for any other scheme, Open fails with ErrInvalid.
	S3Encryption S3Encryption
}

// schemes lists the URL schemes Open accepts, in the order messages name them.
var schemes = []string{"s3", "gs", "azblob", "file", "mem"}

// newURLMux builds the mux Open dispatches on. It is built per call and owns
// its openers: nothing depends on the drivers registering themselves on
// gocloud's default mux, and openers that keep state between calls
// (s3blob's writes its SSE options into itself) never leak it from one
// bucket to the next.
func newURLMux(opts OpenOptions) *blob.URLMux {
	mux := new(blob.URLMux)
	mux.RegisterBucket("s3", s3Opener{})
	mux.RegisterBucket("gs", gcsOpener{})
	mux.RegisterBucket("azblob", azureOpener{})
	mux.RegisterBucket("file", &fileblob.URLOpener{Options: fileblob.Options{
		CreateDir: opts.CreateDir,
		NoTempDir: true,                       // temp files next to the target: rename never crosses devices
		Metadata:  fileblob.MetadataDontWrite, // no .attrs sidecars next to the data
	}})
	mux.RegisterBucket("mem", new(memblob.URLOpener))
	return mux
}

var schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.\-]*://`)

// Open opens a bucket URL under an optional key prefix. See the package
// documentation for the URL forms. Open sends no request to the storage
// service (credential discovery may ask the local metadata endpoint); call
// Check to fail fast on a wrong credential, endpoint or bucket name.
func Open(ctx context.Context, rawURL string, opts OpenOptions) (*Bucket, error) {
	b := &Bucket{url: Redact(rawURL), retryPolicy: opts.Retry.withDefaults()}
	fail := func(err error) (*Bucket, error) {
		return nil, b.classify("open", "", err, false)
	}
	if strings.TrimSpace(rawURL) == "" {
		b.url = `""`
		return fail(errorf(ErrInvalid, "empty bucket URL: use s3://, gs://, azblob://, file://, mem:// or a local path"))
	}
	prefix, err := normPrefix(opts.Prefix)
	if err != nil {
		return fail(err)
	}
	var u *url.URL
	if !schemeRE.MatchString(rawURL) {
		u, err = localPathURL(rawURL)
	} else if err = CheckBucketURL(rawURL); err == nil {
		u, err = url.Parse(rawURL)
	}
	if err != nil {
		return fail(err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	b.scheme = u.Scheme
	mux := newURLMux(opts)
	if !mux.ValidBucketScheme(u.Scheme) {
		return fail(errorf(ErrInvalid, "unsupported scheme %q: use %s, or a local path", u.Scheme, schemeList()))
	}
	// gocloud's own prefix= parameter is folded into ours (URL part first) so
	// String, errors and Object keys all agree; key= would turn the bucket
	// into a single object and is refused.
	q := u.Query()
	if q.Has("key") {
		return fail(errorf(ErrInvalid, "the key= URL parameter is not supported; open the bucket and name the key"))
	}
	if q.Has("prefix") {
		up, err := normPrefix(q.Get("prefix"))
		if err != nil {
			return fail(err)
		}
		prefix = up + prefix
		u.RawQuery = dropParam(u.RawQuery, "prefix")
		b.url = Redact(u.String())
	}
	b.prefix = prefix
	if u.Scheme == "file" {
		if b.localDir, err = fileDir(u); err != nil {
			return fail(err)
		}
		if q.Has("metadata") && q.Get("metadata") != "skip" {
			return fail(errorf(ErrInvalid, "file:// buckets never write .attrs sidecar files; drop the metadata= parameter"))
		}
		u = &url.URL{Scheme: "file", Path: filepath.ToSlash(b.localDir), RawQuery: u.RawQuery}
		b.url = Redact(u.String())
	}
	if u.Scheme == "azblob" {
		if err := checkAzureURL(u); err != nil {
			return fail(err)
		}
	}
	if err := applyS3Encryption(u, opts.S3Encryption); err != nil {
		return fail(err)
	}
	bb, err := mux.OpenBucketURL(ctx, u)
	if err != nil {
		return fail(err)
	}
	if prefix != "" {
		bb = blob.PrefixedBucket(bb, prefix)
	}
	b.b = bb
	return b, nil
}

// urlParams lists, per scheme, the query parameters Open accepts: the
// driver's own (gocloud v0.47's s3blob, gcsblob, azureblob, fileblob and
// memblob) and prefix=, which Open folds into the key prefix.
var urlParams = map[string][]string{
	"s3": {"region", "endpoint", "use_path_style", "s3ForcePathStyle", "disable_https", "profile", "hostname_immutable",
		"dualstack", "fips", "accelerate", "anonymous", "role", "rate_limiter_capacity", "request_checksum_calculation",
		"response_checksum_validation", "ssetype", "kmskeyid", "awssdk"},
	"gs":     {"anonymous", "universe_domain", "grpc", "zonal", "access_id", "private_key_path"},
	"azblob": {"storage_account", "domain", "protocol", "cdn", "localemu"},
	"file":   {"create_dir", "dir_file_mode", "no_tmp_dir", "metadata", "base_url", "secret_key_path"},
	"mem":    {"nomd5"},
}

// URLParams lists the query parameters a bucket URL of scheme accepts.
func URLParams(scheme string) []string {
	return append(slices.Clone(urlParams[strings.ToLower(scheme)]), "prefix")
}

// ParamError is a query parameter that the URL's scheme does not accept
// (URLParams lists those it does). It matches ErrInvalid.
type ParamError struct {
	Scheme string
	Param  string
	// Closest is the accepted parameter nearest to Param by edit
	// distance (a typo's likely meaning), or "" when none is near.
	Closest string
}

func newParamError(scheme, param string) *ParamError {
	e := &ParamError{Scheme: scheme, Param: param}
	best := len(param)/3 + 1 // at most one edit per three letters
	for _, p := range URLParams(scheme) {
		if d := levenshtein.ComputeDistance(strings.ToLower(param), strings.ToLower(p)); d <= best {
			e.Closest, best = p, d-1
		}
	}
	return e
}

func (e *ParamError) Error() string {
	if e.Closest != "" {
		return fmt.Sprintf("%s:// URLs take no %s= parameter; did you mean %s=?", e.Scheme, e.Param, e.Closest)
	}
	return fmt.Sprintf("%s:// URLs take no %s= parameter (they take %s=)", e.Scheme, e.Param, strings.Join(URLParams(e.Scheme), "=, "))
}

func (e *ParamError) Is(target error) bool { return target == ErrInvalid }

// CheckBucketURL reports why rawURL is not a bucket URL Open accepts,
// without opening anything: CheckURL's checks, then its scheme is not one
// Open knows, a query parameter the scheme does not take (a *ParamError),
// or an s3:// parameter with a bad value. A plain path is not checked. The
// error matches ErrInvalid, and holds nothing of the URL but its scheme, a
// parameter name and value, and a port number.
func CheckBucketURL(rawURL string) error {
	if err := CheckURL(rawURL); err != nil || !schemeRE.MatchString(rawURL) {
		return err
	}
	u, _ := url.Parse(rawURL)
	scheme := strings.ToLower(u.Scheme)
	if _, ok := urlParams[scheme]; !ok {
		return urlErrorf("unsupported scheme %q: use %s, or a local path", u.Scheme, schemeList())
	}
	q, _ := url.ParseQuery(u.RawQuery)
	for name := range q {
		if name != "prefix" && name != "key" && !slices.Contains(urlParams[scheme], name) {
			return newParamError(scheme, name)
		}
	}
	if scheme == "s3" {
		q.Del("prefix")
		q.Del("key")
		if _, err := s3Params(q); err != nil {
			return urlError(err.Error())
		}
	}
	return nil
}

// CheckURL reports why rawURL is not a well-formed URL, without opening
// anything: it does not parse, its port is not 1-65535, its query has a bad
// %-escape or a ; (gocloud would drop the pair silently), or a URL in one of
// its parameters (an S3 endpoint=) does not parse or has such a port. A
// plain path is not checked. The error matches ErrInvalid and its message
// holds nothing of the URL but a parameter name and a port number: Go's own
// url errors quote the whole URL, user info included.
func CheckURL(rawURL string) error {
	if !schemeRE.MatchString(rawURL) {
		return nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return urlErrorf("malformed URL: %s", parseProblem(err))
	}
	if err := checkPort(u); err != nil {
		return err
	}
	if _, err := url.ParseQuery(u.RawQuery); err != nil {
		return urlErrorf("malformed query: %s", parseProblem(err))
	}
	for p := range strings.SplitSeq(u.RawQuery, "&") {
		name, val, _ := strings.Cut(p, "=")
		name, _ = url.QueryUnescape(name)
		val, _ = url.QueryUnescape(val)
		if !strings.Contains(val, "://") {
			continue
		}
		pu, err := url.Parse(val)
		if err != nil {
			return urlErrorf("malformed %s= parameter: %s", name, parseProblem(err))
		}
		if err := checkPort(pu); err != nil {
			return urlErrorf("%s= parameter: %s", name, err)
		}
	}
	return nil
}

// urlError is what CheckURL finds wrong; it matches ErrInvalid, and its
// message is the problem alone, to follow the name of a setting.
type urlError string

func urlErrorf(format string, args ...any) error { return urlError(fmt.Sprintf(format, args...)) }

func (e urlError) Error() string        { return string(e) }
func (e urlError) Is(target error) bool { return target == ErrInvalid }

// parseProblem is what url.Parse or url.ParseQuery found wrong, without
// the URL they quote. An "invalid port" quotes what follows the host's
// colon, which is part of the password when the password holds a /.
func parseProblem(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := strings.TrimPrefix(err.Error(), "net/url: ")
	if strings.HasPrefix(msg, "invalid port") {
		return "invalid port"
	}
	return msg
}

func checkPort(u *url.URL) error {
	p := u.Port()
	if p == "" {
		return nil
	}
	if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
		return urlErrorf("port %s is not 1-65535", p)
	}
	return nil
}

func schemeList() string {
	s := make([]string, len(schemes))
	for i, sc := range schemes {
		s[i] = sc + "://"
	}
	return strings.Join(s, ", ")
}

// dropParam removes name from a raw query, keeping the other pairs as spelled.
func dropParam(raw, name string) string {
	var kept []string
	for p := range strings.SplitSeq(raw, "&") {
		k, _, _ := strings.Cut(p, "=")
		if uk, err := url.QueryUnescape(k); p == "" || (err == nil && uk == name) {
			continue
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, "&")
}

// normPrefix validates a prefix and adds the trailing slash.
func normPrefix(p string) (string, error) {
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return "", nil
	}
	if err := validKey(p); err != nil {
		return "", errorf(ErrInvalid, "prefix %q: use \"\" or a/b (no leading slash, no empty, . or .. segments)", p)
	}
	return p + "/", nil
}

// localPathURL turns a plain path (absolute or relative) into a file:// URL.
func localPathURL(p string) (*url.URL, error) {
	if strings.ContainsAny(p, "?#") {
		return nil, errorf(ErrInvalid, "local path %q contains ? or #: use a file:// URL to pass parameters", p)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, errorf(ErrInvalid, "local path %q: %v", p, err)
	}
	return &url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}, nil
}

// fileDir returns the absolute directory of a file:// URL. The host must be
// empty, "localhost", or "." (relative path): fileblob ignores any other host,
// so file://out/x would silently mean /x.
func fileDir(u *url.URL) (string, error) {
	switch u.Host {
	case "", "localhost":
		if u.Path == "" {
			return "", errorf(ErrInvalid, "file URL has no path: use file:///abs/dir or file://./rel/dir")
		}
		return filepath.Clean(filepath.FromSlash(u.Path)), nil
	case ".":
		abs, err := filepath.Abs(filepath.FromSlash(strings.TrimPrefix(u.Path, "/")))
		if err != nil {
			return "", errorf(ErrInvalid, "file URL: %v", err)
		}
		return abs, nil
	default:
		return "", errorf(ErrInvalid, "file URL host %q is not allowed: use file:///abs/dir, file://./rel/dir or a plain path", u.Host)
	}
}
