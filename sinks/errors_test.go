package sinks_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"
	"gocloud.dev/gcerrors"

	"github.com/auditexport/auditexport/sinks"
)

// gocloudErr returns a genuine gocloud error with the given code (gocloud's
// error constructor is internal, so take one from memblob).
func gocloudErr(t *testing.T, code gcerrors.ErrorCode) error {
	t.Helper()
	ctx := context.Background()
	b := memblob.OpenBucket(nil)
	var err error
	switch code {
	case gcerrors.NotFound:
		_, err = b.ReadAll(ctx, "missing")
	case gcerrors.FailedPrecondition:
		_ = b.Upload(ctx, "k", strings.NewReader(""), &blob.WriterOptions{ContentType: "a/b"})
		err = b.Upload(ctx, "k", strings.NewReader("x"), &blob.WriterOptions{ContentType: "a/b", IfNotExist: true})
	case gcerrors.InvalidArgument:
		_, _, err = b.ListPage(ctx, []byte("first page"), -1, nil)
	}
	if gcerrors.Code(err) != code {
		t.Fatalf("could not make a %v error: %v", code, err)
	}
	return err
}

func TestIsPermanent(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"ErrNotFound", sinks.ErrNotFound, true},
		{"ErrExists", sinks.ErrExists, true},
		{"ErrPermission", sinks.ErrPermission, true},
		{"ErrInvalid", sinks.ErrInvalid, true},
		{"ErrClosed", sinks.ErrClosed, true},
		{"ErrIntegrity", sinks.ErrIntegrity, false},
		{"wrapped ErrNotFound", fmt.Errorf("x: %w", sinks.ErrNotFound), true},
		{"context.Canceled", context.Canceled, true},
		{"wrapped context.Canceled", fmt.Errorf("x: %w", context.Canceled), true},
		{"context.DeadlineExceeded", context.DeadlineExceeded, false},
		{"plain error", errors.New("connection reset by peer"), false},
		{"io.ErrUnexpectedEOF", io.ErrUnexpectedEOF, false},
		{"gocloud NotFound", gocloudErr(t, gcerrors.NotFound), true},
		{"gocloud FailedPrecondition", gocloudErr(t, gcerrors.FailedPrecondition), true},
		{"gocloud InvalidArgument", gocloudErr(t, gcerrors.InvalidArgument), true},
	} {
		if got := sinks.IsPermanent(tc.err); got != tc.want {
			t.Errorf("IsPermanent(%s: %v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

func TestClassifiedErrors(t *testing.T) {
	ctx := context.Background()
	b := open(t, "mem://", sinks.OpenOptions{Prefix: "audit"})
	key := "event_date=2026-11-25/part-0.parquet"
	if _, err := b.PutBytes(ctx, key, []byte("x"), sinks.PutOptions{IfNotExist: true}); err != nil {
		t.Fatal(err)
	}
	_, err := b.PutBytes(ctx, key, []byte("y"), sinks.PutOptions{IfNotExist: true})
	if want := "put audit/event_date=2026-11-25/part-0.parquet in mem://: already exists"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v, want it to start %q", err, want)
	}
	if !errors.Is(err, sinks.ErrExists) || errors.Is(err, sinks.ErrNotFound) || !sinks.IsPermanent(err) {
		t.Errorf("err %v: wrong class", err)
	}
	_, err = b.Attributes(ctx, "nope")
	if want := "stat audit/nope in mem://: not found"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v, want %q...", err, want)
	}
	if msg := err.Error(); msg != strings.ToLower(msg[:1])+msg[1:] {
		t.Errorf("message %q does not start lowercase", msg)
	}
}

// plantedServer answers every request with an error whose text echoes
// secrets, as a misbehaving service or proxy might (signed URLs, keys).
func plantedServer(t *testing.T, status int, code string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		if r.Method == http.MethodHead {
			return
		}
		fmt.Fprintf(w, `<?xml version="1.0"?><Error><Code>%s</Code><Message>denied https://audit.s3.amazonaws.com/k?X-Amz-Credential=AKIAPLANTEDKEY000001%%2F2026&amp;X-Amz-Signature=PLANTEDSIG1&amp;X-Amz-Security-Token=PLANTEDTOK2 while using PLANTED-SECRET-3 sig=PLANTEDSIG4 Authorization: AWS4-HMAC-SHA256 PLANTEDAUTH5</Message></Error>`, code)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestErrorsNeverContainSecrets(t *testing.T) {
	planted := []string{"PLANTED", "AKIAPLANTEDKEY000001", "hunter2"}
	check := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: no error", what)
			return
		}
		for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			for _, p := range planted {
				if strings.Contains(text, p) {
					t.Errorf("%s: error text contains %q:\n%s", what, p, text)
				}
			}
		}
		for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
			for _, p := range planted {
				if strings.Contains(e.Error(), p) {
					t.Errorf("%s: wrapped error contains %q: %s", what, p, e)
				}
			}
		}
	}
	s3Env(t)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "PLANTED-SECRET-3")
	ctx := context.Background()
	for _, status := range []int{http.StatusForbidden, http.StatusBadRequest} {
		u := "s3://AKIAPLANTEDKEY000001:hunter2@audit?endpoint=" + plantedServer(t, status, "AccessDenied") + "&region=us-east-1&use_path_style=true"
		b := open(t, u, sinks.OpenOptions{Retry: sinks.RetryPolicy{MaxTries: 1}})
		if s := b.String(); strings.Contains(s, "hunter2") || strings.Contains(s, "AKIAPLANTED") {
			t.Errorf("String() = %q", s)
		}
		_, err := b.PutBytes(ctx, "k", []byte("x"), sinks.PutOptions{})
		check("put", err)
		_, err = b.ReadAll(ctx, "k")
		check("read", err)
		check("list", b.List(ctx, "", func(sinks.Object) error { return nil }))
		check("copy", b.Copy(ctx, "a", "k"))
		if status == http.StatusForbidden && !errors.Is(err, sinks.ErrPermission) {
			t.Errorf("403: %v, want ErrPermission", err)
		}
	}
	// A SAS token pasted into an azblob URL: refused by name, never echoed.
	t.Setenv("AZURE_STORAGE_ACCOUNT", "devstoreaccount1")
	_, err := sinks.Open(ctx, "azblob://c?sv=2022-11-02&sig=PLANTEDSAS6&se=2030-01-01", sinks.OpenOptions{})
	check("open azblob with a SAS", err)
	_, err = sinks.Open(ctx, "ftp://u:hunter2@h/?password=PLANTED7", sinks.OpenOptions{})
	check("open ftp", err)
}
