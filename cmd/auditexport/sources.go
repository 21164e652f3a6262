package main

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/exporter/source/exports"
	"github.com/auditexport/auditexport/exporter/source/postgres"
	"github.com/auditexport/auditexport/exporter/source/sigmaapi"
)

// sourceKinds are the sources the CLI offers, one line each. Everything
// else about a kind (its settings under source., their checks, its opening,
// its check probe) lives in its package: see source.Kind.
var sourceKinds = []source.Kind{
	exports.Kind,
	postgres.Kind,
	sigmaapi.Kind,
}

// SourceConfig is where entries come from: source.kind picks one of
// sourceKinds, whose own settings are kept by kind name.
type SourceConfig struct {
	Kind     string `yaml:"kind"` // help: sourceKindHelp
	TimeZone string `yaml:"timezone" help:"IANA zone of source timestamps written without a UTC offset"`
	// kinds holds each kind's settings, as its NewConfig returned them.
	kinds map[string]any
}

// sourceKindHelp is the help of source.kind: each kind and what it reads.
func sourceKindHelp() string {
	parts := make([]string, len(sourceKinds))
	for i, k := range sourceKinds {
		parts[i] = k.Name() + " (" + k.About().Summary + ")"
	}
	return "where entries come from: " + orList(parts)
}

// orList joins items as "a, b or c".
func orList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// sourceProbesHelp is the paragraph of check's help on the source: what
// each kind's probe does, wrapped at 77 columns.
func sourceProbesHelp() string {
	var b strings.Builder
	line := 0
	for _, k := range sourceKinds {
		for _, w := range strings.Fields("Source, " + k.Name() + ": " + k.About().Probe) {
			switch {
			case line == 0:
			case line+1+len(w) > 77:
				b.WriteByte('\n')
				line = 0
			default:
				b.WriteByte(' ')
				line++
			}
			b.WriteString(w)
			line += len(w)
		}
	}
	return b.String()
}

// defaultSourceConfig holds every kind's defaults.
func defaultSourceConfig() SourceConfig {
	s := SourceConfig{Kind: sourceKinds[0].Name(), TimeZone: "UTC"}
	for _, k := range sourceKinds {
		s.settingsOf(k)
	}
	return s
}

// settingsOf returns the settings of kind k, its defaults if none were set.
func (s *SourceConfig) settingsOf(k source.Kind) any {
	if s.kinds == nil {
		s.kinds = map[string]any{}
	}
	cfg, ok := s.kinds[k.Name()]
	if !ok {
		cfg = k.NewConfig()
		s.kinds[k.Name()] = cfg
	}
	return cfg
}

// kind is the selected kind, nil for an unknown source.kind.
func (s *SourceConfig) kind() source.Kind {
	for _, k := range sourceKinds {
		if k.Name() == s.Kind {
			return k
		}
	}
	return nil
}

// sourceSetting names the setting of kind k at key: source.<key> or
// source.<section>.<key>.
func sourceSetting(k source.Kind, key string) string {
	if k.Section() == "" {
		return "source." + key
	}
	return "source." + k.Section() + "." + key
}

// sourceDeps is what a kind is told of the rest of the configuration.
// origin may be nil where no setting's origin matters.
func sourceDeps(c *Config, k source.Kind, origin map[string]string) source.Deps {
	zone, err := time.LoadLocation(c.Source.TimeZone)
	if err != nil {
		zone = time.UTC
	}
	return source.Deps{
		Setting:  func(key string) string { return sourceSetting(k, key) },
		EnvVar:   func(key string) string { return envOf(sourceSetting(k, key)) },
		FromFile: func(key string) bool { return origin[sourceSetting(k, key)] == "config" },
		Zone:     zone,
		Now:      time.Now(),
	}
}

// validate checks source.kind and the selected kind's settings, naming
// each bad setting. The other kinds' settings are checked for secrets only:
// a password has no place in the configuration, used or not.
func (s *SourceConfig) validate(c *Config, origin map[string]string) []error {
	var errs []error
	selected := s.kind()
	if selected == nil {
		names := make([]string, len(sourceKinds))
		for i, k := range sourceKinds {
			names[i] = k.Name()
		}
		errs = append(errs, &ConfigError{Setting: "source.kind", Value: s.Kind, Problem: "must be " + orList(names)})
	}
	for _, k := range sourceKinds {
		for _, err := range k.Validate(s.settingsOf(k), sourceDeps(c, k, origin)) {
			var fe *source.FieldError
			switch {
			case !errors.As(err, &fe):
				if k == selected {
					errs = append(errs, err)
				}
			case k == selected || fe.Secret:
				errs = append(errs, fieldConfigError(k, fe))
			}
		}
	}
	return errs
}

