package sinks_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditexport/auditexport/sinks"
)

// TestGCSPermissionNotNotFound drives gcsblob against a stand-in emulator
// (STORAGE_EMULATOR_HOST) that refuses everything with 403, or knows nothing
// (404). gcsblob maps 403 to NotFound; sinks must report ErrPermission and
// name the IAM permission. fake-gcs-server runs the full suite in
// integration/.
func TestGCSPermissionNotNotFound(t *testing.T) {
	status := http.StatusForbidden
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"code":%d,"message":"sa@p.iam does not have access; see https://x/?X-Goog-Signature=PLANTEDGSIG","errors":[{"reason":"forbidden"}]}}`, status)
	}))
	t.Cleanup(srv.Close)
	t.Setenv("STORAGE_EMULATOR_HOST", strings.TrimPrefix(srv.URL, "http://"))
	b := open(t, "gs://audit", sinks.OpenOptions{Retry: sinks.RetryPolicy{MaxTries: 1}})
	ctx := context.Background()

	_, err := b.Attributes(ctx, "k")
	if !errors.Is(err, sinks.ErrPermission) || errors.Is(err, sinks.ErrNotFound) || !strings.Contains(err.Error(), "storage.objects.get") {
		t.Errorf("Attributes on 403: %v, want ErrPermission naming storage.objects.get", err)
	}
	_, err = b.PutBytes(ctx, "k", []byte("x"), sinks.PutOptions{IfNotExist: true})
	if !errors.Is(err, sinks.ErrPermission) || !strings.Contains(err.Error(), "storage.objects.create") {
		t.Errorf("PutBytes on 403: %v, want ErrPermission naming storage.objects.create", err)
	}
	if err != nil && strings.Contains(err.Error(), "PLANTEDGSIG") {
		t.Errorf("error leaks a signature: %v", err)
	}

	status = http.StatusNotFound
	if _, err := b.Attributes(ctx, "k"); !errors.Is(err, sinks.ErrNotFound) {
		t.Errorf("Attributes on 404: %v, want ErrNotFound", err)
	}
}

func TestGCSNoCredentials(t *testing.T) {
	t.Setenv("STORAGE_EMULATOR_HOST", "")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(t.TempDir(), "missing.json"))
	_, err := sinks.Open(context.Background(), "gs://audit", sinks.OpenOptions{})
	if !errors.Is(err, sinks.ErrCredentials) || errors.Is(err, sinks.ErrPermission) ||
		!strings.Contains(err.Error(), "no Google credentials found") || !strings.Contains(err.Error(), "GOOGLE_APPLICATION_CREDENTIALS") {
		t.Errorf("Open without credentials: %v, want ErrCredentials saying where they are looked for", err)
	}
}
