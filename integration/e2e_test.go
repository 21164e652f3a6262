package integration

// End-to-end runs of the auditexport binary against every destination: the
// landing exports from TestMain go in, and every published Parquet file is
// read back from the service and checked against the generator's truth and
// the run's own summary.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/auditexport/auditexport/sinks"
)

// destination makes a fresh, empty archive location and returns its name
// and the URL to pass as --destination.url.
type destination struct {
	name   string
	bucket func(t *testing.T) (name, url string)
}

var destinations = []destination{
	{"s3", newS3Bucket},
	{"gcs", newGCSBucket},
	{"azure", newAzureContainer},
	{"local", func(t *testing.T) (string, string) {
		dir := filepath.Join(t.TempDir(), "archive") // created by the run
		return dir, dir
	}},
}

// runSummary is the part of the run's JSON summary line the tests check.
type runSummary struct {
	Status      string          `json:"status"`
	Error       string          `json:"error"`
	RowsRead    int64           `json:"rows_read"`
	RowsWritten int64           `json:"rows_written"`
	Files       []committedFile `json:"files"`
	Partitions  []struct {
		Partition string `json:"partition"`
		Rows      int64  `json:"rows"`
	} `json:"partitions"`
}

// parseSummary parses stdout, which must be exactly one JSON line.
func parseSummary(t *testing.T, stdout string) runSummary {
	t.Helper()
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	if len(lines) != 1 || lines[0] == "" {
		t.Fatalf("stdout has %d lines, want one JSON summary line:\n%s", len(lines), stdout)
	}
	var s runSummary
	if err := json.Unmarshal([]byte(lines[0]), &s); err != nil {
		t.Fatalf("summary line is not JSON: %v\n%s", err, lines[0])
	}
	return s
}

// wantRows is the truth's distinct events per partition, for the given days
// (every day when none is given).
func wantRows(days ...string) map[string]int64 {
	want := map[string]int64{}
	for day, n := range truth.DistinctPerDay {
		if len(days) == 0 || slices.Contains(days, day) {
			want["event_date="+day] = int64(n)
		}
	}
	return want
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// checkArchive lists prefix in the bucket at url and reads every published
// Parquet file back: the files are exactly the summary's, each with the
// summary's size, sha256 and row count; rows per partition are want (the
// summary's partitions too); nothing is left in staging.
func checkArchive(t *testing.T, url, prefix string, s runSummary, want map[string]int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	b, err := sinks.Open(ctx, url, sinks.OpenOptions{})
	if err != nil {
		t.Fatalf("open %s to check it: %v", url, err)
	}
	defer b.Close()

	published := map[string]sinks.Object{} // key relative to prefix
	err = b.List(ctx, prefix+"/", func(o sinks.Object) error {
		rel := strings.TrimPrefix(o.Key, prefix+"/")
		switch {
		case strings.HasPrefix(rel, "_auditexport/staging/"):
			t.Errorf("%s is left in staging after the run", o.Key)
		case strings.HasPrefix(rel, "_auditexport/"):
		case strings.HasSuffix(rel, ".parquet"):
			published[rel] = o
		}
		return nil
	})
	if err != nil {
		t.Fatalf("list %s: %v", url, err)
	}

	got := map[string]int64{}
	reported := map[string]bool{}
	for _, f := range s.Files {
		reported[f.Key] = true
		o, ok := published[f.Key]
		if !ok {
			t.Errorf("summary file %s is not in %s under %s/", f.Key, url, prefix)
			continue
		}
		if dir := path.Dir(f.Key); dir != f.Partition || !strings.HasPrefix(dir, "event_date=") {
			t.Errorf("%s: in directory %s, summary partition %s", f.Key, dir, f.Partition)
		}
		data, err := b.ReadAll(ctx, o.Key)
		if err != nil {
			t.Errorf("read %s: %v", o.Key, err)
			continue
		}
		digest := sha256.Sum256(data)
		if int64(len(data)) != f.Bytes || o.Size != f.Bytes || hex.EncodeToString(digest[:]) != f.SHA256 {
			t.Errorf("%s: stored %d bytes (listed %d) sha256 %x; summary says %d bytes sha256 %s",
				o.Key, len(data), o.Size, digest, f.Bytes, f.SHA256)
		}
		pf, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Errorf("%s is not a readable Parquet file: %v", o.Key, err)
			continue
		}
		if pf.NumRows() != f.Rows {
			t.Errorf("%s: %d rows, summary says %d", o.Key, pf.NumRows(), f.Rows)
		}
		got[path.Dir(f.Key)] += pf.NumRows()
	}
	for rel := range published {
		if !reported[rel] {
			t.Errorf("%s/%s is published but not in the run summary", prefix, rel)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows per partition read back from %s:\n got %v\nwant %v", url, got, want)
	}
	fromSummary := map[string]int64{}
	for _, p := range s.Partitions {
		fromSummary[p.Partition] += p.Rows
	}
	if fmt.Sprint(fromSummary) != fmt.Sprint(want) {
		t.Errorf("rows per partition in the summary:\n got %v\nwant %v", fromSummary, want)
	}
}

// TestRun: `auditexport run` from the landing exports into each destination
// publishes exactly the generator's distinct events per day, in files that
// match the summary byte for byte, and leaves no staging debris.
func TestRun(t *testing.T) {
	for _, d := range destinations {
		t.Run(d.name, func(t *testing.T) {
			_, url := d.bucket(t)
			r := cli(t, nil, "run", "--source.url", landing, "--destination.url", url, "--destination.prefix", "e2e")
			if r.code != 0 {
				t.Fatalf("run into %s: exit %d\n%s\n%s", url, r.code, r.stdout, r.stderr)
			}
			s := parseSummary(t, r.stdout)
			want := wantRows()
			if s.Status != "ok" || s.RowsWritten != sum(want) || s.RowsRead != int64(truth.RowsWritten) {
				t.Errorf("summary: status %q, read %d, written %d; want ok, %d read (every row of every export), %d written (distinct)",
					s.Status, s.RowsRead, s.RowsWritten, truth.RowsWritten, sum(want))
			}
			checkArchive(t, url, "e2e", s, want)
		})
	}
}

// TestBackfillOneDay: `auditexport backfill` of one day writes that day's
// partition only, with the truth's count.
func TestBackfillOneDay(t *testing.T) {
	const day = "2026-11-02"
	for _, d := range destinations {
		t.Run(d.name, func(t *testing.T) {
			_, url := d.bucket(t)
			r := cli(t, nil, "backfill", "--from", day, "--to", day, "--source.url", landing,
				"--destination.url", url, "--destination.prefix", "bf")
			if r.code != 0 {
				t.Fatalf("backfill into %s: exit %d\n%s\n%s", url, r.code, r.stdout, r.stderr)
			}
			s := parseSummary(t, r.stdout)
			want := wantRows(day)
			if len(want) != 1 || s.Status != "ok" || s.RowsWritten != sum(want) {
				t.Errorf("summary: status %q, written %d; want ok and the %d distinct events of %s",
					s.Status, s.RowsWritten, sum(want), day)
			}
			checkArchive(t, url, "bf", s, want)
		})
	}
}

// plantSecret returns a random value that must never appear in any output.
func plantSecret() string {
	var r [18]byte
	_, _ = rand.Read(r[:])
	return "planted" + hex.EncodeToString(r[:])
}

// checkFailed checks a run that must fail on the destination: exit status
// 1, a "failed" summary, stderr naming the bucket and each of the words,
// and none of the secrets anywhere in the output.
func checkFailed(t *testing.T, r result, bucket string, words []string, secrets ...string) {
	t.Helper()
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if s := parseSummary(t, r.stdout); s.Status != "failed" || s.RowsWritten != 0 {
		t.Errorf("summary status %q, %d rows written; want failed, 0", s.Status, s.RowsWritten)
	}
	for _, w := range append([]string{bucket}, words...) {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
		}
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for name, out := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
			if strings.Contains(out, s) {
				t.Errorf("%s shows a secret (%.8s...):\n%s", name, s, out)
			}
		}
	}
}

