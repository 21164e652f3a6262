package postgres_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/exporter/source/postgres"
)

func TestPostgresTableNamesNeedingQuotes(t *testing.T) {
	db := newPGTest(t)
	mixed := "Audit_" + uniqueSuffix() // a mixed-case schema of its own
	db.exec("CREATE SCHEMA " + pgx.Identifier{mixed}.Sanitize())
	t.Cleanup(func() { db.exec("DROP SCHEMA " + pgx.Identifier{mixed}.Sanitize() + " CASCADE") })
	create := func(ident pgx.Identifier, id string) {
		t.Helper()
		db.exec(`CREATE TABLE ` + ident.Sanitize() + ` ("Timestamp" timestamptz, "Event Type" text)`)
		db.exec(`INSERT INTO `+ident.Sanitize()+` VALUES ('2026-11-25 13:45:12+00', $1)`, id)
	}
	create(pgx.Identifier{db.schema, "Audit Logs"}, "spaces")
	create(pgx.Identifier{mixed, "AuditLogs"}, "mixed")
	create(pgx.Identifier{db.schema, "AuditLogs"}, "upper")
	create(pgx.Identifier{db.schema, "auditlogs"}, "lower")
	create(pgx.Identifier{db.schema, `x"; DROP TABLE keep; --`}, "injection")
	db.exec(`CREATE TABLE ` + db.ident("keep") + ` (a int)`)
	db.exec(`CREATE VIEW ` + db.ident("Audit View") + ` AS SELECT * FROM ` + db.ident("Audit Logs"))

	tests := []struct {
		table, wantID, wantKey string
	}{
		{db.schema + ".Audit Logs", "spaces", db.schema + `."Audit Logs"`},
		{`"` + db.schema + `"."Audit Logs"`, "spaces", db.schema + `."Audit Logs"`},
		{db.schema + ".Audit View", "spaces", db.schema + `."Audit View"`},
		{mixed + ".AuditLogs", "mixed", `"` + mixed + `"."AuditLogs"`},
		{strings.ToLower(mixed) + ".auditlogs", "mixed", `"` + mixed + `"."AuditLogs"`}, // case-insensitive fallback
		{db.schema + ".AuditLogs", "upper", db.schema + `."AuditLogs"`},
		{db.schema + ".auditlogs", "lower", db.schema + ".auditlogs"}, // the exact match wins
		{db.schema + `."AuditLogs"`, "upper", db.schema + `."AuditLogs"`},
		{db.schema + `.x"; DROP TABLE keep; --`, "injection", db.schema + `."x""; DROP TABLE keep; --"`},
	}
	for _, tt := range tests {
		src := db.open(postgres.Config{Table: tt.table})
		inputs, err := src.List(context.Background(), source.Window{})
		if err != nil {
			t.Fatal(err)
		}
		if len(inputs) != 1 || inputs[0].Key != "table:"+tt.wantKey {
			t.Errorf("Table %q: inputs %+v, want one with key %q", tt.table, inputs, "table:"+tt.wantKey)
		}
		if want := "postgres table " + tt.wantKey + " at "; !strings.HasPrefix(src.Describe(), want) {
			t.Errorf("Table %q: Describe() = %q, want prefix %q", tt.table, src.Describe(), want)
		}
		recs := readRecords(t, src, source.Window{})
		if got := column(t, recs, "Event Type"); !slices.Equal(got, []string{tt.wantID}) {
			t.Errorf("Table %q read %q, want [%s]", tt.table, got, tt.wantID)
		}
		if got := recs[0].Header.Names; !slices.Equal(got, []string{"Timestamp", "Event Type"}) {
			t.Errorf("Table %q: header %q, want the column names as they are", tt.table, got)
		}
	}
	var n int
	if err := db.conn.QueryRow(context.Background(), `SELECT count(*) FROM `+db.ident("keep")).Scan(&n); err != nil {
		t.Errorf("table keep is gone after reading a table whose name holds SQL: %v", err)
	}

	// Unqualified names resolve through the search_path.
	dsn := dsnWith(t, db.dsn, "search_path", db.schema)
	src := db.open(postgres.Config{DSN: dsn, Table: "Audit Logs"})
	if got := src.Describe(); !strings.HasPrefix(got, "postgres table "+db.schema+`."Audit Logs" at `) {
		t.Errorf("Describe() = %q", got)
	}

	// Two tables equal but for case: only an exact spelling picks one.
	_, err := postgres.Open(context.Background(), postgres.Config{DSN: db.dsn, Table: db.schema + ".AUDITLOGS"}, cliNames)
	if err == nil || !strings.Contains(err.Error(), "source.postgres.table") || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("ambiguous table name: err = %v", err)
	}
}

