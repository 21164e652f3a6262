package sourcetest

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter/source"
)

// TimeColumn is the name of the first column of every header the suite loads: the event time.
const TimeColumn = "TIMESTAMP"

// Harness adapts one source implementation to the suite.
type Harness struct {
	// Name labels the implementation in test names.
	Name string
	// Load materializes rows into a fresh source and returns it; the harness registers its own cleanup with
	// t. header[0] is TimeColumn. Every value is text and "" is NULL (or empty); TIMESTAMP values are RFC 3339
	// times in UTC (or ""). Every column is text, except that a source may store TIMESTAMP as a time.
	Load func(t *testing.T, header []string, rows [][]string) source.Source
}

// Run runs the suite as subtests of t.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Load == nil {
		t.Fatal("sourcetest.Harness.Load is nil")
	}
	tests := []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"Describe", testDescribe},
		{"AllRowsExactlyOnce", testAllRows},
		{"BoundedWindows", testBoundedWindows},
		{"EmptyValues", testEmptyValues},
		{"SpecialCharacters", testSpecialCharacters},
		{"EmptySource", testEmptySource},
		{"ManyRows", testManyRows},
		{"EOFIsSticky", testEOFIsSticky},
	}
	for _, tt := range tests {
		t.Run(h.Name+"/"+tt.name, func(t *testing.T) { tt.fn(t, h) })
	}
}

var baseHeader = []string{TimeColumn, "EVENT_ID", "EVENT_CATEGORY", "EVENT_TYPE", "User Email", "OBJECT_NAME"}

// day0 is the first day of the suite's data.
var day0 = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

func ts(day int, clock string) string {
	d, err := time.ParseDuration(clock)
	if err != nil {
		panic(err)
	}
	return day0.AddDate(0, 0, day).Add(d).Format(time.RFC3339Nano)
}

// baseRows spans three days, with a duplicate (sources are at-least-once: both copies must come back),
// fractional seconds, and a row on a window boundary.
func baseRows() [][]string {
	return [][]string{
		{ts(0, "0s"), "e-001", "ACCESS_SIGMA", "login", "ana@example.com", ""},
		{ts(0, "1h30m15.5s"), "e-002", "OBJECT_INTERACTION", "open workbook", "bo@example.com", "Revenue 2026"},
		{ts(0, "23h59m59.999999s"), "e-003", "QUERY_EXECUTIONS", "run query", "ana@example.com", "Revenue 2026"},
		{ts(1, "0s"), "e-004", "EXPORTS", "export csv", "cy@example.com", "Pipeline"},
		{ts(1, "0s"), "e-004", "EXPORTS", "export csv", "cy@example.com", "Pipeline"},
		{ts(1, "12h0m0.123456s"), "e-005", "PERMISSIONS", "grant", "di@example.com", "Finance/Q4"},
		{ts(1, "12h0m1s"), "e-006", "SCHEDULES", "schedule run", "", "Daily digest"},
		{ts(2, "6h0m0s"), "e-007", "AI_CONVERSATIONS", "prompt", "ana@example.com", ""},
		{ts(2, "23h0m0.5s"), "e-008", "PUBLIC_API", "GET /v2/workbooks", "", ""},
	}
}

