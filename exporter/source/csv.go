package source

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// CSVReader decodes a Sigma CSV export: a header line of friendly names (or
// column IDs), then one record per event. Quoted fields may hold commas,
// quotes and newlines; lines end in LF, CRLF or (old Mac style) a bare CR,
// and a leading UTF-8 byte order mark is accepted.
type CSVReader struct {
	r      *csv.Reader
	closer io.Closer
	header *Header
	name   string
	done   bool
	// yielded is set once Next has returned a record or a RowError.
	yielded bool
	// swallowed is set when the header record runs on past a line break
	// into more data: lines that Next will never return as rows.
	swallowed bool
	fields    []string // reused: a record's Fields are valid until the next call
}

var _ Reader = (*CSVReader)(nil)

// NewCSVReader reads the header line of rc. name identifies the input in
// errors. An empty input (no header) yields a reader with no records.
func NewCSVReader(rc io.ReadCloser, name string) (*CSVReader, error) {
	br := bufio.NewReaderSize(rc, 256<<10)
	if err := skipBOM(br); err != nil && !errors.Is(err, io.EOF) {
		return nil, readError(name, 0, err)
	}
	cr, err := crLineEnds(br)
	if err != nil {
		return nil, readError(name, 0, err)
	}
	var in io.Reader = br
	if cr {
		in = bufio.NewReaderSize(&crToLF{r: br}, 64<<10)
	}
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	c := &CSVReader{r: r, closer: rc, name: name}
	rec, err := r.Read()
	if errors.Is(err, io.EOF) {
		c.done = true
		c.header = &Header{}
		return c, nil
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("read header of %s: %w", name, err)
		}
		return nil, readError(name, 1, err)
	}
	names := make([]string, len(rec))
	for i, h := range rec {
		if !utf8.ValidString(h) {
			return nil, fmt.Errorf("read header of %s: column %d is not valid UTF-8", name, i+1)
		}
		names[i] = h
	}
	c.header = &Header{Names: names}
	c.swallowed = runsPastLineBreak(names)
	return c, nil
}

// Header returns the input's header.
func (c *CSVReader) Header() *Header { return c.header }

// Next implements Reader.
func (c *CSVReader) Next(ctx context.Context) (Record, error) {
	if c.done {
		return Record{}, io.EOF
	}
	rec, err := c.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			c.done = true
			if c.swallowed && !c.yielded {
				return Record{}, fmt.Errorf("read %s: the file has data past its header line but no rows could be read from it "+
					"(unexpected line endings, or a quote left open in the header); fix or re-export the file, or move it out of the landing prefix", c.name)
			}
			return Record{}, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && !errors.Is(pe.Err, io.ErrUnexpectedEOF) && pe.Err != nil && isCSVSyntax(pe.Err) {
			c.yielded = true
			last := pe.Line + bareCRs(rec)
			return Record{}, &RowError{Line: int64(pe.StartLine), Lines: int64(last - pe.StartLine + 1),
				Reason: "malformed CSV: " + pe.Err.Error() + spanNote(pe.StartLine, last), Raw: clone(rec)}
		}
		line, _ := c.r.FieldPos(0)
		c.done = true
		return Record{}, readError(c.name, int64(line), err)
	}
	c.yielded = true
	line, _ := c.r.FieldPos(0)
	if len(rec) != len(c.header.Names) {
		// A quote left open runs on to the next quote that closes a field:
		// the lines between are one record with too many fields.
		last, _ := c.r.FieldPos(len(rec) - 1)
		last += strings.Count(rec[len(rec)-1], "\n") + bareCRs(rec)
		return Record{}, &RowError{Line: int64(line), Lines: int64(last - line + 1),
			Reason: fmt.Sprintf("row has %d fields, the header has %d", len(rec), len(c.header.Names)) + spanNote(line, last), Raw: clone(rec)}
	}
	for i, v := range rec {
		if !utf8.ValidString(v) {
			return Record{}, &RowError{Line: int64(line), Reason: fmt.Sprintf("column %q is not valid UTF-8", c.header.Names[i]), Raw: sanitize(rec)}
		}
	}
	// encoding/csv reuses rec (ReuseRecord) but not the strings in it.
	c.fields = append(c.fields[:0], rec...)
	return Record{Header: c.header, Fields: c.fields, Line: int64(line)}, nil
}

