package exporter

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

// partWriter encodes the rows of one partition into Parquet files rolled by
// size. Rows are appended to Arrow builders; every RowGroupRows rows become
// one row group.
type partWriter struct {
	r        *run
	dir      string
	schema   *arrow.Schema
	props    *parquet.WriterProperties
	meta     [][2]string
	rb       *array.RecordBuilder
	builders []array.Builder
	types    []schema.Type
	slot     []int // column -> index into the current row's fields, or -1
	batch    int
	seq      int
	done     func(localFile) error

	file    *os.File
	hw      *hashingWriter
	fw      *pqarrow.FileWriter
	rows    int64
	minTime int64
	maxTime int64
}

func (r *run) newPartWriter(dir string, sc *arrow.Schema, props *parquet.WriterProperties, meta [][2]string, done func(localFile) error) *partWriter {
	rb := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	pw := &partWriter{r: r, dir: dir, schema: sc, props: props, meta: meta, rb: rb, builders: rb.Fields(), types: r.cols.types, done: done}
	pw.slot = make([]int, len(r.cols.types))
	for i := range pw.slot {
		pw.slot[i] = -1
	}
	return pw
}

// add appends one decoded row.
func (pw *partWriter) add(micros int64, fields []decodedField) error {
	for i, f := range fields {
		pw.slot[f.col] = i
	}
	for c, b := range pw.builders {
		i := pw.slot[c]
		if i < 0 {
			b.AppendNull()
			continue
		}
		pw.slot[c] = -1
		f := &fields[i]
		switch pw.types[c] {
		case schema.Timestamp:
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(f.v.Int))
		case schema.Int:
			b.(*array.Int64Builder).Append(f.v.Int)
		case schema.Float:
			b.(*array.Float64Builder).Append(f.v.Float)
		case schema.Bool:
			b.(*array.BooleanBuilder).Append(f.v.Bool)
		default:
			b.(*array.StringBuilder).BinaryBuilder.Append(f.bytes)
		}
	}
	if pw.rows == 0 && pw.batch == 0 || micros < pw.minTime {
		pw.minTime = micros
	}
	if pw.rows == 0 && pw.batch == 0 || micros > pw.maxTime {
		pw.maxTime = micros
	}
	pw.batch++
	if pw.batch >= pw.r.o.Parquet.RowGroupRows {
		return pw.flush()
	}
	return nil
}

// flush writes the buffered rows as one row group and rolls the file when
// it has reached the target size.
func (pw *partWriter) flush() error {
	if pw.batch == 0 {
		return nil
	}
	if pw.fw == nil {
		if err := pw.openFile(); err != nil {
			return err
		}
	}
	rec := pw.rb.NewRecordBatch()
	defer rec.Release()
	if err := pw.fw.Write(rec); err != nil {
		return fmt.Errorf("encode parquet: %w", err)
	}
	pw.rows += int64(pw.batch)
	pw.batch = 0
	if pw.hw.n >= pw.r.o.Parquet.TargetFileBytes {
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

// finish flushes what is buffered and closes the last file.
func (pw *partWriter) finish() error {
	if err := pw.flush(); err != nil {
		return err
	}
	return pw.closeFile()
}

func (pw *partWriter) release() {
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
