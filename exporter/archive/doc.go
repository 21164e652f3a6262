// Package archive is the on-bucket format of an auditexport archive and the
// commit protocol that keeps it exact: a hash-chained commit log that is the
// only source of truth, data and key files staged before their commit and
// published after it, per-partition manifests derived from the log, and the
// roll-forward and garbage collection that make any crash recoverable.
//
// Layout under the destination prefix (docs/archive-format.md is the spec):
//
//	event_date=2026-11-25/part-00000-<run id>.parquet   published data
//	event_date=2026-11-25/_manifest.json                derived: the partition's committed files
//	event_date=2026-11-25/_SUCCESS                      derived: the partition has a manifest
//	_auditexport/log/<20-digit N>.json                  commit N, created only if absent
//	_auditexport/published/<20-digit N>                 commit N is fully published
//	_auditexport/keys/<partition>/<run id>.keys         the event keys of published files
//	_auditexport/staging/<run id>/...                   written before its commit
//
// A reader that lists the Hive layout sees only published files, and a file
// is published only after the commit that lists it exists, so it never sees
// a partial or uncommitted file.
package archive
