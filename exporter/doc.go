// Package exporter is the auditexport pipeline. A run lists the inputs of a
// source, decodes each record, resolves its header to CDW column IDs,
// coerces every value to its column's type (a row that cannot be coerced
// goes to the rejects file with its position and reason), assigns the event
// to its partition by event date, and spills it to a local per-partition
// file. It then reads each partition back, drops events whose key it has
// already seen, encodes the rest as Parquet row groups (files rolled by
// size), uploads them to staging in the destination, and publishes them
// into the Hive layout:
//
//	<prefix>/event_date=2026-11-25/part-00000-<run id>.parquet
//
// Reading runs on three goroutines (inflating, decoding, the rest); up to
// Options.Workers partitions are then written at once, each gathering
// rows in column batches for an encoder goroutine of its own.
//
// Memory is bounded by the batches, one row group per worker and each
// worker's share of the event key budget (a bigger day is deduplicated in
// key buckets), never by the size of an export.
package exporter
