package archive

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/auditexport/auditexport/sinks"
)

// fixture builds archives by hand in a mem:// bucket with the package's own
// functions (EncodeKeys, Append, Publish), as runs do.
type fixture struct {
	t       *testing.T
	ctx     context.Context
	b       *sinks.Bucket
	n       int64
	prevSHA string
	nextKey uint64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	b, err := sinks.Open(context.Background(), "mem://", sinks.OpenOptions{Prefix: "archive"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return &fixture{t: t, ctx: context.Background(), b: b}
}

// part is what one commit adds to one partition.
type part struct {
	name string
	rows int
	// Optional overrides, to build commits that lie.
	claimRows int    // rows the commit records (default: rows)
	data      []byte // the data file (default: a Parquet file of rows rows)
	keys      []byte // the key file (default: rows fresh keys)
}

// parquetFile is a real Parquet file of n rows.
func parquetFile(t *testing.T, n int) []byte {
	t.Helper()
	sc := arrow.NewSchema([]arrow.Field{{Name: "EVENT_ID", Type: arrow.BinaryTypes.String}}, nil)
	bld := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer bld.Release()
	for i := range n {
		bld.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("e%d", i))
	}
	rec := bld.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	w, err := pqarrow.NewFileWriter(sc, &buf, nil, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (fx *fixture) keys(n int) []Key {
	out := make([]Key, n)
	for i := range out {
		fx.nextKey++
		binary.BigEndian.PutUint64(out[i][8:], fx.nextKey*7919) // distinct, unsorted order of creation
	}
	return out
}

func (fx *fixture) put(key string, data []byte) sinks.Written {
	fx.t.Helper()
	w, err := fx.b.PutBytes(fx.ctx, key, data, sinks.PutOptions{})
	if err != nil {
		fx.t.Fatal(err)
	}
	return w
}

// commit stages the parts, appends the next commit and, with publish,
// publishes it.
func (fx *fixture) commit(publish bool, parts ...part) *Commit {
	fx.t.Helper()
	fx.n++
	run := fmt.Sprintf("run%d", fx.n)
	c := &Commit{Version: FormatVersion, Number: fx.n, Previous: fx.prevSHA, RunID: run, Command: "run",
		Created: time.Date(2026, 11, 26, 6, 0, int(fx.n), 0, time.UTC), Tool: "test", Window: "[-inf, +inf)",
		Files: []File{}, Keys: []KeyFile{}, Source: Progress{Source: "test", Inputs: []Input{}}}
	for _, p := range parts {
		data := p.data
		if data == nil {
			data = parquetFile(fx.t, p.rows)
		}
		keys := p.keys
		if keys == nil {
			keys = EncodeKeys(fx.keys(p.rows))
		}
		claim := p.rows
		if p.claimRows != 0 {
			claim = p.claimRows
		}
		final := p.name + "/part-00000-" + run + ".parquet"
		staging := StagingPrefix + run + "/1/" + final
		w := fx.put(staging, data)
		day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		c.Files = append(c.Files, File{Key: final, Partition: p.name, Rows: int64(claim), Bytes: w.Size, SHA256: w.SHA256,
			MinTime: day, MaxTime: day.Add(time.Hour), Staging: staging})
		kfinal := KeysDir(p.name) + run + ".keys"
		kstaging := StagingPrefix + run + "/1/" + kfinal
		kw := fx.put(kstaging, keys)
		c.Keys = append(c.Keys, KeyFile{Key: kfinal, Partition: p.name, Count: int64(claim), Bytes: kw.Size, SHA256: kw.SHA256, Staging: kstaging})
	}
	if _, err := Append(fx.ctx, fx.b, c); err != nil {
		fx.t.Fatal(err)
	}
	raw, err := fx.b.ReadAll(fx.ctx, CommitKey(c.Number))
	if err != nil {
		fx.t.Fatal(err)
	}
	fx.prevSHA = SHA256(raw)
	if publish {
		if err := Publish(fx.ctx, fx.b, c, nil); err != nil {
			fx.t.Fatal(err)
		}
	}
	return c
}

// standard builds three published commits over three days, one of them
// with an event_category sub-partition.
func (fx *fixture) standard() {
	fx.t.Helper()
	fx.commit(true, part{name: "event_date=2026-11-01", rows: 4}, part{name: "event_date=2026-11-02", rows: 3})
	fx.commit(true, part{name: "event_date=2026-11-02", rows: 2}, part{name: "event_date=2026-11-03/event_category=LOGIN", rows: 5})
	fx.commit(true, part{name: "event_date=2026-11-03/event_category=LOGIN", rows: 1})
}

func (fx *fixture) verify(o VerifyOptions) *Report {
	fx.t.Helper()
	o.WorkDir = fx.t.TempDir()
	rep, err := Verify(fx.ctx, fx.b, o)
	if err != nil {
		fx.t.Fatalf("verify: %v", err)
	}
	return rep
}

func (fx *fixture) del(key string) {
	fx.t.Helper()
	if err := fx.b.Delete(fx.ctx, key); err != nil {
		fx.t.Fatal(err)
	}
}

func (fx *fixture) read(key string) []byte {
	fx.t.Helper()
	data, err := fx.b.ReadAll(fx.ctx, key)
	if err != nil {
		fx.t.Fatal(err)
	}
	return data
}

// wantFindings fails unless the report holds exactly these findings
// (kind@key), errors and infos alike.
func wantFindings(t *testing.T, rep *Report, want ...string) {
	t.Helper()
	var got []string
	for _, f := range rep.Findings {
		got = append(got, f.Kind+"@"+f.Key)
	}
	if strings.Join(sortedCopy(got), "\n") != strings.Join(sortedCopy(want), "\n") {
		t.Errorf("findings:\n got %q\nwant %q\nreport:\n%s", sortedCopy(got), sortedCopy(want), dump(rep))
	}
}

func sortedCopy(s []string) []string {
	m := map[string]bool{}
	for _, x := range s {
		m[x] = true
	}
	return sortedKeys(m)
}

func dump(rep *Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		b.WriteString("  " + f.String() + "\n")
	}
	return b.String()
}

func detailOf(rep *Report, kind, key string) string {
	for _, f := range rep.Findings {
		if f.Kind == kind && f.Key == key {
			return f.Detail
		}
	}
	return ""
}

func TestVerifyCleanArchive(t *testing.T) {
	fx := newFixture(t)
	fx.standard()
	rep := fx.verify(VerifyOptions{ReadData: true})
	wantFindings(t, rep)
	if rep.Commits != 3 || rep.Head != 3 || rep.Files != 5 || rep.KeyFiles != 5 || rep.Rows != 15 || rep.Keys != 15 ||
		rep.Manifests != 3 || rep.Partitions != 3 || rep.DataFilesRead != 5 || rep.BytesRead != rep.FileBytes {
		t.Errorf("report counts: %+v", rep)
	}
	if got := rep.PartitionRows["event_date=2026-11-02"]; got != 5 {
		t.Errorf("rows of event_date=2026-11-02 = %d, want 5", got)
	}
	if rep.Errors() != 0 || rep.Infos() != 0 {
		t.Errorf("errors %d infos %d", rep.Errors(), rep.Infos())
	}
}

func TestVerifyEmptyArchive(t *testing.T) {
	fx := newFixture(t)
	rep := fx.verify(VerifyOptions{ReadData: true})
	wantFindings(t, rep)
	if rep.Commits != 0 || rep.Head != 0 {
		t.Errorf("commits %d head %d", rep.Commits, rep.Head)
	}
	// A Parquet file in an archive with no log at all is unaccounted for.
	fx.put("event_date=2026-11-01/part-00000-x.parquet", parquetFile(t, 1))
	wantFindings(t, fx.verify(VerifyOptions{}), "unexpected_file@event_date=2026-11-01/part-00000-x.parquet")
}

// Damage to the commit log: each case damages a fresh standard archive.
func TestVerifyLog(t *testing.T) {
	c1, c2, c3 := CommitKey(1), CommitKey(2), CommitKey(3)
	cases := []struct {
		name   string
		damage func(fx *fixture)
		want   []string
		detail map[string]string // kind@key -> part of its detail
	}{
		{"gap", func(fx *fixture) { fx.del(c2) },
			[]string{"commit_missing@" + c2, "chain_broken@" + c3,
				// What commit 2 listed is now unaccounted for.
				"unexpected_file@event_date=2026-11-02/part-00000-run2.parquet",
				"unexpected_file@event_date=2026-11-03/event_category=LOGIN/part-00000-run2.parquet",
				"unexpected_file@_auditexport/keys/event_date=2026-11-02/run2.keys",
				"unexpected_file@_auditexport/keys/event_date=2026-11-03/event_category=LOGIN/run2.keys",
				"manifest_mismatch@event_date=2026-11-02/_manifest.json",
				"manifest_mismatch@event_date=2026-11-03/event_category=LOGIN/_manifest.json",
				"rows_mismatch@_auditexport/keys/event_date=2026-11-02/",
				"rows_mismatch@_auditexport/keys/event_date=2026-11-03/event_category=LOGIN/"},
			map[string]string{"chain_broken@" + c3: "names commit 2, which is missing", "unexpected_file@event_date=2026-11-02/part-00000-run2.parquet": "commit 2"}},
		{"head removed, its marker left", func(fx *fixture) { fx.del(c3) },
			[]string{"commit_missing@" + c3,
				"unexpected_file@event_date=2026-11-03/event_category=LOGIN/part-00000-run3.parquet",
				"unexpected_file@_auditexport/keys/event_date=2026-11-03/event_category=LOGIN/run3.keys",
				"manifest_mismatch@event_date=2026-11-03/event_category=LOGIN/_manifest.json",
				"rows_mismatch@_auditexport/keys/event_date=2026-11-03/event_category=LOGIN/"},
			map[string]string{"commit_missing@" + c3: "published marker"}},
		{"one byte of a commit changed", func(fx *fixture) {
			raw := fx.read(c1)
			fx.put(c1, bytes.Replace(raw, []byte(`"command": "run"`), []byte(`"command": "rux"`), 1))
		}, []string{"chain_broken@" + c2}, map[string]string{"chain_broken@" + c2: "commit 1 was changed after commit 2 was written"}},
		{"a commit that does not parse", func(fx *fixture) {
			raw := fx.read(c2)
			fx.put(c2, raw[:len(raw)/2])
		}, []string{"commit_damaged@" + c2, "chain_broken@" + c3,
			"unexpected_file@event_date=2026-11-02/part-00000-run2.parquet",
			"unexpected_file@event_date=2026-11-03/event_category=LOGIN/part-00000-run2.parquet",
			"unexpected_file@_auditexport/keys/event_date=2026-11-02/run2.keys",
			"unexpected_file@_auditexport/keys/event_date=2026-11-03/event_category=LOGIN/run2.keys",
			"manifest_mismatch@event_date=2026-11-02/_manifest.json",
			"manifest_mismatch@event_date=2026-11-03/event_category=LOGIN/_manifest.json",
			"rows_mismatch@_auditexport/keys/event_date=2026-11-02/",
			"rows_mismatch@_auditexport/keys/event_date=2026-11-03/event_category=LOGIN/"}, nil},
		{"a commit that says another number", func(fx *fixture) {
			raw := fx.read(c3)
			fx.put(c3, bytes.Replace(raw, []byte(`"number": 3`), []byte(`"number": 7`), 1))
		}, []string{"commit_damaged@" + c3,
			"unexpected_file@event_date=2026-11-03/event_category=LOGIN/part-00000-run3.parquet",
			"unexpected_file@_auditexport/keys/event_date=2026-11-03/event_category=LOGIN/run3.keys",
			"manifest_mismatch@event_date=2026-11-03/event_category=LOGIN/_manifest.json",
			"rows_mismatch@_auditexport/keys/event_date=2026-11-03/event_category=LOGIN/"},
			map[string]string{"commit_damaged@" + c3: "says it is commit 7"}},
		{"an unknown field", func(fx *fixture) {
			raw := fx.read(c3)
			fx.put(c3, bytes.Replace(raw, []byte(`"number": 3,`), []byte(`"number": 3, "extra": 1,`), 1))
		}, []string{"commit_damaged@" + c3,
			"unexpected_file@event_date=2026-11-03/event_category=LOGIN/part-00000-run3.parquet",
			"unexpected_file@_auditexport/keys/event_date=2026-11-03/event_category=LOGIN/run3.keys",
			"manifest_mismatch@event_date=2026-11-03/event_category=LOGIN/_manifest.json",
			"rows_mismatch@_auditexport/keys/event_date=2026-11-03/event_category=LOGIN/"},
			map[string]string{"commit_damaged@" + c3: "extra"}},
		{"the first commit chains to something", func(fx *fixture) {
			raw := fx.read(c1)
			fx.put(c1, bytes.Replace(raw, []byte(`"previous_sha256": ""`), []byte(`"previous_sha256": "abcd"`), 1))
		}, []string{"chain_broken@" + c1, "chain_broken@" + c2}, nil},
		{"a stray object in the log", func(fx *fixture) { fx.put(LogPrefix+"00000000000000000002.json.bak", []byte("{}")) },
			[]string{"unexpected_file@" + LogPrefix + "00000000000000000002.json.bak"}, nil},
		{"last marker removed", func(fx *fixture) { fx.del(PublishedKey(3)) },
			[]string{"unpublished@" + c3}, map[string]string{"unpublished@" + c3: "the next run will roll it forward"}},
		{"a middle marker removed", func(fx *fixture) { fx.del(PublishedKey(2)) },
			[]string{"unpublished@" + c2}, map[string]string{"unpublished@" + c2: "though commit 3 has one"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t)
			fx.standard()
			tc.damage(fx)
			rep := fx.verify(VerifyOptions{})
			wantFindings(t, rep, tc.want...)
			for fk, want := range tc.detail {
				kind, key, _ := strings.Cut(fk, "@")
				if d := detailOf(rep, kind, key); !strings.Contains(d, want) {
					t.Errorf("%s detail %q lacks %q", fk, d, want)
				}
			}
			if rep.Errors() == 0 {
				t.Error("no errors")
			}
		})
	}
}

// Damage to committed objects, the layout, key files and manifests.
func TestVerifyObjects(t *testing.T) {
	pq := "event_date=2026-11-02/part-00000-run1.parquet"
	keys := "_auditexport/keys/event_date=2026-11-02/run1.keys"
	man := "event_date=2026-11-02/_manifest.json"
	cases := []struct {
		name     string
		damage   func(fx *fixture)
		readData bool
		want     []string
	}{
		{"data file deleted", func(fx *fixture) { fx.del(pq) }, false, []string{"file_missing@" + pq}},
		{"data file truncated", func(fx *fixture) { fx.put(pq, fx.read(pq)[:100]) }, false, []string{"size_mismatch@" + pq}},
		{"one byte changed: the structure holds", func(fx *fixture) {
			d := fx.read(pq)
			d[len(d)/2] ^= 0xff
			fx.put(pq, d)
		}, false, nil},
		{"one byte changed: read-data sees it", func(fx *fixture) {
			d := fx.read(pq)
			d[len(d)/2] ^= 0xff
			fx.put(pq, d)
		}, true, []string{"sha256_mismatch@" + pq}},
		{"key file deleted", func(fx *fixture) { fx.del(keys) }, false,
			[]string{"file_missing@" + keys, "rows_mismatch@_auditexport/keys/event_date=2026-11-02/"}},
		{"key file changed", func(fx *fixture) {
			d := fx.read(keys)
			d[len(d)-1] ^= 0xff
			fx.put(keys, d)
		}, false, []string{"sha256_mismatch@" + keys}},
		{"key file copied", func(fx *fixture) { fx.put(KeysDir("event_date=2026-11-02")+"copy.keys", fx.read(keys)) }, false,
			[]string{"duplicate_key@_auditexport/keys/event_date=2026-11-02/copy.keys",
				"unexpected_file@_auditexport/keys/event_date=2026-11-02/copy.keys",
				"rows_mismatch@_auditexport/keys/event_date=2026-11-02/"}},
		{"stray parquet", func(fx *fixture) { fx.put("event_date=2026-11-02/part-99999-x.parquet", fx.read(pq)) }, false,
			[]string{"unexpected_file@event_date=2026-11-02/part-99999-x.parquet"}},
		{"stray other file", func(fx *fixture) { fx.put("event_date=2026-11-02/notes.txt", []byte("x")) }, false,
			[]string{"unexpected_file@event_date=2026-11-02/notes.txt"}},
		{"manifest rows changed", func(fx *fixture) {
			fx.put(man, bytes.Replace(fx.read(man), []byte(`"rows": 3`), []byte(`"rows": 4`), 1))
		}, false, []string{"manifest_mismatch@" + man}},
		{"manifest names another sha256 for a file", func(fx *fixture) {
			var m Manifest
			if err := json.Unmarshal(fx.read(man), &m); err != nil {
				fx.t.Fatal(err)
			}
			m.Files[0].SHA256 = strings.Repeat("0", 64)
			b, _ := json.Marshal(m)
			fx.put(man, b)
		}, false, []string{"manifest_mismatch@" + man}},
		{"manifest unparseable", func(fx *fixture) { fx.put(man, []byte(`{"version":1`)) }, false, []string{"manifest_mismatch@" + man}},
		{"manifest deleted", func(fx *fixture) { fx.del(man) }, false, []string{"manifest_mismatch@" + man}},
		{"_SUCCESS deleted", func(fx *fixture) { fx.del("event_date=2026-11-02/_SUCCESS") }, false,
			[]string{"manifest_mismatch@event_date=2026-11-02/_SUCCESS"}},
		{"manifest of a partition without files", func(fx *fixture) {
			fx.put("event_date=2026-11-09/_manifest.json", fx.read(man))
		}, false, []string{"manifest_mismatch@event_date=2026-11-09/_manifest.json"}},
		{"staging debris (info)", func(fx *fixture) { fx.put(StagingPrefix+"deadrun/1/x.parquet", []byte("x")) }, false,
			[]string{"staging_debris@" + StagingPrefix + "deadrun/"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t)
			fx.standard()
			tc.damage(fx)
			rep := fx.verify(VerifyOptions{ReadData: tc.readData})
			wantFindings(t, rep, tc.want...)
		})
	}
}

