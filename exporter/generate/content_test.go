package generate

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/auditexport/auditexport/schema"
)

func builtin(t *testing.T) *schema.Catalog {
	t.Helper()
	cat, err := schema.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func TestAllCategoriesAndEventTypes(t *testing.T) {
	opts := baseOptions()
	opts.Days, opts.RowsPerDay = 3, 4000
	truth, exports := generate(t, opts)
	for _, c := range builtin(t).Categories {
		if n := truth.Categories[c.Name]; n < 10 {
			t.Errorf("category %s has %d events, want >= 10", c.Name, n)
		}
	}
	type kv struct {
		cat string
		n   int
	}
	var ranked []kv
	for c, n := range truth.Categories {
		ranked = append(ranked, kv{c, n})
	}
	slices.SortFunc(ranked, func(a, b kv) int { return b.n - a.n })
	if top := []string{ranked[0].cat, ranked[1].cat}; !slices.Contains(top, "QUERY_EXECUTIONS") || !slices.Contains(top, "OBJECT_INTERACTION") {
		t.Errorf("top categories = %v, want QUERY_EXECUTIONS and OBJECT_INTERACTION", ranked[:2])
	}

	e := exports[len(exports)-1]
	catCol, typeCol, statusCol, reasonCol := e.col(t, "Event Category"), e.col(t, "Event Type"), e.col(t, "Event Status"), e.col(t, "Event Status Reason Code")
	types := map[string]map[string]bool{}
	failures := 0
	for _, row := range e.rows {
		if types[row[catCol]] == nil {
			types[row[catCol]] = map[string]bool{}
		}
		types[row[catCol]][row[typeCol]] = true
		switch status, reason := row[statusCol], row[reasonCol]; {
		case row[typeCol] == "Failed Login":
			if status != "Failure" || (reason != "invalid credentials" && reason != "No matching record") {
				t.Errorf("Failed Login has status %q reason %q", status, reason)
			}
		case status == "Success":
			if reason != "" {
				t.Errorf("a Success has reason code %q", reason)
			}
		case status == "Failure":
			failures++
			if reason == "" {
				t.Errorf("a Failure of %s has no reason code", row[typeCol])
			}
		default:
			t.Errorf("event status %q, want Success or Failure", status)
		}
	}
	if !types["ACCESS_SIGMA"]["Login"] || !types["ACCESS_SIGMA"]["Failed Login"] || !types["OBJECT_INTERACTION"]["View Workbook"] {
		t.Errorf("missing Login, Failed Login or View Workbook among %v", types)
	}
	if frac := float64(failures) / float64(len(e.rows)); frac == 0 || frac > 0.05 {
		t.Errorf("failures (other than failed logins) are %.3f of rows, want a few percent", frac)
	}
}

// TestTypedColumnsAndSparseness checks every value against its column's type
// and that each row fills only the base columns and its category's columns.
func TestTypedColumnsAndSparseness(t *testing.T) {
	opts := baseOptions()
	opts.Days, opts.RowsPerDay = 3, 3000
	_, exports := generate(t, opts)
	e := exports[len(exports)-1]
	cat := builtin(t)
	byFriendly := map[string]schema.Column{}
	for _, c := range cat.Columns {
		byFriendly[c.Friendly] = c
	}
	if len(e.header) != len(cat.Columns) {
		t.Fatalf("header has %d columns, want all %d catalog columns", len(e.header), len(cat.Columns))
	}
	catCol := e.col(t, "Event Category")
	filled := map[string]int{}
	for _, row := range e.rows {
		for i, v := range row {
			c := byFriendly[e.header[i]]
			if v == "" {
				continue
			}
			filled[c.ID]++
			if len(c.Categories) > 0 && !slices.Contains(c.Categories, row[catCol]) {
				t.Fatalf("%s event fills %s (categories %v) with %q", row[catCol], c.ID, c.Categories, v)
			}
			if !utf8.ValidString(v) {
				t.Fatalf("%s: invalid UTF-8 %q", c.ID, v)
			}
			var err error
			switch c.Type {
			case schema.Int:
				_, err = strconv.ParseInt(v, 10, 64)
			case schema.Float:
				var f float64
				if f, err = strconv.ParseFloat(v, 64); err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
					err = strconv.ErrRange
				}
			case schema.Bool:
				_, err = strconv.ParseBool(v)
			case schema.JSON:
				if !json.Valid([]byte(v)) {
					err = strconv.ErrSyntax
				}
			case schema.Timestamp:
				_, err = parseTS(v)
			}
			if err != nil {
				t.Fatalf("%s (%s) value %q does not parse: %v", c.ID, c.Type, v, err)
			}
		}
		for _, id := range []string{"Timestamp", "Event Id", "Event Category", "Event Type", "Event Status", "Organization Id", "Request Id"} {
			if row[e.col(t, id)] == "" {
				t.Fatalf("row without %s: %q", id, row)
			}
		}
	}
	for _, c := range cat.Columns {
		if c.ID != "EVENT_STATUS_REASON_CODE" && filled[c.ID] == 0 {
			t.Errorf("column %s is never filled", c.ID)
		}
	}
}

