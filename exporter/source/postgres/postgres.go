package postgres

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/sinks"
)

// Defaults for Config.
const (
	DefaultTimeColumn = "TIMESTAMP"
	DefaultFetchRows  = 10000
	// defaultConnectTimeout bounds a connection attempt when neither the DSN (connect_timeout) nor
	// PGCONNECT_TIMEOUT sets one, so an unreachable host fails instead of hanging on TCP retries.
	defaultConnectTimeout = 30 * time.Second
)

// Config configures the PostgreSQL source: a table or view of audit rows, read one time window at a
// time. Its yaml and help tags are the postgres kind's settings (source.postgres.*).
type Config struct {
	// DSN is a libpq/pgx connection string or URL; PG* environment variables (PGHOST, PGPASSWORD, ...) and
	// ~/.pgpass fill in what it leaves out, as pgx does. May be empty when the environment says it all.
	DSN string `yaml:"dsn" help:"connection string or URL; put the password in PGPASSWORD or in AUDITEXPORT_SOURCE_POSTGRES_DSN, never in the YAML" secret:"true"`
	// Table is the table or view, optionally schema-qualified ("audit.audit_logs"). Parts are taken as
	// written, not folded to lower case: an exact match wins, otherwise a unique case-insensitive match.
	// Double-quote a part that contains a dot ("odd.schema".audit_logs).
	Table string `yaml:"table" help:"table or view of audit rows, optionally schema-qualified (audit.audit_logs)"`
	// TimeColumn is the event time column (default "TIMESTAMP"), matched case-insensitively against the
	// table's columns. It must be a timestamp with or without time zone, or a date.
	TimeColumn string `yaml:"time_column" help:"the table's event time column"`
	// FetchRows is the number of rows per FETCH from the server-side cursor (default 10000), for a table read
	// through it rather than the binary COPY.
	FetchRows int `yaml:"fetch_rows" help:"rows per fetch from the server-side cursor, for a table with a column type the binary COPY does not read"`
}

// Source reads audit rows from a PostgreSQL table or view. Open checks the connection, the table
// and the time column; each Open dials its own connection and reads in its own read-only, repeatable-read
// transaction, streaming a binary COPY (or a server-side cursor), so memory stays bounded whatever the table
// size and readers may run concurrently. The table's columns are looked up again by every Open: columns added since Open
// are read too.
type Source struct {
	conf       *pgx.ConnConfig
	secrets    sinks.Secrets           // every password known, cut out of every error
	setting    func(key string) string // names a setting in errors
	endpoint   string                  // host:port/db, for messages
	table      tableRef                // resolved: exact schema and name
	timeColumn string                  // resolved: the column's real name
	fetchRows  int
	cursorOnly bool // never the binary COPY (tests compare the two paths)

	mu     sync.Mutex
	closed bool
}

var _ source.Source = (*Source)(nil)

// Open connects, checks that the table exists and has the time column, and returns the source.
// Errors name the setting at fault (dsn, table, time_column or fetch_rows) as d.SettingName does: the
// CLI's source.postgres.table. No error carries the password.
func Open(ctx context.Context, cfg Config, d source.Deps) (*Source, error) {
	red := dsnSecrets(cfg.DSN)
	if cfg.Table == "" {
		return nil, errors.New(d.SettingName("table") + " is empty: name the audit log table or view, e.g. audit.audit_logs")
	}
	ref, err := parseTableName(cfg.Table, d.SettingName("table"))
	if err != nil {
		return nil, err
	}
	if cfg.TimeColumn == "" {
		cfg.TimeColumn = DefaultTimeColumn
	}
	switch {
	case cfg.FetchRows == 0:
		cfg.FetchRows = DefaultFetchRows
	case cfg.FetchRows < 0:
		return nil, fmt.Errorf("%s is %d: want a positive number of rows per fetch", d.SettingName("fetch_rows"), cfg.FetchRows)
	}

	conf, err := pgx.ParseConfig(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", d.SettingName("dsn"), red.Err(err))
	}
	red.Add(conf.Password) // also the one pgx read from PGPASSWORD or a password file
	if conf.ConnectTimeout == 0 {
		conf.ConnectTimeout = defaultConnectTimeout
	}
	if conf.RuntimeParams == nil {
		conf.RuntimeParams = map[string]string{}
	}
	if conf.RuntimeParams["application_name"] == "" {
		conf.RuntimeParams["application_name"] = "auditexport"
	}

	p := &Source{
		conf:      conf,
		secrets:   red,
		setting:   d.SettingName,
		endpoint:  postgresEndpoint(conf),
		fetchRows: cfg.FetchRows,
	}
	conn, err := p.connect(ctx, 0)
	if err != nil {
		return nil, err
	}
	defer closeConn(ctx, conn)

	rel, err := p.resolveTable(ctx, conn, ref, cfg.Table)
	if err != nil {
		return nil, err
	}
	cols, err := p.columns(ctx, conn, rel)
	if err != nil {
		return nil, err
	}
	tc, err := p.findTimeColumn(rel, cols, cfg.TimeColumn)
	if err != nil {
		return nil, err
	}
	p.table = rel.ref
	p.timeColumn = tc.name
	return p, nil
}

// List returns the one input of a table: the rows of the window, read by Open.
func (p *Source) List(ctx context.Context, w source.Window) ([]source.Input, error) {
	if err := p.checkOpen(); err != nil {
		return nil, err
	}
	return []source.Input{{Key: p.inputKey()}}, nil
}

// Describe names the table and server, never the user's credentials.
func (p *Source) Describe() string {
	return "postgres table " + p.table.String() + " at " + p.endpoint
}

// Close marks the source closed. Readers own their connections: close them with Reader.Close.
func (p *Source) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return nil
}

func (p *Source) checkOpen() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New(p.Describe() + ": source is closed")
	}
	return nil
}

func (p *Source) inputKey() string { return "table:" + p.table.String() }

// connect dials one connection; the error names the setting and the server, without the password.
// connect opens a connection; readBuffer, when not 0, sizes the buffer of
// its socket reads (pgx's default is 8 KiB).
func (p *Source) connect(ctx context.Context, readBuffer int) (*pgx.Conn, error) {
	conf := p.conf.Copy()
	if readBuffer > 0 {
		conf.BuildFrontend = func(r io.Reader, w io.Writer) *pgproto3.Frontend {
			return pgproto3.NewFrontend(bufio.NewReaderSize(r, readBuffer), w)
		}
	}
	conn, err := pgx.ConnectConfig(ctx, conf)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres (%s) at %s: %w", p.setting("dsn"), p.endpoint, p.secrets.Err(err))
	}
	return conn, nil
}

// closeConn closes a connection, even when ctx is done, without waiting long on a dead server.
func closeConn(ctx context.Context, conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	_ = conn.Close(ctx)
}

// postgresEndpoint renders the first host tried as host:port/dbname.
func postgresEndpoint(c *pgx.ConnConfig) string {
	return net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port))) + "/" + c.Database
}
