package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditexport/auditexport/exporter/source"
)

// fakeConfig and fakeKind are a source kind registered by one line, as the
// Sigma API source will be: its settings, checks, opening and probe need
// nothing else in cmd.
type fakeConfig struct {
	Endpoint string `yaml:"endpoint" help:"the API's base URL"`
	Token    string `yaml:"token" help:"API token" secret:"true"`
	Days     int    `yaml:"days" help:"days per request"`
}

type fakeKind struct{ opened *fakeConfig }

var errFakeOpen = errors.New("fake source opened")

func (*fakeKind) Name() string    { return "fake-api" }
func (*fakeKind) Section() string { return "fake_api" }
func (*fakeKind) About() source.About {
	return source.About{Summary: "a fake API", Probe: "call the fake API."}
}
func (*fakeKind) NewConfig() any { return &fakeConfig{Days: 7} }
func (*fakeKind) Validate(cfg any, d source.Deps) []error {
	c := cfg.(*fakeConfig)
	var errs []error
	if c.Endpoint == "" {
		errs = append(errs, &source.FieldError{Field: "endpoint", Required: true, Problem: "e.g. https://api.example"})
	}
	if c.Days < 1 {
		errs = append(errs, &source.FieldError{Field: "days", Value: fmt.Sprint(c.Days), Problem: "must be at least 1"})
	}
	if c.Token != "" && d.FromFile("token") {
		errs = append(errs, &source.FieldError{Field: "token", Secret: true, Problem: "belongs in " + d.EnvVarName("token")})
	}
	return errs
}
func (k *fakeKind) Open(_ context.Context, cfg any, _ source.Deps) (source.Source, error) {
	k.opened = cfg.(*fakeConfig)
	return nil, errFakeOpen
}
func (*fakeKind) Probe(_ context.Context, cfg any, d source.Deps) source.ProbeReport {
	r := source.ProbeReport{What: "fake API at " + cfg.(*fakeConfig).Endpoint}
	r.OK("connect", "called "+d.SettingName("endpoint"))
	return r
}

// withKinds registers kinds for one test.
func withKinds(t *testing.T, kinds ...source.Kind) {
	t.Helper()
	old := sourceKinds
	sourceKinds = append(append([]source.Kind{}, old...), kinds...)
	t.Cleanup(func() { sourceKinds = old })
}

func TestSourceKindRegisteredByOneLine(t *testing.T) {
	fake := &fakeKind{}
	withKinds(t, fake)

	// Settings: YAML (strict), environment and flags, under source.fake_api.
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "c.yaml")
	yaml := "source:\n  kind: fake-api\n  fake_api:\n    endpoint: https://api.example\n    days: 3\ndestination:\n  url: mem://\n"
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AUDITEXPORT_SOURCE_FAKE_API_TOKEN", "planted-token-1")
	lc, err := loadArgs(t, []string{"--config", cfgPath, "--source.fake_api.days", "5"})
	if err != nil {
		t.Fatal(err)
	}
	got := lc.Source.settingsOf(fake).(*fakeConfig)
	if want := (fakeConfig{Endpoint: "https://api.example", Token: "planted-token-1", Days: 5}); *got != want {
		t.Errorf("settings %+v, want %+v", *got, want)
	}

	// config validate lists them, the secret redacted, and the help of
	// source.kind names the new kind.
	code, out, errOut := cli(t, "config", "validate", "--config", cfgPath)
	if code != exitOK || !strings.Contains(out, "source.fake_api.endpoint") || !strings.Contains(out, "source.fake_api.token") ||
		strings.Contains(out+errOut, "planted-token-1") {
		t.Errorf("config validate: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, out, _ := cli(t, "run", "--help"); !strings.Contains(out, "or fake-api (a fake API)") {
		t.Errorf("run --help does not name the kind:\n%s", out)
	}
	if _, out, _ := cli(t, "check", "--help"); !strings.Contains(strings.Join(strings.Fields(out), " "), "Source, fake-api: call the fake API.") {
		t.Errorf("check --help does not say what the kind's probe does:\n%s", out)
	}

	// Validation: field errors become setting names.
	code, _, errOut = cli(t, "config", "validate", "--source.kind", "fake-api", "--source.fake_api.days", "0", "--destination.url", "mem://")
	for _, want := range []string{"source.fake_api.endpoint: is required for source.kind fake-api (e.g. https://api.example)", `source.fake_api.days "0": must be at least 1`} {
		if code != exitUsage || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", code, want, errOut)
		}
	}
	code, _, errOut = cli(t, "config", "validate", "--source.kind", "nope", "--destination.url", "mem://")
	var kinds []string // every registered kind, the fake one last
	for _, k := range sourceKinds {
		kinds = append(kinds, k.Name())
	}
	if code != exitUsage || !strings.Contains(errOut, `source.kind "nope": must be `+orList(kinds)) || !strings.HasSuffix(orList(kinds), " or fake-api") {
		t.Errorf("unknown kind: exit %d\n%s", code, errOut)
	}

	// Opening and check go through the kind.
	if _, err := openSource(context.Background(), &lc.Config); !errors.Is(err, errFakeOpen) || fake.opened != got {
		t.Errorf("openSource: %v, opened %+v", err, fake.opened)
	}
	code, v, _ := checkJSON(t, "--config", cfgPath)
	if code != exitOK || v.Source.What != "fake API at https://api.example" || states(v.Source.Steps) != "connect:ok" ||
		v.Source.Steps[0].Detail != "called source.fake_api.endpoint" {
		t.Errorf("check: exit %d, source %+v", code, v.Source)
	}
}

// A secret in the config file is refused whichever kind is selected; other
// problems of a kind not selected are not reported.
func TestSourceKindSecretsCheckedWhenNotSelected(t *testing.T) {
	withKinds(t, &fakeKind{})
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "c.yaml")
	yaml := "source:\n  url: mem://\n  fake_api:\n    token: planted-token-2\n    days: 0\ndestination:\n  url: mem://\n"
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cli(t, "config", "validate", "--config", cfgPath)
	if code != exitUsage || !strings.Contains(errOut, "source.fake_api.token: belongs in AUDITEXPORT_SOURCE_FAKE_API_TOKEN") ||
		strings.Contains(errOut, "source.fake_api.days") || strings.Contains(errOut, "source.fake_api.endpoint") {
		t.Errorf("exit %d\n%s", code, errOut)
	}
	if strings.Contains(out+errOut, "planted-token-2") {
		t.Error("the token was printed")
	}

	// An unknown key under a kind's section is an error naming it.
	if err := os.WriteFile(cfgPath, []byte("source:\n  fake_api:\n    endpont: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := cli(t, "config", "validate", "--config", cfgPath); code != exitUsage || !strings.Contains(errOut, "source.fake_api.endpont: is not a setting; did you mean source.fake_api.endpoint?") {
		t.Errorf("unknown key: exit %d\n%s", code, errOut)
	}
}
