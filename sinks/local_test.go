package sinks_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/auditexport/auditexport/sinks"
)

// Two Buckets opened separately on one directory stand for two processes:
// exactly one create-if-absent wins (fileblob alone lets several "win").
func TestLocalIfNotExistAcrossBuckets(t *testing.T) {
	dir := t.TempDir()
	const n = 16
	for round := range 5 {
		key := fmt.Sprintf("_auditexport/log/%020d.json", round)
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			b := open(t, dir, sinks.OpenOptions{})
			wg.Go(func() {
				_, errs[i] = b.PutBytes(context.Background(), key, fmt.Appendf(nil, `{"writer":%d}`, i), sinks.PutOptions{IfNotExist: true})
			})
		}
		wg.Wait()
		wins := 0
		for i, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, sinks.ErrExists):
				t.Errorf("writer %d: %v", i, err)
			}
		}
		if wins != 1 {
			t.Errorf("round %d: %d writers created %s, want 1", round, wins, key)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "_auditexport", "log", "*.tmp"))
	if len(leftovers) != 0 {
		t.Errorf("temp files left: %q", leftovers)
	}
}

func TestLocalTempFilesHidden(t *testing.T) {
	dir := t.TempDir()
	b := open(t, "file://"+dir, sinks.OpenOptions{})
	ctx := context.Background()
	if _, err := b.PutBytes(ctx, "p/part-0.parquet", []byte("data"), sinks.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	// What a crash mid-upload leaves behind, in fileblob's naming and ours.
	for _, name := range []string{"part-1.parquet.18a3f4c2b9d1e000.tmp", "part-0.parquet.0123456789abcdef.tmp"} {
		if err := os.WriteFile(filepath.Join(dir, "p", name), []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var keys []string
	if err := b.List(ctx, "", func(o sinks.Object) error { keys = append(keys, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"p/part-0.parquet"}; !slices.Equal(keys, want) {
		t.Errorf("List = %q, want %q", keys, want)
	}
}

// Temp files go next to the target, not to $TMPDIR (which may be another
// device, or, here, not exist at all).
func TestLocalNoTempDir(t *testing.T) {
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "does-not-exist"))
	b := open(t, t.TempDir(), sinks.OpenOptions{})
	ctx := context.Background()
	for _, o := range []sinks.PutOptions{{}, {IfNotExist: true}} {
		if _, err := b.PutBytes(ctx, fmt.Sprintf("k%v", o.IfNotExist), []byte("v"), o); err != nil {
			t.Errorf("PutBytes(%+v) with TMPDIR missing: %v", o, err)
		}
	}
	if err := b.Copy(ctx, "copy", "kfalse"); err != nil {
		t.Errorf("Copy with TMPDIR missing: %v", err)
	}
}

func TestLocalCreateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	if _, err := sinks.Open(context.Background(), dir, sinks.OpenOptions{}); err == nil {
		t.Error("Open of a missing directory without CreateDir succeeded")
	}
	open(t, "file://"+dir, sinks.OpenOptions{CreateDir: true})
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("CreateDir did not create %s: %v", dir, err)
	}
}

// Another process's temp files come and go while a run lists the same
// directory (two runs publishing into one archive): a listing never fails
// because a file vanished between the directory read and its stat.
func TestLocalListWhileFilesVanish(t *testing.T) {
	dir := t.TempDir()
	b := open(t, "file://"+dir, sinks.OpenOptions{})
	ctx := context.Background()
	for i := range 50 {
		if _, err := b.PutBytes(ctx, fmt.Sprintf("p/%03d", i), []byte("x"), sinks.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				tmp := filepath.Join(dir, "p", fmt.Sprintf("%03d.%x%x.tmp", i%50, w, i))
				if err := os.WriteFile(tmp, nil, 0o644); err == nil {
					os.Remove(tmp)
				}
			}
		})
	}
	defer func() { close(stop); wg.Wait() }()
	for range 300 {
		n := 0
		if err := b.List(ctx, "p/", func(sinks.Object) error { n++; return nil }); err != nil {
			t.Fatalf("List while temp files come and go: %v", err)
		}
		if n != 50 {
			t.Fatalf("List = %d objects, want 50", n)
		}
	}
}
