package sinks

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
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
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("a put whose source changed left %s", e.Name())
	}
	// The same bytes as hashed are stored and verified.
	w, err := b.put(ctx, "k", PutOptions{IfNotExist: true}, sums, func() (io.Reader, error) { return strings.NewReader("what was hashed"), nil })
	if err != nil || w.Size != int64(len("what was hashed")) {
		t.Fatalf("put of the hashed bytes: %+v, %v", w, err)
	}
	if got, err := os.ReadFile(b.localPath("k")); err != nil || string(got) != "what was hashed" {
		t.Errorf("stored %q, %v", got, err)
	}
}
