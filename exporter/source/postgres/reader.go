package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/auditexport/auditexport/exporter/source"
)

const (
	// postgresCursor is the server-side cursor of a scan; each reader has its own connection, so one name does.
	postgresCursor = "auditexport_scan"
	// A timestamp without time zone (or a date) is a wall-clock time in a zone only the schema package knows.
	// Such a time column is compared with the window's bounds read as UTC wall-clock times and widened by the
	// extreme UTC offsets, -12:00 and +14:00, so no row of the window is missed whatever the zone; the caller
	// filters the rows outside it.
	naiveEarliestOffset = 12 * time.Hour
	naiveLatestOffset   = 14 * time.Hour
	closeTimeout        = 5 * time.Second
	// scanReadBuffer is the read buffer of a scan's connection. pgx reads the socket into an 8 KiB buffer, the
	// size of PostgreSQL's sends; while rows stream, the socket holds more, and a larger buffer takes it in one
	// call: on the benchmark table, a third as many reads and half as many wake-ups.
	scanReadBuffer = 256 << 10
)

// Open reads the rows of the window, in the order the server finds them (no sort: the server streams its scan
// as psql's \copy would, and nothing downstream depends on row order), in a read-only repeatable-read transaction on a
// connection of its own: a binary COPY when every column has a binary decoder (copy.go), otherwise a
// server-side cursor that fetches FetchRows rows at a time. Rows whose
// event time is NULL are returned with every window, so that the caller rejects them instead of losing them.
func (p *Source) Open(ctx context.Context, in source.Input, w source.Window) (source.Reader, error) {
	if err := p.checkOpen(); err != nil {
		return nil, err
	}
	if in.Key != p.inputKey() {
		return nil, fmt.Errorf("%s: unknown input %q, want %q", p.Describe(), in.Key, p.inputKey())
	}
	conn, err := p.connect(ctx, scanReadBuffer)
	if err != nil {
		return nil, err
	}
	r, err := p.startScan(ctx, conn, w)
	if err != nil {
		closeConn(ctx, conn)
		return nil, err
	}
	return r, nil
}

func (p *Source) startScan(ctx context.Context, conn *pgx.Conn, w source.Window) (*postgresReader, error) {
	fail := func(what string, err error) error {
		return fmt.Errorf("%s: %s: %w", p.Describe(), what, p.secrets.Err(err))
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fail("begin a read-only transaction", err)
	}
	// Pin the session settings that text renderings depend on, whatever the server's or the role's defaults.
	if _, err := tx.Exec(ctx, `SELECT set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, YMD', true),
		set_config('IntervalStyle', 'postgres', true), set_config('bytea_output', 'hex', true)`); err != nil {
		return nil, fail("set session parameters", err)
	}
	// Look the table up again: it may have gained columns since Open.
	rel, err := p.resolveTable(ctx, tx, p.table, p.table.String())
	if err != nil {
		return nil, err
	}
	cols, err := p.columns(ctx, tx, rel)
	if err != nil {
		return nil, err
	}
	tc, err := p.findTimeColumn(rel, cols, p.timeColumn)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	if dec := binaryDecoders(cols); dec != nil && !p.cursorOnly {
		if query, ok := copyQuery(rel, cols, tc, w); ok {
			return &postgresReader{
				src:    p,
				conn:   conn,
				tx:     tx,
				header: &source.Header{Names: names},
				copy:   startCopy(conn, query),
				render: dec,
				ends:   make([]int, len(cols)),
				fields: make([]string, len(cols)),
			}, nil
		}
	}
	query, args := scanQuery(rel, cols, tc, w)
	if _, err := tx.Exec(ctx, "DECLARE "+postgresCursor+" NO SCROLL CURSOR FOR "+query, args...); err != nil {
		return nil, fail("declare a cursor for window "+w.String(), err)
	}
	return &postgresReader{
		src:       p,
		conn:      conn,
		tx:        tx,
		header:    &source.Header{Names: names},
		fetchSQL:  "FETCH FORWARD " + strconv.Itoa(p.fetchRows) + " FROM " + postgresCursor,
		fetchRows: p.fetchRows,
	}, nil
}

// scanQuery builds the SELECT of a window: every column (arrays as JSON, domains as their base type), the
// bounds pushed down on the time column as parameters.
func scanQuery(rel relation, cols []pgColumn, tc pgColumn, w source.Window) (string, []any) {
	var args []any
	q := selectQuery(rel, cols, tc, w, func(t time.Time, cast string) string {
		args = append(args, t)
		return fmt.Sprintf("$%d::%s", len(args), cast)
	})
	return q, args
}

// selectQuery builds the SELECT of a window, each bound written by bound (cast is timestamptz or timestamp).
func selectQuery(rel relation, cols []pgColumn, tc pgColumn, w source.Window, bound func(t time.Time, cast string) string) string {
	sel := make([]string, len(cols))
	for i, c := range cols {
		expr := pgx.Identifier{c.name}.Sanitize()
		if c.isDomain {
			expr += "::" + c.baseName
		}
		if c.isArray {
			expr = "to_json(" + expr + ")"
		}
		sel[i] = expr
	}
	t := pgx.Identifier{tc.name}.Sanitize()
	cast, from, to := "timestamptz", w.From, w.To
	if tc.baseOID != oidTimestamptz {
		cast = "timestamp"
		if !from.IsZero() {
			from = from.UTC().Add(-naiveEarliestOffset)
		}
		if !to.IsZero() {
			to = to.UTC().Add(naiveLatestOffset)
		}
	}
	var conds []string
	if !from.IsZero() {
		conds = append(conds, t+" >= "+bound(from, cast))
	}
	if !to.IsZero() {
		conds = append(conds, t+" < "+bound(to, cast))
	}
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + rel.ref.ident().Sanitize()
	if len(conds) > 0 {
		q += " WHERE (" + strings.Join(conds, " AND ") + ") OR " + t + " IS NULL"
	}
	return q
}

