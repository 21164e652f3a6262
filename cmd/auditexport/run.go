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
			deprecatedFlag(fs, cf, "pushgateway.url", "metrics.pushgateway_url", "URL")
			style := addSummaryFlag(fs)
			return func(ctx context.Context, io *stdio) error {
				lc, err := cf.loadNoArgs(io)
				if err != nil {
					return err
				}
				bar := progressFor(io.err).dryRun(*dry)
				defer bar.finish()
				log := newLogger(lc.Log, bar.logWriter(io.err))
				p := exportPlan{command: "run", incremental: true, progress: bar.callback(), phase: bar.phaseHook(),
					summary: style(io.out), beforeSummary: bar.finish}
				push := pushAfter(lc, &p, *dry)
				sum, err := runExport(ctx, lc, log, p, *dry, io.out)
				bar.finish()
				push(ctx, runLogger(log, sum), "")
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
	// metrics, when set, record the run (schedule mode, or a push).
	metrics *metrics
	// progress, when set, is the exporter's progress callback (a bar).
	progress func(exporter.ProgressEvent)
	// phase, when set, is chained into the exporter's phase hook (tests).
	phase func(string)
	// summary is how the run ends on stdout (JSON unless a person reads);
	// beforeSummary, when set, runs just before it is printed (it removes
	// the progress bar).
	summary       summaryStyle
	beforeSummary func()
	// commitAttempts, when > 0, bounds re-planning after lost commit races
	// (concurrent backfill shards race more than scheduled runs).
	commitAttempts int
}

// runExport opens the job, runs it, and prints the summary line. Every log
// line of the run carries its run_id. A stop request (ctx done) stops the
// run before its commit, or lets it finish a commit it has begun (runGuard).
func runExport(ctx context.Context, lc *loadedConfig, log *slog.Logger, p exportPlan, dryRun bool, out io.Writer) (*exporter.Summary, error) {
	start := time.Now()
	runID := newRunID(start)
	rlog := log.With("run_id", runID)
	ctx, guard, release := guardRun(ctx, rlog)
	defer release()
	job, err := newExportJob(ctx, lc, log, dryRun)
	if err != nil {
		err = userError(guard.explain(err))
		p.summary.print(out, nil, err, time.Since(start), p.command)
		rlog.Error("run failed", "command", p.command, "kind", errorKind(err), "err", err)
		if p.metrics != nil {
			p.metrics.observe(nil, err, time.Since(start))
		}
		return nil, err
	}
	defer job.Close()
	job.opts.RunID = runID
	job.opts.Window = p.window
	job.opts.Incremental = p.incremental
	job.opts.Command = p.command
	job.opts.Phase = chainPhases(job.opts.Phase, guard.phase, p.phase)
	job.opts.Progress = p.progress
	if p.commitAttempts > 0 {
		job.opts.MaxCommitAttempts = p.commitAttempts
	}
	sum, err := exporter.Run(ctx, job.opts)
	err = userError(guard.explain(err))
	took := time.Since(start)
	// The summary comes last, after the run's log lines and once the
	// progress bar is gone.
	defer func() {
		if p.beforeSummary != nil {
			p.beforeSummary()
		}
		p.summary.print(out, sum, err, took, p.command)
	}()
	if p.metrics != nil {
		p.metrics.observe(sum, err, time.Since(start))
		if !dryRun {
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pushTimeout)
			p.metrics.observeWatermark(wctx, job.dst, rlog)
			cancel()
		}
	}
	if err != nil {
		if runStatus(err) == statusCanceled {
			rlog.Warn("run stopped", "command", p.command, "err", err)
		} else {
			rlog.Error("run failed", "command", p.command, "kind", errorKind(err), "err", err)
		}
		return sum, err
	}
	rlog.Info("run finished", "command", p.command, "rows_read", sum.RowsRead, "rows_written", sum.RowsWritten,
		"rows_duplicate", sum.RowsDuplicate, "rows_rejected", sum.RowsRejected, "files", len(sum.Files),
		"commit", sum.Commit, "duration", time.Since(start).Round(time.Millisecond))
	return sum, err
}
