package source

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
)

// Defaults for PostgresConfig.
const (
	DefaultPostgresTimeColumn = "TIMESTAMP"
	DefaultPostgresFetchRows  = 10000
	// defaultPostgresConnectTimeout bounds a connection attempt when neither the DSN (connect_timeout) nor
	// PGCONNECT_TIMEOUT sets one, so an unreachable host fails instead of hanging on TCP retries.
	defaultPostgresConnectTimeout = 30 * time.Second
)

// PostgresConfig configures the PostgreSQL source: a table or view of audit rows, read one time window at a
// time.
type PostgresConfig struct {
	// DSN is a libpq/pgx connection string or URL; PG* environment variables (PGHOST, PGPASSWORD, ...) and
	// ~/.pgpass fill in what it leaves out, as pgx does. May be empty when the environment says it all.
	DSN string
	// Table is the table or view, optionally schema-qualified ("audit.audit_logs"). Parts are taken as
	// written, not folded to lower case: an exact match wins, otherwise a unique case-insensitive match.
	// Double-quote a part that contains a dot ("odd.schema".audit_logs).
	Table string
	// TimeColumn is the event time column (default "TIMESTAMP"), matched case-insensitively against the
	// table's columns. It must be a timestamp with or without time zone, or a date.
	TimeColumn string
	// FetchRows is the number of rows per FETCH from the server-side cursor (default 10000).
	FetchRows int
}

// Postgres reads audit rows from a PostgreSQL table or view. OpenPostgres checks the connection, the table
// and the time column; each Open dials its own connection and reads in its own read-only, repeatable-read
// transaction through a server-side cursor, so memory stays bounded whatever the table size and readers may
// run concurrently. The table's columns are looked up again by every Open: columns added since OpenPostgres
// are read too.
type Postgres struct {
	conf       *pgx.ConnConfig
	redact     redactor
	endpoint   string   // host:port/db, for messages
	table      tableRef // resolved: exact schema and name
	timeColumn string   // resolved: the column's real name
	fetchRows  int

	mu     sync.Mutex
	closed bool
}

var _ Source = (*Postgres)(nil)

// OpenPostgres connects, checks that the table exists and has the time column, and returns the source.
// Errors name the setting at fault: source.postgres.dsn, source.postgres.table, source.postgres.time_column
// or source.postgres.fetch_rows. No error carries the password.
func OpenPostgres(ctx context.Context, cfg PostgresConfig) (*Postgres, error) {
	red := newRedactor(cfg.DSN)
	if cfg.Table == "" {
		return nil, errors.New("source.postgres.table is empty: name the audit log table or view, e.g. audit.audit_logs")
	}
	ref, err := parseTableName(cfg.Table)
	if err != nil {
		return nil, err
	}
	if cfg.TimeColumn == "" {
		cfg.TimeColumn = DefaultPostgresTimeColumn
	}
	switch {
	case cfg.FetchRows == 0:
		cfg.FetchRows = DefaultPostgresFetchRows
	case cfg.FetchRows < 0:
		return nil, fmt.Errorf("source.postgres.fetch_rows is %d: want a positive number of rows per fetch", cfg.FetchRows)
	}

	conf, err := pgx.ParseConfig(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("parse source.postgres.dsn: %w", red.err(err))
	}
	red.add(conf.Password) // also the one pgx read from PGPASSWORD or a password file
	if conf.ConnectTimeout == 0 {
		conf.ConnectTimeout = defaultPostgresConnectTimeout
	}
	if conf.RuntimeParams == nil {
		conf.RuntimeParams = map[string]string{}
	}
	if conf.RuntimeParams["application_name"] == "" {
		conf.RuntimeParams["application_name"] = "auditexport"
	}

	p := &Postgres{
		conf:      conf,
		redact:    red,
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
func (p *Postgres) List(ctx context.Context, w Window) ([]Input, error) {
	if err := p.checkOpen(); err != nil {
		return nil, err
	}
	return []Input{{Key: p.inputKey()}}, nil
}

// Describe names the table and server, never the user's credentials.
func (p *Postgres) Describe() string {
	return "postgres table " + p.table.String() + " at " + p.endpoint
}

// Close marks the source closed. Readers own their connections: close them with Reader.Close.
func (p *Postgres) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return nil
}

func (p *Postgres) checkOpen() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New(p.Describe() + ": source is closed")
	}
	return nil
}

func (p *Postgres) inputKey() string { return "table:" + p.table.String() }

// connect dials one connection; the error names the setting and the server, without the password.
// connect opens a connection; readBuffer, when not 0, sizes the buffer of
// its socket reads (pgx's default is 8 KiB).
func (p *Postgres) connect(ctx context.Context, readBuffer int) (*pgx.Conn, error) {
	conf := p.conf.Copy()
	if readBuffer > 0 {
		conf.BuildFrontend = func(r io.Reader, w io.Writer) *pgproto3.Frontend {
			return pgproto3.NewFrontend(bufio.NewReaderSize(r, readBuffer), w)
		}
	}
	conn, err := pgx.ConnectConfig(ctx, conf)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres (source.postgres.dsn) at %s: %w", p.endpoint, p.redact.err(err))
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
