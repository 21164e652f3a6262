package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/schema"
	"github.com/auditexport/auditexport/sinks"
)

func checkCommand() *command {
	return &command{
		name:    "check",
		summary: "check that the source is readable and the destination writable, before the first export",
		usage:   "check [--config FILE] [--json] [--timeout DURATION] [settings]",
		about: `Checks, with the same configuration a run uses, everything an export needs of
the source and the destination, and prints each step as ok or FAILED with
what is missing (the permission or role, the setting to fix).

Source, sigma-export: list the landing prefix, count the export objects, open
the newest one and resolve its header (the time column must be among its
columns). Source, postgres: connect, find the table and its time column,
check the SELECT privilege, and count the rows of the last 24 hours.

Destination: put a small probe object under <prefix>/_auditexport/check/
only if absent, check that a second create-if-absent put of the same key is
refused (the commit protocol depends on it), read it back, find it in a
listing, copy it, and delete both. Probe objects are removed; when a step
fails, the output names any probe object that may remain.

Exit status 0 when every check passes, 1 when any fails, 2 for a usage or
configuration error.`,
		examples: []string{
			"auditexport check --config prod.yaml",
			"auditexport check --config prod.yaml --json",
			"AUDITEXPORT_DESTINATION_URL=s3://audit-archive auditexport check --config prod.yaml",
		},
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio) error {
			cf := addConfigFlags(fs)
			asJSON := fs.Bool("json", false, "print the report as one JSON object")
			timeout := fs.Duration("timeout", 2*time.Minute, "give up on the checks after this `duration`")
			return func(ctx context.Context, io *stdio) error {
				if *timeout <= 0 {
					return usagef("--timeout %s: must be positive (e.g. 2m)", *timeout)
				}
				lc, err := cf.loadNoArgs(io)
				if err != nil {
					return err
				}
				ctx, cancel := context.WithTimeout(ctx, *timeout)
				defer cancel()
				rep := runCheck(ctx, &lc.Config, time.Now())
				if *asJSON {
					enc := json.NewEncoder(io.out)
					if err := enc.Encode(rep); err != nil {
						return err
					}
				} else {
					rep.print(io.out)
				}
				return rep.err()
			}
		},
	}
}

// Step states.
const (
	stepOK      = "ok"
	stepFailed  = "failed"
	stepSkipped = "skipped"
)

// checkStep is one line of the report.
type checkStep struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
	Error  string `json:"error,omitempty"`
	Needs  string `json:"needs,omitempty"`
}

type checkSection struct {
	Kind  string      `json:"kind,omitempty"` // source only: sigma-export or postgres
	What  string      `json:"what"`           // the redacted location
	Steps []checkStep `json:"checks"`
	// Destination only: the probe object's key (relative to the prefix)
	// and the probe objects that may be left behind after a failure.
	ProbeKey  string   `json:"probe_key,omitempty"`
	MayRemain []string `json:"may_remain,omitempty"`
}

func (s *checkSection) ok(name, detail string) {
	s.Steps = append(s.Steps, checkStep{Name: name, Status: stepOK, Detail: detail})
}

func (s *checkSection) fail(name string, err error, needs string) {
	if needs == "" {
		needs = sinks.Needs(err)
	}
	// One line: drivers' messages may span several (pgx lists each address
	// tried). Redacted once more, as the summary of a run is.
	msg := sinks.RedactText(strings.Join(strings.Fields(err.Error()), " "))
	s.Steps = append(s.Steps, checkStep{Name: name, Status: stepFailed, Error: msg, Needs: needs})
}

func (s *checkSection) skip(why string, names ...string) {
	for _, n := range names {
		s.Steps = append(s.Steps, checkStep{Name: n, Status: stepSkipped, Detail: why})
	}
}

// checkReport is what check prints.
type checkReport struct {
	Status      string       `json:"status"` // ok or failed
	Source      checkSection `json:"source"`
	Destination checkSection `json:"destination"`
}

func (r *checkReport) counts() (total, failed, skipped int) {
	for _, s := range slices.Concat(r.Source.Steps, r.Destination.Steps) {
		total++
		switch s.Status {
		case stepFailed:
			failed++
		case stepSkipped:
			skipped++
		}
	}
	return
}

