package main

import (
	"context"
	"flag"
	"time"

	"github.com/auditexport/auditexport/exporter/source"
)

func backfillCommand() *command {
	return &command{
		name:    "backfill",
		summary: "export a date range once (--from, --to)",
		usage:   "backfill --from YYYY-MM-DD --to YYYY-MM-DD [--config FILE] [--dry-run] [settings]",
		about: `Exports the events whose date (in partitioning.timezone) falls between --from
and --to, both inclusive, from every input of the source. Events the archive
already holds are not written again, so a backfill may overlap runs and
other backfills. Use it to load the
history still held by Sigma (its last 30 days) or an older database copy.`,
		examples: []string{
			"auditexport backfill --config prod.yaml --from 2026-10-01 --to 2026-10-31",
			"auditexport backfill --config configs/local.yaml --from 2026-11-20 --to 2026-11-20 --dry-run",
		},
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio) error {
			cf := addConfigFlags(fs)
			from := fs.String("from", "", "first event `date` to export, YYYY-MM-DD (required)")
			to := fs.String("to", "", "last event `date` to export, YYYY-MM-DD, inclusive (required)")
			dry := fs.Bool("dry-run", false, "read and plan everything, write nothing")
			return func(ctx context.Context, io *stdio) error {
				if len(io.args) > 0 {
					return usagef("unexpected argument %q", io.args[0])
				}
				lc, err := cf.load()
				if err != nil {
					return err
				}
				zone, _ := time.LoadLocation(lc.Partitioning.TimeZone)
				w, err := dateWindow(*from, *to, zone)
				if err != nil {
					return err
				}
				log := newLogger(lc.Log, io.err)
				_, err = runExport(ctx, lc, log, exportPlan{command: "backfill", window: w}, *dry, io.out)
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
