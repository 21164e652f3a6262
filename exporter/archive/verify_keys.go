package archive

import (
	"bufio"
	"bytes"
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"

	"github.com/auditexport/auditexport/sinks"
)

// checkKeys reads the key files of every partition in range, as a run's
// dedup reads them, and checks each against its commit (size, sha256, key
// count, sorted, no key twice), each partition as a whole (no event key in
// two key files, and as many keys as the committed files hold rows) and
// the partitions together (no event key in two partitions). Key files are
// sorted, so a partition's files are merged as streams into one sorted run
// of its distinct keys on local disk, and the runs of all partitions are
// merged in turn (crossPartition): memory stays bounded by the number of
// files a partition has, not by the number of keys or partitions.
func (v *verifier) checkKeys(ctx context.Context) error {
	byPart := map[string][]string{}
	for _, o := range v.keyObjs {
		if p := partitionOfKeys(o.Key); strings.HasSuffix(o.Key, ".keys") && v.inRange(p) {
			byPart[p] = append(byPart[p], o.Key)
		}
	}
	// Rows each commit adds to each partition, for the partition totals.
	type cp struct {
		commit int64
		part   string
	}
	rows := map[cp]int64{}
	for _, f := range v.files {
		if v.inRange(f.Partition) {
			rows[cp{f.commit, f.Partition}] += f.Rows
			if _, ok := byPart[f.Partition]; !ok {
				byPart[f.Partition] = nil
			}
		}
	}
	want := map[string]int64{}
	for k, n := range rows {
		if v.published[k.commit] || v.keyFilePresent(k.commit, k.part) {
			want[k.part] += n
		}
	}
	parts := sortedKeys(byPart)
	runs, err := newKeyRuns(v.o.WorkDir)
	if err != nil {
		return err
	}
	defer runs.remove()
	err = forEach(ctx, v.o.Workers, len(parts), func(ctx context.Context, i int) error {
		p := parts[i]
		keys := byPart[p]
		slices.Sort(keys)
		out, err := runs.create(i)
		if err != nil {
			return err
		}
		got, err := v.mergeKeys(ctx, p, keys, out)
		if cerr := out.close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		if got != want[p] {
			v.rep.errorf(KindRowsMismatch, KeysDir(p), "the partition's key files hold %d event keys, its committed files %d rows", got, want[p])
		}
		return nil
	})
	if err != nil {
		return err
	}
	return v.crossPartition(ctx, runs, parts)
}

// keyFilePresent reports whether commit n's key file for a partition is in
// the bucket.
func (v *verifier) keyFilePresent(n int64, part string) bool {
	for _, k := range v.commits[n].Keys {
		if k.Partition == part {
			_, ok := v.objs[k.Key]
			return ok
		}
	}
	return false
}

