package ddl

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/auditexport/auditexport/schema"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// testColumns cover every type, a json column, a column the archive's files
// added to the catalog and a catalog column no file holds.
func testColumns(lower bool) []Column {
	name := func(id string) string {
		if lower {
			return strings.ToLower(id)
		}
		return id
	}
	return []Column{
		{Name: name("TIMESTAMP"), ID: "TIMESTAMP", Friendly: "Timestamp", Type: schema.Timestamp, FieldID: 1},
		{Name: name("EVENT_ID"), ID: "EVENT_ID", Friendly: "Event Id", Type: schema.String, FieldID: 2},
		{Name: name("EVENT_CATEGORY"), ID: "EVENT_CATEGORY", Friendly: "Event Category", Type: schema.String, FieldID: 3},
		{Name: name("IS_MFA_USED"), ID: "IS_MFA_USED", Friendly: "Is Mfa Used", Type: schema.Bool, FieldID: 103},
		{Name: name("ROWS_RETURNED"), ID: "ROWS_RETURNED", Friendly: "Rows Returned", Type: schema.Int, FieldID: 702},
		{Name: name("RESPONSE_SECONDS"), ID: "RESPONSE_SECONDS", Friendly: "Response Seconds", Type: schema.Float, FieldID: 1405},
		{Name: name("RECIPIENTS"), ID: "RECIPIENTS", Friendly: "Recipients", Type: schema.JSON, FieldID: 1102},
		{Name: name("TEAM_NOTE"), ID: "TEAM_NOTE", Friendly: "Team's Note", Type: schema.String, FieldID: 900001, Absent: true},
		{Name: name("CUSTOM_FIELD"), ID: "CUSTOM_FIELD", Friendly: "Custom Field", Type: schema.String, FieldID: 1234567},
	}
}

func flatTable(l Location, name ...string) *Table {
	return &Table{
		Name: name, Location: l, Columns: testColumns(false),
		Settings: Settings{TimeZone: "UTC"}, FirstDay: "2026-11-17", CatalogVersion: "2026.11.1",
		Commits: 12, Footers: 12, Extra: 1,
	}
}

func categoryTable(l Location, name ...string) *Table {
	t := flatTable(l, name...)
	t.Columns = testColumns(true)
	t.Settings = Settings{ByCategory: true, LowerCase: true, TimeZone: "Europe/Paris"}
	t.Categories = []string{"ACCESS_SIGMA", "QUERY_EXECUTIONS", "a%2Fb"}
	return t
}

var (
	s3Loc    = Location{Scheme: "s3", Bucket: "audit-archive", Path: "sigma/"}
	gsLoc    = Location{Scheme: "gs", Bucket: "audit-archive", Path: "sigma/"}
	azLoc    = Location{Scheme: "azblob", Bucket: "audit", Path: "sigma/", Account: "acmeaudit"}
	fileLoc  = Location{Scheme: "file", Path: "/srv/archive/sigma-audit/"}
	minioLoc = Location{Scheme: "s3", Bucket: "audit", Path: "", Endpoint: "http://127.0.0.1:7070"}
)

// TestGolden pins each engine's statement for both layouts; the rules the
// statements rely on are cited in docs/query.md. Run with -update after a
// deliberate change and review the diff.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		file   string
		engine Engine
		table  *Table
		opts   Options
	}{
		{"athena_flat", Athena, flatTable(s3Loc, "audit", "sigma_audit"), Options{}},
		{"athena_by_category", Athena, categoryTable(s3Loc, "sigma_audit"), Options{}},
		{"bigquery_flat", BigQuery, flatTable(gsLoc, "my-project", "audit", "sigma_audit"), Options{}},
		{"bigquery_by_category_omni_s3", BigQuery, categoryTable(s3Loc, "audit", "sigma_audit"), Options{Connection: "my-project.aws-us-east-1.s3-audit"}},
		{"snowflake_flat", Snowflake, flatTable(s3Loc, "AUDIT", "PUBLIC", "SIGMA_AUDIT"), Options{StorageIntegration: "s3_audit"}},
		{"snowflake_by_category_azure", Snowflake, categoryTable(azLoc, "audit", "sigma-audit"), Options{StorageIntegration: "az_audit"}},
		{"databricks_flat", Databricks, flatTable(s3Loc, "main", "audit", "sigma_audit"), Options{}},
		{"databricks_by_category_azure", Databricks, categoryTable(azLoc, "audit logs", "sigma_audit"), Options{}},
		{"trino_flat", Trino, flatTable(gsLoc, "hive", "audit", "sigma_audit"), Options{}},
		{"trino_by_category", Trino, categoryTable(s3Loc, "Audit", "Sigma-Audit"), Options{}},
		{"duckdb_flat", DuckDB, flatTable(fileLoc, "sigma_audit"), Options{}},
		{"duckdb_by_category_s3_endpoint", DuckDB, categoryTable(minioLoc, "audit", "sigma audit"), Options{}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := Generate(tc.engine, tc.table, tc.opts)
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			path := filepath.Join("testdata", tc.file+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./exporter/ddl -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from the statement generated now (go test ./exporter/ddl -update rewrites it; review the diff):\n%s", path, got)
			}
		})
	}
}

