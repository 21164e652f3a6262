package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter"
	"github.com/auditexport/auditexport/exporter/archive"
)

// headView is the part of a run's summary line that anchors the archive.
type headView struct {
	Status     string `json:"status"`
	Error      string `json:"error"`
	Commit     int64  `json:"commit"`
	HeadCommit int64  `json:"head_commit"`
	HeadSHA256 string `json:"head_sha256"`
}

// anchorRun runs `run` and returns its summary's head.
func anchorRun(t *testing.T, land, arch string) headView {
	t.Helper()
	code, out, stderr := cli(t, "run", "--source.url", land, "--destination.url", arch, "--log.level", "warn")
	if code != exitOK {
		t.Fatalf("run: code %d\n%s", code, stderr)
	}
	summaryLine(t, out) // exactly one JSON line
	var h headView
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// storedSHA is the SHA-256 of commit n's bytes as stored.
func storedSHA(t *testing.T, arch string, n int64) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(arch, filepath.FromSlash(archive.CommitKey(n))))
	if err != nil {
		t.Fatal(err)
	}
	return archive.SHA256(data)
}

// A run's summary carries the head of the archive; verify --expect-head
// with it passes while the log reaches it, and fails (4) once the last
// commit is removed or the head edited, which the chain alone cannot show.
func TestExpectHeadAnchor(t *testing.T) {
	dir := t.TempDir()
	land, arch := filepath.Join(dir, "land"), filepath.Join(dir, "out")
	if err := os.MkdirAll(land, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, land, "a.csv", "Timestamp,Event Id\n2026-11-24 10:00:00,e1\n2026-11-24 11:00:00,e2\n")
	h1 := anchorRun(t, land, arch)
	if h1.Commit != 1 || h1.HeadCommit != 1 || h1.HeadSHA256 != storedSHA(t, arch, 1) {
		t.Fatalf("summary head %+v, want commit 1 with the sha256 of its stored bytes %s", h1, storedSHA(t, arch, 1))
	}
	// Nothing new: no commit, and the head it found.
	if h := anchorRun(t, land, arch); h.Commit != 0 || h.HeadCommit != 1 || h.HeadSHA256 != h1.HeadSHA256 {
		t.Fatalf("rerun summary head %+v, want no commit and head %d %s", h, h1.HeadCommit, h1.HeadSHA256)
	}
	writeFile(t, land, "b.csv", "Timestamp,Event Id\n2026-11-25 10:00:00,e3\n")
	h2 := anchorRun(t, land, arch)
	if h2.Commit != 2 || h2.HeadCommit != 2 || h2.HeadSHA256 != storedSHA(t, arch, 2) {
		t.Fatalf("summary head %+v, want commit 2", h2)
	}
	anchor1 := fmt.Sprintf("%d:%s", h1.HeadCommit, h1.HeadSHA256)
	anchor2 := fmt.Sprintf("%d:%s", h2.HeadCommit, h2.HeadSHA256)

	r := verifyCLI(t, arch, "--expect-head", anchor2)
	r.wantClean(t)
	if !strings.Contains(r.text, "anchor: "+anchor2) || !strings.Contains(r.text, "expected head: "+anchor2+" reached") {
		t.Errorf("the report does not print the head to record and the one reached:\n%s", r.text)
	}
	var doc struct {
		Head       int64  `json:"head"`
		HeadSHA256 string `json:"head_sha256"`
		ExpectHead string `json:"expect_head"`
	}
	_, out, _ := cli(t, "verify", "--destination.url", arch, "--expect-head", anchor2, "--json")
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Head != 2 || doc.HeadSHA256 != h2.HeadSHA256 || doc.ExpectHead != anchor2 {
		t.Errorf("--json head %d %q expect_head %q (%v), want 2 %s %s", doc.Head, doc.HeadSHA256, doc.ExpectHead, err, h2.HeadSHA256, anchor2)
	}
	// An older anchor passes as long as the head chains back to it.
	verifyCLI(t, arch, "--expect-head", anchor1).wantClean(t)

	// The head commit edited in place: nothing inside the bucket shows it.
	head := filepath.Join(arch, filepath.FromSlash(archive.CommitKey(2)))
	original, err := os.ReadFile(head)
	if err != nil {
		t.Fatal(err)
	}
	rewriteFile(t, head, func(b []byte) []byte {
		return []byte(strings.Replace(string(b), `"command": "run"`, `"command": "backfill"`, 1))
	})
	verifyCLI(t, arch).wantClean(t)
	verifyCLI(t, arch, "--expect-head", anchor2).wantFinding(t, archive.KindHeadMismatch, archive.CommitKey(2))
	if err := os.WriteFile(head, original, 0o644); err != nil {
		t.Fatal(err)
	}

	// The last commit removed, with its marker.
	for _, k := range []string{archive.CommitKey(2), archive.PublishedKey(2)} {
		if err := os.Remove(filepath.Join(arch, filepath.FromSlash(k))); err != nil {
			t.Fatal(err)
		}
	}
	r = verifyCLI(t, arch, "--expect-head", anchor2)
	r.wantFinding(t, archive.KindHeadMismatch, archive.CommitKey(2))
	if !strings.Contains(r.text, "expected head: "+anchor2+" NOT reached") {
		t.Errorf("the report does not say the expected head is not reached:\n%s", r.text)
	}
}

