package postgres

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/auditexport/auditexport/exporter/source"
)

// A scan whose columns all have a binary decoder reads the window with
//
//	COPY (SELECT ... WHERE <window>) TO STDOUT (FORMAT binary)
//
// in the same read-only, repeatable-read transaction, and decodes each binary row straight into the record's
// text: no cursor round trips, no text rendering on the server to be parsed again here. A table holding any
// other type (numeric is decoded; interval, inet, enums, money, ... are not) is read through the cursor, whose
// text renderings are the reference the binary decoders match value for value.
//
// The COPY runs on a goroutine of its own that hands the stream over in copyChunk blocks through a
// synchronous pipe, so at most a few blocks are held whatever the table size.

const (
	oidName    = 19
	oidInt8    = 20
	oidInt2    = 21
	oidInt4    = 23
	oidText    = 25
	oidBPChar  = 1042
	oidVarchar = 1043
	oidNumeric = 1700
	oidUUID    = 2950

	copyChunk = 256 << 10
)

// copySignature opens every binary COPY stream (PostgreSQL's "Binary Format" of COPY).
var copySignature = []byte("PGCOPY\n\xff\r\n\x00")

// errReaderClosed ends a COPY whose reader was closed before the end of the stream.
var errReaderClosed = errors.New("reader closed")

// binaryDecoder returns the decoder of a column's binary values as the cursor would render them, and false
// for a type without one.
func binaryDecoder(c pgColumn) (renderFunc, bool) {
	if c.isArray { // selected as to_json(column)
		return renderJSON, true
	}
	switch c.baseOID {
	case oidBool:
		return renderBool, true
	case oidInt2:
		return renderInt2, true
	case oidInt4:
		return renderInt4, true
	case oidInt8:
		return renderInt8, true
	case oidFloat4:
		return renderFloat4, true
	case oidFloat8:
		return renderFloat8, true
	case oidNumeric:
		return renderNumeric, true
	case oidDate:
		return renderDate, true
	case oidTimestamp:
		return renderTimestamp, true
	case oidTimestamptz:
		return renderTimestamptz, true
	case oidText, oidVarchar, oidBPChar, oidName:
		return renderText, true
	case oidUUID:
		return renderUUID, true
	case oidJSON:
		return renderJSON, true
	case oidJSONB:
		return renderJSONB, true
	}
	return nil, false
}

// binaryDecoders returns one decoder per column, or nil when a column has none.
func binaryDecoders(cols []pgColumn) []renderFunc {
	out := make([]renderFunc, len(cols))
	for i, c := range cols {
		f, ok := binaryDecoder(c)
		if !ok {
			return nil
		}
		out[i] = f
	}
	return out
}

// copyQuery is the COPY of a window: scanQuery's SELECT with the bounds written as literals (COPY takes no
// parameters). False when a bound cannot be written as a plain literal (a year outside 1-9999).
func copyQuery(rel relation, cols []pgColumn, tc pgColumn, w source.Window) (string, bool) {
	ok := true
	q := selectQuery(rel, cols, tc, w, func(t time.Time, cast string) string {
		if t.Year() < 1 || t.Year() > 9999 {
			ok = false
		}
		lit := t.UTC().Format("2006-01-02 15:04:05.999999")
		if cast == "timestamptz" {
			lit += "+00"
		}
		return "'" + lit + "'::" + cast
	})
	return "COPY (" + q + ") TO STDOUT (FORMAT binary)", ok
}

// copyStream is a running COPY: the goroutine that reads it from the connection and the reader's end of the
// pipe it writes to.
type copyStream struct {
	pr     *io.PipeReader
	br     *bufio.Reader
	cancel context.CancelFunc // stops the COPY on the server
	done   chan struct{}      // closed when the COPY has returned
	err    error              // the COPY's error; read only after done

	watched context.Context // the context of the last Next, watched by stop
	stop    func() bool

	started bool   // the stream's header has been read
	scratch []byte // a value larger than br's buffer
}

func startCopy(conn *pgx.Conn, sql string) *copyStream {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &copyStream{pr: pr, br: bufio.NewReaderSize(pr, copyChunk), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		bw := bufio.NewWriterSize(pw, copyChunk)
		_, err := conn.PgConn().CopyTo(ctx, bw, sql)
		if err == nil {
			err = bw.Flush()
		}
		s.err = err
		pw.CloseWithError(err) // nil: io.EOF
	}()
	return s
}

