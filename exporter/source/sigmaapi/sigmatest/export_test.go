package sigmatest

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// eventIDs parses a CSV file and returns its header and the "Event Id" column.
func eventIDs(t *testing.T, file []byte) []string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(string(file))).ReadAll()
	if err != nil {
		t.Fatalf("CSV file: %v\n%s", err, file)
	}
	if len(recs) == 0 || !slices.Equal(recs[0], testHeader) {
		t.Fatalf("CSV header = %v, want %v", recs, testHeader)
	}
	ids := []string{}
	for _, r := range recs[1:] {
		ids = append(ids, r[1])
	}
	return ids
}

func TestExportErrors(t *testing.T) {
	s := start(t, nil, nil)
	tok := token(t, s).AccessToken
	withParams := func(p map[string]string) map[string]any {
		b := body("csv", "")
		b["parameters"] = p
		return b
	}
	with := func(k string, v any) map[string]any {
		b := body("csv", "")
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	tests := []struct {
		name     string
		workbook string
		body     any
		status   int
		mention  string // the message must contain it
	}{
		{"unknown workbook", "wb-other", body("csv", ""), http.StatusNotFound, "wb-other"},
		{"unknown element", testWorkbook, with("elementId", "el-other"), http.StatusNotFound, "el-other"},
		{"no element", testWorkbook, with("elementId", nil), http.StatusBadRequest, "elementId"},
		{"no format", testWorkbook, with("format", nil), http.StatusBadRequest, "format"},
		{"xlsx", testWorkbook, body("xlsx", ""), http.StatusBadRequest, "xlsx"},
		{"unknown control", testWorkbook, withParams(map[string]string{"Date-Filter": "min:2026-11-01,max:2026-11-02"}), http.StatusBadRequest, "Date-Filter"},
		{"date with time", testWorkbook, body("csv", "min:2026-11-01T00:00:00,max:2026-11-02"), http.StatusBadRequest, "2026-11-01T00:00:00"},
		{"no prefix", testWorkbook, body("csv", "2026-11-01,2026-11-02"), http.StatusBadRequest, testControl},
		{"month 13", testWorkbook, body("csv", "min:2026-13-01"), http.StatusBadRequest, "2026-13-01"},
		{"min after max", testWorkbook, body("csv", "min:2026-11-03,max:2026-11-02"), http.StatusBadRequest, "min is after max"},
		{"twice min", testWorkbook, body("csv", "min:2026-11-01,min:2026-11-02"), http.StatusBadRequest, testControl},
		{"empty value", testWorkbook, withParams(map[string]string{testControl: ""}), http.StatusBadRequest, testControl},
		{"negative rowLimit", testWorkbook, with("rowLimit", -1), http.StatusBadRequest, "rowLimit"},
		{"negative offset", testWorkbook, with("offset", -5), http.StatusBadRequest, "offset"},
		{"rowLimit as text", testWorkbook, with("rowLimit", "10"), http.StatusBadRequest, "rowLimit"},
		{"misspelt field", testWorkbook, with("row_limit", 10), http.StatusBadRequest, "row_limit"},
		{"wrong case", testWorkbook, with("RowLimit", 10), http.StatusBadRequest, "RowLimit"},
		{"not JSON", testWorkbook, "elementId=el-1", http.StatusBadRequest, "JSON"},
	}
	ids := map[string]bool{}
	for _, tt := range tests {
		r := exportRaw(t, s, tok, tt.workbook, tt.body)
		if r.status != tt.status {
			t.Errorf("%s: status %d, want %d; body %s", tt.name, r.status, tt.status, r.body)
			continue
		}
		e := r.errorBody(t)
		if !strings.Contains(e.Message, tt.mention) {
			t.Errorf("%s: message %q does not mention %q", tt.name, e.Message, tt.mention)
		}
		if ids[e.RequestID] {
			t.Errorf("%s: requestId %q was already used", tt.name, e.RequestID)
		}
		ids[e.RequestID] = true
	}
	if st := s.Stats(); st.Exports != 0 || st.Status4xx != len(tests) {
		t.Errorf("Stats() = %+v, want Exports 0 and Status4xx %d", st, len(tests))
	}
}

func TestExportsRecordsRequests(t *testing.T) {
	s := start(t, nil, nil)
	tok := token(t, s).AccessToken
	b := body("jsonl", "min:2026-11-24,max:2026-11-25")
	b["rowLimit"], b["offset"] = 500, 1000
	export(t, s, tok, b)
	exportRaw(t, s, tok, "wb-other", body("csv", ""))
	want := []ExportRequest{
		{WorkbookID: testWorkbook, ElementID: testElement, Format: "jsonl",
			Parameters: map[string]string{testControl: "min:2026-11-24,max:2026-11-25"},
			RowLimit:   500, Offset: 1000, RunAsynchronously: true},
		{WorkbookID: "wb-other", ElementID: testElement, Format: "csv", RunAsynchronously: true},
	}
	got := s.Exports()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Exports() = %+v\nwant %+v", got, want)
	}
	got[0].Parameters[testControl] = "changed"
	if s.Exports()[0].Parameters[testControl] == "changed" {
		t.Error("Exports() returns the server's own map: a caller's change shows in the next call")
	}
}

