package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// envPrefix starts every environment variable: the YAML key in upper case
// with dots as underscores, e.g. destination.url -> AUDITEXPORT_DESTINATION_URL.
const envPrefix = "AUDITEXPORT_"

// setting is one leaf of Config, addressable by YAML key, environment
// variable and flag (--<yaml key>).
type setting struct {
	key    string
	env    string
	help   string
	secret bool
	v      reflect.Value
}

var durationType = reflect.TypeOf(time.Duration(0))

var sourceConfigType = reflect.TypeOf(SourceConfig{})

// envOf is the environment variable of the setting at key.
func envOf(key string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// settingsOf lists every leaf setting of c in declaration order. Lists of
// structs (schema.columns) are YAML-only and left out. The source's
// settings come from its kinds' settings structs (see walkSource).
func settingsOf(c *Config) []setting {
	out, _ := settingsAndLists(c)
	return out
}

// settingsAndLists is settingsOf, and the YAML-only lists of structs left
// out of it (schema.columns) by key, with their element type.
func settingsAndLists(c *Config) ([]setting, map[string]reflect.Type) {
	var out []setting
	lists := map[string]reflect.Type{}
	var walk func(v reflect.Value, prefix string)
	leaf := func(f reflect.StructField, fv reflect.Value, key, help string) {
		if help == "" {
			help = f.Tag.Get("help")
		}
		out = append(out, setting{
			key:    key,
			env:    envOf(key),
			help:   help,
			secret: f.Tag.Get("secret") == "true",
			v:      fv,
		})
	}
	walk = func(v reflect.Value, prefix string) {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			key := prefix + name
			fv := v.Field(i)
			switch {
			case f.Type == sourceConfigType:
				fv.Addr().Interface().(*SourceConfig).walkSource(key+".", func(v reflect.Value, name, key, help string) {
					f, _ := v.Type().FieldByName(name)
					leaf(f, v.FieldByIndex(f.Index), key, help)
				}, walk)
			case f.Type.Kind() == reflect.Struct && f.Type != durationType:
				walk(fv, key+".")
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() != reflect.String:
				lists[key] = f.Type.Elem()
			default:
				leaf(f, fv, key, "")
			}
		}
	}
	walk(reflect.ValueOf(c).Elem(), "")
	return out, lists
}

// set parses raw into the setting.
func (s setting) set(raw string) error {
	switch {
	case s.v.Type() == durationType:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("is not a duration (e.g. 72h, 90m)")
		}
		s.v.SetInt(int64(d))
	case s.v.Kind() == reflect.String:
		s.v.SetString(raw)
	case s.v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("is not a boolean (true or false)")
		}
		s.v.SetBool(b)
	case s.v.Kind() == reflect.Int, s.v.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fmt.Errorf("is not an integer")
		}
		s.v.SetInt(n)
	case s.v.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return fmt.Errorf("is not a number")
		}
		s.v.SetFloat(f)
	case s.v.Kind() == reflect.Slice:
		var items []string
		for _, p := range strings.Split(raw, ",") {
			if p = strings.TrimSpace(p); p != "" {
				items = append(items, p)
			}
		}
		s.v.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("has an unsupported type %s", s.v.Type())
	}
	return nil
}

