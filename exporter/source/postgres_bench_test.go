package source_test

import (
	"context"
	"errors"
	"io"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/auditexport/auditexport/exporter/source"
)

// Settings of BenchmarkPostgresReader: the number of rows of the table it creates (default 200,000), or an
// existing table to read instead, e.g. bench/run.sh's bench_audit_1000000.
const (
	benchPGRowsEnv  = "AUDITEXPORT_BENCH_PG_ROWS"
	benchPGTableEnv = "AUDITEXPORT_BENCH_PG_TABLE"
)

// BenchmarkPostgresReader reads a 19-column table shaped like bench/run.sh's PostgreSQL table (timestamptz,
// text, bigint and boolean columns, some NULL) into nothing, and reports the reader's cost per row: wall ns,
// the process's CPU ns (user+sys; the server's CPU is not counted) and heap allocations.
//
//	eval "$(bash integration/scripts/postgres.sh env)"
//	go test ./exporter/source/ -run '^$' -bench PostgresReader -benchtime 5x
func BenchmarkPostgresReader(b *testing.B) {
	dsn := os.Getenv(postgresDSNEnv)
	if dsn == "" {
		b.Skip(postgresDSNEnv + " is not set: start PostgreSQL with integration/scripts/postgres.sh start and eval \"$(integration/scripts/postgres.sh env)\"")
	}
	ctx := context.Background()
	table, rows := benchTable(b, dsn)
	src, err := source.OpenPostgres(ctx, source.PostgresConfig{DSN: dsn, Table: table})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	inputs, err := src.List(ctx, source.Window{})
	if err != nil {
		b.Fatal(err)
	}
	in := inputs[0]

	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	cpu0 := processCPU(b)
	start := time.Now()
	var total int64
	for b.Loop() {
		r, err := src.Open(ctx, in, source.Window{})
		if err != nil {
			b.Fatal(err)
		}
		var n int64
		for {
			_, err := r.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatalf("after %d rows: %v", n, err)
			}
			n++
		}
		if err := r.Close(); err != nil {
			b.Fatal(err)
		}
		if rows >= 0 && n != rows {
			b.Fatalf("read %d rows, want %d", n, rows)
		}
		total += n
	}
	wall := time.Since(start)
	cpu := processCPU(b) - cpu0
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(wall.Nanoseconds())/float64(total), "ns/row")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(total), "cpu-ns/row")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(total), "allocs/row")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(total), "B/row")
}

// benchTable returns the table to read and its number of rows: the one named by AUDITEXPORT_BENCH_PG_TABLE
// (rows -1: not checked), or a new one of AUDITEXPORT_BENCH_PG_ROWS rows, dropped at the end.
func benchTable(b *testing.B, dsn string) (table string, rows int64) {
	b.Helper()
	if t := os.Getenv(benchPGTableEnv); t != "" {
		return t, -1
	}
	rows = 200_000
	if s := os.Getenv(benchPGRowsEnv); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			b.Fatalf("%s=%q: want a positive number of rows", benchPGRowsEnv, s)
		}
		rows = n
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatalf("connect to %s: %v", postgresDSNEnv, err)
	}
	schema := "auditexport_bench_" + uniqueSuffix()
	b.Cleanup(func() {
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			b.Errorf("drop schema %s: %v", schema, err)
		}
		conn.Close(ctx)
	})
	ident := pgx.Identifier{schema, "audit_logs"}.Sanitize()
	for _, s := range []struct {
		sql  string
		args []any
	}{
		{"CREATE SCHEMA " + pgx.Identifier{schema}.Sanitize(), nil},
		{"CREATE TABLE " + ident + benchTableColumns, nil},
		{"INSERT INTO " + ident + benchTableRows, []any{day(0), rows}},
		{"ANALYZE " + ident, nil},
	} {
		if _, err := conn.Exec(ctx, s.sql, s.args...); err != nil {
			b.Fatalf("%.40s...: %v", s.sql, err)
		}
	}
	return schema + ".audit_logs", rows
}

// processCPU is the user+sys CPU time of this process so far.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// The table of bench/run.sh (pg_load_sql); $1 is the first day, $2 the number of rows.
const benchTableColumns = ` (
  "TIMESTAMP" timestamptz NOT NULL, "EVENT_ID" text NOT NULL, "EVENT_CATEGORY" text, "EVENT_TYPE" text,
  "EVENT_STATUS" text, "ORGANIZATION_ID" text, "USER_ID" text, "USER_EMAIL" text, "OBJECT_ID" text,
  "OBJECT_NAME" text, "OBJECT_TYPE" text, "REQUEST_ID" text, "IP_ADDRESS" text, "USER_AGENT" text,
  "SESSION_ID" text, "QUERY_ID" text, "QUERY_DURATION_MS" bigint, "ROWS_RETURNED" bigint, "IS_EMBED" boolean)`

const benchTableRows = `
SELECT
  $1::timestamptz + make_interval(secs => i * (30 * 86400.0 / $2::int)),
  md5('event' || i)::uuid::text,
  cat,
  (ARRAY['Run Query', 'View Workbook', 'Login', 'Export', 'Update Permissions', 'Run Schedule'])[1 + i % 6],
  CASE WHEN i % 53 = 0 THEN 'Failure' ELSE 'Success' END,
  '5e99a2e5-213a-eef8-1614-868598e11e99',
  'U' || lpad((i % 997)::text, 21, 'x'),
  'user' || (i % 997) || '@acme-analytics.example.com',
  md5('object' || (i % 20011))::uuid::text,
  (ARRAY['Month-end close pack', 'ARR Model', 'Pipeline review', 'Churn dashboard'])[1 + i % 4] || ' ' || (i % 20011),
  (ARRAY['workbook', 'dataset', 'data-model', 'folder', 'schedule'])[1 + i % 5],
  md5('request' || i)::uuid::text,
  '203.0.113.' || (i % 251),
  (ARRAY['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
         'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
         'python-requests/2.32.3'])[1 + i % 3],
  md5('session' || (i / 40))::uuid::text,
  CASE WHEN cat = 'QUERY_EXECUTIONS' THEN md5('query' || i)::uuid::text END,
  CASE WHEN cat = 'QUERY_EXECUTIONS' THEN (i * 37) % 60000 END,
  CASE WHEN cat = 'QUERY_EXECUTIONS' THEN (i * 101) % 100000 END,
  i % 10 = 0
FROM generate_series(1, $2::int) AS i,
     LATERAL (SELECT (ARRAY['QUERY_EXECUTIONS', 'QUERY_EXECUTIONS', 'OBJECT_INTERACTION', 'ACCESS_SIGMA',
                            'PUBLIC_API', 'EXPORTS', 'SCHEDULES', 'PERMISSIONS'])[1 + i % 8] AS cat) AS c`
