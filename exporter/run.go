package exporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/sinks"
)

// run is the state of one export run.
// It runs three stages in turn: read (the source into spills), write
// (spills to staged files) and commit (append and publish), and builds the
// summary from what each returns.
type run struct {
	o       Options
	log     *slog.Logger
	work    string
	sum     *Summary
	warned  map[string]bool
	state   *archive.State
	listed  []source.Input
	rd      *reader
	phased  map[string]bool
	phaseMu sync.Mutex
}

// Run performs one export: bring the archive to a consistent state (finish
// publishing what earlier runs committed, remove old staging debris), read
// every input of the source, then write, commit and publish the events the
// archive does not hold yet. The summary is returned even when the run
// fails, with what it counted up to the failure.
func Run(ctx context.Context, o Options) (*Summary, error) {
	o.defaults()
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("exporter options: %w", err)
	}
	sum := &Summary{
		RunID:             o.RunID,
		DryRun:            o.DryRun,
		Source:            o.Source.Describe(),
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
		return sum, &WorkDirError{Op: "create a work directory", Dir: o.WorkDir, Err: err}
	}
	defer os.RemoveAll(work)
	r := &run{
		o:      o,
		log:    o.Logger.With("run_id", o.RunID),
		work:   work,
		sum:    sum,
		warned: map[string]bool{},
		phased: map[string]bool{},
	}
	r.rd = newReader(&r.o, r.log, work, r.warnOnce)
	err = r.do(ctx)
	sum.RejectSamples = r.rd.rej.samples
	sum.Finished = o.Now().UTC()
	return sum, err
}

// phase reports reaching a phase point, once per run.
func (r *run) phase(p string) {
	r.phaseMu.Lock()
	defer r.phaseMu.Unlock()
	if r.o.Phase != nil && !r.phased[p] {
		r.phased[p] = true
		r.o.Phase(p)
	}
}

func (r *run) do(ctx context.Context) error {
	if err := r.prepareArchive(ctx); err != nil {
		return err
	}
	r.narrowWindow()
	r.sum.Window = r.o.Window.String()
	inputs, err := r.inputs(ctx)
	if err != nil {
		return err
	}
	r.log.Info("plan", "source", r.sum.Source, "inputs", len(inputs), "skipped", r.sum.InputsSkipped, "window", r.sum.Window)
	r.rd.inputs = len(inputs)
	readErr := func() error {
		defer r.rd.spills.closeAll()
		for _, in := range inputs {
			if err := r.rd.readInput(ctx, in); err != nil {
				return err
			}
			r.phase(PhaseRead)
		}
		return nil
	}()
	r.rd.read.summarize(r.sum)
	hasRejects, err := r.rd.rej.close()
	if readErr != nil {
		return readErr
	}
	if err != nil {
		return err
	}
	if hasRejects && !r.o.DryRun {
		key := archive.RejectsKey(r.o.RunID)
		if _, err := r.o.Dest.PutFile(ctx, key, r.rd.rej.path, sinks.PutOptions{IfNotExist: true, ContentType: "application/x-ndjson"}); err != nil {
			return fmt.Errorf("upload the rejects file: %w", err)
		}
		r.sum.RejectsKey = key
	}
	if err := r.checkRejects(); err != nil {
		return err
	}
	r.warnEmptyKeys()
	if err := r.commitLoop(ctx); err != nil {
		return err
	}
	r.warnLate()
	return nil
}

// warnEmptyKeys reports rows keyed by the whole row because a configured
// key column was empty in them.
func (r *run) warnEmptyKeys() {
	r.sum.RowsKeyEmpty = r.rd.keys.emptyKey
	if r.sum.RowsKeyEmpty == 0 {
		return
	}
	r.warnOnce(fmt.Sprintf("%d rows have an empty event key column (%s): each is keyed by the whole row instead, so only identical copies of it are dropped as duplicates",
		r.sum.RowsKeyEmpty, strings.Join(r.o.KeyColumns, ", ")))
}

// warnLate reports new events older than the lookback: the run wrote them
// (they were in what it read), but a later run that reads only the
// lookback's worth of a table, or a source that no longer holds them, would
// not have. Either a run was missed or run.lookback is too short for how
// late this source delivers.
func (r *run) warnLate() {
	if r.sum.RowsLate == 0 {
		return
	}
	verb := "were written"
	if r.o.DryRun {
		verb = "would be written"
	}
	r.warnOnce(fmt.Sprintf("%d new events older than the lookback (before %s) %s: the archive did not hold them; if runs were missed, run a backfill over the days before it, or raise run.lookback",
		r.sum.RowsLate, r.o.Window.From.UTC().Format(time.RFC3339), verb))
}