// Close implements Reader.
func (c *CSVReader) Close() error { return c.closer.Close() }

// bareCRs counts the CRs in a record's fields. encoding/csv turns a CR LF
// inside a quoted field into LF, so a CR left is a bare one: the line end
// of a CR-only stretch of the file, which may have been a row, as the
// JSON Lines reader counts them too.
func bareCRs(rec []string) int {
	n := 0
	for _, f := range rec {
		n += strings.Count(f, "\r")
	}
	return n
}

// spanNote says how many lines a malformed record took in, when it is
// more than one.
func spanNote(from, to int) string {
	if to <= from {
		return ""
	}
	return fmt.Sprintf(" (the record spans lines %d-%d: %d lines, each counted as a rejected row)", from, to, to-from+1)
}

func isCSVSyntax(err error) bool {
	return errors.Is(err, csv.ErrQuote) || errors.Is(err, csv.ErrBareQuote) || errors.Is(err, csv.ErrFieldCount)
}

func skipBOM(br *bufio.Reader) error {
	b, err := br.Peek(3)
	if err != nil {
		return err
	}
	if b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		_, _ = br.Discard(3)
	}
	return nil
}

// crLineEnds reports whether the header line ends in a bare CR, as in an
// old Mac export: the first line break outside quotes is a CR not followed
// by LF. It looks no further than one buffer ahead.
func crLineEnds(br *bufio.Reader) (bool, error) {
	n := br.Buffered()
	for {
		b, err := br.Peek(n)
		if err != nil && !errors.Is(err, io.EOF) {
			return false, err
		}
		if i := lineBreak(b); i >= 0 && (b[i] == '\n' || i+1 < len(b)) {
			return b[i] == '\r' && b[i+1] != '\n', nil
		}
		if err != nil || n == br.Size() {
			return false, nil
		}
		n = min(max(2*n, 4<<10), br.Size())
	}
}

// lineBreak returns the index of the first CR or LF outside quotes in b, or
// -1.
func lineBreak(b []byte) int {
	quoted := false
	for i, c := range b {
		switch c {
		case '"':
			quoted = !quoted
		case '\r', '\n':
			if !quoted {
				return i
			}
		}
	}
	return -1
}

// crToLF turns each bare CR into LF, so encoding/csv (which ends lines at
// LF only) sees a CR-only file's lines; a CR LF pair becomes one LF.
type crToLF struct {
	r  io.Reader
	cr bool // the last byte read was a CR
}

func (c *crToLF) Read(p []byte) (int, error) {
	for {
		n, err := c.r.Read(p)
		w := 0
		for _, b := range p[:n] {
			if b == '\n' && c.cr {
				c.cr = false
				continue
			}
			c.cr = b == '\r'
			if c.cr {
				b = '\n'
			}
			p[w] = b
			w++
		}
		if w > 0 || n == 0 || err != nil {
			return w, err
		}
	}
}

// runsPastLineBreak reports whether a header record holds a line break
// followed by anything but white space: the header took in lines after its
// own (a CR-only file whose header line is longer than crLineEnds looks, or
// a quote opened in the header and closed on a later line).
func runsPastLineBreak(rec []string) bool {
	brk := false
	for _, h := range rec {
		if brk {
			return true // a field separator after the line break
		}
		for i := 0; i < len(h); i++ {
			switch h[i] {
			case '\r', '\n':
				brk = true
			case ' ', '\t', '\v', '\f':
			default:
				if brk {
					return true
				}
			}
		}
	}
	return false
}

func clone(rec []string) []string {
	if rec == nil {
		return nil
	}
	return append([]string(nil), rec...)
}

// sanitize keeps a rejected row readable in the JSON rejects file: invalid
// UTF-8 bytes become U+FFFD there (the source object keeps the original).
func sanitize(rec []string) []string {
	out := make([]string, len(rec))
	for i, v := range rec {
		out[i] = toValidUTF8(v)
	}
	return out
}

func toValidUTF8(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
