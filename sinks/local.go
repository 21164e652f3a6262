package sinks

// Local directory (file://) quirks.
//
// Options. Open gives fileblob metadata=skip (no .attrs sidecar next to every
// data file; so no stored MD5 or content type either) and no_tmp_dir (its
// temp files are written next to the key it writes and renamed, never
// across devices).
//
// Temp files. Every write on file:// (put, copy) goes through fileblob to a
// private temp key in localTempDir ("_auditexport/tmp/" under the bucket's
// prefix) and is then renamed (create-if-absent: linked) to its key. The
// temp directory is on the same filesystem, so the move is atomic, and it
// is no partition directory, where a reader that lists the directory
// (Athena, Spark, DuckDB) would read a half-written file as data. fileblob's
// own in-flight files ("<key>.<hex>.tmp", next to the key it writes) are
// therefore in that directory too. A killed process leaves them behind.
// List hides the directory; RemoveTempFiles deletes old files in it, and
// old "<name>.<hex>.tmp" files that older builds left next to their
// targets (List shows those, so that verify reports them).
//
// Create-if-absent. fileblob's IfNotExist is a stat followed by a rename,
// guarded by a mutex that belongs to the one writer: two writers (two
// goroutines or two processes) can both see the key absent and both
// "succeed", the second silently replacing the first. That breaks the commit
// protocol on a local archive. So an IfNotExist put on file:// uploads to a
// private temp key through Upload (localTempDir) and then publishes it with
// os.Link, which fails atomically with EEXIST when the key exists; the temp
// is removed either way. Hard links need a filesystem that has them (every
// local Linux one, NFS); where Link is refused, the put fails with that error
// rather than falling back to the racy check.
//
// Checksums. fileblob keeps no MD5 (metadata=skip), but it still checks
// ContentMD5 against what it wrote before it renames the file to its key,
// and that check is what stops a put whose source failed half way: gocloud's
// Upload closes (commits) the writer even when the reader returned an error.
// So puts on file:// pass ContentMD5 like everywhere else
// (TestLocalPutSourceChanged).
//
// Vanishing files. fileblob's walk stats every entry it reads; a file that
// is renamed or removed in between (another writer's temp file, staging
// being cleaned up) fails the whole listing with NotFound. List walks again,
// up to localListWalks times with short growing pauses (so that a burst of
// another run's publishing is over), before it reports that.
//
// Order. fileblob walks directories, so "a/b" comes out before "a.txt" though
// '.' < '/'; its page tokens then skip or repeat keys. List on file:// reads
// the listing in one page (grown until it holds everything) and sorts it.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// localTempDir holds the temp files of writes in flight, relative to the
// bucket's prefix.
const localTempDir = "_auditexport/tmp/"

// localTempRE matches the names fileblob (and older builds of this package)
// give temp files next to their target.
var localTempRE = regexp.MustCompile(`\.[0-9a-f]+\.tmp$`)

// inLocalTempDir reports whether a listed key is in a temp directory: this
// bucket's, or that of a bucket opened on a deeper prefix of the directory.
func inLocalTempDir(key string) bool {
	return strings.HasPrefix(key, localTempDir) || strings.Contains(key, "/"+localTempDir)
}

// localListWalks bounds the walks of one listing whose files keep vanishing;
// the pauses between them grow from 1ms to at most 100ms (about 1.5s in all).
const localListWalks = 20

func localWalkBackOff() *backoff.ExponentialBackOff {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval, bo.MaxInterval = time.Millisecond, 100*time.Millisecond
	return bo
}

