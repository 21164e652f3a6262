package archive

import (
	"errors"
	"strings"
	"testing"
)

// wantDamaged fails unless err is ErrDamaged, a *DamagedError naming key,
// whose text says every part of want and names no command.
func wantDamaged(t *testing.T, err error, key string, want ...string) {
	t.Helper()
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("error = %v, want ErrDamaged", err)
	}
	de, ok := errors.AsType[*DamagedError](err)
	if !ok || de.Key != key {
		t.Fatalf("error = %#v, want a *DamagedError with Key %s", err, key)
	}
	for _, w := range append(want, key) {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "auditexport ") {
		t.Errorf("error %q names a command: that is cmd's to add", err)
	}
}

// Every archive object a run finds damaged, or inconsistent with the log,
// is a *DamagedError naming it.
func TestDamagedErrors(t *testing.T) {
	t.Run("commit not JSON", func(t *testing.T) {
		fx := newFixture(t)
		fx.standard()
		fx.put(CommitKey(2), []byte("{not json"))
		_, _, err := ReadCommit(fx.ctx, fx.b, 2)
		wantDamaged(t, err, CommitKey(2), "commit 2 (", "is damaged: ")
	})
	t.Run("commit with another number", func(t *testing.T) {
		fx := newFixture(t)
		fx.standard()
		fx.put(CommitKey(3), fx.read(CommitKey(2)))
		_, err := LoadState(fx.ctx, fx.b)
		wantDamaged(t, err, CommitKey(3), "says it is number 2")
	})
	t.Run("key file", func(t *testing.T) {
		fx := newFixture(t)
		fx.standard()
		p := "event_date=2026-11-02"
		fx.put(KeysDir(p)+"run1.keys", []byte("garbage"))
		_, err := ReadKeyFiles(fx.ctx, fx.b, p, []string{KeysDir(p) + "run1.keys"}, func(Key) {})
		wantDamaged(t, err, KeysDir(p)+"run1.keys", "load the committed event keys of "+p, "bad magic")
	})
	t.Run("manifest", func(t *testing.T) {
		fx := newFixture(t)
		fx.standard()
		p := "event_date=2026-11-01"
		fx.put(ManifestKey(p), []byte(`{"unknown_field": 1}`))
		_, err := ReadManifest(fx.ctx, fx.b, p)
		wantDamaged(t, err, ManifestKey(p), "is damaged: ")
	})
	t.Run("published file of another size", func(t *testing.T) {
		fx := newFixture(t)
		c := fx.commit(false, part{name: "event_date=2026-11-01", rows: 2})
		f := c.Files[0]
		fx.put(f.Key, []byte("other bytes"))
		err := Publish(fx.ctx, fx.b, c, nil)
		wantDamaged(t, err, f.Key, "is published with 11 bytes, the commit says")
	})
	t.Run("neither published nor staged", func(t *testing.T) {
		fx := newFixture(t)
		c := fx.commit(false, part{name: "event_date=2026-11-01", rows: 2})
		f := c.Files[0]
		fx.del(f.Staging)
		err := Publish(fx.ctx, fx.b, c, nil)
		wantDamaged(t, err, f.Key, "neither the published file nor its staged copy "+f.Staging+" exists")
	})
	t.Run("key file missing", func(t *testing.T) {
		fx := newFixture(t)
		fx.standard()
		p := "event_date=2026-11-02"
		fx.del(KeysDir(p) + "run1.keys")
		_, err := CheckKeys(fx.ctx, fx.b, p)
		if !errors.Is(err, ErrKeysMissing) {
			t.Errorf("CheckKeys = %v, want ErrKeysMissing", err)
		}
		wantDamaged(t, err, KeysDir(p), "is missing", "restore the key files from object versioning or a backup")
	})
}

// Verify's findings say what is wrong and what a run will do about it, in
// the archive's words: the commands and settings are the verify command's
// hints to add.
func TestVerifyDetailsNameNoCommand(t *testing.T) {
	fx := newFixture(t)
	fx.standard()
	fx.commit(false, part{name: "event_date=2026-11-04", rows: 1})
	tmp := "event_date=2026-11-02/part-00000-run1.parquet.abc.tmp"
	fx.put(tmp, []byte("partial"))
	rep := fx.verify(VerifyOptions{})
	if d := detailOf(rep, KindUnpublished, CommitKey(4)); !strings.Contains(d, "the next run will roll it forward") {
		t.Errorf("detail of the unpublished commit: %q", d)
	}
	if d := detailOf(rep, KindUnexpectedFile, tmp); !strings.Contains(d, "a run removes it once older than the staging grace") {
		t.Errorf("detail of the temp file: %q", d)
	}
	for _, f := range rep.Findings {
		if strings.Contains(f.Detail, "auditexport ") || strings.Contains(f.Detail, "run.staging_grace") {
			t.Errorf("finding %s@%s names a command or setting: %q", f.Kind, f.Key, f.Detail)
		}
	}
}