// err is nil when every step passed, else an error that exits 1.
func (r *checkReport) err() error {
	total, failed, skipped := r.counts()
	if failed == 0 && skipped == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d checks failed, %d skipped", failed, total, skipped)
}

func (r *checkReport) print(w io.Writer) {
	for _, s := range []struct {
		title string
		sec   *checkSection
	}{{"source", &r.Source}, {"destination", &r.Destination}} {
		fmt.Fprintf(w, "%s: %s\n", s.title, s.sec.What)
		if s.sec.ProbeKey != "" {
			fmt.Fprintf(w, "  probe object: %s\n", s.sec.ProbeKey)
		}
		for _, st := range s.sec.Steps {
			state := map[string]string{stepOK: "ok", stepFailed: "FAILED", stepSkipped: "skipped"}[st.Status]
			text := st.Detail
			if st.Status == stepFailed {
				text = st.Error
			}
			fmt.Fprintf(w, "  %-8s %-13s %s\n", state, st.Name, text)
			if st.Needs != "" {
				fmt.Fprintf(w, "  %-8s %-13s missing: %s\n", "", "", st.Needs)
			}
		}
		for _, k := range s.sec.MayRemain {
			fmt.Fprintf(w, "  probe object that may remain, delete it by hand: %s\n", k)
		}
	}
	total, failed, skipped := r.counts()
	if err := r.err(); err != nil {
		fmt.Fprintf(w, "%d of %d checks failed, %d skipped\n", failed, total, skipped)
		return
	}
	fmt.Fprintf(w, "all %d checks passed\n", total)
}

// runCheck checks the source and the destination of c. now is the end of
// the postgres source's 24-hour window.
func runCheck(ctx context.Context, c *Config, now time.Time) *checkReport {
	r := &checkReport{Source: checkSection{Kind: c.Source.Kind}}
	switch c.Source.Kind {
	case "postgres":
		checkPostgres(ctx, c, now, &r.Source)
	default:
		checkExports(ctx, c, &r.Source)
	}
	checkDestination(ctx, c, &r.Destination)
	r.Status = stepOK
	if r.err() != nil {
		r.Status = stepFailed
	}
	return r
}

// checkDestination runs the sinks probe against the archive.
func checkDestination(ctx context.Context, c *Config, sec *checkSection) {
	sec.What = sinks.Redact(c.Destination.URL)
	b, err := sinks.Open(ctx, c.Destination.URL, destinationOptions(c))
	if err != nil {
		sec.fail(sinks.ProbeConnect, fmt.Errorf("destination.url: %w", err), "")
		sec.skip("the destination cannot be opened", sinks.ProbeCreate, sinks.ProbeCreateAgain, sinks.ProbeRead,
			sinks.ProbeList, sinks.ProbeCopy, sinks.ProbeDelete)
		return
	}
	defer b.Close()
	p := b.Probe(ctx)
	sec.What, sec.ProbeKey, sec.MayRemain = p.Bucket, p.Key, p.Remaining
	for _, st := range p.Steps {
		switch {
		case st.Err != nil:
			sec.fail(st.Name, st.Err, st.Needs)
		case st.Skipped:
			sec.skip(st.Detail, st.Name)
		default:
			sec.ok(st.Name, st.Detail)
		}
	}
}