func TestPostgresTimeColumnMatchesIgnoringCase(t *testing.T) {
	db := newPGTest(t)
	db.exec(`CREATE TABLE ` + db.ident("lower") + ` ("timestamp" timestamptz, event_type text)`)
	db.exec(`INSERT INTO ` + db.ident("lower") + ` VALUES ('2026-11-25 13:45:12+00', 'login'), ('2026-11-27 00:00:00+00', 'logout')`)
	src := db.open(postgres.Config{Table: db.schema + ".lower"}) // default TimeColumn "TIMESTAMP"
	recs := readRecords(t, src, source.Window{From: day(2), To: day(3)})
	if got := column(t, recs, "event_type"); !slices.Equal(got, []string{"login"}) {
		t.Errorf("event_type = %q, want [login]: the window applies to column \"timestamp\"", got)
	}
	src = db.open(postgres.Config{Table: db.schema + ".lower", TimeColumn: "Timestamp"})
	if got := readRecords(t, src, source.Window{}); len(got) != 2 {
		t.Errorf("TimeColumn Timestamp: %d rows, want 2", len(got))
	}
}

func TestPostgresConfigErrors(t *testing.T) {
	db := newPGTest(t)
	db.exec(`CREATE TABLE ` + db.ident("no_time") + ` ("when" timestamptz, "EVENT_ID" text, "Event Type" text)`)
	db.exec(`CREATE TABLE ` + db.ident("text_time") + ` ("TIMESTAMP" text, "EVENT_ID" text)`)
	searchPath := dsnWith(t, db.dsn, "search_path", db.schema+", public")

	tests := []struct {
		name string
		cfg  postgres.Config
		want []string
	}{
		{"missing table", postgres.Config{Table: db.schema + ".nope"},
			[]string{"source.postgres.table", `"` + db.schema + `.nope"`, "search_path", "schema " + db.schema}},
		{"missing schema", postgres.Config{Table: "no_such_schema_x.audit_logs"},
			[]string{"source.postgres.table", "no_such_schema_x", "search_path"}},
		{"missing unqualified table", postgres.Config{DSN: searchPath, Table: "audit_logs"},
			[]string{"source.postgres.table", `"audit_logs"`, "search_path", db.schema + ", public"}},
		{"missing time column", postgres.Config{Table: db.schema + ".no_time"},
			[]string{"source.postgres.time_column", `"TIMESTAMP"`, `its columns are: "when", "EVENT_ID", "Event Type"`}},
		{"named time column missing", postgres.Config{Table: db.schema + ".no_time", TimeColumn: "event_time"},
			[]string{"source.postgres.time_column", `"event_time"`, `"when"`}},
		{"time column of text", postgres.Config{Table: db.schema + ".text_time"},
			[]string{"source.postgres.time_column", "is text", "timestamp with time zone"}},
		{"empty table", postgres.Config{}, []string{"source.postgres.table is empty"}},
		{"three-part table", postgres.Config{Table: "db.audit.audit_logs"}, []string{"source.postgres.table", "3 dot-separated parts"}},
		{"unterminated quote", postgres.Config{Table: `"audit.audit_logs`}, []string{"source.postgres.table", "unterminated"}},
		{"negative fetch", postgres.Config{Table: db.schema + ".no_time", FetchRows: -1}, []string{"source.postgres.fetch_rows"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cfg.DSN == "" {
				tt.cfg.DSN = db.dsn
			}
			src, err := postgres.Open(context.Background(), tt.cfg, cliNames)
			if err == nil {
				src.Close()
				t.Fatalf("Open(%+v) succeeded, want an error", tt.cfg.Table)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestPostgresOpenChecksInputAndState(t *testing.T) {
	db := newPGTest(t)
	table := hourlyTable(db, "state", "timestamptz")
	src := db.open(postgres.Config{Table: table})
	ctx := context.Background()
	if _, err := src.Open(ctx, source.Input{Key: "table:other.table"}, source.Window{}); err == nil ||
		!strings.Contains(err.Error(), "unknown input") {
		t.Errorf("Open of another input: err = %v", err)
	}
	db.exec(`DROP TABLE ` + db.ident("state"))
	if _, err := src.Open(ctx, source.Input{Key: "table:" + table}, source.Window{}); err == nil ||
		!strings.Contains(err.Error(), "source.postgres.table") {
		t.Errorf("Open of a dropped table: err = %v", err)
	}
	src.Close()
	if _, err := src.List(ctx, source.Window{}); err == nil {
		t.Error("List after Close succeeded")
	}
}

// The password never shows in an error or a description: not from the DSN (URL or key/value, well-formed
// or not), not from PGPASSWORD.
func TestPostgresErrorsCarryNoPassword(t *testing.T) {
	const secret = "Planted/S3cret@pw-9f2c"
	db := newPGTest(t)
	hourlyTable(db, "secret", "timestamptz")
	escaped := url.UserPassword("postgres", secret).String()

	check := func(t *testing.T, what, text string, want ...string) {
		t.Helper()
		for _, leak := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret), strings.TrimPrefix(escaped, "postgres:")} {
			if strings.Contains(text, leak) {
				t.Errorf("%s leaks the password (%q): %s", what, leak, text)
			}
		}
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s = %q, want it to contain %q", what, text, w)
			}
		}
	}
	failing := []struct {
		name, dsn, env string
		want           []string
	}{
		{"url", "postgres://" + escaped + "@127.0.0.1:1/auditexport?sslmode=disable&connect_timeout=5", "",
			[]string{"connect to postgres (source.postgres.dsn) at 127.0.0.1:1/auditexport: "}},
		{"key/value", "host=127.0.0.1 port=1 dbname=auditexport user=postgres password='" + secret + "' sslmode=disable", "",
			[]string{"connect to postgres (source.postgres.dsn) at 127.0.0.1:1/auditexport: "}},
		{"PGPASSWORD", "postgres://postgres@127.0.0.1:1/auditexport?sslmode=disable", secret,
			[]string{"connect to postgres (source.postgres.dsn) at 127.0.0.1:1/auditexport: "}},
		{"malformed url", "postgres://postgres:" + secret + "@127.0.0.1:port/auditexport", "", []string{"source.postgres.dsn"}},
		{"malformed key/value", "host=127.0.0.1 password='" + secret, "", []string{"source.postgres.dsn"}},
		{"bad option with password", "postgres://" + escaped + "@127.0.0.1:54329/auditexport?sslmode=bogus", "",
			[]string{"source.postgres.dsn"}},
	}
	for _, tt := range failing {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv("PGPASSWORD", tt.env)
			}
			src, err := postgres.Open(context.Background(), postgres.Config{DSN: tt.dsn, Table: "audit.audit_logs"}, cliNames)
			if err == nil {
				src.Close()
				t.Fatal("Open succeeded, want an error")
			}
			check(t, "error", err.Error(), tt.want...)
		})
	}

	// Against the real server (trust authentication accepts any password): the source works, and neither
	// its description nor its errors show the password.
	t.Run("connected", func(t *testing.T) {
		t.Setenv("PGPASSWORD", secret)
		u, err := url.Parse(db.dsn)
		if err != nil || u.Scheme == "" {
			t.Fatalf("this case needs a URL DSN in %s, got %q", postgresDSNEnv, db.dsn)
		}
		u.User = url.UserPassword(u.User.Username(), secret)
		dsn := u.String()
		src := db.open(postgres.Config{DSN: dsn, Table: db.schema + ".secret"})
		check(t, "Describe()", src.Describe(), "postgres table "+db.schema+".secret at ")
		_, err = postgres.Open(context.Background(), postgres.Config{DSN: dsn, Table: db.schema + ".missing"}, cliNames)
		if err == nil {
			t.Fatal("Open of a missing table succeeded")
		}
		check(t, "missing-table error", err.Error(), "source.postgres.table")
		db.exec(`DROP TABLE ` + db.ident("secret"))
		_, err = src.Open(context.Background(), source.Input{Key: "table:" + db.schema + ".secret"}, source.Window{})
		if err == nil {
			t.Fatal("Open of a dropped table succeeded")
		}
		check(t, "Open error", err.Error(), "source.postgres.table")
	})
}

