package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/schema"
	"github.com/auditexport/auditexport/sinks"
)

func checkCommand() *command {
	about := `Checks, with the same configuration a run uses, everything an export needs of
the source and the destination, and prints each step as ok or FAILED with
what is missing (the permission or role, the setting to fix).

` + sourceProbesHelp() + `

Destination: put a small probe object under <prefix>/_auditexport/check/
only if absent, check that a second create-if-absent put of the same key is
refused (the commit protocol depends on it), read it back, find it in a
listing, copy it, and delete both. Probe objects are removed; when a step
fails, the output names any probe object that may remain.

Exit status 0 when every check passes, 1 when any fails, 2 for a usage or
configuration error.`
	return &command{
		name:    "check",
		summary: "check that the source is readable and the destination writable, before the first export",
		usage:   "check [--config FILE] [--json] [--timeout DURATION] [settings]",
		about:   about,
		examples: []string{
			"auditexport check --config prod.yaml",
			"auditexport check --config prod.yaml --json",
			"AUDITEXPORT_DESTINATION_URL=s3://audit-archive auditexport check --config prod.yaml",
		},
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio) error {
			cf := addConfigFlags(fs)
			asJSON := fs.Bool("json", false, "print the report as one JSON object")
			timeout := fs.Duration("timeout", 2*time.Minute, "give up on the checks after this `duration`")
			return func(ctx context.Context, io *stdio) error {
				if *timeout <= 0 {
					return usagef("--timeout %s: must be positive (e.g. 2m)", *timeout)
				}
				lc, err := cf.loadNoArgs(io)
				if err != nil {
					return err
				}
				ctx, cancel := context.WithTimeout(ctx, *timeout)
				defer cancel()
				rep := runCheck(ctx, &lc.Config, time.Now())
				if *asJSON {
					enc := json.NewEncoder(io.out)
					if err := enc.Encode(rep); err != nil {
						return err
					}
				} else {
					rep.print(io.out)
				}
				return rep.err()
			}
		},
	}
}

// Step states.
const (
	stepOK      = "ok"
	stepFailed  = "failed"
	stepSkipped = "skipped"
)

// checkStep is one line of the report.
type checkStep struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
	Error  string `json:"error,omitempty"`
	Needs  string `json:"needs,omitempty"`
}

type checkSection struct {
	Kind  string      `json:"kind,omitempty"` // source only: sigma-export or postgres
	What  string      `json:"what"`           // the redacted location
	Steps []checkStep `json:"checks"`
	// Destination only: the probe object's key (relative to the prefix)
	// and the probe objects that may be left behind after a failure.
	ProbeKey  string   `json:"probe_key,omitempty"`
	MayRemain []string `json:"may_remain,omitempty"`
}

func (s *checkSection) ok(name, detail string) {
	s.Steps = append(s.Steps, checkStep{Name: name, Status: stepOK, Detail: detail})
}

func (s *checkSection) fail(name string, err error, needs string) {
	if needs == "" {
		needs = sinks.Needs(err)
	}
	// One line: drivers' messages may span several (pgx lists each address
	// tried). Redacted once more, as the summary of a run is.
	msg := sinks.RedactText(strings.Join(strings.Fields(userError(err).Error()), " "))
	s.Steps = append(s.Steps, checkStep{Name: name, Status: stepFailed, Error: msg, Needs: needs})
}

func (s *checkSection) skip(why string, names ...string) {
	for _, n := range names {
		s.Steps = append(s.Steps, checkStep{Name: n, Status: stepSkipped, Detail: why})
	}
}

// checkReport is what check prints.
type checkReport struct {
	Status      string       `json:"status"` // ok or failed
	Source      checkSection `json:"source"`
	Destination checkSection `json:"destination"`
}

func (r *checkReport) counts() (total, failed, skipped int) {
	for _, s := range slices.Concat(r.Source.Steps, r.Destination.Steps) {
		total++
		switch s.Status {
		case stepFailed:
			failed++
		case stepSkipped:
			skipped++
		}
	}
	return
}

// err is nil when every step passed, else an error that exits 1.
func (r *checkReport) err() error {
	total, failed, skipped := r.counts()
	if failed == 0 && skipped == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d checks failed, %d skipped", failed, total, skipped)
}