// watch makes a cancellation of ctx end a read blocked on the stream.
func (s *copyStream) watch(ctx context.Context) {
	if ctx == s.watched {
		return
	}
	if s.stop != nil {
		s.stop()
	}
	s.watched = ctx
	s.stop = context.AfterFunc(ctx, func() {
		s.pr.CloseWithError(ctx.Err())
		s.cancel()
	})
}

// close ends the COPY (if it still runs) and waits for its goroutine.
func (s *copyStream) close() {
	if s.stop != nil {
		s.stop()
	}
	s.pr.CloseWithError(errReaderClosed)
	s.cancel()
	<-s.done
}

// finish waits for the end of the COPY after its trailer and returns its error.
func (s *copyStream) finish() error {
	if _, err := s.br.ReadByte(); err != io.EOF {
		if err == nil {
			err = errors.New("data after the end of the COPY stream")
		}
		return err
	}
	<-s.done
	return s.err
}

func (s *copyStream) readHeader() error {
	b, err := s.br.Peek(len(copySignature) + 8)
	if err != nil {
		return fmt.Errorf("binary COPY header: %w", noEOF(err))
	}
	if !bytes.Equal(b[:len(copySignature)], copySignature) {
		return errors.New("binary COPY stream without its signature")
	}
	flags := binary.BigEndian.Uint32(b[len(copySignature):])
	ext := int(binary.BigEndian.Uint32(b[len(copySignature)+4:]))
	if flags&(1<<16) != 0 {
		return errors.New("binary COPY stream with OIDs")
	}
	if _, err := s.br.Discard(len(b) + ext); err != nil {
		return fmt.Errorf("binary COPY header: %w", noEOF(err))
	}
	s.started = true
	return nil
}

// noEOF turns the end of the stream inside a row or header into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// nextCopy reads the next row of the COPY: io.EOF after its trailer.
func (r *postgresReader) nextCopy(ctx context.Context) (source.Record, error) {
	s := r.copy
	s.watch(ctx)
	fail := func(err error) (source.Record, error) {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = ctxErr
		}
		return source.Record{}, r.fail(err)
	}
	if !s.started {
		if err := s.readHeader(); err != nil {
			return fail(err)
		}
	}
	b, err := s.br.Peek(2)
	if err != nil {
		return fail(fmt.Errorf("binary COPY row: %w", noEOF(err)))
	}
	n := int(int16(binary.BigEndian.Uint16(b)))
	_, _ = s.br.Discard(2)
	if n == -1 { // the trailer
		if err := s.finish(); err != nil {
			return fail(err)
		}
		r.done = true
		r.release()
		return source.Record{}, io.EOF
	}
	if n != len(r.render) {
		return fail(fmt.Errorf("a binary COPY row of %d columns, want %d", n, len(r.render)))
	}
	r.line++
	buf := r.buf[:0]
	var bad []string
	for i, render := range r.render {
		b, err := s.br.Peek(4)
		if err != nil {
			return fail(fmt.Errorf("binary COPY row: %w", noEOF(err)))
		}
		size := int(int32(binary.BigEndian.Uint32(b)))
		_, _ = s.br.Discard(4)
		if size >= 0 { // else NULL: an empty field
			var v []byte
			if size <= s.br.Size() {
				if v, err = s.br.Peek(size); err != nil {
					return fail(fmt.Errorf("binary COPY row: %w", noEOF(err)))
				}
			} else {
				s.scratch = append(s.scratch[:0], make([]byte, size)...)
				if _, err := io.ReadFull(s.br, s.scratch); err != nil {
					return fail(fmt.Errorf("binary COPY row: %w", noEOF(err)))
				}
				v = s.scratch
			}
			start := len(buf)
			if buf, err = render(buf, v); err != nil {
				bad = append(bad, fmt.Sprintf("column %q: %v", r.header.Names[i], err))
				buf = append(buf[:start], v...)
			}
			if size <= s.br.Size() {
				_, _ = s.br.Discard(size)
			}
		}
		r.ends[i] = len(buf)
	}
	r.buf = buf
	return r.record(bad)
}

