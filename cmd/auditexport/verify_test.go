package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/auditexport/auditexport/exporter/archive"
)

var updateArchives = flag.Bool("update-archives", false, "regenerate testdata/archives/v1 (generate, then one run per export)")

// archiveV1 is a small archive made by `generate` and three incremental
// runs (see testdata/archives/README.md), with the landing prefix it was
// made from. Tests damage copies of it.
const archiveV1 = "../../testdata/archives/v1"

// Regenerates the committed archive: go test ./cmd/auditexport -run TestRegenerateArchiveV1 -update-archives
func TestRegenerateArchiveV1(t *testing.T) {
	if !*updateArchives {
		t.Skip("run with -update-archives to regenerate " + archiveV1)
	}
	tmp := t.TempDir()
	all := filepath.Join(tmp, "all")
	code, _, stderr := cli(t, "generate", "--out", all, "--start", "2026-11-01", "--days", "3", "--rows-per-day", "8",
		"--exports", "3", "--format", "csv", "--seed", "7", "--duplicate-rate", "0.1", "--late-rate", "0.08")
	if code != exitOK {
		t.Fatalf("generate: %s", stderr)
	}
	if err := os.RemoveAll(archiveV1); err != nil {
		t.Fatal(err)
	}
	land, arch := filepath.Join(archiveV1, "landing"), filepath.Join(archiveV1, "archive")
	if err := os.MkdirAll(land, 0o755); err != nil {
		t.Fatal(err)
	}
	exports, _ := filepath.Glob(filepath.Join(all, "*"))
	slices.Sort(exports)
	for _, e := range exports {
		data, err := os.ReadFile(e)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, land, filepath.Base(e), string(data))
		if code, _, stderr := cli(t, "run", "--source.url", land, "--destination.url", arch, "--log.level", "warn"); code != exitOK {
			t.Fatalf("run: %s", stderr)
		}
	}
}

