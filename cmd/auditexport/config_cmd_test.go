package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/auditexport/auditexport/exporter"
)

// config validate prints every setting with its effective value and origin,
// secrets redacted, and exits 0.
func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "c.yaml", "source:\n  kind: postgres\n  postgres:\n    table: audit.logs\ndestination:\n  url: azblob://archive?storage_account=acct\nmetrics:\n  pushgateway_url: https://gw.example/?sig=s3cret-sig-planted&sv=2024-01-01\nschema:\n  columns:\n    - header: Email Address\n      id: USER_EMAIL\n")
	t.Setenv("AUDITEXPORT_SOURCE_POSTGRES_DSN", "postgres://u:hunter2-planted@db/x")
	t.Setenv("AUDITEXPORT_SCHEDULE_CRON", "CRON_TZ=Europe/Paris 30 6 * * *")
	code, out, stderr := cli(t, "config", "validate", "--config", p, "--destination.prefix", "sigma")
	if code != exitOK {
		t.Fatalf("code %d: %s", code, stderr)
	}
	for _, want := range []string{
		`source\.kind\s+postgres\s+config`,
		`source\.postgres\.dsn\s+\*\*redacted\*\*\s+env`,
		`schedule\.cron\s+CRON_TZ=Europe/Paris 30 6 \* \* \*\s+env`,
		`destination\.prefix\s+sigma\s+flag`,
		`destination\.url\s+azblob://archive\?storage_account=acct\s+config`,
		`metrics\.pushgateway_url\s+https://gw\.example/\?sig=REDACTED&sv=REDACTED\s+config`,
		`schema\.columns\s+1 mapping\(s\)\s+config`,
		`parquet\.compression\s+zstd\s+default`,
		`schedule\.listen\s+:9090\s+default`,
	} {
		if !regexp.MustCompile(`(?m)^` + want + `\s*$`).MatchString(out) {
			t.Errorf("output lacks a line matching %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+stderr, "planted") {
		t.Error("a secret was printed")
	}
	// Every setting is listed.
	var scratch Config
	for _, s := range settingsOf(&scratch) {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(s.key) + `\s`).MatchString(out) {
			t.Errorf("setting %s not listed", s.key)
		}
	}

	code, out, _ = cli(t, "config", "validate", "--config", p, "--json")
	var report struct {
		Valid    bool
		Settings []effectiveSetting
	}
	if err := json.Unmarshal([]byte(out), &report); code != exitOK || err != nil || !report.Valid || len(report.Settings) < 30 {
		t.Fatalf("--json: code %d err %v report %+v", code, err, report)
	}
}

// An invalid configuration exits 2 naming every bad key.
func TestConfigValidateErrors(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "c.yaml", "source:\n  kind: kafka\nparquet:\n  compression: brotli\nschedule:\n  cron: '0 6 * *'\n  listen: nine-thousand\nbackfill:\n  shards: -2\n")
	code, out, stderr := cli(t, "config", "validate", "--config", p)
	if code != exitUsage {
		t.Fatalf("code %d, want %d", code, exitUsage)
	}
	for _, want := range []string{"source.kind", "destination.url", "parquet.compression", "schedule.cron", "has 4 fields", "schedule.listen", "backfill.shards", "Try: auditexport config validate --help"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not name %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(out, "source.kind") {
		t.Errorf("the settings it could load are not printed:\n%s", out)
	}
	for _, args := range [][]string{{"config"}, {"config", "check"}, {"config", "validate", "extra"}} {
		if code, _, stderr := cli(t, args...); code != exitUsage || !strings.Contains(stderr, "Try:") {
			t.Errorf("%v: code %d stderr %q", args, code, stderr)
		}
	}
	code, out, _ = cli(t, "config", "validate", "--help")
	if code != exitOK || !strings.Contains(out, "EXIT STATUS") || !strings.Contains(out, "--schedule.cron") {
		t.Errorf("config validate --help: code %d\n%s", code, out)
	}
	code, _, stderr = cli(t, "config", "validate", "--config", writeFile(t, dir, "typo.yaml", "shedule:\n  cron: '@daily'\n"))
	if code != exitUsage || !strings.Contains(stderr, "shedule") {
		t.Errorf("unknown key: code %d stderr %q", code, stderr)
	}
}

// parquet.compression is validated by the exporter's own parser: every name
// and alias it accepts is valid here, and its help names them all.
func TestConfigValidateCompression(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "c.yaml", "source:\n  url: ./in\ndestination:\n  url: ./out\n")
	for _, name := range []string{"zstd", "snappy", "gzip", "lz4_raw", "lz4", "none", "uncompressed", "ZSTD", "Uncompressed"} {
		if code, _, stderr := cli(t, "config", "validate", "--config", p, "--parquet.compression", name); code != exitOK {
			t.Errorf("parquet.compression %s: code %d, want %d: %s", name, code, exitOK, stderr)
		}
	}
	code, _, stderr := cli(t, "config", "validate", "--config", p, "--parquet.compression", "brotli")
	if want := `parquet.compression "brotli"`; code != exitUsage || !strings.Contains(stderr, want) || !strings.Contains(stderr, exporter.CodecNames) {
		t.Errorf("brotli: code %d, stderr %q; want %d naming %s and %q", code, stderr, exitUsage, want, exporter.CodecNames)
	}
	var scratch Config
	help := "(no such setting)"
	for _, s := range settingsOf(&scratch) {
		if s.key == "parquet.compression" {
			help = s.help
		}
	}
	if help != exporter.CodecNames {
		t.Errorf("help of parquet.compression = %q, want %q", help, exporter.CodecNames)
	}
}
