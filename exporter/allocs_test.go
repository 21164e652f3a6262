package exporter

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/exporter/source/exports"
	"github.com/auditexport/auditexport/schema"
	"github.com/auditexport/auditexport/sinks"
)

// Allocation guards for the per-row path of an export. They count mallocs,
// never time, so they hold on a loaded CI machine. Each bound is what the
// code allocates today: a failure means a change added work to every row
// (or, for a bound that is now too loose, made it cheaper: lower the bound).
//
// Stage 1 per row: source Next (exporter/source), schema.Coerce per cell,
// keyer.key, archive.PartitionPath, encodeRow, spills.add. Stage 2 per row:
// spillReader.next, decodeRow, the dedup map, partWriter.add and the Parquet
// encoding of the batch.

// allocsHeader is a header with a column of every type; "Score" is mapped to
// a float column (the built-in catalog has none).
var allocsHeader = []string{
	"Timestamp", "Event Id", "Event Category", "Event Type", "User Email", "Object Name",
	"Query Duration Ms", "Is Cached", "Recipients", "Score",
}

var allocsRow = []string{
	"2026-11-24 10:00:00.123", "ev-1", "QUERY_EXECUTIONS", "Run Query", "a@example.com", "Revenue, by region",
	"1234", "true", `["a@example.com","b@example.com"]`, "0.5",
}

// allocsStringCells counts the string and json cells of allocsRow;
// allocsDictCells those of them that are dictionary-encoded (not EVENT_ID).
const (
	allocsStringCells = 6
	allocsDictCells   = allocsStringCells - 1
)

func allocsCatalog(t *testing.T) *schema.Catalog {
	t.Helper()
	return testCatalog(t, schema.Mapping{Header: "Score", ID: "SCORE_X", Type: schema.Float})
}

// unitStages is a read stage and a write stage over it, with just enough
// state for the per-row functions: no run.
type unitStages struct {
	*reader
	wr *writer
}

func unitRun(t *testing.T) *unitStages {
	t.Helper()
	return newUnitRun(Options{Catalog: allocsCatalog(t), RunID: "allocs"})
}

func newUnitRun(o Options) *unitStages {
	o.defaults()
	log := slog.New(slog.DiscardHandler)
	rd := newReader(&o, log, os.TempDir(), func(string) {})
	return &unitStages{reader: rd, wr: newWriter(&o, log, os.TempDir(), rd, func(string) {})}
}

// coercedRow plans allocsHeader and coerces allocsRow as readInput does.
func coercedRow(t *testing.T, r *unitStages) (*headerPlan, []schema.Value, []field) {
	t.Helper()
	p, err := r.plan(source.Input{Key: "allocs.csv"}, &source.Header{Names: allocsHeader})
	if err != nil {
		t.Fatal(err)
	}
	var vals []schema.Value
	var fields []field
	for i, raw := range allocsRow {
		v, err := schema.Coerce(p.typ[i], raw, time.UTC)
		if err != nil {
			t.Fatalf("coerce %s: %v", allocsHeader[i], err)
		}
		vals = append(vals, v)
		fields = append(fields, field{col: p.col[i], v: v})
	}
	seen := map[schema.Type]bool{}
	for _, ty := range p.typ {
		seen[ty] = true
	}
	if len(seen) != 6 {
		t.Fatalf("allocsHeader covers types %v, want all six", seen)
	}
	return p, vals, fields
}

func TestEventKeyAllocs(t *testing.T) {
	r := unitRun(t)
	p, vals, _ := coercedRow(t, r)
	byRow := *p
	byRow.idF = -1 // no event ID: a fingerprint of the whole row
	byCols := *p
	byCols.keyF = []int{1, 0, 6} // dedup.key columns
	for _, c := range []struct {
		name string
		p    *headerPlan
	}{{"event id", p}, {"row fingerprint", &byRow}, {"configured key columns", &byCols}} {
		r.keys.key(c.p, vals)
		if got := testing.AllocsPerRun(1000, func() { r.keys.key(c.p, vals) }); got != 0 {
			t.Errorf("keyer.key by %s: %v allocs per row, want 0: the event key path regressed", c.name, got)
		}
	}
}

