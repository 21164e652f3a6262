package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgConn connects to the test PostgreSQL server, failing (never skipping)
// when it is not running.
func pgConn(t *testing.T) (*pgx.Conn, string) {
	t.Helper()
	dsn := os.Getenv("AUDITEXPORT_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Fatal(`AUDITEXPORT_TEST_POSTGRES_DSN is not set: start PostgreSQL with integration/scripts/postgres.sh start and eval "$(integration/scripts/postgres.sh env)"`)
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatalf("connect to the test PostgreSQL (%s): %v", "integration/scripts/postgres.sh", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn, dsn
}

// A PostgreSQL table with CDW column IDs (lower-cased, as PostgreSQL folds
// them), NULLs, at-least-once duplicates and rows inserted between runs:
// run and backfill write every distinct event once per run.
func TestRunPostgresSource(t *testing.T) {
	conn, dsn := pgConn(t)
	ctx := context.Background()
	schemaName := fmt.Sprintf("cmdtest_%d", time.Now().UnixNano())
	mustExec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	mustExec("CREATE SCHEMA " + schemaName)
	t.Cleanup(func() { conn.Exec(context.Background(), "DROP SCHEMA "+schemaName+" CASCADE") })
	mustExec(`CREATE TABLE ` + schemaName + `.audit_logs (
		"timestamp" timestamptz, event_id text, event_category text, event_type text,
		user_email text, query_duration_ms bigint, is_cached boolean, recipients jsonb)`)
	now := time.Now().UTC().Truncate(time.Second)
	day := func(d int) time.Time { return now.Add(time.Duration(-d) * 24 * time.Hour) }
	rows := [][]any{
		{day(0), "e1", "QUERY_EXECUTIONS", "Run Query", "a@example.com", int64(1200), true, nil},
		{day(0), "e1", "QUERY_EXECUTIONS", "Run Query", "a@example.com", int64(1200), true, nil}, // duplicate
		{day(1), "e2", "SCHEDULES", "Create Schedule", nil, nil, nil, `["x@example.com"]`},
		{day(2), "e3", "ACCESS_SIGMA", "Login", "b@example.com", nil, false, nil},
		{day(10), "e4", "ACCESS_SIGMA", "Login", "c@example.com", nil, nil, nil}, // outside the 72h lookback
	}
	for _, r := range rows {
		mustExec(`INSERT INTO `+schemaName+`.audit_logs VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`, r...)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "pg.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("source:\n  kind: postgres\n  postgres:\n    table: %s.audit_logs\n    time_column: timestamp\ndestination:\n  url: %s\n", schemaName, filepath.Join(dir, "out"))), 0o644)
	t.Setenv("AUDITEXPORT_SOURCE_POSTGRES_DSN", dsn)

	// The first run reads the whole table.
	code, stdout, stderr := cli(t, "run", "--config", cfg)
	if code != exitOK {
		t.Fatalf("run: %d %s", code, stderr)
	}
	s := summaryLine(t, stdout)
	if s.RowsRead != 5 || s.RowsWritten != 4 || s.RowsDup != 1 {
		t.Fatalf("first run summary = %+v, want 5 read, 4 written, 1 duplicate", s)
	}
	if strings.Contains(stdout+stderr, "password") {
		t.Errorf("output mentions a password:\n%s\n%s", stdout, stderr)
	}
	total := func() int64 {
		var n int64
		for _, c := range parquetRowsByPartition(t, filepath.Join(dir, "out")) {
			n += c
		}
		return n
	}
	if n := total(); n != 4 {
		t.Fatalf("archive holds %d rows, want 4", n)
	}

	// Rows inserted between runs: a new event, a late one for yesterday and
	// a copy of an archived one. The next run reads from 72h before the
	// archive's latest event, writes the two new events only, and does not
	// read the row of ten days ago again.
	mustExec(`INSERT INTO `+schemaName+`.audit_logs VALUES ($1,'e5','ACCESS_SIGMA','Logout','a@example.com',NULL,NULL,NULL)`, now.Add(time.Minute))
	mustExec(`INSERT INTO `+schemaName+`.audit_logs VALUES ($1,'e6','EXPORTS','Download CSV',NULL,NULL,NULL,NULL)`, day(1).Add(-time.Hour))
	mustExec(`INSERT INTO `+schemaName+`.audit_logs VALUES ($1,'e2','SCHEDULES','Create Schedule',NULL,NULL,NULL,'["x@example.com"]')`, day(1))
	code, stdout, stderr = cli(t, "run", "--config", cfg)
	if code != exitOK {
		t.Fatalf("second run: %d %s", code, stderr)
	}
	var again struct {
		RowsRead     int64 `json:"rows_read"`
		RowsWritten  int64 `json:"rows_written"`
		RowsArchived int64 `json:"rows_already_archived"`
		Commit       int64 `json:"commit"`
	}
	if err := json.Unmarshal([]byte(stdout), &again); err != nil {
		t.Fatal(err)
	}
	if again.RowsWritten != 2 || again.RowsRead != 7 || again.RowsArchived != 5 || again.Commit != 2 {
		t.Fatalf("second run = %+v, want 7 read (not the 10-day-old row), 2 written, 5 already archived (e1 twice, e2 twice, e3), commit 2", again)
	}
	if n := total(); n != 6 {
		t.Fatalf("archive holds %d rows, want 6", n)
	}

	// A backfill of the old day reaches the row outside the lookback.
	d10 := day(10).Format(time.DateOnly)
	code, stdout, stderr = cli(t, "backfill", "--config", cfg, "--destination.url", filepath.Join(dir, "bf"), "--from", d10, "--to", d10)
	if code != exitOK {
		t.Fatalf("backfill: %d %s", code, stderr)
	}
	if got := parquetRowsByPartition(t, filepath.Join(dir, "bf")); got["event_date="+d10] != 1 || len(got) != 1 {
		t.Fatalf("backfill archive = %v, want one row in event_date=%s", got, d10)
	}
}
