package exporter

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/auditexport/auditexport/schema"
)

// Key-value metadata written into every Parquet file.
const (
	MetaColumns        = "auditexport.columns"         // JSON: column ID -> friendly name
	MetaCatalogVersion = "auditexport.catalog_version" //
	MetaToolVersion    = "auditexport.version"         //
	MetaSource         = "auditexport.source"          // the source, described without secrets
	MetaRunID          = "auditexport.run_id"          //
)

// codec maps a compression setting to the Parquet codec.
func codec(name string) (compress.Compression, error) {
	switch strings.ToLower(name) {
	case "zstd":
		return compress.Codecs.Zstd, nil
	case "snappy":
		return compress.Codecs.Snappy, nil
	case "gzip":
		return compress.Codecs.Gzip, nil
	case "lz4_raw", "lz4":
		return compress.Codecs.Lz4Raw, nil
	case "none", "uncompressed":
		return compress.Codecs.Uncompressed, nil
	}
	return 0, fmt.Errorf("parquet compression %q is not supported (use zstd, snappy, gzip, lz4_raw or none)", name)
}

// outputSchema is the Arrow schema of every file of the run.
func (r *run) outputSchema() *arrow.Schema {
	fields := make([]arrow.Field, len(r.cols.cols))
	for i, c := range r.cols.cols {
		name := c.ID
		if r.o.Parquet.LowerCaseColumns {
			name = strings.ToLower(name)
		}
		fields[i] = schema.ArrowField(c, name)
	}
	return arrow.NewSchema(fields, nil)
}

// fileMeta is the key-value metadata of the run's files.
func (r *run) fileMeta() ([][2]string, error) {
	names := make(map[string]string, len(r.cols.cols))
	for _, c := range r.cols.cols {
		names[c.ID] = c.Friendly
	}
	cols, err := json.Marshal(names)
	if err != nil {
		return nil, err
	}
	return [][2]string{
		{MetaColumns, string(cols)},
		{MetaCatalogVersion, r.o.Catalog.Version},
		{MetaToolVersion, r.o.ToolVersion},
		{MetaSource, r.o.Source.Describe()},
		{MetaRunID, r.o.RunID},
	}, nil
}

// hashingWriter counts and hashes what a Parquet writer writes.
type hashingWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (hw *hashingWriter) Write(p []byte) (int, error) {
	n, err := hw.w.Write(p)
	hw.h.Write(p[:n])
	hw.n += int64(n)
	return n, err
}

// localFile is a finished Parquet file in the work dir.
type localFile struct {
	path             string
	name             string // part-00000-<run id>.parquet
	rows             int64
	bytes            int64
	sha256           string
	minTime, maxTime time.Time
}

// batchRows is the most rows built in Arrow arrays before they are handed
// to the encoder (fewer when RowGroupRows is smaller). Row groups (RowGroupRows) are assembled from
// several batches, so memory is bounded by the batch, not the row group.
const batchRows = 8192

// partWriter encodes the rows of one partition into Parquet files rolled by
// size. The caller's goroutine appends rows to Arrow builders; full batches
// go to an encoder goroutine that writes them into buffered row groups,
// rolls files and hands each finished file to done, so building, encoding
// and uploading overlap.
type partWriter struct {
	r      *run
	dir    string
	schema *arrow.Schema
	props  *parquet.WriterProperties
	meta   [][2]string
	rb     *array.RecordBuilder
	types  []schema.Type
	done   func(localFile) error

	// Builder side, typed per column (nil where the column has another type).
	strs  []*array.StringBuilder
	ints  []*array.Int64Builder
	tss   []*array.TimestampBuilder
	flts  []*array.Float64Builder
	bools []*array.BooleanBuilder
	last  []int // column -> batch row of its last value, -1 if none yet
	batch int
	bmin  int64
	bmax  int64

	batches chan batch
	errc    chan error
	failed  error // the encoder's error, once seen

	// Encoder side, owned by the encoder goroutine.
	seq     int
	file    *os.File
	hw      *hashingWriter
	fw      *pqarrow.FileWriter
	rows    int64
	minTime int64
	maxTime int64
}