// prepareArchive loads the commit log, finishes publishing commits whose
// writer died, and removes staging debris older than the grace period.
func (r *run) prepareArchive(ctx context.Context) error {
	st, err := archive.LoadState(ctx, r.o.Dest)
	if err != nil {
		return err
	}
	r.state = st
	if err := r.checkShape(); err != nil {
		return err
	}
	if r.o.DryRun {
		return nil
	}
	if err := r.rollForward(ctx); err != nil {
		return err
	}
	n, err := archive.CollectStaging(ctx, r.o.Dest, r.o.StagingGrace, r.o.Now())
	if err != nil {
		r.log.Warn("staging debris left for a later run", "err", err)
	}
	r.sum.StagingRemoved += n
	return nil
}

// rollForward publishes, in order, every commit that is not yet published.
func (r *run) rollForward(ctx context.Context) error {
	for _, n := range r.state.Unpublished {
		c, _, err := archive.ReadCommit(ctx, r.o.Dest, n)
		if err != nil {
			return err
		}
		r.log.Info("rolling forward an unpublished commit", "commit", n, "commit_run_id", c.RunID, "files", len(c.Files))
		if err := archive.Publish(ctx, r.o.Dest, c, nil); err != nil {
			return err
		}
		r.sum.RolledForward = append(r.sum.RolledForward, n)
	}
	r.state.Unpublished = nil
	return nil
}

// narrowWindow starts an incremental run Lookback before the watermark. A
// watermark later than the run's clock (an archive written before event
// times were bounded) counts as the clock: a watermark in the future would
// otherwise make every later run ask for nothing.
func (r *run) narrowWindow() {
	if !r.o.Incremental || r.state.Head == nil || r.state.Head.Source.Watermark.IsZero() {
		return
	}
	wm := r.state.Head.Source.Watermark
	if now := r.o.Now().UTC(); wm.After(now) {
		r.warnOnce(fmt.Sprintf("the archive's watermark %s is later than the run's clock %s; reading from the clock minus the lookback instead", wm.Format(time.RFC3339), now.Format(time.RFC3339)))
		wm = now
	}
	from := wm.Add(-r.o.Lookback)
	if from.After(r.o.Window.From) {
		r.o.Window.From = from
		r.rd.lookbackFrom = from.UnixMicro()
	}
}

// inputs lists the source; an incremental run skips what the archive has
// read in full (same key, ETag and size).
func (r *run) inputs(ctx context.Context) ([]source.Input, error) {
	all, err := r.o.Source.List(ctx, r.o.Window)
	if err != nil {
		return nil, err
	}
	r.listed = all
	if w, ok := r.o.Source.(source.Warner); ok {
		for _, msg := range w.Warnings() {
			r.warnOnce(msg)
		}
	}
	if len(all) == 0 {
		r.warnOnce("the source has no inputs: " + r.sum.Source)
	}
	if !r.o.Incremental || r.state.Head == nil {
		return all, nil
	}
	done := map[archive.Input]bool{}
	for _, in := range r.state.Head.Source.Inputs {
		done[in] = true
	}
	var todo []source.Input
	for _, in := range all {
		if in.ETag != "" && done[archive.Input{Key: in.Key, ETag: in.ETag, Size: in.Size}] {
			r.sum.InputsSkipped++
			continue
		}
		todo = append(todo, in)
	}
	return todo, nil
}

