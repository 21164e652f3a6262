package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/auditexport/auditexport/exporter/generate"
)

func TestResolveShard(t *testing.T) {
	env := func(kv ...string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1], true
				}
			}
			return "", false
		}
	}
	cases := []struct {
		flag    string
		shards  int
		env     func(string) (string, bool)
		want    shard
		sharded bool
		err     string
	}{
		{env: env(), sharded: false},
		{flag: "2/4", env: env(), want: shard{2, 4}, sharded: true},
		{flag: "1/3", shards: 3, env: env(jobIndexEnv, "0"), want: shard{1, 3}, sharded: true}, // the flag wins
		{shards: 5, env: env(jobIndexEnv, "4"), want: shard{4, 5}, sharded: true},
		{flag: "4/4", env: env(), err: `--shard "4/4"`},
		{flag: "x", env: env(), err: "want i/n"},
		{flag: "1/4", shards: 3, env: env(), err: "--backfill.shards is 3"},
		{env: env(jobIndexEnv, "2"), err: "backfill.shards is not"},
		{shards: 3, env: env(), err: "no shard index"},
		{shards: 3, env: env(jobIndexEnv, "3"), err: "from 0 to 2"},
	}
	for _, c := range cases {
		got, sharded, err := resolveShard(c.flag, c.shards, c.env)
		if c.err != "" {
			var ue *usageError
			if err == nil || !strings.Contains(err.Error(), c.err) || !errors.As(err, &ue) {
				t.Errorf("resolveShard(%q, %d): err %v, want a usage error naming %q", c.flag, c.shards, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want || sharded != c.sharded {
			t.Errorf("resolveShard(%q, %d) = %v, %v, %v; want %v, %v", c.flag, c.shards, got, sharded, err, c.want, c.sharded)
		}
	}
}

// The shards' windows are contiguous, disjoint, in order, cover the range
// exactly, and differ in length by one day at most, also across a DST change.
func TestShardWindows(t *testing.T) {
	zone, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ from, to string }{{"2026-10-20", "2026-11-02"}, {"2026-10-01", "2026-10-01"}, {"2026-01-01", "2026-12-31"}} {
		w, err := dateWindow(tc.from, tc.to, zone)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 2, 3, 7, 20} {
			next := w.From
			var sizes []int
			for i := range n {
				sw, days := shard{i, n}.window(w)
				if !sw.From.Equal(next) {
					t.Fatalf("%s..%s shard %d/%d starts %v, want %v", tc.from, tc.to, i, n, sw.From, next)
				}
				if h, m, _ := sw.From.Clock(); h != 0 || m != 0 {
					t.Errorf("shard %d/%d starts at %v, not midnight", i, n, sw.From)
				}
				next = sw.To
				sizes = append(sizes, days)
			}
			if !next.Equal(w.To) {
				t.Errorf("%s..%s in %d shards ends %v, want %v", tc.from, tc.to, n, next, w.To)
			}
			if slices.Max(sizes)-slices.Min(sizes) > 1 {
				t.Errorf("%s..%s in %d shards: block sizes %v", tc.from, tc.to, n, sizes)
			}
		}
	}
}

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// TestMain removes the binary testBinary built, if any.
func TestMain(m *testing.M) {
	code := m.Run()
	if binaryPath != "" {
		os.RemoveAll(filepath.Dir(binaryPath))
	}
	os.Exit(code)
}

