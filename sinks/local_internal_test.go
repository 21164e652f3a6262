package sinks

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A put on file:// whose source changes between hashing and upload fails
// and publishes nothing, with or without IfNotExist. gocloud's Upload
// commits the writer even after the reader's error: it is fileblob's
// ContentMD5 check that discards the file, so the put must keep passing it.
func TestLocalPutSourceChanged(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := Open(ctx, "file://"+dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sums, _ := hashAll(strings.NewReader("what was hashed"))
	for _, ifNotExist := range []bool{false, true} {
		for _, now := range []string{"what was HASHED", "what was hashed, then more", "short"} {
			_, err := b.put(ctx, "k", PutOptions{IfNotExist: ifNotExist}, sums, func() (io.Reader, error) { return strings.NewReader(now), nil })
			if !errors.Is(err, ErrIntegrity) || !strings.Contains(err.Error(), "source changed") {
				t.Errorf("IfNotExist %v, source now %q: %v, want ErrIntegrity", ifNotExist, now, err)
			}
		}
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("a put whose source changed left %s", p)
		}
		return err
	})
	// The same bytes as hashed are stored and verified.
	w, err := b.put(ctx, "k", PutOptions{IfNotExist: true}, sums, func() (io.Reader, error) { return strings.NewReader("what was hashed"), nil })
	if err != nil || w.Size != int64(len("what was hashed")) {
		t.Fatalf("put of the hashed bytes: %+v, %v", w, err)
	}
	if got, err := os.ReadFile(b.localPath("k")); err != nil || string(got) != "what was hashed" {
		t.Errorf("stored %q, %v", got, err)
	}
}

// While a put or a copy on file:// is in flight, its only file is in
// _auditexport/tmp/: nothing sits in the directory of its key, where a
// reader listing a partition directory would read a partial file (and
// where a killed process would leave it).
func TestLocalInFlightOutsideTheKeysDirectory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := Open(ctx, "file://"+dir, OpenOptions{Prefix: "audit"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	root := filepath.Join(dir, "audit")
	part := filepath.Join(root, "event_date=2026-11-25")
	if err := os.MkdirAll(part, 0o755); err != nil {
		t.Fatal(err)
	}
	inFlight := func(what string, done ...string) {
		t.Helper()
		ents, err := os.ReadDir(part)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if !slices.Contains(done, e.Name()) {
				t.Errorf("%s in flight: %s is in the partition directory", what, e.Name())
			}
		}
		tmps, _ := os.ReadDir(filepath.Join(root, "_auditexport", "tmp"))
		if len(tmps) == 0 {
			t.Errorf("%s in flight: nothing in _auditexport/tmp/", what)
		}
		if err := b.List(ctx, "", func(o Object) error {
			if !slices.Contains(done, path.Base(o.Key)) {
				t.Errorf("%s in flight: List shows %s", what, o.Key)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}

	// A put whose source stops half way until the test has looked.
	data := []byte(strings.Repeat("x", 1<<16))
	sums, _ := hashAll(strings.NewReader(string(data)))
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := b.put(ctx, "event_date=2026-11-25/part-0.parquet", PutOptions{}, sums, func() (io.Reader, error) { return pr, nil })
		done <- err
	}()
	if _, err := pw.Write(data[:1<<15]); err != nil {
		t.Fatal(err)
	}
	inFlight("a put")
	pw.Write(data[1<<15:])
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// A copy whose source is a pipe that is written half way.
	fifo := filepath.Join(root, "src")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	go func() { done <- b.Copy(ctx, "event_date=2026-11-25/part-1.parquet", "src") }()
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data[:1<<15]); err != nil {
		t.Fatal(err)
	}
	os.Remove(fifo) // so that List does not show it; the copy has it open
	inFlightCopy := func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			tmps, _ := os.ReadDir(filepath.Join(root, "_auditexport", "tmp"))
			if len(tmps) > 0 || time.Now().After(deadline) {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	inFlightCopy()
	inFlight("a copy", "part-0.parquet")
	w.Write(data[1<<15:])
	w.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	ents, _ := os.ReadDir(part)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if want := []string{"part-0.parquet", "part-1.parquet"}; !slices.Equal(names, want) {
		t.Errorf("the partition directory holds %q, want %q", names, want)
	}
	if tmps, _ := os.ReadDir(filepath.Join(root, "_auditexport", "tmp")); len(tmps) != 0 {
		t.Errorf("temp files left: %v", tmps)
	}
}