func TestVerifyInfoSeverities(t *testing.T) {
	fx := newFixture(t)
	fx.standard()
	fx.put("_auditexport/notes.txt", []byte("x"))
	fx.put(StagingPrefix+"deadrun/1/x.parquet", []byte("x"))
	rep := fx.verify(VerifyOptions{})
	if rep.Errors() != 0 || rep.Infos() != 2 {
		t.Errorf("errors %d infos %d, want 0 and 2:\n%s", rep.Errors(), rep.Infos(), dump(rep))
	}
}

// Commits whose own records disagree: the footer says other rows than the
// commit (only --read-data sees it), a committed file that is not Parquet,
// key files that are not sorted, hold a key twice or lack the magic.
func TestVerifyLyingCommits(t *testing.T) {
	p := "event_date=2026-11-01"
	pq := p + "/part-00000-run1.parquet"
	kf := KeysDir(p) + "run1.keys"
	k := func(b byte) []byte { return append(bytes.Repeat([]byte{0}, 15), b) }
	cases := []struct {
		name      string
		part      part
		structure []string
		readData  []string
	}{
		{"footer rows differ", part{name: p, rows: 3, claimRows: 5, keys: EncodeKeys(make([]Key, 0))}, nil, nil},
		{"not parquet", part{name: p, rows: 2, data: []byte("PAR1 this is not parquet PAR1")}, nil, []string{"data_damaged@" + pq}},
		{"unsorted keys", part{name: p, rows: 2, keys: append([]byte(keysMagic), append(k(2), k(1)...)...)}, []string{"keys_damaged@" + kf}, []string{"keys_damaged@" + kf}},
		{"a key twice in one file", part{name: p, rows: 2, keys: append([]byte(keysMagic), append(k(1), k(1)...)...)}, []string{"duplicate_key@" + kf}, []string{"duplicate_key@" + kf}},
		{"bad magic", part{name: p, rows: 2, keys: append([]byte("NOT-KEYS-1\n"), append(k(1), k(2)...)...)}, []string{"keys_damaged@" + kf, "rows_mismatch@" + KeysDir(p)}, []string{"keys_damaged@" + kf, "rows_mismatch@" + KeysDir(p)}},
		{"truncated keys", part{name: p, rows: 2, keys: append([]byte(keysMagic), append(k(1), k(2)[:9]...)...)}, []string{"keys_damaged@" + kf, "rows_mismatch@" + kf, "rows_mismatch@" + KeysDir(p)}, []string{"keys_damaged@" + kf, "rows_mismatch@" + kf, "rows_mismatch@" + KeysDir(p)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t)
			pt := tc.part
			if tc.name == "footer rows differ" {
				// 5 keys, as the commit claims; the file holds 3 rows.
				pt.keys = EncodeKeys(fx.keys(5))
			}
			fx.commit(true, pt)
			wantFindings(t, fx.verify(VerifyOptions{}), tc.structure...)
			want := tc.readData
			if tc.name == "footer rows differ" {
				want = []string{"rows_mismatch@" + pq}
			}
			wantFindings(t, fx.verify(VerifyOptions{ReadData: true}), want...)
		})
	}
}

