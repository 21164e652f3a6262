package archive

import (
	"encoding/json"
	"strings"
	"testing"
)

// putManifest overwrites a partition's manifest.
func (fx *fixture) putManifest(m *Manifest) {
	fx.t.Helper()
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		fx.t.Fatal(err)
	}
	fx.put(ManifestKey(m.Partition), append(data, '\n'))
}

// rewriteCommit changes commit n in place, as someone with write access to
// the bucket could, and returns the SHA-256 of its new bytes.
func (fx *fixture) rewriteCommit(n int64, change func(c *Commit)) string {
	fx.t.Helper()
	c, err := DecodeCommit(fx.read(CommitKey(n)))
	if err != nil {
		fx.t.Fatal(err)
	}
	change(c)
	data, err := c.Encode()
	if err != nil {
		fx.t.Fatal(err)
	}
	fx.put(CommitKey(n), data)
	return SHA256(data)
}

// anchored builds the standard archive plus a fourth commit that only
// moves the source progress (nothing in the layout depends on it), and
// returns the anchor of each commit.
func anchored(t *testing.T) (*fixture, map[int64]Anchor) {
	t.Helper()
	fx := newFixture(t)
	anchors := map[int64]Anchor{}
	fx.commit(true, part{name: "event_date=2026-11-01", rows: 4})
	anchors[1] = Anchor{1, fx.prevSHA}
	fx.commit(true, part{name: "event_date=2026-11-02", rows: 2})
	anchors[2] = Anchor{2, fx.prevSHA}
	fx.commit(true, part{name: "event_date=2026-11-02", rows: 3})
	anchors[3] = Anchor{3, fx.prevSHA}
	fx.commit(true)
	anchors[4] = Anchor{4, fx.prevSHA}
	return fx, anchors
}

func TestVerifyExpectHead(t *testing.T) {
	c2, c3, c4 := CommitKey(2), CommitKey(3), CommitKey(4)
	cases := []struct {
		name   string
		damage func(fx *fixture)
		expect int64 // the commit whose anchor verify is given
		// without is what verify finds with no anchor: tampering the
		// chain cannot show.
		without []string
		want    []string
	}{
		{"head matches", nil, 4, nil, nil},
		{"earlier commit, chain reaches the head", nil, 2, nil, nil},
		{"last commit removed", func(fx *fixture) {
			fx.del(c4)
			fx.del(PublishedKey(4))
		}, 4, nil, []string{"head_mismatch@" + c4}},
		{"last two commits removed, with what they published", func(fx *fixture) {
			fx.del(c4)
			fx.del(PublishedKey(4))
			fx.del(c3)
			fx.del(PublishedKey(3))
			fx.del("event_date=2026-11-02/part-00000-run3.parquet")
			fx.del(KeysDir("event_date=2026-11-02") + "run3.keys")
			m, err := ReadManifest(fx.ctx, fx.b, "event_date=2026-11-02")
			if err != nil {
				fx.t.Fatal(err)
			}
			m.Files, m.Rows, m.Bytes, m.Commit = m.Files[:1], m.Files[0].Rows, m.Files[0].Bytes, 2
			fx.putManifest(m)
		}, 4, nil, []string{"head_mismatch@" + c4}},
		{"head edited", func(fx *fixture) {
			fx.rewriteCommit(4, func(c *Commit) { c.Source.Source = "elsewhere" })
		}, 4, nil, []string{"head_mismatch@" + c4}},
		{"chain rewritten from the anchor on", func(fx *fixture) {
			sum := fx.rewriteCommit(2, func(c *Commit) { c.RunID = "forged" })
			sum = fx.rewriteCommit(3, func(c *Commit) { c.Previous = sum })
			fx.rewriteCommit(4, func(c *Commit) { c.Previous = sum })
		}, 2, nil, []string{"head_mismatch@" + c2}},
		{"chain broken after the anchor", func(fx *fixture) {
			fx.rewriteCommit(3, func(c *Commit) { c.Previous = strings.Repeat("0", 64) })
		}, 2, []string{"chain_broken@" + c3, "chain_broken@" + c4}, []string{"chain_broken@" + c3, "chain_broken@" + c4, "head_mismatch@" + c3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx, anchors := anchored(t)
			if tc.damage != nil {
				tc.damage(fx)
			}
			wantFindings(t, fx.verify(VerifyOptions{}), tc.without...)
			a := anchors[tc.expect]
			rep := fx.verify(VerifyOptions{ExpectHead: a})
			wantFindings(t, rep, tc.want...)
			if rep.ExpectHead != a.String() {
				t.Errorf("report expect_head %q, want %q", rep.ExpectHead, a)
			}
		})
	}
}

