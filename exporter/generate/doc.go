// Package generate writes realistic synthetic Sigma audit log exports for
// demos, tests and benchmarks.
//
// The files look like what Sigma's "audit logs storage integration" writes to
// a bucket: one date-prefixed file per scheduled run
// (2026-11-25T06-00-00Z_audit_logs.csv.gz), each holding the whole 30-day
// AUDIT_LOGS table as it stood at that run, so consecutive files overlap
// heavily. The table is wide and sparse: the header names every column of the
// built-in catalog (schema.Builtin) in catalog order, as friendly names
// (Sigma's export), CDW column IDs (a warehouse copy) or friendly names an
// admin has renamed. Each row fills the base columns and the columns of its
// own event category, with values of the column's type, and leaves the rest
// empty. All catalog categories occur, QUERY_EXECUTIONS and OBJECT_INTERACTION
// most; a category the package does not know gets generic event types.
//
// The quirks an exporter must survive are there on purpose and measured:
//   - overlap: export k runs at Start + 06:00 + (k+1)*Days/Exports days and
//     holds every event in [run-30d, run) that has arrived by then;
//   - at-least-once delivery: Options.DuplicateRate of the rows of a file are
//     written twice, the copy a few dozen rows after the original;
//   - late rows: Options.LateRate of the events arrive after the cut-off of
//     the first export whose window contains them and appear from the next
//     export on. Rows are at most 2 hours late, so only events in the 2 hours
//     before a cut-off are late;
//   - Snowflake's timestamp text forms (with or without an offset, 0-9
//     fractional digits, T or space), one per event and identical in every
//     file, so whole-row fingerprints match across files;
//   - values that need CSV quoting (commas, quotes, unicode, a leading space,
//     one object name with a newline) in Object Name, User Agent, Query Text,
//     JSON columns and others.
//
// Truth reports what was written (distinct events per UTC day and category,
// rows including overlaps and duplicates, late events, renamed headers), so a
// test can check an exporter's output against it.
//
// Formats: CSV written by encoding/csv,
// the same gzipped (compress/gzip, BestSpeed), or JSON Lines:
// one object per row keyed by header, empty values absent, int, float and bool
// columns as JSON numbers and booleans, json columns as embedded JSON.
//
// Generation is deterministic and streams: every event is a pure function of
// (seed, day, index), drawn from a math/rand/v2 PCG seeded for that event, and
// duplicates and lateness come from hashes of the seed and the event number,
// so every export regenerates the events it contains and memory does not grow
// with the number of rows. The same Options give byte-identical files,
// whatever Options.Workers (how many files are written at once).
package generate
