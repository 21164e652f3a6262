package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// checkView is the part of check's JSON the tests read.
type checkView struct {
	Status string `json:"status"`
	Source struct {
		What  string      `json:"what"`
		Steps []checkStep `json:"checks"`
	} `json:"source"`
	Destination struct {
		What      string      `json:"what"`
		Steps     []checkStep `json:"checks"`
		ProbeKey  string      `json:"probe_key"`
		MayRemain []string    `json:"may_remain"`
	} `json:"destination"`
}

func checkJSON(t *testing.T, args ...string) (int, checkView, string) {
	t.Helper()
	code, out, errOut := cli(t, append([]string{"check", "--json"}, args...)...)
	var v checkView
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("check --json printed no JSON (exit %d): %v\n%s\n%s", code, err, out, errOut)
	}
	return code, v, errOut
}

// states renders steps as "name:status ...".
func states(steps []checkStep) string {
	s := make([]string, len(steps))
	for i, st := range steps {
		s[i] = st.Name + ":" + st.Status
	}
	return strings.Join(s, " ")
}

func findStep(t *testing.T, steps []checkStep, name string) checkStep {
	t.Helper()
	for _, s := range steps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no step %s in %s", name, states(steps))
	return checkStep{}
}

const allDestOK = "connect:ok create:ok create-again:ok read:ok list:ok copy:ok delete:ok"

// landingDir holds two CSV exports, the newer one with an org's own header
// spelling and a column the catalog lacks, plus a file that is not an export.
func landingDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "landing")
	os.MkdirAll(dir, 0o755)
	old := writeFile(t, dir, "2026-11-24_audit.csv", "Timestamp,Event Id\n2026-11-24 10:00:00,e1\n")
	writeFile(t, dir, "2026-11-25_audit.csv", "Timestamp,EVENT_ID,event type,Favourite Colour\n2026-11-25 10:00:00,e2,Login,blue\n")
	writeFile(t, dir, "README.txt", "not an export\n")
	past := time.Now().Add(-48 * time.Hour)
	os.Chtimes(old, past, past)
	return dir
}

// A readable landing prefix and a writable local archive: every step
// passes, the newest export's header is resolved, and no probe object is
// left behind.
func TestCheckLocal(t *testing.T) {
	land := landingDir(t)
	archive := filepath.Join(t.TempDir(), "archive")
	code, out, errOut := cli(t, "check", "--source.url", land, "--destination.url", archive, "--destination.prefix", "audit")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"2 export objects under the prefix (1 other objects ignored)",
		"opened 2026-11-25_audit.csv",
		"4 columns: 2 by column ID, 1 by friendly name, 1 derived; time column TIMESTAMP present",
		`derived "Favourite Colour" as FAVOURITE_COLOUR`,
		"a second create-if-absent put of the same key was refused",
		"all 11 checks passed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	var left []string
	filepath.Walk(archive, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			left = append(left, p)
		}
		return nil
	})
	if len(left) > 0 {
		t.Errorf("check left %v behind", left)
	}
}

func TestCheckJSON(t *testing.T) {
	code, v, _ := checkJSON(t, "--source.url", landingDir(t), "--destination.url", "mem://", "--destination.prefix", "p")
	if code != exitOK || v.Status != "ok" {
		t.Fatalf("exit %d, status %q", code, v.Status)
	}
	if got, want := states(v.Source.Steps), "connect:ok list:ok newest:ok header:ok"; got != want {
		t.Errorf("source steps %s, want %s", got, want)
	}
	if got := states(v.Destination.Steps); got != allDestOK {
		t.Errorf("destination steps %s, want %s", got, allDestOK)
	}
	if !strings.HasPrefix(v.Destination.ProbeKey, "_auditexport/check/") || v.Destination.What != "mem://p/" || len(v.Destination.MayRemain) != 0 {
		t.Errorf("destination %+v", v.Destination)
	}
}

