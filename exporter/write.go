package exporter

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"golang.org/x/sync/errgroup"

	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/sinks"
)

// noCategory counts events whose category cell is empty.
const noCategory = "(none)"

// partResult is what writing one partition produced: its counts and the
// objects it staged. Partitions are written concurrently, each into its
// own partResult; writePartitions merges them in partition order.
type partResult struct {
	stats      PartitionStats
	staged     []archive.File
	keys       *archive.KeyFile
	bytes      int64
	categories map[string]*categoryCount
}

// categoryCount counts a partition's events of one category.
type categoryCount struct {
	n       int64
	unknown bool // not a category of the catalog
}

// writer is the write stage: it reads the read stage's spills back and
// stages the events the archive does not hold as Parquet files, with a key
// file per partition. It takes the columns and spills the read stage
// produced; what it keeps between attempts is only what its partition
// writers share (batches, and the columns learnt to be written plain).
type writer struct {
	o      *Options
	log    *slog.Logger
	work   string       // local directory for encoded files and buckets
	cols   *columnSet   // the read stage's output columns
	spills *spills      // the read stage's spills, one per partition
	phase  func(string) // reports reaching a phase point
	// lookbackFrom is the read stage's: an event older than it is late.
	lookbackFrom int64

	// progress counts the attempt's written partitions, rows and staged
	// bytes for Options.Progress.
	progress writeProgress

	attempt   int          // the attempt being written, which names its staging directory
	batches   batchPool    // column batches reused by the partition writers
	plainCols plainColumns // columns written without a dictionary from now on
}

// newWriter starts the write stage over what rd read.
func newWriter(o *Options, log *slog.Logger, work string, rd *reader, phase func(string)) *writer {
	return &writer{o: o, log: log, work: work, cols: rd.cols, spills: rd.spills, lookbackFrom: rd.lookbackFrom, phase: phase}
}

// writePartitions reads each partition's spill back, drops events whose key
// it has seen in this run or finds committed in the archive, and encodes the
// rest as Parquet files staged in the destination with a key file per
// partition. In a dry run it only counts. It can run again after a lost
// commit race: it starts from the spills each time. Up to Options.Workers
// partitions are written at once; which events land where does not depend
// on it (how a column is encoded may: see plainColumns).
func (wr *writer) writePartitions(ctx context.Context, attempt int) (*staged, error) {
	wr.attempt = attempt
	sc := wr.outputSchema()
	// Checked here once; each partition takes its own (writerProps).
	if _, err := wr.writerProps(); err != nil {
		return &staged{}, err
	}
	meta, err := wr.fileMeta()
	if err != nil {
		return &staged{}, err
	}
	catCol, hasCat := wr.cols.index[wr.o.CategoryColumn]
	parts := wr.spills.partitions()
	results := make([]*partResult, len(parts))
	wr.progress = writeProgress{report: wr.o.Progress, total: len(parts)}
	wr.progress.add(0, 0, 0)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(wr.o.Workers)
	for i, part := range parts {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			res := &partResult{stats: PartitionStats{Partition: part}, categories: map[string]*categoryCount{}}
			results[i] = res
			if err := wr.writePartition(gctx, part, res, sc, meta, catCol, hasCat); err != nil {
				return err
			}
			wr.log.Info("partition", "partition", part, "rows", res.stats.Rows, "duplicate", res.stats.Duplicate,
				"already_archived", res.stats.Archived, "files", res.stats.Files)
			if wr.o.DryRun {
				wr.progress.add(1, res.stats.Rows, 0)
			} else {
				wr.progress.add(1, 0, 0) // rows and bytes were counted as files were staged
			}
			return nil
		})
	}
	err = g.Wait()
	// Merge even after a failure: what a failed attempt staged is known, so
	// it can be removed.
	st := &staged{}
	for _, res := range results {
		if res != nil {
			st.add(res)
		}
	}
	return st, err
}

// writeProgress reports the write stage's progress to Options.Progress,
// from every partition writer at once.
type writeProgress struct {
	report func(ProgressEvent)
	mu     sync.Mutex
	total  int
	parts  int
	rows   int64
	bytes  int64
}

// add counts partitions finished, rows encoded and bytes staged, and
// reports the totals.
func (p *writeProgress) add(parts int, rows, bytes int64) {
	if p.report == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.parts += parts
	p.rows += rows
	p.bytes += bytes
	p.report(ProgressEvent{Stage: StageWrite, Partitions: p.parts, PartitionsTotal: p.total, RowsWritten: p.rows, BytesStaged: p.bytes})
}

