package postgres_test

import (
	"slices"
	"testing"

	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/exporter/source/postgres"
)

func TestPostgresRendersTypes(t *testing.T) {
	db := newPGTest(t)
	db.exec("CREATE TYPE " + db.ident("mood") + " AS ENUM ('happy', 'sad')")
	db.exec("CREATE DOMAIN " + db.ident("utc_time") + " AS timestamptz")
	db.exec("CREATE DOMAIN " + db.ident("tag_list") + " AS text[]")
	db.exec(`CREATE TABLE ` + db.ident("typed") + ` (
		"TIMESTAMP" timestamptz, naive timestamp, day date, big bigint, small smallint, num numeric,
		dbl double precision, flt real, flag boolean, doc jsonb, raw_json json, id uuid, tags text[], grid int[],
		name varchar(20), note text, mood ` + db.ident("mood") + `, span interval, dom_time ` + db.ident("utc_time") + `,
		dom_tags ` + db.ident("tag_list") + `, ip inet, "Event Type" text)`)
	db.exec(`INSERT INTO ` + db.ident("typed") + ` VALUES
	('2026-11-25 08:45:12.123456-05', '2026-11-25 13:45:12.5', '2026-11-25', 9007199254740993, -32768,
	 12345678901234567890.123450, 1.5, 0.1, true, '{"b": [1, 2.50], "a": "x y"}', '{ "z" : 1, "a" : [ 1 , 2 ] }',
	 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', ARRAY['a', 'b,c', 'd"e', NULL, 'ünï'], '{{1,2},{3,4}}', 'Ana',
	 E'multi\nline, "quoted"', 'happy', '1 day 02:03:04', '2026-11-25 13:45:12+00', '{x,y}', '10.0.0.1', 'login'),
	('2026-11-25 14:00:00+00', '2026-11-25 00:00:00', '1999-01-08', -1, 0, 'NaN', 1e20, -2.5, false, 'null',
	 '[]', '00000000-0000-0000-0000-000000000000', '{}', '{}', '', '', 'sad', '-00:00:01', NULL, '{}', '::1', ''),
	('2026-11-26 00:00:00+00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, NULL, NULL, NULL),
	('infinity', '-infinity', 'infinity', 0, 1, 0.000001, 'NaN', '-Infinity', NULL, '{"nested": {"k": [true, null]}}',
	 '"str"', NULL, ARRAY[NULL]::text[], '{{1},{2}}', NULL, NULL, NULL, NULL, '-infinity', NULL, NULL, NULL)`)

	src := db.open(postgres.Config{Table: db.schema + ".typed"})
	recs := readRecords(t, src, source.Window{})

	wantHeader := []string{"TIMESTAMP", "naive", "day", "big", "small", "num", "dbl", "flt", "flag", "doc",
		"raw_json", "id", "tags", "grid", "name", "note", "mood", "span", "dom_time", "dom_tags", "ip", "Event Type"}
	want := [][]string{
		{"2026-11-25T13:45:12.123456Z", "2026-11-25 13:45:12.5", "2026-11-25", "9007199254740993", "-32768",
			"12345678901234567890.123450", "1.5", "0.1", "true", `{"a":"x y","b":[1,2.50]}`, `{"z":1,"a":[1,2]}`,
			"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", `["a","b,c","d\"e",null,"ünï"]`, "[[1,2],[3,4]]", "Ana",
			"multi\nline, \"quoted\"", "happy", "1 day 02:03:04", "2026-11-25T13:45:12Z", `["x","y"]`, "10.0.0.1", "login"},
		{"2026-11-25T14:00:00Z", "2026-11-25 00:00:00", "1999-01-08", "-1", "0", "NaN", "100000000000000000000",
			"-2.5", "false", "null", "[]", "00000000-0000-0000-0000-000000000000", "[]", "[]", "", "", "sad",
			"-00:00:01", "", "[]", "::1", ""},
		{"2026-11-26T00:00:00Z", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""},
		{"infinity", "-infinity", "infinity", "0", "1", "0.000001", "NaN", "-Infinity", "", `{"nested":{"k":[true,null]}}`,
			`"str"`, "", "[null]", "[[1],[2]]", "", "", "", "", "-infinity", "", "", ""},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d", len(recs), len(want))
	}
	for i, rec := range recs {
		if !slices.Equal(rec.Header.Names, wantHeader) {
			t.Fatalf("header = %q, want %q", rec.Header.Names, wantHeader)
		}
		if rec.Header != recs[0].Header {
			t.Errorf("record %d has its own *Header; want one shared by all records", i+1)
		}
		if rec.Line != int64(i+1) {
			t.Errorf("record %d: Line = %d, want %d", i+1, rec.Line, i+1)
		}
		for j, name := range wantHeader {
			if got := rec.Fields[j]; got != want[i][j] {
				t.Errorf("row %d column %q = %q, want %q", i+1, name, got, want[i][j])
			}
		}
	}
}

// A timestamp without time zone keeps no zone: its rendering is the wall clock as stored, whatever the
// server's TimeZone, for the schema package to place in the configured zone.
func TestPostgresNaiveTimestampIsNotShifted(t *testing.T) {
	db := newPGTest(t)
	db.exec(`CREATE TABLE ` + db.ident("naive") + ` ("TIMESTAMP" timestamp, "EVENT_ID" text)`)
	db.exec(`INSERT INTO ` + db.ident("naive") + ` VALUES ('2026-11-25 23:30:00.000001', 'a'), ('2026-11-26 00:30:00', 'b')`)
	dsn := dsnWith(t, db.dsn, "timezone", "Pacific/Kiritimati")
	src := db.open(postgres.Config{DSN: dsn, Table: db.schema + ".naive"})
	got := column(t, readRecords(t, src, source.Window{}), "TIMESTAMP")
	want := []string{"2026-11-25 23:30:00.000001", "2026-11-26 00:30:00"}
	if !slices.Equal(got, want) {
		t.Errorf("TIMESTAMP = %q, want %q", got, want)
	}
}
