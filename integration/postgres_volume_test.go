package integration

// The PostgreSQL source at volume: a real table of 300,000 rows exported by
// the CLI binary to a local directory and to versitygw at once, read back
// and compared with SQL; then rows inserted between runs, and a second run
// that adds exactly those. Each export's peak RSS is measured and bounded.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parquet-go/parquet-go"

	"github.com/auditexport/auditexport/sinks"
)

// maxExportRSS bounds the peak resident memory of one export of the table.
const maxExportRSS = 512 << 20

// The table: volDistinct events with an event time spread evenly over 5
// UTC days, volDupEvery-th ones sent twice (at-least-once), and volNoTime
// rows without an event time (rejected by every run): 300,000 rows.
const (
	volDistinct = 294_000
	volDupEvery = 50
	volNoTime   = 120
	volRows     = volDistinct + volDistinct/volDupEvery + volNoTime
)

// measuredRun is one run of the binary with its peak RSS.
type measuredRun struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
	// peakRSS is the process's peak resident set size in bytes, and how it
	// was known (see runMeasured).
	peakRSS int64
	how     string
}

// runMeasured runs the binary and measures its peak RSS. The kernel's
// rusage (ru_maxrss, from cmd.ProcessState.SysUsage) is not enough alone:
// Go starts children with vfork semantics (CLONE_VM), and at execve Linux
// folds the high-water RSS of the mm being left, the test process's own,
// into the child's maxrss. So the child's maxrss is max(its own peak, this
// process's peak so far). Two more readings settle it: floor, the maxrss
// of a trivial child started right after (this process's peak, which only
// grows), and polled, the child's own VmHWM read from /proc every few
// milliseconds while it runs (exact, but may miss a rise in its last
// milliseconds). maxrss above floor is the child's own peak; otherwise the
// polled high-water mark is the best measure.
func runMeasured(t *testing.T, env []string, args ...string) measuredRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = childEnv(env)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Errorf("start auditexport %s: %v", strings.Join(args, " "), err)
		return measuredRun{code: -1}
	}
	var polled int64
	stop := make(chan struct{})
	polling := make(chan struct{})
	go func() {
		defer close(polling)
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		for {
			if hwm := vmHWM(status); hwm > polled {
				polled = hwm
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	err := cmd.Wait()
	close(stop)
	<-polling
	r := measuredRun{stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Errorf("auditexport %s: %v", strings.Join(args, " "), err)
		r.code = -1
		return r
	}
	r.code = cmd.ProcessState.ExitCode()
	maxrss := rusageMaxRSS(cmd.ProcessState)
	floor := int64(-1)
	probe := exec.Command(binary, "version")
	if probe.Run() == nil {
		floor = rusageMaxRSS(probe.ProcessState)
	}
	if maxrss > floor && floor >= 0 {
		r.peakRSS, r.how = maxrss, fmt.Sprintf("rusage; polled VmHWM %.1f MiB", float64(polled)/(1<<20))
	} else {
		r.peakRSS, r.how = polled, fmt.Sprintf("polled VmHWM; rusage %.1f MiB is this test process's own peak", float64(maxrss)/(1<<20))
	}
	return r
}

func rusageMaxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss << 10 // KiB on Linux
	}
	return 0
}

// vmHWM reads the VmHWM line of a /proc/<pid>/status file, in bytes; 0
// when the process is gone.
func vmHWM(status string) int64 {
	data, err := os.ReadFile(status)
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kib int64
			fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kib)
			return kib << 10
		}
	}
	return 0
}

// volSummary is the part of the run summary this test reads.
type volSummary struct {
	Status        string `json:"status"`
	Error         string `json:"error"`
	RowsRead      int64  `json:"rows_read"`
	RowsRejected  int64  `json:"rows_rejected"`
	RowsDuplicate int64  `json:"rows_duplicate"`
	RowsArchived  int64  `json:"rows_already_archived"`
	RowsWritten   int64  `json:"rows_written"`
}

