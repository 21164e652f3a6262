package exporter

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	pqschema "github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/schema"
	"github.com/auditexport/auditexport/sinks"
)

// Key-value metadata written into every Parquet file.
const (
	MetaColumns        = "auditexport.columns"         // JSON: column ID -> friendly name
	MetaCatalogVersion = "auditexport.catalog_version" //
	MetaToolVersion    = "auditexport.version"         //
	MetaSource         = "auditexport.source"          // the source, described without secrets
	MetaRunID          = "auditexport.run_id"          //
)

// outputSchema is the Arrow schema of every file of the run.
func (wr *writer) outputSchema() *arrow.Schema {
	return OutputSchema(wr.cols.cols, wr.o.Parquet.LowerCaseColumns)
}

// OutputSchema is the Arrow schema of the data files for these columns, in
// this order: each named as ColumnName names it, with its type and its
// catalog field ID (schema.ArrowField). A run's columns are the catalog's
// in catalog order, then the columns it met that the catalog lacks.
func OutputSchema(cols []schema.Column, lowerCase bool) *arrow.Schema {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = schema.ArrowField(c, ColumnName(c.ID, lowerCase))
	}
	return arrow.NewSchema(fields, nil)
}

// ColumnName is the name of column id in the data files: the column ID, in
// lower case with ParquetOptions.LowerCaseColumns.
func ColumnName(id string, lowerCase bool) string {
	if lowerCase {
		return strings.ToLower(id)
	}
	return id
}

// fileMeta is the key-value metadata of the run's files.
func (wr *writer) fileMeta() ([][2]string, error) {
	names := make(map[string]string, len(wr.cols.cols))
	for _, c := range wr.cols.cols {
		names[c.ID] = c.Friendly
	}
	cols, err := json.Marshal(names)
	if err != nil {
		return nil, err
	}
	return [][2]string{
		{MetaColumns, string(cols)},
		{MetaCatalogVersion, wr.o.Catalog.Version},
		{MetaToolVersion, wr.o.ToolVersion},
		{MetaSource, wr.o.Source.Describe()},
		{MetaRunID, wr.o.RunID},
	}, nil
}

// hashingWriter counts and hashes (SHA-256 for the commit log, MD5 for the
// upload) what a Parquet writer writes.
type hashingWriter struct {
	w           io.Writer
	sha256, md5 hash.Hash
	n           int64
}

func newHashingWriter(w io.Writer) *hashingWriter {
	return &hashingWriter{w: w, sha256: sha256.New(), md5: md5.New()}
}

func (hw *hashingWriter) Write(p []byte) (int, error) {
	n, err := hw.w.Write(p)
	hw.sha256.Write(p[:n])
	hw.md5.Write(p[:n])
	hw.n += int64(n)
	return n, err
}

// localFile is a finished Parquet file in the work dir.
type localFile struct {
	path             string
	name             string // part-00000-<run id>.parquet
	rows             int64
	sums             sinks.Digests // as encoded: the upload checks the file against them
	minTime, maxTime time.Time
}

// sha256 is the file's SHA-256, in hex.
func (lf localFile) sha256() string { return hex.EncodeToString(lf.sums.SHA256) }

// partWriter encodes the rows of one partition into Parquet files rolled by
// size. The caller's goroutine gathers rows into column batches; full
// batches go to an encoder goroutine that writes them into buffered row
// groups through the Parquet column writers, rolls files and hands each
// finished file to done, so gathering, encoding and uploading overlap.
type partWriter struct {
	cfg    partWriterConfig
	dir    string
	schema *pqschema.Schema
	props  *parquet.WriterProperties
	meta   [][2]string
	types  []schema.Type
	done   func(localFile) error

	// Gathering side.
	cur     *batch
	batches chan *batch // full batches, to the encoder
	free    chan *batch // batches the encoder is done with
	errc    chan error
	encFail atomic.Bool // the encoder has failed: stop gathering
	stopped bool
	stopErr error

	// Encoder side, owned by the encoder goroutine.
	seq      int
	file     *os.File
	hw       *hashingWriter
	fw       *file.Writer
	rg       file.BufferedRowGroupWriter
	rgRows   int64
	rgValues []int64 // per column: non-null values in the open row group
	vpos     []int   // per column: values of the current batch written so far
	rows     int64
	minTime  int64
	maxTime  int64
}

