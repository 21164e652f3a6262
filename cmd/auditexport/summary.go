package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/auditexport/auditexport/exporter"
	"github.com/auditexport/auditexport/sinks"
)

// summaryStyle is how an export ends on stdout: the one JSON line
// (log shippers, CronJobs, scripts: the default when stdout is not a
// terminal, and with --json), or a few lines for a person at a terminal.
type summaryStyle struct {
	human bool
}

// addSummaryFlag registers --json on a command that exports, and returns
// the style to use once the command runs.
func addSummaryFlag(fs *flag.FlagSet) func(out io.Writer) summaryStyle {
	asJSON := fs.Bool("json", false, "print the summary as one JSON line even on a terminal (the default when stdout is not a terminal)")
	return func(out io.Writer) summaryStyle {
		return summaryStyle{human: !*asJSON && isTerminalWriter(out)}
	}
}

// print prints the summary of an export in its style.
func (s summaryStyle) print(w io.Writer, sum *exporter.Summary, err error, took time.Duration, command string) {
	if !s.human {
		if b, merr := marshalSummary(sum, err); merr == nil {
			fmt.Fprintf(w, "%s\n", b)
		}
		return
	}
	printHumanSummary(w, sum, err, took, command)
}

// planSummary is the JSON line of a dry run (plan, --dry-run): what a run
// would write, in words that say so. The line of a real run is runSummary.
type planSummary struct {
	Status      string    `json:"status"`
	Error       string    `json:"error,omitempty"`
	RunID       string    `json:"run_id"`
	DryRun      bool      `json:"dry_run"`
	Source      string    `json:"source"`
	Destination string    `json:"destination,omitempty"`
	Window      string    `json:"window"`
	Started     time.Time `json:"started"`
	Finished    time.Time `json:"finished"`

	RowsRead        int64 `json:"rows_read"`
	RowsRejected    int64 `json:"rows_rejected"`
	RowsOutOfWindow int64 `json:"rows_out_of_window"`
	RowsDuplicate   int64 `json:"rows_duplicate"`
	RowsArchived    int64 `json:"rows_already_archived"`
	RowsToWrite     int64 `json:"rows_to_write"`
	RowsLate        int64 `json:"rows_late,omitempty"`
	InputsSkipped   int   `json:"inputs_skipped"`

	Partitions        []planPartition   `json:"partitions_to_write"`
	Categories        map[string]int64  `json:"categories"`
	UnknownCategories map[string]int64  `json:"unknown_categories,omitempty"`
	DerivedColumns    []string          `json:"derived_columns,omitempty"`
	RejectSamples     []exporter.Reject `json:"reject_samples,omitempty"`
	Warnings          []string          `json:"warnings,omitempty"`
	Progress          exporter.Progress `json:"progress"`
}

// planPartition is one partition a run would write rows to.
type planPartition struct {
	Partition string `json:"partition"`
	Rows      int64  `json:"rows_to_write"`
	Duplicate int64  `json:"duplicate"`
	Archived  int64  `json:"already_archived"`
}

func newPlanSummary(sum *exporter.Summary) planSummary {
	p := planSummary{
		RunID: sum.RunID, DryRun: true, Source: sum.Source, Destination: sum.Destination, Window: sum.Window,
		Started: sum.Started, Finished: sum.Finished,
		RowsRead: sum.RowsRead, RowsRejected: sum.RowsRejected, RowsOutOfWindow: sum.RowsOutOfWindow,
		RowsDuplicate: sum.RowsDuplicate, RowsArchived: sum.RowsArchived, RowsToWrite: sum.RowsWritten,
		RowsLate: sum.RowsLate, InputsSkipped: sum.InputsSkipped,
		Partitions: []planPartition{}, Categories: sum.Categories, UnknownCategories: sum.UnknownCategories,
		DerivedColumns: sum.DerivedColumns, RejectSamples: sum.RejectSamples, Warnings: sum.Warnings, Progress: sum.Progress,
	}
	for _, ps := range sum.Partitions {
		p.Partitions = append(p.Partitions, planPartition{Partition: ps.Partition, Rows: ps.Rows, Duplicate: ps.Duplicate, Archived: ps.Archived})
	}
	return p
}

