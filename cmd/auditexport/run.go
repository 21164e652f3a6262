package main

import (
	"context"
	"flag"
	"io"
	"log/slog"

	"github.com/auditexport/auditexport/exporter"
	"github.com/auditexport/auditexport/exporter/source"
)

func runCommand() *command {
	return &command{
		name:    "run",
		summary: "run one incremental export (the CronJob entrypoint)",
		usage:   "run [--config FILE] [--dry-run] [settings]",
		about: `Reads the Sigma exports in the landing prefix that the archive has not read
yet (or, for a database source, the rows since run.lookback before the
archive's latest event), resolves headers to CDW column IDs, coerces values,
drops events the archive already holds, and commits the rest as Parquet
partitions event_date=YYYY-MM-DD. Progress lives in the destination's commit
log, so a fresh pod resumes where the last run stopped, and a run that died
half-way is finished by the next one. Rows that cannot be coerced are
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
				_, err = runExport(ctx, lc, log, exportPlan{command: "run", incremental: true}, *dry, io.out)
				return err
			}
		},
	}
}

// exportPlan says what kind of export to run: an incremental run (resumes
// from the archive's watermark, skips inputs read in full) or a backfill of
// a window.
type exportPlan struct {
	command     string
	incremental bool
	window      source.Window
}

// runExport opens the job, runs it, and prints the summary line.
func runExport(ctx context.Context, lc *loadedConfig, log *slog.Logger, p exportPlan, dryRun bool, out io.Writer) (*exporter.Summary, error) {
	job, err := newExportJob(ctx, lc, log, dryRun)
	if err != nil {
		printSummary(out, nil, err)
		return nil, err
	}
	defer job.Close()
	job.opts.Window = p.window
	job.opts.Incremental = p.incremental
	job.opts.Command = p.command
	sum, err := exporter.Run(ctx, job.opts)
	printSummary(out, sum, err)
	if err == nil {
		log.Info("run finished", "run_id", sum.RunID, "rows_read", sum.RowsRead, "rows_written", sum.RowsWritten,
			"rows_duplicate", sum.RowsDuplicate, "rows_rejected", sum.RowsRejected, "files", len(sum.Files))
	}
	return sum, err
}
