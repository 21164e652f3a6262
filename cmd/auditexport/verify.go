package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/auditexport/auditexport/exporter"
	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/sinks"
)

// exitFindings is the status of a verify that found errors in the archive.
const exitFindings = 4

// verifyFindingsError ends a verify that found errors; its report is on
// stdout already.
type verifyFindingsError struct{ errors int }

func (e *verifyFindingsError) Error() string {
	return fmt.Sprintf("the archive failed verification: %s (see the report on stdout)", verifyPlural(e.errors, "error"))
}

func verifyCommand() *command {
	return &command{
		name:    "verify",
		summary: "prove the archive is complete and unchanged (like restic check)",
		usage:   "verify [--config FILE] [--read-data] [--source] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--expect-head N:SHA] [--json] [settings]",
		about: `Checks the archive in destination.url against its commit log, reading only,
like restic check. Each finding is printed on one line (severity, kind, the
object key relative to the archive prefix, what is wrong), then a summary
with counts, what to do about each kind, and the next command to run.

Tiers:
  (default)    structure: the log is numbered 1..N without gaps; every commit
               parses, says its own number and its previous_sha256 matches
               the stored bytes of the one before; every commit is published;
               every committed Parquet and key file is there with its
               recorded size; no Parquet file in the layout is missing from
               the log; no event key is held twice in the key files, within a
               partition or across partitions (they are read in full and
               checked against their sha256); each _manifest.json is what the
               log implies. One listing plus the small objects.
  --read-data  also downloads every committed Parquet file and checks its
               sha256 and the row count in its footer.
  --source     also reads the source as plan does (writing nothing) and
               compares each partition's distinct events with the archive's
               rows, for the partitions the source still holds.

--expect-head N:SHA takes a head recorded outside the bucket (head_commit
and head_sha256 of a run's summary line, or "anchor:" of an earlier verify)
and checks that commit N is still in the log with exactly those bytes and
that the log's head chains back to it: the chain alone cannot show that
the last commits were removed or the whole log rewritten.

--from/--to restrict the per-partition checks to those event dates; the
commit log, its hash chain and the markers are always checked in full.
Staging debris is reported as info and does not fail verify. Only the
destination settings are needed, unless --source is given.`,
		examples: []string{
			"auditexport verify --config prod.yaml",
			"auditexport verify --config prod.yaml --read-data",
			"auditexport verify --config prod.yaml --source --from 2026-11-01 --to 2026-11-30",
			"auditexport verify --config prod.yaml --expect-head \"$(jq -r '\"\\(.head_commit):\\(.head_sha256)\"' last-run.json)\"",
			"auditexport verify --destination.url s3://audit-archive --destination.prefix sigma --json",
		},
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio) error {
			cf := addConfigFlags(fs)
			readData := fs.Bool("read-data", false, "also download every committed Parquet file: check its sha256 and footer row count")
			src := fs.Bool("source", false, "also compare each day's distinct events in the source with the archive's rows")
			from := fs.String("from", "", "check partitions from this event `date` on (YYYY-MM-DD)")
			to := fs.String("to", "", "check partitions up to this event `date` (YYYY-MM-DD, inclusive)")
			expectHead := fs.String("expect-head", "", "check that the log still reaches a head recorded outside the bucket: `N:SHA`, a run summary's head_commit and head_sha256")
			asJSON := fs.Bool("json", false, "print the report as one JSON document")
			return func(ctx context.Context, io *stdio) error {
				if len(io.args) > 0 {
					return usagef("unexpected argument %q", io.args[0])
				}
				for _, d := range []struct{ flag, v string }{{"--from", *from}, {"--to", *to}} {
					if _, err := time.Parse(time.DateOnly, d.v); d.v != "" && err != nil {
						return usagef("%s %q is not a date (want YYYY-MM-DD, e.g. %s 2026-11-01)", d.flag, d.v, d.flag)
					}
				}
				if *from != "" && *to != "" && *to < *from {
					return usagef("--to %s is before --from %s", *to, *from)
				}
				var anchor archive.Anchor
				if *expectHead != "" {
					a, err := archive.ParseAnchor(*expectHead)
					if err != nil {
						return usagef("--expect-head %q: %v (want N:SHA, the head_commit and head_sha256 of a run's summary, e.g. --expect-head 12:%s)", *expectHead, err, strings.Repeat("0", 64))
					}
					anchor = a
				}
				lc, err := loadVerifyConfig(cf, *src)
				if err != nil {
					return err
				}
				return runVerify(ctx, verifyOptions{
					config: lc, configPath: cf.path, readData: *readData, source: *src,
					from: *from, to: *to, expectHead: anchor, json: *asJSON, log: newLogger(lc.Log, io.err),
				}, io.out)
			}
		},
	}
}