func (r *checkReport) print(w io.Writer) {
	for _, s := range []struct {
		title string
		sec   *checkSection
	}{{"source", &r.Source}, {"destination", &r.Destination}} {
		fmt.Fprintf(w, "%s: %s\n", s.title, s.sec.What)
		if s.sec.ProbeKey != "" {
			fmt.Fprintf(w, "  probe object: %s\n", s.sec.ProbeKey)
		}
		for _, st := range s.sec.Steps {
			state := map[string]string{stepOK: "ok", stepFailed: "FAILED", stepSkipped: "skipped"}[st.Status]
			text := st.Detail
			if st.Status == stepFailed {
				text = st.Error
			}
			fmt.Fprintf(w, "  %-8s %-13s %s\n", state, st.Name, text)
			if st.Needs != "" {
				fmt.Fprintf(w, "  %-8s %-13s missing: %s\n", "", "", st.Needs)
			}
		}
		for _, k := range s.sec.MayRemain {
			fmt.Fprintf(w, "  probe object that may remain, delete it by hand: %s\n", k)
		}
	}
	total, failed, skipped := r.counts()
	if err := r.err(); err != nil {
		fmt.Fprintf(w, "%d of %d checks failed, %d skipped\n", failed, total, skipped)
		return
	}
	fmt.Fprintf(w, "all %d checks passed\n", total)
}

// runCheck checks the source and the destination of c. now is the end of
// the window of recent rows a source probe counts.
func runCheck(ctx context.Context, c *Config, now time.Time) *checkReport {
	r := &checkReport{Source: checkSection{Kind: c.Source.Kind}}
	k := c.Source.kind()
	d := sourceDeps(c, k, nil)
	d.Now = now
	d.CheckHeader = func(names []string) source.ProbeStep { return checkHeader(c, names) }
	p := k.Probe(ctx, c.Source.settingsOf(k), d)
	r.Source.What = p.What
	r.Source.add(p.Steps)
	checkDestination(ctx, c, &r.Destination)
	r.Status = stepOK
	if r.err() != nil {
		r.Status = stepFailed
	}
	return r
}

// add records the steps of a probe.
func (s *checkSection) add(steps []sinks.ProbeStep) {
	for _, st := range steps {
		switch {
		case st.Err != nil:
			s.fail(st.Name, st.Err, st.Needs)
		case st.Skipped:
			s.skip(st.Detail, st.Name)
		default:
			s.ok(st.Name, st.Detail)
		}
	}
}

// checkDestination runs the sinks probe against the archive.
func checkDestination(ctx context.Context, c *Config, sec *checkSection) {
	sec.What = sinks.Redact(c.Destination.URL)
	b, err := sinks.Open(ctx, c.Destination.URL, destinationOptions(c))
	if err != nil {
		sec.fail(sinks.ProbeConnect, fmt.Errorf("destination.url: %w", err), "")
		sec.skip("the destination cannot be opened", sinks.ProbeCreate, sinks.ProbeCreateAgain, sinks.ProbeRead,
			sinks.ProbeList, sinks.ProbeCopy, sinks.ProbeDelete)
		return
	}
	defer b.Close()
	p := b.Probe(ctx)
	sec.What, sec.ProbeKey, sec.MayRemain = p.Bucket, p.Key, p.Remaining
	sec.add(p.Steps)
}

// checkHeader resolves a source header as a run would, and requires the
// time column.
func checkHeader(c *Config, names []string) source.ProbeStep {
	fail := func(err error, needs string) source.ProbeStep {
		return source.ProbeStep{Name: "header", Err: err, Needs: needs}
	}
	cat, err := catalogOf(c)
	if err != nil {
		return fail(err, "")
	}
	res, err := cat.Resolve(names, schema.ResolveOptions{Strict: c.Schema.Strict})
	if err != nil {
		return fail(err, "a schema.columns mapping for these headers, or schema.strict: false")
	}
	by := map[string]int{}
	var derived []string
	hasTime := false
	for _, col := range res.Columns {
		by[col.By]++
		if col.By == schema.ByDerived {
			derived = append(derived, fmt.Sprintf("%q as %s", col.Header, col.Column.ID))
		}
		hasTime = hasTime || col.Column.ID == c.Schema.TimeColumn
	}
	if !hasTime {
		return fail(fmt.Errorf("no header resolves to the time column %s among %d columns", c.Schema.TimeColumn, len(names)),
			"schema.time_column, or a schema.columns entry mapping the org's time header to it")
	}
	detail := fmt.Sprintf("%d columns: %d by column ID, %d by friendly name, %d derived; time column %s present",
		len(names), by[schema.ByID], by[schema.ByFriendly], by[schema.ByDerived], c.Schema.TimeColumn)
	if len(derived) > 0 {
		detail += "; derived " + strings.Join(derived, ", ")
	}
	return source.ProbeStep{Name: "header", Detail: detail}
}