// partWriterConfig is what a partition writer takes from its run: the
// names and sizes of its files, and the state the run's writers share.
type partWriterConfig struct {
	runID           string
	types           []schema.Type // per column of the schema
	rowGroupRows    int
	targetFileBytes int64
	log             *slog.Logger
	plain           *plainColumns // columns learnt to be written plain, shared
	batches         *batchPool    // column batches, shared
}

// partWriterConfig is the configuration of this run's partition writers.
func (wr *writer) partWriterConfig() partWriterConfig {
	return partWriterConfig{
		runID: wr.o.RunID, types: wr.cols.types,
		rowGroupRows: wr.o.Parquet.RowGroupRows, targetFileBytes: wr.o.Parquet.TargetFileBytes,
		log: wr.log, plain: &wr.plainCols, batches: &wr.batches,
	}
}

// newPartWriter starts a writer of one partition's files into dir, with
// schema sc, properties props and key-value metadata meta; done receives
// each finished file.
func newPartWriter(cfg partWriterConfig, dir string, sc *arrow.Schema, props *parquet.WriterProperties, meta [][2]string, done func(localFile) error) (*partWriter, error) {
	ps, err := pqarrow.ToParquet(sc, props, pqarrow.NewArrowWriterProperties())
	if err != nil {
		return nil, fmt.Errorf("parquet schema: %w", err)
	}
	n := len(cfg.types)
	pw := &partWriter{
		cfg: cfg, dir: dir, schema: ps, props: props, meta: meta, types: cfg.types, done: done,
		batches: make(chan *batch, 1), free: make(chan *batch, batchesInFlight), errc: make(chan error, 1),
		vpos: make([]int, n), rgValues: make([]int64, n),
	}
	pw.cur = cfg.batches.get(n)
	for range batchesInFlight - 1 {
		pw.free <- cfg.batches.get(n)
	}
	go pw.encode()
	return pw, nil
}

// add appends one decoded row. Only the row's non-null fields cost
// anything: the nulls of absent columns are filled in lazily.
func (pw *partWriter) add(micros int64, fields []decodedField) error {
	b := pw.cur
	row := b.rows
	for i := range fields {
		f := &fields[i]
		c := &b.cols[f.col]
		if gap := row - len(c.def); gap > 0 {
			c.def = append(c.def, make([]int16, gap)...)
		}
		c.def = append(c.def, 1)
		switch pw.types[f.col] {
		case schema.Timestamp, schema.Int:
			c.ints = append(c.ints, f.v.Int)
		case schema.Float:
			c.flts = append(c.flts, f.v.Float)
		case schema.Bool:
			c.bools = append(c.bools, f.v.Bool)
		default:
			c.strs = append(c.strs, b.store(f.bytes))
		}
	}
	if row == 0 || micros < b.min {
		b.min = micros
	}
	if row == 0 || micros > b.max {
		b.max = micros
	}
	b.rows++
	if b.rows >= batchRows || b.rows >= pw.cfg.rowGroupRows {
		return pw.flush()
	}
	return nil
}

// flush hands the batch to the encoder and takes a free one.
func (pw *partWriter) flush() error {
	if pw.stopped {
		return pw.stopErr
	}
	b := pw.cur
	if b.rows == 0 {
		return nil
	}
	b.pad()
	pw.batches <- b
	pw.cur = <-pw.free
	pw.cur.reset()
	if pw.encFail.Load() {
		return pw.stop()
	}
	return nil
}

// stop ends the encoder and returns its error.
func (pw *partWriter) stop() error {
	if !pw.stopped {
		pw.stopped = true
		close(pw.batches)
		pw.stopErr = <-pw.errc
	}
	return pw.stopErr
}

// encode runs on its own goroutine: it writes batches into buffered row
// groups, rolls the file at the target size, and finishes the last file.
// After a failure it only hands batches back.
func (pw *partWriter) encode() {
	var err error
	for b := range pw.batches {
		if err == nil {
			if err = pw.write(b); err != nil {
				pw.encFail.Store(true)
			}
		}
		pw.free <- b
	}
	if err == nil {
		err = pw.closeFile()
	}
	pw.errc <- err
}