// staged is what one attempt of the write stage produced, merged in
// partition order: the objects it staged, for the commit to name, and its
// counts, for the summary.
type staged struct {
	files []archive.File
	keys  []archive.KeyFile
	parts []*partResult
}

func (st *staged) add(res *partResult) {
	st.files = append(st.files, res.staged...)
	if res.keys != nil {
		st.keys = append(st.keys, *res.keys)
	}
	st.parts = append(st.parts, res)
}

// summarize sets the summary's write counts to this attempt's, replacing
// those of an earlier attempt.
func (st *staged) summarize(sum *Summary) {
	sum.RowsDuplicate, sum.RowsArchived, sum.RowsWritten, sum.BytesWritten, sum.RowsLate = 0, 0, 0, 0, 0
	sum.Partitions = []PartitionStats{}
	clear(sum.Categories)
	clear(sum.UnknownCategories)
	for _, res := range st.parts {
		sum.BytesWritten += res.bytes
		for c, cc := range res.categories {
			sum.Categories[c] += cc.n
			if cc.unknown {
				sum.UnknownCategories[c] += cc.n
			}
		}
		sum.RowsDuplicate += res.stats.Duplicate
		sum.RowsArchived += res.stats.Archived
		sum.RowsWritten += res.stats.Rows
		sum.RowsLate += res.stats.Late
		sum.Partitions = append(sum.Partitions, res.stats)
	}
}

// stagingKeys are the staging keys of every object staged.
func (st *staged) stagingKeys() []string {
	var ks []string
	for _, f := range st.files {
		ks = append(ks, f.Staging)
	}
	for _, k := range st.keys {
		ks = append(ks, k.Staging)
	}
	return ks
}

// maxSetKeys bounds the event keys the dedup of all partitions being
// written at once holds in memory; each of Options.Workers gets its share.
// A bigger partition is split by key prefix into 2^k buckets, processed one
// at a time, so a day of tens of millions of events stays in bounded memory.
// A variable so tests can make it small.
var maxSetKeys int64 = 1 << 21

// bucketsFor returns the number of key buckets for a partition of n rows
// written by one of workers: a power of two, at most maxOpenSpills so that
// splitting the partition keeps every bucket's file open (past that, a
// day of more than maxOpenSpills times the budget holds bigger key sets).
func bucketsFor(n int64, workers int) int {
	budget := max(maxSetKeys/int64(max(workers, 1)), 1)
	b := 1
	for int64(b)*budget < n && b < maxOpenSpills {
		b *= 2
	}
	return b
}

// bucketOf is the bucket of a key among n (a power of two): its top bits,
// so buckets in order hold keys in byte order.
func bucketOf(k eventKey, n int) int {
	if n == 1 {
		return 0
	}
	return int(k[0]) * n / 256
}

func (wr *writer) writePartition(ctx context.Context, part string, res *partResult, sc *arrow.Schema, meta [][2]string, catCol int, hasCat bool) error {
	pj := &partitionJob{part: part, res: res, catCol: catCol, hasCat: hasCat}
	if !wr.o.DryRun {
		cleanup, err := wr.openOutputs(ctx, pj, sc, meta)
		if err != nil {
			return err
		}
		defer cleanup()
	}
	buckets := bucketsFor(wr.spills.parts[part].rows, wr.o.Workers)
	src, names, err := wr.bucketSpills(part, buckets)
	if err != nil {
		return err
	}
	// A missing or truncated key file would let committed events through
	// as new: refuse before the partition's first row is written.
	if pj.keyFiles, err = archive.CheckKeys(ctx, wr.o.Dest, part); err != nil {
		return err
	}
	for b, name := range names {
		if err := wr.writeBucket(ctx, pj, src, name, b, buckets); err != nil {
			return err
		}
	}
	return wr.finishPartition(ctx, pj)
}

// partitionJob is the state of writing one partition: its result, and its
// writers (nil in a dry run).
type partitionJob struct {
	part   string
	res    *partResult
	pw     *partWriter
	kw     *keyWriter
	catCol int
	hasCat bool
	dec    []decodedField // reused from row to row
	// keyFiles are the partition's committed key files, as CheckKeys
	// found them whole.
	keyFiles []string
}

