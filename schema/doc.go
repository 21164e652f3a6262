// Package schema knows the shape of Sigma's audit log: which event categories
// and columns exist, how a source's headers map to CDW column IDs, how a cell's
// text becomes a typed value, and which Arrow/Parquet type and field ID each
// column gets.
//
// # The catalog
//
// The catalog is data, not code: catalog.yaml is embedded in the binary and
// parsed by [Builtin] on every call (there is no package-level state to share
// or mutate). It lists the event categories and the columns of the wide, sparse
// AUDIT_LOGS table. Each entry has a [Status]: [Confirmed] for facts Sigma
// publishes (the documented categories, a handful of friendly names) and
// [Assumed] for this project's working assumptions (most column IDs and all
// types, since Sigma's complete column table is not available to us). The
// rendered catalog lives in docs/catalog.md.
//
// Every column has a Parquet field ID that is stable for ever: base columns use
// 1..99, event-specific columns 100 and up in blocks of 100 per category, and
// columns the catalog does not know get [DerivedFieldID] (1,000,000 and up).
// A field ID is never renumbered or reused, so readers that track columns by
// field ID (Iceberg, Spark) see one column across catalog versions.
//
// An org's own mapping (the schema.columns setting) is layered on top with
// [Catalog.WithMappings]: renamed friendly names become aliases, new columns are
// added, and on a name conflict the org's word wins.
//
// # Resolving headers
//
// [Catalog.Resolve] maps a source's header line to columns. Per header, in
// order: the exact column ID (also case-folded, for databases that fold case);
// a friendly name or alias, compared case-insensitively with whitespace
// collapsed; otherwise [DeriveID] keeps the column as a string column, with a
// warning (or an error when schema.strict is on). Columns are never dropped.
//
// # Values
//
// [Coerce] turns one cell into a [Value] of a column's [Type]; an empty cell is
// null for every type. [ParseTimestamp] reads the timestamp text that Snowflake
// CSV unloads, PostgreSQL and Sigma produce, without allocating on the common
// path. A cell that cannot be coerced yields a [*ValueError] whose message names
// the value and the type; the caller adds the column and row.
//
// # Arrow
//
// [ArrowType] and [ArrowField] give the Arrow type of each column, with the
// field ID in the "PARQUET:field_id" metadata key that pqarrow writes into the
// Parquet schema. Timestamps are microseconds, UTC.
package schema