// The wrong SHA-256 for a commit that is there is named with both hashes.
func TestVerifyExpectHeadWrongSHA(t *testing.T) {
	fx, anchors := anchored(t)
	wrong := Anchor{3, strings.Repeat("ab", 32)}
	rep := fx.verify(VerifyOptions{ExpectHead: wrong})
	wantFindings(t, rep, "head_mismatch@"+CommitKey(3))
	d := detailOf(rep, KindHeadMismatch, CommitKey(3))
	if !strings.Contains(d, anchors[3].SHA256) || !strings.Contains(d, wrong.SHA256) {
		t.Errorf("detail %q names neither the stored nor the expected sha256", d)
	}
	if rep.Errors() != 1 {
		t.Errorf("errors %d, want 1", rep.Errors())
	}
}

// The report carries the head to record: its number and the SHA-256 of
// its stored bytes, as Append returned it.
func TestVerifyReportsHead(t *testing.T) {
	fx, anchors := anchored(t)
	rep := fx.verify(VerifyOptions{})
	if rep.Head != 4 || rep.HeadSHA256 != anchors[4].SHA256 {
		t.Errorf("head %d %s, want 4 %s", rep.Head, rep.HeadSHA256, anchors[4].SHA256)
	}
	c, err := DecodeCommit(fx.read(CommitKey(4)))
	if err != nil {
		t.Fatal(err)
	}
	c.Number = 5
	c.Previous = anchors[4].SHA256
	sum, err := Append(fx.ctx, fx.b, c)
	if err != nil {
		t.Fatal(err)
	}
	if want := SHA256(fx.read(CommitKey(5))); sum != want {
		t.Errorf("Append returned %s, the stored bytes hash to %s", sum, want)
	}
	// A retried append that finds its own bytes returns the same hash.
	if again, err := Append(fx.ctx, fx.b, c); err != nil || again != sum {
		t.Errorf("retried Append: %s, %v; want %s", again, err, sum)
	}
	if _, err := Append(fx.ctx, fx.b, &Commit{Version: FormatVersion, Number: 5}); err == nil {
		t.Error("Append over another commit 5 succeeded")
	}
	if empty := newFixture(t).verify(VerifyOptions{}); empty.HeadSHA256 != "" {
		t.Errorf("empty archive head sha256 %q", empty.HeadSHA256)
	}
}

func TestParseAnchor(t *testing.T) {
	sha := strings.Repeat("0f", 32)
	for _, tc := range []struct {
		in, want, err string
	}{
		{"12:" + sha, "12:" + sha, ""},
		{" 12:" + strings.ToUpper(sha) + "\n", "12:" + sha, ""},
		{"12", "", "want N:SHA"},
		{"0:" + sha, "", "not a number of 1 or more"},
		{"-3:" + sha, "", "not a number of 1 or more"},
		{"x:" + sha, "", "not a number"},
		{"12:" + sha[:63], "", "not 64 hex digits"},
		{"12:" + sha[:62] + "zz", "", "not 64 hex digits"},
		{"12:", "", "not 64 hex digits"},
	} {
		a, err := ParseAnchor(tc.in)
		switch {
		case tc.err == "" && (err != nil || a.String() != tc.want):
			t.Errorf("ParseAnchor(%q) = %v, %v; want %s", tc.in, a, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseAnchor(%q) error %v, want one saying %q", tc.in, err, tc.err)
		}
	}
}
