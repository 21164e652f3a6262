package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/schema"
)

// reader is the read stage: it streams a source's inputs into one spill per
// partition, resolving each header to output columns, coercing each value,
// checking each event time, keying and partitioning each row. A row that
// cannot be read goes to the rejects file. What it produces is the columns
// met (cols) and the spills, which the write stage reads, and its counts
// (read).
type reader struct {
	o      *Options // the run's: an incremental run narrows its window first
	log    *slog.Logger
	warn   func(string) // reports a warning once
	cols   *columnSet
	plans  map[*source.Header]*headerPlan
	spills *spills
	rej    *rejects
	keys   *keyer
	parts  *partitioner
	rowBuf []byte
	vals   []schema.Value // one slot per field of the current record
	fields []field        // the current record's non-null fields
	read   readStats
	inputs int // how many inputs the run reads, for progress events

	// rowWindow keeps rows: the window the run was given. An incremental
	// run asks its source only for the rows since the lookback (o.Window,
	// narrowed), but keeps every row the source returns within rowWindow.
	rowWindow source.Window
	// lookbackFrom is the narrowed window's start in microseconds: a row
	// older than it is counted as late (math.MinInt64 when the window was
	// not narrowed).
	lookbackFrom int64
	// futureMicros is the latest event time accepted: the run's clock plus
	// Options.MaxFutureSkew.
	futureMicros int64
}

// newReader starts a read stage that spills into work, with o's catalog,
// zones and window as they are now.
func newReader(o *Options, log *slog.Logger, work string, warn func(string)) *reader {
	return &reader{
		o: o, log: log, warn: warn,
		cols:   newColumnSet(o.Catalog),
		plans:  map[*source.Header]*headerPlan{},
		spills: newSpills(work),
		rej:    newRejects(filepath.Join(work, "rejects.jsonl")),
		keys:   newKeyer(),
		parts:  newPartitioner(o.PartitionZone, o.ByCategory),

		rowWindow:    o.Window,
		lookbackFrom: math.MinInt64,
		futureMicros: o.Now().Add(o.MaxFutureSkew).UnixMicro(),
	}
}

// readInput streams one source input into the partition spills: decode,
// resolve, coerce, filter by window, key, encode. A row that cannot be
// decoded or coerced goes to the rejects file; any other error stops the
// run before anything is written to the destination.
func (r *reader) readInput(ctx context.Context, in source.Input) error {
	rd, err := r.o.Source.Open(ctx, in, r.o.Window)
	if err != nil {
		return fmt.Errorf("open %s: %w", in.Key, err)
	}
	// Decoding runs a few batches ahead on its own goroutine.
	rd = source.Prefetch(ctx, rd)
	defer rd.Close()
	prog := InputProgress{Key: in.Key, ETag: in.ETag, Size: in.Size}
	r.report(in, 0, false)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := rd.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			rowErr, ok := errors.AsType[*source.RowError](err)
			if !ok {
				return err
			}
			// A record that took in the lines after it (a quote left
			// open) stands for each of them.
			prog.Rows += rowErr.Rows()
			prog.Rejected += rowErr.Rows()
			if err := r.reject(Reject{Source: in.Key, Line: rowErr.Line, Reason: rowErr.Reason, Fields: rowErr.Raw}); err != nil {
				return err
			}
			continue
		}
		prog.Rows++
		if r.o.Progress != nil && prog.Rows%ProgressEvery == 0 {
			r.report(in, prog.Rows, false)
		}
		p, err := r.plan(in, rec.Header)
		if err != nil {
			return err
		}
		rejected, err := r.readRecord(in, rec, p)
		if err != nil {
			return err
		}
		if rejected {
			prog.Rejected++
		}
	}
	r.read.rows += prog.Rows
	r.read.rejected += prog.Rejected
	r.report(in, prog.Rows, true)
	r.read.inputs = append(r.read.inputs, prog)
	r.log.Info("read input", "input", in.Key, "rows", prog.Rows, "rejected", prog.Rejected)
	return nil
}

