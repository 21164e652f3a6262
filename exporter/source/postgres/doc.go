// Package postgres is the postgres source kind: audit rows read from a
// PostgreSQL table or view, one time window at a time, through a server-side
// cursor in a read-only transaction. Kind configures, validates, opens and
// probes it; Open opens it directly.
package postgres