func (pw *partWriter) write(b *batch) error {
	if pw.fw == nil {
		if err := pw.openFile(); err != nil {
			return err
		}
		pw.minTime, pw.maxTime = b.min, b.max
	}
	pw.minTime, pw.maxTime = min(pw.minTime, b.min), max(pw.maxTime, b.max)
	clear(pw.vpos)
	maxRG := pw.props.MaxRowGroupLength()
	for lo := 0; lo < b.rows; {
		if pw.rg == nil {
			rg, err := pw.fw.AppendBufferedRowGroupChecked()
			if err != nil {
				return fmt.Errorf("encode parquet: %w", err)
			}
			pw.rg, pw.rgRows = rg, 0
			clear(pw.rgValues)
		}
		hi := lo + int(min(int64(b.rows-lo), maxRG-pw.rgRows))
		if err := pw.writeRows(b, lo, hi); err != nil {
			return fmt.Errorf("encode parquet: %w", err)
		}
		pw.rgRows += int64(hi - lo)
		lo = hi
		if pw.rgRows >= maxRG {
			pw.learnEncodings()
			if err := pw.rg.Close(); err != nil {
				return fmt.Errorf("encode parquet: %w", err)
			}
			pw.rg = nil
		}
	}
	pw.rows += int64(b.rows)
	var buffered int64
	if pw.rg != nil {
		buffered = pw.rg.TotalCompressedBytes()
	}
	if pw.hw.n+buffered >= pw.cfg.targetFileBytes {
		return pw.closeFile()
	}
	return nil
}

