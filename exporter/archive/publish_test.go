package archive

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/auditexport/auditexport/sinks"
	"github.com/auditexport/auditexport/sinks/sinktest/faultblob"
)

// protoParts are what the publish tests commit: three partitions, one
// data file and one key file each.
var protoParts = []part{
	{name: "event_date=2026-11-01", rows: 3},
	{name: "event_date=2026-11-02", rows: 2},
	{name: "event_date=2026-11-03/event_category=LOGIN", rows: 4},
}

// protoObjects is every object of the archive and its content.
func protoObjects(fx *fixture) map[string]string {
	fx.t.Helper()
	out := map[string]string{}
	for _, k := range listKeys(fx.t, fx.b, "") {
		out[k] = string(fx.read(k))
	}
	return out
}

// protoPlaced counts the files of c in their published place.
func protoPlaced(fx *fixture, c *Commit) (data, keys int) {
	fx.t.Helper()
	for _, f := range c.Files {
		if ok, err := fx.b.Exists(fx.ctx, f.Key); err != nil {
			fx.t.Fatal(err)
		} else if ok {
			data++
		}
	}
	for _, k := range c.Keys {
		if ok, err := fx.b.Exists(fx.ctx, k.Key); err != nil {
			fx.t.Fatal(err)
		} else if ok {
			keys++
		}
	}
	return data, keys
}

// protoManifests counts the partitions of c that have a manifest.
func protoManifests(fx *fixture, c *Commit) int {
	fx.t.Helper()
	n := 0
	for p := range filesByPartition(c.Files) {
		m, err := ReadManifest(fx.ctx, fx.b, p)
		if err != nil {
			fx.t.Fatal(err)
		}
		if m != nil {
			n++
		}
	}
	return n
}

func protoUnpublished(fx *fixture) []int64 {
	fx.t.Helper()
	st, err := LoadState(fx.ctx, fx.b)
	if err != nil {
		fx.t.Fatal(err)
	}
	return st.Unpublished
}

// protoComplete fails unless the archive is exactly what its log says and
// fully published: verify finds nothing (files in place with their sizes,
// manifests as the log implies, markers, no staging debris).
func protoComplete(fx *fixture) {
	fx.t.Helper()
	wantFindings(fx.t, fx.verify(VerifyOptions{}))
	if u := protoUnpublished(fx); len(u) != 0 {
		fx.t.Errorf("unpublished commits %v, want none", u)
	}
}

// Publishing a published commit again changes nothing and copies nothing,
// even with its staged copies gone; publishing an older commit again after
// a later one does not drop the later one's files from a shared manifest.
func TestPublishIdempotent(t *testing.T) {
	fx, faults := protoArchive(t, sinks.RetryPolicy{})
	c1 := fx.commit(false, protoParts...)
	if err := Publish(fx.ctx, fx.b, c1, nil); err != nil {
		t.Fatal(err)
	}
	protoComplete(fx)
	before, copies := protoObjects(fx), faults.Calls(faultblob.Copy)
	if err := Publish(fx.ctx, fx.b, c1, nil); err != nil {
		t.Fatalf("Publish again: %v", err)
	}
	if n := faults.Calls(faultblob.Copy); n != copies {
		t.Errorf("Publish again made %d copies, want none", n-copies)
	}
	if after := protoObjects(fx); !maps.Equal(before, after) {
		t.Errorf("Publish again changed the archive:\nbefore %q\nafter  %q", before, after)
	}

	c2 := fx.commit(true, part{name: protoParts[1].name, rows: 5})
	if err := Publish(fx.ctx, fx.b, c1, nil); err != nil {
		t.Fatalf("Publish commit 1 after commit 2: %v", err)
	}
	m, err := ReadManifest(fx.ctx, fx.b, protoParts[1].name)
	if err != nil || m == nil || m.Commit != 2 || len(m.Files) != 2 || m.Files[1].Key != c2.Files[0].Key {
		t.Errorf("shared manifest after publishing commit 1 again: %+v, %v; want commit 2 with both commits' files", m, err)
	}
	protoComplete(fx)
}

