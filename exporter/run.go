package exporter

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/sinks"
)

// run is the state of one export run.
type run struct {
	o      Options
	log    *slog.Logger
	work   string
	cols   *columnSet
	plans  map[*source.Header]*headerPlan
	spills *spills
	rej    *rejects
	keys   *keyer
	rowBuf []byte
	sum    *Summary
	warned map[string]bool
	staged []staged
}

// Run performs one export: read every input of the source, then write and
// publish the partitions. The summary is returned even when the run fails,
// with what it counted up to the failure.
func Run(ctx context.Context, o Options) (*Summary, error) {
	o.defaults()
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("exporter options: %w", err)
	}
	sum := &Summary{
		RunID:             o.RunID,
		DryRun:            o.DryRun,
		Source:            o.Source.Describe(),
		Window:            o.Window.String(),
		Started:           o.Now().UTC(),
		Categories:        map[string]int64{},
		UnknownCategories: map[string]int64{},
		Files:             []FileInfo{},
		Partitions:        []PartitionStats{},
		Progress:          Progress{Inputs: []InputProgress{}},
	}
	if o.Dest != nil {
		sum.Destination = o.Dest.String()
	}
	work, err := os.MkdirTemp(o.WorkDir, "auditexport-"+o.RunID+"-")
	if err != nil {
		return sum, fmt.Errorf("create a work directory in %q (run.work_dir): %w", o.WorkDir, err)
	}
	defer os.RemoveAll(work)
	r := &run{
		o:      o,
		log:    o.Logger.With("run_id", o.RunID),
		work:   work,
		cols:   newColumnSet(o.Catalog),
		plans:  map[*source.Header]*headerPlan{},
		spills: newSpills(work),
		rej:    newRejects(filepath.Join(work, "rejects.jsonl")),
		keys:   newKeyer(),
		sum:    sum,
		warned: map[string]bool{},
	}
	err = r.do(ctx)
	sum.RejectSamples = r.rej.samples
	sum.Finished = o.Now().UTC()
	return sum, err
}

func (r *run) do(ctx context.Context) error {
	inputs, err := r.o.Source.List(ctx, r.o.Window)
	if err != nil {
		return err
	}
	r.log.Info("plan", "source", r.sum.Source, "inputs", len(inputs), "window", r.sum.Window)
	if len(inputs) == 0 {
		r.warnOnce("the source has no inputs: " + r.sum.Source)
	}
	readErr := func() error {
		defer r.spills.closeAll()
		for _, in := range inputs {
			if err := r.readInput(ctx, in); err != nil {
				return err
			}
		}
		return nil
	}()
	hasRejects, err := r.rej.close()
	if readErr != nil {
		return readErr
	}
	if err != nil {
		return err
	}
	if hasRejects && !r.o.DryRun {
		key := "_auditexport/rejects/" + r.o.RunID + ".jsonl"
		if _, err := r.o.Dest.PutFile(ctx, key, r.rej.path, sinks.PutOptions{IfNotExist: true, ContentType: "application/x-ndjson"}); err != nil {
			return fmt.Errorf("upload the rejects file: %w", err)
		}
		r.sum.RejectsKey = key
	}
	if err := r.checkRejects(); err != nil {
		return err
	}
	if err := r.writePartitions(ctx); err != nil {
		// Nothing of this run is published; remove what it staged.
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		r.removeStaged(cleanup)
		return err
	}
	if r.o.DryRun {
		return nil
	}
	return r.publish(ctx)
}

// checkRejects fails the run when rejected rows pass the thresholds, before
// anything is written.
func (r *run) checkRejects() error {
	n, read := r.sum.RowsRejected, r.sum.RowsRead
	if n == 0 {
		return nil
	}
	where := "see reject_samples in the summary"
	if r.sum.RejectsKey != "" {
		where = "see " + r.sum.RejectsKey + " in the destination"
	}
	if r.o.Rejects.MaxRows >= 0 && n > r.o.Rejects.MaxRows {
		return &RejectsError{Rejected: n, Read: read, Limit: fmt.Sprintf("rejects.max_rows=%d", r.o.Rejects.MaxRows), Where: where}
	}
	if frac := float64(n) / float64(read); frac > r.o.Rejects.MaxFraction {
		return &RejectsError{Rejected: n, Read: read, Limit: fmt.Sprintf("rejects.max_fraction=%g", r.o.Rejects.MaxFraction), Where: where}
	}
	return nil
}

// RejectsError fails a run whose rejected rows pass a threshold.
type RejectsError struct {
	Rejected, Read int64
	Limit, Where   string
}

func (e *RejectsError) Error() string {
	return fmt.Sprintf("%d of %d rows were rejected, over %s; nothing was written (%s)", e.Rejected, e.Read, e.Limit, e.Where)
}

func (r *run) warnOnce(msg string) {
	if r.warned[msg] {
		return
	}
	r.warned[msg] = true
	r.sum.Warnings = append(r.sum.Warnings, msg)
	r.log.Warn(msg)
}
