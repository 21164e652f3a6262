package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/exporter/source/postgres"
	"github.com/auditexport/auditexport/exporter/source/sourcetest"
)

// These tests talk to a real PostgreSQL. They fail, never skip, when it is missing.
const postgresDSNEnv = "AUDITEXPORT_TEST_POSTGRES_DSN"

func TestPostgresConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{Name: "postgres", Load: loadPostgres})
}

// loadPostgres is the conformance harness: a fresh schema holding audit_logs, TIMESTAMP as timestamptz and
// every other column text, "" stored as NULL.
func loadPostgres(t *testing.T, header []string, rows [][]string) source.Source {
	t.Helper()
	db := newPGTest(t)
	cols := make([]string, len(header))
	for i, name := range header {
		typ := "text"
		if i == 0 {
			typ = "timestamptz"
		}
		cols[i] = pgx.Identifier{name}.Sanitize() + " " + typ
	}
	db.exec("CREATE TABLE " + db.ident("audit_logs") + " (" + strings.Join(cols, ", ") + ")")
	values := make([][]any, len(rows))
	for i, row := range rows {
		values[i] = make([]any, len(row))
		for j, v := range row {
			switch {
			case v == "":
				values[i][j] = nil
			case j == 0:
				at, err := time.Parse(time.RFC3339Nano, v)
				if err != nil {
					t.Fatalf("row %d: %v", i, err)
				}
				values[i][j] = at
			default:
				values[i][j] = v
			}
		}
	}
	if _, err := db.conn.CopyFrom(context.Background(), pgx.Identifier{db.schema, "audit_logs"}, header, pgx.CopyFromRows(values)); err != nil {
		t.Fatalf("copy %d rows: %v", len(rows), err)
	}
	return db.open(postgres.Config{Table: db.schema + ".audit_logs"})
}

// pgTest is one test's corner of the database: a schema of its own, dropped at the end.
type pgTest struct {
	t      *testing.T
	dsn    string
	conn   *pgx.Conn
	schema string
}

func postgresDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv(postgresDSNEnv)
	if dsn == "" {
		t.Fatal("AUDITEXPORT_TEST_POSTGRES_DSN is not set: start PostgreSQL with integration/scripts/postgres.sh start and eval \"$(integration/scripts/postgres.sh env)\"")
	}
	return dsn
}

func newPGTest(t *testing.T) *pgTest {
	t.Helper()
	dsn := postgresDSN(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to %s=%s: %v (is integration/scripts/postgres.sh start running?)", postgresDSNEnv, dsn, err)
	}
	db := &pgTest{t: t, dsn: dsn, conn: conn, schema: "auditexport_test_" + uniqueSuffix()}
	t.Cleanup(func() {
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{db.schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", db.schema, err)
		}
		conn.Close(ctx)
	})
	db.exec("CREATE SCHEMA " + pgx.Identifier{db.schema}.Sanitize())
	return db
}

func uniqueSuffix() string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func (db *pgTest) exec(sql string, args ...any) {
	db.t.Helper()
	if _, err := db.conn.Exec(context.Background(), sql, args...); err != nil {
		db.t.Fatalf("%s: %v", sql, err)
	}
}

// ident quotes a name in the test's schema.
func (db *pgTest) ident(name string) string { return pgx.Identifier{db.schema, name}.Sanitize() }

// open opens the source on the test database (cfg.DSN defaults to it) and closes it at the end.
func (db *pgTest) open(cfg postgres.Config) *postgres.Source {
	db.t.Helper()
	if cfg.DSN == "" {
		cfg.DSN = db.dsn
	}
	src, err := postgres.Open(context.Background(), cfg, cliNames)
	if err != nil {
		db.t.Fatalf("Open(%+v): %v", cfg.Table, err)
	}
	db.t.Cleanup(func() { src.Close() })
	return src
}

// dsnWith adds a connection parameter (search_path, connect_timeout, ...) to a URL or key/value DSN.
func dsnWith(t *testing.T, dsn, key, value string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
		return u.String()
	}
	return dsn + " " + key + "='" + strings.ReplaceAll(value, "'", `\'`) + "'"
}

// readRecords reads every record of the source's inputs for w.
func readRecords(t *testing.T, src source.Source, w source.Window) []source.Record {
	t.Helper()
	ctx := context.Background()
	inputs, err := src.List(ctx, w)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var out []source.Record
	for _, in := range inputs {
		r, err := src.Open(ctx, in, w)
		if err != nil {
			t.Fatalf("Open(%q): %v", in.Key, err)
		}
		for {
			rec, err := r.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				r.Close()
				t.Fatalf("Next(%q) after %d records: %v", in.Key, len(out), err)
			}
			// A reader may reuse a record's fields for its next record.
			rec.Fields = slices.Clone(rec.Fields)
			out = append(out, rec)
		}
		if err := r.Close(); err != nil {
			t.Errorf("Close(%q): %v", in.Key, err)
		}
	}
	return out
}

// column returns the values of one column of records, by name.
func column(t *testing.T, recs []source.Record, name string) []string {
	t.Helper()
	var out []string
	for _, rec := range recs {
		i := slices.Index(rec.Header.Names, name)
		if i < 0 {
			t.Fatalf("record %d has no column %q: %q", rec.Line, name, rec.Header.Names)
		}
		out = append(out, rec.Fields[i])
	}
	return out
}

func day(d int) time.Time { return time.Date(2026, 11, 23+d, 0, 0, 0, 0, time.UTC) }

// cliNames names settings as the CLI does, so errors read as users see them.
var cliNames = source.Deps{Setting: func(key string) string { return "source.postgres." + key }}
