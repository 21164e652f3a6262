package sinks_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditexport/auditexport/sinks"
)

// fakeAzure speaks just enough of the Blob REST API for block uploads
// (Put Block, Put Block List with If-None-Match), Get Blob Properties and Get
// Blob. It is no stand-in for Azurite (integration/ runs the suite there);
// it exists to drive gocloud's azureblob upload path in process, including
// the IfNotExist conflict that panics gocloud's streaming writer.
type fakeAzure struct {
	mu      sync.Mutex
	blobs   map[string][]byte
	md5s    map[string]string // x-ms-blob-content-md5 as sent
	staged  map[string][]byte // path + block id
	headers []http.Header     // of every PUT
}

func (f *fakeAzure) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	path, q := r.URL.Path, r.URL.Query()
	fail := func(status int, code string) {
		w.Header().Set("x-ms-error-code", code)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>fake</Message></Error>`, code)
		}
	}
	if strings.HasSuffix(path, "/forbidden") {
		fail(http.StatusForbidden, "AuthorizationPermissionMismatch")
		return
	}
	switch {
	case r.Method == http.MethodPut && q.Get("comp") == "block":
		f.headers = append(f.headers, r.Header.Clone())
		body, _ := io.ReadAll(r.Body)
		f.staged[path+"#"+q.Get("blockid")] = body
		w.WriteHeader(http.StatusCreated)
	case r.Method == http.MethodPut && (q.Get("comp") == "blocklist" || q.Get("comp") == ""):
		// Put Block List, or Put Blob for an upload that fits one block.
		f.headers = append(f.headers, r.Header.Clone())
		if _, ok := f.blobs[path]; ok && r.Header.Get("If-None-Match") == "*" {
			fail(http.StatusConflict, "BlobAlreadyExists")
			return
		}
		var data []byte
		if q.Get("comp") == "" {
			data, _ = io.ReadAll(r.Body)
		} else {
			var list struct {
				IDs []string `xml:",any"`
			}
			if err := xml.NewDecoder(r.Body).Decode(&list); err != nil {
				fail(http.StatusBadRequest, "InvalidXmlDocument")
				return
			}
			for _, id := range list.IDs {
				data = append(data, f.staged[path+"#"+id]...)
			}
		}
		f.blobs[path], f.md5s[path] = data, r.Header.Get("x-ms-blob-content-md5")
		w.Header().Set("ETag", fmt.Sprintf(`"0x%X"`, len(f.blobs)))
		w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusCreated)
	case r.Method == http.MethodHead || r.Method == http.MethodGet:
		data, ok := f.blobs[path]
		if !ok {
			fail(http.StatusNotFound, "BlobNotFound")
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-MD5", f.md5s[path])
		w.Header().Set("ETag", `"0x1"`)
		w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
		w.Header().Set("x-ms-creation-time", time.Now().UTC().Format(http.TimeFormat)) // gocloud dereferences it
		w.Header().Set("x-ms-blob-type", "BlockBlob")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(data)
		}
	default:
		fail(http.StatusNotImplemented, "NotImplemented")
	}
}

func azureBucket(t *testing.T) (*sinks.Bucket, *fakeAzure) {
	t.Helper()
	f := &fakeAzure{blobs: map[string][]byte{}, md5s: map[string]string{}, staged: map[string][]byte{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	t.Setenv("AZURE_STORAGE_ACCOUNT", "devstoreaccount1")
	t.Setenv("AZURE_STORAGE_KEY", base64.StdEncoding.EncodeToString([]byte("not a real key")))
	t.Setenv("AZURE_STORAGE_SAS_TOKEN", "")
	t.Setenv("AZURE_STORAGE_CONNECTION_STRING", "")
	host := strings.TrimPrefix(srv.URL, "http://")
	return open(t, "azblob://audit?protocol=http&domain="+host, sinks.OpenOptions{Retry: sinks.RetryPolicy{MaxTries: 1}}), f
}

func TestAzureUploadPath(t *testing.T) {
	b, f := azureBucket(t)
	ctx := context.Background()
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MiB: two 8 MiB blocks
	key := "_auditexport/log/00000000000000000001.json"
	w, err := b.PutBytes(ctx, key, data, sinks.PutOptions{IfNotExist: true})
	if err != nil {
		t.Fatalf("PutBytes: %v", err)
	}
	sum := md5.Sum(data)
	if got := f.md5s["/devstoreaccount1/audit/"+key]; got != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Errorf("x-ms-blob-content-md5 = %q, want the MD5 of the data", got)
	}
	blocks := 0
	for _, h := range f.headers {
		if h.Get("x-ms-content-crc64") != "" {
			blocks++
		}
	}
	if blocks < 2 {
		t.Errorf("%d staged blocks carried x-ms-content-crc64, want every block (>= 2)", blocks)
	}
	if w.Size != int64(len(data)) {
		t.Errorf("Written.Size = %d", w.Size)
	}

	// The conflict that panics gocloud's streaming writer: an error here.
	_, err = b.PutBytes(ctx, key, []byte("another writer"), sinks.PutOptions{IfNotExist: true})
	if !errors.Is(err, sinks.ErrExists) {
		t.Fatalf("IfNotExist conflict: %v, want ErrExists", err)
	}
	if got, err := b.ReadAll(ctx, key); err != nil || !bytes.Equal(got, data) {
		t.Errorf("after the conflict: %d bytes, %v", len(got), err)
	}
	if _, err := b.Attributes(ctx, "missing"); !errors.Is(err, sinks.ErrNotFound) {
		t.Errorf("Attributes(missing): %v", err)
	}
	_, err = b.PutBytes(ctx, "forbidden", []byte("x"), sinks.PutOptions{})
	if !errors.Is(err, sinks.ErrPermission) || !strings.Contains(err.Error(), "Storage Blob Data Contributor") {
		t.Errorf("403: %v, want ErrPermission naming the role", err)
	}
}

func TestAzureSASEndpointGuard(t *testing.T) {
	t.Setenv("AZURE_STORAGE_ACCOUNT", "acct")
	t.Setenv("AZURE_STORAGE_KEY", "")
	t.Setenv("AZURE_STORAGE_SAS_TOKEN", "sv=2022-11-02&sig=c2VjcmV0")
	_, err := sinks.Open(context.Background(), "azblob://c?domain=evil.example.com", sinks.OpenOptions{})
	if !errors.Is(err, sinks.ErrInvalid) || !strings.Contains(err.Error(), "AZURE_STORAGE_SAS_TOKEN") {
		t.Errorf("Open with a SAS and domain=: %v, want ErrInvalid", err)
	}
	if err != nil && strings.Contains(err.Error(), "c2VjcmV0") {
		t.Errorf("error leaks the SAS: %v", err)
	}
	b := open(t, "azblob://c", sinks.OpenOptions{})
	if b.String() != "azblob://c" {
		t.Errorf("String() = %q", b.String())
	}
}