// A publish that fails part way (each step of it in turn) leaves the
// commit unpublished, with no manifest listing a file that is not in
// place; a second Publish, as the next run's roll-forward, finishes it.
func TestPublishPartialThenFinished(t *testing.T) {
	pp := protoPrefix
	for _, tc := range []struct {
		name  string
		fault faultblob.Fault
		// what the failed Publish leaves
		data, keys, manifests int
		marked                bool
	}{
		{"second data file not copied", faultblob.Fault{Op: faultblob.Copy, Prefix: pp + "event_date=", Skip: 1}, 1, 0, 0, false},
		{"second data file copied, response lost", faultblob.Fault{Op: faultblob.Copy, Prefix: pp + "event_date=", Skip: 1, Land: true}, 2, 0, 0, false},
		{"key file not copied", faultblob.Fault{Op: faultblob.Copy, Prefix: pp + KeysPrefix}, 3, 0, 0, false},
		{"second manifest not written", faultblob.Fault{Op: faultblob.Put, Prefix: pp + protoParts[1].name + "/" + ManifestName}, 3, 3, 1, false},
		{"marker not written", faultblob.Fault{Op: faultblob.Put, Prefix: pp + PublishedPrefix}, 3, 3, 3, false},
		{"marker written, response lost", faultblob.Fault{Op: faultblob.Put, Prefix: pp + PublishedPrefix, Land: true}, 3, 3, 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx, faults := protoArchive(t, noRetry())
			c := fx.commit(false, protoParts...)
			tc.fault.Times = -1 // an outage, until Clear
			faults.Inject(tc.fault)
			err := Publish(fx.ctx, fx.b, c, nil)
			if err == nil || !strings.HasPrefix(err.Error(), "publish commit 1: ") || faults.Injected() == 0 {
				t.Fatalf("Publish with %s: %v after %d faults; want it to fail", tc.name, err, faults.Injected())
			}
			faults.Clear()
			if data, keys := protoPlaced(fx, c); data != tc.data || keys != tc.keys {
				t.Errorf("in place: %d data and %d key files, want %d and %d", data, keys, tc.data, tc.keys)
			}
			if n := protoManifests(fx, c); n != tc.manifests {
				t.Errorf("%d partitions have a manifest, want %d", n, tc.manifests)
			}
			wantUnpublished := []int64{1}
			if tc.marked {
				wantUnpublished = nil
			}
			if u := protoUnpublished(fx); !slices.Equal(u, wantUnpublished) {
				t.Errorf("unpublished %v, want %v", u, wantUnpublished)
			}

			if err := Publish(fx.ctx, fx.b, c, nil); err != nil {
				t.Fatalf("second Publish: %v", err)
			}
			protoComplete(fx)
			for _, p := range protoParts {
				m, err := ReadManifest(fx.ctx, fx.b, p.name)
				if err != nil || m == nil || len(m.Files) != 1 || m.Rows != int64(p.rows) {
					t.Errorf("manifest of %s: %+v, %v; want its one file of %d rows, listed once", p.name, m, err, p.rows)
				}
			}
		})
	}
}

// A commit whose staged file is gone can never be published: Publish
// fails, every time, naming the file and its staged copy, before any
// manifest lists it. CheckStaged, which a run calls before Append, finds
// it; a listing that fails is reported as such, not as a missing file.
func TestPublishMissingStaged(t *testing.T) {
	fx, faults := protoArchive(t, noRetry())
	c := fx.commit(false, protoParts...)
	if err := CheckStaged(fx.ctx, fx.b, c); err != nil {
		t.Fatalf("CheckStaged with every file staged: %v", err)
	}
	gone := c.Files[1]
	fx.del(gone.Staging)

	err := CheckStaged(fx.ctx, fx.b, c)
	if err == nil || !strings.HasPrefix(err.Error(), gone.Staging+", named by commit 1, is missing") {
		t.Errorf("CheckStaged: %v; want it to name %s as missing", err, gone.Staging)
	}
	for range 2 {
		err := Publish(fx.ctx, fx.b, c, nil)
		if err == nil || !strings.HasPrefix(err.Error(), "publish commit 1: "+gone.Key+": ") || !strings.Contains(err.Error(), gone.Staging) {
			t.Fatalf("Publish: %v; want it to fail naming %s and %s", err, gone.Key, gone.Staging)
		}
	}
	if n := protoManifests(fx, c); n != 0 {
		t.Errorf("%d partitions have a manifest, want none", n)
	}
	if u := protoUnpublished(fx); !slices.Equal(u, []int64{1}) {
		t.Errorf("unpublished %v, want [1]", u)
	}

	fx.put(gone.Staging, []byte("other bytes"))
	if err := CheckStaged(fx.ctx, fx.b, c); err == nil || !strings.Contains(err.Error(), gone.Staging+" is 11 bytes") {
		t.Errorf("CheckStaged with a staged file of another size: %v", err)
	}
	faults.Inject(faultblob.Fault{Op: faultblob.List, Prefix: protoPrefix + StagingPrefix, Times: -1})
	if err := CheckStaged(fx.ctx, fx.b, c); err == nil || !strings.HasPrefix(err.Error(), "check the files of commit 1: ") {
		t.Errorf("CheckStaged with staging unlistable: %v; want the listing's error", err)
	}
}