// loadVerifyConfig loads the config; the source settings are checked only
// when --source needs them, so an archive can be verified with nothing
// but destination.url.
func loadVerifyConfig(cf *configFlags, needSource bool) (*loadedConfig, error) {
	lc, err := cf.loadUnvalidated()
	if err != nil {
		return nil, err
	}
	err = lc.validate(lc.origin)
	if err == nil {
		return lc, nil
	}
	var keep []error
	for _, e := range unjoinErrors(err) {
		var ce *ConfigError
		if !needSource && errors.As(e, &ce) && strings.HasPrefix(ce.Setting, "source.") {
			continue
		}
		keep = append(keep, e)
	}
	if err := errors.Join(keep...); err != nil {
		return nil, err
	}
	return lc, nil
}

func unjoinErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// verifyOptions are the verify command's inputs.
type verifyOptions struct {
	config     *loadedConfig
	configPath string // for the next command's --config
	readData   bool
	source     bool
	from, to   string // YYYY-MM-DD, inclusive; "" unbounded
	expectHead archive.Anchor
	json       bool
	log        *slog.Logger
}

// runVerify verifies the configured archive and prints the report. It
// returns a *verifyFindingsError when the report holds errors.
func runVerify(ctx context.Context, o verifyOptions, out io.Writer) error {
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	c := &o.config.Config
	b, err := sinks.Open(ctx, c.Destination.URL, sinks.OpenOptions{Prefix: c.Destination.Prefix})
	if err != nil {
		return fmt.Errorf("destination.url: %w", err)
	}
	defer b.Close()
	if err := b.Check(ctx); err != nil {
		return fmt.Errorf("destination.url: %w", err)
	}
	rep, err := archive.Verify(ctx, b, archive.VerifyOptions{
		ReadData: o.readData, From: o.from, To: o.to, ExpectHead: o.expectHead, WorkDir: c.Run.WorkDir, Logger: o.log,
	})
	if err != nil {
		return err
	}
	if o.source {
		counts, err := sourceCounts(ctx, o)
		if err != nil {
			return fmt.Errorf("compare with the source: %w", err)
		}
		rep.CompareSource(counts)
	}
	next := nextVerifyStep(rep, o)
	if o.json {
		if err := printVerifyJSON(out, b.String(), rep, next); err != nil {
			return err
		}
	} else {
		printVerifyText(out, b.String(), rep, next)
	}
	if n := rep.Errors(); n > 0 {
		return &verifyFindingsError{errors: n}
	}
	return nil
}

// sourceCounts runs the exporter as a dry run over the source, into an
// empty in-memory archive, so that every distinct event in the window
// counts as new: its partitions' rows are the source's distinct events per
// partition, keyed exactly as runs key them. (Against the real archive a
// dry run counts an archived event once per copy the source holds.)
func sourceCounts(ctx context.Context, o verifyOptions) (map[string]int64, error) {
	job, err := newExportJob(ctx, o.config, o.log, true)
	if err != nil {
		return nil, err
	}
	defer job.Close()
	empty, err := sinks.Open(ctx, "mem://", sinks.OpenOptions{})
	if err != nil {
		return nil, err
	}
	defer empty.Close()
	zone, _ := time.LoadLocation(o.config.Partitioning.TimeZone)
	var w source.Window
	if o.from != "" {
		w.From, _ = time.ParseInLocation(time.DateOnly, o.from, zone)
	}
	if o.to != "" {
		t, _ := time.ParseInLocation(time.DateOnly, o.to, zone)
		w.To = t.AddDate(0, 0, 1)
	}
	job.opts.Dest = empty
	job.opts.Window = w
	job.opts.Incremental = false
	job.opts.Command = "verify"
	job.opts.Phase = nil
	// Rejected rows are not archived either; their count must not stop the
	// comparison.
	job.opts.Rejects = exporter.RejectOptions{MaxRows: -1, MaxFraction: 1}
	sum, err := exporter.Run(ctx, job.opts)
	if err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	for _, p := range sum.Partitions {
		counts[p.Partition] += p.Rows + p.Archived
	}
	return counts, nil
}

