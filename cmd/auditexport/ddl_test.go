package main

import (
	"strings"
	"testing"
)

// TestDDLFromArchive writes an archive with the sample exports and asks
// for its DuckDB view: the statement follows the archive (its commits, its
// by_category layout and lower-case columns, as recorded), not the config.
func TestDDLFromArchive(t *testing.T) {
	dir := t.TempDir()
	base := []string{"--config", "../../configs/local.yaml", "--source.url", "../../configs/samples", "--destination.url", "file://" + dir}
	if code, _, stderr := cli(t, append([]string{"run", "--partitioning.by_category=true", "--parquet.lower_case_columns=true"}, base...)...); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	code, stdout, stderr := cli(t, append([]string{"ddl", "--engine", "duckdb"}, base...)...)
	if code != 0 {
		t.Fatalf("ddl: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		"from the archive: 1 commit, the footers of 1 data file.",
		dir + "/sigma-audit/event_date=*/event_category=*/*.parquet",
		`"event_type", -- Event Type (field_id 4)`,
		"hive_types = {'event_date': DATE, 'event_category': VARCHAR}",
		"first committed day 2026-11-17",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("ddl output lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "the archive records partitioning.by_category = true and the config says false") {
		t.Errorf("stderr does not note the shape the statement follows: %q", stderr)
	}
}

func TestDDLWithoutArchive(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := cli(t, "ddl", "--engine", "duckdb", "--config", "../../configs/local.yaml", "--destination.url", "file://"+dir, "--destination.prefix", "")
	if code != 0 {
		t.Fatalf("ddl: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "from catalog ") || !strings.Contains(stdout, "the archive has no commits yet") {
		t.Errorf("ddl over an empty directory does not say it used the catalog:\n%s", stdout)
	}
}

func TestDDLUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ddl"}, "--engine is required"},
		{[]string{"ddl", "--engine", "redshift"}, `--engine "redshift" is not an engine`},
		{[]string{"ddl", "--engine", "athena", "--config", "../../configs/local.yaml"}, "is a local directory: only DuckDB reads one"},
		{[]string{"ddl", "--engine", "bigquery", "--table", "audit.t", "--destination.url", "s3://audit-archive?region=eu-west-1"}, "BigQuery Omni"},
		{[]string{"ddl", "--engine", "snowflake", "--destination.url", "s3://audit-archive?region=eu-west-1"}, "--storage-integration is required"},
		{[]string{"ddl", "--engine", "athena", "--table", "audit-logs.t", "--destination.url", "s3://audit-archive?region=eu-west-1"}, "letters, digits and _"},
		{[]string{"ddl", "--engine", "duckdb", "extra"}, `unexpected argument "extra"`},
	} {
		code, _, stderr := cli(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "Try: auditexport ddl --help") {
			t.Errorf("%q: exit %d, stderr %q; want exit %d saying %q and a Try: line", tc.args, code, stderr, exitUsage, tc.want)
		}
	}
}

func TestDDLHelp(t *testing.T) {
	code, stdout, _ := cli(t, "ddl", "--help")
	if code != 0 || !strings.Contains(stdout, "--engine") || !strings.Contains(stdout, "docs/query.md") || !strings.Contains(stdout, "EXIT STATUS") {
		t.Errorf("ddl --help: exit %d\n%s", code, stdout)
	}
}

func TestDDLLocalDirectoryNotMadeYet(t *testing.T) {
	dir := t.TempDir() + "/not-yet"
	code, stdout, stderr := cli(t, "ddl", "--engine", "duckdb", "--config", "../../configs/local.yaml", "--destination.url", dir)
	if code != 0 || !strings.Contains(stdout, "the archive has no commits yet") || !strings.Contains(stdout, dir+"/sigma-audit/event_date=*/*.parquet") {
		t.Errorf("ddl over a directory no run has made: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
