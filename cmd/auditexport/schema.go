package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/schema"
)

func schemaCommand() *command {
	return &command{
		name:    "schema",
		summary: "print the column catalog, or how a header line resolves",
		usage:   "schema [--config FILE] [--header LINE | --file PATH] [--categories] [--json]",
		about: `Without --header or --file, prints the built-in catalog (with the org's
schema.columns from --config applied): every column's CDW column ID, friendly
name, type, Parquet field ID, categories and whether it is a confirmed Sigma
fact or a working assumption. With --header (a CSV header line) or --file (a
Sigma export: CSV, CSV.gz or JSON Lines), shows how each source column
resolves to a column ID: by ID, by friendly name or org alias, or derived
from the name (a warning; an error with schema.strict).`,
		examples: []string{
			"auditexport schema",
			"auditexport schema --categories",
			`auditexport schema --header "Timestamp,Event Type,Email Address" --config prod.yaml`,
			"auditexport schema --file configs/samples/2026-11-24T06-00-00Z_audit_logs.csv.gz --json",
		},
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio) error {
			cf := addConfigFlags(fs)
			header := fs.String("header", "", "a CSV header `line` to resolve")
			file := fs.String("file", "", "a Sigma export `file` whose header to resolve (- for stdin)")
			cats := fs.Bool("categories", false, "list the event categories instead of the columns")
			asJSON := fs.Bool("json", false, "print JSON instead of a table")
			return func(ctx context.Context, io *stdio) error {
				if len(io.args) > 0 {
					return usagef("unexpected argument %q", io.args[0])
				}
				if *header != "" && *file != "" {
					return usagef("give --header or --file, not both")
				}
				c, err := cf.loadUnvalidated()
				if err != nil {
					return err
				}
				cat, err := catalogOf(&c.Config)
				if err != nil {
					return err
				}
				opts := schemaOptions{header: *header, file: *file, categories: *cats, json: *asJSON, strict: c.Schema.Strict}
				return runSchema(ctx, cat, opts, io.out)
			}
		},
	}
}

type schemaOptions struct {
	header, file     string
	categories, json bool
	strict           bool
}

func runSchema(ctx context.Context, cat *schema.Catalog, o schemaOptions, out io.Writer) error {
	switch {
	case o.header != "":
		r := csv.NewReader(strings.NewReader(o.header))
		names, err := r.Read()
		if err != nil {
			return usagef("--header is not a CSV line: %v", err)
		}
		return printResolution(cat, names, o, out)
	case o.file != "":
		names, err := headerOfFile(ctx, o.file)
		if err != nil {
			return err
		}
		return printResolution(cat, names, o, out)
	case o.categories:
		if o.json {
			return writeJSON(out, cat.Categories)
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CATEGORY\tSTATUS\tALIASES\tRECORDS")
		for _, c := range cat.Categories {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Name, c.Status, strings.Join(c.Aliases, ","), c.Description)
		}
		return tw.Flush()
	}
	if o.json {
		return writeJSON(out, cat)
	}
	fmt.Fprintf(out, "catalog version %s: %d columns, %d categories\n\n", cat.Version, len(cat.Columns), len(cat.Categories))
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLUMN ID\tFRIENDLY NAME\tTYPE\tFIELD ID\tCATEGORIES\tSTATUS")
	for _, c := range cat.Columns {
		cats := strings.Join(c.Categories, ",")
		if cats == "" {
			cats = "(every event)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", c.ID, c.Friendly, c.Type, c.FieldID, cats, c.Status)
	}
	return tw.Flush()
}

func printResolution(cat *schema.Catalog, names []string, o schemaOptions, out io.Writer) error {
	res, err := cat.Resolve(names, schema.ResolveOptions{Strict: o.strict})
	if err != nil {
		return fmt.Errorf("resolve header: %w", err)
	}
	if o.json {
		return writeJSON(out, res)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tSOURCE HEADER\tCOLUMN ID\tTYPE\tFIELD ID\tRESOLVED BY")
	for i, r := range res.Columns {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\n", i+1, r.Header, r.Column.ID, r.Column.Type, r.Column.FieldID, r.By)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(out, "warning: %s\n", w)
	}
	return nil
}

// headerOfFile reads the header of a local export file (CSV, CSV.gz, JSONL).
func headerOfFile(ctx context.Context, path string) ([]string, error) {
	var rc io.ReadCloser = os.Stdin
	name := "stdin"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, usagef("--file: %v", err)
		}
		rc, name = f, path
	}
	rd, format, err := source.OpenStream(rc, name)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	if format == source.FormatCSV {
		return rd.(*source.CSVReader).Header().Names, nil
	}
	rec, err := rd.Next(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the first record of %s: %w", name, err)
	}
	return rec.Header.Names, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