// A commit whose key file count disagrees with its files' rows, and one
// that adds rows without a key file.
func TestVerifyCommitConsistency(t *testing.T) {
	fx := newFixture(t)
	c := &Commit{Version: FormatVersion, Number: 1, Files: []File{
		{Key: "event_date=2026-11-01/a.parquet", Partition: "event_date=2026-11-01", Rows: 2},
		{Key: "event_date=2026-11-02/b.parquet", Partition: "event_date=2026-11-02", Rows: 2},
		{Key: "elsewhere/c.parquet", Partition: "event_date=2026-11-02", Rows: 1},
	}, Keys: []KeyFile{{Key: KeysDir("event_date=2026-11-01") + "r.keys", Partition: "event_date=2026-11-01", Count: 3}}}
	if _, err := Append(fx.ctx, fx.b, c); err != nil {
		t.Fatal(err)
	}
	rep := fx.verify(VerifyOptions{})
	for _, want := range []struct{ kind, detail string }{
		{KindRowsMismatch, "holds 3 keys, the commit's files in event_date=2026-11-01 hold 2 rows"},
		{KindCommitDamaged, "no key file for it"},
		{KindCommitDamaged, `lists file "elsewhere/c.parquet"`},
		{KindUnpublished, "not fully published"},
	} {
		found := false
		for _, f := range rep.Findings {
			found = found || f.Kind == want.kind && f.Key == CommitKey(1) && strings.Contains(f.Detail, want.detail)
		}
		if !found {
			t.Errorf("no %s on %s saying %q:\n%s", want.kind, CommitKey(1), want.detail, dump(rep))
		}
	}
}