// Source problems fail their step, name what to fix, skip what depends on
// them, and exit 1; the destination is still checked.
func TestCheckSourceFailures(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	os.MkdirAll(empty, 0o755)
	writeFile(t, empty, "notes.txt", "x")
	noTime := filepath.Join(t.TempDir(), "notime")
	os.MkdirAll(noTime, 0o755)
	writeFile(t, noTime, "a.csv", "When,Event Id\n2026-11-24 10:00:00,e1\n")
	for _, tc := range []struct {
		name, url  string
		steps      string
		step, want string
	}{
		{"missing", filepath.Join(t.TempDir(), "nope"), "connect:failed list:skipped newest:skipped header:skipped",
			"connect", "must exist"},
		{"empty", empty, "connect:ok list:failed newest:skipped header:skipped",
			"list", "check both, and that Sigma's scheduled export has run"},
		{"no time column", noTime, "connect:ok list:ok newest:ok header:failed",
			"header", "schema.time_column"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, v, errOut := checkJSON(t, "--source.url", tc.url, "--destination.url", "mem://")
			if code != exitFailure || v.Status != "failed" || !strings.Contains(errOut, "checks failed") {
				t.Errorf("exit %d status %q stderr %q; want 1, failed", code, v.Status, errOut)
			}
			if got := states(v.Source.Steps); got != tc.steps {
				t.Errorf("source steps %s, want %s", got, tc.steps)
			}
			if s := findStep(t, v.Source.Steps, tc.step); !strings.Contains(s.Needs, tc.want) || s.Error == "" {
				t.Errorf("%s step %+v: want an error, and needs saying %q", tc.step, s, tc.want)
			}
			if got := states(v.Destination.Steps); got != allDestOK {
				t.Errorf("destination steps %s, want %s", got, allDestOK)
			}
		})
	}
}

// A destination that cannot be opened fails connect and skips the rest.
func TestCheckDestinationUnopenable(t *testing.T) {
	t.Setenv("AZURE_STORAGE_ACCOUNT", "")
	t.Setenv("AZURE_STORAGE_CONNECTION_STRING", "")
	code, out, _ := cli(t, "check", "--source.url", landingDir(t), "--destination.url", "azblob://archive")
	if code != exitFailure {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{"FAILED   connect", "no Azure storage account", "skipped  delete", "1 of 11 checks failed, 6 skipped"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// The S3 encryption settings are validated with the rest of the config,
// naming the setting (exit 2 on every command).
func TestS3EncryptionSettings(t *testing.T) {
	land := landingDir(t)
	s3 := "s3://archive?region=us-east-1"
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--destination.url", s3, "--destination.s3.sse", "aes-256"},
			[]string{`destination.s3.sse "aes-256"`, "AES256, aws:kms, aws:kms:dsse"}},
		{[]string{"--destination.url", s3, "--destination.s3.sse", "AES256", "--destination.s3.kms_key_id", "alias/audit"},
			[]string{`destination.s3.kms_key_id "alias/audit"`, "needs destination.s3.sse aws:kms"}},
		{[]string{"--destination.url", s3, "--destination.s3.kms_key_id", "alias/audit"},
			[]string{"destination.s3.kms_key_id", "needs destination.s3.sse aws:kms"}},
		{[]string{"--destination.url", "gs://archive", "--destination.s3.sse", "aws:kms"},
			[]string{"destination.s3.sse", "s3:// destinations only"}},
		{[]string{"--destination.url", s3 + "&ssetype=AES256", "--destination.s3.sse", "aws:kms"},
			[]string{"destination.url", "give the encryption once"}},
	} {
		for _, cmd := range []string{"check", "run"} {
			args := append([]string{cmd, "--source.url", land}, tc.args...)
			code, _, errOut := cli(t, args...)
			if code != exitUsage {
				t.Errorf("%v: exit %d, want %d\n%s", args, code, exitUsage, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("%v: stderr does not say %q:\n%s", args, w, errOut)
				}
			}
		}
	}
	// Accepted forms.
	for _, ok := range [][]string{
		{"--destination.s3.sse", "aws:kms", "--destination.s3.kms_key_id", "arn:aws:kms:us-east-1:111122223333:key/k"},
		{"--destination.s3.sse", "AWS:KMS:DSSE"},
		{"--destination.s3.sse", "AES256"},
	} {
		lc, err := loadArgs(t, append([]string{"--source.url", land, "--destination.url", s3}, ok...))
		if err != nil || lc.Destination.S3.SSE == "" {
			t.Errorf("%v: %v", ok, err)
		}
	}
}

// loadArgs loads a config from setting flags, as a command does.
func loadArgs(t *testing.T, args []string) (*loadedConfig, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cf := addConfigFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return cf.load()
}

// A PostgreSQL source: connect, table, SELECT privilege and the rows of
// the last 24 hours; then a role without SELECT is told the GRANT it needs,
// and a missing table names source.postgres.table.
func TestCheckPostgres(t *testing.T) {
	conn, dsn := pgConn(t)
	ctx := context.Background()
	schemaName := fmt.Sprintf("checktest_%d", time.Now().UnixNano())
	role := schemaName + "_nosel"
	mustExec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	mustExec("CREATE SCHEMA " + schemaName)
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP SCHEMA "+schemaName+" CASCADE")
		conn.Exec(context.Background(), "DROP ROLE IF EXISTS "+role)
	})
	mustExec(`CREATE TABLE ` + schemaName + `.audit_logs ("timestamp" timestamptz, event_id text, event_type text)`)
	// 5 rows in the last day (one a duplicate), 2 with no time, 3 older.
	mustExec(`INSERT INTO ` + schemaName + `.audit_logs
		SELECT now() - (g || ' hours')::interval, 'e' || g, 'Login' FROM generate_series(1, 4) g
		UNION ALL SELECT now() - interval '1 hour', 'e1', 'Login'
		UNION ALL SELECT NULL, 'n' || g, 'Login' FROM generate_series(1, 2) g
		UNION ALL SELECT now() - (g || ' days')::interval, 'old' || g, 'Login' FROM generate_series(2, 4) g`)
	t.Setenv("AUDITEXPORT_SOURCE_POSTGRES_DSN", dsn)
	base := []string{"--source.kind", "postgres", "--source.postgres.table", schemaName + ".audit_logs",
		"--source.postgres.time_column", "timestamp", "--destination.url", "mem://"}

	code, v, errOut := checkJSON(t, base...)
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%+v", code, errOut, v)
	}
	if got, want := states(v.Source.Steps), "connect:ok table:ok select:ok rows:ok"; got != want {
		t.Errorf("source steps %s, want %s", got, want)
	}
	if r := findStep(t, v.Source.Steps, "rows"); !strings.Contains(r.Detail, "5 rows since") || !strings.Contains(r.Detail, "2 with a NULL event time") {
		t.Errorf("rows: %q, want 5 rows and 2 NULL", r.Detail)
	}

	mustExec(`CREATE ROLE ` + role + ` LOGIN`)
	mustExec(`GRANT USAGE ON SCHEMA ` + schemaName + ` TO ` + role)
	t.Setenv("AUDITEXPORT_SOURCE_POSTGRES_DSN", withUser(t, dsn, role))
	code, v, _ = checkJSON(t, base...)
	if code != exitFailure || states(v.Source.Steps) != "connect:ok table:failed select:skipped rows:skipped" {
		t.Fatalf("without SELECT: exit %d, steps %s", code, states(v.Source.Steps))
	}
	want := fmt.Sprintf("GRANT SELECT ON %s.audit_logs TO %s", schemaName, role)
	if s := findStep(t, v.Source.Steps, "table"); !strings.Contains(s.Needs, want) {
		t.Errorf("select needs %q, want it to say %q (error %s)", s.Needs, want, s.Error)
	}

	t.Setenv("AUDITEXPORT_SOURCE_POSTGRES_DSN", dsn)
	missing := append(append([]string{}, base...), "--source.postgres.table", schemaName+".nope")
	code, v, _ = checkJSON(t, missing...)
	if s := findStep(t, v.Source.Steps, "table"); code != exitFailure || s.Status != stepFailed || !strings.Contains(s.Error, "source.postgres.table") {
		t.Errorf("missing table: exit %d, step %+v", code, s)
	}
}

