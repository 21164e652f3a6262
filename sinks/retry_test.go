package sinks_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditexport/auditexport/sinks"
)

// flaky sits in front of gofakes3 and fails matching requests on purpose.
// Retry logic proper is tested without an SDK in between
// (retry_internal_test.go); these tests show the real S3 path end to end.
type flaky struct {
	next  http.Handler
	mu    sync.Mutex
	rules []*rule
	seen  []string // "METHOD path?query" of every request
}

type rule struct {
	match  func(r *http.Request) bool
	times  int  // how many matching requests to fail
	land   bool // forward the request first, then fail the response anyway
	status int
	code   string // S3 error code in the XML body
	body   string // extra text for the error message
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.seen = append(f.seen, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
	var hit *rule
	for _, rl := range f.rules {
		if rl.times > 0 && rl.match(r) {
			rl.times--
			hit = rl
			break
		}
	}
	f.mu.Unlock()
	if hit == nil {
		f.next.ServeHTTP(w, r)
		return
	}
	if hit.land {
		f.next.ServeHTTP(httptest.NewRecorder(), r)
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(hit.status)
	if r.Method != http.MethodHead {
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>injected %s</Message><RequestId>1</RequestId></Error>`, hit.code, hit.body)
	}
}

func (f *flaky) add(rl *rule) *flaky {
	f.mu.Lock()
	defer f.mu.Unlock()
	if rl.status == 0 {
		rl.status, rl.code = http.StatusServiceUnavailable, "ServiceUnavailable"
	}
	f.rules = append(f.rules, rl)
	return f
}

func (f *flaky) count(method, pathPart string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.seen {
		if strings.HasPrefix(s, method+" ") && strings.Contains(s, pathPart) {
			n++
		}
	}
	return n
}

func isPut(r *http.Request) bool { return r.Method == http.MethodPut }

// flakyS3 opens a bucket behind a flaky proxy.
func flakyS3(t *testing.T, policy sinks.RetryPolicy) (*sinks.Bucket, *flaky) {
	t.Helper()
	f := &flaky{}
	u := s3Server(t, func(h http.Handler) http.Handler { f.next = h; return f })
	if policy.MaxTries == 0 {
		policy = fastRetry
	}
	return open(t, u, sinks.OpenOptions{Retry: policy}), f
}

func TestRetryThroughSDK(t *testing.T) {
	// The AWS SDK retries a 503 itself, up to 3 attempts (gocloud installs
	// its standard retryer, so AWS_MAX_ATTEMPTS has no effect). Three 503s
	// use those up; this package's retry then makes the fourth request.
	var retries int
	policy := fastRetry
	policy.OnRetry = func(op, key string, err error, wait time.Duration) {
		retries++
		if op != "put" || key != "k" || sinks.IsPermanent(err) {
			t.Errorf("OnRetry(%s, %s, %v)", op, key, err)
		}
	}
	b, f := flakyS3(t, policy)
	f.add(&rule{match: isPut, times: 3})
	w, err := b.PutBytes(context.Background(), "k", []byte("hello"), sinks.PutOptions{})
	if err != nil || w.Size != 5 {
		t.Fatalf("PutBytes after three 503s: %+v, %v", w, err)
	}
	if n := f.count("PUT", "/audit/k"); n != 4 {
		t.Errorf("PUT requests = %d, want 4", n)
	}
	if retries != 1 {
		t.Errorf("OnRetry calls = %d, want 1", retries)
	}
}

func TestRetryNotOnPermanent(t *testing.T) {
	b, f := flakyS3(t, sinks.RetryPolicy{})
	ctx := context.Background()
	f.add(&rule{match: isPut, times: 1, status: http.StatusForbidden, code: "AccessDenied"})
	_, err := b.PutBytes(ctx, "audit/event_date=2026-11-25/part-0.parquet", []byte("x"), sinks.PutOptions{})
	if !errors.Is(err, sinks.ErrPermission) || !sinks.IsPermanent(err) {
		t.Fatalf("PutBytes on 403: %v, want permanent ErrPermission", err)
	}
	want := "put audit/event_date=2026-11-25/part-0.parquet in s3://audit?endpoint="
	if msg := err.Error(); !strings.HasPrefix(msg, want) || !strings.Contains(msg, "permission denied (needs s3:PutObject)") {
		t.Errorf("message = %q, want it to start %q and name s3:PutObject", msg, want)
	}
	if n := f.count("PUT", "part-0.parquet"); n != 1 {
		t.Errorf("PUT attempts = %d, want 1 (no retry on 403)", n)
	}
	if _, err := b.ReadAll(ctx, "missing"); !errors.Is(err, sinks.ErrNotFound) {
		t.Errorf("ReadAll missing: %v", err)
	}
	if n := f.count("GET", "/audit/missing"); n != 1 {
		t.Errorf("GET attempts for a missing key = %d, want 1", n)
	}
}

func TestPutVerifiesStoredSize(t *testing.T) {
	b, f := flakyS3(t, sinks.RetryPolicy{})
	f.next = lyingHead(f.next)
	_, err := b.PutBytes(context.Background(), "k", []byte("twelve bytes"), sinks.PutOptions{})
	if !errors.Is(err, sinks.ErrIntegrity) || !strings.Contains(err.Error(), "stored size 11, uploaded 12") {
		t.Errorf("PutBytes with a short stored object: %v, want ErrIntegrity naming the sizes", err)
	}
}

// lyingHead reports one byte less than stored on HEAD.
func lyingHead(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		var n int
		fmt.Sscan(rec.Header().Get("Content-Length"), &n)
		w.Header().Set("Content-Length", fmt.Sprint(n-1))
		w.Header().Del("ETag")
		w.WriteHeader(rec.Code)
	})
}