// verifyHints says what to do about each kind of finding.
var verifyHints = map[string]string{
	archive.KindCommitMissing:  "restore the named commits from a backup or object versioning; the next commit's previous_sha256 proves which bytes are right",
	archive.KindCommitDamaged:  "restore the named commits from a backup or object versioning; the next commit's previous_sha256 proves which bytes are right",
	archive.KindChainBroken:    "a commit was changed or removed after the next one was written: restore the commit before the named one from a backup or object versioning",
	archive.KindHeadMismatch:   "the log no longer reaches the head recorded outside the bucket: commits were removed or rewritten; restore the log from object versioning or a backup until commit N hashes to the recorded SHA-256, and keep _auditexport/log/ under a retention lock",
	archive.KindUnpublished:    "`auditexport run` rolls unpublished commits forward (publishes their files, manifests and markers)",
	archive.KindFileMissing:    "restore the named files from a backup or object versioning; their commit records the size and sha256 the restored copy must have",
	archive.KindSizeMismatch:   "restore the named files from a backup or object versioning; their commit records the size and sha256 the restored copy must have",
	archive.KindSHA256Mismatch: "restore the named files from a backup or object versioning; their commit records the size and sha256 the restored copy must have",
	archive.KindDataDamaged:    "restore the named files from a backup or object versioning; their commit records the size and sha256 the restored copy must have",
	archive.KindKeysDamaged:    "restore the named key files from a backup or object versioning; their commit records the size and sha256 the restored copy must have",
	archive.KindRowsMismatch:   "counts disagree with the commit: restore the named object from a backup; if the commit itself is at fault, the log was written by a broken build",
	archive.KindUnexpectedFile: "a file no commit lists: find where it came from and move it out of the archive prefix (readers of the layout see a stray .parquet; runs trust a stray .keys and never write its events); the temp file of an interrupted write is removed by `auditexport run` once older than run.staging_grace",
	archive.KindDuplicateKey:   "an event key is recorded twice: remove a copied key file that no commit lists (see unexpected_file); otherwise the event is archived twice, in both commits' files",
	archive.KindManifestBad:    "manifests are derived from the log: delete the named _manifest.json and the published markers (_auditexport/published/<N>) of the commits the finding names; `auditexport run` then republishes them in order and rebuilds it",
	archive.KindStagingDebris:  "nothing to do: `auditexport run` removes staging debris older than run.staging_grace",
	archive.KindSourceMismatch: "if exports arrived after the last run, run `auditexport run` and verify again; events missing from a day whose files are all in place come back with `auditexport backfill --from DAY --to DAY`; a missing file must be restored (its events' keys stay recorded, so no export writes them again)",
}

// nextVerifyStep is the next command to run after this report.
func nextVerifyStep(rep *archive.Report, o verifyOptions) string {
	base := "auditexport verify"
	if o.configPath != "" {
		base += " --config " + o.configPath
	}
	if o.from != "" {
		base += " --from " + o.from
	}
	if o.to != "" {
		base += " --to " + o.to
	}
	kinds := rep.Kinds()
	if rep.Errors() > 0 {
		onlyUnpublished := true
		for _, f := range rep.Findings {
			if f.Severity == archive.SeverityError && f.Kind != archive.KindUnpublished {
				onlyUnpublished = false
			}
		}
		if onlyUnpublished {
			run := "auditexport run"
			if o.configPath != "" {
				run += " --config " + o.configPath
			}
			return run + ", then " + base
		}
		again := base
		if o.readData {
			again += " --read-data"
		}
		return "fix what the findings name (see above), then " + again
	}
	switch {
	case !o.readData:
		return base + " --read-data   (downloads and re-hashes every committed file)"
	case !o.source:
		return base + " --source   (compares each day's events with the source)"
	case kinds[archive.KindStagingDebris] > 0:
		return "nothing: the archive is intact (`auditexport run` collects the staging debris)"
	}
	return "nothing: the archive is intact"
}

