package postgres_test

import (
	"context"
	"errors"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/exporter/source/postgres"
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
//	go test ./exporter/source/postgres/ -run '^$' -bench PostgresReader -benchtime 5x
func BenchmarkPostgresReader(b *testing.B) {
	dsn := os.Getenv(postgresDSNEnv)
	if dsn == "" {
		b.Skip(postgresDSNEnv + " is not set: start PostgreSQL with integration/scripts/postgres.sh start and eval \"$(integration/scripts/postgres.sh env)\"")
	}
	table, rows := benchTable(b, dsn)
	b.Run("path=binary-copy", func(b *testing.B) { benchReader(b, dsn, table, rows, false) })
	b.Run("path=cursor", func(b *testing.B) { benchReader(b, dsn, table, rows, true) })
}

func benchReader(b *testing.B, dsn, table string, rows int64, cursor bool) {
	ctx := context.Background()
	src, err := postgres.Open(ctx, postgres.Config{DSN: dsn, Table: table}, cliNames)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	if cursor {
		postgres.ReadThroughCursor(src)
	}
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
		if postgres.ReadsBinaryCopy(r) == cursor {
			b.Fatalf("the scan reads a binary COPY: %v, want %v", !cursor, !cursor)
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
	stmts := []string{"CREATE SCHEMA " + pgx.Identifier{schema}.Sanitize()}
	stmts = append(stmts, benchTableSQL(b, ident)...)
	stmts = append(stmts, "ANALYZE "+ident)
	for _, st := range stmts {
		var args []any
		if strings.Contains(st, "$2") {
			args = []any{day(0), rows}
		}
		if _, err := conn.Exec(ctx, st, args...); err != nil {
			b.Fatalf("%.40s...: %v", st, err)
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

// benchTableSQL is bench/run.sh's table (bench/postgres-table.sql) as statements for table ident, with the
// first day as $1 and the number of rows as $2.
func benchTableSQL(b *testing.B, ident string) []string {
	b.Helper()
	text, err := os.ReadFile("../../../bench/postgres-table.sql")
	if err != nil {
		b.Fatal(err)
	}
	var body []string
	for _, line := range strings.Split(string(text), "\n") {
		if !strings.HasPrefix(line, "--") {
			body = append(body, line)
		}
	}
	r := strings.NewReplacer(":table", ident, ":'start'", "$1", ":rows", "$2::int")
	var stmts []string
	for _, st := range strings.Split(r.Replace(strings.Join(body, "\n")), ";\n") {
		if st = strings.TrimSpace(st); st != "" {
			stmts = append(stmts, strings.TrimSuffix(st, ";"))
		}
	}
	return stmts
}
