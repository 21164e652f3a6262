package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is one subcommand: its help text and its entry point.
type command struct {
	name     string
	summary  string
	usage    string // the synopsis after "auditexport "
	about    string // what it does, a paragraph
	examples []string
	flags    func(fs *flag.FlagSet) func(ctx context.Context, io *stdio) error
}

// helpName is the command as its help is asked for: with its subcommand
// (config validate), from the usage's leading words.
func (c *command) helpName() string {
	words := []string{c.name}
	for _, w := range strings.Fields(c.usage)[1:] {
		if strings.Trim(w, "abcdefghijklmnopqrstuvwxyz") != "" {
			break
		}
		words = append(words, w)
	}
	return strings.Join(words, " ")
}

type stdio struct {
	out, err io.Writer
	args     []string // positional arguments left after flags
}

func commands() []*command {
	return []*command{runCommand(), backfillCommand(), planCommand(), verifyCommand(), checkCommand(), schemaCommand(), ddlCommand(), generateCommand(), versionCommand(),
		scheduleCommand(),
		configCommand(), completionCommand(),
	}
}

// Main runs the CLI and returns the process exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" && len(args) == 1 {
		printMainHelp(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	name := args[0]
	if name == "help" {
		name, args = args[1], []string{args[1], "--help"}
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == name {
			cmd = c
		}
	}
	if name == "--version" || name == "-version" {
		cmd, args = versionCommand(), []string{"version"}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "auditexport: unknown command %q\nTry: auditexport --help\n", name)
		return exitUsage
	}
	fs := flag.NewFlagSet("auditexport "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	exec := cmd.flags(fs)
	if err := fs.Parse(joinBoolValues(fs, args[1:])); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printCommandHelp(stdout, cmd, fs)
			return exitOK
		}
		fmt.Fprintf(stderr, "auditexport %s: %v\nTry: auditexport %s --help\n", cmd.name, err, cmd.helpName())
		return exitUsage
	}
	err := exec(ctx, &stdio{out: stdout, err: stderr, args: fs.Args()})
	if err == nil {
		return exitOK
	}
	err = userError(err)
	code := exitCode(err)
	fmt.Fprintf(stderr, "auditexport %s: %v\n", cmd.name, err)
	if code == exitUsage {
		fmt.Fprintf(stderr, "Try: auditexport %s --help\n", cmd.helpName())
	}
	return code
}

// joinBoolValues lets a boolean flag take its value as the next argument
// too (--schema.strict true), as every other setting does, while standing
// alone still means true (--schema.strict): "--x true" becomes "--x=true".
func joinBoolValues(fs *flag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		name := strings.TrimLeft(a, "-")
		if f := fs.Lookup(name); f != nil && name != a && i+1 < len(args) {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				if v := args[i+1]; v == "true" || v == "false" {
					out = append(out, a+"="+v)
					i++
					continue
				}
			}
		}
		out = append(out, a)
	}
	return out
}

func printMainHelp(w io.Writer) {
	fmt.Fprint(w, `auditexport keeps Sigma audit logs beyond Sigma's 30 days: it pulls them from
Sigma's REST API, or reads Sigma's CSV/CSV.gz/JSON Lines exports from a landing
prefix (or a PostgreSQL table), maps friendly column names to CDW column IDs,
and writes typed, deduplicated Parquet partitions by event date to S3, GCS,
Azure Blob or a local directory.

Usage:
  auditexport <command> [flags]

Commands:
`)
	width := 0
	for _, c := range commands() {
		width = max(width, len(c.name))
	}
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprint(w, `
Examples:
  auditexport run --config configs/local.yaml
  auditexport backfill --config prod.yaml --from 2026-10-01 --to 2026-10-31
  auditexport schema --header "Timestamp,Event Type,User Email"

Every setting can be given in the YAML file (--config), as an environment
variable (AUDITEXPORT_ + the key in upper case, dots as underscores) or as a
flag (--<key>); flags win over the environment, which wins over the file.
Run 'auditexport <command> --help' for a command's flags and settings.
`)
	printExitStatus(w)
}

func printExitStatus(w io.Writer) {
	fmt.Fprintf(w, `
EXIT STATUS:
  %d  success
  %d  the run failed (source, destination or data error); nothing half-written is published
  %d  usage or configuration error
  %d  more rows were rejected than rejects.max_rows / rejects.max_fraction allow
  4  verify found errors in the archive (each is listed with the object it names)
`, exitOK, exitFailure, exitUsage, exitRejects)
}