// copyArchive copies archiveV1 into a temporary directory and returns its
// archive and landing directories.
func copyArchive(t *testing.T) (arch, land string) {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(archiveV1, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(archiveV1, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s (regenerate it with -update-archives): %v", archiveV1, err)
	}
	return filepath.Join(dst, "archive"), filepath.Join(dst, "landing")
}

// verifyDoc is the part of verify --json the tests read.
type verifyDoc struct {
	Status           string            `json:"status"`
	Tiers            []string          `json:"tiers"`
	Commits          int               `json:"commits"`
	Head             int64             `json:"head"`
	Partitions       int               `json:"partitions"`
	Files            int               `json:"files"`
	Rows             int64             `json:"rows"`
	Keys             int64             `json:"keys"`
	DataFilesRead    int               `json:"data_files_read"`
	SourcePartitions int               `json:"source_partitions"`
	Errors           int               `json:"errors"`
	Infos            int               `json:"infos"`
	Counts           map[string]int    `json:"counts"`
	Hints            map[string]string `json:"hints"`
	Findings         []archive.Finding `json:"findings"`
	Next             string            `json:"next"`
}

// verifyRun is one verify, in text and in --json.
type verifyRun struct {
	code         int
	text, stderr string
	doc          verifyDoc
}

// verifyCLI runs `verify --destination.url arch args...` twice, as text and
// as --json, and checks that both end with the same status.
func verifyCLI(t *testing.T, arch string, args ...string) verifyRun {
	t.Helper()
	base := append([]string{"verify", "--destination.url", arch, "--log.level", "warn"}, args...)
	var r verifyRun
	r.code, r.text, r.stderr = cli(t, base...)
	code, out, stderr := cli(t, append(base, "--json")...)
	if code != r.code {
		t.Fatalf("verify %v: text exit %d, --json exit %d\n%s", args, r.code, code, stderr)
	}
	if err := json.Unmarshal([]byte(out), &r.doc); err != nil {
		t.Fatalf("verify --json output %q: %v\n%s", out, err, stderr)
	}
	return r
}

// wantFinding checks that the run exited with exitFindings and reports an
// error finding of kind about key, in both outputs.
func (r verifyRun) wantFinding(t *testing.T, kind, key string) {
	t.Helper()
	if r.code != exitFindings || !strings.Contains(r.stderr, "failed verification") {
		t.Errorf("exit %d, want %d; stderr %q", r.code, exitFindings, r.stderr)
	}
	found := false
	for _, f := range r.doc.Findings {
		found = found || f.Kind == kind && f.Key == key && f.Severity == archive.SeverityError
	}
	if !found {
		t.Errorf("--json has no %s error on %s:\n%s", kind, key, r.text)
	}
	line := ""
	for l := range strings.Lines(r.text) {
		if strings.HasPrefix(l, "error ") && strings.Contains(l, " "+kind+" ") && strings.Contains(l, " "+key+": ") {
			line = l
		}
	}
	if line == "" {
		t.Errorf("the report has no line naming %s and %s:\n%s", kind, key, r.text)
	}
	if r.doc.Status != "findings" || r.doc.Counts[kind] == 0 || r.doc.Hints[kind] == "" || !strings.Contains(r.text, "summary: ") {
		t.Errorf("status %q counts %v hints %v", r.doc.Status, r.doc.Counts, r.doc.Hints)
	}
}

func (r verifyRun) wantClean(t *testing.T) {
	t.Helper()
	if r.code != exitOK || r.doc.Status != "ok" || r.doc.Errors != 0 || !strings.Contains(r.text, "summary: 0 errors") {
		t.Fatalf("exit %d, status %q, want a clean pass:\n%s\n%s", r.code, r.doc.Status, r.text, r.stderr)
	}
}

// archiveFiles lists the names in an archive directory that end with suffix.
func archiveFiles(t *testing.T, dir, suffix string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), suffix) {
			out = append(out, e.Name())
		}
	}
	if len(out) == 0 {
		t.Fatalf("no *%s in %s", suffix, dir)
	}
	return out
}