// A commit not published yet: its staged files are what roll-forward
// needs, not debris; once they are gone it cannot be rolled forward.
func TestVerifyUnpublishedCommit(t *testing.T) {
	fx := newFixture(t)
	fx.standard()
	c := fx.commit(false, part{name: "event_date=2026-11-04", rows: 2})
	rep := fx.verify(VerifyOptions{ReadData: true})
	wantFindings(t, rep, "unpublished@"+CommitKey(4))
	if rep.PartitionRows["event_date=2026-11-04"] != 0 {
		t.Errorf("staged rows counted as in place: %v", rep.PartitionRows)
	}
	fx.del(c.Files[0].Staging)
	wantFindings(t, fx.verify(VerifyOptions{}), "unpublished@"+CommitKey(4), "file_missing@"+c.Files[0].Key)
	if err := Publish(fx.ctx, fx.b, c, nil); err == nil {
		t.Error("publish succeeded without the staged file")
	}
	// Published, its staged copies would be debris; here roll-forward of a
	// complete commit makes the archive clean again.
	fx2 := newFixture(t)
	c2 := fx2.commit(false, part{name: "event_date=2026-11-04", rows: 2})
	if err := Publish(fx2.ctx, fx2.b, c2, nil); err != nil {
		t.Fatal(err)
	}
	wantFindings(t, fx2.verify(VerifyOptions{ReadData: true}))
	// A staged copy left after its commit was published is debris.
	fx2.put(c2.Files[0].Staging, []byte("left behind"))
	rep = fx2.verify(VerifyOptions{Now: func() time.Time { return time.Now().Add(time.Hour) }})
	wantFindings(t, rep, "staging_debris@"+StagingPrefix+"run1/")
	if d := rep.Findings[0].Detail; !strings.Contains(d, "after commit 1 was published") || rep.Findings[0].Severity != SeverityInfo {
		t.Errorf("debris finding %+v", rep.Findings[0])
	}
}

