package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"time"
)

// Flag names follow one scheme. A setting's flag is its YAML key
// (--parquet.lower_case_columns, --backfill.shards), and its environment
// variable is AUDITEXPORT_ and the key in upper case. A command's own
// options, which live in no file, are words joined by hyphens (--dry-run,
// --rows-per-day, --from). The short spellings of settings that came
// before (--shards, --cron, --listen, --pushgateway.url) still work, with
// a warning naming the setting's flag.

// commandSections lists the config sections whose settings each command
// reads: its --help shows those, grouped by section. Commands that are not
// listed read them all (config validate).
var commandSections = map[string][]string{
	"run":      {"source", "destination", "schema", "partitioning", "parquet", "dedup", "rejects", "run", "log", "metrics"},
	"backfill": {"source", "destination", "schema", "partitioning", "parquet", "dedup", "rejects", "run", "log", "backfill", "metrics"},
	"plan":     {"source", "destination", "schema", "partitioning", "parquet", "dedup", "rejects", "run", "log"},
	"schedule": {"source", "destination", "schema", "partitioning", "parquet", "dedup", "rejects", "run", "log", "schedule"},
	"check":    {"source", "destination", "schema", "log"},
	"verify":   {"source", "destination", "schema", "partitioning", "parquet", "dedup", "rejects", "run", "log"},
	"schema":   {"schema"},
	"ddl":      {"destination", "partitioning", "parquet"},
}

// printCommandHelp prints a command's help: what it does, examples, its
// own options, then the settings it reads, by section, with defaults.
func printCommandHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "%s\n\nUsage:\n  auditexport %s\n\n%s\n", c.summary, c.usage, c.about)
	if len(c.examples) > 0 {
		fmt.Fprint(w, "\nExamples:\n")
		for _, e := range c.examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	scratch := defaultConfig()
	byKey := map[string]setting{}
	for _, s := range settingsOf(&scratch) {
		byKey[s.key] = s
	}
	var own []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		_, isSetting := byKey[f.Name]
		if !isSetting && !isDeprecatedAlias(f) {
			own = append(own, f)
		}
	})
	if len(own) > 0 {
		fmt.Fprint(w, "\nOptions:\n")
		for _, f := range own {
			name, usage := flag.UnquoteUsage(f)
			line := "  --" + f.Name
			if name != "" {
				line += " " + name
			}
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
				usage += fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(w, "%s\n      %s\n", line, usage)
		}
	}
	if fs.Lookup("config") != nil {
		printSettingsHelp(w, c.name, settingsOf(&scratch))
	}
	printExitStatus(w)
}

// printSettingsHelp lists the settings a command reads, by section.
func printSettingsHelp(w io.Writer, command string, settings []setting) {
	sections, only := commandSections[command]
	fmt.Fprint(w, "\nSettings: in the YAML file (--config) by key, as AUDITEXPORT_<KEY> (upper case, dots as\nunderscores) or as --<key>; flags win over the environment, which wins over the file.\n")
	// A source kind's own settings get a heading naming the kind.
	kindOf := map[string]string{}
	for _, k := range sourceKinds {
		if k.Section() != "" {
			kindOf["source."+k.Section()] = " (for source.kind " + k.Name() + ")"
		}
	}
	last := ""
	for _, s := range settings {
		section, _, _ := strings.Cut(s.key, ".")
		if only && !containsString(sections, section) {
			continue
		}
		group := s.key[:strings.LastIndexByte(s.key, '.')]
		if group != last {
			fmt.Fprintf(w, "\n  %s%s:\n", group, kindOf[group])
			last = group
		}
		line := "  --" + s.key
		if t := typeWord(s.v); t != "" {
			line += " " + t
		}
		if d := s.display(); d != "" && d != "false" && !(d == "0" && s.v.Kind() != reflect.Int64) && !s.secret {
			line += " (default " + d + ")"
		}
		fmt.Fprintf(w, "  %s\n        %s (env %s)\n", line, s.help, s.env)
	}
	if only {
		fmt.Fprint(w, "\n  The other settings of a config file are accepted and not used here;\n  auditexport config validate --help lists every setting.\n")
	}
}

