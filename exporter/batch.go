package exporter

// Column batches: what a partition writer fills with rows and hands to its
// encoder, pooled for the run, and the columns learnt to be written plain.

import (
	"maps"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/parquet"
)

// batchRows is the most rows gathered before they are handed to the
// encoder (fewer when RowGroupRows is smaller, so files roll at the first
// row group past the target size). Row groups (RowGroupRows) are assembled
// from several batches: what a row group costs in memory is its compressed
// pages and its dictionaries, held by the column writers until it closes.
const batchRows = 2048

// arenaChunk is the size of the blocks a batch copies string values into.
const arenaChunk = 1 << 20

// batchesInFlight is how many batches a partition writer cycles through: one
// being filled, one being encoded. A third, queued, bought no overlap (both
// cores are busy in stage 2 anyway) and kept more of the heap live.
const batchesInFlight = 2

// colBatch is one column of a batch as Parquet takes it: a definition level
// per row (0 null, 1 present) and the present values, dense.
type colBatch struct {
	def   []int16
	strs  []parquet.ByteArray
	ints  []int64
	flts  []float64
	bools []bool
}

// batch is up to batchRows rows, column by column, with the range of their
// event times. String values live in arena blocks the batch reuses once
// the encoder is done with it (the column writers copy what they keep).
type batch struct {
	cols     []colBatch
	rows     int
	min, max int64
	cur      []byte   // the arena block being filled
	full     [][]byte // blocks filled in this batch
	spare    [][]byte // blocks free for reuse
}

// store copies v into the batch's arena.
func (b *batch) store(v []byte) parquet.ByteArray {
	if cap(b.cur)-len(b.cur) < len(v) {
		if b.cur != nil {
			b.full = append(b.full, b.cur)
		}
		if n := len(b.spare); n > 0 && len(v) <= arenaChunk {
			b.cur, b.spare = b.spare[n-1][:0], b.spare[:n-1]
		} else {
			b.cur = make([]byte, 0, max(arenaChunk, len(v)))
		}
	}
	start := len(b.cur)
	b.cur = append(b.cur, v...)
	return b.cur[start:len(b.cur):len(b.cur)]
}

// pad ends every column at the batch's row count with nulls.
func (b *batch) pad() {
	for i := range b.cols {
		c := &b.cols[i]
		if gap := b.rows - len(c.def); gap > 0 {
			c.def = append(c.def, make([]int16, gap)...)
		}
	}
}

// reset empties the batch for reuse, keeping its buffers; arena blocks
// bigger than arenaChunk (a huge cell) are dropped.
func (b *batch) reset() {
	if b.cur != nil {
		b.full = append(b.full, b.cur)
		b.cur = nil
	}
	for _, blk := range b.full {
		if cap(blk) == arenaChunk {
			b.spare = append(b.spare, blk[:0])
		}
	}
	clear(b.full)
	b.full = b.full[:0]
	for i := range b.cols {
		c := &b.cols[i]
		clear(c.strs)
		c.def, c.strs, c.ints, c.flts, c.bools = c.def[:0], c.strs[:0], c.ints[:0], c.flts[:0], c.bools[:0]
	}
	b.rows = 0
}

// plainColumns remembers the columns that a dictionary does not suit,
// learnt from the row groups of this run: the partitions written after
// that encode them plain from the start rather than hash every value into
// a dictionary that is dropped (it overflowed) or that holds about every
// value once (an ID). The zero value is ready.
type plainColumns struct {
	mu    sync.Mutex
	paths map[string]bool
}

func (pc *plainColumns) add(path string) bool {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.paths[path] {
		return false
	}
	if pc.paths == nil {
		pc.paths = map[string]bool{}
	}
	pc.paths[path] = true
	return true
}

func (pc *plainColumns) list() []string {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return slices.Sorted(maps.Keys(pc.paths))
}

// A dictionary of a row group's column is judged useless once the column
// has held at least uniqueMinValues values of which at least
// uniqueFraction were distinct. The minimum is low enough for an ID column
// that only some events carry (a few thousand values a day) to be learnt
// in the run's first partitions too.
const (
	uniqueMinValues = 4096
	uniqueFraction  = 0.9
)

// learnEncodings records, before the open row group closes, the columns
// whose dictionary fell back to plain encoding or holds (nearly) every
// value once.
func (pw *partWriter) learnEncodings() {
	for c := range pw.rg.NumColumns() {
		cw, err := pw.rg.Column(c)
		if err != nil || cw.Type() == parquet.Types.Boolean {
			continue // booleans have no dictionary
		}
		path := cw.Descr().ColumnPath()
		if !pw.props.DictionaryEnabledPath(path) {
			continue
		}
		why := ""
		switch enc := cw.CurrentEncoder(); {
		case enc.Encoding() == parquet.Encodings.Plain:
			why = "dictionary overflowed"
		default:
			d, ok := enc.(interface{ NumEntries() int })
			if n := pw.rgValues[c]; ok && n >= uniqueMinValues && float64(d.NumEntries()) >= uniqueFraction*float64(n) {
				why = "values nearly all distinct"
			}
		}
		if why != "" && pw.cfg.plain.add(path.String()) {
			pw.cfg.log.Debug(why+": later partitions encode the column plain", "column", path.String())
		}
	}
}

// batchPool keeps batches, with their buffers grown to size, from one
// partition writer to the next for the whole run. The zero value is ready.
type batchPool struct {
	mu    sync.Mutex
	spare []*batch
}

// get returns an empty batch of cols columns.
func (p *batchPool) get(cols int) *batch {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.spare) > 0 {
		b := p.spare[len(p.spare)-1]
		p.spare = p.spare[:len(p.spare)-1]
		if len(b.cols) == cols {
			return b
		}
	}
	return &batch{cols: make([]colBatch, cols)}
}

func (p *batchPool) put(b *batch) {
	b.reset()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.spare = append(p.spare, b)
}