// --from/--to restrict the per-partition checks, never the log's.
func TestVerifyRange(t *testing.T) {
	fx := newFixture(t)
	fx.standard()
	fx.del("event_date=2026-11-01/part-00000-run1.parquet")
	fx.put("event_date=2026-11-01/part-99999-x.parquet", []byte("x"))
	wantFindings(t, fx.verify(VerifyOptions{From: "2026-11-02"}))
	wantFindings(t, fx.verify(VerifyOptions{To: "2026-11-01"}),
		"file_missing@event_date=2026-11-01/part-00000-run1.parquet", "unexpected_file@event_date=2026-11-01/part-99999-x.parquet")
	rep := fx.verify(VerifyOptions{From: "2026-11-03", To: "2026-11-03"})
	if rep.Partitions != 1 || rep.Files != 2 {
		t.Errorf("range 2026-11-03: %d partitions %d files, want 1 and 2", rep.Partitions, rep.Files)
	}
	fx.del(PublishedKey(1))
	wantFindings(t, fx.verify(VerifyOptions{From: "2026-11-03"}), "unpublished@"+CommitKey(1))

	for _, o := range []VerifyOptions{{From: "Nov 1"}, {To: "2026-13-01"}, {From: "2026-11-02", To: "2026-11-01"}} {
		if _, err := Verify(fx.ctx, fx.b, o); err == nil {
			t.Errorf("Verify(%+v) accepted bad dates", o)
		}
	}
}