// withUser swaps the user of a postgres:// URL.
func withUser(t *testing.T, dsn, user string) string {
	t.Helper()
	i, j := strings.Index(dsn, "://"), strings.Index(dsn, "@")
	if i < 0 || j < i {
		t.Fatalf("DSN %q is not a URL with a user", dsn)
	}
	return dsn[:i+3] + user + dsn[j:]
}

// A refused connection fails connect, naming the setting, and never prints
// the password of the DSN.
func TestCheckPostgresUnreachable(t *testing.T) {
	const secret = "planted-pw-7f3a9c"
	t.Setenv("AUDITEXPORT_SOURCE_POSTGRES_DSN", "postgres://auditor:"+secret+"@127.0.0.1:1/audit?connect_timeout=5")
	code, out, errOut := cli(t, "check", "--source.kind", "postgres", "--source.postgres.table", "audit_logs", "--destination.url", "mem://")
	if code != exitFailure || !strings.Contains(out, "FAILED   connect") || !strings.Contains(out, "source.postgres.dsn") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
	if strings.Contains(out+errOut, secret) {
		t.Errorf("check printed the DSN's password:\n%s\n%s", out, errOut)
	}
}

// A destination URL that no run could open is a configuration error,
// found before anything is reached.
func TestCheckDestinationURLRefusedUpFront(t *testing.T) {
	code, out, errOut := cli(t, "check", "--source.url", landingDir(t), "--destination.url", "ftp://archive/x")
	if code != exitUsage || !strings.Contains(errOut, `destination.url "ftp://archive/x": unsupported scheme "ftp"`) || out != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 2 naming destination.url and the scheme", code, out, errOut)
	}
}