// fieldConfigError names the setting of a kind's FieldError.
func fieldConfigError(k source.Kind, fe *source.FieldError) *ConfigError {
	problem := fe.Problem
	if fe.Required {
		problem = "is required for source.kind " + k.Name()
		if fe.Problem != "" {
			problem += " (" + fe.Problem + ")"
		}
	}
	return &ConfigError{Setting: sourceSetting(k, fe.Field), Value: fe.Value, Problem: problem}
}

// openSource opens the configured source.
func openSource(ctx context.Context, c *Config) (source.Source, error) {
	k := c.Source.kind()
	if k == nil {
		return nil, &ConfigError{Setting: "source.kind", Value: c.Source.Kind, Problem: "is not a source kind"}
	}
	return k.Open(ctx, c.Source.settingsOf(k), sourceDeps(c, k, nil))
}

// walkSource lists the source settings in the order they have always had:
// source.kind, the settings of kinds without a section (source.url,
// source.prefix), source.timezone, then each section (source.postgres.*).
func (s *SourceConfig) walkSource(prefix string, field func(v reflect.Value, name, key, help string), walk func(v reflect.Value, prefix string)) {
	v := reflect.ValueOf(s).Elem()
	field(v, "Kind", prefix+"kind", sourceKindHelp())
	for _, k := range sourceKinds {
		if k.Section() == "" {
			walk(reflect.ValueOf(s.settingsOf(k)).Elem(), prefix)
		}
	}
	field(v, "TimeZone", prefix+"timezone", "")
	for _, k := range sourceKinds {
		if k.Section() != "" {
			walk(reflect.ValueOf(s.settingsOf(k)).Elem(), prefix+k.Section()+".")
		}
	}
}

// UnmarshalYAML decodes source: strictly (through the decoder's own
// unmarshal, which keeps its KnownFields), into one struct built from the
// registry: kind, timezone, each kind's settings inline or under its
// section.
func (s *SourceConfig) UnmarshalYAML(unmarshal func(any) error) error {
	fields := []reflect.StructField{
		{Name: "Kind", Type: reflect.TypeOf(""), Tag: `yaml:"kind"`},
		{Name: "TimeZone", Type: reflect.TypeOf(""), Tag: `yaml:"timezone"`},
	}
	for i, k := range sourceKinds {
		t := reflect.TypeOf(s.settingsOf(k))
		f := reflect.StructField{Name: fmt.Sprintf("K%d", i), Type: t, Tag: reflect.StructTag(`yaml:"` + k.Section() + `"`)}
		if k.Section() == "" {
			f.Type, f.Tag = t.Elem(), `yaml:",inline"`
		}
		fields = append(fields, f)
	}
	st := reflect.StructOf(fields)
	v := reflect.New(st).Elem()
	v.Field(0).SetString(s.Kind)
	v.Field(1).SetString(s.TimeZone)
	for i, k := range sourceKinds {
		cfg := reflect.ValueOf(s.settingsOf(k))
		if k.Section() == "" {
			v.Field(2 + i).Set(cfg.Elem())
		} else {
			v.Field(2 + i).Set(cfg)
		}
	}
	err := unmarshal(v.Addr().Interface())
	var te *yaml.TypeError
	if errors.As(err, &te) {
		// Name the type as the user's YAML knows it, not the built struct.
		for i, m := range te.Errors {
			te.Errors[i] = strings.ReplaceAll(m, st.String(), "main.SourceConfig")
		}
	}
	s.Kind, s.TimeZone = v.Field(0).String(), v.Field(1).String()
	for i, k := range sourceKinds {
		cfg := reflect.ValueOf(s.settingsOf(k))
		f := v.Field(2 + i)
		switch {
		case k.Section() == "":
			cfg.Elem().Set(f)
		case !f.IsNil() && f.Pointer() != cfg.Pointer():
			cfg.Elem().Set(f.Elem())
		}
	}
	return err
}
