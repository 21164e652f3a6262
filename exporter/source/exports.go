package source

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	gzip "github.com/klauspost/pgzip"

	"github.com/auditexport/auditexport/sinks"
)

// Format is the encoding of one export object.
type Format string

const (
	FormatCSV   Format = "csv"
	FormatJSONL Format = "jsonl"
)

// FormatOf tells an export object's format from its name; ok is false for a
// name that is not a Sigma export (e.g. a README or a _SUCCESS marker).
// Compression is detected from the content, not the name.
func FormatOf(key string) (Format, bool) {
	k := strings.ToLower(key)
	k = strings.TrimSuffix(k, ".gz")
	k = strings.TrimSuffix(k, ".gzip")
	switch {
	case strings.HasSuffix(k, ".csv"):
		return FormatCSV, true
	case strings.HasSuffix(k, ".jsonl"), strings.HasSuffix(k, ".ndjson"):
		return FormatJSONL, true
	}
	return "", false
}

// Exports reads Sigma's scheduled exports from a landing prefix: every
// object whose name ends in .csv, .jsonl or .ndjson, optionally followed by
// .gz. Gzip is detected by its magic bytes, so a compressed file without .gz
// (or the reverse) still reads correctly.
type Exports struct {
	bucket *sinks.Bucket
	// Skipped lists objects under the prefix that are not exports.
	Skipped []string
}

var _ Source = (*Exports)(nil)

// NewExports reads exports from b; the caller keeps ownership of b unless it
// calls Close.
func NewExports(b *sinks.Bucket) *Exports { return &Exports{bucket: b} }

// Describe implements Source.
func (e *Exports) Describe() string { return "sigma exports in " + e.bucket.String() }

// List implements Source: every export object under the prefix, in key order
// (Sigma's date-prefixed names sort by run time). The window does not narrow
// the list: each export holds up to 30 days of events.
func (e *Exports) List(ctx context.Context, _ Window) ([]Input, error) {
	var ins []Input
	e.Skipped = nil
	err := e.bucket.List(ctx, "", func(o sinks.Object) error {
		if _, ok := FormatOf(o.Key); !ok {
			e.Skipped = append(e.Skipped, o.Key)
			return nil
		}
		ins = append(ins, Input{Key: o.Key, ETag: o.ETag, Size: o.Size, ModTime: o.ModTime})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list sigma exports: %w", err)
	}
	for i := range ins {
		if ins[i].ETag != "" {
			continue
		}
		a, err := e.bucket.Attributes(ctx, ins[i].Key)
		if err != nil {
			return nil, fmt.Errorf("list sigma exports: %w", err)
		}
		ins[i].ETag, ins[i].Size, ins[i].ModTime = a.ETag, a.Size, a.ModTime
	}
	return ins, nil
}

// Open implements Source.
func (e *Exports) Open(ctx context.Context, in Input, _ Window) (Reader, error) {
	format, ok := FormatOf(in.Key)
	if !ok {
		return nil, fmt.Errorf("open %s: not a sigma export (want .csv, .csv.gz, .jsonl or .jsonl.gz)", in.Key)
	}
	rc, err := e.bucket.NewReader(ctx, in.Key)
	if err != nil {
		return nil, err
	}
	rd, _, err := openAs(rc, in.Key, format)
	return rd, err
}

// OpenStream reads one export from rc: gzip is detected from the content,
// the format from name's suffix or, failing that, from the first byte ('{'
// means JSON Lines).
func OpenStream(rc io.ReadCloser, name string) (Reader, Format, error) {
	format, _ := FormatOf(name)
	return openAs(rc, name, format)
}

func openAs(rc io.ReadCloser, name string, format Format) (Reader, Format, error) {
	body, err := decompress(rc, name)
	if err != nil {
		rc.Close()
		return nil, "", err
	}
	if format == "" {
		format = FormatCSV
		if b, err := body.Peek(1); err == nil && b[0] == '{' {
			format = FormatJSONL
		}
	}
	var rd Reader
	switch format {
	case FormatJSONL:
		rd, err = NewJSONLReader(body, name)
	default:
		rd, err = NewCSVReader(body, name)
	}
	if err != nil {
		body.Close()
		return nil, "", err
	}
	return rd, format, nil
}

// Close implements Source.
func (e *Exports) Close() error { return e.bucket.Close() }

type readCloser struct {
	*bufio.Reader
	closers []io.Closer
}

func (r readCloser) Close() error {
	var first error
	for _, c := range r.closers {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// gunzipBlock and gunzipBlocks size the read-ahead of a gzip stream: it is
// inflated on its own goroutine up to gunzipBlocks blocks ahead of the
// reader, so decompression and CSV decoding overlap on two cores.
const (
	gunzipBlock  = 1 << 20
	gunzipBlocks = 4
)

// decompress returns rc's content, gunzipped when it starts with the gzip
// magic bytes.
func decompress(rc io.ReadCloser, name string) (readCloser, error) {
	br := bufio.NewReaderSize(rc, 64<<10)
	magic, err := br.Peek(2)
	if err != nil || magic[0] != 0x1f || magic[1] != 0x8b {
		// Empty, one byte, or not gzip: read as is.
		return readCloser{Reader: br, closers: []io.Closer{rc}}, nil
	}
	zr, err := gzip.NewReaderN(br, gunzipBlock, gunzipBlocks)
	if err != nil {
		return readCloser{}, readError(name, 0, err)
	}
	return readCloser{Reader: bufio.NewReaderSize(zr, 256<<10), closers: []io.Closer{zr, rc}}, nil
}