// TestNoNonDataFileSelected checks the file selection of each engine that
// names files itself against the keys the archive really holds: data files
// match, the archive's own objects never do.
func TestNoNonDataFileSelected(t *testing.T) {
	data := []string{
		"sigma/event_date=2026-11-17/part-00000-20261117T060000Z-0a1b2c3d4e5f.parquet",
		"sigma/event_date=2026-11-17/event_category=QUERY_EXECUTIONS/part-00001-20261117T060000Z-0a1b2c3d4e5f.parquet",
	}
	other := []string{
		"sigma/event_date=2026-11-17/_manifest.json",
		"sigma/event_date=2026-11-17/_SUCCESS",
		"sigma/event_date=2026-11-17/event_category=QUERY_EXECUTIONS/_manifest.json",
		"sigma/_auditexport/log/00000000000000000001.json",
		"sigma/_auditexport/staging/20261117T060000Z-0a1b2c3d4e5f/1/event_date=2026-11-17/part-00000-20261117T060000Z-0a1b2c3d4e5f.parquet",
		"sigma/_auditexport/keys/event_date=2026-11-17/20261117T060000Z-0a1b2c3d4e5f.keys",
	}
	for _, byCategory := range []bool{false, true} {
		tab := flatTable(s3Loc, "t")
		tab.ByCategory = byCategory
		re := snowflakeRegexp(t, tab)
		for i, key := range data {
			wantData := (i == 1) == byCategory
			// Snowflake names a file with the stage URL's path, or without it.
			for _, k := range []string{key, strings.TrimPrefix(key, "sigma/")} {
				if got := re.MatchString(k); got != wantData {
					t.Errorf("by_category=%v: Snowflake PATTERN matches %s = %v, want %v", byCategory, k, got, wantData)
				}
			}
		}
		for _, key := range other {
			for _, k := range []string{key, strings.TrimPrefix(key, "sigma/")} {
				if re.MatchString(k) {
					t.Errorf("by_category=%v: Snowflake PATTERN matches %s, which is not a data file", byCategory, k)
				}
			}
		}
		// BigQuery: one * that matches across /, after the partition key.
		root, _ := bigqueryRoot(tab.Location)
		uri := root + "/event_date=*.parquet"
		for _, key := range data {
			if !bigqueryMatch(uri, "s3://audit-archive/"+key) {
				t.Errorf("BigQuery URI %s does not select %s", uri, key)
			}
		}
		for _, key := range other {
			if bigqueryMatch(uri, "s3://audit-archive/"+key) {
				t.Errorf("BigQuery URI %s selects %s, which is not a data file", uri, key)
			}
		}
	}
}

// bigqueryMatch applies a URI with one * that matches any run of characters,
// / included, as BigQuery's does.
func bigqueryMatch(pattern, uri string) bool {
	before, after, _ := strings.Cut(pattern, "*")
	return len(uri) >= len(before)+len(after) && strings.HasPrefix(uri, before) && strings.HasSuffix(uri, after)
}

func TestInputErrors(t *testing.T) {
	for _, tc := range []struct {
		engine Engine
		loc    Location
		name   []string
		opts   Options
		want   []string // in the message
	}{
		{Athena, fileLoc, []string{"t"}, Options{}, []string{"destination.url", "local directory", "only DuckDB"}},
		{Athena, gsLoc, []string{"t"}, Options{}, []string{"destination.url", "Athena reads s3:// only"}},
		{Athena, minioLoc, []string{"t"}, Options{}, []string{"S3-compatible", "endpoint http://127.0.0.1:7070"}},
		{Athena, s3Loc, []string{"audit-logs", "t"}, Options{}, []string{"--table", "audit-logs", "letters, digits and _"}},
		{BigQuery, s3Loc, []string{"audit", "t"}, Options{}, []string{"destination.url", "BigQuery Omni", "BigLake", "--connection"}},
		{BigQuery, azLoc, []string{"audit", "t"}, Options{}, []string{"BigQuery Omni", "--connection"}},
		{BigQuery, gsLoc, []string{"t"}, Options{}, []string{"--table", "dataset"}},
		{BigQuery, gsLoc, []string{"audit-logs", "t"}, Options{}, []string{"dataset \"audit-logs\""}},
		{BigQuery, gsLoc, []string{"audit", "t"}, Options{Connection: "a b"}, []string{"--connection", "PROJECT.REGION.CONNECTION"}},
		{Snowflake, s3Loc, []string{"t"}, Options{}, []string{"--storage-integration", "is required", "s3://audit-archive/sigma/"}},
		{Snowflake, s3Loc, []string{"t"}, Options{StorageIntegration: "my integration"}, []string{"--storage-integration", "plain Snowflake identifier"}},
		{Databricks, Location{Scheme: "azblob", Bucket: "c", Path: "p/"}, []string{"t"}, Options{}, []string{"storage account", "AZURE_STORAGE_ACCOUNT"}},
		{Trino, s3Loc, []string{"t"}, Options{}, []string{"--table", "schema"}},
		{DuckDB, Location{Scheme: "mem"}, []string{"t"}, Options{}, []string{"in-memory"}},
		{DuckDB, fileLoc, []string{"a", "b", "c", "d"}, Options{}, []string{"--table", "4 part(s)"}},
	} {
		err := Check(tc.engine, tc.name, tc.loc, tc.opts)
		var ie *InputError
		if !errors.As(err, &ie) {
			t.Errorf("%s %s %v: err = %v, want an *InputError", tc.engine, tc.loc, tc.name, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s %s %v: %q does not say %q", tc.engine, tc.loc, tc.name, err, w)
			}
		}
	}
}