// batch is a record batch with the range of its event times.
type batch struct {
	rec      arrow.RecordBatch
	min, max int64
}

func (r *run) newPartWriter(dir string, sc *arrow.Schema, props *parquet.WriterProperties, meta [][2]string, done func(localFile) error) *partWriter {
	rb := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	n := len(r.cols.types)
	pw := &partWriter{
		r: r, dir: dir, schema: sc, props: props, meta: meta, rb: rb, types: r.cols.types, done: done,
		strs: make([]*array.StringBuilder, n), ints: make([]*array.Int64Builder, n), tss: make([]*array.TimestampBuilder, n),
		flts: make([]*array.Float64Builder, n), bools: make([]*array.BooleanBuilder, n), last: make([]int, n),
		batches: make(chan batch, 1), errc: make(chan error, 1),
	}
	for c, b := range rb.Fields() {
		switch b := b.(type) {
		case *array.StringBuilder:
			pw.strs[c] = b
		case *array.Int64Builder:
			pw.ints[c] = b
		case *array.TimestampBuilder:
			pw.tss[c] = b
		case *array.Float64Builder:
			pw.flts[c] = b
		case *array.BooleanBuilder:
			pw.bools[c] = b
		}
		pw.last[c] = -1
	}
	go pw.encode(pw.batches)
	return pw
}

// add appends one decoded row. Only the row's non-null fields cost
// anything: the nulls of absent columns are appended in runs, lazily.
func (pw *partWriter) add(micros int64, fields []decodedField) error {
	row := pw.batch
	b := pw.rb
	for i := range fields {
		f := &fields[i]
		c := f.col
		if gap := row - pw.last[c] - 1; gap > 0 {
			b.Field(c).AppendNulls(gap)
		}
		pw.last[c] = row
		switch {
		case pw.strs[c] != nil:
			pw.strs[c].BinaryBuilder.Append(f.bytes)
		case pw.tss[c] != nil:
			pw.tss[c].Append(arrow.Timestamp(f.v.Int))
		case pw.ints[c] != nil:
			pw.ints[c].Append(f.v.Int)
		case pw.flts[c] != nil:
			pw.flts[c].Append(f.v.Float)
		case pw.bools[c] != nil:
			pw.bools[c].Append(f.v.Bool)
		}
	}
	if row == 0 || micros < pw.bmin {
		pw.bmin = micros
	}
	if row == 0 || micros > pw.bmax {
		pw.bmax = micros
	}
	pw.batch++
	if pw.batch >= batchRows || pw.batch >= pw.r.o.Parquet.RowGroupRows {
		return pw.flush()
	}
	return nil
}

// flush completes the batch's trailing nulls and hands it to the encoder.
func (pw *partWriter) flush() error {
	if pw.batch == 0 {
		return nil
	}
	for c, l := range pw.last {
		if gap := pw.batch - l - 1; gap > 0 {
			pw.rb.Field(c).AppendNulls(gap)
		}
		pw.last[c] = -1
	}
	rec := pw.rb.NewRecordBatch()
	pw.batch = 0
	select {
	case pw.batches <- batch{rec: rec, min: pw.bmin, max: pw.bmax}:
		return nil
	case err := <-pw.errc:
		rec.Release()
		pw.failed = err
		return err
	}
}

// encode runs on its own goroutine: it writes batches into buffered row
// groups, rolls the file at the target size, and finishes the last file.
func (pw *partWriter) encode(batches <-chan batch) {
	var err error
	for b := range batches {
		if err == nil {
			err = pw.write(b)
		}
		b.rec.Release()
	}
	if err == nil {
		err = pw.closeFile()
	}
	pw.errc <- err
}

