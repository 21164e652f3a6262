// Package exports is the sigma-export source kind: Sigma's scheduled
// exports (CSV, gzipped CSV or JSON Lines objects) under a landing prefix in
// any bucket or local directory. Its settings are source.url and
// source.prefix; the reading itself is source.Exports.
package exports