// A malformed --expect-head is a usage error naming the flag and its form.
func TestExpectHeadUsage(t *testing.T) {
	arch := t.TempDir()
	for _, v := range []string{"12", "12:abc", "head:" + strings.Repeat("a", 64), "0:" + strings.Repeat("a", 64)} {
		code, _, stderr := cli(t, "verify", "--destination.url", arch, "--expect-head", v)
		if code != exitUsage || !strings.Contains(stderr, "--expect-head") || !strings.Contains(stderr, "N:SHA") || !strings.Contains(stderr, "Try:") {
			t.Errorf("--expect-head %q: code %d, stderr %q; want %d naming the flag and N:SHA", v, code, stderr, exitUsage)
		}
	}
}

// The head reaches Prometheus: a gauge with its number, and an info series
// carrying its SHA-256, one per destination.
func TestHeadMetrics(t *testing.T) {
	m := newMetrics()
	sha1, sha2 := strings.Repeat("1", 64), strings.Repeat("2", 64)
	m.observe(&exporter.Summary{Destination: "file:///a/", HeadCommit: 3, HeadSHA256: sha1, Finished: time.Now()}, nil, time.Second)
	m.observe(&exporter.Summary{Destination: "file:///a/", HeadCommit: 4, HeadSHA256: sha2, Finished: time.Now()}, nil, time.Second)
	m.observe(&exporter.Summary{Destination: "file:///b/", Finished: time.Now()}, nil, time.Second)
	got := gather(t, m)
	info := func(dest, sha string) string {
		return fmt.Sprintf("auditexport_head_commit_info{destination=%q,sha256=%q}", dest, sha)
	}
	if v := got[`auditexport_head_commit{destination="file:///a/"}`]; v != 4 {
		t.Errorf("head_commit = %v, want 4", v)
	}
	if v, ok := got[info("file:///a/", sha2)]; !ok || v != 1 {
		t.Errorf("head_commit_info for the new head = %v (%v), want 1:\n%v", v, ok, got)
	}
	if _, ok := got[info("file:///a/", sha1)]; ok {
		t.Error("the previous head's info series is still exported")
	}
	if _, ok := got[`auditexport_head_commit{destination="file:///b/"}`]; ok {
		t.Error("a head was exported for an archive with none")
	}
}

// A key file deleted from the archive stops the next backfill before it
// writes: exit 1, naming the key file and the command to run.
func TestBackfillMissingKeyFileExits1(t *testing.T) {
	dir := t.TempDir()
	land, arch := filepath.Join(dir, "land"), filepath.Join(dir, "out")
	if err := os.MkdirAll(land, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, land, "a.csv", "Timestamp,Event Id\n2026-11-24 10:00:00,e1\n2026-11-24 11:00:00,e2\n")
	anchorRun(t, land, arch)
	keyDir := filepath.Join(arch, filepath.FromSlash(archive.KeysDir("event_date=2026-11-24")))
	ents, err := os.ReadDir(keyDir)
	if err != nil || len(ents) != 1 {
		t.Fatalf("key files %v: %v", ents, err)
	}
	if err := os.Remove(filepath.Join(keyDir, ents[0].Name())); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := cli(t, "backfill", "--source.url", land, "--destination.url", arch, "--from", "2026-11-24", "--to", "2026-11-24", "--log.level", "warn")
	if code != exitFailure {
		t.Fatalf("backfill: code %d, want %d\n%s", code, exitFailure, stderr)
	}
	s := summaryLine(t, out)
	for _, want := range []string{archive.KeysDir("event_date=2026-11-24") + ents[0].Name(), "is missing", "run auditexport verify"} {
		if !strings.Contains(s.Error, want) {
			t.Errorf("summary error %q does not say %q", s.Error, want)
		}
	}
	if _, err := os.Stat(filepath.Join(arch, filepath.FromSlash(archive.CommitKey(2)))); !os.IsNotExist(err) {
		t.Errorf("backfill committed: %v", err)
	}
}
