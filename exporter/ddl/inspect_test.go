package ddl

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/auditexport/auditexport/exporter"
	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/exporter/source/exports"
	"github.com/auditexport/auditexport/schema"
	"github.com/auditexport/auditexport/sinks"
)

// exportRun writes one export file into a fresh landing directory and runs
// the exporter over it into dest.
func exportRun(t *testing.T, dest *sinks.Bucket, runID, csv string, mutate func(*exporter.Options)) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "2026-11-25T06-00-00Z_audit_logs.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	land, err := sinks.Open(ctx, dir, sinks.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer land.Close()
	cat, err := schema.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	o := exporter.Options{
		Source: exports.New(land), Dest: dest, Catalog: cat, RunID: runID, ToolVersion: "test",
		WorkDir: t.TempDir(), Rejects: exporter.RejectOptions{MaxRows: -1, MaxFraction: 1},
	}
	if mutate != nil {
		mutate(&o)
	}
	if _, err := exporter.Run(ctx, o); err != nil {
		t.Fatalf("run %s: %v", runID, err)
	}
}

// TestInspectLearnsColumnsFromFooters builds an archive in two runs, the
// second meeting a header the catalog lacks, and checks what Inspect reads
// back: the commits, the first day, the partitions, and the derived column
// with its type, field ID and friendly name from the file's metadata.
func TestInspectLearnsColumnsFromFooters(t *testing.T) {
	ctx := context.Background()
	dest, err := sinks.Open(ctx, "mem://", sinks.OpenOptions{Prefix: "sigma"})
	if err != nil {
		t.Fatal(err)
	}
	defer dest.Close()
	byCat := func(o *exporter.Options) { o.ByCategory = true; o.Parquet.LowerCaseColumns = true }
	exportRun(t, dest, "run1", "Timestamp,Event Id,Event Category,Event Type\n"+
		"2026-11-23 10:00:00,e1,ACCESS_SIGMA,Login\n"+
		"2026-11-24 10:00:00,e2,QUERY_EXECUTIONS,Run Query\n", byCat)
	exportRun(t, dest, "run2", "Timestamp,Event Id,Event Category,Event Type,Ticket Ref\n"+
		"2026-11-25 10:00:00,e3,NEW/THING,Mystery,T-1\n", byCat)

	a, err := Inspect(ctx, dest, 4)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	if a.Commits != 2 || a.Footers != 2 || a.Files != 3 || a.FirstDay != "2026-11-23" {
		t.Errorf("commits %d footers %d files %d first day %q; want 2 2 3 2026-11-23", a.Commits, a.Footers, a.Files, a.FirstDay)
	}
	wantParts := []string{
		"event_date=2026-11-23/event_category=ACCESS_SIGMA",
		"event_date=2026-11-24/event_category=QUERY_EXECUTIONS",
		"event_date=2026-11-25/event_category=NEW%2FTHING",
	}
	if !slices.Equal(a.Partitions, wantParts) {
		t.Errorf("partitions = %q, want %q", a.Partitions, wantParts)
	}
	if a.Shape == nil || !a.Shape.ByCategory || !a.Shape.LowerCaseColumns {
		t.Errorf("shape = %+v, want by_category and lower_case_columns recorded", a.Shape)
	}
	cat, _ := schema.Builtin()
	if len(a.Columns) != len(cat.Columns)+1 {
		t.Fatalf("%d columns read, want the catalog's %d and ticket_ref", len(a.Columns), len(cat.Columns))
	}
	last := a.Columns[len(a.Columns)-1]
	want := FileColumn{Name: "ticket_ref", ID: "TICKET_REF", Friendly: "Ticket Ref", Type: schema.String, FieldID: schema.DerivedFieldID("TICKET_REF")}
	if last.Name != want.Name || last.ID != want.ID || last.Friendly != want.Friendly || last.Type != want.Type || last.FieldID != want.FieldID {
		t.Errorf("derived column = %+v, want %+v", last, want)
	}
	if ts := a.Columns[0]; ts.Name != "timestamp" || ts.Type != schema.Timestamp || ts.FieldID != 1 {
		t.Errorf("first column = %+v, want timestamp, a timestamp, field ID 1", ts)
	}

	// The table follows the archive's shape over the settings given.
	tab, err := NewTable(cat, a, Settings{TimeZone: "UTC"}, Location{Scheme: "s3", Bucket: "b", Path: "sigma/"}, []string{"t"})
	if err != nil {
		t.Fatal(err)
	}
	if !tab.ByCategory || !tab.LowerCase || tab.Extra != 1 || tab.Columns[len(tab.Columns)-1].Name != "ticket_ref" {
		t.Errorf("table: by_category %v lower %v extra %d last %+v", tab.ByCategory, tab.LowerCase, tab.Extra, tab.Columns[len(tab.Columns)-1])
	}
	if !slices.Contains(tab.Categories, "NEW%2FTHING") || !slices.Contains(tab.Categories, "WRITEBACK") {
		t.Errorf("categories = %q, want the archive's NEW%%2FTHING and the catalog's", tab.Categories)
	}
	for _, c := range tab.Columns {
		if c.Absent {
			t.Errorf("column %s marked absent, but every run wrote the whole catalog", c.Name)
		}
	}
}