// mergeKeys streams a partition's key files in key order, writing each
// distinct key once to out, and returns how many keys they hold in all.
func (v *verifier) mergeKeys(ctx context.Context, part string, keys []string, out *runWriter) (int64, error) {
	streams := make([]*keyStream, 0, len(keys))
	defer func() {
		for _, s := range streams {
			s.rc.Close()
		}
	}()
	var h keyHeap
	for _, k := range keys {
		rc, err := v.b.NewReader(ctx, k)
		if errors.Is(err, sinks.ErrNotFound) {
			continue // removed since the listing
		}
		if err != nil {
			return 0, fmt.Errorf("read key file %s: %w", k, err)
		}
		s := &keyStream{key: k, rc: rc, h: sha256.New()}
		s.r = bufio.NewReaderSize(io.TeeReader(rc, s.h), 64<<10)
		streams = append(streams, s)
		if err := s.start(); err != nil {
			return 0, err
		}
		if s.next() {
			h = append(h, s)
		}
		if s.err != nil {
			return 0, s.err
		}
	}
	heap.Init(&h)
	type pair struct{ a, b string }
	shared := map[pair]int64{}
	var last Key
	lastFile := ""
	for h.Len() > 0 {
		s := h[0]
		if lastFile != "" && s.cur == last {
			shared[pair{lastFile, s.key}]++
		} else {
			last, lastFile = s.cur, s.key
			if err := out.add(s.cur); err != nil {
				return 0, err
			}
		}
		if s.next() {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
		if s.err != nil {
			return 0, s.err
		}
	}
	var total int64
	for _, s := range streams {
		if err := s.drain(); err != nil {
			return 0, err
		}
		total += s.n
		v.checkKeyStream(s)
	}
	pairs := make([]pair, 0, len(shared))
	for p := range shared {
		pairs = append(pairs, p)
	}
	slices.SortFunc(pairs, func(x, y pair) int { return strings.Compare(x.a+"\x00"+x.b, y.a+"\x00"+y.b) })
	for _, p := range pairs {
		// Name the copy no commit lists, else the later file.
		at := p.b
		_, aCommitted := v.keyFiles[p.a]
		_, bCommitted := v.keyFiles[p.b]
		if bCommitted && !aCommitted {
			at = p.a
		}
		v.rep.errorf(KindDuplicateKey, at, "%d event keys of %s are in both %s and %s: an event is archived twice, or a key file was copied",
			shared[p], part, p.a, p.b)
	}
	v.rep.mu.Lock()
	v.rep.Keys += total
	v.rep.mu.Unlock()
	return total, nil
}

// checkKeyStream compares a read key file with what its commit recorded.
func (v *verifier) checkKeyStream(s *keyStream) {
	switch {
	case s.badMagic:
		v.rep.errorf(KindKeysDamaged, s.key, "not a key file: it does not start with %q", strings.TrimSpace(keysMagic))
		return
	case s.tail > 0:
		v.rep.errorf(KindKeysDamaged, s.key, "truncated: %d bytes after the last whole 16-byte key", s.tail)
	case s.unsorted:
		v.rep.errorf(KindKeysDamaged, s.key, "keys are not in ascending order (key %d): runs may still read it, but verify cannot prove it holds no duplicates", s.unsortedAt)
	}
	if s.dups > 0 {
		v.rep.errorf(KindDuplicateKey, s.key, "holds %d event keys twice", s.dups)
	}
	k, ok := v.keyFiles[s.key]
	if !ok {
		return // reported by checkLayout
	}
	if sum := hex.EncodeToString(s.h.Sum(nil)); sum != k.SHA256 {
		v.rep.errorf(KindSHA256Mismatch, s.key, "sha256 is %s, commit %d recorded %s", short(sum), k.commit, short(k.SHA256))
	}
	if s.n != k.Count {
		v.rep.errorf(KindRowsMismatch, s.key, "holds %d keys, commit %d recorded %d", s.n, k.commit, k.Count)
	}
}

// keyStream reads one key file key by key, hashing every byte.
type keyStream struct {
	key string
	rc  io.ReadCloser
	r   *bufio.Reader
	h   hash.Hash

	cur, prev  Key
	n          int64 // keys read
	dups       int64 // keys equal to the one before
	unsorted   bool
	unsortedAt int64
	badMagic   bool
	tail       int // bytes after the last whole key
	done       bool
	err        error
}

// start reads the magic line.
func (s *keyStream) start() error {
	head := make([]byte, len(keysMagic))
	_, err := io.ReadFull(s.r, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("read key file %s: %w", s.key, err)
	}
	if !bytes.Equal(head, []byte(keysMagic)) {
		s.badMagic, s.done = true, true
	}
	return nil
}

// next moves to the next key in order, skipping a key equal to the one
// before (counted in dups). It returns false at the end, or when the file
// turns out unsorted or damaged: the rest is only hashed.
func (s *keyStream) next() bool {
	for !s.done {
		var k Key
		n, err := io.ReadFull(s.r, k[:])
		if errors.Is(err, io.EOF) {
			s.done = true
			return false
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			s.tail, s.done = n, true
			return false
		}
		if err != nil {
			s.err, s.done = fmt.Errorf("read key file %s: %w", s.key, err), true
			return false
		}
		s.n++
		if s.n > 1 {
			switch c := bytes.Compare(k[:], s.prev[:]); {
			case c == 0:
				s.dups++
				continue
			case c < 0:
				s.unsorted, s.unsortedAt, s.done = true, s.n, true
				return false
			}
		}
		s.prev, s.cur = k, k
		return true
	}
	return false
}

// drain reads (and hashes) what is left, counting the whole keys in it.
func (s *keyStream) drain() error {
	if s.err != nil {
		return s.err
	}
	if s.badMagic {
		_, err := io.Copy(io.Discard, s.r)
		return err
	}
	if s.tail > 0 {
		return nil
	}
	n, err := io.Copy(io.Discard, s.r)
	if err != nil {
		return fmt.Errorf("read key file %s: %w", s.key, err)
	}
	s.n += n / 16
	s.tail = int(n % 16)
	return nil
}

// keyHeap orders key streams by their current key, then by file.
type keyHeap []*keyStream

func (h keyHeap) Len() int { return len(h) }
func (h keyHeap) Less(i, j int) bool {
	if c := bytes.Compare(h[i].cur[:], h[j].cur[:]); c != 0 {
		return c < 0
	}
	return h[i].key < h[j].key
}
func (h keyHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *keyHeap) Push(x any)   { *h = append(*h, x.(*keyStream)) }
func (h *keyHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	*h = old[:len(old)-1]
	return s
}