func TestRowCodecAllocs(t *testing.T) {
	r := unitRun(t)
	p, vals, fields := coercedRow(t, r)
	key := r.keys.key(p, vals)
	micros := vals[p.timeF].Int
	buf := encodeRow(nil, key, micros, fields, r.cols.types)
	if got := testing.AllocsPerRun(1000, func() {
		buf = encodeRow(buf[:0], key, micros, fields, r.cols.types)
	}); got != 0 {
		t.Errorf("encodeRow into a reused buffer: %v allocs per row, want 0", got)
	}
	body := buf[5:] // after the fixed 5-byte length
	gotKey, gotMicros, dec, err := decodeRow(body, r.cols.types, nil)
	if err != nil || gotKey != key || gotMicros != micros || len(dec) != len(fields) {
		t.Fatalf("decodeRow = %x %d %d fields, %v; want %x %d %d fields", gotKey, gotMicros, len(dec), err, key, micros, len(fields))
	}
	if got := testing.AllocsPerRun(1000, func() {
		_, _, dec, _ = decodeRow(body, r.cols.types, dec)
	}); got != 0 {
		t.Errorf("decodeRow into a reused slice: %v allocs per row, want 0", got)
	}
}

// archive.PartitionPath builds a partition's name when the partitioner's cache
// misses (once per 15-minute slot, see TestPartitionerCachedPathAllocs): a
// strings.Builder and the formatted date (2 allocations), plus the escaped
// category with partitioning.by_category (5).
func TestPartitionPathAllocs(t *testing.T) {
	tm := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		byCategory bool
		cat        string
		want       float64
	}{{false, "", 2}, {true, "QUERY_EXECUTIONS", 5}} {
		if got := testing.AllocsPerRun(1000, func() { _ = archive.PartitionPath(tm, time.UTC, c.byCategory, c.cat) }); got > c.want {
			t.Errorf("archive.PartitionPath(by category %v): %v allocs per row, want at most %v", c.byCategory, got, c.want)
		}
	}
}

func TestSpillAddAllocs(t *testing.T) {
	r := unitRun(t)
	p, vals, fields := coercedRow(t, r)
	row := encodeRow(nil, r.keys.key(p, vals), vals[p.timeF].Int, fields, r.cols.types)
	sp := newSpills(t.TempDir())
	t.Cleanup(func() { sp.closeAll() })
	if err := sp.add("event_date=2026-11-24", row); err != nil {
		t.Fatal(err)
	}
	if got := testing.AllocsPerRun(10000, func() { _ = sp.add("event_date=2026-11-24", row) }); got != 0 {
		t.Errorf("spills.add to an open partition: %v allocs per row, want 0", got)
	}
}

