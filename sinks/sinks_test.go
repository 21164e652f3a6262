package sinks_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/auditexport/auditexport/sinks"
	"github.com/auditexport/auditexport/sinks/sinktest"
)

// fastRetry keeps retry tests quick.
var fastRetry = sinks.RetryPolicy{MaxTries: 4, InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond}

func open(t *testing.T, rawURL string, opts sinks.OpenOptions) *sinks.Bucket {
	t.Helper()
	if opts.Retry.MaxTries == 0 {
		opts.Retry = fastRetry
	}
	b, err := sinks.Open(context.Background(), rawURL, opts)
	if err != nil {
		t.Fatalf("Open(%q): %v", rawURL, err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestConformanceMem(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) *sinks.Bucket { return open(t, "mem://", sinks.OpenOptions{}) })
}

func TestConformanceMemPrefixed(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) *sinks.Bucket {
		return open(t, "mem://", sinks.OpenOptions{Prefix: "audit/archive"})
	})
}

func TestConformanceFile(t *testing.T) {
	dir := t.TempDir()
	sinktest.Run(t, func(t *testing.T) *sinks.Bucket { return open(t, "file://"+dir, sinks.OpenOptions{}) })
	// No sidecars and no stray temp files after the whole suite.
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, ".attrs") || strings.HasSuffix(path, ".tmp") {
			t.Errorf("left behind: %s", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestConformanceLocalPathPrefixed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not", "yet")
	sinktest.Run(t, func(t *testing.T) *sinks.Bucket {
		return open(t, dir, sinks.OpenOptions{Prefix: "audit/", CreateDir: true})
	})
}

// s3Server starts gofakes3 in process with bucket "audit" created through the
// backend API (gocloud cannot create buckets) and points the AWS SDK at it
// through the environment only. gofakes3 alone is not proof of S3
// behaviour: it checks no signatures and gives multipart objects an MD5 ETag
// unlike AWS. The real-server runs (versitygw, fake-gcs-server, Azurite)
// are integration/'s job.
func s3Server(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("audit"); err != nil {
		t.Fatal(err)
	}
	var h http.Handler = gofakes3.New(backend).Server()
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s3Env(t)
	return "s3://audit?endpoint=" + srv.URL + "&region=us-east-1&use_path_style=true"
}

func s3Env(t *testing.T) {
	t.Helper()
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLETESTONLY")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret-not-real")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func TestConformanceS3(t *testing.T) {
	u := s3Server(t, nil)
	sinktest.Run(t, func(t *testing.T) *sinks.Bucket { return open(t, u, sinks.OpenOptions{}) })
}

func TestConformanceS3Prefixed(t *testing.T) {
	u := s3Server(t, nil)
	sinktest.Run(t, func(t *testing.T) *sinks.Bucket {
		return open(t, u, sinks.OpenOptions{Prefix: "archive"})
	})
}

func TestOpenUnsupportedScheme(t *testing.T) {
	_, err := sinks.Open(context.Background(), "ftp://user:hunter2@example.com/x", sinks.OpenOptions{})
	if !errors.Is(err, sinks.ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	msg := err.Error()
	for _, want := range []string{`unsupported scheme "ftp"`, "s3://", "gs://", "azblob://", "file://", "mem://", "local path"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "hunter2") {
		t.Errorf("message %q leaks the password", msg)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		url   string
		opts  sinks.OpenOptions
		want  error
		inMsg string
	}{
		{"", sinks.OpenOptions{}, sinks.ErrInvalid, "empty bucket URL"},
		{"mem://", sinks.OpenOptions{Prefix: "/abs"}, sinks.ErrInvalid, "prefix"},
		{"mem://", sinks.OpenOptions{Prefix: "a/../b"}, sinks.ErrInvalid, "prefix"},
		{"mem://?key=x", sinks.OpenOptions{}, sinks.ErrInvalid, "key="},
		{"file://out/x", sinks.OpenOptions{}, sinks.ErrInvalid, `host "out"`},
		{"file://" + dir + "?metadata=", sinks.OpenOptions{}, sinks.ErrInvalid, "sidecar"},
		{filepath.Join(dir, "missing"), sinks.OpenOptions{}, nil, "missing"},
	} {
		_, err := sinks.Open(context.Background(), tc.url, tc.opts)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.inMsg) {
			t.Errorf("Open(%q, %+v) = %v, want %v mentioning %q", tc.url, tc.opts, err, tc.want, tc.inMsg)
		}
	}
}

func TestOpenStringAndPrefix(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		url, prefix, want string
	}{
		{"mem://", "", "mem://"},
		{"s3://bkt?region=eu-west-1", "audit", "s3://bkt/audit/?region=eu-west-1"},
		{"s3://bkt?region=eu-west-1&prefix=org", "audit/", "s3://bkt/org/audit/?region=eu-west-1"},
		{"s3://bkt?prefix=org/&endpoint=http://127.0.0.1:7070&use_path_style=true", "", "s3://bkt/org/?endpoint=http://127.0.0.1:7070&use_path_style=true"},
		{"azblob://c?protocol=http&domain=127.0.0.1:10000", "a/b", "azblob://c/a/b/?protocol=http&domain=127.0.0.1:10000"},
		{"file://" + dir, "x", "file://" + dir + "/x/"},
		{dir, "", "file://" + dir},
	} {
		t.Setenv("AZURE_STORAGE_ACCOUNT", "devstoreaccount1")
		t.Setenv("AZURE_STORAGE_KEY", "Zm9vYmFy")
		s3Env(t)
		b := open(t, tc.url, sinks.OpenOptions{Prefix: tc.prefix})
		if got := b.String(); got != tc.want {
			t.Errorf("Open(%q, prefix %q).String() = %q, want %q", tc.url, tc.prefix, got, tc.want)
		}
	}
}

