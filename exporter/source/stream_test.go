package source_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/auditexport/auditexport/exporter/source"
)

func TestFormatOf(t *testing.T) {
	cases := map[string]string{
		"a.csv": "csv", "A.CSV.GZ": "csv", "x/2026-11-25_audit.csv.gzip": "csv",
		"a.jsonl": "jsonl", "a.ndjson.gz": "jsonl", "README.md": "", "_SUCCESS": "", "a.csv.bak": "",
	}
	for name, want := range cases {
		f, ok := source.FormatOf(name)
		if string(f) != want || ok != (want != "") {
			t.Errorf("FormatOf(%q) = %q, %v; want %q", name, f, ok, want)
		}
	}
}

func readAll(t *testing.T, rd source.Reader) (recs []source.Record, rowErrs []*source.RowError, err error) {
	t.Helper()
	for {
		rec, err := rd.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return recs, rowErrs, nil
		}
		var re *source.RowError
		if errors.As(err, &re) {
			rowErrs = append(rowErrs, re)
			continue
		}
		if err != nil {
			return recs, rowErrs, err
		}
		rec.Fields = slices.Clone(rec.Fields) // valid only until the next call
		recs = append(recs, rec)
	}
}

func TestCSVReader(t *testing.T) {
	in := "\xef\xbb\xbfTimestamp,Object Name\r\n" +
		"2026-11-24 10:00:00,\"a, b\"\r\n" +
		"2026-11-24 10:00:01,\"multi\nline \"\"quoted\"\"\"\r\n" +
		"2026-11-24 10:00:02\r\n" +
		"2026-11-24 10:00:03,ok\r\n"
	rd, format, err := source.OpenStream(io.NopCloser(strings.NewReader(in)), "x.csv")
	if err != nil || format != source.FormatCSV {
		t.Fatalf("open: %v %s", err, format)
	}
	recs, rowErrs, err := readAll(t, rd)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || len(rowErrs) != 1 {
		t.Fatalf("%d records, %d row errors; want 3 and 1", len(recs), len(rowErrs))
	}
	if h := recs[0].Header.Names; h[0] != "Timestamp" {
		t.Errorf("BOM not stripped: header %q", h)
	}
	if recs[0].Header != recs[2].Header {
		t.Error("records of one file do not share one *Header")
	}
	if recs[1].Fields[1] != "multi\nline \"quoted\"" || recs[1].Line != 3 || recs[2].Line != 6 {
		t.Errorf("record 2 = %q line %d; record 3 line %d", recs[1].Fields, recs[1].Line, recs[2].Line)
	}
	if rowErrs[0].Line != 5 || !strings.Contains(rowErrs[0].Reason, "1 fields") {
		t.Errorf("row error = %+v", rowErrs[0])
	}
}

func TestJSONLReader(t *testing.T) {
	in := `{"b":1,"a":"x","c":{"k": [1, 2]}}` + "\n\n" + `{"a":"y","b":null,"c":true}` + "\n" + `[1]` + "\n" + `{"b":2.5,"a":"z"}`
	rd, format, err := source.OpenStream(io.NopCloser(strings.NewReader(in)), "stdin")
	if err != nil || format != source.FormatJSONL {
		t.Fatalf("open: %v %s", err, format)
	}
	recs, rowErrs, err := readAll(t, rd)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || len(rowErrs) != 1 || rowErrs[0].Line != 4 {
		t.Fatalf("%d records, row errors %+v", len(recs), rowErrs)
	}
	if got := strings.Join(recs[0].Fields, "|"); got != `x|1|{"k":[1,2]}` {
		t.Errorf("record 1 = %s", got)
	}
	if got := strings.Join(recs[1].Fields, "|"); got != "y||true" {
		t.Errorf("record 2 = %s", got)
	}
	if recs[0].Header != recs[1].Header || recs[0].Header == recs[2].Header {
		t.Error("headers are not shared by key set")
	}
}

func TestGzipErrors(t *testing.T) {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write([]byte(strings.Repeat("Timestamp,Event Id\n2026-11-24 10:00:00,e\n", 2000)))
	zw.Close()
	full := z.Bytes()
	for name, data := range map[string][]byte{"truncated.csv.gz": full[:len(full)/2], "corrupt.csv.gz": append(append([]byte{}, full[:len(full)-8]...), 0, 0, 0, 0, 1, 2, 3, 4)} {
		rd, _, err := source.OpenStream(io.NopCloser(bytes.NewReader(data)), name)
		if err == nil {
			_, _, err = readAll(t, rd)
		}
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want a fatal error naming the file", name, err)
		}
	}
}

// Prefetch returns exactly what the reader returns, in order: records,
// row errors (after which reading goes on), then a sticky end.
func TestPrefetchMatchesReader(t *testing.T) {
	var b strings.Builder
	b.WriteString("Timestamp,Event Id\n")
	for i := 0; i < 1000; i++ {
		if i%97 == 5 {
			b.WriteString("2026-11-24 10:00:00\n") // ragged: a row error
			continue
		}
		b.WriteString("2026-11-24 10:00:00,e" + strconv.Itoa(i) + "\n")
	}
	type item struct {
		fields string
		line   int64
		err    string
	}
	collect := func(rd source.Reader) []item {
		var out []item
		for {
			rec, err := rd.Next(context.Background())
			if errors.Is(err, io.EOF) {
				if _, err2 := rd.Next(context.Background()); !errors.Is(err2, io.EOF) {
					t.Errorf("Next after EOF = %v, want EOF", err2)
				}
				return out
			}
			if err != nil {
				out = append(out, item{err: err.Error()})
				continue
			}
			out = append(out, item{fields: strings.Join(rec.Fields, "|"), line: rec.Line})
		}
	}
	direct, _, err := source.OpenStream(io.NopCloser(strings.NewReader(b.String())), "a.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := collect(direct)
	inner, _, err := source.OpenStream(io.NopCloser(strings.NewReader(b.String())), "a.csv")
	if err != nil {
		t.Fatal(err)
	}
	pre := source.Prefetch(context.Background(), inner)
	got := collect(pre)
	if err := pre.Close(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(want) < 1000 {
		t.Fatalf("prefetch returned %d items, the reader %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("item %d: prefetch %+v, reader %+v", i, got[i], want[i])
		}
	}
	// A fatal error ends the stream and sticks.
	data := gzipBytes(t, b.String())
	bad, _, err := source.OpenStream(io.NopCloser(bytes.NewReader(data[:len(data)/2])), "t.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	pre = source.Prefetch(context.Background(), bad)
	defer pre.Close()
	var fatal error
	for {
		_, err := pre.Next(context.Background())
		var re *source.RowError
		if err != nil && !errors.As(err, &re) {
			fatal = err
			break
		}
	}
	if errors.Is(fatal, io.EOF) || !strings.Contains(fatal.Error(), "t.csv.gz") {
		t.Fatalf("fatal error = %v, want the truncated gzip named", fatal)
	}
	if _, err := pre.Next(context.Background()); err == nil || err.Error() != fatal.Error() {
		t.Errorf("Next after a fatal error = %v, want it again", err)
	}
}

func gzipBytes(t *testing.T, s string) []byte {
	t.Helper()
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return z.Bytes()
}
