package exporter

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/sinks"
)

// A run whose settings would shape the archive otherwise than its head
// records fails before reading, naming each setting with both values, and
// commits nothing; the archive's own settings still work.
func TestShapeChangeIsRefused(t *testing.T) {
	l, dest := newLanding(t), memDest(t)
	l.add("a.csv", hdr+"2026-11-23 23:30:00,e1,ACCESS_SIGMA,Login\n2026-11-24 10:00:00,e2,QUERY,Run\n")
	if r := incremental(t, l, dest, "run1", nil); r.err != nil || r.sum.Commit != 1 {
		t.Fatalf("first run: %v", r.err)
	}
	c, _, err := archive.ReadCommit(context.Background(), dest, 1)
	if err != nil || c.Version != archive.CommitVersion || c.Shape == nil || c.Shape.PartitionTimezone != "UTC" || c.Shape.TimeColumn != "TIMESTAMP" {
		t.Fatalf("commit 1 = version %d shape %+v (%v); want the run's shape recorded", c.Version, c.Shape, err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	from, _ := time.Parse(time.DateOnly, "2026-11-20")
	backfill := func(o *Options) {
		o.RunID, o.Command, o.Incremental = "bf", "backfill", false
		o.Window = source.Window{From: from, To: from.AddDate(0, 0, 10)}
	}
	tests := []struct {
		name   string
		mutate func(*Options)
		field  string
	}{
		{"by category", func(o *Options) { o.ByCategory = true }, `by_category is "true" in this run but "false" in the archive`},
		{"partition zone", func(o *Options) { o.PartitionZone = ny }, `partition_timezone is "America/New_York" in this run but "UTC" in the archive`},
		{"event key", func(o *Options) { o.KeyColumns = []string{"EVENT_TYPE", "TIMESTAMP"} }, `key_columns is "EVENT_TYPE,TIMESTAMP" in this run but "" in the archive`},
		{"time column", func(o *Options) { o.TimeColumn = "EVENT_TYPE" }, `time_column is "EVENT_TYPE"`},
		{"column names", func(o *Options) { o.Parquet.LowerCaseColumns = true }, `lower_case_columns is "true"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, dry := range []bool{false, true} {
				r := exportDir(t, l.dir, dest, func(o *Options) { backfill(o); o.DryRun = dry; tt.mutate(o) })
				se, ok := errors.AsType[*ShapeError](r.err)
				if !ok || !strings.Contains(r.err.Error(), tt.field) || se.Commit != 1 {
					t.Fatalf("dry run %v: err = %v, want a ShapeError naming %s", dry, r.err, tt.field)
				}
				if r.sum.RowsRead != 0 {
					t.Errorf("refused run read %d rows", r.sum.RowsRead)
				}
			}
		})
	}
	if st, err := archive.LoadState(context.Background(), dest); err != nil || len(st.Numbers) != 1 {
		t.Fatalf("log after refused runs: %v, %v; want commit 1 only", st.Numbers, err)
	}
	if r := exportDir(t, l.dir, dest, backfill); r.err != nil || r.sum.RowsArchived != 2 || r.sum.RowsWritten != 0 {
		t.Fatalf("backfill with the archive's settings: err %v archived %d written %d", r.err, r.sum.RowsArchived, r.sum.RowsWritten)
	}
}

// An archive written before commits recorded a shape takes the next run's,
// with a warning; from then on it is enforced.
func TestShapeOfAnOlderArchiveIsRecorded(t *testing.T) {
	l, dest := newLanding(t), memDest(t)
	ctx := context.Background()
	c := &archive.Commit{Version: archive.FormatVersion, Number: 1, RunID: "old", Command: "run", Files: []archive.File{}, Keys: []archive.KeyFile{}}
	if _, err := archive.Append(ctx, dest, c); err != nil {
		t.Fatal(err)
	}
	if _, err := dest.PutBytes(ctx, archive.PublishedKey(1), nil, sinks.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	l.add("a.csv", hdr+"2026-11-24 10:00:00,e1,ACCESS_SIGMA,Login\n")
	r := incremental(t, l, dest, "run1", nil)
	if r.err != nil || r.sum.Commit != 2 {
		t.Fatalf("run over a version 1 archive: err %v commit %d", r.err, r.sum.Commit)
	}
	if !strings.Contains(strings.Join(r.sum.Warnings, "\n"), "does not record the settings that shape it") {
		t.Errorf("warnings %q: want one about the unrecorded shape", r.sum.Warnings)
	}
	l.add("b.csv", hdr+"2026-11-24 11:00:00,e2,ACCESS_SIGMA,Login\n")
	if r := incremental(t, l, dest, "run2", func(o *Options) { o.ByCategory = true }); !errors.As(r.err, new(*ShapeError)) {
		t.Fatalf("run with another shape after the upgrade: err %v, want a ShapeError", r.err)
	}
}

// Version 2 commits must carry a shape and version 1 commits must not.
func TestDecodeCommitShapeVersion(t *testing.T) {
	for _, tt := range []struct {
		json string
		ok   bool
	}{
		{`{"version":1,"number":1}`, true},
		{`{"version":2,"number":1,"shape":{"partition_timezone":"UTC"}}`, true},
		{`{"version":2,"number":1}`, false},
		{`{"version":1,"number":1,"shape":{"partition_timezone":"UTC"}}`, false},
		{`{"version":3,"number":1}`, false},
	} {
		if _, err := archive.DecodeCommit([]byte(tt.json)); (err == nil) != tt.ok {
			t.Errorf("DecodeCommit(%s) error %v, want ok=%v", tt.json, err, tt.ok)
		}
	}
}