// zoneRows are rows around a day boundary, for a server whose control compares dates in New York.
var zoneRows = [][]string{
	{"2026-11-17 04:59:59.999999", "a", "x@example.com", "Nov 16 in New York"},
	{"2026-11-17 05:00:00", "b", "", "Nov 17 in New York"},
	{"2026-11-18T04:59:59Z", "c", "", "Nov 17 in New York"},
	{"", "d", "", "no time"},
	{"2026-11-18T09:00:00+09:00", "e", "", "Nov 17 in New York (00:00 UTC)"},
	{"not a time", "f", "", "unreadable"},
	{"2026-11-18 05:00:00", "g", "", "Nov 18 in New York"},
	{"2026-11-15 12:00:00", "h", "", "Nov 15, after the rows above in element order"},
}

func TestDateRangeFilter(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatalf("time zone database: %v", err)
	}
	s := start(t, zoneRows, func(o *Options) { o.Zone = ny })
	tok := token(t, s).AccessToken
	tests := []struct {
		dates string
		want  []string
	}{
		{"min:2026-11-17,max:2026-11-17", []string{"b", "c", "e"}},
		{"min:2026-11-16,max:2026-11-17", []string{"a", "b", "c", "e"}},
		{"min:2026-11-17", []string{"b", "c", "e", "g"}},
		{"max:2026-11-16", []string{"a", "h"}},
		{"min:2026-11-19,max:2026-11-30", []string{}},
		{"", []string{"a", "b", "c", "d", "e", "f", "g", "h"}}, // no control value: every row
	}
	for _, tt := range tests {
		got := eventIDs(t, fetch(t, s, tok, export(t, s, tok, body("csv", tt.dates))))
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q: rows %v, want %v", tt.dates, got, tt.want)
		}
	}
}

// numbered returns n rows on 2026-11-17 whose event IDs are their positions.
func numbered(n int) [][]string {
	rows := make([][]string, n)
	for i := range rows {
		rows[i] = []string{fmt.Sprintf("2026-11-17 00:00:%02d", i%60), fmt.Sprint(i), "", ""}
	}
	return rows
}

func span(from, to int) []string {
	out := []string{}
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprint(i))
	}
	return out
}

func TestRowCapAndOffset(t *testing.T) {
	s := start(t, numbered(12), func(o *Options) { o.MaxRows = 5 })
	tok := token(t, s).AccessToken
	tests := []struct {
		name             string
		rowLimit, offset int
		want             []string
	}{
		{"default limit is the cap", 0, 0, span(0, 5)},
		{"limit above the cap", 100, 0, span(0, 5)},
		{"limit under the cap", 3, 4, span(4, 7)},
		{"capped chunk", 0, 5, span(5, 10)},
		{"short last chunk", 0, 10, span(10, 12)},
		{"offset past the end", 0, 20, []string{}},
	}
	for _, tt := range tests {
		b := body("csv", "min:2026-11-17,max:2026-11-17")
		if tt.rowLimit != 0 {
			b["rowLimit"] = tt.rowLimit
		}
		if tt.offset != 0 {
			b["offset"] = tt.offset
		}
		got := eventIDs(t, fetch(t, s, tok, export(t, s, tok, b)))
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: rows %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestExportSnapshotsRows(t *testing.T) {
	s := start(t, numbered(3), nil)
	tok := token(t, s).AccessToken
	before := export(t, s, tok, body("csv", "min:2026-11-17,max:2026-11-17"))
	// A late row arrives first in the element's order, shifting offsets.
	s.SetRows(append([][]string{{"2026-11-17 23:59:59", "late", "", ""}}, numbered(3)...))
	after := export(t, s, tok, body("csv", "min:2026-11-17,max:2026-11-17"))
	if got, want := eventIDs(t, fetch(t, s, tok, before)), span(0, 3); !slices.Equal(got, want) {
		t.Errorf("export made before SetRows: rows %v, want %v", got, want)
	}
	if got, want := eventIDs(t, fetch(t, s, tok, after)), append([]string{"late"}, span(0, 3)...); !slices.Equal(got, want) {
		t.Errorf("export made after SetRows: rows %v, want %v", got, want)
	}
}

func TestOptionsThatContradictPanic(t *testing.T) {
	for name, o := range map[string]Options{
		"time column not in header": {Header: []string{"a", "b"}, TimeColumn: "c"},
		"short row":                 {Header: []string{"a", "b"}, TimeColumn: "a", Rows: [][]string{{"x"}}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: New did not panic", name)
				}
			}()
			New(o).Close()
		}()
	}
}
