package source

import (
	"bufio"
	"io"
	"strings"

	gzip "github.com/klauspost/pgzip"
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

// OpenStream reads one export from rc: gzip is detected from the content,
// the format from name's suffix or, failing that, from the first byte ('{'
// means JSON Lines).
func OpenStream(rc io.ReadCloser, name string) (Reader, Format, error) {
	format, _ := FormatOf(name)
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