// commitLoop writes the partitions, commits them and publishes them. When
// another run commits first, it re-plans against the new log: the spills
// are still here, so the partitions are written again without the events
// the other run committed.
func (r *run) commitLoop(ctx context.Context) error {
	wr := newWriter(&r.o, r.log, r.work, r.rd, r.phase)
	c := &committer{dest: r.o.Dest, log: r.log, phase: r.phase, meta: commitMeta{
		runID: r.o.RunID, command: r.o.Command, tool: r.o.ToolVersion, window: r.sum.Window,
		shape: r.shape(),
	}, now: r.o.Now, reads: reads(r.sum.Progress.Inputs)}
	// The lease keeps other runs from collecting what this run stages, for
	// as long as it runs: staged files older than run.staging_grace are not
	// debris while it is renewed.
	if !r.o.DryRun {
		var err error
		if c.lease, err = archive.HoldLease(ctx, r.o.Dest, r.o.RunID, r.o.StagingGrace, r.log); err != nil {
			return err
		}
		defer func() {
			cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			c.lease.Release(cleanup)
		}()
	}
	read := readProgress{
		source: r.sum.Source, incremental: r.o.Incremental, listed: r.listed,
		maxEventTime: r.sum.Progress.MaxEventTime, read: r.sum.Progress.Inputs,
	}
	for attempt := 1; ; attempt++ {
		r.sum.CommitAttempts = attempt
		st, err := wr.writePartitions(ctx, attempt)
		st.summarize(r.sum)
		if err != nil {
			c.abandon(ctx, st)
			return err
		}
		if r.o.DryRun {
			return nil
		}
		r.phase(PhaseStaged)
		cm := c.build(r.state, st, read)
		if cm == nil {
			r.log.Info("nothing new to commit")
			if r.state.Head != nil {
				r.sum.HeadCommit, r.sum.HeadSHA256 = r.state.Head.Number, r.state.HeadSHA256
			}
			return nil
		}
		headSHA, err := c.commit(ctx, cm, st)
		if errors.Is(err, archive.ErrConflict) && attempt < r.o.MaxCommitAttempts {
			r.log.Warn("another run committed first; re-planning against the new log", "commit", cm.Number)
			if r.state, err = archive.LoadState(ctx, r.o.Dest); err != nil {
				return err
			}
			if err := r.checkShape(); err != nil {
				return err
			}
			if err := r.rollForward(ctx); err != nil {
				return err
			}
			continue
		}
		if errors.Is(err, archive.ErrConflict) {
			return fmt.Errorf("%w %d times in a row; nothing of this run was committed, run it again", err, attempt)
		}
		if headSHA != "" {
			// Committed, published or not.
			r.sum.Commit = cm.Number
			r.sum.HeadCommit, r.sum.HeadSHA256 = cm.Number, headSHA
		}
		if err != nil {
			return err
		}
		for _, f := range cm.Files {
			f.Staging = ""
			r.sum.Files = append(r.sum.Files, f)
		}
		r.log.Info("committed", "commit", cm.Number, "files", len(cm.Files), "rows", r.sum.RowsWritten)
		return nil
	}
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
		return &RejectsError{Rejected: n, Read: read, Over: RejectsMaxRows, MaxRows: r.o.Rejects.MaxRows, Where: where}
	}
	if frac := float64(n) / float64(read); frac > r.o.Rejects.MaxFraction {
		return &RejectsError{Rejected: n, Read: read, Over: RejectsMaxFraction, MaxFraction: r.o.Rejects.MaxFraction, Where: where}
	}
	return nil
}

// RejectsLimit names the threshold a RejectsError passed.
type RejectsLimit int

const (
	RejectsMaxRows     RejectsLimit = iota + 1 // Options.Rejects.MaxRows
	RejectsMaxFraction                         // Options.Rejects.MaxFraction
)

// RejectsError fails a run whose rejected rows pass a threshold.
type RejectsError struct {
	Rejected, Read int64
	Over           RejectsLimit // the threshold passed
	MaxRows        int64        // its value, when Over is RejectsMaxRows
	MaxFraction    float64      // its value, when Over is RejectsMaxFraction
	Where          string       // where the rejected rows are
}

// Limit is the threshold passed, as "max_rows=N" or "max_fraction=F".
func (e *RejectsError) Limit() string {
	if e.Over == RejectsMaxFraction {
		return fmt.Sprintf("max_fraction=%g", e.MaxFraction)
	}
	return fmt.Sprintf("max_rows=%d", e.MaxRows)
}

func (e *RejectsError) Error() string {
	return fmt.Sprintf("%d of %d rows were rejected, over the rejects limit %s; nothing was written (%s)", e.Rejected, e.Read, e.Limit(), e.Where)
}

func (r *run) warnOnce(msg string) {
	if r.warned[msg] {
		return
	}
	r.warned[msg] = true
	r.sum.Warnings = append(r.sum.Warnings, msg)
	r.log.Warn(msg)
}

// WorkDirError is a failure to use the local work directory (disk full, no
// permission): what the run was doing there, and the OS error.
type WorkDirError struct {
	Op  string
	Dir string // the directory, when the error is about it
	Err error
}

func workDirErr(op string, err error) error { return &WorkDirError{Op: op, Err: err} }

func (e *WorkDirError) Error() string {
	if e.Dir != "" {
		return fmt.Sprintf("%s in %q: %v", e.Op, e.Dir, e.Err)
	}
	return fmt.Sprintf("%s in the work directory: %v", e.Op, e.Err)
}

func (e *WorkDirError) Unwrap() error { return e.Err }
