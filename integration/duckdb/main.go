// Command duckdb-sql runs SQL in an in-memory DuckDB database: the DuckDB that the integration tests
// run `auditexport ddl --engine duckdb` in, against archives the exporter wrote.
//
// It lives in its own Go module so the main module stays free of cgo; integration/scripts/duckdb.sh
// builds it into the test cache and prints where it is.
//
//	duckdb-sql --exec ddl.sql --query 'SELECT count(*) FROM sigma_audit'
//	auditexport ddl --engine duckdb | duckdb-sql --exec - --query 'DESCRIBE sigma_audit'
//	duckdb-sql --version
//
// The --exec scripts run first, in order, in one connection; then each --query runs and prints one
// JSON line on stdout: {"columns":[...],"types":[...],"rows":[[...],...]}. Values are printed as
// DuckDB returns them through database/sql (dates and timestamps in RFC 3339).
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

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" database/sql driver
)

type options struct {
	exec    []string // SQL script files, "-" for stdin
	queries []string
	version bool
}

// result is what one query printed.
type result struct {
	Columns []string `json:"columns"`
	Types   []string `json:"types"`
	Rows    [][]any  `json:"rows"`
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	opts, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "duckdb-sql: %v\nTry: duckdb-sql --help\n", err)
		os.Exit(2)
	}
	if err := run(context.Background(), opts, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "duckdb-sql: %v\n", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("duckdb-sql", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var((*listFlag)(&o.exec), "exec", "a SQL script `file` to run first, - for stdin (repeatable, run in order)")
	fs.Var((*listFlag)(&o.queries), "query", "a `query` whose result to print as one JSON line (repeatable)")
	fs.BoolVar(&o.version, "version", false, "print the DuckDB library version and exit")
	fs.Usage = func() {
		fmt.Fprint(stderr, `duckdb-sql: run SQL in an in-memory DuckDB database

Usage:
  duckdb-sql [--exec FILE]... [--query SQL]...
  duckdb-sql --version

Runs each --exec script (several statements each; - reads stdin) in order,
then each --query, printing {"columns":..,"types":..,"rows":..} per query,
one JSON line each.

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
	if !o.version && len(o.exec) == 0 && len(o.queries) == 0 {
		return o, errors.New("give at least one --exec or --query")
	}
	stdin := 0
	for _, f := range o.exec {
		if f == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return o, errors.New("--exec - (stdin) can be given once")
	}
	return o, nil
}

func run(ctx context.Context, o options, stdin io.Reader, stdout io.Writer) error {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return fmt.Errorf("open duckdb: %w", err)
	}
	defer db.Close()
	// One connection: an in-memory database is per connection's database
	// instance, and views created by --exec must be seen by --query.
	db.SetMaxOpenConns(1)
	if o.version {
		var v string
		if err := db.QueryRowContext(ctx, "SELECT version()").Scan(&v); err != nil {
			return fmt.Errorf("query the duckdb version: %w", err)
		}
		_, err := fmt.Fprintf(stdout, "duckdb %s\n", v)
		return err
	}
	for _, f := range o.exec {
		var script []byte
		if f == "-" {
			script, err = io.ReadAll(stdin)
		} else {
			script, err = os.ReadFile(f)
		}
		if err != nil {
			return fmt.Errorf("read --exec %s: %w", f, err)
		}
		if _, err := db.ExecContext(ctx, string(script)); err != nil {
			return fmt.Errorf("--exec %s: %w", f, err)
		}
	}
	enc := json.NewEncoder(stdout)
	for _, q := range o.queries {
		res, err := query(ctx, db, q)
		if err != nil {
			return fmt.Errorf("--query %q: %w", q, err)
		}
		if err := enc.Encode(res); err != nil {
			return err
		}
	}
	return nil
}

func query(ctx context.Context, db *sql.DB, q string) (*result, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	res := &result{Columns: cols, Rows: [][]any{}}
	for _, t := range types {
		res.Types = append(res.Types, t.DatabaseTypeName())
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				vals[i] = string(b)
			}
		}
		res.Rows = append(res.Rows, vals)
	}
	return res, rows.Err()
}