func rewriteFile(t *testing.T, p string, fn func([]byte) []byte) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, fn(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyCleanArchive(t *testing.T) {
	arch, land := copyArchive(t)
	r := verifyCLI(t, arch)
	r.wantClean(t)
	if r.doc.Commits != 3 || r.doc.Head != 3 || r.doc.Files != 5 || r.doc.Partitions != 3 || r.doc.Keys != r.doc.Rows || r.doc.Rows == 0 {
		t.Errorf("report %+v", r.doc)
	}
	if !strings.Contains(r.text, "next: auditexport verify --read-data") || !strings.Contains(r.doc.Next, "--read-data") {
		t.Errorf("a clean structural pass should point to --read-data:\n%s", r.text)
	}
	r = verifyCLI(t, arch, "--read-data")
	r.wantClean(t)
	if r.doc.DataFilesRead != 5 || !slices.Equal(r.doc.Tiers, []string{"structure", "read-data"}) || !strings.Contains(r.doc.Next, "--source") {
		t.Errorf("--read-data: read %d files, tiers %v, next %q", r.doc.DataFilesRead, r.doc.Tiers, r.doc.Next)
	}
	r = verifyCLI(t, arch, "--read-data", "--source", "--source.url", land)
	r.wantClean(t)
	if r.doc.SourcePartitions != 3 || !strings.HasPrefix(r.doc.Next, "nothing") {
		t.Errorf("--source: %d partitions compared, next %q", r.doc.SourcePartitions, r.doc.Next)
	}
}

// Each case damages a copy of the clean archive one way and checks the
// finding that names it.
func TestVerifyDamagedArchive(t *testing.T) {
	type want struct{ kind, key string }
	const day = "event_date=2026-11-02"
	cases := []struct {
		name   string
		damage func(t *testing.T, arch string) []want
	}{
		{"published file deleted", func(t *testing.T, arch string) []want {
			f := day + "/" + archiveFiles(t, filepath.Join(arch, day), ".parquet")[0]
			os.Remove(filepath.Join(arch, f))
			return []want{{archive.KindFileMissing, f}}
		}},
		{"published file truncated", func(t *testing.T, arch string) []want {
			f := day + "/" + archiveFiles(t, filepath.Join(arch, day), ".parquet")[0]
			rewriteFile(t, filepath.Join(arch, f), func(b []byte) []byte { return b[:len(b)/2] })
			return []want{{archive.KindSizeMismatch, f}}
		}},
		{"commit in the middle deleted", func(t *testing.T, arch string) []want {
			os.Remove(filepath.Join(arch, archive.CommitKey(2)))
			return []want{{archive.KindCommitMissing, archive.CommitKey(2)}, {archive.KindChainBroken, archive.CommitKey(3)}}
		}},
		{"head commit deleted", func(t *testing.T, arch string) []want {
			os.Remove(filepath.Join(arch, archive.CommitKey(3)))
			return []want{{archive.KindCommitMissing, archive.CommitKey(3)}}
		}},
		{"commit bytes altered", func(t *testing.T, arch string) []want {
			rewriteFile(t, filepath.Join(arch, archive.CommitKey(1)), func(b []byte) []byte {
				return bytes.Replace(b, []byte(`"command": "run"`), []byte(`"command": "rux"`), 1)
			})
			return []want{{archive.KindChainBroken, archive.CommitKey(2)}}
		}},
		{"commit unparseable", func(t *testing.T, arch string) []want {
			rewriteFile(t, filepath.Join(arch, archive.CommitKey(2)), func(b []byte) []byte { return b[:len(b)-20] })
			return []want{{archive.KindCommitDamaged, archive.CommitKey(2)}, {archive.KindChainBroken, archive.CommitKey(3)}}
		}},
		{"stray parquet file", func(t *testing.T, arch string) []want {
			f := day + "/" + archiveFiles(t, filepath.Join(arch, day), ".parquet")[0]
			stray := day + "/part-00099-stray.parquet"
			rewriteFile(t, filepath.Join(arch, f), func(b []byte) []byte {
				os.WriteFile(filepath.Join(arch, stray), b, 0o644)
				return b
			})
			return []want{{archive.KindUnexpectedFile, stray}}
		}},
		{"key file duplicated under another name", func(t *testing.T, arch string) []want {
			dir := archive.KeysDir(day)
			k := archiveFiles(t, filepath.Join(arch, dir), ".keys")[0]
			data, _ := os.ReadFile(filepath.Join(arch, dir, k))
			writeFile(t, filepath.Join(arch, dir), "copy.keys", string(data))
			return []want{{archive.KindDuplicateKey, dir + "copy.keys"}, {archive.KindUnexpectedFile, dir + "copy.keys"}}
		}},
		{"manifest corrupted", func(t *testing.T, arch string) []want {
			m := archive.ManifestKey(day)
			rewriteFile(t, filepath.Join(arch, m), func(b []byte) []byte {
				return bytes.Replace(b, []byte(`"rows": `), []byte(`"rows": 1`), 1)
			})
			return []want{{archive.KindManifestBad, m}}
		}},
		{"published marker removed", func(t *testing.T, arch string) []want {
			os.Remove(filepath.Join(arch, archive.PublishedKey(2)))
			return []want{{archive.KindUnpublished, archive.CommitKey(2)}}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			arch, _ := copyArchive(t)
			wants := tc.damage(t, arch)
			r := verifyCLI(t, arch)
			for _, w := range wants {
				r.wantFinding(t, w.kind, w.key)
			}
			if !strings.Contains(r.text, "what to do:") || !strings.Contains(r.text, "next: ") {
				t.Errorf("the report lacks what to do and the next command:\n%s", r.text)
			}
		})
	}
}

// One changed byte keeps every size: the structural tier passes, and
// --read-data finds the sha256 that no longer matches.
func TestVerifyReadDataFindsAlteredByte(t *testing.T) {
	arch, _ := copyArchive(t)
	const day = "event_date=2026-11-03"
	f := day + "/" + archiveFiles(t, filepath.Join(arch, day), ".parquet")[1]
	rewriteFile(t, filepath.Join(arch, f), func(b []byte) []byte {
		b[len(b)/2] ^= 0x01
		return b
	})
	verifyCLI(t, arch).wantClean(t)
	r := verifyCLI(t, arch, "--read-data")
	r.wantFinding(t, archive.KindSHA256Mismatch, f)
	if r.doc.Errors != 1 {
		t.Errorf("%d errors, want only the sha256 mismatch:\n%s", r.doc.Errors, r.text)
	}
}

// An unpublished commit: verify says to run, and a run rolls it forward.
func TestVerifyUnpublishedThenRun(t *testing.T) {
	arch, land := copyArchive(t)
	os.Remove(filepath.Join(arch, archive.PublishedKey(3)))
	r := verifyCLI(t, arch)
	r.wantFinding(t, archive.KindUnpublished, archive.CommitKey(3))
	if !strings.HasPrefix(r.doc.Next, "auditexport run") || !strings.Contains(r.text, "roll it forward") ||
		!strings.Contains(r.text, "unpublished: `auditexport run` rolls unpublished commits forward") {
		t.Errorf("next %q, want auditexport run:\n%s", r.doc.Next, r.text)
	}
	code, out, stderr := cli(t, "run", "--source.url", land, "--destination.url", arch, "--log.level", "warn")
	if code != exitOK || !strings.Contains(out, `"rolled_forward":[3]`) {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, stderr)
	}
	verifyCLI(t, arch, "--read-data").wantClean(t)
}