// openOutputs starts the partition's Parquet and key file writers in a
// work directory of their own; each finished Parquet file is staged. The
// returned cleanup releases them and removes the directory.
func (wr *writer) openOutputs(ctx context.Context, pj *partitionJob, sc *arrow.Schema, meta [][2]string) (cleanup func(), err error) {
	dir, err := os.MkdirTemp(wr.work, "parquet-")
	if err != nil {
		return nil, workDirErr("create a directory", err)
	}
	closers := []func(){func() { os.RemoveAll(dir) }}
	cleanup = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	defer func() {
		if err != nil {
			cleanup()
		}
	}()
	if pj.kw, err = newKeyWriter(filepath.Join(dir, "keys")); err != nil {
		return nil, err
	}
	closers = append(closers, pj.kw.close)
	props, err := wr.writerProps()
	if err != nil {
		return nil, err
	}
	res := pj.res
	pj.pw, err = newPartWriter(wr.partWriterConfig(), dir, sc, props, meta, func(lf localFile) error {
		st, err := wr.stage(ctx, pj.part, lf)
		if err != nil {
			return err
		}
		res.staged = append(res.staged, st)
		res.bytes += lf.sums.Size
		res.stats.Files++
		wr.progress.add(0, lf.rows, lf.sums.Size)
		return os.Remove(lf.path)
	})
	if err != nil {
		return nil, err
	}
	closers = append(closers, pj.pw.release)
	return cleanup, nil
}

// writeBucket writes the rows of one key bucket of a partition's spill:
// committed keys first, so that an event already in the archive is not
// written again, whichever export or run it came from; then each row whose
// key neither the archive nor this run has met.
func (wr *writer) writeBucket(ctx context.Context, pj *partitionJob, src *spills, name string, b, buckets int) error {
	// seen maps each key to whether it is committed (true) or was first
	// met in this run (false).
	seen := make(map[eventKey]bool, src.parts[name].rows)
	if _, err := archive.ReadKeyFiles(ctx, wr.o.Dest, pj.part, pj.keyFiles, func(k archive.Key) {
		if bucketOf(k, buckets) == b {
			seen[k] = true
		}
	}); err != nil {
		return err
	}
	sr, err := src.reader(name)
	if err != nil {
		return err
	}
	defer sr.close()
	res := pj.res
	var written []archive.Key
	for {
		body, err := sr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read spill of %s: %w", pj.part, err)
		}
		key, micros, fields, err := decodeRow(body, wr.cols.types, pj.dec)
		if err != nil {
			return fmt.Errorf("read spill of %s: %w", pj.part, err)
		}
		pj.dec = fields
		if committed, dup := seen[key]; dup {
			if committed {
				res.stats.Archived++
			} else {
				res.stats.Duplicate++
			}
			continue
		}
		seen[key] = false
		res.stats.Rows++
		if micros < wr.lookbackFrom {
			res.stats.Late++
		}
		if pj.hasCat {
			wr.countCategory(res, fields, pj.catCol)
		}
		if pj.pw != nil {
			written = append(written, key)
			if err := pj.pw.add(micros, fields); err != nil {
				return err
			}
		}
	}
	// Buckets split the key space by prefix, so sorting each bucket and
	// writing them in order yields a sorted key file.
	if pj.kw != nil {
		archive.SortKeys(written)
		if err := pj.kw.write(written); err != nil {
			return err
		}
	}
	return nil
}

// finishPartition closes the partition's last Parquet file and stages its
// key file.
func (wr *writer) finishPartition(ctx context.Context, pj *partitionJob) error {
	if pj.pw == nil {
		return nil
	}
	if err := pj.pw.finish(); err != nil {
		return err
	}
	if pj.kw.count > 0 {
		kf, err := wr.stageKeys(ctx, pj.part, pj.kw)
		if err != nil {
			return err
		}
		pj.res.keys = &kf
	}
	if pj.res.stats.Files > 0 {
		wr.phase(PhaseStage)
	}
	return nil
}

// keyWriter writes a partition's key file locally, bucket by bucket.
type keyWriter struct {
	f     *os.File
	w     *bufio.Writer
	count int64
}

func newKeyWriter(path string) (*keyWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, workDirErr("create a key file", err)
	}
	kw := &keyWriter{f: f, w: bufio.NewWriter(f)}
	if _, err := kw.w.Write(archive.KeysHeader()); err != nil {
		return nil, err
	}
	return kw, nil
}

func (kw *keyWriter) write(keys []archive.Key) error {
	for i := range keys {
		if _, err := kw.w.Write(keys[i][:]); err != nil {
			return workDirErr("write a key file", err)
		}
	}
	kw.count += int64(len(keys))
	return nil
}

