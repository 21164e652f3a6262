package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/auditexport/auditexport/exporter/ddl"
	"github.com/auditexport/auditexport/sinks"
)

func ddlCommand() *command {
	return &command{
		name:    "ddl",
		summary: "print the SQL that makes the archive a table in Athena, BigQuery, Snowflake, Databricks, Trino or DuckDB",
		usage:   "ddl --engine " + ddl.EngineNames() + " [--table NAME] [--connection ID] [--storage-integration NAME] [--config FILE] [settings]",
		about: `Prints, on stdout, SQL ready to run that puts the archive in destination.url
in front of a query engine: an external table (a view for DuckDB) with the
archive's actual columns, typed in the engine's own words, partitioned by
event_date (and event_category with partitioning.by_category), reading the
data files only, never _manifest.json, _SUCCESS or _auditexport/.

The columns are read from the archive when it has commits: the catalog's
columns (with the org's schema.columns) plus the columns its runs added,
learned from one data file footer per commit; the archive's recorded shape
(by_category, lower_case_columns, timezone) wins over the config's. Without
commits the statement follows the catalog and the config.

Engines and what they need:
  athena      s3:// only; partition projection from the first committed day
              to NOW, so no MSCK REPAIR
  bigquery    gs://; s3:// and Azure only through BigQuery Omni (a BigLake
              table): --connection PROJECT.REGION.CONNECTION; --table must
              name a dataset (dataset.table or project.dataset.table)
  snowflake   s3://, gs:// or azblob://; --storage-integration NAME (the
              stage reads the bucket through it)
  databricks  Databricks or Apache Spark: s3://, gs://, azblob:// (abfss)
  trino       Hive connector: s3://, gs://, azblob:// (abfss); --table must
              name a schema ([catalog.]schema.table)
  duckdb      a local directory (file://) or s3://, gs://, azblob://

Where each engine's rules are documented, and a worked example per engine:
docs/query.md.`,
		examples: []string{
			"auditexport ddl --engine duckdb --config configs/local.yaml > sigma_audit.sql",
			"auditexport ddl --engine athena --config prod.yaml --table audit.sigma_audit",
			"auditexport ddl --engine bigquery --config prod.yaml --table my-project.audit.sigma_audit",
			"auditexport ddl --engine snowflake --config prod.yaml --storage-integration s3_audit",
			"auditexport ddl --engine trino --config prod.yaml --table hive.audit.sigma_audit",
		},
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio) error {
			cf := addConfigFlags(fs)
			engine := fs.String("engine", "", "the query `engine`: "+ddl.EngineNames()+" (required)")
			table := fs.String("table", ddl.DefaultTable, "the table (view) `name`, [catalog.][schema.]table; quoted as the engine needs")
			conn := fs.String("connection", "", "BigQuery: the connection `ID` (PROJECT.REGION.CONNECTION) of a BigLake table; required for s3:// and Azure (Omni)")
			integ := fs.String("storage-integration", "", "Snowflake: the storage integration `name` the stage reads the bucket through (required)")
			return func(ctx context.Context, io *stdio) error {
				if len(io.args) > 0 {
					return usagef("unexpected argument %q", io.args[0])
				}
				o := ddlOptions{opts: ddl.Options{Connection: *conn, StorageIntegration: *integ}}
				var err error
				if o.engine, err = ddl.ParseEngine(*engine); err != nil {
					return ddlError(err)
				}
				if o.name, err = ddl.ParseName(*table); err != nil {
					return ddlError(err)
				}
				if o.config, err = loadVerifyConfig(cf, false); err != nil {
					return err
				}
				return runDDL(ctx, o, io.out, io.err)
			}
		},
	}
}

// ddlOptions are the ddl command's inputs.
type ddlOptions struct {
	config *loadedConfig
	engine ddl.Engine
	name   []string
	opts   ddl.Options
}

// ddlWorkers is how many commits (and footers) are read at once.
const ddlWorkers = 8

// runDDL reads the archive (when it has commits) and prints the engine's
// statement on out; notes go to errOut.
func runDDL(ctx context.Context, o ddlOptions, out, errOut io.Writer) error {
	c := &o.config.Config
	cat, err := catalogOf(c)
	if err != nil {
		return err
	}
	loc, err := ddl.LocationOf(c.Destination.URL, c.Destination.Prefix, os.Getenv)
	if err != nil {
		return ddlError(err)
	}
	if err := ddl.Check(o.engine, o.name, loc, o.opts); err != nil {
		return ddlError(err)
	}
	settings := ddl.Settings{ByCategory: c.Partitioning.ByCategory, LowerCase: c.Parquet.LowerCaseColumns, TimeZone: c.Partitioning.TimeZone}
	a, err := inspectArchive(ctx, c, loc.Scheme == "file")
	if err != nil {
		return err
	}
	if a != nil && a.Shape != nil {
		noteShape(errOut, a, settings)
	}
	t, err := ddl.NewTable(cat, a, settings, loc, o.name)
	if err != nil {
		return err
	}
	sql, err := ddl.Generate(o.engine, t, o.opts)
	if err != nil {
		return ddlError(err)
	}
	_, err = io.WriteString(out, sql)
	return err
}

// inspectArchive reads the archive. A local directory that does not exist
// yet holds no archive; a missing bucket is an error (a wrong name, more
// likely than an archive to come).
func inspectArchive(ctx context.Context, c *Config, local bool) (*ddl.Archive, error) {
	b, err := sinks.Open(ctx, c.Destination.URL, sinks.OpenOptions{Prefix: c.Destination.Prefix})
	if local && errors.Is(err, sinks.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("destination.url: %w", err)
	}
	defer b.Close()
	a, err := ddl.Inspect(ctx, b, ddlWorkers)
	if err != nil {
		return nil, fmt.Errorf("read the archive in %s: %w", b, err)
	}
	return a, nil
}

// noteShape tells the user when the archive's recorded shape, which the
// statement follows, differs from the config's.
func noteShape(w io.Writer, a *ddl.Archive, s ddl.Settings) {
	for _, d := range []struct {
		setting     string
		archive, cf any
	}{
		{"partitioning.by_category", a.Shape.ByCategory, s.ByCategory},
		{"parquet.lower_case_columns", a.Shape.LowerCaseColumns, s.LowerCase},
		{"partitioning.timezone", a.Shape.PartitionTimezone, s.TimeZone},
	} {
		if d.archive != d.cf {
			fmt.Fprintf(w, "auditexport ddl: note: the archive records %s = %v and the config says %v: the statement follows the archive\n", d.setting, d.archive, d.cf)
		}
	}
}

// ddlError words the ddl package's input errors as usage errors (exit 2).
func ddlError(err error) error {
	var ie *ddl.InputError
	if errors.As(err, &ie) {
		return usagef("%v", ie)
	}
	return err
}