func TestInspectEmptyArchive(t *testing.T) {
	dest, err := sinks.Open(context.Background(), "mem://", sinks.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := Inspect(context.Background(), dest, 2)
	if err != nil || a.Commits != 0 || len(a.Columns) != 0 {
		t.Fatalf("Inspect(empty) = %+v, %v; want no commits", a, err)
	}
	cat, _ := schema.Builtin()
	tab, err := NewTable(cat, a, Settings{LowerCase: true}, Location{Scheme: "file", Path: "/x/"}, []string{"t"})
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Columns) != len(cat.Columns) || tab.Columns[0].Name != "timestamp" || tab.TimeZone != "UTC" || tab.FirstDay != "" {
		t.Errorf("catalog table: %d columns, first %q, zone %q, first day %q", len(tab.Columns), tab.Columns[0].Name, tab.TimeZone, tab.FirstDay)
	}
}

// TestInspectDamagedFooter: a committed file whose tail is not a Parquet
// footer is named in the error, which points at verify.
func TestInspectDamagedFooter(t *testing.T) {
	ctx := context.Background()
	dest, err := sinks.Open(ctx, "mem://", sinks.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	exportRun(t, dest, "run1", "Timestamp,Event Id,Event Category,Event Type\n2026-11-23 10:00:00,e1,ACCESS_SIGMA,Login\n", nil)
	key := "event_date=2026-11-23/" + archive.DataFileName(0, "run1")
	data, err := dest.ReadAll(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	damaged := append([]byte(nil), data...)
	copy(damaged[len(damaged)-4:], "JUNK")
	if _, err := dest.PutBytes(ctx, key, damaged, sinks.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = Inspect(ctx, dest, 1)
	var fe *FooterError
	if !errors.As(err, &fe) || fe.Key != key || !strings.Contains(err.Error(), "verify --read-data") {
		t.Errorf("Inspect over a damaged footer: %v; want a FooterError naming %s", err, key)
	}
}

// TestNewTableTypeConflict: files that store a column as another type than
// the catalog's cannot share a table with it.
func TestNewTableTypeConflict(t *testing.T) {
	cat, _ := schema.Builtin()
	a := &Archive{Commits: 1, Columns: []FileColumn{{Name: "ROWS_RETURNED", Type: schema.String, Key: "event_date=2026-11-23/part-00000-r.parquet"}}}
	_, err := NewTable(cat, a, Settings{}, Location{Scheme: "file", Path: "/x/"}, []string{"t"})
	var te *TypeError
	if !errors.As(err, &te) || te.Column != "ROWS_RETURNED" || te.Catalog != schema.Int || te.File != schema.String {
		t.Errorf("NewTable = %v, want a TypeError for ROWS_RETURNED (int in the catalog, string in the file)", err)
	}
}

// TestInspectUnpublishedCommit: a commit whose files are still staged (its
// run died between commit and publish) is read from its staging keys.
func TestInspectUnpublishedCommit(t *testing.T) {
	ctx := context.Background()
	dest, err := sinks.Open(ctx, "mem://", sinks.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	exportRun(t, dest, "run1", "Timestamp,Event Id,Event Category,Event Type,Ticket Ref\n2026-11-23 10:00:00,e1,ACCESS_SIGMA,Login,T-1\n", nil)
	c, _, err := archive.ReadCommit(ctx, dest, 1)
	if err != nil {
		t.Fatal(err)
	}
	f := c.Files[0]
	if f.Staging == "" {
		t.Fatalf("commit 1 records no staging key for %s", f.Key)
	}
	if err := dest.Copy(ctx, f.Staging, f.Key); err != nil {
		t.Fatal(err)
	}
	if err := dest.Delete(ctx, f.Key); err != nil {
		t.Fatal(err)
	}
	a, err := Inspect(ctx, dest, 1)
	if err != nil {
		t.Fatalf("Inspect with the data file still staged: %v", err)
	}
	if last := a.Columns[len(a.Columns)-1]; last.Name != "TICKET_REF" || last.Key != f.Staging {
		t.Errorf("last column %+v, want TICKET_REF read from %s", last, f.Staging)
	}
}