// readRecord coerces one record by its header's plan, checks its event
// time and category, and spills it into its partition, or rejects it
// (rejected true) with the column and the reason.
func (r *reader) readRecord(in source.Input, rec source.Record, p *headerPlan) (rejected bool, err error) {
	reject := func(f int, reason string) (bool, error) {
		return true, r.reject(Reject{Source: in.Key, Line: rec.Line, Column: rec.Header.Names[f], Reason: reason, Row: rowMap(rec)})
	}
	// vals keeps a slot per field from row to row. Most cells of an export
	// are empty: an empty cell only marks its slot null (the rest of the
	// slot is stale, and nothing reads a null slot's value), which spares
	// copying a whole Value. Text needs no coercion either; the other
	// types go through schema.Coerce.
	if len(r.vals) != len(rec.Fields) {
		r.vals = make([]schema.Value, len(rec.Fields))
	}
	vals := r.vals
	r.fields = r.fields[:0]
	for i, raw := range rec.Fields {
		if raw == "" {
			vals[i].Null = true
			continue
		}
		var v schema.Value
		if p.text[i] {
			v.Str = raw
		} else if v, err = schema.Coerce(p.typ[i], raw, r.o.SourceZone); err != nil {
			return reject(i, err.Error())
		}
		vals[i] = v
		if !v.Null {
			r.fields = append(r.fields, field{col: p.col[i], v: v})
		}
	}
	tv := vals[p.timeF]
	switch {
	case tv.Null:
		return reject(p.timeF, "no event time: the column is empty")
	case tv.Int > r.futureMicros:
		return reject(p.timeF, r.futureReason(tv.Int))
	}
	t := time.UnixMicro(tv.Int)
	if !r.rowWindow.Contains(t) {
		r.read.outOfWindow++
		return false, nil
	}
	if tv.Int < r.lookbackFrom {
		r.read.beforeLookback++
	}
	cat := ""
	if p.catF >= 0 && !vals[p.catF].Null {
		cat = vals[p.catF].Str
	}
	if r.o.ByCategory && archive.CategoryTooLong(cat) {
		return reject(p.catF, fmt.Sprintf("the event category is too long to name a partition: %d bytes, at most %d once escaped", len(cat), archive.MaxCategoryBytes))
	}
	if t.After(r.read.maxEventTime) {
		r.read.maxEventTime = t.UTC()
	}
	part := r.parts.path(tv.Int, cat)
	key := r.keys.key(p, vals)
	r.rowBuf = encodeRow(r.rowBuf[:0], key, tv.Int, r.fields, r.cols.types)
	return false, r.spills.add(part, r.rowBuf)
}

// readStats is what the read stage counted, over every input it read.
type readStats struct {
	rows, rejected int64
	outOfWindow    int64
	beforeLookback int64
	maxEventTime   time.Time
	inputs         []InputProgress
	derived        []string // derived column IDs, in the order first met
}

// summarize sets the summary's read counts and source progress.
func (rs *readStats) summarize(sum *Summary) {
	sum.RowsRead, sum.RowsRejected = rs.rows, rs.rejected
	sum.RowsOutOfWindow, sum.RowsBeforeLookback = rs.outOfWindow, rs.beforeLookback
	sum.Progress.MaxEventTime = rs.maxEventTime
	sum.Progress.Inputs = append([]InputProgress{}, rs.inputs...)
	sum.DerivedColumns = append([]string(nil), rs.derived...)
}

// report tells Options.Progress how far the run has read. rows counts the
// rows of in read so far; RowsRead already includes them once in is done.
func (r *reader) report(in source.Input, rows int64, done bool) {
	if r.o.Progress == nil {
		return
	}
	total := r.read.rows
	if !done {
		total += rows
	}
	r.o.Progress(ProgressEvent{
		Stage: StageRead, Input: in.Key, Size: in.Size,
		Index: len(r.read.inputs) + 1, Total: r.inputs,
		Rows: rows, RowsRead: total, Done: done,
	})
}

// futureReason explains the rejection of an event time past the run's clock
// plus the allowed skew.
func (r *reader) futureReason(micros int64) string {
	return fmt.Sprintf("event time %s is in the future: later than the run's clock plus the allowed clock skew of %s (%s)",
		time.UnixMicro(micros).UTC().Format(time.RFC3339Nano), r.o.MaxFutureSkew, time.UnixMicro(r.futureMicros).UTC().Format(time.RFC3339))
}

func (r *reader) reject(rej Reject) error {
	if len(r.rej.samples) < maxRejectSamples {
		r.log.Warn("rejected row", "input", rej.Source, "line", rej.Line, "column", rej.Column, "reason", rej.Reason)
	}
	return r.rej.add(rej)
}

func rowMap(rec source.Record) map[string]string {
	m := make(map[string]string, len(rec.Fields))
	for i, v := range rec.Fields {
		if v != "" {
			m[rec.Header.Names[i]] = strings.ToValidUTF8(v, "\uFFFD")
		}
	}
	return m
}