// testBinary builds the auditexport binary once per test process, for the
// tests that need real processes (signals, concurrent shards).
func testBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "auditexport-bin-")
		if err != nil {
			binaryErr = err
			return
		}
		binaryPath = filepath.Join(dir, "auditexport")
		out, err := exec.Command("go", "build", "-o", binaryPath, ".").CombinedOutput()
		if err != nil {
			binaryErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

// eventIDsByPartition reads every published Parquet file under dir with
// parquet-go and returns the sorted EVENT_IDs of each partition (a
// duplicate shows up twice).
func eventIDsByPartition(t *testing.T, dir string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".parquet") {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if strings.HasPrefix(rel, "_auditexport") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		col, ok := f.Schema().Lookup("EVENT_ID")
		if !ok {
			return fmt.Errorf("%s has no EVENT_ID column", rel)
		}
		r := parquet.NewReader(bytes.NewReader(data))
		defer r.Close()
		rows := make([]parquet.Row, 256)
		part := filepath.Dir(rel)
		for {
			n, rerr := r.ReadRows(rows)
			for _, row := range rows[:n] {
				for _, v := range row {
					if v.Column() == col.ColumnIndex {
						out[part] = append(out[part], v.String())
					}
				}
			}
			if rerr != nil {
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out
}

// N shard processes started at once produce exactly the archive one
// backfill produces: the same events in the same partitions, each once.
func TestShardedBackfillEqualsSingle(t *testing.T) {
	bin := testBinary(t)
	dir := t.TempDir()
	land := filepath.Join(dir, "land")
	code, stdout, stderr := cli(t, "generate", "--out", land, "--start", "2026-10-01", "--days", "7", "--rows-per-day", "400",
		"--exports", "4", "--duplicate-rate", "0.05", "--late-rate", "0.02", "--seed", "21")
	if code != exitOK {
		t.Fatalf("generate: %s", stderr)
	}
	var truth generate.Truth
	if err := json.Unmarshal([]byte(stdout), &truth); err != nil {
		t.Fatal(err)
	}
	rng := []string{"--from", "2026-10-01", "--to", "2026-10-07"}

	single := filepath.Join(dir, "single")
	code, stdout, stderr = cli(t, append([]string{"backfill", "--source.url", land, "--destination.url", single}, rng...)...)
	if code != exitOK {
		t.Fatalf("single backfill: %d %s", code, stderr)
	}
	_ = summaryLine(t, stdout)

	sharded := filepath.Join(dir, "sharded")
	const n = 3
	round := func(label string) []runSummaryView {
		t.Helper()
		type result struct {
			out, err bytes.Buffer
			cmd      *exec.Cmd
		}
		results := make([]*result, n)
		for i := range n {
			r := &result{}
			args := append([]string{"backfill", "--source.url", land, "--destination.url", sharded}, rng...)
			env := append(os.Environ(), "AUDITEXPORT_LOG_FORMAT=json")
			switch i {
			case 0: // the flag
				args = append(args, "--shard", fmt.Sprintf("%d/%d", i, n))
			case 1: // an Indexed Job's completion, with --shards
				args = append(args, "--backfill.shards", fmt.Sprint(n))
				env = append(env, fmt.Sprintf("%s=%d", jobIndexEnv, i))
			default: // an Indexed Job's completion, shards from the environment
				env = append(env, fmt.Sprintf("%s=%d", jobIndexEnv, i), fmt.Sprintf("AUDITEXPORT_BACKFILL_SHARDS=%d", n))
			}
			r.cmd = exec.Command(bin, args...)
			r.cmd.Env, r.cmd.Stdout, r.cmd.Stderr = env, &r.out, &r.err
			results[i] = r
		}
		for _, r := range results {
			if err := r.cmd.Start(); err != nil {
				t.Fatal(err)
			}
		}
		var sums []runSummaryView
		for i, r := range results {
			if err := r.cmd.Wait(); err != nil {
				t.Fatalf("%s: shard %d: %v\n%s", label, i, err, r.err.String())
			}
			sums = append(sums, summaryLine(t, r.out.String()))
		}
		return sums
	}
	first := round("first round")
	var written int64
	for i, s := range first {
		if s.Status != "ok" || s.RowsWritten == 0 {
			t.Errorf("shard %d: status %s, wrote %d rows; want its own share of the days", i, s.Status, s.RowsWritten)
		}
		written += s.RowsWritten
	}
	want := eventIDsByPartition(t, single)
	got := eventIDsByPartition(t, sharded)
	if len(want) != 7 {
		t.Fatalf("the single backfill wrote %d partitions, want 7", len(want))
	}
	for part, ids := range want {
		if !slices.Equal(got[part], ids) {
			t.Errorf("%s: sharded backfill has %d events, single %d (or different ones)", part, len(got[part]), len(ids))
		}
		day := strings.TrimPrefix(part, "event_date=")
		if len(ids) != truth.DistinctPerDay[day] || len(slices.Compact(slices.Clone(ids))) != len(ids) {
			t.Errorf("%s: %d events, generator made %d distinct", part, len(ids), truth.DistinctPerDay[day])
		}
	}
	if len(got) != len(want) {
		t.Errorf("sharded partitions %d, single %d", len(got), len(want))
	}
	if written != int64(truth.Distinct) {
		t.Errorf("shards wrote %d rows in all, want %d", written, truth.Distinct)
	}
	_ = parquetRowsByPartition(t, sharded) // no staging debris, no stray files

	// Again, all at once: nothing new, nothing twice.
	for i, s := range round("second round") {
		if s.Status != "ok" || s.RowsWritten != 0 {
			t.Errorf("second round, shard %d: status %s, wrote %d rows; want nothing new", i, s.Status, s.RowsWritten)
		}
	}
	if again := eventIDsByPartition(t, sharded); fmt.Sprint(again) != fmt.Sprint(got) {
		t.Error("the second round changed the archive")
	}
}

// A shard whose block is empty (more shards than days) succeeds and writes
// nothing.
func TestShardWithoutDays(t *testing.T) {
	dir := t.TempDir()
	land := filepath.Join(dir, "land")
	if code, _, stderr := cli(t, "generate", "--out", land, "--start", "2026-10-01", "--days", "2", "--rows-per-day", "50", "--seed", "2"); code != exitOK {
		t.Fatal(stderr)
	}
	out := filepath.Join(dir, "out")
	code, stdout, stderr := cli(t, "backfill", "--source.url", land, "--destination.url", out, "--from", "2026-10-01", "--to", "2026-10-02", "--shard", "3/4")
	if code != exitOK || !strings.Contains(stderr, "no days") {
		t.Fatalf("code %d stderr %s", code, stderr)
	}
	if s := summaryLine(t, stdout); s.Status != "ok" || s.RowsWritten != 0 {
		t.Errorf("summary %+v", s)
	}
	code, _, stderr = cli(t, "backfill", "--source.url", land, "--destination.url", out, "--from", "2026-10-01", "--to", "2026-10-02", "--shard", "0/4")
	if code != exitOK {
		t.Fatal(stderr)
	}
	if got := parquetRowsByPartition(t, out); len(got) != 1 || got["event_date=2026-10-01"] == 0 {
		t.Errorf("shard 0/4 of two days wrote %v, want the first day only", got)
	}
}