func testDescribe(t *testing.T, h Harness) {
	src := h.Load(t, baseHeader, baseRows())
	if d := src.Describe(); strings.TrimSpace(d) == "" {
		t.Errorf("Describe() = %q, want a name for logs", d)
	}
	ctx := t.Context()
	first, err := src.List(ctx, source.Window{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(first) == 0 {
		t.Fatal("List returned no inputs for a source with rows")
	}
	again, err := src.List(ctx, source.Window{})
	if err != nil {
		t.Fatalf("List again: %v", err)
	}
	if !slices.Equal(inputKeys(first), inputKeys(again)) {
		t.Errorf("List is not stable: got %q then %q", inputKeys(first), inputKeys(again))
	}
}

func testAllRows(t *testing.T, h Harness) {
	rows := baseRows()
	src := h.Load(t, baseHeader, rows)
	got := ReadAll(t, src, source.Window{}, baseHeader)
	assertSameRows(t, "unbounded window", got, rows)
}

func testBoundedWindows(t *testing.T, h Harness) {
	rows := baseRows()
	src := h.Load(t, baseHeader, rows)
	windows := []source.Window{
		{From: day0.AddDate(0, 0, 1), To: day0.AddDate(0, 0, 2)},                                                     // day 1, from a row on its bound
		{From: day0.Add(90*time.Minute + 15*time.Second + 500*time.Millisecond)},                                     // from a fractional row
		{To: day0.AddDate(0, 0, 1)},                                                                                  // up to, not including, day 1
		{From: day0.AddDate(0, 0, 1).Add(12 * time.Hour), To: day0.AddDate(0, 0, 1).Add(12*time.Hour + time.Second)}, // one second
		{From: day0.AddDate(1, 0, 0), To: day0.AddDate(1, 0, 1)},                                                     // nothing
	}
	for _, w := range windows {
		got := ReadAll(t, src, w, baseHeader)
		assertSameRows(t, "window "+w.String(), inWindow(t, got, w), inWindow(t, rows, w))
	}
}

func testEmptyValues(t *testing.T, h Harness) {
	rows := [][]string{
		{ts(0, "1h"), "", "", "", "", ""},
		{ts(0, "2h"), "e-1", "", "login", "", ""},
		{ts(0, "3h"), "", "ACCESS_SIGMA", "", "", "x"},
		{"", "e-no-time", "", "", "", ""}, // a row without a time must still come back from an unbounded read
	}
	src := h.Load(t, baseHeader, rows)
	got := ReadAll(t, src, source.Window{}, baseHeader)
	assertSameRows(t, "empty values", got, rows)
}

// SpecialValues are values that trip up naive encoders: delimiters, quotes, line breaks, escapes, NULL
// markers written as text, and text outside ASCII.
var SpecialValues = []string{
	"a,b,c",
	`she said "hi"`,
	`"`,
	`""`,
	"line one\nline two",
	"trailing newline\n",
	"tab\there",
	`back\slash \N \\N`,
	"NULL",
	"null",
	"  padded  ",
	"Zoë Ångström, Łódź",
	"東京の監査ログ",
	"مرحبا",
	"emoji 🚀👩‍💻",
	`{"json": [1, "two", null]}`,
	"'; DROP TABLE audit_logs; --",
	"=HYPERLINK(\"http://example.com\")",
}

func testSpecialCharacters(t *testing.T, h Harness) {
	header := []string{TimeColumn, "EVENT_ID", "OBJECT_NAME", "Event Status Reason Code"}
	var rows [][]string
	for i, v := range SpecialValues {
		rows = append(rows, []string{ts(0, strconv.Itoa(i)+"m"), "e-" + strconv.Itoa(i), v, v})
	}
	src := h.Load(t, header, rows)
	got := ReadAll(t, src, source.Window{}, header)
	assertSameRows(t, "special characters", got, rows)
}

func testEmptySource(t *testing.T, h Harness) {
	src := h.Load(t, baseHeader, nil)
	got := ReadAll(t, src, source.Window{}, baseHeader)
	if len(got) != 0 {
		t.Errorf("a source with no rows returned %d rows: %q", len(got), got)
	}
}

func testManyRows(t *testing.T, h Harness) {
	const n = 2500
	rows := make([][]string, 0, n)
	for i := range n {
		at := day0.Add(time.Duration(i) * 97 * time.Second).Format(time.RFC3339Nano)
		rows = append(rows, []string{at, fmt.Sprintf("e-%05d", i), "QUERY_EXECUTIONS", "run query",
			fmt.Sprintf("user%d@example.com", i%17), fmt.Sprintf("workbook %d", i%31)})
		if i%250 == 0 { // an at-least-once duplicate
			rows = append(rows, slices.Clone(rows[len(rows)-1]))
		}
	}
	src := h.Load(t, baseHeader, rows)
	got := ReadAll(t, src, source.Window{}, baseHeader)
	assertSameRows(t, "many rows", got, rows)
	w := source.Window{From: day0.Add(24 * time.Hour), To: day0.Add(48 * time.Hour)}
	assertSameRows(t, "many rows, window "+w.String(), inWindow(t, ReadAll(t, src, w, baseHeader), w), inWindow(t, rows, w))
}

func testEOFIsSticky(t *testing.T, h Harness) {
	src := h.Load(t, baseHeader, baseRows()[:2])
	ctx := t.Context()
	inputs, err := src.List(ctx, source.Window{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	for _, in := range inputs {
		r, err := src.Open(ctx, in, source.Window{})
		if err != nil {
			t.Fatalf("Open(%q): %v", in.Key, err)
		}
		for {
			_, err := r.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Next(%q): %v", in.Key, err)
			}
		}
		for i := range 3 {
			if _, err := r.Next(ctx); err != io.EOF {
				t.Errorf("Next(%q) call %d after io.EOF: got %v, want io.EOF", in.Key, i+1, err)
			}
		}
		if err := r.Close(); err != nil {
			t.Errorf("Close(%q): %v", in.Key, err)
		}
	}
}

// ReadAll lists the inputs of w, reads each to the end and returns the rows as values in the order of
// header, checking the Reader contract on the way: no row errors, a complete record for each row, one
// *Header per set of columns, 1-based increasing Line numbers, io.EOF repeated after the end.
func ReadAll(t *testing.T, src source.Source, w source.Window, header []string) [][]string {
	t.Helper()
	ctx := t.Context()
	inputs, err := src.List(ctx, w)
	if err != nil {
		t.Fatalf("%s: List(%s): %v", src.Describe(), w, err)
	}
	var out [][]string
	for _, in := range inputs {
		r, err := src.Open(ctx, in, w)
		if err != nil {
			t.Fatalf("%s: Open(%q, %s): %v", src.Describe(), in.Key, w, err)
		}
		headers := map[string]*source.Header{}
		var last int64
		for {
			rec, err := r.Next(ctx)
			if err == io.EOF {
				break
			}
			var rowErr *source.RowError
			if errors.As(err, &rowErr) {
				t.Errorf("%s: input %q: unexpected row error: %v", src.Describe(), in.Key, err)
				continue
			}
			if err != nil {
				r.Close()
				t.Fatalf("%s: input %q: Next: %v", src.Describe(), in.Key, err)
			}
			if rec.Header == nil || len(rec.Fields) != len(rec.Header.Names) {
				t.Fatalf("%s: input %q line %d: record with header %v and %d fields", src.Describe(), in.Key, rec.Line, rec.Header, len(rec.Fields))
			}
			key := strings.Join(rec.Header.Names, "\x00")
			if prev, ok := headers[key]; ok && prev != rec.Header {
				t.Errorf("%s: input %q line %d: a new *Header for the same columns; records must share one", src.Describe(), in.Key, rec.Line)
			}
			headers[key] = rec.Header
			if rec.Line <= last {
				t.Errorf("%s: input %q: Line %d after %d; want 1-based increasing positions", src.Describe(), in.Key, rec.Line, last)
			}
			last = rec.Line
			out = append(out, project(t, rec, header))
		}
		if _, err := r.Next(ctx); err != io.EOF {
			t.Errorf("%s: input %q: Next after io.EOF: got %v, want io.EOF", src.Describe(), in.Key, err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("%s: input %q: Close: %v", src.Describe(), in.Key, err)
		}
	}
	return out
}

// project returns rec's values in the order of header.
func project(t *testing.T, rec source.Record, header []string) []string {
	t.Helper()
	row := make([]string, len(header))
	for i, name := range header {
		j := slices.Index(rec.Header.Names, name)
		if j < 0 {
			t.Fatalf("line %d: record has no column %q; its columns are %q", rec.Line, name, rec.Header.Names)
		}
		row[i] = rec.Fields[j]
	}
	return row
}

// inWindow keeps the rows whose time falls inside w; rows without a time are outside every bounded window.
func inWindow(t *testing.T, rows [][]string, w source.Window) [][]string {
	t.Helper()
	var out [][]string
	for _, r := range rows {
		if r[0] == "" {
			continue
		}
		at, err := ParseTime(r[0])
		if err != nil {
			t.Errorf("row %q: %v", r, err)
			continue
		}
		if w.Contains(at) {
			out = append(out, r)
		}
	}
	return out
}

// ParseTime reads the event time renderings a source may produce: RFC 3339 (any fraction) or a time
// without zone, "2006-01-02 15:04:05.999999" (read as UTC).
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02 15:04:05.999999", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("time %q is neither RFC 3339 nor 2006-01-02 15:04:05.999999", s)
}

// canonical is a row's identity for comparison: its values, the time as a UTC instant.
func canonical(row []string) string {
	r := slices.Clone(row)
	if r[0] != "" {
		if at, err := ParseTime(r[0]); err == nil {
			r[0] = at.UTC().Format(time.RFC3339Nano)
		}
	}
	return strconv.Quote(strings.Join(r, "\x1f"))
}

// assertSameRows compares got and want as multisets: every row exactly as often as it was loaded.
func assertSameRows(t *testing.T, what string, got, want [][]string) {
	t.Helper()
	count := map[string]int{}
	for _, r := range want {
		count[canonical(r)]++
	}
	for _, r := range got {
		count[canonical(r)]--
	}
	var missing, extra []string
	for k, n := range count {
		for ; n > 0; n-- {
			missing = append(missing, k)
		}
		for ; n < 0; n++ {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing)+len(extra) == 0 {
		return
	}
	const show = 5
	t.Errorf("%s: got %d rows, want %d; %d missing, %d unexpected or repeated", what, len(got), len(want), len(missing), len(extra))
	for i, k := range missing {
		if i == show {
			t.Errorf("  ... %d more missing", len(missing)-show)
			break
		}
		t.Errorf("  missing:    %s", k)
	}
	for i, k := range extra {
		if i == show {
			t.Errorf("  ... %d more unexpected", len(extra)-show)
			break
		}
		t.Errorf("  unexpected: %s", k)
	}
}

func inputKeys(ins []source.Input) []string {
	keys := make([]string, len(ins))
	for i, in := range ins {
		keys[i] = in.Key
	}
	return keys
}
