package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/auditexport/auditexport/sinks"
)

func configCommand() *command {
	c := &command{
		name:    "config",
		summary: "check a configuration and print the effective settings (config validate)",
		usage:   "config validate [--config FILE] [--json] [settings]",
		about: `Loads the configuration exactly as every command does (defaults, the YAML file,
AUDITEXPORT_* environment variables, flags), checks every setting, and prints
the effective value of each with where it came from: default, config, env or
flag. Secrets are redacted, and URLs lose their user info and signatures.
Exits 0 when the configuration is valid; otherwise prints the settings it
could load and exits 2, naming every bad key. It reaches no source or
destination.`,
		examples: []string{
			"auditexport config validate --config prod.yaml",
			"AUDITEXPORT_SCHEDULE_CRON=@daily auditexport config validate --config prod.yaml --json",
		},
	}
	c.flags = func(fs *flag.FlagSet) func(context.Context, *stdio) error {
		cf := addConfigFlags(fs)
		asJSON := fs.Bool("json", false, "print the settings as JSON")
		return func(ctx context.Context, io *stdio) error {
			if len(io.args) == 0 || io.args[0] != "validate" {
				return usagef("want a subcommand: auditexport config validate [--config FILE]")
			}
			// Flags may follow the subcommand: parse them too.
			if err := fs.Parse(joinBoolValues(fs, io.args[1:])); err != nil {
				if errors.Is(err, flag.ErrHelp) {
					printCommandHelp(io.out, c, fs)
					return nil
				}
				return usagef("%v", err)
			}
			if fs.NArg() > 0 {
				return usagef("unexpected argument %q", fs.Arg(0))
			}
			return runConfigValidate(cf, *asJSON, io.out)
		}
	}
	return c
}

// effectiveSetting is one line of config validate's report.
type effectiveSetting struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Origin string `json:"origin"` // default, config, env or flag
	Env    string `json:"env"`
}

// runConfigValidate loads and checks the configuration and prints it.
func runConfigValidate(cf *configFlags, asJSON bool, out io.Writer) error {
	lc, err := cf.loadUnvalidated()
	if lc == nil {
		return err
	}
	verr := flatJoin(err, lc.validate(lc.origin))
	settings := effectiveSettings(lc)
	if asJSON {
		report := struct {
			Valid    bool               `json:"valid"`
			Errors   []string           `json:"errors,omitempty"`
			Settings []effectiveSetting `json:"settings"`
		}{Valid: verr == nil, Settings: settings}
		for _, e := range splitJoined(verr) {
			report.Errors = append(report.Errors, e.Error())
		}
		b, _ := json.MarshalIndent(report, "", "  ")
		fmt.Fprintf(out, "%s\n", b)
	} else {
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY\tVALUE\tORIGIN")
		for _, s := range settings {
			v := s.Value
			if v == "" {
				v = `""`
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Key, v, s.Origin)
		}
		tw.Flush()
	}
	return verr
}

// effectiveSettings lists every setting with its displayed value and origin.
func effectiveSettings(lc *loadedConfig) []effectiveSetting {
	var out []effectiveSetting
	for _, s := range settingsOf(&lc.Config) {
		v := s.display()
		if strings.HasSuffix(s.key, "url") && v != "" {
			v = sinks.Redact(v)
		}
		out = append(out, effectiveSetting{Key: s.key, Value: v, Origin: originOf(lc, s.key), Env: s.env})
		if s.key == "schema.time_column" {
			// schema.columns is YAML-only and not in the settings table.
			out = append(out, effectiveSetting{Key: "schema.columns", Value: fmt.Sprintf("%d mapping(s)", len(lc.Schema.Columns)),
				Origin: originOf(lc, "schema.columns")})
		}
	}
	return out
}

func originOf(lc *loadedConfig, key string) string {
	if o := lc.origin[key]; o != "" {
		return o
	}
	return "default"
}

// splitJoined lists the errors of an errors.Join.
func splitJoined(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
