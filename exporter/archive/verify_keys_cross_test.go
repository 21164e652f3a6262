package archive

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// An event written into two date partitions (after a change of
// partitioning time zone, say) is one key in two partitions' key files,
// each committed properly: only the merge across partitions sees it.
func TestVerifyDuplicateAcrossPartitions(t *testing.T) {
	fx := newFixture(t)
	fx.standard()
	ks := fx.keys(6)
	again := append(append([]Key{}, ks[1:4]...), fx.keys(2)...)
	fx.commit(true, part{name: "event_date=2026-11-04", rows: 6, keys: EncodeKeys(ks)})
	fx.commit(true, part{name: "event_date=2026-11-05", rows: 5, keys: EncodeKeys(again)})

	work := t.TempDir()
	rep, err := Verify(fx.ctx, fx.b, VerifyOptions{WorkDir: work})
	if err != nil {
		t.Fatal(err)
	}
	wantFindings(t, rep, "duplicate_key@"+KeysPrefix)
	d := detailOf(rep, KindDuplicateKey, KeysPrefix)
	if !strings.HasPrefix(d, "3 event keys ") || !strings.Contains(d, "3 in both event_date=2026-11-04 and event_date=2026-11-05") {
		t.Errorf("detail %q: want the count and both partitions", d)
	}
	if rep.Keys != 15+6+5 {
		t.Errorf("keys read %d", rep.Keys)
	}
	if ents, _ := os.ReadDir(work); len(ents) != 0 {
		t.Errorf("verify left %d entries in its work dir", len(ents))
	}

	// Partitions out of range are not merged.
	rep = fx.verify(VerifyOptions{From: "2026-11-05"})
	wantFindings(t, rep)
}

// Many partitions are merged a few runs at a time, over several levels;
// duplicates are found whichever runs they start in.
func TestVerifyDuplicateAcrossManyPartitions(t *testing.T) {
	defer func(n int) { mergeFanIn = n }(mergeFanIn)
	mergeFanIn = 3
	fx := newFixture(t)
	shared := fx.keys(2)
	name := func(i int) string { return fmt.Sprintf("event_date=2026-10-%02d", i+1) }
	for i := range 11 {
		ks := fx.keys(4)
		switch i {
		case 0, 5, 10:
			ks = append(ks, shared[0])
		case 2, 7:
			ks = append(ks, shared[1])
		}
		fx.commit(true, part{name: name(i), rows: len(ks), keys: EncodeKeys(ks)})
	}
	rep := fx.verify(VerifyOptions{})
	wantFindings(t, rep, "duplicate_key@"+KeysPrefix)
	d := detailOf(rep, KindDuplicateKey, KeysPrefix)
	for _, want := range []string{
		"2 event keys ",
		"1 in both " + name(0) + " and " + name(5),
		"1 in both " + name(0) + " and " + name(10),
		"1 in both " + name(2) + " and " + name(7),
	} {
		if !strings.Contains(d, want) {
			t.Errorf("detail %q lacks %q", d, want)
		}
	}
	// No duplicate at all: nothing to report, however many levels.
	fx = newFixture(t)
	for i := range 11 {
		fx.commit(true, part{name: name(i), rows: 7})
	}
	wantFindings(t, fx.verify(VerifyOptions{}))
}