// display renders the current value, hiding secrets.
func (s setting) display() string {
	if s.secret && !s.v.IsZero() {
		return "**redacted**"
	}
	switch {
	case s.v.Type() == durationType:
		return time.Duration(s.v.Int()).String()
	case s.v.Kind() == reflect.Slice:
		parts := make([]string, s.v.Len())
		for i := range parts {
			parts[i] = s.v.Index(i).String()
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(s.v.Interface())
}

// configFlags registers --config and one flag per setting on fs, recording
// what was given; load applies them in order.
type configFlags struct {
	path  string
	given map[string]string
	order []string
	// warnings are about the command line itself (a deprecated flag),
	// printed on stderr once it is loaded.
	warnings []string
}

func addConfigFlags(fs *flag.FlagSet) *configFlags {
	cf := &configFlags{given: map[string]string{}}
	fs.StringVar(&cf.path, "config", "", "YAML config `file` (env AUDITEXPORT_CONFIG)")
	var scratch Config
	for _, s := range settingsOf(&scratch) {
		fs.Var(&settingFlag{cf: cf, key: s.key, boolean: s.v.Kind() == reflect.Bool}, s.key, s.help+" (env "+s.env+")")
	}
	return cf
}

// settingFlag is the flag of one setting: it records the value given, for
// load to apply after the file and the environment. A boolean setting's
// flag may stand alone (--parquet.lower_case_columns means true).
type settingFlag struct {
	cf      *configFlags
	key     string
	boolean bool
}

func (f *settingFlag) String() string   { return "" }
func (f *settingFlag) IsBoolFlag() bool { return f.boolean }

func (f *settingFlag) Set(v string) error {
	if _, ok := f.cf.given[f.key]; !ok {
		f.cf.order = append(f.cf.order, f.key)
	}
	f.cf.given[f.key] = v
	return nil
}

// loadNoArgs refuses positional arguments, then loads the config.
func (cf *configFlags) loadNoArgs(io *stdio) (*loadedConfig, error) {
	if len(io.args) > 0 {
		return nil, usagef("unexpected argument %q", io.args[0])
	}
	for _, w := range cf.warnings {
		fmt.Fprintf(io.err, "auditexport: warning: %s\n", w)
	}
	return cf.load()
}

// loadedConfig is a validated config and where each setting came from.
type loadedConfig struct {
	Config
	origin map[string]string // key -> default | config | env | flag
}

// load builds the config: defaults, YAML file, environment, flags, then
// validation.
func (cf *configFlags) load() (*loadedConfig, error) {
	lc, err := cf.loadUnvalidated()
	if lc == nil {
		return nil, err
	}
	if err := flatJoin(err, lc.validate(lc.origin)); err != nil {
		return nil, err
	}
	return lc, nil
}

// loadUnvalidated builds the config without validating it, for commands
// that need only part of it (schema). Every value that cannot be read (in
// the file, the environment or a flag) is reported at once, with the
// config as far as it could be read; a file that cannot be read or parsed
// returns no config.
func (cf *configFlags) loadUnvalidated() (*loadedConfig, error) {
	lc := &loadedConfig{Config: defaultConfig(), origin: map[string]string{}}
	path := cf.path
	if path == "" {
		path = os.Getenv("AUDITEXPORT_CONFIG")
	}
	var problems []error
	if path != "" {
		if err := readConfigFile(path, &lc.Config); err != nil {
			var ce *ConfigError
			if errors.As(err, &ce) && ce.Setting == "--config" {
				return nil, err // unreadable: nothing else can be said
			}
			problems = append(problems, err)
		}
		keys, err := yamlKeys(path)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			lc.origin[k] = "config"
		}
	}
	settings := settingsOf(&lc.Config)
	byKey := map[string]setting{}
	for _, s := range settings {
		byKey[s.key] = s
		if raw, ok := os.LookupEnv(s.env); ok {
			if err := s.set(raw); err != nil {
				problems = append(problems, &ConfigError{Setting: s.env, Value: shown(s, raw), Problem: err.Error()})
				continue
			}
			lc.origin[s.key] = "env"
		}
	}
	for _, k := range cf.order {
		s := byKey[k]
		if err := s.set(cf.given[k]); err != nil {
			problems = append(problems, &ConfigError{Setting: "--" + k, Value: shown(s, cf.given[k]), Problem: err.Error()})
			continue
		}
		lc.origin[k] = "flag"
	}
	return lc, flatJoin(problems...)
}

func shown(s setting, raw string) string {
	if s.secret {
		return "**redacted**"
	}
	return raw
}

// yamlKeys lists the dotted keys a YAML file sets.
func yamlKeys(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&m); err != nil {
		return nil, nil
	}
	var keys []string
	var walk func(m map[string]any, prefix string)
	walk = func(m map[string]any, prefix string) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok {
				walk(sub, prefix+k+".")
				continue
			}
			keys = append(keys, prefix+k)
		}
	}
	walk(m, "")
	sort.Strings(keys)
	return keys, nil
}