// checkExports checks a landing prefix of Sigma exports.
func checkExports(ctx context.Context, c *Config, sec *checkSection) {
	sec.What = sinks.Redact(c.Source.URL)
	later := []string{"list", "newest", "header"}
	unreachable := func(err error) {
		needs := ""
		if errors.Is(err, sinks.ErrNotFound) {
			needs = "the landing bucket, container or directory named in source.url must exist"
		}
		sec.fail("connect", fmt.Errorf("source.url: %w", err), needs)
		sec.skip("the source cannot be reached", later...)
	}
	b, err := sinks.Open(ctx, c.Source.URL, sinks.OpenOptions{Prefix: c.Source.Prefix})
	if err != nil {
		unreachable(err)
		return
	}
	defer b.Close()
	sec.What = b.String()
	if err := b.Check(ctx); err != nil {
		unreachable(err)
		return
	}
	sec.ok("connect", "listed "+b.String())

	ex := source.NewExports(b)
	ins, err := ex.List(ctx, source.Window{})
	if err != nil {
		sec.fail("list", err, "")
		sec.skip("the landing prefix cannot be listed", later[1:]...)
		return
	}
	if len(ins) == 0 {
		sec.fail("list", fmt.Errorf("no Sigma exports (.csv, .csv.gz, .jsonl, .ndjson) under %s; %d other objects", b.String(), len(ex.Skipped)),
			"exports under source.url and source.prefix: check both, and that Sigma's scheduled export has run")
		sec.skip("no export to open", later[1:]...)
		return
	}
	sec.ok("list", fmt.Sprintf("%d export objects under the prefix (%d other objects ignored)", len(ins), len(ex.Skipped)))

	newest := ins[0]
	for _, in := range ins[1:] {
		if in.ModTime.After(newest.ModTime) || in.ModTime.Equal(newest.ModTime) && in.Key > newest.Key {
			newest = in
		}
	}
	names, err := exportHeader(ctx, ex, newest)
	if err != nil {
		sec.fail("newest", err, "")
		sec.skip("the newest export cannot be read", "header")
		return
	}
	sec.ok("newest", fmt.Sprintf("opened %s (%d bytes, modified %s)", newest.Key, newest.Size, newest.ModTime.UTC().Format(time.RFC3339)))
	checkHeader(c, names, sec)
}

// exportHeader opens one export and returns its header.
func exportHeader(ctx context.Context, ex *source.Exports, in source.Input) ([]string, error) {
	rd, err := ex.Open(ctx, in, source.Window{})
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	if csv, ok := rd.(*source.CSVReader); ok {
		return csv.Header().Names, nil
	}
	rec, err := rd.Next(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the first record of %s: %w", in.Key, err)
	}
	return rec.Header.Names, nil
}

// checkHeader resolves a header as a run would, and requires the time column.
func checkHeader(c *Config, names []string, sec *checkSection) {
	cat, err := catalogOf(c)
	if err != nil {
		sec.fail("header", err, "")
		return
	}
	res, err := cat.Resolve(names, schema.ResolveOptions{Strict: c.Schema.Strict})
	if err != nil {
		sec.fail("header", err, "a schema.columns mapping for these headers, or schema.strict: false")
		return
	}
	by := map[string]int{}
	var derived []string
	hasTime := false
	for _, col := range res.Columns {
		by[col.By]++
		if col.By == schema.ByDerived {
			derived = append(derived, fmt.Sprintf("%q as %s", col.Header, col.Column.ID))
		}
		hasTime = hasTime || col.Column.ID == c.Schema.TimeColumn
	}
	if !hasTime {
		sec.fail("header", fmt.Errorf("no header resolves to the time column %s among %d columns", c.Schema.TimeColumn, len(names)),
			"schema.time_column, or a schema.columns entry mapping the org's time header to it")
		return
	}
	detail := fmt.Sprintf("%d columns: %d by column ID, %d by friendly name, %d derived; time column %s present",
		len(names), by[schema.ByID], by[schema.ByFriendly], by[schema.ByDerived], c.Schema.TimeColumn)
	if len(derived) > 0 {
		detail += "; derived " + strings.Join(derived, ", ")
	}
	sec.ok("header", detail)
}

// maxCountRows bounds how many rows of the last day check reads to count
// them.
const maxCountRows = 1_000_000