// writeRows writes rows [lo, hi) of the batch into the current row group.
func (pw *partWriter) writeRows(b *batch, lo, hi int) error {
	whole := lo == 0 && hi == b.rows
	for c := range b.cols {
		col := &b.cols[c]
		def := col.def[lo:hi]
		v := pw.vpos[c]
		n := 0
		if whole {
			n = len(col.strs) + len(col.ints) + len(col.flts) + len(col.bools)
		} else {
			for _, d := range def {
				n += int(d)
			}
		}
		pw.vpos[c] += n
		pw.rgValues[c] += int64(n)
		cw, err := pw.rg.Column(c)
		if err != nil {
			return err
		}
		switch w := cw.(type) {
		case *file.ByteArrayColumnChunkWriter:
			_, err = w.WriteBatch(col.strs[v:v+n], def, nil)
		case *file.Int64ColumnChunkWriter:
			_, err = w.WriteBatch(col.ints[v:v+n], def, nil)
		case *file.Float64ColumnChunkWriter:
			_, err = w.WriteBatch(col.flts[v:v+n], def, nil)
		case *file.BooleanColumnChunkWriter:
			_, err = w.WriteBatch(col.bools[v:v+n], def, nil)
		default:
			err = fmt.Errorf("column %d: unexpected column writer %T", c, cw)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (pw *partWriter) openFile() error {
	name := archive.DataFileName(pw.seq, pw.cfg.runID)
	f, err := os.Create(filepath.Join(pw.dir, name))
	if err != nil {
		return workDirErr("create a parquet file", err)
	}
	pw.file = f
	pw.hw = newHashingWriter(f)
	kv := metadata.NewKeyValueMetadata()
	for _, m := range pw.meta {
		if err := kv.Append(m[0], m[1]); err != nil {
			f.Close()
			return fmt.Errorf("parquet metadata: %w", err)
		}
	}
	fw, err := file.NewParquetWriterWithError(pw.hw, pw.schema.Root(), file.WithWriterProps(pw.props), file.WithWriteMetadata(kv))
	if err != nil {
		f.Close()
		return fmt.Errorf("start parquet file: %w", err)
	}
	pw.fw = fw
	return nil
}

func (pw *partWriter) closeFile() error {
	if pw.fw == nil {
		return nil
	}
	if pw.rg != nil {
		pw.learnEncodings()
		pw.rg = nil // fw.Close closes it
	}
	if err := pw.fw.Close(); err != nil {
		pw.file.Close()
		return fmt.Errorf("finish parquet file: %w", err)
	}
	if err := pw.file.Close(); err != nil {
		return workDirErr("close a parquet file", err)
	}
	lf := localFile{
		path:    pw.file.Name(),
		name:    filepath.Base(pw.file.Name()),
		rows:    pw.rows,
		sums:    sinks.Digests{Size: pw.hw.n, SHA256: pw.hw.sha256.Sum(nil), MD5: pw.hw.md5.Sum(nil)},
		minTime: time.UnixMicro(pw.minTime).UTC(),
		maxTime: time.UnixMicro(pw.maxTime).UTC(),
	}
	pw.fw, pw.file, pw.hw = nil, nil, nil
	pw.rows = 0
	pw.seq++
	return pw.done(lf)
}

// finish flushes what is gathered, waits for the encoder, and returns its
// error.
func (pw *partWriter) finish() error {
	if pw.stopped {
		if pw.stopErr == nil {
			return errFinished
		}
		return pw.stopErr
	}
	if err := pw.flush(); err != nil {
		return err
	}
	return pw.stop()
}

var errFinished = errors.New("partition writer already finished")

// release stops the encoder if finish was not reached and returns the
// batches to the run's pool. The encoder's file, if any, is left for the
// work dir cleanup.
func (pw *partWriter) release() {
	pw.stop()
	if pw.fw != nil {
		pw.fw.Close()
		pw.file.Close()
	}
	if pw.cur != nil {
		pw.cfg.batches.put(pw.cur)
		pw.cur = nil
		for range batchesInFlight - 1 {
			pw.cfg.batches.put(<-pw.free)
		}
	}
}

// distinctStringsLevel is the zstd level, at the default level, of the
// string columns written plain: the event ID and the columns whose
// dictionary overflowed or held nearly every value once (IDs, names by the
// thousand). zstd's slower match search finds next to nothing more in such
// values than level 1 does: on the benchmarks' inputs level 1 writes them
// within 1% of level 3's bytes in about half the time. Timestamps,
// counters and dictionary pages, where level 3 writes up to 45% fewer
// bytes, keep the default level.
const distinctStringsLevel = 1

// distinctStrings returns the paths among plain whose column holds strings
// (string or json): the columns written at distinctStringsLevel.
func (wr *writer) distinctStrings(plain []string) []string {
	var out []string
	for i, c := range wr.cols.cols {
		if t := wr.cols.types[i]; (t == schema.String || t == schema.JSON) &&
			slices.Contains(plain, ColumnName(c.ID, wr.o.Parquet.LowerCaseColumns)) {
			out = append(out, ColumnName(c.ID, wr.o.Parquet.LowerCaseColumns))
		}
	}
	return out
}

func (wr *writer) writerProps() (*parquet.WriterProperties, error) {
	c, err := ParseCodec(wr.o.Parquet.Compression)
	if err != nil {
		return nil, err
	}
	opts := []parquet.WriterProperty{
		parquet.WithCompression(c),
		parquet.WithDictionaryDefault(true),
		parquet.WithStats(true),
		parquet.WithMaxRowGroupLength(int64(wr.o.Parquet.RowGroupRows)),
		parquet.WithCreatedBy("auditexport " + wr.o.ToolVersion),
	}
	// The event ID and the event time are (nearly) unique per row: a
	// dictionary would only fill up, be written, and fall back to plain
	// encoding in every row group, at the cost of hashing every value.
	// The same goes for the columns whose dictionary overflowed in an
	// earlier partition of the run.
	plain := wr.plainCols.list()
	for _, id := range []string{wr.o.IDColumn, wr.o.TimeColumn} {
		if _, ok := wr.cols.index[id]; ok {
			plain = append(plain, ColumnName(id, wr.o.Parquet.LowerCaseColumns))
		}
	}
	for _, path := range plain {
		opts = append(opts, parquet.WithDictionaryFor(path, false))
	}
	switch {
	case wr.o.Parquet.CompressionLevel != 0:
		opts = append(opts, parquet.WithCompressionLevel(wr.o.Parquet.CompressionLevel))
	case c == compress.Codecs.Zstd:
		for _, path := range wr.distinctStrings(plain) {
			opts = append(opts, parquet.WithCompressionLevelFor(path, distinctStringsLevel))
		}
	}
	return parquet.NewWriterProperties(opts...), nil
}