// postgresReader streams one scan, either a binary COPY (copy is set) or a cursor: one FETCH at a time. Each
// row is rendered as it is read, so at most one row is held beyond the read buffers.
type postgresReader struct {
	src       *Source
	conn      *pgx.Conn
	tx        pgx.Tx
	header    *source.Header
	copy      *copyStream // the binary COPY; nil for a cursor
	fetchSQL  string
	fetchRows int

	rows    pgx.Rows     // the current FETCH; nil between fetches
	render  []renderFunc // per column, chosen at the first FETCH
	buf     []byte       // the current row's rendering, reused
	ends    []int        // per column, where its rendering ends in buf
	fields  []string     // the current record's fields, reused
	inFetch int          // rows read from the current FETCH
	line    int64        // rows read so far
	done    bool
	err     error // sticky fatal error
	closed  bool
}

// Next returns the next row; io.EOF after the last (and ever after).
func (r *postgresReader) Next(ctx context.Context) (source.Record, error) {
	switch {
	case r.err != nil:
		return source.Record{}, r.err
	case r.done:
		return source.Record{}, io.EOF
	case r.closed:
		return source.Record{}, errors.New(r.src.Describe() + ": read after Close")
	}
	if err := ctx.Err(); err != nil {
		return source.Record{}, err
	}
	if r.copy != nil {
		return r.nextCopy(ctx)
	}
	for {
		if r.rows == nil {
			rows, err := r.tx.Query(ctx, r.fetchSQL, renderFormats)
			if err != nil {
				return source.Record{}, r.fail(err)
			}
			if r.render == nil {
				if r.render, err = renderers(rows.FieldDescriptions(), len(r.header.Names)); err != nil {
					rows.Close()
					return source.Record{}, r.fail(err)
				}
				r.ends = make([]int, len(r.render))
				r.fields = make([]string, len(r.render))
			}
			r.rows, r.inFetch = rows, 0
		}
		if r.rows.Next() {
			r.inFetch++
			r.line++
			return r.decode()
		}
		r.rows.Close()
		err := r.rows.Err()
		r.rows = nil
		if err != nil {
			return source.Record{}, r.fail(err)
		}
		if r.inFetch < r.fetchRows { // a short FETCH: the cursor is exhausted
			r.done = true
			r.release()
			return source.Record{}, io.EOF
		}
	}
}

// decode renders the current row: every value into one buffer that becomes one string, the fields slices of
// it. The Fields slice is reused by the next call, as Record allows; a RowError's Raw is the caller's to keep.
func (r *postgresReader) decode() (source.Record, error) {
	raw := r.rows.RawValues()
	if len(raw) != len(r.render) {
		return source.Record{}, r.fail(fmt.Errorf("a row of %d columns, want %d", len(raw), len(r.render)))
	}
	buf := r.buf[:0]
	var bad []string
	for i, v := range raw {
		if v != nil { // else NULL: an empty field
			start := len(buf)
			var err error
			if buf, err = r.render[i](buf, v); err != nil {
				bad = append(bad, fmt.Sprintf("column %q: %v", r.header.Names[i], err))
				buf = append(buf[:start], v...)
			}
		}
		r.ends[i] = len(buf)
	}
	r.buf = buf
	return r.record(bad)
}

// record makes the record of the row rendered in r.buf (column i ends at r.ends[i]), or a RowError naming the
// columns in bad that could not be rendered.
func (r *postgresReader) record(bad []string) (source.Record, error) {
	row := string(r.buf)
	fields := r.fields
	if bad != nil {
		fields = make([]string, len(r.ends))
	}
	start := 0
	for i, end := range r.ends {
		fields[i] = row[start:end]
		start = end
	}
	if bad != nil {
		return source.Record{}, &source.RowError{Line: r.line, Reason: "cannot render " + strings.Join(bad, "; "), Raw: fields}
	}
	return source.Record{Header: r.header, Fields: fields, Line: r.line}, nil
}

func (r *postgresReader) fail(err error) error {
	r.err = fmt.Errorf("read %s after row %d: %w", r.src.Describe(), r.line, r.src.secrets.Err(err))
	r.release()
	return r.err
}

// release ends the transaction and the connection; safe to call more than once.
func (r *postgresReader) release() {
	if r.conn == nil {
		return
	}
	if r.rows != nil {
		r.rows.Close()
		r.rows = nil
	}
	if r.copy != nil {
		r.copy.close()
	}
	closeConn(context.Background(), r.conn) // ends the read-only transaction and its cursor
	r.conn, r.tx = nil, nil
}

// Close ends the scan and releases its connection.
func (r *postgresReader) Close() error {
	r.closed = true
	r.release()
	return nil
}
