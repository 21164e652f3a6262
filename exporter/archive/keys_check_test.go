package archive

import (
	"errors"
	"strings"
	"testing"
)

// checkKeys runs CheckKeys on a partition and returns its error.
func (fx *fixture) checkKeys(partition string) error {
	fx.t.Helper()
	_, err := CheckKeys(fx.ctx, fx.b, partition)
	return err
}

// wantKeysMissing fails unless err is ErrKeysMissing, a *DamagedError
// naming the partition's key files, with every part of want in its text.
func wantKeysMissing(t *testing.T, err error, partition string, want ...string) {
	t.Helper()
	if !errors.Is(err, ErrKeysMissing) || !errors.Is(err, ErrDamaged) {
		t.Fatalf("CheckKeys = %v, want ErrKeysMissing and ErrDamaged", err)
	}
	if de, ok := errors.AsType[*DamagedError](err); !ok || de.Key != KeysDir(partition) {
		t.Errorf("CheckKeys = %#v, want a *DamagedError with Key %s", err, KeysDir(partition))
	}
	for _, w := range append(want, "restore the key files") {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

func TestCheckKeys(t *testing.T) {
	p1, p2, p3 := "event_date=2026-11-01", "event_date=2026-11-02", "event_date=2026-11-03/event_category=LOGIN"
	k22 := KeysDir(p2) + "run2.keys"
	cases := []struct {
		name   string
		damage func(fx *fixture)
		part   string
		want   []string // nil: the check passes
	}{
		{"intact", nil, p2, nil},
		{"a partition no commit has written", nil, "event_date=2026-11-09", nil},
		{"key file deleted", func(fx *fixture) { fx.del(k22) }, p2,
			[]string{p2, "key file " + k22 + " is missing", "2 committed rows"}},
		{"key file cut by one key", func(fx *fixture) {
			data := fx.read(k22)
			fx.put(k22, data[:len(data)-16])
		}, p2, []string{"key file " + k22 + " is truncated", "1 keys", "2 committed rows"}},
		{"key file cut inside a key", func(fx *fixture) {
			data := fx.read(k22)
			fx.put(k22, data[:len(data)-3])
		}, p2, []string{"key file " + k22 + " is truncated"}},
		{"every key file of a sub-partition deleted", func(fx *fixture) {
			fx.del(KeysDir(p3) + "run2.keys")
			fx.del(KeysDir(p3) + "run3.keys")
		}, p3, []string{"run2.keys is missing", "run3.keys is missing"}},
		{"a stray key file adds keys", func(fx *fixture) {
			fx.put(KeysDir(p1)+"stray.keys", EncodeKeys(fx.keys(3)))
		}, p1, nil},
		// Without a manifest the log says what the key files must be.
		{"manifest deleted, key files intact", func(fx *fixture) { fx.del(ManifestKey(p2)) }, p2, nil},
		{"manifest and a key file deleted", func(fx *fixture) {
			fx.del(ManifestKey(p2))
			fx.del(k22)
		}, p2, []string{"key file " + k22 + " is missing", "2 committed rows"}},
		{"manifest and every key file deleted, data left", func(fx *fixture) {
			fx.del(ManifestKey(p1))
			fx.del(KeysDir(p1) + "run1.keys")
		}, p1, []string{"key file " + KeysDir(p1) + "run1.keys is missing", "4 committed rows"}},
		// Another run publishing a new partition's first commit has placed
		// its files but not yet its manifest: nothing is missing.
		{"first commit of a partition being published", func(fx *fixture) {
			c := fx.commit(false, part{name: "event_date=2026-11-07", rows: 3})
			for _, f := range c.Files {
				if err := fx.b.Copy(fx.ctx, f.Key, f.Staging); err != nil {
					fx.t.Fatal(err)
				}
			}
			for _, k := range c.Keys {
				if err := fx.b.Copy(fx.ctx, k.Key, k.Staging); err != nil {
					fx.t.Fatal(err)
				}
			}
		}, "event_date=2026-11-07", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t)
			fx.standard()
			if tc.damage != nil {
				tc.damage(fx)
			}
			err := fx.checkKeys(tc.part)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("CheckKeys(%s) = %v, want nil", tc.part, err)
				}
				return
			}
			wantKeysMissing(t, err, tc.part, tc.want...)
		})
	}
}

// A manifest whose files are not named part-<n>-<run id>.parquet cannot
// name the key file that is missing; the partition's totals still show
// that one is.
func TestCheckKeysTotals(t *testing.T) {
	fx := newFixture(t)
	fx.standard()
	p := "event_date=2026-11-02"
	m, err := ReadManifest(fx.ctx, fx.b, p)
	if err != nil || m == nil {
		t.Fatalf("manifest: %v", err)
	}
	for i := range m.Files {
		m.Files[i].Key = p + "/renamed-" + string(rune('a'+i)) + ".parquet"
	}
	fx.putManifest(m)
	if err := fx.checkKeys(p); err != nil {
		t.Fatalf("CheckKeys = %v, want nil", err)
	}
	fx.del(KeysDir(p) + "run1.keys")
	wantKeysMissing(t, fx.checkKeys(p), p, "hold 2 event keys, its committed files 5 rows")
}

func TestDataFileRun(t *testing.T) {
	for in, want := range map[string]string{
		"event_date=2026-11-01/part-00000-20261126T060000Z-3f9a1c2b7d4e.parquet": "20261126T060000Z-3f9a1c2b7d4e",
		"event_date=2026-11-01/part-123456-r1.parquet":                           "r1",
		"event_date=2026-11-01/part-x-r1.parquet":                                "",
		"event_date=2026-11-01/part-00000.parquet":                               "",
		"event_date=2026-11-01/part-00000-r1.csv":                                "",
		"event_date=2026-11-01/data-00000-r1.parquet":                            "",
	} {
		if got, _ := DataFileRun(in); got != want {
			t.Errorf("DataFileRun(%q) = %q, want %q", in, got, want)
		}
	}
}

// CheckKeys returns every key file it checked, and ReadKeyFiles reads
// their keys.
func TestCheckKeysReturnsWhatItChecked(t *testing.T) {
	fx := newFixture(t)
	fx.standard()
	p := "event_date=2026-11-02"
	files, err := CheckKeys(fx.ctx, fx.b, p)
	if err != nil || len(files) == 0 {
		t.Fatalf("CheckKeys(%s) = %v, %v", p, files, err)
	}
	for _, k := range files {
		if !strings.HasPrefix(k, KeysDir(p)) || !strings.HasSuffix(k, KeysExt) {
			t.Errorf("CheckKeys returned %q, not a key file of %s", k, p)
		}
	}
	listed, err := listKeyFiles(fx.ctx, fx.b, p)
	if err != nil || len(listed) != len(files) {
		t.Fatalf("CheckKeys returned %d key files, the listing has %d (%v)", len(files), len(listed), err)
	}
	var want int64
	for _, size := range listed {
		want += keysIn(size)
	}
	var read []Key
	n, err := ReadKeyFiles(fx.ctx, fx.b, p, files, func(k Key) { read = append(read, k) })
	if err != nil || n != want || int64(len(read)) != want || n == 0 {
		t.Fatalf("ReadKeyFiles read %d keys (%d calls), the files hold %d (%v)", n, len(read), want, err)
	}
	fx.del(files[0])
	if _, err := ReadKeyFiles(fx.ctx, fx.b, p, files, func(Key) {}); err == nil {
		t.Error("ReadKeyFiles of a key file that is gone succeeded")
	}
}