// volDest is one archive the table is exported to.
type volDest struct {
	name, url string
}

func TestPostgresVolume(t *testing.T) {
	dsn := requireEnv(t, "postgres", "AUDITEXPORT_TEST_POSTGRES_DSN")[0]
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to the test PostgreSQL (integration/scripts/postgres.sh): %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	var rnd [4]byte
	rand.Read(rnd[:])
	table := "vol_" + hex.EncodeToString(rnd[:]) + ".audit_logs"
	schemaName, _, _ := strings.Cut(table, ".")
	mustExec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%.80s...: %v", strings.Join(strings.Fields(sql), " "), err)
		}
	}
	mustExec("CREATE SCHEMA " + schemaName)
	t.Cleanup(func() { conn.Exec(context.Background(), "DROP SCHEMA "+schemaName+" CASCADE") })
	// Columns named by CDW column ID, as a warehouse copy of the audit log is.
	mustExec(`CREATE TABLE ` + table + ` ("TIMESTAMP" timestamptz, "EVENT_ID" text, "EVENT_CATEGORY" text,
		"EVENT_TYPE" text, "USER_EMAIL" text, "QUERY_DURATION_MS" bigint, "IS_CACHED" boolean, "RECIPIENTS" jsonb)`)

	// Five whole UTC days ending two days ago: the watermark is then two
	// days old, and the rows of yesterday make a new day for the second run.
	day0 := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -6)
	start := time.Now()
	mustExec(`WITH base AS (
		SELECT g, $1::timestamptz + (g - 1) * (interval '5 days' / $2::int) AS ts,
		       (ARRAY['QUERY_EXECUTIONS','ACCESS_SIGMA','SCHEDULES','EXPORTS'])[g % 4 + 1] AS cat
		FROM generate_series(1, $2::int) g
	), events AS (
		SELECT g, ts, 'ev-' || g AS id, cat,
		       CASE cat WHEN 'QUERY_EXECUTIONS' THEN 'Run Query' WHEN 'ACCESS_SIGMA' THEN 'Login'
		                WHEN 'SCHEDULES' THEN 'Create Schedule' ELSE 'Download CSV' END AS typ,
		       CASE WHEN g % 7 = 0 THEN NULL ELSE 'user' || (g % 997) || '@example.com' END AS email,
		       CASE WHEN cat = 'QUERY_EXECUTIONS' THEN g % 100000 END AS duration,
		       CASE WHEN g % 3 = 0 THEN NULL ELSE g % 2 = 0 END AS cached,
		       CASE WHEN g % 11 = 0 THEN jsonb_build_array('r' || g || '@example.com') END AS recipients
		FROM base
	)
	INSERT INTO `+table+`
	SELECT ts, id, cat, typ, email, duration, cached, recipients FROM events
	UNION ALL -- at-least-once: some events arrive twice, identical
	SELECT ts, id, cat, typ, email, duration, cached, recipients FROM events WHERE g % $3::int = 0
	UNION ALL -- no event time: rejected, with its reason
	SELECT NULL, 'nt-' || g, 'ACCESS_SIGMA', 'Login', NULL, NULL, NULL, NULL FROM generate_series(1, $4::int) g`,
		day0, volDistinct, volDupEvery, volNoTime)
	var n int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil || n != volRows {
		t.Fatalf("table holds %d rows (%v), want %d", n, err, volRows)
	}
	t.Logf("inserted %d rows in %s", n, time.Since(start).Round(time.Millisecond))

	_, s3URL := newS3Bucket(t)
	dests := []volDest{{"local", filepath.Join(t.TempDir(), "archive")}, {"s3", s3URL}}
	env := []string{"AUDITEXPORT_SOURCE_POSTGRES_DSN=" + dsn}
	exportAll := func(round string) map[string]volSummary {
		t.Helper()
		sums := map[string]volSummary{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, d := range dests {
			wg.Go(func() {
				r := runMeasured(t, env, "run", "--source.kind", "postgres", "--source.postgres.table", table,
					"--destination.url", d.url, "--destination.prefix", "pg")
				var s volSummary
				if err := json.Unmarshal([]byte(r.stdout), &s); err != nil || r.code != 0 {
					t.Errorf("%s run to %s: exit %d, %v\n%s\n%s", round, d.name, r.code, err, r.stdout, tail(r.stderr, 3000))
					return
				}
				t.Logf("%s run to %s: %s, peak RSS %.1f MiB (%s); read %d, written %d, duplicate %d, already archived %d, rejected %d",
					round, d.name, r.elapsed.Round(time.Millisecond), float64(r.peakRSS)/(1<<20), r.how,
					s.RowsRead, s.RowsWritten, s.RowsDuplicate, s.RowsArchived, s.RowsRejected)
				if r.peakRSS <= 0 || r.peakRSS > maxExportRSS {
					t.Errorf("%s run to %s: peak RSS %d bytes, want (0, %d]", round, d.name, r.peakRSS, maxExportRSS)
				}
				mu.Lock()
				sums[d.name] = s
				mu.Unlock()
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		return sums
	}

	// First run: the whole table.
	for name, s := range exportAll("first") {
		if s.RowsWritten != volDistinct || s.RowsRejected != volNoTime || s.RowsRead != volRows {
			t.Errorf("first run to %s: read %d, written %d, rejected %d; want %d read, %d written (distinct), %d rejected (no time)",
				name, s.RowsRead, s.RowsWritten, s.RowsRejected, volRows, volDistinct, volNoTime)
		}
	}
	for _, d := range dests {
		checkAgainstSQL(t, conn, table, d)
	}

	// Between runs: a new day, late rows inside the 72h lookback (new events
	// in a published partition), events sent again, and rows too late for
	// the lookback (they need a backfill; the run must not read them).
	const newDay, late, resent, tooLate = 2000, 1000, 500, 50
	mustExec(`INSERT INTO `+table+` ("TIMESTAMP", "EVENT_ID", "EVENT_CATEGORY", "EVENT_TYPE", "USER_EMAIL")
	SELECT $1::timestamptz + g * interval '30 seconds', 'new-' || g, 'ACCESS_SIGMA', 'Login', 'late@example.com' FROM generate_series(1, $2::int) g
	UNION ALL
	SELECT $3::timestamptz + g * interval '40 seconds', 'late-' || g, 'EXPORTS', 'Download CSV', NULL FROM generate_series(1, $4::int) g
	UNION ALL
	(SELECT "TIMESTAMP", "EVENT_ID", "EVENT_CATEGORY", "EVENT_TYPE", "USER_EMAIL" FROM `+table+`
	  WHERE "EVENT_ID" LIKE 'ev-%' AND "TIMESTAMP" >= $3::timestamptz ORDER BY "EVENT_ID" LIMIT $5::int)
	UNION ALL
	SELECT $6::timestamptz + g * interval '1 second', 'toolate-' || g, 'ACCESS_SIGMA', 'Login', NULL FROM generate_series(1, $7::int) g`,
		day0.AddDate(0, 0, 5), newDay, day0.AddDate(0, 0, 3).Add(6*time.Hour), late, resent, day0.Add(time.Hour), tooLate)

	for name, s := range exportAll("second") {
		if s.RowsWritten != newDay+late || s.RowsRejected != volNoTime {
			t.Errorf("second run to %s: written %d, rejected %d; want exactly the %d new and %d late events, %d rejected",
				name, s.RowsWritten, s.RowsRejected, newDay, late, volNoTime)
		}
	}
	for _, d := range dests {
		checkAgainstSQL(t, conn, table, d)
	}
}

// checkAgainstSQL reads every published Parquet file of d back and
// compares, per event_date partition, its rows with the table's distinct
// event IDs of that UTC day (rows too late for the lookback left out):
// same count, same IDs, none twice.
func checkAgainstSQL(t *testing.T, conn *pgx.Conn, table string, d volDest) {
	t.Helper()
	ctx := t.Context()
	wantCount := map[string]int64{}
	rows, err := conn.Query(ctx, `SELECT to_char("TIMESTAMP" AT TIME ZONE 'UTC', 'YYYY-MM-DD'), count(DISTINCT "EVENT_ID")
		FROM `+table+` WHERE "TIMESTAMP" IS NOT NULL AND "EVENT_ID" NOT LIKE 'toolate-%' GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var day string
		var n int64
		if err := rows.Scan(&day, &n); err != nil {
			t.Fatal(err)
		}
		wantCount["event_date="+day] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	wantIDs := map[string]string{} // event ID -> partition
	rows, err = conn.Query(ctx, `SELECT DISTINCT "EVENT_ID", to_char("TIMESTAMP" AT TIME ZONE 'UTC', 'YYYY-MM-DD')
		FROM `+table+` WHERE "TIMESTAMP" IS NOT NULL AND "EVENT_ID" NOT LIKE 'toolate-%'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, day string
		if err := rows.Scan(&id, &day); err != nil {
			t.Fatal(err)
		}
		wantIDs[id] = "event_date=" + day
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	gotCount, gotIDs := archiveEventIDs(t, d.url, "pg")
	if fmt.Sprint(gotCount) != fmt.Sprint(wantCount) {
		t.Errorf("%s: rows per partition\n got %v\nwant %v (SQL: distinct event IDs per UTC day)", d.name, gotCount, wantCount)
	}
	var missing, extra, twice, moved int
	for id, part := range gotIDs {
		switch want, ok := wantIDs[id]; {
		case !ok:
			extra++
		case len(part) > 1:
			twice++
		case part[0] != want:
			moved++
		}
	}
	for id := range wantIDs {
		if _, ok := gotIDs[id]; !ok {
			missing++
		}
	}
	if missing+extra+twice+moved > 0 {
		t.Errorf("%s: %d events missing, %d not in the table, %d written more than once, %d in the wrong partition",
			d.name, missing, extra, twice, moved)
	}
}

// archiveEventIDs reads the EVENT_ID column of every published Parquet
// file under prefix: rows per partition, and the partitions of each ID.
func archiveEventIDs(t *testing.T, u, prefix string) (map[string]int64, map[string][]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	b, err := sinks.Open(ctx, u, sinks.OpenOptions{})
	if err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	defer b.Close()
	var keys []string
	if err := b.List(ctx, prefix+"/event_date=", func(o sinks.Object) error {
		if strings.HasSuffix(o.Key, ".parquet") {
			keys = append(keys, o.Key)
		}
		return nil
	}); err != nil {
		t.Fatalf("list %s: %v", u, err)
	}
	counts := map[string]int64{}
	ids := map[string][]string{}
	for _, k := range keys {
		data, err := b.ReadAll(ctx, k)
		if err != nil {
			t.Fatalf("read %s: %v", k, err)
		}
		part := path.Dir(strings.TrimPrefix(k, prefix+"/"))
		for _, id := range parquetColumn(t, k, data, "EVENT_ID") {
			counts[part]++
			ids[id] = append(ids[id], part)
		}
	}
	return counts, ids
}

// parquetColumn returns the values of one string column of a Parquet file,
// read with parquet-go (an implementation independent of the writer's).
func parquetColumn(t *testing.T, key string, data []byte, column string) []string {
	t.Helper()
	pf, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("%s is not a readable Parquet file: %v", key, err)
	}
	leaf, ok := pf.Schema().Lookup(column)
	if !ok {
		t.Fatalf("%s has no column %s", key, column)
	}
	out := make([]string, 0, pf.NumRows())
	for _, rg := range pf.RowGroups() {
		columnValues(t, key, rg.ColumnChunks()[leaf.ColumnIndex], func(v parquet.Value) { out = append(out, v.String()) })
	}
	if int64(len(out)) != pf.NumRows() {
		t.Fatalf("%s: %d values of %s in %d rows", key, len(out), column, pf.NumRows())
	}
	return slices.Clip(out)
}