func (b *Bucket) listLocal(ctx context.Context, prefix string, fn func(Object) error) error {
	objs, err := retry(ctx, b, "list", prefix, false, func() ([]Object, error) {
		// One page holding the whole listing: start at 64Ki objects and
		// rewalk 16 times bigger while fileblob says there is more.
		walks := 0
		var pause *backoff.ExponentialBackOff
		for size := 1 << 16; ; size <<= 4 {
			page, next, err := b.b.ListPage(ctx, blob.FirstPageToken, size, &blob.ListOptions{Prefix: prefix})
			if gcerrors.Code(err) == gcerrors.NotFound && walks < localListWalks {
				walks++
				if pause == nil {
					pause = localWalkBackOff()
				}
				select {
				case <-ctx.Done():
					return nil, ctx.Err()
				case <-time.After(pause.NextBackOff()):
				}
				size >>= 4 // the same size again
				continue
			}
			if err != nil {
				return nil, err
			}
			if len(next) > 0 && size < math.MaxInt32>>4 {
				continue
			}
			objs := make([]Object, 0, len(page))
			for _, o := range page {
				if o.IsDir || inLocalTempDir(o.Key) {
					continue
				}
				objs = append(objs, b.listObject(o))
			}
			return objs, nil
		}
	})
	if err != nil {
		return err
	}
	sortObjects(objs)
	for _, o := range objs {
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

// localPath maps a (validated) key to its file. validKey rules out every
// character fileblob would escape on Linux, so the mapping is the identity.
func (b *Bucket) localPath(key string) string {
	return filepath.Join(b.localDir, filepath.FromSlash(b.prefix+key))
}

// uploadLocal writes key on file:// through a temp key in localTempDir:
// renamed into place, or, with IfNotExist, linked (atomic create-if-absent).
func (b *Bucket) uploadLocal(ctx context.Context, key string, r io.Reader, wo *blob.WriterOptions) error {
	tmpKey, err := newLocalTempKey()
	if err != nil {
		return err
	}
	plain := *wo
	plain.IfNotExist = false
	if err := b.b.Upload(ctx, tmpKey, r, &plain); err != nil {
		return err
	}
	return b.moveLocal(tmpKey, key, wo.IfNotExist)
}

// copyLocal copies srcKey to dstKey on file:// through a temp key, so a
// killed copy leaves nothing next to dstKey.
func (b *Bucket) copyLocal(ctx context.Context, dstKey, srcKey string) error {
	tmpKey, err := newLocalTempKey()
	if err != nil {
		return err
	}
	if err := b.b.Copy(ctx, tmpKey, srcKey, nil); err != nil {
		return err
	}
	return b.moveLocal(tmpKey, dstKey, false)
}

// moveLocal moves a written temp key to key and removes the temp file.
func (b *Bucket) moveLocal(tmpKey, key string, ifNotExist bool) error {
	tmp, dst := b.localPath(tmpKey), b.localPath(key)
	defer os.Remove(tmp)
	if err := os.MkdirAll(filepath.Dir(dst), 0o777); err != nil {
		return err
	}
	if !ifNotExist {
		return os.Rename(tmp, dst)
	}
	if err := os.Link(tmp, dst); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return ErrExists
		}
		return err
	}
	return nil
}

func newLocalTempKey() (string, error) {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", err
	}
	return localTempDir + hex.EncodeToString(rnd[:]) + ".tmp", nil
}

// RemoveTempFiles deletes the temp files of interrupted writes last
// modified before cutoff, and returns how many it deleted. Only a
// local directory keeps such files (an upload to a cloud store is atomic);
// on other schemes it does nothing. On file:// it walks the directory under
// the prefix for files in a temp directory and "<name>.<hex>.tmp" files
// anywhere (see local.go). A write in flight touches its temp file as it
// goes, so a cut-off a grace period back leaves every live write alone.
func (b *Bucket) RemoveTempFiles(ctx context.Context, cutoff time.Time) (int, error) {
	const op = "delete"
	if b.closed.Load() {
		return 0, b.classify(op, localTempDir, ErrClosed, false)
	}
	if b.scheme != "file" {
		return 0, nil
	}
	root := filepath.Join(b.localDir, filepath.FromSlash(b.prefix))
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // gone since its directory was read
		}
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if !inLocalTempDir(filepath.ToSlash(rel)) && !localTempRE.MatchString(d.Name()) {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() || !info.ModTime().Before(cutoff) {
			return nil
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		return n, b.classify(op, localTempDir, err, false)
	}
	return n, nil
}