func renderInt2(dst, raw []byte) ([]byte, error) {
	if len(raw) != 2 {
		return dst, fmt.Errorf("invalid length for int2: %d", len(raw))
	}
	return strconv.AppendInt(dst, int64(int16(binary.BigEndian.Uint16(raw))), 10), nil
}

func renderInt4(dst, raw []byte) ([]byte, error) {
	if len(raw) != 4 {
		return dst, fmt.Errorf("invalid length for int4: %d", len(raw))
	}
	return strconv.AppendInt(dst, int64(int32(binary.BigEndian.Uint32(raw))), 10), nil
}

func renderInt8(dst, raw []byte) ([]byte, error) {
	if len(raw) != 8 {
		return dst, fmt.Errorf("invalid length for int8: %d", len(raw))
	}
	return strconv.AppendInt(dst, int64(binary.BigEndian.Uint64(raw)), 10), nil
}

// renderUUID renders 16 bytes as PostgreSQL does: lower-case hex in groups of 8-4-4-4-12.
func renderUUID(dst, raw []byte) ([]byte, error) {
	if len(raw) != 16 {
		return dst, fmt.Errorf("invalid length for uuid: %d", len(raw))
	}
	var b [36]byte
	hex.Encode(b[0:8], raw[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], raw[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], raw[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], raw[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], raw[10:16])
	return append(dst, b[:]...), nil
}

// renderJSONB renders jsonb's binary format, a version byte (1) and the value's text, compacted as json is.
func renderJSONB(dst, raw []byte) ([]byte, error) {
	if len(raw) == 0 || raw[0] != 1 {
		return dst, errors.New("jsonb of an unknown binary version")
	}
	return renderJSON(dst, raw[1:])
}

// Signs of numeric's binary format (src/backend/utils/adt/numeric.c).
const (
	numericPos  = 0x0000
	numericNeg  = 0x4000
	numericNaN  = 0xC000
	numericPInf = 0xD000
	numericNInf = 0xF000
)

// renderNumeric renders numeric's binary format (base-10000 digits, the weight of the first, a sign and the
// display scale) as numeric_out does: every digit of the display scale, trailing zeros included (1.50).
func renderNumeric(dst, raw []byte) ([]byte, error) {
	if len(raw) < 8 {
		return dst, fmt.Errorf("invalid length for numeric: %d", len(raw))
	}
	ndigits := int(binary.BigEndian.Uint16(raw[0:]))
	weight := int(int16(binary.BigEndian.Uint16(raw[2:])))
	sign := binary.BigEndian.Uint16(raw[4:])
	dscale := int(binary.BigEndian.Uint16(raw[6:]))
	if len(raw) != 8+2*ndigits {
		return dst, fmt.Errorf("invalid length for numeric of %d digits: %d", ndigits, len(raw))
	}
	switch sign {
	case numericNaN:
		return append(dst, "NaN"...), nil
	case numericPInf:
		return append(dst, "Infinity"...), nil
	case numericNInf:
		return append(dst, "-Infinity"...), nil
	case numericPos, numericNeg:
	default:
		return dst, fmt.Errorf("numeric with an invalid sign 0x%04x", sign)
	}
	if dscale > math.MaxInt16 {
		return dst, fmt.Errorf("numeric with an invalid scale %d", dscale)
	}
	digit := func(i int) int {
		if i < 0 || i >= ndigits {
			return 0
		}
		return int(binary.BigEndian.Uint16(raw[8+2*i:]))
	}
	for i := range ndigits {
		if digit(i) > 9999 {
			return dst, fmt.Errorf("numeric with an invalid digit %d", digit(i))
		}
	}
	if sign == numericNeg {
		dst = append(dst, '-')
	}
	if weight < 0 {
		dst = append(dst, '0')
	} else {
		dst = strconv.AppendInt(dst, int64(digit(0)), 10)
		for i := 1; i <= weight; i++ {
			dst = appendDigits4(dst, digit(i))
		}
	}
	if dscale > 0 {
		dst = append(dst, '.')
		for i, left := weight+1, dscale; left > 0; i, left = i+1, left-4 {
			var b [4]byte
			put4(b[:], digit(i))
			dst = append(dst, b[:min(left, 4)]...)
		}
	}
	return dst, nil
}

func appendDigits4(dst []byte, v int) []byte {
	var b [4]byte
	put4(b[:], v)
	return append(dst, b[:]...)
}
