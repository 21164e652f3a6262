package archive

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditexport/auditexport/sinks"
)

// localArchive opens a file:// archive, whose objects' ages tests can set.
func localArchive(t *testing.T) (*sinks.Bucket, string) {
	t.Helper()
	dir := t.TempDir()
	b, err := sinks.Open(context.Background(), "file://"+dir, sinks.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, dir
}

func putAged(t *testing.T, b *sinks.Bucket, dir, key string, age time.Duration) {
	t.Helper()
	if _, err := b.PutBytes(context.Background(), key, []byte("staged "+key), sinks.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	setAge(t, dir, key, age)
}

func setAge(t *testing.T, dir, key string, age time.Duration) {
	t.Helper()
	at := time.Now().Add(-age)
	if err := os.Chtimes(filepath.Join(dir, filepath.FromSlash(key)), at, at); err != nil {
		t.Fatal(err)
	}
}

func listKeys(t *testing.T, b *sinks.Bucket, prefix string) []string {
	t.Helper()
	var keys []string
	if err := b.List(context.Background(), prefix, func(o sinks.Object) error {
		keys = append(keys, o.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

// A run slower than the grace period holds a lease: its staging directory
// stays, however old the files in it are, while the lease is young; once
// the lease is as old as the rest (the run died), the directory goes.
func TestCollectStagingLease(t *testing.T) {
	ctx := context.Background()
	const grace = 24 * time.Hour
	b, dir := localArchive(t)
	slow := StagingPrefix + "slow/"
	dead := StagingPrefix + "dead/"
	putAged(t, b, dir, slow+"1/event_date=2026-11-01/part-00000-slow.parquet", 30*time.Hour)
	putAged(t, b, dir, slow+"1/"+KeysDir("event_date=2026-11-01")+"slow.keys", 30*time.Hour)
	putAged(t, b, dir, LeaseKey("slow"), time.Minute)
	putAged(t, b, dir, dead+"1/event_date=2026-11-01/part-00000-dead.parquet", 30*time.Hour)
	putAged(t, b, dir, LeaseKey("dead"), 25*time.Hour)
	putAged(t, b, dir, StagingPrefix+"young/1/x.parquet", time.Hour)
	putAged(t, b, dir, StagingPrefix+"loose-old", 30*time.Hour)

	n, err := CollectStaging(ctx, b, grace, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("CollectStaging removed %d objects, want 3 (the dead run's two, the loose one)", n)
	}
	want := []string{
		LeaseKey("slow"),
		slow + "1/" + KeysDir("event_date=2026-11-01") + "slow.keys",
		slow + "1/event_date=2026-11-01/part-00000-slow.parquet",
		StagingPrefix + "young/1/x.parquet",
	}
	slices.Sort(want)
	if got := listKeys(t, b, StagingPrefix); !slices.Equal(got, want) {
		t.Errorf("staging after collection:\n got %q\nwant %q", got, want)
	}

	// The slow run died: its lease ages like the rest.
	setAge(t, dir, LeaseKey("slow"), 25*time.Hour)
	if n, err := CollectStaging(ctx, b, grace, time.Now()); err != nil || n != 3 {
		t.Errorf("CollectStaging after the lease expired = %d, %v; want the slow run's 3 objects", n, err)
	}
	if got := listKeys(t, b, StagingPrefix); !slices.Equal(got, []string{StagingPrefix + "young/1/x.parquet"}) {
		t.Errorf("staging after the lease expired: %q", got)
	}
}

// A directory without a lease (a run of an older build, or one that
// released it) goes by the age of its newest object.
func TestCollectStagingWithoutLease(t *testing.T) {
	b, dir := localArchive(t)
	putAged(t, b, dir, StagingPrefix+"r/1/a.parquet", 30*time.Hour)
	putAged(t, b, dir, StagingPrefix+"r/1/b.parquet", 2*time.Hour)
	if n, err := CollectStaging(context.Background(), b, 24*time.Hour, time.Now()); err != nil || n != 0 {
		t.Errorf("CollectStaging = %d, %v; want nothing removed while one object is young", n, err)
	}
	if n, err := CollectStaging(context.Background(), b, 24*time.Hour, time.Now().Add(23*time.Hour)); err != nil || n != 2 {
		t.Errorf("CollectStaging a day later = %d, %v; want both removed", n, err)
	}
}

// Temp files of interrupted local writes are debris too, wherever an
// older build left them.
func TestCollectStagingRemovesTempFiles(t *testing.T) {
	b, dir := localArchive(t)
	old := filepath.Join(dir, "event_date=2026-11-01", "part-00000-x.parquet.1234abcd.tmp")
	young := filepath.Join(dir, "event_date=2026-11-01", "part-00001-x.parquet.1234abce.tmp")
	for _, p := range []string{old, young} {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Now().Add(-48 * time.Hour)
	os.Chtimes(old, at, at)
	n, err := CollectStaging(context.Background(), b, 24*time.Hour, time.Now())
	if err != nil || n != 1 {
		t.Errorf("CollectStaging = %d, %v; want the old temp file removed", n, err)
	}
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s is still there: %v", old, err)
	}
	if _, err := os.Stat(young); err != nil {
		t.Errorf("the young temp file is gone: %v", err)
	}
}

// The lease is renewed in the background and deleted on release; a run
// whose renewals stopped for more than half the grace period learns that
// its lease may have lapsed.
func TestLease(t *testing.T) {
	ctx := context.Background()
	b, dir := localArchive(t)
	const grace = 400 * time.Millisecond // renewed every 100ms
	l, err := HoldLease(ctx, b, "r1", grace, nil)
	if err != nil {
		t.Fatal(err)
	}
	setAge(t, dir, LeaseKey("r1"), time.Hour)
	time.Sleep(3 * LeaseRenewal(grace))
	o, err := b.Attributes(ctx, LeaseKey("r1"))
	if err != nil {
		t.Fatal(err)
	}
	if age := time.Since(o.ModTime); age > 2*LeaseRenewal(grace) {
		t.Errorf("the lease is %s old after %s of renewals every %s", age, 3*LeaseRenewal(grace), LeaseRenewal(grace))
	}
	if err := l.Check(); err != nil {
		t.Errorf("Check of a renewed lease: %v", err)
	}
	l.Release(ctx)
	if ok, err := b.Exists(ctx, LeaseKey("r1")); ok || err != nil {
		t.Errorf("the lease is still there after Release (%v)", err)
	}

	// A lease whose renewals stopped (a suspended process, a bucket that
	// refused writes) for longer than half the grace.
	clock := time.Now()
	l = &Lease{b: b, key: LeaseKey("r2"), runID: "r2", grace: time.Hour, now: func() time.Time { return clock }}
	if err := l.renew(ctx); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(20 * time.Minute)
	if err := l.Check(); err != nil {
		t.Errorf("Check 20m after a renewal, grace 1h: %v", err)
	}
	clock = clock.Add(20 * time.Minute)
	if err := l.Check(); err == nil || !strings.Contains(err.Error(), LeaseKey("r2")) {
		t.Errorf("Check 40m after a renewal, grace 1h: %v, want an error naming the lease", err)
	}
	l.renew(ctx) // the gap stays on record
	if err := l.Check(); err == nil {
		t.Error("Check after a renewal that ended a 40m gap: no error")
	}
}

// CheckStaged passes when every staged file of a commit is there with its
// size, and names a file that is gone or has another size.
func TestCheckStaged(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	run := StagingPrefix + "r1/1/"
	c := &Commit{Number: 1}
	for _, p := range []string{"event_date=2026-11-01", "event_date=2026-11-02"} {
		final := p + "/part-00000-r1.parquet"
		w := fx.put(run+final, []byte("data of "+p))
		c.Files = append(c.Files, File{Key: final, Partition: p, Bytes: w.Size, Staging: run + final})
		kfinal := KeysDir(p) + "r1.keys"
		kw := fx.put(run+kfinal, []byte("keys of "+p))
		c.Keys = append(c.Keys, KeyFile{Key: kfinal, Partition: p, Bytes: kw.Size, Staging: run + kfinal})
	}
	if err := CheckStaged(ctx, fx.b, c); err != nil {
		t.Fatalf("CheckStaged with every file staged: %v", err)
	}

	fx.del(c.Files[1].Staging)
	err := CheckStaged(ctx, fx.b, c)
	if err == nil || !strings.Contains(err.Error(), c.Files[1].Staging) || !strings.Contains(err.Error(), "nothing was committed") {
		t.Errorf("CheckStaged with a staged file deleted: %v, want an error naming %s", err, c.Files[1].Staging)
	}
	fx.del(c.Keys[0].Staging)
	if err := CheckStaged(ctx, fx.b, c); err == nil || !strings.Contains(err.Error(), "and 1 more") {
		t.Errorf("CheckStaged with two staged files deleted: %v", err)
	}

	fx.put(c.Files[1].Staging, []byte("data of event_date=2026-11-02"))
	fx.put(c.Keys[0].Staging, []byte("other"))
	if err := CheckStaged(ctx, fx.b, c); err == nil || !strings.Contains(err.Error(), c.Keys[0].Staging) {
		t.Errorf("CheckStaged with a staged key file of another size: %v", err)
	}
}