func TestCompareSource(t *testing.T) {
	fx := newFixture(t)
	fx.standard()
	rep := fx.verify(VerifyOptions{})
	rep.CompareSource(map[string]int64{
		"event_date=2026-11-01":                      4, // equal
		"event_date=2026-11-02":                      6, // the archive lacks one
		"event_date=2026-11-03/event_category=LOGIN": 6,
	})
	wantFindings(t, rep, "source_mismatch@event_date=2026-11-02")
	if d := detailOf(rep, KindSourceMismatch, "event_date=2026-11-02"); !strings.Contains(d, "source has 6 events for event_date=2026-11-02, archive has 5: 1 events are not in the archive") {
		t.Errorf("detail %q", d)
	}
	if rep.SourcePartitions != 3 || rep.Tiers[len(rep.Tiers)-1] != "source" {
		t.Errorf("source partitions %d tiers %v", rep.SourcePartitions, rep.Tiers)
	}

	// More in the archive: an info on the source's oldest day (retention
	// cut it), an error on any other; days the source lacks are skipped.
	rep = fx.verify(VerifyOptions{})
	rep.CompareSource(map[string]int64{"event_date=2026-11-02": 2, "event_date=2026-11-03/event_category=LOGIN": 1})
	wantFindings(t, rep, "source_mismatch@event_date=2026-11-02", "source_mismatch@event_date=2026-11-03/event_category=LOGIN")
	if rep.Errors() != 1 || rep.Infos() != 1 || rep.Findings[0].Key != "event_date=2026-11-03/event_category=LOGIN" {
		t.Errorf("want the 11-03 error and the 11-02 info:\n%s", dump(rep))
	}

	// A deleted file shows as missing events.
	fx.del("event_date=2026-11-01/part-00000-run1.parquet")
	rep = fx.verify(VerifyOptions{})
	rep.CompareSource(map[string]int64{"event_date=2026-11-01": 4})
	if !rep.Has(KindSourceMismatch, "event_date=2026-11-01") || !rep.Has(KindFileMissing, "event_date=2026-11-01/part-00000-run1.parquet") {
		t.Errorf("deleted file:\n%s", dump(rep))
	}
}

