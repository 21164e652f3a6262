package exporter

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/sinks"
)

// objectSizes maps every object in the bucket to its size.
func objectSizes(t *testing.T, b *sinks.Bucket) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	if err := b.List(context.Background(), "", func(o sinks.Object) error { out[o.Key] = o.Size; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// A key file deleted from a committed archive would let a backfill take
// every event it held for new and archive it a second time. The backfill
// refuses before it writes anything: no commit, no object added.
func TestBackfillRefusesMissingKeyFile(t *testing.T) {
	ctx := context.Background()
	l := newLanding(t)
	l.add("a.csv", hdr+
		"2026-11-23 10:00:00,e1,ACCESS_SIGMA,Login\n2026-11-23 11:00:00,e2,ACCESS_SIGMA,Login\n"+
		"2026-11-24 10:00:00,e3,ACCESS_SIGMA,Login\n2026-11-24 11:00:00,e4,ACCESS_SIGMA,Login\n")
	dir := t.TempDir()
	dest, err := sinks.Open(ctx, dir, sinks.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dest.Close() })
	if r := incremental(t, l, dest, "run1", nil); r.err != nil || r.sum.Commit != 1 {
		t.Fatalf("first run: commit %d, %v", r.sum.Commit, r.err)
	}

	lost := archive.KeysDir("event_date=2026-11-24") + "run1.keys"
	if err := os.Remove(filepath.Join(dir, filepath.FromSlash(lost))); err != nil {
		t.Fatal(err)
	}
	before := objectSizes(t, dest)

	from, _ := time.Parse(time.DateOnly, "2026-11-23")
	r := exportDir(t, l.dir, dest, func(o *Options) {
		o.RunID, o.Command = "bf1", "backfill"
		o.Window = source.Window{From: from, To: from.AddDate(0, 0, 2)}
	})
	if !errors.Is(r.err, archive.ErrKeysMissing) || !errors.Is(r.err, archive.ErrDamaged) {
		t.Fatalf("backfill: %v (rows written %d); want ErrKeysMissing, ErrDamaged", r.err, r.sum.RowsWritten)
	}
	for _, want := range []string{"event_date=2026-11-24", lost, "restore the key files"} {
		if !strings.Contains(r.err.Error(), want) {
			t.Errorf("error %q does not name %q", r.err, want)
		}
	}
	if r.sum.Commit != 0 {
		t.Errorf("backfill made commit %d", r.sum.Commit)
	}
	st, err := archive.LoadState(ctx, dest)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(st.Numbers, []int64{1}) {
		t.Errorf("log holds commits %v, want only 1", st.Numbers)
	}
	if after := objectSizes(t, dest); !maps.Equal(after, before) {
		t.Errorf("the archive changed:\nbefore %v\n after %v", before, after)
	}
}
