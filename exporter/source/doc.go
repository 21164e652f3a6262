// Package source reads Sigma audit log entries from where they land. It
// holds what every source shares: the Source and Reader interfaces, Input,
// Window, Record and RowError, the readers of Sigma's export formats (CSV,
// gzipped CSV, JSON Lines; OpenStream tells them apart), and Kind, the seam
// through which the CLI configures, validates, opens and probes a source.
//
// Each kind of source is one sub-package exporting a Kind: exports (Sigma's
// scheduled exports in a bucket or local directory) and postgres (a table or
// view of audit rows). Every source yields text records with their source
// position; mapping headers to column IDs and coercing values is the schema
// package's job.
package source