func printVerifyText(w io.Writer, dest string, rep *archive.Report, next string) {
	fmt.Fprintf(w, "verify %s (%s)\n", dest, strings.Join(rep.Tiers, ", "))
	if rep.From != "" || rep.To != "" {
		fmt.Fprintf(w, "range: event dates %s to %s (the commit log is checked in full)\n", verifyOr(rep.From, "the first"), verifyOr(rep.To, "the last"))
	}
	fmt.Fprintf(w, "commit log: %d commits, head %d\n", rep.Commits, rep.Head)
	if rep.HeadSHA256 != "" {
		fmt.Fprintf(w, "anchor: %d:%s (record it outside the bucket; check it later with --expect-head)\n", rep.Head, rep.HeadSHA256)
	}
	if rep.ExpectHead != "" {
		reached := "reached"
		if rep.Kinds()[archive.KindHeadMismatch] > 0 {
			reached = "NOT reached"
		}
		fmt.Fprintf(w, "expected head: %s %s\n", rep.ExpectHead, reached)
	}
	fmt.Fprintf(w, "checked: %d partitions, %d data files (%d rows, %d bytes), %d key files (%d keys), %d manifests\n",
		rep.Partitions, rep.Files, rep.Rows, rep.FileBytes, rep.KeyFiles, rep.Keys, rep.Manifests)
	if slices.Contains(rep.Tiers, "read-data") {
		fmt.Fprintf(w, "read: %d data files, %d bytes\n", rep.DataFilesRead, rep.BytesRead)
	}
	if slices.Contains(rep.Tiers, "source") {
		fmt.Fprintf(w, "source: %d partitions compared\n", rep.SourcePartitions)
	}
	for _, f := range rep.Findings {
		fmt.Fprintln(w, f.String())
	}
	fmt.Fprintln(w, verifySummary(rep))
	kinds := rep.Kinds()
	if len(kinds) > 0 {
		fmt.Fprintln(w, "what to do:")
		for _, k := range slices.Sorted(maps.Keys(kinds)) {
			fmt.Fprintf(w, "  %s: %s\n", k, verifyHints[k])
		}
	}
	fmt.Fprintf(w, "next: %s\n", next)
}

func verifyPlural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func verifyOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// verifySummary is the one summary line: counts by severity and kind.
func verifySummary(rep *archive.Report) string {
	kinds := rep.Kinds()
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, kinds[k]))
	}
	s := fmt.Sprintf("summary: %s, %s", verifyPlural(rep.Errors(), "error"), verifyPlural(rep.Infos(), "info"))
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	if rep.Errors() == 0 {
		s += ": no errors found"
	}
	return s
}

// verifyJSON is the --json document.
type verifyJSON struct {
	Status      string `json:"status"` // ok or findings
	Destination string `json:"destination"`
	*archive.Report
	Errors int               `json:"errors"`
	Infos  int               `json:"infos"`
	Counts map[string]int    `json:"counts"`
	Hints  map[string]string `json:"hints,omitempty"`
	Next   string            `json:"next"`
}

func printVerifyJSON(w io.Writer, dest string, rep *archive.Report, next string) error {
	doc := verifyJSON{Status: "ok", Destination: dest, Report: rep, Errors: rep.Errors(), Infos: rep.Infos(), Counts: rep.Kinds(), Next: next}
	if doc.Errors > 0 {
		doc.Status = "findings"
	}
	if len(doc.Counts) > 0 {
		doc.Hints = map[string]string{}
		for k := range doc.Counts {
			doc.Hints[k] = verifyHints[k]
		}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
