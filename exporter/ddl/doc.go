// Package ddl writes the SQL that puts an archive in front of a query
// engine: an external table (Athena, BigQuery, Snowflake, Databricks/Spark,
// Trino's Hive connector) or a view (DuckDB) over the archive's Hive layout,
// with the archive's actual columns, their types in the engine's own words,
// the event_date (and event_category) partitions, and a file selection that
// reads data files only, never the archive's own objects (_manifest.json,
// _SUCCESS, the _auditexport/ prefix).
//
// Inspect reads what a statement needs from an archive: the commit log (its
// shape, first committed day, partitions) and one Parquet footer per commit
// (the columns each run wrote). NewTable joins that with the catalog, and
// Generate renders the statement for one engine. Every name of the layout
// comes from exporter/archive; column names from exporter.ColumnName.
//
// The rules each engine's statement relies on (how it treats files whose
// names begin with _ or ., wildcard and pattern semantics, partition
// projection keys, METADATA$FILENAME) are cited in docs/query.md and pinned
// by the golden files in testdata/ (go test ./exporter/ddl -update rewrites
// them).
package ddl
