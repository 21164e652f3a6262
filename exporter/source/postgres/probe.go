package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/schema"
)

// Probe steps.
const (
	stepConnect = "connect"
	stepTable   = "table"
	stepSelect  = "select"
	stepRows    = "rows"
)

// maxCountRows bounds how many rows of the last day a probe reads to count
// them.
const maxCountRows = 1_000_000

// probeConnectTimeout bounds the probe's own connection attempt when the DSN
// sets none.
const probeConnectTimeout = 15 * time.Second

// Probe connects, finds the table and its time column, checks the SELECT
// privilege by reading the last 24 hours before d.Now as a run does, and
// counts those rows. A failed step says which grant or setting is missing.
func (kind) Probe(ctx context.Context, cfg any, d source.Deps) source.ProbeReport {
	c := *cfg.(*Config)
	r := source.ProbeReport{What: "postgres table " + c.Table}
	conn, user, err := probeConnect(ctx, c.DSN, d, &r)
	if err != nil {
		r.Skip("cannot connect", stepTable, stepSelect, stepRows)
		return r
	}
	defer conn.Close(context.WithoutCancel(ctx))
	grant := fmt.Sprintf("SELECT on %s for role %s (GRANT SELECT ON %s TO %s)", c.Table, user, c.Table, user)

	// Open itself checks the table, its time column and SELECT on every
	// column.
	src, err := Open(ctx, c, d)
	if err != nil {
		needs := d.SettingName("table") + " and " + d.SettingName("time_column") + " naming an existing table or view and its event time column"
		var granted bool
		if conn.QueryRow(ctx, `SELECT coalesce(has_table_privilege(to_regclass($1), 'SELECT'), true)`, c.Table).Scan(&granted) == nil && !granted {
			needs = grant
		}
		r.Fail(stepTable, err, needs)
		r.Skip("no readable table", stepSelect, stepRows)
		return r
	}
	defer src.Close()
	r.What = src.Describe()
	r.OK(stepTable, fmt.Sprintf("found %s with time column %s; role %s may SELECT every column", c.Table, c.TimeColumn, user))

	// Read the last day as a run does: a read-only transaction and a cursor
	// (a view may still fail here, on its base tables' privileges).
	from := d.Now.Add(-24 * time.Hour)
	w := source.Window{From: from}
	ins, err := src.List(ctx, w)
	if err == nil && len(ins) != 1 {
		err = fmt.Errorf("%s: listed %d inputs, want 1", src.Describe(), len(ins))
	}
	var rd source.Reader
	if err == nil {
		rd, err = src.Open(ctx, ins[0], w)
	}
	var first source.Record
	empty := false
	if err == nil {
		first, err = rd.Next(ctx)
		var re *source.RowError
		switch {
		case errors.Is(err, io.EOF):
			empty, err = true, nil
		case errors.As(err, &re): // readable, but this row does not decode
			err = nil
		}
	}
	if err != nil {
		if rd != nil {
			rd.Close()
		}
		needs := ""
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42501" { // insufficient_privilege
			needs = grant + ", and on whatever a view reads"
		}
		r.Fail(stepSelect, err, needs)
		r.Skip("cannot read the table", stepRows)
		return r
	}
	defer rd.Close()
	r.OK(stepSelect, fmt.Sprintf("read %s in a read-only transaction through a cursor", c.Table))

	zone := d.Zone
	if zone == nil {
		zone = time.UTC
	}
	var n, nulls int64
	var more bool
	if !empty {
		n, nulls, more, err = countRecent(ctx, rd, first, c.TimeColumn, from, zone, d)
	}
	if err != nil {
		r.Fail(stepRows, err, "")
		return r
	}
	since := from.UTC().Format(time.RFC3339)
	switch {
	case more:
		r.OK(stepRows, fmt.Sprintf("more than %d rows since %s (stopped counting)", maxCountRows, since))
	default:
		r.OK(stepRows, fmt.Sprintf("%d rows since %s, and %d with a NULL event time", n, since, nulls))
	}
	return r
}

// probeConnect connects, as the source will, and names the server, the role
// and the version. No error carries a password.
func probeConnect(ctx context.Context, dsn string, d source.Deps, r *source.ProbeReport) (conn *pgx.Conn, user string, err error) {
	setting := d.SettingName("dsn")
	fail := func(err error) (*pgx.Conn, string, error) {
		r.Fail(stepConnect, err, setting+" (host, port, database, user; the password from PGPASSWORD or "+d.EnvVarName("dsn")+")")
		return nil, "", err
	}
	red := dsnSecrets(dsn)
	conf, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fail(fmt.Errorf("parse %s: %w", setting, red.Err(err)))
	}
	red.Add(conf.Password)
	if conf.ConnectTimeout == 0 {
		conf.ConnectTimeout = probeConnectTimeout
	}
	where := fmt.Sprintf("%s:%d/%s", conf.Host, conf.Port, conf.Database)
	conn, err = pgx.ConnectConfig(ctx, conf)
	if err != nil {
		return fail(fmt.Errorf("connect to postgres (%s) at %s: %w", setting, where, red.Err(err)))
	}
	var version string
	if err := conn.QueryRow(ctx, `SELECT current_user, current_setting('server_version')`).Scan(&user, &version); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return fail(fmt.Errorf("query postgres at %s: %w", where, red.Err(err)))
	}
	r.OK(stepConnect, fmt.Sprintf("connected to %s as %s (PostgreSQL %s)", where, user, version))
	return conn, user, nil
}

// countRecent counts, from first on, the rows whose event time is at or
// after from, and the rows with no event time, up to maxCountRows. The
// reader's window is filtered in SQL already (a little wider for a naive
// timestamp column); a time that does not parse (a date column), or a row
// that cannot be decoded, counts as recent: a run would read it.
func countRecent(ctx context.Context, rd source.Reader, first source.Record, timeColumn string, from time.Time, zone *time.Location, d source.Deps) (n, nulls int64, more bool, err error) {
	col := -1
	rec := first
	for {
		switch {
		case rec.Header == nil: // a row that could not be decoded
			n++
		case col < 0 && !slices.ContainsFunc(rec.Header.Names, func(h string) bool { return strings.EqualFold(h, timeColumn) }):
			return 0, 0, false, fmt.Errorf("the rows have no column %s (%s)", timeColumn, d.SettingName("time_column"))
		default:
			if col < 0 {
				col = slices.IndexFunc(rec.Header.Names, func(h string) bool { return strings.EqualFold(h, timeColumn) })
			}
			if rec.Fields[col] == "" {
				nulls++
			} else if t, perr := schema.ParseTimestamp(rec.Fields[col], zone); perr != nil || !t.Before(from) {
				n++
			}
		}
		if n+nulls >= maxCountRows {
			return n, nulls, true, nil
		}
		rec, err = rd.Next(ctx)
		var re *source.RowError
		switch {
		case errors.As(err, &re):
			rec = source.Record{}
		case errors.Is(err, io.EOF):
			return n, nulls, false, nil
		case err != nil:
			return n, nulls, false, err
		}
	}
}