// keyWriter.write writes the sorted keys of a partition's written rows to
// the local key file, without an allocation per key (ranging over the keys
// by value would copy each into a variable whose slice escapes into
// bufio.Writer.Write).
func TestKeyWriterAllocsPerKey(t *testing.T) {
	kw, err := newKeyWriter(filepath.Join(t.TempDir(), "keys"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kw.close)
	keys := make([]eventKey, 1024)
	for i := range keys {
		keys[i][0], keys[i][1] = byte(i>>8), byte(i)
	}
	got := testing.AllocsPerRun(100, func() {
		if err := kw.write(keys); err != nil {
			t.Fatal(err)
		}
	}) / float64(len(keys))
	t.Logf("keyWriter.write: %.3f allocs per key", got)
	if got != 0 {
		t.Errorf("keyWriter.write: %.3f allocs per key, want 0", got)
	}
}

// allocsPerRow is the marginal number of mallocs per row of work(n): the
// difference between two sizes, so fixed costs (opening files, schemas,
// goroutines) cancel out. work must finish everything it starts (no
// goroutine still allocating), which makes the count exact up to sync.Pool
// misses after a GC.
func allocsPerRow(small, large int, work func(n int)) float64 {
	a := testing.AllocsPerRun(1, func() { work(small) })
	b := testing.AllocsPerRun(1, func() { work(large) })
	return (b - a) / float64(large-small)
}

// partWriter.add appends a row to the current batch; full batches are
// encoded on another goroutine. Measured over whole batches, finish
// included, the cost per row is today 5.00 allocations: one per non-null
// string or json cell that is dictionary-encoded (all but EVENT_ID: 5
// here), in arrow-go's dictionary encoder (hashing.BinaryMemoTable.InsertOrGet
// boxes every value it looks up, found or not). Batches (pooled), pages and
// column writers amortize to under 0.01 per row.
func TestPartWriterAddAllocsPerRow(t *testing.T) {
	r := unitRun(t)
	p, vals, fields := coercedRow(t, r)
	row := encodeRow(nil, r.keys.key(p, vals), vals[p.timeF].Int, fields, r.cols.types)
	_, micros, dec, err := decodeRow(row[5:], r.cols.types, nil)
	if err != nil {
		t.Fatal(err)
	}
	sc := r.wr.outputSchema()
	props, err := r.wr.writerProps()
	if err != nil {
		t.Fatal(err)
	}
	work := func(n int) {
		dir := t.TempDir()
		files := 0
		pw, err := newPartWriter(r.wr.partWriterConfig(), dir, sc, props, nil, func(lf localFile) error { files++; return os.Remove(lf.path) })
		if err != nil {
			t.Fatal(err)
		}
		defer pw.release()
		for range n {
			if err := pw.add(micros, dec); err != nil {
				t.Fatal(err)
			}
		}
		if err := pw.finish(); err != nil || files != 1 {
			t.Fatalf("finish: %v, %d files; want 1 file", err, files)
		}
	}
	got := allocsPerRow(2*batchRows, 6*batchRows, work)
	t.Logf("partWriter.add + encoding: %.3f allocs per row (%d string cells)", got, allocsStringCells)
	if want := allocsDictCells + 0.1; got > want {
		t.Errorf("partWriter.add + encoding: %.3f allocs per row, want at most %.1f (one per dictionary-encoded string cell, in the dictionary encoder): stage 2's per-row write path regressed", got, want)
	}
}

// allocsCSV is an export of n distinct events with the columns of
// allocsHeader; one cell in eight needs quoting.
func allocsCSV(n int) []byte {
	var b strings.Builder
	b.WriteString(strings.Join(allocsHeader, ",") + "\n")
	base := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	for i := range n {
		ts := base.Add(time.Duration(i) * 997 * time.Millisecond).Format("2006-01-02 15:04:05.000")
		fmt.Fprintf(&b, "%s,ev-%07d,QUERY_EXECUTIONS,Run Query,u%d@example.com,\"Revenue, by region %d\",%d,%v,\"[\"\"a@example.com\"\"]\",%d.5\n",
			ts, i, i%50, i%200, i%10000, i%2 == 0, i%100)
	}
	return []byte(b.String())
}

// writeAllocsInputs writes allocsCSV(n) into a landing directory per size.
func writeAllocsInputs(t *testing.T, sizes ...int) map[int]string {
	t.Helper()
	dirs := map[int]string{}
	for _, n := range sizes {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "2026-11-25T06-00-00Z_audit_logs.csv"), allocsCSV(n), 0o644); err != nil {
			t.Fatal(err)
		}
		dirs[n] = dir
	}
	return dirs
}

