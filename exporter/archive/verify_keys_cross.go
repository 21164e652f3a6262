package archive

import (
	"bufio"
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// An event key in two partitions is an event archived twice: dedup reads
// only the key files of the partition it writes, so an event whose date
// moved (a change of partitioning.timezone, a source that re-dated it)
// lands again. crossPartition finds such keys across every partition in
// range with an external merge sort: each partition's distinct keys are a
// sorted run on local disk (written by mergeKeys), runs are merged
// mergeFanIn at a time until one pass over the rest sees every key in
// order. Memory and open files stay bounded by mergeFanIn, whatever the
// number of partitions; local disk holds 20 bytes per key.

// mergeFanIn is how many runs one merge reads at once. A variable so tests
// can force several merge levels.
var mergeFanIn = 64

// runRecord is one key of a run and the index of its partition.
const runRecord = len(Key{}) + 4

// maxDupPairs bounds the pairs of partitions counted one by one; pairs
// past it are only counted in all.
const maxDupPairs = 10000

// keyRuns are the sorted runs of one verify, in a temporary directory.
type keyRuns struct {
	dir   string
	mu    sync.Mutex
	paths []string
	seq   int
}

func newKeyRuns(workDir string) (*keyRuns, error) {
	dir, err := os.MkdirTemp(workDir, "auditexport-verify-keys-")
	if err != nil {
		return nil, fmt.Errorf("create a work directory for the key merge in %q: %w", workDir, err)
	}
	return &keyRuns{dir: dir}, nil
}

func (r *keyRuns) remove() { os.RemoveAll(r.dir) }

// create opens a new run for the keys of partition part.
func (r *keyRuns) create(part int) (*runWriter, error) {
	r.mu.Lock()
	r.seq++
	p := filepath.Join(r.dir, fmt.Sprintf("run-%06d", r.seq))
	r.mu.Unlock()
	f, err := os.Create(p)
	if err != nil {
		return nil, fmt.Errorf("create a key merge file (work dir): %w", err)
	}
	return &runWriter{f: f, w: bufio.NewWriterSize(f, 64<<10), part: uint32(part), path: p, runs: r}, nil
}

// runWriter writes one sorted run.
type runWriter struct {
	f    *os.File
	w    *bufio.Writer
	part uint32
	path string
	n    int64
	runs *keyRuns
}

// add appends a key of the writer's partition.
func (w *runWriter) add(k Key) error {
	var rec [runRecord]byte
	copy(rec[:], k[:])
	binary.BigEndian.PutUint32(rec[len(k):], w.part)
	return w.addRecord(rec[:])
}

func (w *runWriter) addRecord(rec []byte) error {
	if _, err := w.w.Write(rec); err != nil {
		return fmt.Errorf("write a key merge file (work dir): %w", err)
	}
	w.n++
	return nil
}

// close finishes the run; a run with keys joins the next merge.
func (w *runWriter) close() error {
	err := w.w.Flush()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write a key merge file (work dir): %w", err)
	}
	if w.n == 0 {
		os.Remove(w.path)
		return nil
	}
	w.runs.mu.Lock()
	w.runs.paths = append(w.runs.paths, w.path)
	w.runs.mu.Unlock()
	return nil
}

// crossPartition reports event keys held by more than one partition.
func (v *verifier) crossPartition(ctx context.Context, runs *keyRuns, parts []string) error {
	paths := slices.Clone(runs.paths)
	slices.Sort(paths)
	runs.paths = nil
	for len(paths) > mergeFanIn {
		var next []string
		for i := 0; i < len(paths); i += mergeFanIn {
			if err := ctx.Err(); err != nil {
				return err
			}
			group := paths[i:min(i+mergeFanIn, len(paths))]
			if len(group) == 1 {
				next = append(next, group[0])
				continue
			}
			out, err := runs.create(0)
			if err != nil {
				return err
			}
			err = mergeRuns(group, out.addRecord)
			if cerr := out.close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			for _, p := range group {
				os.Remove(p)
			}
			next = append(next, out.path)
		}
		paths = next
	}
	type pair struct{ a, b uint32 }
	pairs := map[pair]int64{}
	var (
		cur          [len(Key{})]byte
		first        uint32
		seen         int // records of the current key
		keys, others int64
	)
	err := mergeRuns(paths, func(rec []byte) error {
		part := binary.BigEndian.Uint32(rec[len(cur):])
		if seen > 0 && bytes.Equal(rec[:len(cur)], cur[:]) {
			if seen == 1 {
				keys++
			}
			seen++
			p := pair{first, part}
			if _, ok := pairs[p]; ok || len(pairs) < maxDupPairs {
				pairs[p]++
			} else {
				others++
			}
			return nil
		}
		copy(cur[:], rec)
		first, seen = part, 1
		return nil
	})
	if err != nil {
		return err
	}
	if keys == 0 {
		return nil
	}
	list := make([]pair, 0, len(pairs))
	for p := range pairs {
		list = append(list, p)
	}
	slices.SortFunc(list, func(x, y pair) int {
		return cmp.Or(cmp.Compare(pairs[y], pairs[x]), cmp.Compare(x.a, y.a), cmp.Compare(x.b, y.b))
	})
	var eg []string
	for _, p := range list[:min(len(list), 5)] {
		eg = append(eg, fmt.Sprintf("%d in both %s and %s", pairs[p], parts[p.a], parts[p.b]))
	}
	switch more := len(list) - len(eg); {
	case others > 0:
		eg = append(eg, fmt.Sprintf("and over %d more pairs of partitions", more))
	case more > 0:
		eg = append(eg, fmt.Sprintf("and %d more pairs of partitions", more))
	}
	v.rep.errorf(KindDuplicateKey, KeysPrefix, "%d event keys are in the key files of more than one partition: each such event is archived once in every partition that holds it (e.g. after a change of partitioning.timezone); %s",
		keys, strings.Join(eg, "; "))
	return nil
}

// mergeRuns calls fn with the records of the sorted runs at paths, in
// order (by key, then partition).
func mergeRuns(paths []string, fn func(rec []byte) error) error {
	var h runHeap
	defer func() {
		for _, r := range h {
			r.f.Close()
		}
	}()
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("read a key merge file (work dir): %w", err)
		}
		r := &runReader{f: f, r: bufio.NewReaderSize(f, 64<<10)}
		ok, err := r.next()
		if err != nil || !ok {
			f.Close()
			if err != nil {
				return err
			}
			continue
		}
		h = append(h, r)
	}
	heap.Init(&h)
	for h.Len() > 0 {
		r := h[0]
		if err := fn(r.rec[:]); err != nil {
			return err
		}
		ok, err := r.next()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(&h, 0)
		} else {
			r.f.Close()
			heap.Pop(&h)
		}
	}
	return nil
}

// runReader reads one run record by record.
type runReader struct {
	f   *os.File
	r   *bufio.Reader
	rec [runRecord]byte
}

func (r *runReader) next() (bool, error) {
	_, err := io.ReadFull(r.r, r.rec[:])
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read a key merge file (work dir): %w", err)
	}
	return true, nil
}

type runHeap []*runReader

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return bytes.Compare(h[i].rec[:], h[j].rec[:]) < 0 }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	*h = old[:len(old)-1]
	return r
}
