package exporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/sinks"
)

// committer is the commit stage: it makes what one attempt of the write
// stage staged the archive's next commit, appends it to the log and
// publishes it into the Hive layout.
type committer struct {
	dest  *sinks.Bucket
	log   *slog.Logger
	phase func(string)
	lease *archive.Lease // this run's staging lease; nil in a dry run
	meta  commitMeta
	now   func() time.Time
	reads []archive.Read // the inputs the run read, for every commit it makes
}

// commitMeta is what every commit of a run records about the run.
type commitMeta struct {
	runID, command, tool, window string
	shape                        *archive.Shape
}

// build returns the commit that follows state's head with what st staged
// and the source progress after what rp read, or nil when it would add no
// file and move no progress.
func (c *committer) build(state *archive.State, st *staged, rp readProgress) *archive.Commit {
	var prev archive.Progress
	if h := state.Head; h != nil {
		prev = h.Source
	}
	next := rp.next(prev, c.now())
	if len(st.files) == 0 && progressEqual(prev, next) {
		return nil
	}
	return &archive.Commit{
		Version:  archive.CommitVersion,
		Number:   state.NextNumber(),
		Previous: state.HeadSHA256,
		RunID:    c.meta.runID,
		Command:  c.meta.command,
		Created:  c.now().UTC(),
		Tool:     c.meta.tool,
		Window:   c.meta.window,
		Files:    append([]archive.File{}, st.files...),
		Keys:     append([]archive.KeyFile{}, st.keys...),
		Source:   next,
		Shape:    c.meta.shape,
		Reads:    c.reads,
	}
}

// commit appends cm to the log and publishes it, returning the sha256 of
// the new head. When cm certainly was not created (the lease was lost, a
// staged file is gone, another run took its number: archive.ErrConflict)
// what st staged is removed; when whether it was created is unknown, it is
// kept for the next run to publish or collect.
func (c *committer) commit(ctx context.Context, cm *archive.Commit, st *staged) (string, error) {
	// A commit must never name a file that is gone: no run could
	// publish it.
	if err := c.lease.Check(); err != nil {
		c.abandon(ctx, st)
		return "", err
	}
	if err := archive.CheckStaged(ctx, c.dest, cm); err != nil {
		c.abandon(ctx, st)
		return "", err
	}
	headSHA, err := archive.Append(ctx, c.dest, cm)
	if errors.Is(err, archive.ErrConflict) {
		c.abandon(ctx, st)
		return "", err
	}
	if err != nil {
		// The commit may have landed even though the call failed: its
		// staged files must stay. If it landed, the next run publishes
		// it; if not, they are debris removed after run.staging_grace.
		return "", fmt.Errorf("%w (whether commit %d was created is unknown; its staged files are kept for the next run)", err, cm.Number)
	}
	c.phase(PhaseCommitted)
	if err := archive.Publish(ctx, c.dest, cm, func() { c.phase(PhasePublish) }); err != nil {
		return headSHA, fmt.Errorf("%w (commit %d is safe in the log; the next run finishes publishing it)", err, cm.Number)
	}
	return headSHA, nil
}

// abandon removes what an attempt staged, even when ctx is done, best
// effort: what is left is debris that no reader lists and a later run
// collects.
func (c *committer) abandon(ctx context.Context, st *staged) {
	cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	for _, k := range st.stagingKeys() {
		if err := c.dest.Delete(cleanup, k); err != nil && !errors.Is(err, sinks.ErrNotFound) {
			c.log.Warn("remove staging file", "key", k, "err", err)
		}
	}
}

// reads lists the inputs read in full with their row counts, in the order
// read.
func reads(in []InputProgress) []archive.Read {
	out := make([]archive.Read, 0, len(in))
	for _, p := range in {
		out = append(out, archive.Read{Key: p.Key, Rows: p.Rows, Rejected: p.Rejected})
	}
	return out
}

// readProgress is what a run read, as far as its commit records it.
type readProgress struct {
	source       string
	incremental  bool
	maxEventTime time.Time
	listed       []source.Input  // every input the source listed
	read         []InputProgress // the inputs read in full
}

// next is the archive's source progress after the run, from prev: the
// watermark moves forward only and never past now; an incremental run
// records the inputs it read in full and forgets those the source no
// longer lists.
func (rp readProgress) next(prev archive.Progress, now time.Time) archive.Progress {
	next := archive.Progress{Source: rp.source, Watermark: prev.Watermark, Inputs: []archive.Input{}}
	if t := rp.maxEventTime; t.After(next.Watermark) {
		next.Watermark = t
	}
	// Event times may run up to MaxFutureSkew ahead of the clock; the
	// watermark never does.
	if now = now.UTC(); next.Watermark.After(now) {
		next.Watermark = now.Truncate(time.Microsecond)
	}
	if !rp.incremental {
		next.Inputs = append(next.Inputs, prev.Inputs...)
		return next
	}
	listed := map[archive.Input]bool{}
	for _, in := range rp.listed {
		listed[archive.Input{Key: in.Key, ETag: in.ETag, Size: in.Size}] = true
	}
	seen := map[archive.Input]bool{}
	add := func(in archive.Input) {
		if in.ETag != "" && listed[in] && !seen[in] {
			seen[in] = true
			next.Inputs = append(next.Inputs, in)
		}
	}
	for _, in := range prev.Inputs {
		add(in)
	}
	for _, in := range rp.read {
		add(archive.Input{Key: in.Key, ETag: in.ETag, Size: in.Size})
	}
	return next
}

func progressEqual(a, b archive.Progress) bool {
	if !a.Watermark.Equal(b.Watermark) || len(a.Inputs) != len(b.Inputs) {
		return false
	}
	have := map[archive.Input]bool{}
	for _, in := range a.Inputs {
		have[in] = true
	}
	for _, in := range b.Inputs {
		if !have[in] {
			return false
		}
	}
	return true
}