// TestWrongCredentialsS3: a wrong secret key fails the run with a permission
// error naming the bucket, writes nothing, and the key is never printed.
func TestWrongCredentialsS3(t *testing.T) {
	name, url := newS3Bucket(t)
	planted := plantSecret()
	r := cli(t, []string{"AWS_SECRET_ACCESS_KEY=" + planted},
		"run", "--source.url", landing, "--destination.url", url, "--destination.prefix", "e2e")
	checkFailed(t, r, name, []string{"permission denied"}, planted, s3Server(t).secretKey)

	b, err := sinks.Open(setupCtx(t), url, sinks.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var left []string
	if err := b.List(setupCtx(t), "", func(o sinks.Object) error { left = append(left, o.Key); return nil }); err != nil {
		t.Fatalf("list %s: %v", url, err)
	}
	if len(left) > 0 {
		t.Errorf("a run with a wrong key left %q in %s", left, url)
	}
}

// TestMissingBucket: a destination bucket that does not exist fails the run
// with a message naming the bucket and saying it is not found, for each
// cloud, without printing the credentials in use.
func TestMissingBucket(t *testing.T) {
	for _, tc := range []struct {
		name string
		url  func(t *testing.T, bucket string) (url string, secrets []string)
	}{
		{"s3", func(t *testing.T, bucket string) (string, []string) {
			e := s3Server(t)
			return e.url(bucket), []string{e.secretKey}
		}},
		{"gcs", func(t *testing.T, bucket string) (string, []string) {
			gcsServer(t)
			return "gs://" + bucket, nil
		}},
		{"azure", func(t *testing.T, bucket string) (string, []string) {
			e := azureServer(t)
			return e.url(bucket), []string{e.key}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bucket := uniqueName(t) // never created
			url, secrets := tc.url(t, bucket)
			r := cli(t, nil, "run", "--source.url", landing, "--destination.url", url, "--destination.prefix", "e2e")
			checkFailed(t, r, bucket, []string{"not found"}, secrets...)
		})
	}
}
