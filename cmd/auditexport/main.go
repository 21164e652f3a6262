// Command auditexport keeps Sigma audit logs beyond Sigma's 30 days: it
// pulls them from Sigma's REST API or reads Sigma's exports (or a database
// copy of the audit log), maps
// friendly column names to CDW column IDs, and writes typed, deduplicated
// Parquet partitions by event date to S3, GCS, Azure Blob or a directory.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // zone data for scratch/distroless images
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal asks the command to stop (a run stops before its
	// commit or finishes the commit it has begun); a second one kills the
	// process at once, which the commit protocol makes safe too.
	context.AfterFunc(ctx, stop)
	stopProfiles := startProfiles(os.Stderr)
	code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stopProfiles()
	stop()
	os.Exit(code)
}
