package sinks_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/auditexport/auditexport/sinks"
	"github.com/auditexport/auditexport/sinks/sinktest"
)

const (
	hdrSSE    = "X-Amz-Server-Side-Encryption"
	hdrKMSKey = "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"
)

// sseRequest is one write request as the server saw it.
type sseRequest struct {
	what        string // put, create-multipart, upload-part, copy
	sse, kmsKey string
}

// recordSSE wraps the S3 handler and records the encryption headers of
// every write request.
func recordSSE(mu *sync.Mutex, got *[]sseRequest) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			what := ""
			switch {
			case r.Method == http.MethodPost && r.URL.Query().Has("uploads"):
				what = "create-multipart"
			case r.Method == http.MethodPut && r.URL.Query().Has("partNumber"):
				what = "upload-part"
			case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "":
				what = "copy"
			case r.Method == http.MethodPut:
				what = "put"
			}
			if what != "" {
				mu.Lock()
				*got = append(*got, sseRequest{what, r.Header.Get(hdrSSE), r.Header.Get(hdrKMSKey)})
				mu.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Every write (single put, multipart upload, copy) carries the configured
// encryption, whether it is given in OpenOptions or in the URL.
func TestS3EncryptionHeaders(t *testing.T) {
	const key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	for _, tc := range []struct {
		name     string
		opts     sinks.S3Encryption
		urlParam string
		wantSSE  string
		wantKey  string
	}{
		{name: "sse-s3", opts: sinks.S3Encryption{Type: "AES256"}, wantSSE: "AES256"},
		{name: "sse-kms", opts: sinks.S3Encryption{Type: "aws:kms", KMSKeyID: key}, wantSSE: "aws:kms", wantKey: key},
		{name: "dsse-kms lower case", opts: sinks.S3Encryption{Type: "AWS:KMS:DSSE", KMSKeyID: "alias/audit"}, wantSSE: "aws:kms:dsse", wantKey: "alias/audit"},
		{name: "kms default key", opts: sinks.S3Encryption{Type: "aws:kms"}, wantSSE: "aws:kms"},
		{name: "url", urlParam: "&ssetype=aws:kms&kmskeyid=alias/audit", wantSSE: "aws:kms", wantKey: "alias/audit"},
		{name: "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []sseRequest
			u := s3Server(t, recordSSE(&mu, &got)) + tc.urlParam
			b := open(t, u, sinks.OpenOptions{S3Encryption: tc.opts})
			ctx := context.Background()
			if _, err := b.PutBytes(ctx, "small", []byte("x"), sinks.PutOptions{IfNotExist: true}); err != nil {
				t.Fatal(err)
			}
			if _, err := b.PutBytes(ctx, "big", make([]byte, sinktest.LargeSize), sinks.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := b.Copy(ctx, "small.copy", "small"); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			seen := map[string]bool{}
			for _, r := range got {
				seen[r.what] = true
				if r.what == "upload-part" {
					continue // S3 takes the encryption from CreateMultipartUpload
				}
				if r.sse != tc.wantSSE || r.kmsKey != tc.wantKey {
					t.Errorf("%s sent %s=%q %s=%q, want %q %q", r.what, hdrSSE, r.sse, hdrKMSKey, r.kmsKey, tc.wantSSE, tc.wantKey)
				}
			}
			for _, w := range []string{"put", "create-multipart", "copy"} {
				if !seen[w] {
					t.Errorf("no %s request seen (saw %v)", w, got)
				}
			}
		})
	}
}

func TestS3EncryptionRefused(t *testing.T) {
	s3 := "s3://audit?region=us-east-1"
	for _, tc := range []struct {
		url  string
		opts sinks.S3Encryption
		want string
	}{
		{s3, sinks.S3Encryption{Type: "aws:fsx"}, `type "aws:fsx": use AES256, aws:kms, aws:kms:dsse`},
		{s3, sinks.S3Encryption{Type: "AES256", KMSKeyID: "alias/x"}, "KMS key ID needs server-side encryption type aws:kms or aws:kms:dsse, not AES256"},
		{s3, sinks.S3Encryption{KMSKeyID: "alias/x"}, "KMS key ID needs"},
		{s3 + "&ssetype=AES256", sinks.S3Encryption{Type: "aws:kms"}, "both in the URL"},
		{s3 + "&ssetype=aws:backup", sinks.S3Encryption{}, `type "aws:backup"`},
		{s3 + "&kmskeyid=alias/x", sinks.S3Encryption{}, "KMS key ID needs"},
		{"gs://audit", sinks.S3Encryption{Type: "AES256"}, "s3:// buckets only"},
		{"mem://", sinks.S3Encryption{Type: "aws:kms"}, "s3:// buckets only"},
		{t.TempDir(), sinks.S3Encryption{Type: "aws:kms"}, "s3:// buckets only"},
	} {
		_, err := sinks.Open(context.Background(), tc.url, sinks.OpenOptions{S3Encryption: tc.opts})
		if !errors.Is(err, sinks.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q, %+v) = %v, want ErrInvalid saying %q", tc.url, tc.opts, err, tc.want)
		}
	}
}

