package sinks

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"gocloud.dev/gcerrors"
	"google.golang.org/api/googleapi"
)

// Sentinel errors. Every error returned by a Bucket method that belongs to one
// of these classes matches it with errors.Is; callers never look at driver
// errors or message text.
var (
	ErrNotFound   = errors.New("not found")
	ErrExists     = errors.New("already exists")
	ErrPermission = errors.New("permission denied")
	// ErrCredentials reports that no credentials were found for the
	// service, or that it refused the ones given (a wrong key, an expired
	// token); the message says where they are looked for. A refused
	// credential matches ErrPermission too. It is permanent.
	ErrCredentials = errors.New("no credentials")
	// ErrInvalid reports a bad argument: a malformed key, prefix or URL, or
	// an option the backend rejects. It is permanent.
	ErrInvalid = errors.New("invalid argument")
	// ErrIntegrity reports that what the service stored is not what was
	// uploaded (size or MD5 differ after the upload, or the source file
	// changed while it was uploaded). It is transient: uploading again may
	// succeed.
	ErrIntegrity = errors.New("integrity check failed")
	// ErrClosed reports a call on a Bucket after Close. It is permanent.
	ErrClosed = errors.New("bucket is closed")
)

// opError is the one error type Bucket methods return. It keeps the operation,
// the full key (bucket prefix included) and the redacted bucket URL, a sentinel
// class (or nil for an unclassified, transient failure) and the driver's
// message after redaction. The raw driver error is deliberately not reachable
// through Unwrap: SDK errors may carry signed URLs or request dumps, and
// anything reachable through the chain ends up in someone's log eventually.
type opError struct {
	op     string // "put", "read", "list" ...
	key    string // full key in the bucket, prefix included
	bucket string // redacted bucket URL
	scheme string // s3, gs, azblob, file, mem
	kind   error  // ErrNotFound, ErrExists ... or nil
	ctxErr error  // context.Canceled / context.DeadlineExceeded, kept for errors.Is
	hint   string // e.g. "needs s3:PutObject"
	unauth bool   // the service did not accept the credentials at all
	detail string // the driver's message, redacted
	perm   bool   // permanent: do not retry
}

func (e *opError) Error() string {
	s := e.op + " " + e.bucket
	if e.key != "" {
		s = e.op + " " + e.key + " in " + e.bucket
	}
	if e.kind != nil && (e.kind != ErrCredentials || e.detail == "") {
		s += ": " + e.kind.Error() // a credentials message says it itself
	}
	if e.hint != "" {
		s += " (" + e.hint + ")"
	}
	if e.detail != "" {
		s += ": " + e.detail
	}
	return s
}

func (e *opError) Unwrap() []error {
	var errs []error
	if e.kind != nil {
		errs = append(errs, e.kind)
	}
	if e.unauth {
		errs = append(errs, ErrCredentials)
	}
	if e.ctxErr != nil {
		errs = append(errs, e.ctxErr)
	}
	return errs
}

// IsPermanent reports whether retrying the call that returned err cannot help:
// not found, already exists, permission denied, invalid argument, a closed
// bucket, a canceled context, or an operation the backend does not implement.
// Everything else (network errors, 5xx, throttling, integrity mismatches) is
// transient.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	var oe *opError
	if errors.As(err, &oe) {
		return oe.perm
	}
	for _, s := range []error{ErrNotFound, ErrExists, ErrPermission, ErrCredentials, ErrInvalid, ErrClosed, context.Canceled} {
		if errors.Is(err, s) {
			return true
		}
	}
	switch gcerrors.Code(err) {
	case gcerrors.NotFound, gcerrors.AlreadyExists, gcerrors.FailedPrecondition,
		gcerrors.PermissionDenied, gcerrors.InvalidArgument, gcerrors.Canceled,
		gcerrors.Unimplemented:
		return true
	}
	return false
}

// classify turns an error from gocloud (or from this package's own checks)
// into an *opError. It is the only place that inspects driver errors, and it
// does so by code and type, never by message. conditional says whether the
// call was a create-if-absent write: only then does FailedPrecondition mean
// "already exists" (gocloud also uses that code for a closed bucket and for a
// ContentMD5 mismatch).
func (b *Bucket) classify(op, key string, err error, conditional bool) error {
	if err == nil {
		return nil
	}
	var oe *opError
	if errors.As(err, &oe) {
		return err // classified once, never wrapped twice
	}
	e := &opError{op: op, key: b.fullKey(key), bucket: b.url, scheme: b.scheme}
	e.detail = oneLine(redactText(err.Error()))
	status := httpStatus(err)
	code := gcerrors.Code(err)
	switch {
	case errors.Is(err, context.Canceled):
		e.ctxErr, e.perm = context.Canceled, true
	case errors.Is(err, context.DeadlineExceeded):
		// Transient: a driver's per-try timeout looks the same as the caller's
		// deadline; the retry loop stops by itself once the caller's ctx is done.
		e.ctxErr = context.DeadlineExceeded
	case ownKind(err) != nil:
		// Our own checks: the message is ours, keep it whole.
		e.kind = ownKind(err)
		e.perm = e.kind != ErrIntegrity
		e.detail = trimKind(e.detail, e.kind)
		if e.kind == ErrPermission {
			e.hint = permissionHint(b.scheme, op, false)
		}
	case status == http.StatusUnauthorized || status == http.StatusForbidden ||
		code == gcerrors.PermissionDenied || errors.Is(err, fs.ErrPermission):
		// GCS reports 403 as NotFound ("or it may not exist"); we check the
		// status first so a missing permission is named as such.
		e.kind, e.perm = ErrPermission, true
		e.unauth = status == http.StatusUnauthorized || badCredentials(err)
		e.hint = permissionHint(b.scheme, op, e.unauth)
	case code == gcerrors.NotFound || errors.Is(err, fs.ErrNotExist):
		// fs.ErrNotExist: fileblob reports a missing bucket directory
		// with the os error itself.
		e.kind, e.perm = ErrNotFound, true
	case conditional && (code == gcerrors.FailedPrecondition || code == gcerrors.AlreadyExists):
		e.kind, e.perm = ErrExists, true
	case code == gcerrors.AlreadyExists:
		e.kind, e.perm = ErrExists, true
	case code == gcerrors.InvalidArgument:
		e.kind, e.perm = ErrInvalid, true
	case code == gcerrors.FailedPrecondition, code == gcerrors.Unimplemented:
		e.perm = true
	}
	return e
}