func (pw *partWriter) write(b batch) error {
	if pw.fw == nil {
		if err := pw.openFile(); err != nil {
			return err
		}
		pw.minTime, pw.maxTime = b.min, b.max
	}
	pw.minTime, pw.maxTime = min(pw.minTime, b.min), max(pw.maxTime, b.max)
	if err := pw.fw.WriteBuffered(b.rec); err != nil {
		return fmt.Errorf("encode parquet: %w", err)
	}
	pw.rows += b.rec.NumRows()
	if pw.hw.n+pw.fw.RowGroupTotalCompressedBytes() >= pw.r.o.Parquet.TargetFileBytes {
		return pw.closeFile()
	}
	return nil
}

func (pw *partWriter) openFile() error {
	name := fmt.Sprintf("part-%05d-%s.parquet", pw.seq, pw.r.o.RunID)
	f, err := os.Create(filepath.Join(pw.dir, name))
	if err != nil {
		return fmt.Errorf("create parquet file (work_dir): %w", err)
	}
	pw.file = f
	pw.hw = &hashingWriter{w: f, h: sha256.New()}
	fw, err := pqarrow.NewFileWriter(pw.schema, pw.hw, pw.props, pqarrow.NewArrowWriterProperties())
	if err != nil {
		f.Close()
		return fmt.Errorf("start parquet file: %w", err)
	}
	for _, kv := range pw.meta {
		if err := fw.AppendKeyValueMetadata(kv[0], kv[1]); err != nil {
			return fmt.Errorf("parquet metadata: %w", err)
		}
	}
	pw.fw = fw
	return nil
}

func (pw *partWriter) closeFile() error {
	if pw.fw == nil {
		return nil
	}
	if err := pw.fw.Close(); err != nil {
		pw.file.Close()
		return fmt.Errorf("finish parquet file: %w", err)
	}
	if err := pw.file.Close(); err != nil {
		return fmt.Errorf("close parquet file (work_dir): %w", err)
	}
	lf := localFile{
		path:    pw.file.Name(),
		name:    filepath.Base(pw.file.Name()),
		rows:    pw.rows,
		bytes:   pw.hw.n,
		sha256:  hex.EncodeToString(pw.hw.h.Sum(nil)),
		minTime: time.UnixMicro(pw.minTime).UTC(),
		maxTime: time.UnixMicro(pw.maxTime).UTC(),
	}
	pw.fw, pw.file, pw.hw = nil, nil, nil
	pw.rows = 0
	pw.seq++
	return pw.done(lf)
}

// finish flushes what is buffered, waits for the encoder, and returns its
// error.
func (pw *partWriter) finish() error {
	if pw.failed != nil {
		return pw.failed
	}
	if err := pw.flush(); err != nil {
		return err
	}
	close(pw.batches)
	pw.batches = nil
	err := <-pw.errc
	pw.failed = err
	if err == nil {
		pw.failed = errFinished
	}
	return err
}

var errFinished = errors.New("partition writer already finished")

// release stops the encoder if finish was not reached and frees the
// builders. The encoder's file, if any, is left for the work dir cleanup.
func (pw *partWriter) release() {
	if pw.batches != nil {
		close(pw.batches)
		if pw.failed == nil {
			<-pw.errc
		}
		pw.batches = nil
	}
	if pw.fw != nil {
		pw.fw.Close()
		pw.file.Close()
	}
	pw.rb.Release()
}

func (r *run) writerProps() (*parquet.WriterProperties, error) {
	c, err := codec(r.o.Parquet.Compression)
	if err != nil {
		return nil, err
	}
	opts := []parquet.WriterProperty{
		parquet.WithCompression(c),
		parquet.WithDictionaryDefault(true),
		parquet.WithStats(true),
		parquet.WithMaxRowGroupLength(int64(r.o.Parquet.RowGroupRows)),
		parquet.WithCreatedBy("auditexport " + r.o.ToolVersion),
	}
	if r.o.Parquet.CompressionLevel != 0 {
		opts = append(opts, parquet.WithCompressionLevel(r.o.Parquet.CompressionLevel))
	}
	return parquet.NewWriterProperties(opts...), nil
}
