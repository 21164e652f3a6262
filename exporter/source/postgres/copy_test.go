package postgres_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/exporter/source/postgres"
)

// openReader opens the scan of the whole table and reports whether it reads a binary COPY.
func openReader(t *testing.T, src *postgres.Source, table string, w source.Window) (source.Reader, bool) {
	t.Helper()
	r, err := src.Open(context.Background(), source.Input{Key: "table:" + table}, w)
	if err != nil {
		t.Fatalf("Open(%s): %v", table, err)
	}
	t.Cleanup(func() { r.Close() })
	return r, postgres.ReadsBinaryCopy(r)
}

// Every type the binary COPY decodes renders the same text as the cursor path, NULLs included.
func TestPostgresBinaryCopyMatchesCursor(t *testing.T) {
	db := newPGTest(t)
	db.exec("CREATE DOMAIN " + db.ident("small_count") + " AS int CHECK (VALUE >= 0)")
	db.exec("CREATE DOMAIN " + db.ident("tag_list") + " AS text[]")
	tests := []struct {
		typ    string
		values []string // SQL literals
		want   []string // renderings
	}{
		{"timestamptz", []string{"'2026-11-25 08:45:12.123456-05'", "'2026-11-25 14:00:00+00'", "'infinity'", "'-infinity'", "'0044-03-15 12:00:00+00 BC'", "NULL"},
			[]string{"2026-11-25T13:45:12.123456Z", "2026-11-25T14:00:00Z", "infinity", "-infinity", "-0043-03-15T12:00:00Z", ""}},
		{"timestamp", []string{"'2026-11-25 13:45:12.5'", "'1999-12-31 23:59:59.999999'", "'-infinity'", "NULL"},
			[]string{"2026-11-25 13:45:12.5", "1999-12-31 23:59:59.999999", "-infinity", ""}},
		{"date", []string{"'2026-11-25'", "'1999-01-08'", "'infinity'", "NULL"}, []string{"2026-11-25", "1999-01-08", "infinity", ""}},
		{"boolean", []string{"true", "false", "NULL"}, []string{"true", "false", ""}},
		{"smallint", []string{"-32768", "32767", "0", "NULL"}, []string{"-32768", "32767", "0", ""}},
		{"integer", []string{"-2147483648", "2147483647", "NULL"}, []string{"-2147483648", "2147483647", ""}},
		{"bigint", []string{"-9223372036854775808", "9007199254740993", "NULL"}, []string{"-9223372036854775808", "9007199254740993", ""}},
		{"real", []string{"0.1", "-2.5", "'NaN'", "'-Infinity'", "NULL"}, []string{"0.1", "-2.5", "NaN", "-Infinity", ""}},
		{"double precision", []string{"1.5", "1e20", "'Infinity'", "NULL"}, []string{"1.5", "100000000000000000000", "Infinity", ""}},
		{"numeric", []string{"12345678901234567890.123450", "0.000001", "-0.5", "0", "0.00", "100000", "-12.3400", "1e-20",
			"'NaN'", "'Infinity'", "'-Infinity'", "NULL"},
			[]string{"12345678901234567890.123450", "0.000001", "-0.5", "0", "0.00", "100000", "-12.3400", "0.00000000000000000001",
				"NaN", "Infinity", "-Infinity", ""}},
		{"numeric(10,3)", []string{"1.5", "-9999999.999"}, []string{"1.500", "-9999999.999"}},
		{"text", []string{"'multi\nline, \"quoted\"'", "''", "'ünï ✓'", "NULL"}, []string{"multi\nline, \"quoted\"", "", "ünï ✓", ""}},
		{"text", []string{"repeat('ab', 200000)"}, []string{strings.Repeat("ab", 200000)}}, // larger than the read buffer
		{"varchar(20)", []string{"'Ana'", "NULL"}, []string{"Ana", ""}},
		{"char(5)", []string{"'ab'", "NULL"}, []string{"ab   ", ""}},
		{"name", []string{"'pg_class'"}, []string{"pg_class"}},
		{"uuid", []string{"'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "'00000000-0000-0000-0000-000000000000'", "NULL"},
			[]string{"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "00000000-0000-0000-0000-000000000000", ""}},
		{"json", []string{`'{ "z" : 1, "a" : [ 1 , 2 ] }'`, `'"str"'`, "NULL"}, []string{`{"z":1,"a":[1,2]}`, `"str"`, ""}},
		{"jsonb", []string{`'{"b": [1, 2.50], "a": "x y"}'`, "'null'", "NULL"}, []string{`{"a":"x y","b":[1,2.50]}`, "null", ""}},
		{"text[]", []string{`ARRAY['a', 'b,c', 'd"e', NULL]`, "'{}'", "NULL"}, []string{`["a","b,c","d\"e",null]`, "[]", ""}},
		{"int[]", []string{"'{{1,2},{3,4}}'"}, []string{"[[1,2],[3,4]]"}},
		{db.ident("small_count"), []string{"7", "NULL"}, []string{"7", ""}},
		{db.ident("tag_list"), []string{"'{x,y}'"}, []string{`["x","y"]`}},
	}
	for i, tt := range tests {
		name := "binary_" + strings.Repeat("t", i+1)
		db.exec(`CREATE TABLE ` + db.ident(name) + ` ("TIMESTAMP" timestamptz, seq int, v ` + tt.typ + `)`)
		rows := make([]string, len(tt.values))
		for j, v := range tt.values {
			rows[j] = "('2026-11-25 00:00:00+00', " + strconv.Itoa(j) + ", " + v + ")"
		}
		db.exec(`INSERT INTO ` + db.ident(name) + ` VALUES ` + strings.Join(rows, ", "))
		table := db.schema + "." + name

		bin := db.open(postgres.Config{Table: table})
		cur := db.open(postgres.Config{Table: table})
		postgres.ReadThroughCursor(cur)
		if _, ok := openReader(t, bin, table, source.Window{}); !ok {
			t.Errorf("%s: the scan does not read a binary COPY", tt.typ)
		}
		if _, ok := openReader(t, cur, table, source.Window{}); ok {
			t.Errorf("%s: ReadThroughCursor: the scan reads a binary COPY", tt.typ)
		}
		byPath := map[string][]string{}
		for path, src := range map[string]*postgres.Source{"binary": bin, "cursor": cur} {
			recs := readRecords(t, src, source.Window{})
			slices.SortFunc(recs, func(a, b source.Record) int {
				x, _ := strconv.Atoi(a.Fields[1])
				y, _ := strconv.Atoi(b.Fields[1])
				return x - y
			})
			byPath[path] = column(t, recs, "v")
		}
		if !slices.Equal(byPath["binary"], tt.want) {
			t.Errorf("%s through the binary COPY = %q, want %q", tt.typ, byPath["binary"], tt.want)
		}
		if !slices.Equal(byPath["cursor"], byPath["binary"]) {
			t.Errorf("%s: cursor %q, binary COPY %q", tt.typ, byPath["cursor"], byPath["binary"])
		}
	}
}

// A table with a type the binary decoders do not know (interval, inet, an enum, money) is read through the
// cursor, whole.
func TestPostgresOtherTypesFallBackToCursor(t *testing.T) {
	db := newPGTest(t)
	db.exec("CREATE TYPE " + db.ident("mood") + " AS ENUM ('happy', 'sad')")
	for _, tt := range []struct{ typ, value, want string }{
		{"interval", "'1 day 02:03:04'", "1 day 02:03:04"},
		{"inet", "'10.0.0.1'", "10.0.0.1"},
		{db.ident("mood"), "'sad'", "sad"},
		{"money", "12.5", "$12.50"},
	} {
		name := "fallback_" + strings.Trim(strings.ReplaceAll(tt.typ, db.schema, ""), `".`)
		db.exec(`CREATE TABLE ` + db.ident(name) + ` ("TIMESTAMP" timestamptz, "EVENT_ID" text, v ` + tt.typ + `)`)
		db.exec(`INSERT INTO ` + db.ident(name) + ` VALUES ('2026-11-25 00:00:00+00', 'e1', ` + tt.value + `), (NULL, NULL, NULL)`)
		table := db.schema + "." + name
		src := db.open(postgres.Config{Table: table})
		if _, ok := openReader(t, src, table, source.Window{}); ok {
			t.Errorf("%s: the scan reads a binary COPY, want the cursor", tt.typ)
		}
		recs := readRecords(t, src, source.Window{})
		got := column(t, recs, "v")
		slices.Sort(got)
		if want := []string{"", tt.want}; !slices.Equal(got, want) {
			t.Errorf("%s: v = %q, want %q", tt.typ, got, want)
		}
	}
}

// A context cancelled while Next waits on the COPY ends that Next with the context's error, and Close returns.
func TestPostgresBinaryCopyHonoursContextWhileBlocked(t *testing.T) {
	db := newPGTest(t)
	db.exec(`CREATE TABLE ` + db.ident("slow_base") + ` ("TIMESTAMP" timestamptz, "EVENT_ID" text)`)
	db.exec(`INSERT INTO `+db.ident("slow_base")+` SELECT $1::timestamptz, 'e' || i FROM generate_series(1, 3) AS i`, day(0))
	// Each row of the view takes a minute to compute.
	db.exec(`CREATE VIEW ` + db.ident("slow") + ` AS SELECT "TIMESTAMP", "EVENT_ID" || (SELECT '' FROM pg_sleep(60)) AS "EVENT_ID" FROM ` + db.ident("slow_base"))
	table := db.schema + ".slow"
	src := db.open(postgres.Config{Table: table})
	r, ok := openReader(t, src, table, source.Window{})
	if !ok {
		t.Fatal("the scan of the view does not read a binary COPY")
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := r.Next(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Next cancelled while waiting: err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("Next returned %v after the cancel, want promptly", d)
	}
	closed := make(chan error, 1)
	go func() { closed <- r.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close after a cancelled COPY did not return in 20s")
	}
	if _, err := r.Next(context.Background()); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("Next after a failed read: err = %v, want the failure again", err)
	}
}

// Closing a reader in the middle of a large COPY stops it: Close returns, and a new scan reads every row.
func TestPostgresBinaryCopyCloseMidStream(t *testing.T) {
	db := newPGTest(t)
	db.exec(`CREATE TABLE ` + db.ident("mid") + ` ("TIMESTAMP" timestamptz, "EVENT_ID" text, "PAYLOAD" text)`)
	db.exec(`INSERT INTO `+db.ident("mid")+` SELECT $1::timestamptz, 'e' || i, repeat('x', 1000) FROM generate_series(1, 20000) AS i`, day(0))
	table := db.schema + ".mid"
	src := db.open(postgres.Config{Table: table})
	r, ok := openReader(t, src, table, source.Window{})
	if !ok {
		t.Fatal("the scan does not read a binary COPY")
	}
	for range 10 {
		if _, err := r.Next(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- r.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close in the middle of a COPY did not return in 20s")
	}
	if n := len(readRecords(t, src, source.Window{})); n != 20000 {
		t.Errorf("a new scan read %d rows, want 20000", n)
	}
}

// An error the server meets in the middle of the COPY ends the read with that error, not with a short table.
func TestPostgresBinaryCopyServerError(t *testing.T) {
	db := newPGTest(t)
	db.exec(`CREATE VIEW ` + db.ident("fails") + ` AS SELECT '2026-11-25 00:00:00+00'::timestamptz AS "TIMESTAMP",
		(100 / (3 - i))::text AS "EVENT_ID" FROM generate_series(1, 5) AS i`)
	table := db.schema + ".fails"
	src := db.open(postgres.Config{Table: table})
	r, ok := openReader(t, src, table, source.Window{})
	if !ok {
		t.Fatal("the scan of the view does not read a binary COPY")
	}
	var n int
	var err error
	for ; n < 10; n++ {
		if _, err = r.Next(context.Background()); err != nil {
			break
		}
	}
	if err == nil || errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "division by zero") {
		t.Errorf("after %d rows: err = %v, want the server's division by zero", n, err)
	}
}
