package generate

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/auditexport/auditexport/schema"
)

const (
	retention   = 30 * nsPerDay         // Sigma keeps 30 days; each export holds them all
	maxLateness = 2 * 3600 * int64(1e9) // Sigma: rows appear within 2 hours
	runHour     = 6 * 3600 * int64(1e9) // exports run at 06:00 UTC
	dupLag      = 37                    // a duplicate follows its original by this many rows
	// gzipLevel: BestSpeed makes csv.gz about 1.5x faster than
	// DefaultCompression (deflate is ~75% of the CPU time even so), for
	// files about 13% larger.
	gzipLevel = gzip.BestSpeed
)

// Generate writes opts.Exports export files into dir (created if missing) and
// returns what they hold. Files are written under a temporary name and
// renamed when complete, so dir never holds a partial export file; after an
// error, the files completed before it remain.
func Generate(ctx context.Context, dir string, opts Options) (Truth, error) {
	if err := opts.Validate(); err != nil {
		return Truth{}, fmt.Errorf("invalid generate options: %w", err)
	}
	opts = opts.withDefaults()
	cat, err := schema.Builtin()
	if err != nil {
		return Truth{}, fmt.Errorf("load the built-in catalog: %w", err)
	}
	p, err := newPlan(cat, opts)
	if err != nil {
		return Truth{}, fmt.Errorf("built-in catalog %s: %w", cat.Version, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Truth{}, fmt.Errorf("create output directory: %w", err)
	}
	s := newSchedule(opts)
	tl, err := writeExports(ctx, dir, opts, p, newPools(uint64(opts.Seed)), s)
	if err != nil {
		return Truth{}, err
	}
	truth := Truth{Renames: p.renames, RowsWritten: tl.rows, Duplicates: tl.dups, Late: tl.late}
	for k := range s.runs {
		truth.Files = append(truth.Files, fileName(s.runs[k], opts.Format))
	}
	truth.DistinctPerDay = map[string]int{}
	for d, n := range tl.perDay {
		if n > 0 {
			truth.DistinctPerDay[opts.Start.AddDate(0, 0, d).Format(time.DateOnly)] = n
			truth.Distinct += n
		}
	}
	truth.Categories = map[string]int{}
	for c, n := range tl.perCat {
		if n > 0 {
			truth.Categories[p.cats[c].name] += n
		}
	}
	return truth, nil
}

// writeExports writes the exports with opts.Workers (default GOMAXPROCS)
// goroutines, each with its own generator, and adds up what they wrote.
func writeExports(ctx context.Context, dir string, opts Options, p *plan, pl *pools, s schedule) (tally, error) {
	workers := opts.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(s.runs))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tallies := make([]tally, workers)
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for w := range tallies {
		t := &tallies[w]
		t.perDay, t.perCat = make([]int, opts.Days), make([]int, len(p.cats))
		wg.Go(func() {
			g := newGen(opts, s, p, pl)
			for {
				k := int(next.Add(1) - 1)
				if k >= len(s.runs) {
					return
				}
				if err := g.writeExport(ctx, dir, fileName(s.runs[k], opts.Format), k, opts, t); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err // the cause; the others stop with ctx canceled
					}
					mu.Unlock()
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return tally{}, firstErr
	}
	sum := tallies[0]
	for _, t := range tallies[1:] {
		sum.rows, sum.dups, sum.late = sum.rows+t.rows, sum.dups+t.dups, sum.late+t.late
		for i, n := range t.perDay {
			sum.perDay[i] += n
		}
		for i, n := range t.perCat {
			sum.perCat[i] += n
		}
	}
	return sum, nil
}

// fileName is Sigma's date-prefixed export name for a run at unix ns run.
func fileName(run int64, format string) string {
	return time.Unix(0, run).UTC().Format("2006-01-02T15-04-05Z") + "_audit_logs." + format
}

// schedule holds the export run times.
type schedule struct {
	start      int64
	runs       []int64 // unix ns, increasing
	interval   int64   // ns between runs (nominal)
	lateWindow int64   // ns before a run in which an event can arrive after it
}

// newSchedule spreads the runs evenly: export k runs at
// Start + 06:00 + (k+1)*Days/Exports days, on a whole second.
func newSchedule(o Options) schedule {
	s := schedule{start: o.Start.UnixNano(), runs: make([]int64, o.Exports)}
	s.interval = int64(o.Days) * nsPerDay / int64(o.Exports)
	s.lateWindow = min(maxLateness, s.interval)
	for k := range s.runs {
		secs := int64(k+1) * int64(o.Days) * 86400 / int64(o.Exports)
		s.runs[k] = s.start + runHour + secs*1e9
	}
	return s
}

// first returns the first export whose run is after t (len(runs) if none).
func (s schedule) first(t int64) int {
	return sort.Search(len(s.runs), func(k int) bool { return s.runs[k] > t })
}

// contains reports whether export k holds the event: its time is in the
// export's 30-day window and it has arrived. A late event arrives after the
// first run after its time and so misses that export.
func (s schedule) contains(k int, h head) bool {
	run := s.runs[k]
	if h.t >= run || h.t < run-retention {
		return false
	}
	return !h.late || s.first(h.t) != k
}

// tally counts what the exports hold, each event once: in the export where it
// first appears.
type tally struct {
	rows, dups, late int
	perDay, perCat   []int
}

func (s schedule) count(t *tally, k int, h head) {
	if k > 0 && s.contains(k-1, h) {
		return // counted in an earlier export
	}
	t.perDay[h.day]++
	t.perCat[h.cat]++
	if h.late {
		t.late++
	}
}

// writeExport writes export k: every event in its window that has arrived by
// its run, in time order, each duplicate dupLag rows after its original.
func (g *gen) writeExport(ctx context.Context, dir, name string, k int, o Options, t *tally) (err error) {
	s := g.sched
	f, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return fmt.Errorf("create export %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<18)
	var w io.Writer = bw
	var zw *gzip.Writer
	if o.Format == FormatCSVGzip {
		zw, _ = gzip.NewWriterLevel(bw, gzipLevel) // a valid constant level: no error
		w = zw
	}
	rw := newRowWriter(o.Format, w, g.plan)
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("create export %s: %w", name, err)
	}
	if err := rw.header(g.plan.header); err != nil {
		return fmt.Errorf("write export %s: %w", name, err)
	}

	run := s.runs[k]
	dFrom := max(0, int((run-retention-s.start)/nsPerDay))
	dTo := min(o.Days-1, int((run-1-s.start)/nsPerDay))
	type pending struct {
		day, i    int
		used, dup bool
	}
	var ring [dupLag]pending
	pos := 0
	emitDup := func(p pending) error {
		g.render(g.head(p.day, p.i))
		t.rows++
		t.dups++
		return rw.write(g.arena, g.cells)
	}
	for d := dFrom; d <= dTo; d++ {
		for i := 0; i < o.RowsPerDay; i++ {
			if i&4095 == 0 {
				if err := ctx.Err(); err != nil {
					return fmt.Errorf("write export %s: %w", name, err)
				}
			}
			h := g.head(d, i)
			if !s.contains(k, h) {
				continue
			}
			s.count(t, k, h)
			g.render(h)
			if err := rw.write(g.arena, g.cells); err != nil {
				return fmt.Errorf("write export %s: %w", name, err)
			}
			t.rows++
			slot := &ring[pos%dupLag]
			if slot.used && slot.dup {
				if err := emitDup(*slot); err != nil {
					return fmt.Errorf("write export %s: %w", name, err)
				}
			}
			dup := o.DuplicateRate > 0 && unitHash(g.seed, saltDup, h.n, uint64(k)) < o.DuplicateRate
			*slot = pending{day: d, i: i, used: true, dup: dup}
			pos++
		}
	}
	for j := range dupLag { // the duplicates still owed, oldest first
		if p := ring[(pos+j)%dupLag]; p.used && p.dup {
			if err := emitDup(p); err != nil {
				return fmt.Errorf("write export %s: %w", name, err)
			}
		}
	}
	if err := rw.flush(); err != nil {
		return fmt.Errorf("write export %s: %w", name, err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return fmt.Errorf("write export %s: %w", name, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write export %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write export %s: %w", name, err)
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("publish export %s: %w", name, err)
	}
	return nil
}

type rowWriter interface {
	header([]string) error
	write(arena []byte, cells []cell) error
	flush() error
}

func newRowWriter(format string, w io.Writer, p *plan) rowWriter {
	if format == FormatJSONL {
		jw := &jsonlWriter{w: w, raw: make([]bool, len(p.cols))}
		for i, c := range p.cols {
			jw.keys = append(jw.keys, string(append(appendJSONString(nil, c.header), ':')))
			jw.raw[i] = c.raw
		}
		return jw
	}
	return &csvWriter{cw: csv.NewWriter(w)}
}

const flushAt = 64 << 10

// csvWriter writes CSV with encoding/csv.
type csvWriter struct {
	cw  *csv.Writer
	rec []string
}

func (c *csvWriter) header(h []string) error { return c.cw.Write(h) }

func (c *csvWriter) write(arena []byte, cells []cell) error {
	c.rec = c.rec[:0]
	for _, v := range cells {
		c.rec = append(c.rec, string(arena[v.a:v.b]))
	}
	return c.cw.Write(c.rec)
}

func (c *csvWriter) flush() error {
	c.cw.Flush()
	return c.cw.Error()
}

// jsonlWriter writes one JSON object per row, keyed by header, in header
// order; empty values are left out. Ints, floats, bools and json columns are
// JSON values, everything else strings.
type jsonlWriter struct {
	w    io.Writer
	keys []string // `"Header":`
	raw  []bool
	buf  []byte
}

func (j *jsonlWriter) header([]string) error { return nil }

func (j *jsonlWriter) write(arena []byte, cells []cell) error {
	b := append(j.buf, '{')
	first := true
	for i, v := range cells {
		if v.b == v.a {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, j.keys[i]...)
		if j.raw[i] {
			b = append(b, arena[v.a:v.b]...)
		} else {
			b = appendJSONString(b, arena[v.a:v.b])
		}
	}
	b = append(b, '}', '\n')
	j.buf = b
	if len(b) >= flushAt {
		return j.flush()
	}
	return nil
}

func (j *jsonlWriter) flush() error {
	_, err := j.w.Write(j.buf)
	j.buf = j.buf[:0]
	return err
}
