package sinks

// Local directory (file://) quirks.
//
// Options. Open gives fileblob metadata=skip (no .attrs sidecar next to every
// data file; so no stored MD5 or content type either) and no_tmp_dir (temp
// files are written next to the target and renamed, never across devices).
//
// Temp files. fileblob names its in-flight files "<key>.<hex>.tmp", and a
// crash leaves them behind. List hides names of that form, so a reader of
// the layout through this package never sees a half-written object as data.
//
// Create-if-absent. fileblob's IfNotExist is a stat followed by a rename,
// guarded by a mutex that belongs to the one writer: two writers (two
// goroutines or two processes) can both see the key absent and both
// "succeed", the second silently replacing the first. That breaks the commit
// protocol on a local archive. So an IfNotExist put on file:// uploads to a
// private temp key through Upload (same directory) and then publishes it with
// os.Link, which fails atomically with EEXIST when the key exists; the temp
// is removed either way. Hard links need a filesystem that has them (every
// local Linux one, NFS); where Link is refused, the put fails with that error
// rather than falling back to the racy check.
//
// Checksums. fileblob keeps no MD5 (metadata=skip), but it still checks
// ContentMD5 against what it wrote before it renames the file into place,
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
	"time"

	"github.com/cenkalti/backoff/v5"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

var localTempRE = regexp.MustCompile(`\.[0-9a-f]+\.tmp$`)

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
				if o.IsDir || localTempRE.MatchString(o.Key) {
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

// uploadLocalIfNotExist is the atomic create-if-absent for file://.
func (b *Bucket) uploadLocalIfNotExist(ctx context.Context, key string, r io.Reader, wo *blob.WriterOptions) error {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	tmpKey := key + "." + hex.EncodeToString(rnd[:]) + ".tmp"
	plain := *wo
	plain.IfNotExist = false
	if err := b.b.Upload(ctx, tmpKey, r, &plain); err != nil {
		return err
	}
	tmp := b.localPath(tmpKey)
	defer os.Remove(tmp)
	if err := os.Link(tmp, b.localPath(key)); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return ErrExists
		}
		return err
	}
	return nil
}