// --source compares each day's distinct events with the landing exports.
func TestVerifySource(t *testing.T) {
	arch, land := copyArchive(t)
	verifyCLI(t, arch, "--source", "--source.url", land).wantClean(t)
	const day = "event_date=2026-11-02"
	f := day + "/" + archiveFiles(t, filepath.Join(arch, day), ".parquet")[0]
	os.Remove(filepath.Join(arch, f))
	r := verifyCLI(t, arch, "--source", "--source.url", land)
	r.wantFinding(t, archive.KindSourceMismatch, day)
	r.wantFinding(t, archive.KindFileMissing, f)
	var d string
	for _, fd := range r.doc.Findings {
		if fd.Kind == archive.KindSourceMismatch {
			d = fd.Detail
		}
	}
	var src, got int64
	if _, err := fmt.Sscanf(d, "source has %d events for "+day+", archive has %d", &src, &got); err != nil || src <= got || got == 0 ||
		!strings.Contains(d, fmt.Sprintf("%d events are not in the archive", src-got)) {
		t.Errorf("source_mismatch detail %q: want the source's count above the archive's", d)
	}
	// Only the days in range are compared.
	r = verifyCLI(t, arch, "--source", "--source.url", land, "--from", "2026-11-03")
	r.wantClean(t)
	if r.doc.SourcePartitions != 1 {
		t.Errorf("--from 2026-11-03 compared %d partitions, want 1", r.doc.SourcePartitions)
	}
}

// --from/--to restrict the partition checks; the log is always checked.
func TestVerifyRange(t *testing.T) {
	arch, _ := copyArchive(t)
	const day = "event_date=2026-11-01"
	f := day + "/" + archiveFiles(t, filepath.Join(arch, day), ".parquet")[0]
	os.Remove(filepath.Join(arch, f))
	verifyCLI(t, arch, "--from", "2026-11-02").wantClean(t)
	verifyCLI(t, arch, "--to", "2026-11-01").wantFinding(t, archive.KindFileMissing, f)
	verifyCLI(t, arch, "--from", "2026-11-01", "--to", "2026-11-01").wantFinding(t, archive.KindFileMissing, f)
	os.Remove(filepath.Join(arch, archive.CommitKey(2)))
	verifyCLI(t, arch, "--from", "2026-11-03", "--to", "2026-11-03").wantFinding(t, archive.KindCommitMissing, archive.CommitKey(2))
}