// kmsETags makes the server answer HEAD like AWS does for an object under
// SSE-KMS: the encryption header, and an ETag that is hex but not the MD5
// of the data. withHeader false keeps the ETag and drops the header: an
// ETag that lies with no reason to.
func kmsETags(withHeader bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodHead {
				next.ServeHTTP(w, r)
				return
			}
			hw := &headerRewriter{ResponseWriter: w, rewrite: func(h http.Header) {
				h.Set("ETag", `"0123456789abcdef0123456789abcdef"`)
				if withHeader {
					h.Set(hdrSSE, "aws:kms")
					h.Set(hdrKMSKey, "arn:aws:kms:us-east-1:111122223333:key/test")
				}
			}}
			next.ServeHTTP(hw, r)
			if !hw.done { // the handler wrote nothing: headers go out after it returns
				hw.done = true
				hw.rewrite(w.Header())
			}
		})
	}
}

type headerRewriter struct {
	http.ResponseWriter
	rewrite func(http.Header)
	done    bool
}

func (h *headerRewriter) WriteHeader(code int) {
	if !h.done {
		h.done = true
		h.rewrite(h.Header())
	}
	h.ResponseWriter.WriteHeader(code)
}

func (h *headerRewriter) Write(p []byte) (int, error) {
	if !h.done {
		h.WriteHeader(http.StatusOK)
	}
	return h.ResponseWriter.Write(p)
}

// Under SSE-KMS the ETag is not an MD5: a verified put must not fail on
// it, and Attributes reports no MD5. Without the encryption header, a
// wrong MD5 is still an integrity failure.
func TestS3KMSETagIsNotMD5(t *testing.T) {
	ctx := context.Background()
	b := open(t, s3Server(t, kmsETags(true)), sinks.OpenOptions{S3Encryption: sinks.S3Encryption{Type: "aws:kms"}})
	w, err := b.PutBytes(ctx, "k", []byte("encrypted at rest"), sinks.PutOptions{IfNotExist: true})
	if err != nil {
		t.Fatalf("put under SSE-KMS: %v", err)
	}
	a, err := b.Attributes(ctx, "k")
	if err != nil || a.MD5 != nil || a.Size != w.Size {
		t.Errorf("Attributes = %+v, %v; want size %d and no MD5", a, err, w.Size)
	}
	// A create-if-absent that meets an object compares content: with no MD5
	// it reads the object back. Equal bytes are ours; other bytes conflict.
	if w, err := b.PutBytes(ctx, "k", []byte("encrypted at rest"), sinks.PutOptions{IfNotExist: true}); err != nil || !w.Existed {
		t.Errorf("second put of the same bytes: %+v, %v; want success with Existed", w, err)
	}
	if _, err := b.PutBytes(ctx, "k", []byte("different bytes!!"), sinks.PutOptions{IfNotExist: true}); !errors.Is(err, sinks.ErrExists) {
		t.Errorf("put of other bytes: %v, want ErrExists", err)
	}

	plain := open(t, s3Server(t, kmsETags(false)), sinks.OpenOptions{Retry: sinks.RetryPolicy{MaxTries: 1}})
	if _, err := plain.PutBytes(ctx, "k", []byte("data"), sinks.PutOptions{}); !errors.Is(err, sinks.ErrIntegrity) {
		t.Errorf("put with a wrong MD5 ETag and no encryption header: %v, want ErrIntegrity", err)
	}
}
