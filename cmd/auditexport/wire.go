package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/auditexport/auditexport/exporter"
	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/schema"
	"github.com/auditexport/auditexport/sinks"
)

// newLogger builds the process logger: text on a terminal, JSON otherwise
// (log.format auto), on stderr so stdout carries only the run summary.
func newLogger(c LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	format := c.Format
	if format == "auto" {
		format = "json"
		if isTerminalWriter(w) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// newRunID returns a sortable, unique run ID: UTC start time and 6 random
// bytes, e.g. 20261126T060000Z-3f9a1c2b7d4e.
func newRunID(now time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// catalogOf is the built-in catalog with the org's mapping applied.
func catalogOf(c *Config) (*schema.Catalog, error) {
	cat, err := schema.Builtin()
	if err != nil {
		return nil, fmt.Errorf("built-in catalog: %w", err)
	}
	// A bad entry is a *schema.MappingError: a configuration error
	// (classify), named schema.columns[N] by userError.
	return cat.WithMappings(c.Schema.Columns)
}

// destinationOptions is how every command opens the archive: its prefix,
// a local directory created if missing, and S3 server-side encryption.
func destinationOptions(c *Config) sinks.OpenOptions {
	return sinks.OpenOptions{
		Prefix:       c.Destination.Prefix,
		CreateDir:    true,
		S3Encryption: sinks.S3Encryption{Type: c.Destination.S3.SSE, KMSKeyID: c.Destination.S3.KMSKeyID},
	}
}

// openDestination opens the archive bucket, creating a local directory when
// the destination is one.
func openDestination(ctx context.Context, c *Config) (*sinks.Bucket, error) {
	b, err := sinks.Open(ctx, c.Destination.URL, destinationOptions(c))
	if err != nil {
		return nil, fmt.Errorf("destination.url: %w", err)
	}
	// Fail before reading a single export when the bucket is missing or the
	// credentials are wrong.
	if err := b.Check(ctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("destination.url: %w", err)
	}
	return b, nil
}

// exportJob is everything one export needs, opened from the config.
type exportJob struct {
	opts exporter.Options
	src  source.Source
	dst  *sinks.Bucket
}

func (j *exportJob) Close() {
	if j.src != nil {
		j.src.Close()
	}
	if j.dst != nil {
		j.dst.Close()
	}
}

// newExportJob opens the source and destination and fills the exporter's
// options from the config.
func newExportJob(ctx context.Context, lc *loadedConfig, log *slog.Logger, dryRun bool) (*exportJob, error) {
	c := &lc.Config
	cat, err := catalogOf(c)
	if err != nil {
		return nil, err
	}
	applyMemoryLimit(c, log)
	srcZone, _ := time.LoadLocation(c.Source.TimeZone)
	partZone, _ := time.LoadLocation(c.Partitioning.TimeZone)
	j := &exportJob{}
	if j.src, err = openSource(ctx, c); err != nil {
		return nil, err
	}
	if j.dst, err = openDestination(ctx, c); err != nil {
		j.Close()
		return nil, err
	}
	now := time.Now()
	j.opts = exporter.Options{
		Source:        j.src,
		Dest:          j.dst,
		Catalog:       cat,
		Strict:        c.Schema.Strict,
		TimeColumn:    c.Schema.TimeColumn,
		KeyColumns:    c.Dedup.Key,
		SourceZone:    srcZone,
		PartitionZone: partZone,
		ByCategory:    c.Partitioning.ByCategory,
		Parquet:       c.exporterParquet(),
		Rejects:       exporter.RejectOptions{MaxRows: c.Rejects.MaxRows, MaxFraction: c.Rejects.MaxFraction},
		WorkDir:       c.Run.WorkDir,
		Workers:       c.Run.Workers,
		Lookback:      c.Run.Lookback,
		MaxFutureSkew: c.Run.MaxFutureSkew,
		StagingGrace:  c.Run.StagingGrace,
		Phase:         crashPhase(),
		DryRun:        dryRun,
		RunID:         newRunID(now),
		ToolVersion:   buildVersion().version,
		Logger:        log,
	}
	return j, nil
}

// runSummary is the one JSON line every export prints on stdout.
type runSummary struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	*exporter.Summary
}

func printSummary(w io.Writer, sum *exporter.Summary, err error) {
	rs := runSummary{Status: "ok", Summary: sum}
	if err != nil {
		// Errors are redacted where they are made; the summary is read by
		// log shippers and alerting, so it is redacted once more.
		rs.Status, rs.Error = "failed", sinks.RedactText(err.Error())
	}
	b, merr := json.Marshal(rs)
	if merr != nil {
		return
	}
	fmt.Fprintf(w, "%s\n", b)
}