// Stage 1 per row, through readInput: decode (Prefetch over the CSV
// reader), plan lookup, coerce, window, key, partition path, encode, spill.
// Today: the CSV record string (1, in encoding/csv). Coerce, the key, the
// partition path (cached per 15-minute slot), the row codec and the spill
// add nothing.
func TestReadInputAllocsPerRow(t *testing.T) {
	const small, large = 2 * batchRows, 6 * batchRows
	inputs := writeAllocsInputs(t, small, large)
	cat := allocsCatalog(t)
	ctx := context.Background()
	work := func(n int) {
		land, err := sinks.Open(ctx, inputs[n], sinks.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer land.Close()
		r := newUnitRun(Options{Catalog: cat, RunID: "allocs", Source: exports.New(land)})
		r.spills = newSpills(t.TempDir())
		r.rej = newRejects(filepath.Join(t.TempDir(), "rejects.jsonl"))
		ins, err := r.o.Source.List(ctx, r.o.Window)
		if err != nil || len(ins) != 1 {
			t.Fatalf("list: %v, %d inputs", err, len(ins))
		}
		err = r.readInput(ctx, ins[0])
		if cerr := r.spills.closeAll(); err == nil {
			err = cerr
		}
		if err != nil || r.read.rows != int64(n) || r.spills.parts["event_date=2026-11-24"].rows != int64(n) {
			t.Fatalf("readInput over %d rows: %v, read %d", n, err, r.read.rows)
		}
	}
	got := allocsPerRow(small, large, work)
	t.Logf("stage 1 (readInput): %.3f allocs per row", got)
	if want := 1.1; got > want {
		t.Errorf("stage 1 (readInput): %.3f allocs per row, want at most %.1f: decode, coerce, key, partition path, encode or spill allocates more per row", got, want)
	}
}

// The whole export, per row: read, coerce, key, spill, dedup, encode and
// stage, into a file:// destination. Today 6.03: stage 1 (1, see
// TestReadInputAllocsPerRow), one per dictionary-encoded string cell in the
// dictionary encoder (5), and 0.03 amortized (dedup map growth, batches,
// pages). countCategory and keyWriter.write cost nothing per row. A regression anywhere on the per-row
// path shows here even if no unit test above covers the function that
// regressed.
func TestRunAllocsPerRow(t *testing.T) {
	got := runAllocsPerRow(t, 2*batchRows, 6*batchRows)
	const stage1 = 1
	t.Logf("whole export: %.3f allocs per row", got)
	if want := stage1 + allocsDictCells + 0.1; got > want {
		t.Errorf("whole export: %.3f allocs per row, want at most %.1f: some function on the per-row path allocates more than it did", got, want)
	}
}

// runAllocsPerRow is the marginal mallocs per row of a whole export of
// allocsCSV(n), between n = small and n = large.
func runAllocsPerRow(t *testing.T, small, large int) float64 {
	t.Helper()
	inputs := writeAllocsInputs(t, small, large)
	cat := allocsCatalog(t)
	ctx := context.Background()
	work := func(n int) {
		dest, err := sinks.Open(ctx, t.TempDir(), sinks.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer dest.Close()
		r := exportDir(t, inputs[n], dest, func(o *Options) { o.Catalog, o.RunID = cat, "allocs" })
		if r.err != nil || r.sum.RowsWritten != int64(n) {
			t.Fatalf("run over %d rows: %v, wrote %d rows", n, r.err, r.sum.RowsWritten)
		}
	}
	return allocsPerRow(small, large, work)
}

// A partition bigger than the key budget is split into key buckets
// (bucketSpills): one more local pass, which should cost no allocation per
// row (sub.add reuses its buffer). With a tiny budget every partition gets
// the most buckets (maxOpenSpills), whatever Options.Workers, so the bucket
// count is the same at both sizes and the marginal cost per row is that of
// the bucketed path: it must stay that of the unbucketed export, give or
// take the per-bucket dedup maps (0.2 where TestRunAllocsPerRow allows 0.1).
// More buckets than open spill files would make spills.add close and reopen
// a file for most rows (measured: 17.5 allocations and 56 KB per row at
// 256 buckets); bucketsFor caps them.
func TestBucketedRunAllocsPerRow(t *testing.T) {
	smallKeyBudget(t, 1)
	// Enough rows that the 64 buckets' own maps and files spread thinly.
	got := runAllocsPerRow(t, 2048, 6144)
	t.Logf("whole export, %d key buckets: %.3f allocs per row", bucketsFor(1<<40, 1), got)
	const stage1 = 1
	if want := stage1 + allocsDictCells + 0.2; got > want {
		t.Errorf("whole export split into key buckets: %.3f allocs per row, want at most %.1f as without buckets: the bucket pass (bucketSpills, spills.add) allocates per row", got, want)
	}
}

// countCategory counts a partition's events by category: after a
// category's first event, counting costs no allocation, with or without a
// category cell.
func TestCountCategoryAllocs(t *testing.T) {
	r := unitRun(t)
	catCol := r.cols.index[r.o.CategoryColumn]
	res := &partResult{categories: map[string]*categoryCount{}}
	for _, fields := range [][]decodedField{
		{{col: catCol, bytes: []byte("QUERY_EXECUTIONS")}},
		{{col: catCol, bytes: []byte("NOT_A_CATEGORY")}},
		nil, // no category cell
	} {
		r.wr.countCategory(res, fields, catCol)
		if got := testing.AllocsPerRun(1000, func() { r.wr.countCategory(res, fields, catCol) }); got != 0 {
			t.Errorf("countCategory(%v): %v allocs per row, want 0", fields, got)
		}
	}
	want := map[string]categoryCount{"QUERY_EXECUTIONS": {n: 1002}, "NOT_A_CATEGORY": {n: 1002, unknown: true}, noCategory: {n: 1002}}
	for c, w := range want {
		if got := res.categories[c]; got == nil || *got != w {
			t.Errorf("category %s: %+v, want %+v", c, got, w)
		}
	}
}
