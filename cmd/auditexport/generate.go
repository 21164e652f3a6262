package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/auditexport/auditexport/exporter/generate"
)

func generateCommand() *command {
	return &command{
		name:    "generate",
		summary: "write realistic synthetic Sigma exports for demos and benchmarks",
		usage:   "generate --out DIR [--days N] [--rows-per-day N] [--format csv|csv.gz|jsonl] [flags]",
		about: `Writes files shaped like Sigma's scheduled audit-log exports: one file per
export run, each holding every event of the 30 days before it (so files
overlap), with friendly-name headers, all documented event categories,
sparse event-specific columns, at-least-once duplicates and late rows. The
same flags give byte-identical files. Prints a one-line JSON summary of
what was written (files, distinct_per_day, rows_written ...) on stdout.`,
		examples: []string{
			"auditexport generate --out /tmp/landing --days 7 --rows-per-day 5000 --format csv.gz",
			"auditexport generate --out /tmp/big --days 1 --rows-per-day 10000000 --exports 1 --format csv.gz --seed 7",
		},
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio) error {
			out := fs.String("out", "", "`directory` to write the export files into (required; created if missing)")
			start := fs.String("start", "", "first event `date`, YYYY-MM-DD (default: --days before today, UTC)")
			days := fs.Int("days", 7, "number of event days")
			rows := fs.Int("rows-per-day", 1000, "distinct events per day")
			exports := fs.Int("exports", 0, "number of export files (default: one per day)")
			format := fs.String("format", "csv.gz", "csv, csv.gz or jsonl")
			headers := fs.String("headers", "friendly", "friendly (Sigma's names), ids (CDW column IDs) or renamed (some names renamed by an admin)")
			eventID := fs.Bool("event-id", true, "include the Event Id column (false: events are identified by their whole row)")
			dups := fs.Float64("duplicate-rate", 0.01, "fraction of rows written twice (at-least-once delivery)")
			late := fs.Float64("late-rate", 0.02, "fraction of events that arrive after the export that should have held them")
			seed := fs.Int64("seed", 1, "random seed")
			ts := fs.String("timestamps", "mixed", "mixed (Snowflake's text forms, with and without offsets) or plain")
			return func(ctx context.Context, io *stdio) error {
				if len(io.args) > 0 {
					return usagef("unexpected argument %q", io.args[0])
				}
				if *out == "" {
					return usagef("--out is required (the directory to write the exports into)")
				}
				o := generate.Options{
					Days: *days, RowsPerDay: *rows, Exports: *exports, Format: *format, Headers: *headers,
					WithEventID: *eventID, DuplicateRate: *dups, LateRate: *late, Seed: *seed, TimestampStyle: *ts,
				}
				if *start == "" {
					o.Start = time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -*days)
				} else {
					t, err := time.Parse(time.DateOnly, *start)
					if err != nil {
						return usagef("--start %q is not a date (want YYYY-MM-DD)", *start)
					}
					o.Start = t
				}
				if err := o.Validate(); err != nil {
					return &usageError{msg: "invalid options: " + err.Error()}
				}
				return runGenerate(ctx, *out, o, io.out)
			}
		},
	}
}

func runGenerate(ctx context.Context, dir string, o generate.Options, out io.Writer) error {
	truth, err := generate.Generate(ctx, dir, o)
	if err != nil {
		return fmt.Errorf("generate into %s: %w", dir, err)
	}
	b, err := json.Marshal(truth)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s\n", b)
	return err
}