var (
	rulers = regexp.MustCompile(`-{8,}`)
	spaces = regexp.MustCompile(`\s+`)
)

// oneLine folds a multi-line SDK dump (the Azure SDK prints the request and
// the response body between rulers) into one log-friendly line.
func oneLine(s string) string {
	return strings.TrimSpace(spaces.ReplaceAllString(rulers.ReplaceAllString(s, " "), " "))
}

// ownKind returns the sentinel of an error made by this package (errorf), or nil.
func ownKind(err error) error {
	for _, s := range []error{ErrInvalid, ErrClosed, ErrIntegrity, ErrCredentials, ErrPermission, ErrNotFound, ErrExists} {
		if errors.Is(err, s) {
			return s
		}
	}
	return nil
}

// trimKind drops a leading "invalid argument: " (etc.) from our own messages so
// the class is not printed twice.
func trimKind(msg string, kind error) string {
	if kind == nil {
		return msg
	}
	if msg == kind.Error() {
		return ""
	}
	p := kind.Error() + ": "
	if len(msg) >= len(p) && msg[:len(p)] == p {
		return msg[len(p):]
	}
	return msg
}

// badCredentials reports an S3 error code that means the credentials
// themselves are wrong (S3 answers 403 for these, as for a missing
// permission). The code is the API's typed error code, not message text.
func badCredentials(err error) bool {
	var api interface{ ErrorCode() string } // smithy-go API errors
	if !errors.As(err, &api) {
		return false
	}
	switch api.ErrorCode() {
	case "SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidToken", "ExpiredToken", "TokenRefreshRequired", "AuthorizationHeaderMalformed":
		return true
	}
	return false
}

// httpStatus digs the HTTP status out of the three SDKs' typed errors, or 0.
func httpStatus(err error) int {
	var aws interface{ HTTPStatusCode() int } // smithy-go / aws-sdk-go-v2 response errors
	if errors.As(err, &aws) {
		return aws.HTTPStatusCode()
	}
	var az *azcore.ResponseError
	if errors.As(err, &az) {
		return az.StatusCode
	}
	var g *googleapi.Error
	if errors.As(err, &g) {
		return g.Code
	}
	return 0
}

// permissionHint names what the operation needs, per backend.
func permissionHint(scheme, op string, unauthenticated bool) string {
	if unauthenticated {
		return "not authenticated: " + credentialHint(scheme)
	}
	needs := map[string]map[string]string{
		"s3": {
			"list": "s3:ListBucket", "stat": "s3:GetObject (and s3:ListBucket to tell missing from forbidden)",
			"read": "s3:GetObject", "put": "s3:PutObject", "copy": "s3:GetObject on the source and s3:PutObject",
			"delete": "s3:DeleteObject and s3:GetObject",
		},
		"gs": {
			"list": "storage.objects.list", "stat": "storage.objects.get", "read": "storage.objects.get",
			"put":  "storage.objects.create (and storage.objects.delete to replace)",
			"copy": "storage.objects.get and storage.objects.create", "delete": "storage.objects.delete",
		},
		"azblob": {
			"list": "Storage Blob Data Reader", "stat": "Storage Blob Data Reader", "read": "Storage Blob Data Reader",
			"put": "Storage Blob Data Contributor", "copy": "Storage Blob Data Contributor",
			"delete": "Storage Blob Data Contributor",
		},
		"file": {
			"list": "read permission on the directory", "stat": "read permission on the file",
			"read": "read permission on the file", "put": "write permission on the directory",
			"copy": "write permission on the directory", "delete": "write permission on the directory",
		},
	}
	if n := needs[scheme][op]; n != "" {
		return "needs " + n
	}
	return ""
}

func credentialHint(scheme string) string {
	switch scheme {
	case "s3":
		return "check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the instance/pod role (IRSA)"
	case "gs":
		return "check GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login, or the workload identity"
	case "azblob":
		return "check AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN or the managed identity"
	}
	return "check the credentials in the environment"
}

// errorf builds an unclassified-by-driver error of our own, already of class
// kind (ErrInvalid, ErrIntegrity ...).
func errorf(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)
}

// Needs returns what a permission error says is missing: the permission or
// role the operation needs ("s3:DeleteObject and s3:GetObject",
// "storage.objects.delete", "Storage Blob Data Contributor"), or, when the
// service did not accept the credentials at all, "credentials: " and where
// to look. It returns "" for any other error.
func Needs(err error) string {
	var oe *opError
	if errors.As(err, &oe) && oe.kind == ErrCredentials {
		return "credentials: " + credentialHint(oe.scheme)
	}
	if !errors.As(err, &oe) || oe.kind != ErrPermission || oe.hint == "" {
		return ""
	}
	if oe.unauth {
		return "credentials: " + strings.TrimPrefix(oe.hint, "not authenticated: ")
	}
	return strings.TrimPrefix(oe.hint, "needs ")
}