// typeWord names the kind of value a setting takes, for help.
func typeWord(v reflect.Value) string {
	switch {
	case v.Type() == reflect.TypeOf(time.Duration(0)):
		return "duration"
	case v.Kind() == reflect.Bool:
		return ""
	case v.Kind() == reflect.Int, v.Kind() == reflect.Int64:
		return "int"
	case v.Kind() == reflect.Float64:
		return "number"
	case v.Kind() == reflect.Slice:
		return "list"
	}
	return "string"
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// deprecatedAlias is the flag of an older spelling of a setting's flag:
// it sets the setting and leaves a warning for load to print.
type deprecatedAlias struct {
	cf        *configFlags
	name, key string
}

func (a *deprecatedAlias) String() string { return "" }
func (a *deprecatedAlias) Set(v string) error {
	if _, ok := a.cf.given[a.key]; !ok {
		a.cf.order = append(a.cf.order, a.key)
	}
	a.cf.given[a.key] = v
	a.cf.warnings = append(a.cf.warnings, fmt.Sprintf("--%s is deprecated and will be removed: use --%s", a.name, a.key))
	return nil
}

func isDeprecatedAlias(f *flag.Flag) bool {
	_, ok := f.Value.(*deprecatedAlias)
	return ok
}

// deprecatedFlag registers --name, an older spelling of the setting key's
// flag, kept working with a warning.
func deprecatedFlag(fs *flag.FlagSet, cf *configFlags, name, key, what string) {
	fs.Var(&deprecatedAlias{cf: cf, name: name, key: key}, name, "deprecated: use --"+key+" (`"+what+"`)")
}

func completionCommand() *command {
	return &command{
		name:    "completion",
		summary: "print a shell completion script (bash, zsh or fish)",
		usage:   "completion bash|zsh|fish",
		about: `Prints a script that completes auditexport's commands, their options and
settings flags in bash, zsh or fish. Load it in the current shell, or install
it where the shell looks for completions:

  bash:  source <(auditexport completion bash)
         auditexport completion bash > /etc/bash_completion.d/auditexport
  zsh:   source <(auditexport completion zsh)
  fish:  auditexport completion fish > ~/.config/fish/completions/auditexport.fish`,
		examples: []string{"auditexport completion bash > /etc/bash_completion.d/auditexport"},
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio) error {
			return func(ctx context.Context, io *stdio) error {
				if len(io.args) != 1 {
					return usagef("want one shell: auditexport completion bash|zsh|fish")
				}
				switch io.args[0] {
				case "bash":
					return writeBashCompletion(io.out, false)
				case "zsh":
					return writeBashCompletion(io.out, true)
				case "fish":
					return writeFishCompletion(io.out)
				}
				return usagef("unknown shell %q: want bash, zsh or fish", io.args[0])
			}
		},
	}
}

// commandFlags lists each command's flags (own options and settings,
// without deprecated spellings), commands in help order.
func commandFlags() (names []string, flags map[string][]*flag.Flag, summaries map[string]string) {
	flags, summaries = map[string][]*flag.Flag{}, map[string]string{}
	for _, c := range commands() {
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		c.flags(fs)
		names = append(names, c.name)
		summaries[c.name] = c.summary
		fs.VisitAll(func(f *flag.Flag) {
			if !isDeprecatedAlias(f) {
				flags[c.name] = append(flags[c.name], f)
			}
		})
		sort.Slice(flags[c.name], func(i, j int) bool { return flags[c.name][i].Name < flags[c.name][j].Name })
	}
	return names, flags, summaries
}

// writeBashCompletion prints a bash completion function (zsh loads it
// through bashcompinit).
func writeBashCompletion(w io.Writer, zsh bool) error {
	names, flags, _ := commandFlags()
	var b strings.Builder
	if zsh {
		b.WriteString("#compdef auditexport\nautoload -U +X bashcompinit && bashcompinit\n")
	}
	b.WriteString("# auditexport completion; generated by auditexport completion\n_auditexport() {\n")
	b.WriteString("\tlocal cur=\"${COMP_WORDS[COMP_CWORD]}\" cmd=\"${COMP_WORDS[1]}\"\n")
	fmt.Fprintf(&b, "\tif [ \"$COMP_CWORD\" -eq 1 ]; then\n\t\tCOMPREPLY=($(compgen -W %q -- \"$cur\"))\n\t\treturn\n\tfi\n", strings.Join(names, " "))
	b.WriteString("\tcase \"$cmd\" in\n")
	for _, n := range names {
		var fl []string
		for _, f := range flags[n] {
			fl = append(fl, "--"+f.Name)
		}
		if n == "config" {
			fl = append(fl, "validate")
		}
		if n == "completion" {
			fl = append(fl, "bash", "zsh", "fish")
		}
		fmt.Fprintf(&b, "\t%s) COMPREPLY=($(compgen -W %q -- \"$cur\")) ;;\n", n, strings.Join(fl, " "))
	}
	b.WriteString("\tesac\n}\ncomplete -o default -F _auditexport auditexport\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeFishCompletion prints fish completions: commands, then each
// command's flags with their help.
func writeFishCompletion(w io.Writer) error {
	names, flags, summaries := commandFlags()
	var b strings.Builder
	b.WriteString("# auditexport completion; generated by auditexport completion\ncomplete -c auditexport -f\n")
	for _, n := range names {
		fmt.Fprintf(&b, "complete -c auditexport -n __fish_use_subcommand -a %s -d %s\n", n, fishQuote(summaries[n]))
	}
	for _, n := range names {
		for _, f := range flags[n] {
			_, usage := flag.UnquoteUsage(f)
			if i := strings.Index(usage, " (env "); i > 0 {
				usage = usage[:i]
			}
			if len(usage) > 80 {
				usage = usage[:77] + "..."
			}
			fmt.Fprintf(&b, "complete -c auditexport -n '__fish_seen_subcommand_from %s' -l %s -d %s\n", n, f.Name, fishQuote(usage))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func fishQuote(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}
