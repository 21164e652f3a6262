package exporter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/auditexport/auditexport/schema"
	"github.com/auditexport/auditexport/sinks"
)

// Adversarial input shapes, each end to end through Run into a file://
// destination, with the heap measured as in memory_test.go and an exact
// check of what was written.

// writeLanding writes files into a fresh landing directory.
func writeLanding(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// csvQuote renders one CSV field, quoted when it needs to be.
func csvQuote(s string) string {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// bigText is n bytes of printable text with the characters CSV must quote
// (commas, quotes, newlines) scattered through it, never two alike.
func bigText(n int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,\"\n;:/-_é"
	b := make([]byte, 0, n)
	for len(b) < n {
		c := alphabet[r.IntN(len(alphabet))]
		if c == 0xC3 || c == 0xA9 { // keep UTF-8 valid: é only whole
			if n-len(b) < 2 {
				continue
			}
			b = append(b, "é"...)
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

// One row holds a 10 MB Object Name (quoted, with doubled quotes, commas
// and newlines inside). It is archived byte for byte, the rows around it
// too, and the export's heap stays within a bounded number of copies of the
// value.
func TestExportTenMegabyteCell(t *testing.T) {
	const cellSize = 10 << 20
	big := bigText(cellSize, 1)
	var b strings.Builder
	b.WriteString("Timestamp,Event Id,Event Category,Event Type,Object Name\n")
	b.WriteString("2026-11-24 10:00:00,ev-1,OBJECT_INTERACTION,View Workbook,small before\n")
	b.WriteString("2026-11-24 10:00:01,ev-big,OBJECT_INTERACTION,View Workbook," + csvQuote(big) + "\n")
	b.WriteString("2026-11-24 10:00:02,ev-3,OBJECT_INTERACTION,View Workbook,small after\n")
	dir := writeLanding(t, map[string][]byte{"2026-11-25T06-00-00Z_audit_logs.csv": []byte(b.String())})
	b.Reset()

	e := exportLocal(t, dir, nil)
	t.Logf("10 MB cell: %v", e.heap)
	s := e.sum
	if s.RowsRead != 3 || s.RowsWritten != 3 || s.RowsRejected != 0 || len(s.Files) != 1 {
		t.Fatalf("read %d written %d rejected %d, %d files; want 3 3 0, 1 file", s.RowsRead, s.RowsWritten, s.RowsRejected, len(s.Files))
	}
	got := map[string]string{}
	for _, f := range readArchive(t, e.dest) {
		for _, row := range f.rows {
			got[row["EVENT_ID"].(string)], _ = row["OBJECT_NAME"].(string)
		}
	}
	if len(got) != 3 || got["ev-1"] != "small before" || got["ev-3"] != "small after" {
		t.Errorf("small rows around the big one = %q, %q (%d rows)", got["ev-1"], got["ev-3"], len(got))
	}
	if v := got["ev-big"]; v != big {
		i := 0
		for i < min(len(v), len(big)) && v[i] == big[i] {
			i++
		}
		t.Errorf("the 10 MB value did not round-trip: archived %d bytes, want %d, first difference at byte %d", len(v), len(big), i)
	}
	verifyArchive(t, e.dest)
	// Copies of the value along the way: the CSV reader's buffers and
	// record, the spilled row and its encode buffer (run.rowBuf, kept for
	// the whole run), the spill reader's buffer, the batch, the dictionary,
	// the encoded and compressed pages. Today the export adds 120-127 MiB,
	// about 12 copies, 11 of them live at once.
	if limit := uint64(16 * cellSize); e.heap.added() > limit {
		t.Errorf("a 10 MB cell added %.1f MiB to the heap, want at most %.0f MiB (%d copies of the value)",
			mib(e.heap.added()), mib(limit), limit/cellSize)
	}
}

// An export with 1,000 columns, 995 of them unknown to the catalog: in
// non-strict mode each unknown header becomes a string column with a
// derived ID and a warning. Every cell of every row is archived under its
// derived column, and the heap stays bounded.
func TestExportThousandColumns(t *testing.T) {
	const columns, rows = 1000, 1000
	known := []string{"Timestamp", "Event Id", "Event Category", "Event Type", "User Email"}
	header := slices.Clone(known)
	for i := len(known); i < columns; i++ {
		header = append(header, fmt.Sprintf("Custom Attribute %04d", i))
	}
	var b strings.Builder
	b.WriteString(strings.Join(header, ",") + "\n")
	for r := range rows {
		fmt.Fprintf(&b, "2026-11-24 %02d:%02d:%02d,ev-%d,QUERY_EXECUTIONS,Run Query,u%d@example.com", r/3600, r/60%60, r%60, r, r%7)
		for c := len(known); c < columns; c++ {
			fmt.Fprintf(&b, ",r%dc%d", r, c)
		}
		b.WriteByte('\n')
	}
	dir := writeLanding(t, map[string][]byte{"2026-11-25T06-00-00Z_audit_logs.csv": []byte(b.String())})

	e := exportLocal(t, dir, nil)
	t.Logf("%d columns x %d rows: %v", columns, rows, e.heap)
	s := e.sum
	if s.RowsRead != rows || s.RowsWritten != rows || s.RowsRejected != 0 {
		t.Fatalf("read %d written %d rejected %d; want %d %d 0", s.RowsRead, s.RowsWritten, s.RowsRejected, rows, rows)
	}
	unknown := columns - len(known)
	if len(s.DerivedColumns) != unknown {
		t.Fatalf("%d derived columns, want %d", len(s.DerivedColumns), unknown)
	}
	derived := 0
	for _, w := range s.Warnings {
		if strings.Contains(w, "keeping it as string column CUSTOM_ATTRIBUTE_") {
			derived++
		}
	}
	if derived != unknown {
		t.Errorf("%d warnings about derived columns, want one per unknown header (%d)", derived, unknown)
	}
	files := readArchive(t, e.dest)
	seen := 0
	for _, f := range files {
		if n := len(f.schema) - 1; n != len(e.sum.DerivedColumns)+len(testCatalog(t).Columns) {
			t.Errorf("%s has %d columns, want the catalog's %d and %d derived", f.key, n, len(testCatalog(t).Columns), unknown)
		}
		for _, row := range f.rows {
			id := row["EVENT_ID"].(string)
			r, err := strconv.Atoi(strings.TrimPrefix(id, "ev-"))
			if err != nil {
				t.Fatalf("unexpected event %q", id)
			}
			seen++
			for c := len(known); c < columns; c++ {
				col := schema.DeriveID(header[c])
				if want := fmt.Sprintf("r%dc%d", r, c); row[col] != want {
					t.Fatalf("%s.%s = %#v, want %q", id, col, row[col], want)
				}
			}
		}
	}
	if seen != rows {
		t.Errorf("%d rows archived, want %d", seen, rows)
	}
	verifyArchive(t, e.dest)
	// Today 155-187 MiB for 8 MB of values: about 150 KiB per column
	// (Parquet column writers, their dictionaries and page buffers, and the
	// batches' per-column slices), so the heap grows with the number of
	// columns, not rows.
	if limit := uint64(256 << 20); e.heap.added() > limit {
		t.Errorf("%d columns added %.1f MiB to the heap, want at most %.0f MiB", columns, mib(e.heap.added()), mib(limit))
	}
}

// logRecorder keeps the messages and attributes a run logs.
type logRecorder struct {
	mu      sync.Mutex
	records []map[string]any
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	m := map[string]any{"msg": r.Message}
	r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.Any(); return true })
	l.mu.Lock()
	l.records = append(l.records, m)
	l.mu.Unlock()
	return nil
}

func (l *logRecorder) find(msg string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, r := range l.records {
		if r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// columnStrings reads one string column of every Parquet file in b, with
// parquet-go, page by page (not row maps: a big day would not fit).
func columnStrings(t *testing.T, b *sinks.Bucket, column string) []string {
	t.Helper()
	var out []string
	eachParquet(t, b, func(key string, data []byte) error {
		f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		leaf, ok := f.Schema().Lookup(column)
		if !ok {
			return fmt.Errorf("%s: no column %s", key, column)
		}
		buf := make([]parquet.Value, 1024)
		for _, rg := range f.RowGroups() {
			pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
			for {
				p, err := pages.ReadPage()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					pages.Close()
					return fmt.Errorf("%s: %w", key, err)
				}
				vr := p.Values()
				for {
					n, err := vr.ReadValues(buf)
					for _, v := range buf[:n] {
						if v.IsNull() {
							out = append(out, "")
						} else {
							out = append(out, string(v.ByteArray()))
						}
					}
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						pages.Close()
						return fmt.Errorf("%s: %w", key, err)
					}
				}
				parquet.Release(p)
			}
			pages.Close()
		}
		return nil
	})
	return out
}

// One day holding many events, from two overlapping exports with
// duplicates inside each, as Sigma delivers them. The day has more rows
// than the dedup's key budget (maxSetKeys), so it is split into key
// buckets; every event is still written exactly once, and the heap the
// export adds stays bounded. (A real day of 10M events splits the same way
// at the default budget; this one is scaled down for CI.)
func TestExportBigDaySplitIntoBuckets(t *testing.T) {
	const budget = 8192
	const events = 120_000 // distinct events of the day
	smallKeyBudget(t, budget)
	row := func(b *strings.Builder, i int) {
		fmt.Fprintf(b, "2026-11-24 %02d:%02d:%02d.%03d,ev-%07d,ACCESS_SIGMA,Login,u%d@example.com\n",
			i/5000%24, i/83%60, i%60, i%1000, i, i%977)
	}
	var a, c strings.Builder
	const header = "Timestamp,Event Id,Event Category,Event Type,User Email\n"
	a.WriteString(header)
	c.WriteString(header)
	dupA, dupC := 0, 0
	for i := range 2 * events / 3 { // the first export: events 0 .. 2/3
		row(&a, i)
		if i%50 == 0 {
			row(&a, i) // at-least-once: delivered twice
			dupA++
		}
	}
	for i := events / 3; i < events; i++ { // the second overlaps the first by a third
		row(&c, i)
		if i%70 == 0 {
			row(&c, i)
			dupC++
		}
	}
	overlap := 2*events/3 - events/3
	dir := writeLanding(t, map[string][]byte{
		"2026-11-25T06-00-00Z_audit_logs.csv": []byte(a.String()),
		"2026-11-26T06-00-00Z_audit_logs.csv": []byte(c.String()),
	})
	a.Reset()
	c.Reset()

	logs := &logRecorder{}
	e := exportLocal(t, dir, func(o *Options) { o.Logger = slog.New(logs) })
	t.Logf("%d events in one day: %v", events, e.heap)
	s := e.sum
	read := int64(2*events/3 + dupA + (events - events/3) + dupC)
	if s.RowsRead != read || s.RowsWritten != events || s.RowsDuplicate != int64(dupA+dupC+overlap) || len(s.Partitions) != 1 {
		t.Fatalf("read %d written %d duplicate %d, %d partitions; want %d %d %d, 1 partition",
			s.RowsRead, s.RowsWritten, s.RowsDuplicate, len(s.Partitions), read, events, dupA+dupC+overlap)
	}
	split := logs.find("partition split for dedup")
	if len(split) != 1 {
		t.Fatalf("%d 'partition split for dedup' log lines, want 1 (the day has %d rows, the key budget is %d)", len(split), read, budget)
	}
	if n, _ := split[0]["buckets"].(int64); n < read/budget {
		t.Errorf("the day was split into %v buckets, want at least %d", split[0]["buckets"], read/budget)
	}
	ids := columnStrings(t, e.dest, "EVENT_ID")
	if len(ids) != events {
		t.Fatalf("%d rows archived, want %d", len(ids), events)
	}
	slices.Sort(ids)
	for i, id := range ids {
		if want := fmt.Sprintf("ev-%07d", i); id != want {
			t.Fatalf("archived event %d is %q, want %q (each event exactly once)", i, id, want)
		}
	}
	verifyArchive(t, e.dest)
	// Today 57 MiB (83 MiB at GOGC 100).
	if limit := uint64(96 << 20); e.heap.added() > limit {
		t.Errorf("a day of %d events added %.1f MiB to the heap, want at most %.0f MiB", events, mib(e.heap.added()), mib(limit))
	}
}
