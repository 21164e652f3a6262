package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/auditexport/auditexport/exporter"
)

// config validate prints every setting with its effective value and origin,
// secrets redacted, and exits 0.
func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "c.yaml", "source:\n  kind: postgres\n  postgres:\n    table: audit.logs\ndestination:\n  url: azblob://archive?sig=s3cret-sig-planted&sv=2024-01-01\nschema:\n  columns:\n    - header: Email Address\n      id: USER_EMAIL\n")
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
		`destination\.url\s+azblob://archive\?sig=REDACTED&sv=REDACTED\s+config`,
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
	for _, want := range []string{"source.kind", "destination.url", "parquet.compression", "schedule.cron", "has 4 fields", "schedule.listen", "backfill.shards", "Try: auditexport config --help"} {
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

// The Kubernetes manifests pass config validate and the CLI's own flag
// parsing: the ConfigMap's YAML is a valid config, every container's args
// parse as an auditexport command line, and every AUDITEXPORT_* variable
// names a setting.
func TestKubernetesManifestsMatchTheCLI(t *testing.T) {
	files, err := filepath.Glob("../../configs/kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	known := map[string]bool{"AUDITEXPORT_CONFIG": true}
	var scratch Config
	for _, s := range settingsOf(&scratch) {
		known[s.env] = true
	}
	configs, containers := 0, 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		for {
			var doc map[string]any
			if err := dec.Decode(&doc); err != nil {
				break
			}
			if doc["kind"] == "ConfigMap" {
				for name, v := range doc["data"].(map[string]any) {
					if !strings.HasSuffix(name, ".yaml") {
						continue
					}
					configs++
					cfg := writeFile(t, t.TempDir(), name, v.(string))
					if code, _, stderr := cli(t, "config", "validate", "--config", cfg); code != exitOK {
						t.Errorf("%s: ConfigMap key %s: config validate: %s", filepath.Base(f), name, stderr)
					}
				}
			}
			walkContainers(doc, func(c map[string]any) {
				containers++
				var args []string
				for _, a := range asList(c["args"]) {
					args = append(args, a.(string))
				}
				if len(args) == 0 {
					t.Errorf("%s: container %v has no args", filepath.Base(f), c["name"])
					return
				}
				if code, _, stderr := cli(t, append(args, "--help")...); code != exitOK {
					t.Errorf("%s: args %v do not parse: %s", filepath.Base(f), args, stderr)
				}
				for _, e := range asList(c["env"]) {
					name := e.(map[string]any)["name"].(string)
					if strings.HasPrefix(name, "AUDITEXPORT_") && !known[name] {
						t.Errorf("%s: env %s names no setting", filepath.Base(f), name)
					}
				}
			})
		}
	}
	if configs == 0 || containers < 3 {
		t.Errorf("checked %d configs and %d containers; want the ConfigMap and the CronJob, Job and Deployment", configs, containers)
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// walkContainers calls fn for every container (and init container) found
// anywhere in a manifest.
func walkContainers(v any, fn func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, sub := range x {
			if k == "containers" || k == "initContainers" {
				for _, c := range asList(sub) {
					fn(c.(map[string]any))
				}
				continue
			}
			walkContainers(sub, fn)
		}
	case []any:
		for _, sub := range x {
			walkContainers(sub, fn)
		}
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