// marshalSummary is the JSON line of an export: a plan's for a dry run.
func marshalSummary(sum *exporter.Summary, err error) ([]byte, error) {
	status, msg := "ok", ""
	if err != nil {
		// Errors are redacted where they are made; the summary is read by
		// log shippers and alerting, so it is redacted once more.
		status, msg = "failed", sinks.RedactText(err.Error())
	}
	if sum != nil && sum.DryRun {
		p := newPlanSummary(sum)
		p.Status, p.Error = status, msg
		return json.Marshal(p)
	}
	return json.Marshal(runSummary{Status: status, Error: msg, Summary: sum})
}

// printHumanSummary is the end of an export for a person at a terminal:
// the counts, where the data went, the time taken and what to run next.
// Errors and locations are redacted as in the JSON line.
func printHumanSummary(w io.Writer, sum *exporter.Summary, err error, took time.Duration, command string) {
	var b strings.Builder
	took = took.Round(100 * time.Millisecond)
	if sum == nil {
		fmt.Fprintf(&b, "%s failed after %s: %s\n", command, took, sinks.RedactText(err.Error()))
		io.WriteString(w, b.String())
		return
	}
	verb := "wrote"
	switch {
	case err != nil:
		fmt.Fprintf(&b, "%s FAILED after %s: %s\n", command, took, sinks.RedactText(err.Error()))
		verb = "would have written"
	case sum.DryRun:
		fmt.Fprintf(&b, "%s (dry run, nothing written) in %s\n", command, took)
		verb = "would write"
	default:
		fmt.Fprintf(&b, "%s finished in %s\n", command, took)
	}
	fmt.Fprintf(&b, "  rows read       %s", groupDigits(sum.RowsRead))
	if sum.InputsSkipped > 0 {
		fmt.Fprintf(&b, " (%d inputs skipped: read in full before)", sum.InputsSkipped)
	}
	fmt.Fprintf(&b, "\n  rows %-10s %s in %d partitions", verbShort(verb), groupDigits(sum.RowsWritten), len(sum.Partitions))
	if !sum.DryRun && err == nil && sum.BytesWritten > 0 {
		fmt.Fprintf(&b, ", %d files, %s", len(sum.Files), humanBytes(sum.BytesWritten))
	}
	fmt.Fprintf(&b, "\n  duplicates      %s (%s already in the archive)\n", groupDigits(sum.RowsDuplicate), groupDigits(sum.RowsArchived))
	fmt.Fprintf(&b, "  rejected        %s", groupDigits(sum.RowsRejected))
	if sum.RejectsKey != "" {
		fmt.Fprintf(&b, " (reasons in %s)", sum.RejectsKey)
	}
	b.WriteString("\n")
	if sum.Destination != "" {
		fmt.Fprintf(&b, "  destination     %s\n", sinks.Redact(sum.Destination))
	}
	if sum.Commit > 0 {
		fmt.Fprintf(&b, "  commit          %d\n", sum.Commit)
	}
	for _, wmsg := range sum.Warnings {
		fmt.Fprintf(&b, "  warning: %s\n", sinks.RedactText(wmsg))
	}
	b.WriteString(nextStep(sum, err))
	io.WriteString(w, b.String())
}

func verbShort(verb string) string {
	switch verb {
	case "would write":
		return "to write"
	case "would have written":
		return "staged"
	}
	return "written"
}

// nextStep is the command to run next, one line.
func nextStep(sum *exporter.Summary, err error) string {
	switch {
	case err != nil && exitCode(err) == exitRejects:
		return "Next: look at the rejected rows' reasons, fix the mapping (schema.columns) or raise rejects.max_fraction, then run again\n"
	case err != nil:
		return "Next: fix the problem above and run again; a run that failed leaves nothing half-written\n"
	case sum.DryRun:
		return "Next: auditexport run (with the same settings) to write it\n"
	case sum.RowsWritten == 0:
		return "Next: nothing new; the next run reads only exports that arrive after this one\n"
	}
	return "Next: auditexport verify (with the same settings) checks the archive; the summary as JSON: --json\n"
}

// humanBytes renders a byte count as 1.5 MiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
