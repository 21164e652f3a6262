// Package postgres is the postgres source kind: audit rows read from a
// PostgreSQL table or view, one time window at a time, in a read-only
// transaction: a binary COPY decoded straight into records when every column's
// type has a binary decoder (copy.go), otherwise a server-side cursor read in
// text. Kind configures, validates, opens and probes it; Open opens it
// directly.
package postgres
