// Package source reads Sigma audit log entries from where they land: Sigma's
// own scheduled exports (CSV, gzipped CSV, or JSON Lines objects under a
// landing prefix in any bucket or local directory) and a PostgreSQL table or
// view of audit rows. Every source yields text records with their source
// position; mapping headers to column IDs and coercing values is the schema
// package's job.
package source