func TestValuesThatNeedQuoting(t *testing.T) {
	opts := baseOptions()
	_, exports := generate(t, opts)
	e := exports[len(exports)-1]
	want := map[string]bool{"comma": false, "quote": false, "newline": false, "leading space": false, "non-ASCII": false}
	var newlineNames []string
	for _, row := range e.rows {
		for i, v := range row {
			want["comma"] = want["comma"] || strings.Contains(v, ",")
			want["quote"] = want["quote"] || strings.Contains(v, `"`)
			want["leading space"] = want["leading space"] || strings.HasPrefix(v, " ")
			want["non-ASCII"] = want["non-ASCII"] || utf8.RuneCountInString(v) != len(v)
			if strings.Contains(v, "\n") {
				want["newline"] = true
				if e.header[i] == "Object Name" && !slices.Contains(newlineNames, v) {
					newlineNames = append(newlineNames, v)
				}
			}
		}
	}
	for what, ok := range want {
		if !ok {
			t.Errorf("no value with a %s", what)
		}
	}
	if len(newlineNames) != 1 {
		t.Errorf("object names with a newline = %q, want exactly one", newlineNames)
	}
}

var plainTS = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$`)

func TestTimestampStyles(t *testing.T) {
	opts := baseOptions()
	_, exports := generate(t, opts)
	e := exports[len(exports)-1]
	forms := map[string]int{}
	ts := e.col(t, "Timestamp")
	for _, row := range e.rows {
		v := row[ts]
		at, err := parseTS(v)
		if err != nil {
			t.Fatalf("timestamp %q: %v", v, err)
		}
		if at.Before(testStart) || !at.Before(testStart.AddDate(0, 0, opts.Days)) {
			t.Fatalf("timestamp %q is outside the event days", v)
		}
		digits := 0
		if i := strings.IndexByte(v, '.'); i >= 0 {
			digits = len(strings.FieldsFunc(v[i+1:], func(r rune) bool { return r < '0' || r > '9' })[0])
		}
		forms["digits "+strconv.Itoa(digits)]++
		switch {
		case v[10] == 'T':
			forms["T"]++
		case v[10] == ' ':
			forms["space"]++
		}
		switch {
		case strings.HasSuffix(v, "Z"):
			forms["Z"]++
		case strings.HasSuffix(v, " -0000") || strings.HasSuffix(v, " +0000"):
			forms["+0000"]++
		case len(v) > 20 && strings.ContainsAny(v[19:], "+-"):
			forms["local offset"]++
		default:
			forms["no zone"]++
		}
	}
	for _, f := range []string{"T", "space", "Z", "+0000", "local offset", "no zone"} {
		if forms[f] == 0 {
			t.Errorf("no timestamp of form %q among %v", f, forms)
		}
	}
	for d := range 10 {
		if forms["digits "+strconv.Itoa(d)] == 0 {
			t.Errorf("no timestamp with %d fractional digits among %v", d, forms)
		}
	}

	opts.TimestampStyle = TimestampsPlain
	_, exports = generate(t, opts)
	for _, row := range exports[0].rows {
		if v := row[ts]; !plainTS.MatchString(v) {
			t.Fatalf("plain timestamp %q, want YYYY-MM-DD HH:MM:SS.fff", v)
		}
	}
}

func TestAppendTSRoundTrips(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		st := drawStyle(r)
		ns := time.Date(1970+r.IntN(200), 1, 1, 0, 0, 0, 0, time.UTC).UnixNano() + r.Int64N(366*nsPerDay)
		ns -= ns % truncUnit(st.digits)
		s := string(appendTS(nil, ns, st))
		got, err := parseTS(s)
		if err != nil || got.UnixNano() != ns {
			t.Fatalf("appendTS(%d, %+v) = %q, parses as %v (%v), want %v", ns, st, s, got, err, time.Unix(0, ns).UTC())
		}
	}
}

func TestHeaders(t *testing.T) {
	cat := builtin(t)
	opts := baseOptions()
	opts.Days, opts.RowsPerDay = 1, 50

	opts.Headers = HeadersIDs
	truth, exports := generate(t, opts)
	var ids []string
	for _, c := range cat.Columns {
		ids = append(ids, c.ID)
	}
	if !slices.Equal(exports[0].header, ids) {
		t.Errorf("ids header = %q, want the catalog's column IDs %q", exports[0].header, ids)
	}
	if truth.Renames != nil {
		t.Errorf("Renames = %v with Headers %q, want nil", truth.Renames, opts.Headers)
	}

	opts.Headers = HeadersRenamed
	truth, exports = generate(t, opts)
	if len(truth.Renames) < 3 {
		t.Fatalf("Renames = %v, want a few", truth.Renames)
	}
	if got := truth.Renames["Email Address"]; got != "USER_EMAIL" {
		t.Errorf(`Renames["Email Address"] = %q, want USER_EMAIL`, got)
	}
	h := exports[0].header
	for name, id := range truth.Renames {
		c, ok := cat.Lookup(id)
		if !ok {
			t.Fatalf("rename %q -> unknown column %q", name, id)
		}
		if !slices.Contains(h, name) || slices.Contains(h, c.Friendly) {
			t.Errorf("header %q: want %q in place of %q", h, name, c.Friendly)
		}
	}
}

func TestJSONLines(t *testing.T) {
	opts := baseOptions()
	opts.Format = FormatJSONL
	opts.Days, opts.RowsPerDay = 1, 2000
	dir := t.TempDir()
	truth, err := Generate(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, truth.Files[0]))
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]schema.Type{}
	for _, c := range builtin(t).Columns {
		types[c.Friendly] = c.Type
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	if len(lines) != truth.RowsWritten {
		t.Fatalf("%d lines, want %d rows", len(lines), truth.RowsWritten)
	}
	kinds := map[string]bool{}
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, line)
		}
		for k, v := range m {
			switch v.(type) {
			case float64:
				kinds["number"] = true
				if types[k] != schema.Int && types[k] != schema.Float {
					t.Fatalf("line %d: %s (%s) is a JSON number", i+1, k, types[k])
				}
			case bool:
				kinds["bool"] = true
			case []any, map[string]any:
				kinds["json"] = true
				if types[k] != schema.JSON {
					t.Fatalf("line %d: %s (%s) is a JSON array or object", i+1, k, types[k])
				}
			case string:
				kinds["string"] = true
			default:
				t.Fatalf("line %d: %s = %v (%T)", i+1, k, v, v)
			}
		}
	}
	if len(kinds) != 4 {
		t.Errorf("JSON value kinds seen = %v, want numbers, bools, json and strings", kinds)
	}
}

// TestCSVRoundTrips: a written file is exactly what encoding/csv writes for
// its records, so quoting survives a read and rewrite unchanged.
func TestCSVRoundTrips(t *testing.T) {
	// A written file is exactly what encoding/csv writes for its records.
	opts := baseOptions()
	opts.Days, opts.RowsPerDay = 2, 1000
	dir := t.TempDir()
	truth, err := Generate(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range truth.Files {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		if err := w.WriteAll(recs); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, buf.Bytes()) {
			t.Errorf("%s differs from encoding/csv's rendering of its own records", name)
		}
	}
}

func TestValidate(t *testing.T) {
	valid := baseOptions()
	if err := valid.Validate(); err != nil {
		t.Fatalf("Validate(%+v) = %v, want nil", valid, err)
	}
	tests := []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{"zero start", func(o *Options) { o.Start = time.Time{} }, "start must be a UTC midnight, got the zero time"},
		{"start not midnight", func(o *Options) { o.Start = testStart.Add(time.Hour) }, "start must be a UTC midnight, got 2026-11-20T01:00:00Z"},
		{"start midnight elsewhere", func(o *Options) { o.Start = time.Date(2026, 11, 20, 0, 0, 0, 0, time.FixedZone("x", 3600)) }, "start must be a UTC midnight, got 2026-11-19T23:00:00Z"},
		{"days", func(o *Options) { o.Days = 0 }, "days must be >= 1, got 0"},
		{"many days", func(o *Options) { o.Days = 5000 }, "days must be <= 3660, got 5000"},
		{"rows per day", func(o *Options) { o.RowsPerDay = 0 }, "rows per day must be >= 1, got 0"},
		{"exports", func(o *Options) { o.Exports = -1 }, "exports must be >= 0 (0 means one per day), got -1"},
		{"many exports", func(o *Options) { o.Exports = 97 }, "exports must be <= 96 (at most 24 a day over 4 days), got 97"},
		{"format", func(o *Options) { o.Format = "parquet" }, `format must be "csv", "csv.gz" or "jsonl", got "parquet"`},
		{"headers", func(o *Options) { o.Headers = "custom" }, `headers must be "friendly", "ids" or "renamed", got "custom"`},
		{"duplicate rate", func(o *Options) { o.DuplicateRate = 1.5 }, "duplicate rate must be within [0, 1], got 1.5"},
		{"late rate", func(o *Options) { o.LateRate = math.NaN() }, "late rate must be within [0, 1], got NaN"},
		{"late rate above 2h share", func(o *Options) { o.LateRate = 0.1 }, "late rate must be <= 0.08333 with an export every 24h0m0s (rows are at most 2h late), got 0.1"},
		{"timestamp style", func(o *Options) { o.TimestampStyle = "iso" }, `timestamp style must be "mixed" or "plain", got "iso"`},
		{"workers", func(o *Options) { o.Workers = -2 }, "workers must be >= 0 (0 means GOMAXPROCS), got -2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := baseOptions()
			tt.change(&o)
			err := o.Validate()
			if err == nil || err.Error() != tt.want {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
			dir := filepath.Join(t.TempDir(), "out")
			if _, err := Generate(context.Background(), dir, o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Generate() = %v, want an error containing %q", err, tt.want)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("Generate with invalid options created %s", dir)
			}
		})
	}
	err := Options{}.Validate()
	for _, want := range []string{"start", "days must be >= 1", "rows per day must be >= 1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Options{}.Validate() = %v, want it to report %q", err, want)
		}
	}
}
