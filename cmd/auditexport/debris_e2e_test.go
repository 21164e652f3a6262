package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter/archive"
)

// A temp file that a killed write left in a partition directory of a local
// archive (what directory-listing readers fail on with "No magic bytes
// found") fails verify, naming it; the next run removes it once older than
// run.staging_grace, and verify passes again.
func TestTempFileInPartitionDirectory(t *testing.T) {
	arch, land := copyArchive(t)
	parts, _ := filepath.Glob(filepath.Join(arch, "event_date=*"))
	if len(parts) == 0 {
		t.Fatalf("no partition directory in %s", arch)
	}
	key := filepath.Base(parts[0]) + "/part-00000-x.parquet.1234abcd.tmp"
	p := filepath.Join(arch, filepath.FromSlash(key))
	writeFile(t, filepath.Dir(p), filepath.Base(p), "PAR1 partial")
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}

	r := verifyCLI(t, arch)
	r.wantFinding(t, archive.KindUnexpectedFile, key)
	if r.doc.Errors != 1 {
		t.Errorf("%d errors, want only the temp file:\n%s", r.doc.Errors, r.text)
	}

	code, out, stderr := cli(t, "run", "--source.url", land, "--destination.url", arch, "--log.level", "warn")
	if code != exitOK {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, stderr)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("the run left %s (%v)", key, err)
	}
	verifyCLI(t, arch, "--read-data").wantClean(t)
}

// A run on a local destination never has a temp file in the partition
// layout, while it runs (where a reader listing a directory would read it)
// nor after; it leaves nothing in staging or in the temp directory.
func TestLocalRunKeepsTempFilesOutOfPartitions(t *testing.T) {
	dir := t.TempDir()
	land, arch := filepath.Join(dir, "land"), filepath.Join(dir, "arch")
	code, _, stderr := cli(t, "generate", "--out", land, "--start", "2026-11-01", "--days", "12",
		"--rows-per-day", "400", "--exports", "6", "--format", "csv", "--seed", "5")
	if code != exitOK {
		t.Fatalf("generate: %s", stderr)
	}

	// A reader that lists the layout as fast as it can during the run.
	var (
		stop  atomic.Bool
		seen  sync.Map
		scans atomic.Int64
		wg    sync.WaitGroup
	)
	layoutFiles := func(fn func(rel string)) {
		filepath.WalkDir(arch, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // the directory is being written
			}
			rel, _ := filepath.Rel(arch, p)
			if d.IsDir() {
				if rel == "_auditexport" {
					return filepath.SkipDir
				}
				return nil
			}
			fn(filepath.ToSlash(rel))
			return nil
		})
	}
	wg.Go(func() {
		for !stop.Load() {
			layoutFiles(func(rel string) {
				if base := filepath.Base(rel); !strings.HasSuffix(base, ".parquet") && base != archive.ManifestName && base != archive.SuccessName {
					seen.Store(rel, true)
				}
			})
			scans.Add(1)
		}
	})
	code, out, stderr := cli(t, "run", "--source.url", land, "--destination.url", arch, "--log.level", "warn")
	stop.Store(true)
	wg.Wait()
	if code != exitOK {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, stderr)
	}
	seen.Range(func(k, _ any) bool {
		t.Errorf("a reader listing the layout during the run saw %s", k)
		return true
	})
	t.Logf("%d scans of the layout during the run", scans.Load())
	layoutFiles(func(rel string) {
		if strings.HasSuffix(rel, ".tmp") {
			t.Errorf("the run left %s", rel)
		}
	})
	for _, d := range []string{archive.StagingPrefix, "_auditexport/tmp/"} {
		filepath.WalkDir(filepath.Join(arch, filepath.FromSlash(d)), func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				t.Errorf("the run left %s", p)
			}
			return nil
		})
	}
	verifyCLI(t, arch).wantClean(t)
}
