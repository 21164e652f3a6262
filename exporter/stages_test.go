package exporter

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	pq "github.com/parquet-go/parquet-go"

	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/exporter/source/exports"
	"github.com/auditexport/auditexport/schema"
	"github.com/auditexport/auditexport/sinks"
)

// A partition writer works from its configuration alone, without a run:
// it rolls files at the target size, names them as the archive does, and
// reports each file's rows and time range.
func TestPartWriterAlone(t *testing.T) {
	cols := []schema.Column{
		{ID: "TIMESTAMP", Friendly: "Timestamp", Type: schema.Timestamp, FieldID: 1},
		{ID: "EVENT_ID", Friendly: "Event Id", Type: schema.String, FieldID: 2},
		{ID: "ROWS_RETURNED", Friendly: "Rows Returned", Type: schema.Int, FieldID: 3},
	}
	cfg := partWriterConfig{
		runID: "20261126T060000Z-000000000001", types: []schema.Type{schema.Timestamp, schema.String, schema.Int},
		rowGroupRows: 500, targetFileBytes: 4 << 10,
		log: slog.New(slog.DiscardHandler), plain: &plainColumns{}, batches: &batchPool{},
	}
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithStats(true), parquet.WithMaxRowGroupLength(500))
	var files []localFile
	pw, err := newPartWriter(cfg, t.TempDir(), OutputSchema(cols, true), props, [][2]string{{MetaRunID, cfg.runID}}, func(lf localFile) error {
		files = append(files, lf)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer pw.release()
	start := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	const n = 5000
	for i := range n {
		at := start.Add(time.Duration(i) * time.Second).UnixMicro()
		id := []byte("event-" + time.Duration(i).String() + "-with-some-padding-to-grow-the-file")
		fields := []decodedField{{col: 0, v: schema.Value{Int: at}}, {col: 1, bytes: id}, {col: 2, v: schema.Value{Int: int64(i)}}}
		if err := pw.add(at, fields); err != nil {
			t.Fatal(err)
		}
	}
	if err := pw.finish(); err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("%d files, want the 4 KiB target to roll several", len(files))
	}
	var rows int64
	for i, f := range files {
		if f.name != archive.DataFileName(i, cfg.runID) {
			t.Errorf("file %d named %q, want %q", i, f.name, archive.DataFileName(i, cfg.runID))
		}
		data, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		pf, err := pq.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		if pf.NumRows() != f.rows || int64(len(data)) != f.sums.Size {
			t.Errorf("%s: %d rows, %d bytes on disk; reported %d, %d", f.name, pf.NumRows(), len(data), f.rows, f.sums.Size)
		}
		if s, m := sha256.Sum256(data), md5.Sum(data); !bytes.Equal(s[:], f.sums.SHA256) || !bytes.Equal(m[:], f.sums.MD5) {
			t.Errorf("%s: reported digests are not the file's", f.name)
		}
		if got := pf.Schema().Fields()[1].Name(); got != "event_id" {
			t.Errorf("%s: second column %q, want event_id (lower case)", f.name, got)
		}
		if f.minTime.Before(start) || f.maxTime.Before(f.minTime) {
			t.Errorf("%s: time range %s..%s", f.name, f.minTime, f.maxTime)
		}
		rows += f.rows
	}
	if rows != n || !files[len(files)-1].maxTime.Equal(start.Add((n-1)*time.Second)) {
		t.Errorf("%d rows in all, last event %s; want %d, %s", rows, files[len(files)-1].maxTime, n, start.Add((n-1)*time.Second))
	}
}

