// Package integration holds the tests that need real servers, and nothing
// else: the sinks conformance suite (sinks/sinktest) against versitygw (S3),
// fake-gcs-server (GCS) and Azurite (Azure Blob), and end-to-end runs of the
// auditexport binary against each of them and a local directory, with every
// published Parquet file read back by an independent reader
// (github.com/parquet-go/parquet-go).
//
// The servers are started by the scripts in integration/scripts, which
// install pinned versions on first use into ~/.cache/auditexport-integration:
//
//	for s in versitygw fakegcs azurite; do
//		bash integration/scripts/$s.sh start && eval "$(bash integration/scripts/$s.sh env)"
//	done
//	go test ./integration/...
//
// integration/test.sh does all of that (and PostgreSQL for the source tests).
// A test whose server is not configured fails, naming the script to run; none
// is ever skipped.
package integration
