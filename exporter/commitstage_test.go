package exporter

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/sinks"
)

// testCommitter is a commit stage over dest, without a run or a lease
// renewal loop: its lease is held for the test's length.
func testCommitter(t *testing.T, dest *sinks.Bucket, runID string) *committer {
	t.Helper()
	ctx := context.Background()
	lease, err := archive.HoldLease(ctx, dest, runID, time.Hour, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lease.Release(context.Background()) })
	now := time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)
	return &committer{
		dest: dest, log: slog.New(slog.DiscardHandler), phase: func(string) {}, lease: lease,
		meta: commitMeta{runID: runID, command: "run", tool: "test", window: "all", shape: &archive.Shape{PartitionTimezone: "UTC", TimeColumn: "TIMESTAMP", IDColumn: "EVENT_ID", KeyColumns: []string{"EVENT_ID"}}},
		now:  func() time.Time { return now },
	}
}

// stageFile puts one data file of partition part in runID's staging
// directory, as the write stage does.
func stageFile(t *testing.T, dest *sinks.Bucket, runID, part, body string) *staged {
	t.Helper()
	key := archive.DataKey(part, archive.DataFileName(0, runID))
	staging := archive.StagingKey(runID, 1, key)
	if _, err := dest.PutBytes(context.Background(), staging, []byte(body), sinks.PutOptions{IfNotExist: true}); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	return &staged{files: []archive.File{{
		Key: key, Staging: staging, Partition: part,
		Rows: 1, Bytes: int64(len(body)), SHA256: hex.EncodeToString(sum[:]),
	}}}
}

func loadState(t *testing.T, dest *sinks.Bucket) *archive.State {
	t.Helper()
	st, err := archive.LoadState(context.Background(), dest)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// The commit stage alone: it builds the commit that follows the head,
// appends it, publishes its files and returns the new head's hash; with
// nothing staged and no progress moved it builds nothing.
func TestCommitterCommitsAndPublishes(t *testing.T) {
	ctx := context.Background()
	dest := memDest(t)
	c := testCommitter(t, dest, "run-a")
	state := loadState(t, dest)
	if cm := c.build(state, &staged{}, readProgress{}); cm != nil {
		t.Fatalf("build with nothing staged and no progress = commit %d, want none", cm.Number)
	}
	st := stageFile(t, dest, "run-a", "event_date=2026-11-25", "parquet bytes")
	wm := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cm := c.build(state, st, readProgress{source: "test", maxEventTime: wm})
	if cm == nil || cm.Number != 1 || cm.Previous != "" || cm.RunID != "run-a" || len(cm.Files) != 1 {
		t.Fatalf("build = %+v, want commit 1 of run-a with one file", cm)
	}
	head, err := c.commit(ctx, cm, st)
	if err != nil {
		t.Fatal(err)
	}
	after := loadState(t, dest)
	if after.Head == nil || after.Head.Number != 1 || after.HeadSHA256 != head || len(after.Unpublished) != 0 {
		t.Fatalf("after commit: head %+v sha %s unpublished %v; want commit 1, sha %s, published", after.Head, after.HeadSHA256, after.Unpublished, head)
	}
	if got, err := dest.ReadAll(ctx, cm.Files[0].Key); err != nil || string(got) != "parquet bytes" {
		t.Fatalf("published file = %q, %v", got, err)
	}
	// The next commit chains to it.
	next := c.build(after, &staged{}, readProgress{source: "test", maxEventTime: wm.Add(time.Hour)})
	if next == nil || next.Number != 2 || next.Previous != head {
		t.Fatalf("next build = %+v, want commit 2 after %s", next, head)
	}
}

// When another run takes the commit's number, the stage returns
// archive.ErrConflict and removes what it staged; when a staged file is
// gone it commits nothing.
func TestCommitterConflictAndMissingFile(t *testing.T) {
	ctx := context.Background()
	dest := memDest(t)
	state := loadState(t, dest) // both runs plan commit 1
	a, b := testCommitter(t, dest, "run-a"), testCommitter(t, dest, "run-b")
	stA := stageFile(t, dest, "run-a", "event_date=2026-11-25", "a")
	stB := stageFile(t, dest, "run-b", "event_date=2026-11-25", "b")
	if _, err := a.commit(ctx, a.build(state, stA, readProgress{}), stA); err != nil {
		t.Fatal(err)
	}
	_, err := b.commit(ctx, b.build(state, stB, readProgress{}), stB)
	if !errors.Is(err, archive.ErrConflict) {
		t.Fatalf("second commit 1: err %v, want ErrConflict", err)
	}
	if ok, _ := dest.Exists(ctx, stB.files[0].Staging); ok {
		t.Error("the losing run's staged file is still there")
	}

	state = loadState(t, dest)
	stC := stageFile(t, dest, "run-c", "event_date=2026-11-26", "c")
	if err := dest.Delete(ctx, stC.files[0].Staging); err != nil {
		t.Fatal(err)
	}
	c := testCommitter(t, dest, "run-c")
	if _, err := c.commit(ctx, c.build(state, stC, readProgress{}), stC); err == nil {
		t.Fatal("a commit naming a missing staged file was appended")
	}
	if after := loadState(t, dest); after.Head.Number != 1 {
		t.Fatalf("head is commit %d, want 1: nothing may be committed over a missing file", after.Head.Number)
	}
}

// The source progress a commit records: the watermark moves forward only
// and never past the clock; an incremental run keeps the inputs read in
// full that the source still lists, a backfill keeps the old ones as they
// are.
func TestReadProgressNext(t *testing.T) {
	now := time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)
	old := archive.Input{Key: "old.csv", ETag: "e1", Size: 1}
	gone := archive.Input{Key: "gone.csv", ETag: "e2", Size: 2}
	prev := archive.Progress{Source: "s", Watermark: now.Add(-time.Hour), Inputs: []archive.Input{old, gone}}
	rp := readProgress{
		source: "s", incremental: true, maxEventTime: now.Add(-2 * time.Hour),
		listed: []source.Input{{Key: "old.csv", ETag: "e1", Size: 1}, {Key: "new.csv", ETag: "e3", Size: 3}, {Key: "noetag.csv", Size: 4}},
		read:   []InputProgress{{Key: "new.csv", ETag: "e3", Size: 3}, {Key: "noetag.csv", Size: 4}},
	}
	next := rp.next(prev, now)
	if !next.Watermark.Equal(prev.Watermark) {
		t.Errorf("watermark %s, want the earlier one kept: %s", next.Watermark, prev.Watermark)
	}
	want := []archive.Input{old, {Key: "new.csv", ETag: "e3", Size: 3}}
	if len(next.Inputs) != len(want) || next.Inputs[0] != want[0] || next.Inputs[1] != want[1] {
		t.Errorf("inputs %v, want %v", next.Inputs, want)
	}
	rp.maxEventTime = now.Add(10 * time.Minute)
	if got := rp.next(prev, now).Watermark; !got.Equal(now) {
		t.Errorf("watermark %s from an event ahead of the clock, want the clock %s", got, now)
	}
	rp.incremental = false
	if got := rp.next(prev, now).Inputs; len(got) != 2 || got[1] != gone {
		t.Errorf("backfill inputs %v, want the previous ones as they were", got)
	}
	if !progressEqual(prev, archive.Progress{Watermark: prev.Watermark, Inputs: []archive.Input{gone, old}}) {
		t.Error("progressEqual depends on the order of inputs")
	}
}