func TestPostgresWithoutSelectPrivilege(t *testing.T) {
	db := newPGTest(t)
	hourlyTable(db, "private", "timestamptz")
	role := "auditexport_test_" + uniqueSuffix()
	db.exec("CREATE ROLE " + pgx.Identifier{role}.Sanitize() + " LOGIN")
	t.Cleanup(func() {
		db.exec("DROP OWNED BY " + pgx.Identifier{role}.Sanitize())
		db.exec("DROP ROLE " + pgx.Identifier{role}.Sanitize())
	})
	dsn := dsnWith(t, db.dsn, "user", role)
	_, err := postgres.Open(context.Background(), postgres.Config{DSN: dsn, Table: db.schema + ".private"}, cliNames)
	if err == nil || !strings.Contains(err.Error(), "source.postgres.table") || !strings.Contains(err.Error(), "may not SELECT") {
		t.Fatalf("Open as a role without SELECT: err = %v", err)
	}
	db.exec("GRANT USAGE ON SCHEMA " + pgx.Identifier{db.schema}.Sanitize() + " TO " + pgx.Identifier{role}.Sanitize())
	db.exec("GRANT SELECT ON " + db.ident("private") + " TO " + pgx.Identifier{role}.Sanitize())
	src := db.open(postgres.Config{DSN: dsn, Table: db.schema + ".private"})
	if got := len(readRecords(t, src, source.Window{})); got != 97 {
		t.Errorf("after GRANT: %d rows, want 97", got)
	}
}