// Staging debris is reported, and does not fail verify.
func TestVerifyStagingDebrisIsInfo(t *testing.T) {
	arch, _ := copyArchive(t)
	dir := filepath.Join(arch, archive.StagingPrefix, "20261101T000000Z-dead", "1")
	os.MkdirAll(dir, 0o755)
	writeFile(t, dir, "x.parquet", "partial")
	r := verifyCLI(t, arch)
	r.wantClean(t)
	if r.doc.Infos != 1 || r.doc.Counts[archive.KindStagingDebris] != 1 || !strings.Contains(r.text, "info  staging_debris") {
		t.Errorf("want one staging_debris info:\n%s", r.text)
	}
}

// An archive written now, partitioned by category too, verifies clean in
// every tier.
func TestVerifyFreshArchive(t *testing.T) {
	dir := t.TempDir()
	all, land, arch := filepath.Join(dir, "all"), filepath.Join(dir, "land"), filepath.Join(dir, "arch")
	code, _, stderr := cli(t, "generate", "--out", all, "--start", "2026-11-10", "--days", "2", "--rows-per-day", "60",
		"--exports", "2", "--format", "csv.gz", "--seed", "9")
	if code != exitOK {
		t.Fatalf("generate: %s", stderr)
	}
	exports, _ := filepath.Glob(filepath.Join(all, "*"))
	slices.Sort(exports)
	os.MkdirAll(land, 0o755)
	for _, e := range exports {
		data, _ := os.ReadFile(e)
		writeFile(t, land, filepath.Base(e), string(data))
		if code, _, stderr := cli(t, "run", "--source.url", land, "--destination.url", arch, "--partitioning.by_category", "true", "--log.level", "warn"); code != exitOK {
			t.Fatalf("run: %s", stderr)
		}
	}
	r := verifyCLI(t, arch, "--read-data", "--source", "--source.url", land, "--partitioning.by_category", "true")
	r.wantClean(t)
	if r.doc.Commits != 2 || r.doc.Partitions <= 2 || r.doc.SourcePartitions != r.doc.Partitions {
		t.Errorf("commits %d, partitions %d, compared %d: want 2 commits and category sub-partitions all compared", r.doc.Commits, r.doc.Partitions, r.doc.SourcePartitions)
	}
}

func TestVerifyUsage(t *testing.T) {
	arch, _ := copyArchive(t)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--destination.url", arch, "--from", "Nov 1"}, exitUsage, `--from "Nov 1" is not a date`},
		{[]string{"--destination.url", arch, "--from", "2026-11-03", "--to", "2026-11-01"}, exitUsage, "before --from"},
		{[]string{"--destination.url", arch, "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{}, exitUsage, "destination.url"},
		{[]string{"--destination.url", arch, "--source"}, exitUsage, "source.url"},
		{[]string{"--destination.url", filepath.Join(arch, "no-such-dir")}, exitFailure, "destination.url"},
	}
	for _, c := range cases {
		code, _, stderr := cli(t, append([]string{"verify"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("verify %v: exit %d stderr %q; want %d naming %q", c.args, code, stderr, c.code, c.want)
		}
		if c.code == exitUsage && !strings.Contains(stderr, "Try: auditexport verify --help") {
			t.Errorf("verify %v: no Try: line in %q", c.args, stderr)
		}
	}
	code, out, _ := cli(t, "verify", "--help")
	for _, want := range []string{"--read-data", "--source", "--from", "--json", "Examples:", "EXIT STATUS", "4  verify found errors"} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("verify --help lacks %q", want)
		}
	}
}