// The report is stable JSON with every finding.
func TestReportJSON(t *testing.T) {
	fx := newFixture(t)
	fx.standard()
	fx.del(PublishedKey(3))
	rep := fx.verify(VerifyOptions{})
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Commits  int       `json:"commits"`
		Findings []Finding `json:"findings"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Commits != 3 || len(back.Findings) != 1 || back.Findings[0].Kind != KindUnpublished || back.Findings[0].Severity != SeverityError {
		t.Errorf("JSON report %s", b)
	}
}

// Key files of one partition are merged as sorted streams: duplicates
// across many files are found however the keys interleave.
func TestVerifyKeyMerge(t *testing.T) {
	fx := newFixture(t)
	fx.standard()
	p := "event_date=2026-11-05"
	var all []Key
	for i := range 3 {
		ks := fx.keys(50)
		all = append(all, ks...)
		fx.put(KeysDir(p)+fmt.Sprintf("k%d.keys", i), EncodeKeys(ks))
	}
	// A fourth file sharing 7 keys with k0 and 3 with k2.
	shared := append(append([]Key{}, all[10:17]...), all[120:123]...)
	fx.put(KeysDir(p)+"k3.keys", EncodeKeys(append(shared, fx.keys(5)...)))
	rep := fx.verify(VerifyOptions{})
	var dups []string
	for _, f := range rep.Findings {
		if f.Kind == KindDuplicateKey {
			dups = append(dups, path.Base(f.Key)+": "+f.Detail[:strings.Index(f.Detail, " event keys")])
		}
	}
	if got := strings.Join(sortedCopy(dups), "; "); got != "k3.keys: 3; k3.keys: 7" {
		t.Errorf("duplicate findings %q:\n%s", dups, dump(rep))
	}
	if rep.Keys != 15+3*50+10+5 {
		t.Errorf("keys read %d", rep.Keys)
	}
}