// Every commit records the inputs its run read with their row counts
// (format version 3); a rerun that reads nothing new commits nothing.
func TestCommitRecordsReads(t *testing.T) {
	l, dest := newLanding(t), memDest(t)
	l.add("a.csv", hdr+"2026-11-23 23:30:00,e1,ACCESS_SIGMA,Login\n2026-11-24 10:00:00,e2,QUERY,Run\n")
	l.add("b.csv", hdr+"2026-11-24 10:00:00,e2,QUERY,Run\n2026-11-24 11:00:00,e3,QUERY,Run\nnot a time,e4,QUERY,Run\n")
	if r := incremental(t, l, dest, "run1", func(o *Options) { o.Rejects.MaxRows = 5 }); r.err != nil || r.sum.Commit != 1 {
		t.Fatalf("first run: commit %d, %v", r.sum.Commit, r.err)
	}
	c, _, err := archive.ReadCommit(context.Background(), dest, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []archive.Read{{Key: "a.csv", Rows: 2}, {Key: "b.csv", Rows: 3, Rejected: 1}}
	if c.Version != 3 || len(c.Reads) != 2 || c.Reads[0] != want[0] || c.Reads[1] != want[1] {
		t.Fatalf("commit 1: version %d reads %+v, want version 3 reads %+v", c.Version, c.Reads, want)
	}
	if r := incremental(t, l, dest, "run2", func(o *Options) { o.Rejects.MaxRows = 5 }); r.err != nil || r.sum.Commit != 0 {
		t.Fatalf("rerun: commit %d, %v; want no commit", r.sum.Commit, r.err)
	}
}
