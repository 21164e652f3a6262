package sinks_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

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

// A write in flight is a file in _auditexport/tmp/, which List hides; a
// temp file next to its target (what a killed write of an older build, or
// of fileblob itself, left behind) is listed, so that verify can report it,
// and RemoveTempFiles deletes both kinds once old, and nothing else.
func TestLocalTempFiles(t *testing.T) {
	dir := t.TempDir()
	b := open(t, "file://"+dir, sinks.OpenOptions{Prefix: "audit"})
	ctx := context.Background()
	if _, err := b.PutBytes(ctx, "p/part-0.parquet", []byte("data"), sinks.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "audit")
	old, now := time.Now().Add(-48*time.Hour), time.Now()
	plant := func(rel string, mtime time.Time) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	plant("p/part-1.parquet.18a3f4c2b9d1e000.tmp", old)
	plant("p/part-0.parquet.0123456789abcdef.tmp", now)
	plant("_auditexport/tmp/0123456789abcdef.tmp", old)
	plant("_auditexport/tmp/0123456789abcdef.tmp.18a3f4c2b9d1e000.tmp", now)
	plant("p/notes.tmp", old)
	var keys []string
	if err := b.List(ctx, "", func(o sinks.Object) error { keys = append(keys, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []string{"p/notes.tmp", "p/part-0.parquet", "p/part-0.parquet.0123456789abcdef.tmp", "p/part-1.parquet.18a3f4c2b9d1e000.tmp"}
	if !slices.Equal(keys, want) {
		t.Errorf("List = %q, want %q", keys, want)
	}

	n, err := b.RemoveTempFiles(ctx, now.Add(-time.Hour))
	if err != nil || n != 2 {
		t.Errorf("RemoveTempFiles = %d, %v; want the 2 old temp files", n, err)
	}
	var left []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			left = append(left, filepath.ToSlash(rel))
		}
		return err
	})
	slices.Sort(left)
	want = []string{"_auditexport/tmp/0123456789abcdef.tmp.18a3f4c2b9d1e000.tmp", "p/notes.tmp", "p/part-0.parquet", "p/part-0.parquet.0123456789abcdef.tmp"}
	if !slices.Equal(left, want) {
		t.Errorf("after RemoveTempFiles: %q, want %q", left, want)
	}

	mem := open(t, "mem://", sinks.OpenOptions{})
	if n, err := mem.RemoveTempFiles(ctx, now); n != 0 || err != nil {
		t.Errorf("RemoveTempFiles on mem:// = %d, %v", n, err)
	}
}

// Puts and copies on file:// leave no file in the directory of their key
// but the key itself.
func TestLocalWritesLeaveNothingNextToTheKey(t *testing.T) {
	dir := t.TempDir()
	b := open(t, "file://"+dir, sinks.OpenOptions{})
	ctx := context.Background()
	for i, o := range []sinks.PutOptions{{}, {IfNotExist: true}} {
		if _, err := b.PutBytes(ctx, fmt.Sprintf("p/put-%d", i), []byte("v"), o); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Copy(ctx, "p/copy", "p/put-0"); err != nil {
		t.Fatal(err)
	}
	if err := b.Copy(ctx, "p/copy", "p/put-1"); err != nil {
		t.Errorf("Copy over an existing key: %v", err)
	}
	if err := b.Copy(ctx, "p/copy-of-nothing", "p/absent"); !errors.Is(err, sinks.ErrNotFound) {
		t.Errorf("Copy of a missing key: %v, want ErrNotFound", err)
	}
	ents, err := os.ReadDir(filepath.Join(dir, "p"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if want := []string{"copy", "put-0", "put-1"}; !slices.Equal(names, want) {
		t.Errorf("p/ holds %q, want %q", names, want)
	}
	tmps, _ := os.ReadDir(filepath.Join(dir, "_auditexport", "tmp"))
	for _, e := range tmps {
		t.Errorf("temp file left: %s", e.Name())
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
// bucket (two runs publishing into one archive): a listing never fails
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
	if err := os.MkdirAll(filepath.Join(dir, "_auditexport", "tmp"), 0o755); err != nil {
		t.Fatal(err)
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
				tmp := filepath.Join(dir, "_auditexport", "tmp", fmt.Sprintf("%x%x.tmp", w, i))
				if err := os.WriteFile(tmp, nil, 0o644); err == nil {
					os.Remove(tmp)
				}
			}
		})
	}
	defer func() { close(stop); wg.Wait() }()
	for range 300 {
		n := 0
		if err := b.List(ctx, "", func(sinks.Object) error { n++; return nil }); err != nil {
			t.Fatalf("List while temp files come and go: %v", err)
		}
		if n != 50 {
			t.Fatalf("List = %d objects, want 50", n)
		}
	}
}
