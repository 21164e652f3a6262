package main

import (
	"context"
	"flag"
	"time"
)

func planCommand() *command {
	return &command{
		name:    "plan",
		summary: "show what a run would write, writing nothing",
		usage:   "plan [--config FILE] [--from YYYY-MM-DD --to YYYY-MM-DD] [settings]",
		about: `Reads the source exactly as run (or backfill, with --from and --to) would, and
prints the same JSON summary with "dry_run": true: rows per partition,
duplicates, rejects and unknown columns. Nothing is written to the
destination.`,
		examples: []string{
			"auditexport plan --config configs/local.yaml",
			"auditexport plan --config prod.yaml --from 2026-10-01 --to 2026-10-31",
		},
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio) error {
			cf := addConfigFlags(fs)
			from := fs.String("from", "", "plan a backfill from this `date` (YYYY-MM-DD)")
			to := fs.String("to", "", "plan a backfill to this `date` (YYYY-MM-DD, inclusive)")
			style := addSummaryFlag(fs)
			return func(ctx context.Context, io *stdio) error {
				lc, err := cf.loadNoArgs(io)
				if err != nil {
					return err
				}
				p := exportPlan{command: "plan", incremental: true}
				if *from != "" || *to != "" {
					zone, _ := time.LoadLocation(lc.Partitioning.TimeZone)
					w, err := dateWindow(*from, *to, zone)
					if err != nil {
						return err
					}
					p = exportPlan{command: "backfill", window: w}
				}
				bar := progressFor(io.err).dryRun(true)
				defer bar.finish()
				p.progress, p.phase, p.summary, p.beforeSummary = bar.callback(), bar.phaseHook(), style(io.out), bar.finish
				_, err = runExport(ctx, lc, newLogger(lc.Log, bar.logWriter(io.err)), p, true, io.out)
				return err
			}
		},
	}
}