// The summary holds the counts of the last write attempt only, whatever an
// earlier attempt counted.
func TestStagedSummarizeReplaces(t *testing.T) {
	sum := &Summary{RowsWritten: 99, RowsDuplicate: 7, Categories: map[string]int64{"OLD": 3}, UnknownCategories: map[string]int64{"OLD": 3}}
	st := &staged{}
	st.add(&partResult{stats: PartitionStats{Partition: "event_date=2026-11-24", Rows: 2, Duplicate: 1, Late: 1}, bytes: 10,
		staged:     []archive.File{{Key: "a", Staging: "s/a"}},
		keys:       &archive.KeyFile{Key: "k", Staging: "s/k"},
		categories: map[string]*categoryCount{"LOGIN": {n: 2}}})
	st.add(&partResult{stats: PartitionStats{Partition: "event_date=2026-11-25", Rows: 3, Archived: 4}, bytes: 5,
		categories: map[string]*categoryCount{"NEW": {n: 3, unknown: true}}})
	st.summarize(sum)
	if sum.RowsWritten != 5 || sum.RowsDuplicate != 1 || sum.RowsArchived != 4 || sum.RowsLate != 1 || sum.BytesWritten != 15 || len(sum.Partitions) != 2 {
		t.Errorf("summary %+v", sum)
	}
	if sum.Categories["OLD"] != 0 || sum.Categories["LOGIN"] != 2 || sum.UnknownCategories["NEW"] != 3 || sum.UnknownCategories["OLD"] != 0 {
		t.Errorf("categories %v, unknown %v", sum.Categories, sum.UnknownCategories)
	}
	if ks := st.stagingKeys(); len(ks) != 2 || ks[0] != "s/a" || ks[1] != "s/k" {
		t.Errorf("staging keys %v", ks)
	}
}

// The read stage's counts reach the summary and the progress a commit
// records.
func TestReadStatsSummarize(t *testing.T) {
	at := time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)
	rs := readStats{rows: 10, rejected: 2, outOfWindow: 3, beforeLookback: 4, maxEventTime: at,
		inputs: []InputProgress{{Key: "a.csv", Rows: 10}}, derived: []string{"SHOE_SIZE"}}
	sum := &Summary{}
	rs.summarize(sum)
	if sum.RowsRead != 10 || sum.RowsRejected != 2 || sum.RowsOutOfWindow != 3 || sum.RowsBeforeLookback != 4 ||
		!sum.Progress.MaxEventTime.Equal(at) || len(sum.Progress.Inputs) != 1 || len(sum.DerivedColumns) != 1 {
		t.Errorf("summary %+v", sum)
	}
	rs.inputs[0].Rows = 99
	if sum.Progress.Inputs[0].Rows != 10 {
		t.Error("the summary shares the stage's slice")
	}
}

// The read stage alone, without a run: rows land in one spill per partition,
// a bad value and a future time go to the rejects file, a row outside the
// window is only counted, and the warnings go through its warn function.
func TestReaderAlone(t *testing.T) {
	dir := t.TempDir()
	csv := hdr +
		"2026-11-24 10:00:00,e1,ACCESS_SIGMA,Login\n" +
		"2026-11-24 11:00:00,e2,ACCESS_SIGMA,Login\n" +
		"2026-11-25 01:00:00,e3,QUERY,Run\n" +
		"2026-11-20 01:00:00,old,QUERY,Run\n" + // before the window
		"2030-01-01 00:00:00,future,QUERY,Run\n" +
		"not a time,bad,QUERY,Run\n"
	if err := os.WriteFile(filepath.Join(dir, "a.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	land, err := sinks.Open(context.Background(), dir, sinks.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer land.Close()
	o := Options{Catalog: testCatalog(t), RunID: "r", Source: exports.New(land),
		Window: source.Window{From: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)},
		Now:    func() time.Time { return time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC) }}
	o.defaults()
	var warnings []string
	rd := newReader(&o, slog.New(slog.DiscardHandler), t.TempDir(), func(w string) { warnings = append(warnings, w) })
	ins, err := o.Source.List(context.Background(), o.Window)
	if err != nil || len(ins) != 1 {
		t.Fatalf("list: %v, %v", ins, err)
	}
	rd.inputs = len(ins)
	if err := rd.readInput(context.Background(), ins[0]); err != nil {
		t.Fatal(err)
	}
	if err := rd.spills.closeAll(); err != nil {
		t.Fatal(err)
	}
	if got := rd.spills.partitions(); len(got) != 2 || rd.spills.parts["event_date=2026-11-24"].rows != 2 || rd.spills.parts["event_date=2026-11-25"].rows != 1 {
		t.Errorf("spills %v", got)
	}
	if rd.read.rows != 6 || rd.read.rejected != 2 || rd.read.outOfWindow != 1 || len(rd.read.inputs) != 1 ||
		!rd.read.maxEventTime.Equal(time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("stats %+v", rd.read)
	}
	if n, _ := rd.rej.close(); !n {
		t.Error("no rejects file")
	}
	if len(warnings) != 0 {
		t.Errorf("warnings %q, want none for a catalog header", warnings)
	}
}
