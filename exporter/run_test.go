package exporter

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go/format"

	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/exporter/source/exports"
	"github.com/auditexport/auditexport/schema"
	"github.com/auditexport/auditexport/sinks"
)

// testRun is one exporter run over a landing directory, into a mem bucket.
type testRun struct {
	sum  *Summary
	err  error
	dest *sinks.Bucket
	cat  *schema.Catalog
}

func testCatalog(t *testing.T, m ...schema.Mapping) *schema.Catalog {
	t.Helper()
	cat, err := schema.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if len(m) > 0 {
		if cat, err = cat.WithMappings(m); err != nil {
			t.Fatal(err)
		}
	}
	return cat
}

// exportFiles writes files into a fresh landing directory and runs the
// exporter over it; mutate adjusts the options.
func exportFiles(t *testing.T, files map[string][]byte, mutate func(*Options)) testRun {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return exportDir(t, dir, nil, mutate)
}

func exportDir(t *testing.T, dir string, dest *sinks.Bucket, mutate func(*Options)) testRun {
	t.Helper()
	ctx := context.Background()
	land, err := sinks.Open(ctx, dir, sinks.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { land.Close() })
	if dest == nil {
		if dest, err = sinks.Open(ctx, "mem://", sinks.OpenOptions{Prefix: "archive"}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dest.Close() })
	}
	o := Options{
		Source:      exports.New(land),
		Dest:        dest,
		Catalog:     testCatalog(t),
		RunID:       "testrun",
		ToolVersion: "test",
		WorkDir:     t.TempDir(),
		Rejects:     RejectOptions{MaxRows: -1, MaxFraction: 1},
	}
	if mutate != nil {
		mutate(&o)
	}
	sum, err := Run(ctx, o)
	return testRun{sum: sum, err: err, dest: dest, cat: o.Catalog}
}

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// keys lists the objects in the bucket.
func keys(t *testing.T, b *sinks.Bucket) []string {
	t.Helper()
	var ks []string
	if err := b.List(context.Background(), "", func(o sinks.Object) error { ks = append(ks, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	return ks
}

func mustTime(t *testing.T, s string) int64 {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm.UnixMicro()
}

var customColumns = []schema.Mapping{
	{Header: "Rows Scanned", ID: "ROWS_SCANNED_X", Type: schema.Int},
	{Header: "Is Admin", ID: "IS_ADMIN_X", Type: schema.Bool},
	{Header: "Score", ID: "SCORE_X", Type: schema.Float},
	{Header: "Payload", ID: "PAYLOAD_X", Type: schema.JSON},
	{Header: "Who", ID: "USER_EMAIL"},
}

// Two overlapping exports, one gzipped, with a renamed header, duplicates
// and several renderings of one instant: every distinct event is written
// once, with its value and type intact, read back by parquet-go.
func TestRunRoundTrip(t *testing.T) {
	first := "Timestamp,Event Id,Event Category,Event Type,Who,Rows Scanned,Is Admin,Score,Payload\n" +
		"2026-11-24 23:59:59.999999,e1,QUERY_EXECUTIONS,Run Query,a@example.com,42,true,0.5,\"{\"\"k\"\": [1, 2]}\"\n" +
		"2026-11-24 08:00:00 -0800,e2,ACCESS_SIGMA,Login,b@example.com,,false,,\n" +
		"2026-11-24 08:00:00 -0800,e2,ACCESS_SIGMA,Login,b@example.com,,false,,\n"
	second := "event_id,TIMESTAMP,EVENT_CATEGORY,event_type,User Email,Rows Scanned\n" +
		"e2,2026-11-24T16:00:00Z,ACCESS_SIGMA,Login,b@example.com,\n" +
		"e3,2026-11-25T00:00:00.000001+00:00,NEW_THING,Mystery,\"c,\"\"d\"\"@example.com\",-7\n"
	r := exportFiles(t, map[string][]byte{
		"2026-11-25T06-00-00Z_audit_logs.csv":    []byte(first),
		"2026-11-26T06-00-00Z_audit_logs.csv.gz": gz(t, second),
		"README.txt":                             []byte("not an export"),
	}, func(o *Options) { o.Catalog = testCatalog(t, customColumns...) })
	if r.err != nil {
		t.Fatalf("run: %v", r.err)
	}
	s := r.sum
	if s.RowsRead != 5 || s.RowsWritten != 3 || s.RowsDuplicate != 2 || s.RowsRejected != 0 {
		t.Fatalf("counts: read %d written %d duplicate %d rejected %d, want 5 3 2 0", s.RowsRead, s.RowsWritten, s.RowsDuplicate, s.RowsRejected)
	}
	if got := s.UnknownCategories["NEW_THING"]; got != 1 {
		t.Errorf("unknown category NEW_THING counted %d, want 1", got)
	}
	if len(s.Progress.Inputs) != 2 || s.Progress.Inputs[0].ETag == "" || s.Progress.Inputs[1].Size == 0 {
		t.Errorf("progress inputs = %+v, want both exports with etag and size", s.Progress.Inputs)
	}
	files := readArchive(t, r.dest)
	var gotKeys []string
	for k := range files {
		gotKeys = append(gotKeys, k)
	}
	sort.Strings(gotKeys)
	want := []string{"event_date=2026-11-24/part-00000-testrun.parquet", "event_date=2026-11-25/part-00000-testrun.parquet"}
	if strings.Join(gotKeys, " ") != strings.Join(want, " ") {
		t.Fatalf("files = %v, want %v", gotKeys, want)
	}
	for _, k := range keys(t, r.dest) {
		if strings.HasPrefix(k, "_auditexport/staging/") {
			t.Errorf("staging object left behind: %s", k)
		}
	}
	d24 := files[want[0]]
	if len(d24.rows) != 2 {
		t.Fatalf("2026-11-24 has %d rows, want 2", len(d24.rows))
	}
	byID := map[string]map[string]any{}
	for _, f := range files {
		for _, row := range f.rows {
			byID[row["EVENT_ID"].(string)] = row
		}
	}
	checks := []struct {
		id, col string
		want    any
	}{
		{"e1", "TIMESTAMP", mustTime(t, "2026-11-24T23:59:59.999999Z")},
		{"e1", "USER_EMAIL", "a@example.com"},
		{"e1", "ROWS_SCANNED_X", int64(42)},
		{"e1", "IS_ADMIN_X", true},
		{"e1", "SCORE_X", 0.5},
		{"e1", "PAYLOAD_X", `{"k": [1, 2]}`},
		{"e2", "TIMESTAMP", mustTime(t, "2026-11-24T16:00:00Z")},
		{"e2", "ROWS_SCANNED_X", nil},
		{"e2", "IS_ADMIN_X", false},
		{"e3", "TIMESTAMP", mustTime(t, "2026-11-25T00:00:00.000001Z")},
		{"e3", "EVENT_CATEGORY", "NEW_THING"},
		{"e3", "USER_EMAIL", `c,"d"@example.com`},
		{"e3", "ROWS_SCANNED_X", int64(-7)},
		{"e3", "OBJECT_NAME", nil},
	}
	for _, c := range checks {
		row, ok := byID[c.id]
		if !ok {
			t.Fatalf("event %s missing from the archive", c.id)
		}
		if got := row[c.col]; got != c.want {
			t.Errorf("%s.%s = %#v, want %#v", c.id, c.col, got, c.want)
		}
	}

	// Types, field IDs and metadata, from the file footer.
	ts, ok := d24.element("TIMESTAMP")
	lt, isTS := ts.LogicalType.Value.(*format.TimestampType)
	if !ok || !ts.Type.Valid || ts.Type.V != format.Int64 || !isTS {
		t.Fatalf("TIMESTAMP element = %+v, want INT64 with a TIMESTAMP logical type", ts)
	}
	if !lt.IsAdjustedToUTC || lt.Unit.Value == nil || lt.Unit.Value.Duration() != time.Microsecond {
		t.Errorf("TIMESTAMP logical type = %v, want MICROS adjusted to UTC", lt)
	}
	for _, col := range r.cat.Columns {
		el, ok := d24.element(col.ID)
		if !ok {
			t.Errorf("column %s missing from the file schema", col.ID)
			continue
		}
		if el.FieldID != col.FieldID {
			t.Errorf("column %s field_id = %d, want %d", col.ID, el.FieldID, col.FieldID)
		}
	}
	var names map[string]string
	if err := json.Unmarshal([]byte(d24.meta[MetaColumns]), &names); err != nil {
		t.Fatalf("metadata %s: %v", MetaColumns, err)
	}
	if names["EVENT_STATUS_REASON_CODE"] != "Event Status Reason Code" || names["ROWS_SCANNED_X"] != "Rows Scanned" {
		t.Errorf("friendly names in metadata = %v", names)
	}
	if d24.meta[MetaCatalogVersion] != r.cat.Version || d24.meta[MetaRunID] != "testrun" || d24.meta[MetaToolVersion] != "test" {
		t.Errorf("metadata = %v", d24.meta)
	}
	// The summary's files match what is stored.
	if len(s.Files) != 2 {
		t.Fatalf("summary lists %d files, want 2", len(s.Files))
	}
	for _, f := range s.Files {
		data, err := r.dest.ReadAll(context.Background(), f.Key)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(data)) != f.Bytes || sha256Hex(data) != f.SHA256 {
			t.Errorf("%s: summary says %d bytes %s, stored %d bytes %s", f.Key, f.Bytes, f.SHA256, len(data), sha256Hex(data))
		}
		if int64(len(files[f.Key].rows)) != f.Rows {
			t.Errorf("%s: summary says %d rows, file has %d", f.Key, f.Rows, len(files[f.Key].rows))
		}
	}
}

// Without an event ID, the key is a fingerprint of the mapped row: the same
// event with its columns in another order, another header spelling and
// another timestamp rendering is written once.
func TestRunFingerprintDedup(t *testing.T) {
	a := "Timestamp,Event Type,User Email,Object Name\n" +
		"2026-11-24 10:00:00.120,View Workbook,a@example.com,Sales\n" +
		"2026-11-24 10:00:00.120,View Workbook,a@example.com,Marketing\n"
	b := "OBJECT_NAME,USER_EMAIL,EVENT_TYPE,TIMESTAMP\n" +
		"Sales,a@example.com,View Workbook,2026-11-24T10:00:00.12Z\n" +
		"Sales,a@example.com,View Workbook,2026-11-24T10:00:00.121Z\n"
	r := exportFiles(t, map[string][]byte{"a.csv": []byte(a), "b.csv": []byte(b)}, nil)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.sum.RowsWritten != 3 || r.sum.RowsDuplicate != 1 {
		t.Fatalf("written %d duplicate %d, want 3 and 1", r.sum.RowsWritten, r.sum.RowsDuplicate)
	}
}

// Configured key columns replace the default key.
func TestRunConfiguredKey(t *testing.T) {
	a := "Timestamp,Request Id,Event Type\n" +
		"2026-11-24 10:00:00,r1,Login\n" +
		"2026-11-24 10:00:00,r1,Logout\n" +
		"2026-11-24 10:00:00,r2,Login\n"
	r := exportFiles(t, map[string][]byte{"a.csv": []byte(a)}, func(o *Options) { o.KeyColumns = []string{"REQUEST_ID", "TIMESTAMP"} })
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.sum.RowsWritten != 2 {
		t.Fatalf("written %d, want 2 (r1 once, r2 once)", r.sum.RowsWritten)
	}
	r = exportFiles(t, map[string][]byte{"a.csv": []byte(a)}, func(o *Options) { o.KeyColumns = []string{"NO_SUCH_COLUMN"} })
	if me, ok := errors.AsType[*MissingColumnError](r.err); !ok || me.Column != "NO_SUCH_COLUMN" || me.Role != KeyColumn {
		t.Fatalf("err = %v, want a MissingColumnError for key column NO_SUCH_COLUMN", r.err)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// A row that cannot be coerced goes to the rejects file with its position,
// column, reason and content; the rest is written.
func TestRunRejects(t *testing.T) {
	a := "Timestamp,Event Id,Event Type,Rows Scanned\n" +
		"2026-11-24 10:00:00,e1,Login,12\n" +
		"2026-11-24 10:00:01,e2,Login,twelve\n" +
		"2026-11-24 10:00:02,e3,Login,3\n"
	r := exportFiles(t, map[string][]byte{"a.csv": []byte(a)}, func(o *Options) { o.Catalog = testCatalog(t, customColumns...) })
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.sum.RowsRejected != 1 || r.sum.RowsWritten != 2 {
		t.Fatalf("rejected %d written %d, want 1 and 2", r.sum.RowsRejected, r.sum.RowsWritten)
	}
	data, err := r.dest.ReadAll(context.Background(), r.sum.RejectsKey)
	if err != nil {
		t.Fatalf("rejects file %q: %v", r.sum.RejectsKey, err)
	}
	var rej Reject
	if err := json.Unmarshal(bytes.TrimSpace(data), &rej); err != nil {
		t.Fatalf("rejects file is not one JSON line: %q", data)
	}
	if rej.Source != "a.csv" || rej.Line != 3 || rej.Column != "Rows Scanned" || !strings.Contains(rej.Reason, "twelve") || rej.Row["Event Id"] != "e2" {
		t.Errorf("reject = %+v", rej)
	}

	// Over the threshold: the run fails and writes no data.
	r = exportFiles(t, map[string][]byte{"a.csv": []byte(a)}, func(o *Options) {
		o.Catalog = testCatalog(t, customColumns...)
		o.Rejects = RejectOptions{MaxRows: 0, MaxFraction: 1}
	})
	var re *RejectsError
	if !errors.As(r.err, &re) || re.Rejected != 1 || re.Over != RejectsMaxRows || re.MaxRows != 0 || !strings.Contains(r.err.Error(), "max_rows=0") {
		t.Fatalf("err = %v, want a RejectsError naming rejects.max_rows", r.err)
	}
	for _, k := range keys(t, r.dest) {
		if strings.HasSuffix(k, ".parquet") {
			t.Errorf("a failed run wrote %s", k)
		}
	}
	r = exportFiles(t, map[string][]byte{"a.csv": []byte(a)}, func(o *Options) {
		o.Catalog = testCatalog(t, customColumns...)
		o.Rejects = RejectOptions{MaxRows: -1, MaxFraction: 0.2}
	})
	if !errors.As(r.err, &re) || re.Over != RejectsMaxFraction || re.MaxFraction != 0.2 || !strings.Contains(r.err.Error(), "max_fraction=0.2") {
		t.Fatalf("err = %v, want a RejectsError naming rejects.max_fraction", r.err)
	}
}

// A window keeps only the events inside it; a partition time zone moves
// events across dates.
func TestRunWindowAndZone(t *testing.T) {
	a := "Timestamp,Event Id\n" +
		"2026-11-23 23:30:00,e0\n" +
		"2026-11-24 00:30:00,e1\n" +
		"2026-11-24 23:30:00,e2\n" +
		"2026-11-25 00:00:00,e3\n"
	from, _ := time.Parse(time.DateOnly, "2026-11-24")
	r := exportFiles(t, map[string][]byte{"a.csv": []byte(a)}, func(o *Options) {
		o.Window = source.Window{From: from, To: from.AddDate(0, 0, 1)}
	})
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.sum.RowsWritten != 2 || r.sum.RowsOutOfWindow != 2 {
		t.Fatalf("written %d out of window %d, want 2 and 2", r.sum.RowsWritten, r.sum.RowsOutOfWindow)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	r = exportFiles(t, map[string][]byte{"a.csv": []byte(a)}, func(o *Options) { o.PartitionZone = ny })
	if r.err != nil {
		t.Fatal(r.err)
	}
	var parts []string
	for _, p := range r.sum.Partitions {
		parts = append(parts, p.Partition)
	}
	if got, want := strings.Join(parts, " "), "event_date=2026-11-23 event_date=2026-11-24"; got != want {
		t.Errorf("partitions in New York = %s, want %s", got, want)
	}
}

// Files roll by size; every row lands in exactly one file.
func TestRunRollsFiles(t *testing.T) {
	var b strings.Builder
	b.WriteString("Timestamp,Event Id,Object Name\n")
	for i := 0; i < 6000; i++ {
		b.WriteString("2026-11-24 10:00:00,")
		b.WriteString("ev-" + strconv.Itoa(i) + ",")
		b.WriteString(strings.Repeat(strconv.Itoa(i*7919), 8) + "\n")
	}
	r := exportFiles(t, map[string][]byte{"a.csv": []byte(b.String())}, func(o *Options) {
		o.Parquet.RowGroupRows = 500
		o.Parquet.TargetFileBytes = 16 << 10
	})
	if r.err != nil {
		t.Fatal(r.err)
	}
	files := readArchive(t, r.dest)
	if len(files) < 3 {
		t.Fatalf("%d files, want several (rolled at 16 KiB)", len(files))
	}
	seen := map[string]bool{}
	for _, f := range files {
		for _, row := range f.rows {
			id := row["EVENT_ID"].(string)
			if seen[id] {
				t.Fatalf("event %s written twice", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != 6000 {
		t.Fatalf("%d distinct events written, want 6000", len(seen))
	}
}

// A dry run counts everything and writes nothing.
func TestRunDryRun(t *testing.T) {
	a := "Timestamp,Event Id\n2026-11-24 10:00:00,e1\n2026-11-24 10:00:00,e1\n2026-11-25 10:00:00,e2\nbad,e3\n"
	r := exportFiles(t, map[string][]byte{"a.csv": []byte(a)}, func(o *Options) { o.DryRun = true })
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.sum.RowsWritten != 2 || r.sum.RowsDuplicate != 1 || r.sum.RowsRejected != 1 || len(r.sum.Partitions) != 2 {
		t.Fatalf("dry run summary = %+v", r.sum)
	}
	if ks := keys(t, r.dest); len(ks) != 0 {
		t.Fatalf("dry run wrote %v", ks)
	}
}

// A column whose dictionary overflows in one partition, or holds nearly
// every value once, is written plain from the start in the partitions
// after it, and its values still round trip; a column with few values
// keeps its dictionary.
func TestRunLearnsPlainColumns(t *testing.T) {
	var b strings.Builder
	b.WriteString("Timestamp,Event Id,Event Category,Event Type,Request Id,User Email\n")
	// Per day: 30000 distinct 40-byte event types (more than the 1 MiB
	// dictionary limit), 30000 distinct short request IDs (a dictionary
	// that fits but holds every value once), 50 user emails.
	const perDay = 30000
	for day := 23; day <= 24; day++ {
		for i := range perDay {
			fmt.Fprintf(&b, "2026-11-%d 10:%02d:%02d,e%d-%d,ACCESS_SIGMA,type-%034d,r%d,u%d@example.com\n",
				day, i/60%60, i%60, day, i, day*perDay+i, day*perDay+i, i%50)
		}
	}
	r := exportFiles(t, map[string][]byte{"a.csv": []byte(b.String())}, func(o *Options) { o.Workers = 1 })
	if r.err != nil {
		t.Fatal(r.err)
	}
	files := readArchive(t, r.dest)
	dict := func(day, col string) bool {
		t.Helper()
		var found, has bool
		for key, pf := range files {
			if !strings.HasPrefix(key, "event_date="+day+"/") {
				continue
			}
			if len(pf.rows) != perDay {
				t.Errorf("%s: %d rows, want %d", key, len(pf.rows), perDay)
			}
			for _, c := range []string{"EVENT_TYPE", "REQUEST_ID"} {
				seen := map[any]bool{}
				for _, row := range pf.rows {
					seen[row[c]] = true
				}
				if len(seen) != perDay {
					t.Errorf("%s: %d distinct %s, want %d", key, len(seen), c, perDay)
				}
			}
			found, has = true, pf.dictionary[col]
		}
		if !found {
			t.Fatalf("no file for %s", day)
		}
		return has
	}
	for _, c := range []struct {
		day, col string
		want     bool
	}{
		{"2026-11-23", "EVENT_TYPE", true},  // overflows, then falls back
		{"2026-11-23", "REQUEST_ID", true},  // fits
		{"2026-11-24", "EVENT_TYPE", false}, // learnt
		{"2026-11-24", "REQUEST_ID", false}, // learnt
		{"2026-11-24", "USER_EMAIL", true},
		{"2026-11-24", "EVENT_CATEGORY", true},
	} {
		if got := dict(c.day, c.col); got != c.want {
			t.Errorf("%s %s: dictionary page %v, want %v", c.day, c.col, got, c.want)
		}
	}
}

// Empty cells after filled ones in the same column: each row is read on
// its own, nothing of the row before leaks into its category, its key or
// its values (the reader reuses one slot per column from row to row).
func TestRunEmptyCellsAfterValues(t *testing.T) {
	csv := "Timestamp,Event Category,Object Name,Rows Returned\n" +
		"2026-11-24 10:00:00,LOGIN,report,5\n" +
		"2026-11-24 10:00:00,,,\n" +
		"2026-11-24 10:00:00,LOGIN,report,5\n" +
		"2026-11-24 10:00:00,LOGIN,,5\n"
	r := exportFiles(t, map[string][]byte{"a.csv": []byte(csv)}, func(o *Options) { o.ByCategory = true })
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.sum.RowsWritten != 3 || r.sum.RowsDuplicate != 1 {
		t.Errorf("written %d, duplicate %d; want 3 and 1 (rows without an ID are keyed by their values)", r.sum.RowsWritten, r.sum.RowsDuplicate)
	}
	got := map[string][]string{}
	for key, f := range readArchive(t, r.dest) {
		dir := filepath.Dir(key)
		for _, row := range f.rows {
			got[dir] = append(got[dir], fmt.Sprintf("%v/%v", row["OBJECT_NAME"], row["ROWS_RETURNED"]))
		}
	}
	for dir := range got {
		slices.Sort(got[dir])
	}
	want := map[string][]string{
		"event_date=2026-11-24/event_category=LOGIN":                      {"<nil>/5", "report/5"},
		"event_date=2026-11-24/event_category=__HIVE_DEFAULT_PARTITION__": {"<nil>/<nil>"},
	}
	if !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("archived rows by partition = %v, want %v", got, want)
	}
}