// finish flushes the file and returns its path.
func (kw *keyWriter) finish() (string, error) {
	if err := kw.w.Flush(); err != nil {
		return "", workDirErr("write a key file", err)
	}
	return kw.f.Name(), nil
}

func (kw *keyWriter) close() { kw.f.Close() }

// bucketSpills returns where to read a partition's rows from: its own spill
// when one bucket is enough, else sub-spills split by key bucket (one extra
// local pass over the partition).
func (wr *writer) bucketSpills(part string, buckets int) (*spills, []string, error) {
	if buckets == 1 {
		return wr.spills, []string{part}, nil
	}
	dir, err := os.MkdirTemp(wr.work, "buckets-")
	if err != nil {
		return nil, nil, workDirErr("create a directory", err)
	}
	sub := newSpills(dir)
	names := make([]string, buckets)
	for i := range names {
		names[i] = strconv.Itoa(i)
	}
	sr, err := wr.spills.reader(part)
	if err != nil {
		return nil, nil, err
	}
	defer sr.close()
	var buf []byte
	var key eventKey
	for {
		body, err := sr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || len(body) < len(key) {
			return nil, nil, fmt.Errorf("read spill of %s: %w", part, errors.Join(err, errCorruptSpill))
		}
		copy(key[:], body)
		buf = binary.AppendUvarint(buf[:0], uint64(len(body)))
		buf = append(buf, body...)
		if err := sub.add(names[bucketOf(key, buckets)], buf); err != nil {
			return nil, nil, err
		}
	}
	if err := sub.closeAll(); err != nil {
		return nil, nil, err
	}
	// Every bucket is read, even an empty one, for its committed keys.
	for _, n := range names {
		if sub.parts[n] == nil {
			if err := sub.add(n, nil); err != nil {
				return nil, nil, err
			}
			sub.parts[n].rows = 0
		}
	}
	if err := sub.closeAll(); err != nil {
		return nil, nil, err
	}
	wr.log.Info("partition split for dedup", "partition", part, "buckets", buckets)
	return sub, names, nil
}

// countCategory counts the event's category; looking up a category met
// before costs no allocation.
func (wr *writer) countCategory(res *partResult, fields []decodedField, catCol int) {
	var v []byte
	for _, f := range fields {
		if f.col == catCol {
			v = f.bytes
			break
		}
	}
	if len(v) == 0 {
		cc := res.categories[noCategory]
		if cc == nil {
			cc = &categoryCount{}
			res.categories[noCategory] = cc
		}
		cc.n++
		return
	}
	if cc, ok := res.categories[string(v)]; ok {
		cc.n++
		return
	}
	name := string(v)
	_, known := wr.o.Catalog.Category(name)
	res.categories[name] = &categoryCount{n: 1, unknown: !known}
}

// stage uploads one finished file under the run's staging prefix, checking
// that the stored object is the one encoded.
func (wr *writer) stage(ctx context.Context, part string, lf localFile) (archive.File, error) {
	final := archive.DataKey(part, lf.name)
	key := archive.StagingKey(wr.o.RunID, wr.attempt, final)
	// The upload reads the file against the digests taken as it was
	// encoded, so a file changed on disk since fails here.
	w, err := wr.o.Dest.PutFile(ctx, key, lf.path, sinks.PutOptions{IfNotExist: true,
		ContentType: "application/vnd.apache.parquet", Digests: &lf.sums})
	if err != nil {
		return archive.File{}, err
	}
	wr.log.Debug("staged file", "key", key, "rows", lf.rows, "bytes", w.Size)
	return archive.File{
		Key: final, Partition: part, Rows: lf.rows, Bytes: lf.sums.Size, SHA256: lf.sha256(),
		MinTime: lf.minTime, MaxTime: lf.maxTime, Staging: key,
	}, nil
}

// stageKeys uploads the key file of the rows this run writes to a partition.
func (wr *writer) stageKeys(ctx context.Context, part string, kw *keyWriter) (archive.KeyFile, error) {
	path, err := kw.finish()
	if err != nil {
		return archive.KeyFile{}, err
	}
	final := archive.KeyFileKey(part, wr.o.RunID)
	staging := archive.StagingKey(wr.o.RunID, wr.attempt, final)
	w, err := wr.o.Dest.PutFile(ctx, staging, path, sinks.PutOptions{IfNotExist: true, ContentType: "application/octet-stream"})
	if err != nil {
		return archive.KeyFile{}, err
	}
	return archive.KeyFile{
		Key: final, Partition: part, Count: kw.count, Bytes: w.Size, SHA256: w.SHA256, Staging: staging,
	}, nil
}
