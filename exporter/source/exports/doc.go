// Package exports is the sigma-export source kind: Sigma's scheduled
// exports (CSV, gzipped CSV or JSON Lines objects) under a landing prefix in
// any bucket or local directory. Its settings are source.url and
// source.prefix. Kind configures, validates, opens and probes it; New reads a
// landing prefix directly (Source lists the export objects and opens each
// with source.OpenStream).
package exports
