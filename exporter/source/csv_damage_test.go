package source_test

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/auditexport/auditexport/exporter/source"
)

const damageHeader = "Timestamp,Event Id,Event Category,Event Type,User Email,Object Name"

// damageRow is row i of a small export, without its line end.
func damageRow(i int, objectName string) string {
	return fmt.Sprintf("2026-11-24 10:%02d:%02d,ev-%d,OBJECT_INTERACTION,View Workbook,a@example.com,%s", i/60%60, i%60, i, objectName)
}

// damageCSV joins the header and rows with eol after each line.
func damageCSV(eol string, rows ...string) string {
	return damageHeader + eol + strings.Join(rows, eol) + eol
}

func openExport(t *testing.T, name, data string) source.Reader {
	t.Helper()
	if strings.HasSuffix(name, ".gz") {
		data = string(gzipBytes(t, data))
	}
	rd, _, err := source.OpenStream(io.NopCloser(strings.NewReader(data)), name)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	t.Cleanup(func() { rd.Close() })
	return rd
}

// A quote opening a field runs on over the lines after it; the row error
// counts every line the record took in.
func TestCSVStrayQuoteLines(t *testing.T) {
	rows := func(n int, at map[int]string) []string {
		var out []string
		for i := range n {
			name, ok := at[i]
			if !ok {
				name = fmt.Sprintf("Board %d", i)
			}
			out = append(out, damageRow(i, name))
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		data      string
		line      int64 // where the row error starts
		lines     int64 // how many lines it took in
		reason    string
		wantAfter int // records read after the row error
	}{
		// Never closed: the rest of the file is one record.
		{"open to the end", damageCSV("\n", rows(40, map[int]string{9: `"Board`})...), 11, 31, "31 lines", 0},
		{"open to the end, gzip", damageCSV("\n", rows(40, map[int]string{9: `"Board`})...), 11, 31, "31 lines", 0},
		{"open to the end, crlf", damageCSV("\r\n", rows(40, map[int]string{9: `"Board`})...), 11, 31, "31 lines", 0},
		// Ended by the next quote that does not close a field.
		{"ended by a quoted field", damageCSV("\n", rows(40, map[int]string{9: `"Board`, 19: `"Revenue, by region"`})...), 11, 11, "11 lines", 20},
		// Closed by a quote before a comma: one record with too many fields.
		{"closed later", damageCSV("\n", rows(40, map[int]string{9: `"Board`, 14: `Board",x`})...), 11, 6, "6 lines", 25},
		// A CR-only stretch inside an LF file: its three rows read as one
		// record with too many fields, and count as three.
		{"cr-only stretch", damageCSV("\n", slices.Concat(rows(40, nil)[:9], []string{strings.Join(rows(40, nil)[9:12], "\r")}, rows(40, nil)[12:])...), 11, 3, "3 lines", 28},
		// A bad record on one line counts once.
		{"one line", damageCSV("\n", rows(40, map[int]string{9: `Board "x"`})...), 11, 1, "malformed CSV", 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "x.csv"
			if strings.HasSuffix(tc.name, "gzip") {
				name = "x.csv.gz"
			}
			recs, rowErrs, err := readAll(t, openExport(t, name, tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if len(rowErrs) != 1 {
				t.Fatalf("row errors = %v, want one", rowErrs)
			}
			re := rowErrs[0]
			if re.Line != tc.line || re.Lines != tc.lines || re.Rows() != tc.lines || !strings.Contains(re.Reason, tc.reason) {
				t.Errorf("row error: line %d, lines %d, rows %d, reason %q; want line %d, %d lines, reason containing %q",
					re.Line, re.Lines, re.Rows(), re.Reason, tc.line, tc.lines, tc.reason)
			}
			if got, want := int64(len(recs))+re.Rows(), int64(40); got != want {
				t.Errorf("%d records + %d rows in the row error = %d, want every line of the file (%d)", len(recs), re.Rows(), got, want)
			}
			if after := len(recs) - 9; after != tc.wantAfter {
				t.Errorf("%d records after the row error, want %d", after, tc.wantAfter)
			}
		})
	}
}

// Old Mac exports end every line in a bare CR. They read like LF files:
// same records, same line numbers, a CR inside quotes is a line break.
func TestCSVCROnlyLineEnds(t *testing.T) {
	rows := make([]string, 1000)
	for i := range rows {
		name := fmt.Sprintf("Board %d", i)
		switch i % 100 {
		case 3:
			name = `"Revenue, by region ""Q4"""`
		case 7:
			name = "\"two\rlines\""
		}
		rows[i] = damageRow(i, name)
	}
	lf := strings.ReplaceAll(damageCSV("\r", rows...), "\r", "\n")
	want, wantErrs, err := readAll(t, openExport(t, "lf.csv", lf))
	if err != nil || len(wantErrs) != 0 || len(want) != len(rows) {
		t.Fatalf("the LF file reads as %d records, %v, %v; want %d records", len(want), wantErrs, err, len(rows))
	}
	for _, tc := range []struct{ name, data string }{
		{"cr.csv", damageCSV("\r", rows...)},
		{"cr.csv.gz", damageCSV("\r", rows...)},
		{"bom.csv", "\xef\xbb\xbf" + damageCSV("\r", rows...)},
		// A CR LF pair in a CR file is one line end.
		{"mixed.csv", damageHeader + "\r" + strings.Replace(strings.Join(rows, "\r")+"\r", "\r", "\r\n", 5)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rd := openExport(t, tc.name, tc.data)
			if got := strings.Join(rd.(interface{ Header() *source.Header }).Header().Names, "|"); got != strings.ReplaceAll(damageHeader, ",", "|") {
				t.Fatalf("header = %q", got)
			}
			got, rowErrs, err := readAll(t, rd)
			if err != nil || len(rowErrs) != 0 {
				t.Fatalf("read: %v, row errors %v", err, rowErrs)
			}
			if len(got) != len(want) {
				t.Fatalf("%d records, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i].Line != want[i].Line || strings.Join(got[i].Fields, "|") != strings.Join(want[i].Fields, "|") {
					t.Fatalf("record %d = line %d %q, want line %d %q", i, got[i].Line, got[i].Fields, want[i].Line, want[i].Fields)
				}
			}
			if v := got[7].Fields[5]; v != "two\nlines" {
				t.Errorf("quoted line break = %q, want %q", v, "two\nlines")
			}
		})
	}
}

// LF and CRLF files are read as they always were: a CR inside a quoted
// field, or inside an unquoted one, is kept.
func TestCSVCRInsideFieldKept(t *testing.T) {
	for _, eol := range []string{"\n", "\r\n"} {
		data := "Timestamp,\"Object\rName\"" + eol +
			"2026-11-24 10:00:00,\"a\rb\"" + eol +
			"2026-11-24 10:00:01,\"c\r\nd\"" + eol +
			"2026-11-24 10:00:02,e\rf" + eol +
			"2026-11-24 10:00:03,\"\r\"" + eol
		rd := openExport(t, "x.csv", data)
		if got := rd.(interface{ Header() *source.Header }).Header().Names; len(got) != 2 || got[1] != "Object\rName" {
			t.Errorf("eol %q: header = %q", eol, got)
		}
		recs, rowErrs, err := readAll(t, rd)
		if err != nil || len(rowErrs) != 0 {
			t.Fatalf("eol %q: %v, row errors %v", eol, err, rowErrs)
		}
		var got []string
		for _, r := range recs {
			got = append(got, fmt.Sprintf("%d:%q", r.Line, r.Fields[1]))
		}
		want := `2:"a\rb" 3:"c\nd" 5:"e\rf" 6:"\r"`
		if strings.Join(got, " ") != want {
			t.Errorf("eol %q: records %s, want %s", eol, strings.Join(got, " "), want)
		}
	}
}

// A file with data past its header line that yields no record at all
// fails loudly instead of reading as an empty export.
func TestCSVNoRowsPastHeader(t *testing.T) {
	// A header line longer than the reader looks ahead for a CR.
	wide := make([]string, 40000)
	for i := range wide {
		wide[i] = fmt.Sprintf("Column %d", i)
	}
	longCR := strings.Join(wide, ",") + "\r" + strings.Repeat(strings.Repeat(",", len(wide)-1)+"\r", 3)
	for _, tc := range []struct {
		name, data string
		fail       bool
	}{
		{"long-cr-header.csv", longCR, true},
		{"long-cr-header.csv.gz", longCR, true},
		{"quote-in-header.csv", "Timestamp,\"Event Id\n2026-11-24 10:00:00,ev-1\n2026-11-24 10:00:01,ev-2\"\n", true},
		{"header-only.csv", damageHeader + "\n", false},
		{"header-blank-lines.csv", damageHeader + "\n\n\r\n\n", false},
		{"header-only-cr.csv", damageHeader + "\r\r\r", false},
		{"header-no-eol.csv", damageHeader, false},
		{"empty.csv", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, rowErrs, err := readAll(t, openExport(t, tc.name, tc.data))
			if len(recs) != 0 || len(rowErrs) != 0 {
				t.Fatalf("%d records, row errors %v; want none", len(recs), rowErrs)
			}
			if !tc.fail {
				if err != nil {
					t.Fatalf("read: %v, want an empty export", err)
				}
				return
			}
			var re *source.RowError
			if err == nil || errors.As(err, &re) || !strings.Contains(err.Error(), tc.name) || !strings.Contains(err.Error(), "data past its header") {
				t.Fatalf("read: %v, want an error naming the file and its data past the header", err)
			}
		})
	}
}