func TestParseEngineAndName(t *testing.T) {
	for _, s := range []string{"athena", "BigQuery", " duckdb ", "spark", "TRINO"} {
		if _, err := ParseEngine(s); err != nil {
			t.Errorf("ParseEngine(%q): %v", s, err)
		}
	}
	if e, _ := ParseEngine("spark"); e != Databricks {
		t.Errorf("ParseEngine(spark) = %s, want databricks", e)
	}
	for s, want := range map[string]string{"": "is required", "redshift": `"redshift" is not an engine: use one of athena|bigquery|snowflake|databricks|trino|duckdb`} {
		if _, err := ParseEngine(s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseEngine(%q) = %v, want an error saying %q", s, err, want)
		}
	}
	for s, want := range map[string]string{"": "is empty", "a..b": "empty part", "a.`b`": "quote", "a\tb": "control character"} {
		if _, err := ParseName(s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseName(%q) = %v, want an error saying %q", s, err, want)
		}
	}
	if got, _ := ParseName("main.audit logs.sigma-audit"); len(got) != 3 || got[1] != "audit logs" {
		t.Errorf("ParseName = %q", got)
	}
}

func TestLocationOf(t *testing.T) {
	env := func(k string) string {
		if k == "AZURE_STORAGE_ACCOUNT" {
			return "envaccount"
		}
		return ""
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url, prefix string
		want        Location
	}{
		{"s3://audit-archive?region=eu-west-1", "sigma", Location{Scheme: "s3", Bucket: "audit-archive", Path: "sigma/"}},
		{"s3://audit?endpoint=http://127.0.0.1:7070&region=us-east-1", "", Location{Scheme: "s3", Bucket: "audit", Endpoint: "http://127.0.0.1:7070"}},
		{"gs://b?prefix=a/b", "c", Location{Scheme: "gs", Bucket: "b", Path: "a/b/c/"}},
		{"azblob://c?storage_account=acct", "a/b", Location{Scheme: "azblob", Bucket: "c", Path: "a/b/", Account: "acct"}},
		{"azblob://c", "p", Location{Scheme: "azblob", Bucket: "c", Path: "p/", Account: "envaccount"}},
		{"azblob://c?domain=127.0.0.1:10000", "", Location{Scheme: "azblob", Bucket: "c", Account: "envaccount", Endpoint: "127.0.0.1:10000"}},
		{"file:///srv/archive", "sigma", Location{Scheme: "file", Path: "/srv/archive/sigma/"}},
		{"file://./out", "sigma", Location{Scheme: "file", Path: filepath.ToSlash(wd) + "/out/sigma/"}},
		{"out", "", Location{Scheme: "file", Path: filepath.ToSlash(wd) + "/out/"}},
		{"mem://", "", Location{Scheme: "mem"}},
	} {
		got, err := LocationOf(tc.url, tc.prefix, env)
		if err != nil || got != tc.want {
			t.Errorf("LocationOf(%q, %q) = %+v, %v; want %+v", tc.url, tc.prefix, got, err, tc.want)
		}
	}
}

func snowflakeRegexp(t *testing.T, tab *Table) *regexp.Regexp {
	t.Helper()
	// The literal's escapes undone, as Snowflake reads it; POSIX ERE and Go's
	// RE2 agree on this pattern's constructs (anchors, classes, {n}, ?).
	lit := literal(Snowflake, snowflakePattern(tab))
	pat := strings.NewReplacer(`\\`, `\`, `\'`, `'`).Replace(lit[1 : len(lit)-1])
	re, err := regexp.Compile(pat)
	if err != nil {
		t.Fatalf("PATTERN %s: %v", lit, err)
	}
	return re
}
