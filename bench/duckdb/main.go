// Command duckdb-ref is the reference that bench/run.sh measures auditexport against: DuckDB turning the
// same gzipped Sigma-style CSV export into zstd Parquet partitioned by event date, in one COPY statement.
//
// Two queries (--query):
//
//   - dedup (the default, the reference bench/run.sh compares with): the same work auditexport does, in SQL:
//     read every column, parse the time column, keep one row per event key (DISTINCT ON the Event Id) and
//     write zstd Parquet partitioned by event date.
//   - copy: conversion only, no deduplication (the reference of the first benchmarks, kept for continuity).
//
// Neither maps headers or keeps a commit log. It lives in its own Go module so the main module stays free of
// cgo.
//
//	duckdb-ref --in 'bench/.data/1000000/*.csv.gz' --out /tmp/ref [--query copy] [--threads 2]
//
// On success it prints one JSON line on stdout: rows written, wall seconds, the statement it ran.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" database/sql driver
)

type options struct {
	in          string
	out         string
	threads     int
	timeColumn  string
	keyColumn   string
	query       string
	memoryLimit string
	overwrite   bool
	version     bool
}

type summary struct {
	Rows      int64   `json:"rows"`
	WallSec   float64 `json:"wall_seconds"`
	Threads   int     `json:"threads,omitempty"`
	Query     string  `json:"query"`
	Statement string  `json:"statement"`
}

func main() {
	opts, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "duckdb-ref: %v\nTry: duckdb-ref --help\n", err)
		os.Exit(2)
	}
	if err := run(context.Background(), opts, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "duckdb-ref: %v\n", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("duckdb-ref", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.in, "in", "", "input file or glob of CSV / CSV.gz files (required)")
	fs.StringVar(&o.out, "out", "", "output directory for the event_date=YYYY-MM-DD partitions (required; must not exist unless --overwrite)")
	fs.IntVar(&o.threads, "threads", 0, "DuckDB threads (0: DuckDB's default, one per core)")
	fs.StringVar(&o.timeColumn, "time-column", "Timestamp", "header of the event time column")
	fs.StringVar(&o.keyColumn, "key-column", "Event Id", "header of the event key column (--query dedup)")
	fs.StringVar(&o.query, "query", "dedup", "dedup (DISTINCT ON the event key) or copy (conversion only)")
	fs.StringVar(&o.memoryLimit, "memory-limit", "", "DuckDB memory_limit, e.g. 256MB (empty: DuckDB's default)")
	fs.BoolVar(&o.overwrite, "overwrite", false, "replace an existing output directory")
	fs.BoolVar(&o.version, "version", false, "print the DuckDB library version and exit")
	fs.Usage = func() {
		fmt.Fprint(stderr, `duckdb-ref: the DuckDB reference for bench/run.sh

Usage:
  duckdb-ref --in GLOB --out DIR [--query dedup|copy] [--threads N]
  duckdb-ref --version

Runs, in an in-memory DuckDB database, with --query dedup (the default):
  COPY (SELECT DISTINCT ON ("Event Id") *, CAST("Timestamp" AS DATE) AS event_date FROM read_csv(GLOB))
    TO DIR (FORMAT PARQUET, PARTITION_BY (event_date), COMPRESSION ZSTD)
or with --query copy, the same without DISTINCT ON (every row),
and prints {"rows":..,"wall_seconds":..,"statement":..} on stdout.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.version {
		return o, nil
	}
	switch {
	case o.in == "":
		return o, errors.New("--in is required (a CSV or CSV.gz file or glob)")
	case o.out == "":
		return o, errors.New("--out is required (a directory)")
	case o.threads < 0:
		return o, fmt.Errorf("--threads %d: want 0 (default) or a positive count", o.threads)
	case o.timeColumn == "":
		return o, errors.New("--time-column must not be empty")
	case o.query != "dedup" && o.query != "copy":
		return o, fmt.Errorf("--query %q: want dedup or copy", o.query)
	case o.query == "dedup" && o.keyColumn == "":
		return o, errors.New("--key-column must not be empty with --query dedup")
	}
	return o, nil
}

// statement is the whole reference: DuckDB sniffs the CSV's dialect and column types (every column is read
// and typed), parses the (uniform, "2026-11-25 13:45:12.123") timestamps itself, with --query dedup keeps one
// row per event key, and writes one directory per event date. Rows affected is the rows written.
func statement(o options) string {
	distinct := ""
	if o.query != "copy" {
		distinct = "DISTINCT ON (" + quoteIdent(o.keyColumn) + ") "
	}
	return fmt.Sprintf(
		"COPY (SELECT %s*, CAST(%s AS DATE) AS event_date FROM read_csv(%s)) TO %s "+
			"(FORMAT PARQUET, PARTITION_BY (event_date), COMPRESSION ZSTD%s)",
		distinct, quoteIdent(o.timeColumn), quoteLiteral(o.in), quoteLiteral(o.out), overwriteClause(o.overwrite))
}

func overwriteClause(overwrite bool) string {
	if overwrite {
		return ", OVERWRITE_OR_IGNORE"
	}
	return ""
}

func run(ctx context.Context, o options, stdout io.Writer) error {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return fmt.Errorf("open duckdb: %w", err)
	}
	defer db.Close()
	if o.version {
		var v string
		if err := db.QueryRowContext(ctx, "SELECT version()").Scan(&v); err != nil {
			return fmt.Errorf("query duckdb version: %w", err)
		}
		_, err := fmt.Fprintf(stdout, "duckdb %s\n", v)
		return err
	}
	// One connection: SET applies to the session that runs the COPY.
	db.SetMaxOpenConns(1)
	if o.threads > 0 {
		if _, err := db.ExecContext(ctx, fmt.Sprintf("SET threads = %d", o.threads)); err != nil {
			return fmt.Errorf("set threads %d: %w", o.threads, err)
		}
	}
	if o.memoryLimit != "" {
		if _, err := db.ExecContext(ctx, "SET memory_limit = "+quoteLiteral(o.memoryLimit)); err != nil {
			return fmt.Errorf("set memory_limit %q: %w", o.memoryLimit, err)
		}
	}
	stmt := statement(o)
	start := time.Now()
	res, err := db.ExecContext(ctx, stmt)
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", o.in, o.out, err)
	}
	wall := time.Since(start)
	rows, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("copy %s: rows written: %w", o.in, err)
	}
	return json.NewEncoder(stdout).Encode(summary{
		Rows: rows, WallSec: wall.Seconds(), Threads: o.threads, Query: o.query, Statement: stmt,
	})
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