func TestOpenRelativeFileURL(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	b := open(t, "file://./rel/dir", sinks.OpenOptions{CreateDir: true})
	if _, err := b.PutBytes(context.Background(), "k", []byte("v"), sinks.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "rel", "dir", "k")); err != nil || string(got) != "v" {
		t.Errorf("file = %q, %v", got, err)
	}
}

func TestClosed(t *testing.T) {
	b, err := sinks.Open(context.Background(), "mem://", sinks.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = b.PutBytes(context.Background(), "k", nil, sinks.PutOptions{IfNotExist: true})
	if !errors.Is(err, sinks.ErrClosed) || errors.Is(err, sinks.ErrExists) || !sinks.IsPermanent(err) {
		t.Errorf("put on closed bucket: %v, want a permanent ErrClosed", err)
	}
	if err := b.List(context.Background(), "", func(sinks.Object) error { return nil }); !errors.Is(err, sinks.ErrClosed) {
		t.Errorf("list on closed bucket: %v", err)
	}
}

func TestS3ListETag(t *testing.T) {
	b := open(t, s3Server(t, nil), sinks.OpenOptions{Prefix: "p"})
	ctx := context.Background()
	if _, err := b.PutBytes(ctx, "k", []byte("x"), sinks.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	var objs []sinks.Object
	if err := b.List(ctx, "", func(o sinks.Object) error { objs = append(objs, o); return nil }); err != nil {
		t.Fatal(err)
	}
	a, err := b.Attributes(ctx, "k")
	if err != nil || len(objs) != 1 || objs[0].ETag == "" || objs[0].ETag != a.ETag || objs[0].Key != "k" {
		t.Errorf("List = %+v, Attributes = %+v, %v; want one object k whose ETag matches", objs, a, err)
	}
}

// The suite's Large object must really go multipart on S3.
func TestS3LargeIsMultipart(t *testing.T) {
	var mu sync.Mutex
	var starts, parts int
	u := s3Server(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			if r.Method == http.MethodPost && r.URL.Query().Has("uploads") {
				starts++
			}
			if r.Method == http.MethodPut && r.URL.Query().Has("partNumber") {
				parts++
			}
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	})
	b := open(t, u, sinks.OpenOptions{})
	if _, err := b.PutBytes(context.Background(), "big", make([]byte, sinktest.LargeSize), sinks.PutOptions{IfNotExist: true}); err != nil {
		t.Fatal(err)
	}
	if starts != 1 || parts < 2 {
		t.Errorf("multipart uploads started = %d, parts = %d; want 1 and at least 2", starts, parts)
	}
}

func TestCheck(t *testing.T) {
	u := s3Server(t, nil)
	if err := open(t, u, sinks.OpenOptions{}).Check(context.Background()); err != nil {
		t.Errorf("Check on an existing bucket: %v", err)
	}
	missing := strings.Replace(u, "s3://audit", "s3://nope", 1)
	err := open(t, missing, sinks.OpenOptions{}).Check(context.Background())
	if !errors.Is(err, sinks.ErrNotFound) || !strings.Contains(err.Error(), "s3://nope") {
		t.Errorf("Check on a missing bucket: %v, want ErrNotFound naming it", err)
	}
}
