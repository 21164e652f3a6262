package source

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// Allocation guards for decoding, the first step of every row read. They
// count mallocs, never time. Each bound is today's value: a failure means
// a change added work to every record.

const allocsHeaderLine = "Timestamp,Event Id,Event Category,Event Type,User Email,Object Name,Rows Scanned,Query Text\n"

// allocsRecord needs quoting: a comma, doubled quotes and a newline.
const allocsRecord = "2026-11-24 10:00:00.123,ev-1,QUERY_EXECUTIONS,Run Query,a@example.com,\"Revenue, by region\",42,\"select \"\"x\"\"\nfrom t\"\n"

// endless is a CSV export that never ends: a header, then one record
// forever.
type endless struct {
	head, rec string
	off       int
	inRec     bool
}

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		src := e.head
		if e.inRec {
			src = e.rec
		}
		c := copy(p[n:], src[e.off:])
		n += c
		e.off += c
		if e.off == len(src) {
			e.off, e.inRec = 0, true
		}
	}
	return n, nil
}

// CSVReader.Next costs one allocation per record: encoding/csv's single
// string holding the record's fields. The reader's own Fields slice is
// reused, so the fields add nothing.
func TestCSVNextAllocs(t *testing.T) {
	ctx := context.Background()
	for _, rec := range []string{allocsRecord, "2026-11-24 10:00:00,ev-2,,,,,,\n", strings.Repeat("x", 4000) + ",,,,,,,\n"} {
		c, err := NewCSVReader(io.NopCloser(&endless{head: allocsHeaderLine, rec: rec}), "endless.csv")
		if err != nil {
			t.Fatal(err)
		}
		for range 100 { // grow the reused buffers
			if _, err := c.Next(ctx); err != nil {
				t.Fatal(err)
			}
		}
		got := testing.AllocsPerRun(10000, func() {
			if _, err := c.Next(ctx); err != nil {
				t.Fatal(err)
			}
		})
		if got > 1 {
			t.Errorf("CSVReader.Next on a %d-byte record: %v allocs per record, want at most 1 (the record's string in encoding/csv)", len(rec), got)
		}
	}
}

// JSONLReader.Next decodes each line into a map of raw messages and renders
// every value; today that is 43 allocations for this 6-key line (a guard,
// not a target: the JSON Lines path is not Sigma's export format).
func TestJSONLNextAllocs(t *testing.T) {
	ctx := context.Background()
	line := `{"Timestamp":"2026-11-24 10:00:00.123","Event Id":"ev-1","Event Category":"QUERY_EXECUTIONS","Rows Scanned":42,"Recipients":["a@example.com"],"Empty":null}` + "\n"
	j, err := NewJSONLReader(io.NopCloser(&endless{rec: line, inRec: true}), "endless.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if _, err := j.Next(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got := testing.AllocsPerRun(10000, func() {
		if _, err := j.Next(ctx); err != nil {
			t.Fatal(err)
		}
	})
	if want := 43.0; got > want {
		t.Errorf("JSONLReader.Next: %v allocs per record, want at most %v", got, want)
	}
}

// readAll opens data as an export named name, reads it to the end through
// Prefetch, as the exporter does, and returns the records read.
func readAll(t *testing.T, name string, data []byte) int {
	t.Helper()
	ctx := context.Background()
	rd, _, err := OpenStream(io.NopCloser(bytes.NewReader(data)), name)
	if err != nil {
		t.Fatal(err)
	}
	rd = Prefetch(ctx, rd)
	defer rd.Close()
	n := 0
	for {
		_, err := rd.Next(ctx)
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

func allocsExport(t *testing.T, n int, gzipped bool) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(allocsHeaderLine)
	for i := range n {
		b.WriteString(strings.Replace(allocsRecord, "ev-1", "ev-"+strconv.Itoa(i), 1))
	}
	if !gzipped {
		return b.Bytes()
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	if _, err := zw.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return z.Bytes()
}

// The decode path as the exporter runs it: OpenStream (gzip detected from
// the content) and Prefetch, which decodes on its own goroutine, read to
// the end. The marginal cost per record, between two sizes (so opening,
// buffers and the goroutine cancel out), is today 1.00 with or without
// gzip: the record's string. Prefetch's batches and gunzip add nothing per
// record.
func TestPrefetchAllocsPerRecord(t *testing.T) {
	const small, large = 20_000, 80_000
	for _, gz := range []bool{false, true} {
		name := "2026-11-25T06-00-00Z_audit_logs.csv"
		if gz {
			name += ".gz"
		}
		data := map[int][]byte{small: allocsExport(t, small, gz), large: allocsExport(t, large, gz)}
		read := func(n int) {
			if got := readAll(t, name, data[n]); got != n {
				t.Fatalf("%s: read %d records, want %d", name, got, n)
			}
		}
		a := testing.AllocsPerRun(1, func() { read(small) })
		b := testing.AllocsPerRun(1, func() { read(large) })
		got := (b - a) / (large - small)
		t.Logf("%s through Prefetch: %.4f allocs per record", name, got)
		if want := 1.01; got > want {
			t.Errorf("%s through Prefetch: %.4f allocs per record, want at most %v (the record's string in encoding/csv)", name, got, want)
		}
	}
}
