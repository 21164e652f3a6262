package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"time"

	"github.com/auditexport/auditexport/exporter"
	"github.com/auditexport/auditexport/exporter/source"
)

func runCommand() *command {
	return &command{
		name:    "run",
		summary: "run one incremental export (the CronJob entrypoint)",
		usage:   "run [--config FILE] [--dry-run] [settings]",
		about: `Reads every Sigma export in the landing prefix (or, for a database source,
the rows of the last run.lookback), resolves headers to CDW column IDs,
coerces values, drops duplicate events, and writes Parquet partitions
event_date=YYYY-MM-DD to the destination. Rows that cannot be coerced are
written to <prefix>/_auditexport/rejects/<run id>.jsonl with their source
position and reason. Prints a one-line JSON summary on stdout; logs go to
stderr.`,
		examples: []string{
			"auditexport run --config configs/local.yaml",
			"auditexport run --config prod.yaml --destination.url s3://audit-archive --destination.prefix sigma",
			"AUDITEXPORT_SOURCE_URL=gs://landing/sigma auditexport run --config prod.yaml --dry-run",
		},
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio) error {
			cf := addConfigFlags(fs)
			dry := fs.Bool("dry-run", false, "read and plan everything, write nothing (same as the plan command)")
			return func(ctx context.Context, io *stdio) error {
				if len(io.args) > 0 {
					return usagef("unexpected argument %q", io.args[0])
				}
				lc, err := cf.load()
				if err != nil {
					return err
				}
				log := newLogger(lc.Log, io.err)
				_, err = runExport(ctx, lc, log, runWindow(lc, time.Now()), *dry, io.out)
				return err
			}
		},
	}
}

// runWindow is the event-time window of an incremental run: everything in
// the landing exports, or the last run.lookback of a database table.
func runWindow(lc *loadedConfig, now time.Time) source.Window {
	if lc.Source.Kind == "postgres" {
		return source.Window{From: now.Add(-lc.Run.Lookback)}
	}
	return source.Window{}
}

// runExport opens the job, runs it, and prints the summary line.
func runExport(ctx context.Context, lc *loadedConfig, log *slog.Logger, w source.Window, dryRun bool, out io.Writer) (*exporter.Summary, error) {
	job, err := newExportJob(ctx, lc, log, dryRun)
	if err != nil {
		printSummary(out, nil, err)
		return nil, err
	}
	defer job.Close()
	job.opts.Window = w
	sum, err := exporter.Run(ctx, job.opts)
	printSummary(out, sum, err)
	if err == nil {
		log.Info("run finished", "run_id", sum.RunID, "rows_read", sum.RowsRead, "rows_written", sum.RowsWritten,
			"rows_duplicate", sum.RowsDuplicate, "rows_rejected", sum.RowsRejected, "files", len(sum.Files))
	}
	return sum, err
}