// checkPostgres checks a PostgreSQL source.
func checkPostgres(ctx context.Context, c *Config, now time.Time, sec *checkSection) {
	pc := c.Source.Postgres
	sec.What = "postgres table " + pc.Table
	conn, user, err := checkPostgresConnect(ctx, pc.DSN, sec)
	if err != nil {
		sec.skip("cannot connect", "table", "select", "rows")
		return
	}
	defer conn.Close(context.WithoutCancel(ctx))
	grant := fmt.Sprintf("SELECT on %s for role %s (GRANT SELECT ON %s TO %s)", pc.Table, user, pc.Table, user)

	// The source itself checks the table, its time column and SELECT on
	// every column.
	src, err := source.OpenPostgres(ctx, source.PostgresConfig{DSN: pc.DSN, Table: pc.Table, TimeColumn: pc.TimeColumn, FetchRows: pc.FetchRows})
	if err != nil {
		needs := "source.postgres.table and source.postgres.time_column naming an existing table or view and its event time column"
		var granted bool
		if conn.QueryRow(ctx, `SELECT coalesce(has_table_privilege(to_regclass($1), 'SELECT'), true)`, pc.Table).Scan(&granted) == nil && !granted {
			needs = grant
		}
		sec.fail("table", err, needs)
		sec.skip("no readable table", "select", "rows")
		return
	}
	defer src.Close()
	sec.What = src.Describe()
	sec.ok("table", fmt.Sprintf("found %s with time column %s; role %s may SELECT every column", pc.Table, pc.TimeColumn, user))

	// Read the last day as a run does: a read-only transaction and a cursor
	// (a view may still fail here, on its base tables' privileges).
	from := now.Add(-24 * time.Hour)
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
		sec.fail("select", err, needs)
		sec.skip("cannot read the table", "rows")
		return
	}
	defer rd.Close()
	sec.ok("select", fmt.Sprintf("read %s in a read-only transaction through a cursor", pc.Table))

	zone, _ := time.LoadLocation(c.Source.TimeZone)
	var n, nulls int64
	var more bool
	if !empty {
		n, nulls, more, err = countRecent(ctx, rd, first, pc.TimeColumn, from, zone)
	}
	if err != nil {
		sec.fail("rows", err, "")
		return
	}
	since := from.UTC().Format(time.RFC3339)
	switch {
	case more:
		sec.ok("rows", fmt.Sprintf("more than %d rows since %s (stopped counting)", maxCountRows, since))
	default:
		sec.ok("rows", fmt.Sprintf("%d rows since %s, and %d with a NULL event time", n, since, nulls))
	}
}

// checkPostgresConnect connects, as the source will, and names the server,
// the role and the version. The error carries no password.
func checkPostgresConnect(ctx context.Context, dsn string, sec *checkSection) (conn *pgx.Conn, user string, err error) {
	fail := func(err error) (*pgx.Conn, string, error) {
		sec.fail("connect", err, "source.postgres.dsn (host, port, database, user; the password from PGPASSWORD or AUDITEXPORT_SOURCE_POSTGRES_DSN)")
		return nil, "", err
	}
	conf, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fail(errors.New("parse source.postgres.dsn: " + scrub(err.Error(), dsn, "")))
	}
	if conf.ConnectTimeout == 0 {
		conf.ConnectTimeout = 15 * time.Second
	}
	where := fmt.Sprintf("%s:%d/%s", conf.Host, conf.Port, conf.Database)
	conn, err = pgx.ConnectConfig(ctx, conf)
	if err != nil {
		return fail(fmt.Errorf("connect to postgres (source.postgres.dsn) at %s: %s", where, scrub(err.Error(), dsn, conf.Password)))
	}
	var version string
	if err := conn.QueryRow(ctx, `SELECT current_user, current_setting('server_version')`).Scan(&user, &version); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return fail(fmt.Errorf("query postgres at %s: %s", where, scrub(err.Error(), dsn, conf.Password)))
	}
	sec.ok("connect", fmt.Sprintf("connected to %s as %s (PostgreSQL %s)", where, user, version))
	return conn, user, nil
}

// scrub removes the DSN and the password from a driver message.
func scrub(msg, dsn, password string) string {
	for _, s := range []string{dsn, password} {
		if len(s) >= 3 {
			msg = strings.ReplaceAll(msg, s, "**redacted**")
		}
	}
	return sinks.RedactText(msg)
}

// countRecent counts, from first on, the rows whose event time is at or
// after from, and the rows with no event time, up to maxCountRows. The
// reader's window is filtered in SQL already (a little wider for a naive
// timestamp column); a time that does not parse (a date column), or a row
// that cannot be decoded, counts as recent: a run would read it.
func countRecent(ctx context.Context, rd source.Reader, first source.Record, timeColumn string, from time.Time, zone *time.Location) (n, nulls int64, more bool, err error) {
	col := -1
	rec := first
	for {
		switch {
		case rec.Header == nil: // a row that could not be decoded
			n++
		case col < 0 && !slices.ContainsFunc(rec.Header.Names, func(h string) bool { return strings.EqualFold(h, timeColumn) }):
			return 0, 0, false, fmt.Errorf("the rows have no column %s (source.postgres.time_column)", timeColumn)
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
