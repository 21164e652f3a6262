package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/auditexport/auditexport/exporter/source"
)

func backfillCommand() *command {
	return &command{
		name:    "backfill",
		summary: "export a date range once (--from, --to)",
		usage:   "backfill --from YYYY-MM-DD --to YYYY-MM-DD [--shard i/n | --backfill.shards n] [--config FILE] [--dry-run] [settings]",
		about: `Exports the events whose date (in partitioning.timezone) falls between --from
and --to, both inclusive, from every input of the source. Events the archive
already holds are not written again, so a backfill may overlap runs and
other backfills. Use it to load the
history still held by Sigma (its last 30 days) or an older database copy.

Sharded (a Kubernetes Indexed Job): with --shard i/n, or JOB_COMPLETION_INDEX
and --backfill.shards n, the days of [--from, --to] are split into n contiguous
blocks and this process exports block i (0-based; the first blocks take one
day more when the days do not divide evenly). Shards may run at once: each
commits on its own, and the commit log keeps them exactly-once.`,
		examples: []string{
			"auditexport backfill --config prod.yaml --from 2026-10-01 --to 2026-10-31",
			"auditexport backfill --config configs/local.yaml --from 2026-11-20 --to 2026-11-20 --dry-run",
			"auditexport backfill --config prod.yaml --from 2026-01-01 --to 2026-12-31 --shard 2/8",
			"JOB_COMPLETION_INDEX=2 auditexport backfill --config prod.yaml --from 2026-01-01 --to 2026-12-31 --backfill.shards 8",
		},
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio) error {
			cf := addConfigFlags(fs)
			from := fs.String("from", "", "first event `date` to export, YYYY-MM-DD (required)")
			to := fs.String("to", "", "last event `date` to export, YYYY-MM-DD, inclusive (required)")
			dry := fs.Bool("dry-run", false, "read and plan everything, write nothing")
			shardFlag := fs.String("shard", "", "take share `i/n` of the days (0 <= i < n); default: JOB_COMPLETION_INDEX with --shards")
			deprecatedFlag(fs, cf, "shards", "backfill.shards", "n")
			deprecatedFlag(fs, cf, "pushgateway.url", "metrics.pushgateway_url", "URL")
			style := addSummaryFlag(fs)
			return func(ctx context.Context, io *stdio) error {
				lc, err := cf.loadNoArgs(io)
				if err != nil {
					return err
				}
				zone, _ := time.LoadLocation(lc.Partitioning.TimeZone)
				w, err := dateWindow(*from, *to, zone)
				if err != nil {
					return err
				}
				sh, sharded, err := resolveShard(*shardFlag, lc.Backfill.Shards, os.LookupEnv)
				if err != nil {
					return err
				}
				bar := progressFor(io.err).dryRun(*dry)
				defer bar.finish()
				log := newLogger(lc.Log, bar.logWriter(io.err))
				p := exportPlan{command: "backfill", window: w, progress: bar.callback(), phase: bar.phaseHook(),
					summary: style(io.out), beforeSummary: bar.finish}
				shardLabel := ""
				if sharded {
					var days int
					if p.window, days = sh.window(w); days == 0 {
						log.Info("this shard has no days: the range has fewer days than there are shards", "shard", sh.String())
						printSummary(io.out, nil, nil)
						return nil
					}
					log = log.With("shard", sh.String())
					log.Info("backfill shard", "days", days, "from", p.window.From.Format(time.DateOnly), "to", p.window.To.AddDate(0, 0, -1).Format(time.DateOnly))
					// Each lost commit race means another shard's commit
					// landed: with n shards, at most n-1 can win first.
					p.commitAttempts = sh.count + 4
					shardLabel = fmt.Sprint(sh.index)
				}
				push := pushAfter(lc, &p, *dry)
				sum, err := runExport(ctx, lc, log, p, *dry, io.out)
				bar.finish()
				push(ctx, runLogger(log, sum), shardLabel)
				return err
			}
		},
	}
}

// dateWindow turns inclusive dates into a half-open window in zone.
func dateWindow(from, to string, zone *time.Location) (source.Window, error) {
	if from == "" || to == "" {
		return source.Window{}, usagef("--from and --to are required (YYYY-MM-DD, e.g. --from 2026-10-01 --to 2026-10-31)")
	}
	f, err := time.ParseInLocation(time.DateOnly, from, zone)
	if err != nil {
		return source.Window{}, usagef("--from %q is not a date (want YYYY-MM-DD)", from)
	}
	t, err := time.ParseInLocation(time.DateOnly, to, zone)
	if err != nil {
		return source.Window{}, usagef("--to %q is not a date (want YYYY-MM-DD)", to)
	}
	if t.Before(f) {
		return source.Window{}, usagef("--to %s is before --from %s", to, from)
	}
	return source.Window{From: f, To: t.AddDate(0, 0, 1)}, nil
}