// JSON Lines has no quoting that runs across lines, but a file with old Mac
// line ends reads as one long line: its row error counts every line in it.
func TestJSONLCROnlyLinesCounted(t *testing.T) {
	var lines []string
	for i := range 5 {
		lines = append(lines, fmt.Sprintf(`{"Timestamp":"2026-11-24 10:00:0%d","Event Id":"ev-%d"}`, i, i))
	}
	recs, rowErrs, err := readAll(t, openExport(t, "x.jsonl", strings.Join(lines, "\r")+"\r"))
	if err != nil || len(recs) != 0 || len(rowErrs) != 1 {
		t.Fatalf("%d records, row errors %v, err %v; want one row error", len(recs), rowErrs, err)
	}
	if re := rowErrs[0]; re.Line != 1 || re.Rows() != 5 || !strings.Contains(re.Reason, "5 lines") {
		t.Errorf("row error: line %d, %d rows, reason %q; want line 1, 5 rows", re.Line, re.Rows(), re.Reason)
	}
	recs, rowErrs, err = readAll(t, openExport(t, "y.jsonl", strings.Join(lines, "\r\n")+"\r\n"))
	if err != nil || len(recs) != 5 || len(rowErrs) != 0 {
		t.Errorf("CRLF file: %d records, row errors %v, err %v; want 5 records", len(recs), rowErrs, err)
	}
}
