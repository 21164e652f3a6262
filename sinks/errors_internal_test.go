package sinks

import (
	"errors"
	"io/fs"
	"testing"
)

func TestClassifyLocalPermission(t *testing.T) {
	b := &Bucket{url: "file:///archive", scheme: "file", prefix: "audit/"}
	// Root ignores file modes, so the os error is made by hand.
	err := b.classify("put", "k", &fs.PathError{Op: "open", Path: "/archive/audit/k", Err: fs.ErrPermission}, false)
	if !errors.Is(err, ErrPermission) || !IsPermanent(err) {
		t.Fatalf("err = %v, want a permanent ErrPermission", err)
	}
	want := "put audit/k in file:///archive: permission denied (needs write permission on the directory): open /archive/audit/k: permission denied"
	if err.Error() != want {
		t.Errorf("message\n got %q\nwant %q", err.Error(), want)
	}
	// Classified once: classifying again returns the same error.
	if again := b.classify("list", "x", err, false); again != err {
		t.Errorf("classify wrapped a classified error: %v", again)
	}
}

func TestClassifyConditional(t *testing.T) {
	b := &Bucket{url: "mem://", scheme: "mem"}
	precondition := gocloudPrecondition(t)
	if err := b.classify("put", "k", precondition, true); !errors.Is(err, ErrExists) {
		t.Errorf("conditional put: %v, want ErrExists", err)
	}
	if err := b.classify("put", "k", precondition, false); errors.Is(err, ErrExists) || !IsPermanent(err) {
		t.Errorf("unconditional FailedPrecondition: %v, want permanent and not ErrExists", err)
	}
}

// A missing local directory (fileblob reports the os error itself) is
// ErrNotFound, which is permanent.
func TestClassifyLocalMissing(t *testing.T) {
	b := &Bucket{url: "file:///nope", scheme: "file"}
	err := b.classify("open", "", &fs.PathError{Op: "stat", Path: "/nope", Err: fs.ErrNotExist}, false)
	if !errors.Is(err, ErrNotFound) || !IsPermanent(err) {
		t.Fatalf("err = %v, want a permanent ErrNotFound", err)
	}
}
