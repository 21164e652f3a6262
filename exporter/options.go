package exporter

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/schema"
	"github.com/auditexport/auditexport/sinks"
)

// Options configure one run. The cmd package builds them from the config.
type Options struct {
	Source  source.Source
	Dest    *sinks.Bucket
	Catalog *schema.Catalog

	// Strict fails a header that is neither a catalog column nor in the
	// org's mapping, instead of keeping it as a derived string column.
	Strict bool
	// TimeColumn is the column ID of the event time (default TIMESTAMP).
	TimeColumn string
	// IDColumn is the column ID of the event's unique ID (default EVENT_ID).
	IDColumn string
	// CategoryColumn is the column ID of the event category (default
	// EVENT_CATEGORY).
	CategoryColumn string
	// KeyColumns, when set, make the event key the values of these columns;
	// by default it is IDColumn where a row has one, else a fingerprint of
	// the whole mapped row.
	KeyColumns []string
	// SourceZone is the zone of source timestamps written without an offset.
	SourceZone *time.Location
	// PartitionZone is the zone whose calendar date names a partition.
	PartitionZone *time.Location
	// ByCategory adds an event_category=<value> sub-partition.
	ByCategory bool
	// Window keeps only events whose time is inside it.
	Window source.Window
	// Incremental marks a scheduled run, as opposed to a backfill: it
	// narrows the window to start Lookback before the archive's watermark,
	// skips source inputs the archive has already read in full, and records
	// the inputs it reads.
	Incremental bool
	// Lookback is how far before the watermark an incremental run re-reads,
	// so rows that arrive late still land. It bounds what the run asks a
	// source for (a table's rows, say); a row older than that which the
	// source returns anyway (an export holds its whole table) is not left
	// out: it is deduplicated against the archive like any other row and
	// counted in Summary.RowsBeforeLookback.
	Lookback time.Duration
	// MaxFutureSkew is how far past the run's clock an event time may be.
	// A later one (a clock skew, a bad offset, 9999-12-31) is rejected with
	// its reason: it never lands and never moves the watermark.
	MaxFutureSkew time.Duration
	// StagingGrace is the age after which staged objects that no commit
	// needs are removed as debris of a dead run.
	StagingGrace time.Duration
	// Command names what started the run (run, backfill) in its commit.
	Command string
	// MaxCommitAttempts bounds re-planning after lost commit races.
	MaxCommitAttempts int
	// Phase, when set, is called as the run passes each Phase* point.
	Phase func(phase string)
	// Progress, when set, is called on the reading goroutine at the start
	// and end of each input and every ProgressEvery rows within one (a
	// progress bar, a log line). It must be cheap and must not block.
	Progress func(ProgressEvent)

	Parquet ParquetOptions
	Rejects RejectOptions

	// Workers is how many partitions are deduplicated and encoded at once
	// (default GOMAXPROCS). Memory grows with it: each holds two column
	// batches, a buffered row group and its share of the key budget.
	Workers int

	// WorkDir holds the run's spill files (default: the system temp dir).
	WorkDir string
	// DryRun reads and plans everything and writes nothing.
	DryRun bool
	// RunID names the run in file names and logs.
	RunID string
	// ToolVersion is recorded in each Parquet file's metadata.
	ToolVersion string
	Logger      *slog.Logger
	// Now is the clock (tests set it).
	Now func() time.Time
}

// ParquetOptions tune the encoding of output files.
type ParquetOptions struct {
	// Compression: zstd (default), snappy, gzip, lz4_raw (or lz4), none (or
	// uncompressed), as ParseCodec reads it.
	Compression string
	// CompressionLevel for zstd and gzip; 0 is the codec's default.
	CompressionLevel int
	// RowGroupRows is the number of rows per row group; each worker holds
	// the pages and dictionaries of one row group until it is complete.
	RowGroupRows int
	// TargetFileBytes rolls a new file once a file reaches this size.
	TargetFileBytes int64
	// LowerCaseColumns names columns event_type instead of EVENT_TYPE.
	LowerCaseColumns bool
}

// RejectOptions set how many rejected rows fail a run.
type RejectOptions struct {
	// MaxRows fails the run when more rows than this are rejected; a
	// negative value means no limit.
	MaxRows int64
	// MaxFraction fails the run when more than this fraction of the rows
	// read is rejected; 1 means no limit.
	MaxFraction float64
}

// Defaults fill unset options.
func (o *Options) defaults() {
	if o.TimeColumn == "" {
		o.TimeColumn = "TIMESTAMP"
	}
	if o.IDColumn == "" {
		o.IDColumn = "EVENT_ID"
	}
	if o.CategoryColumn == "" {
		o.CategoryColumn = "EVENT_CATEGORY"
	}
	if o.SourceZone == nil {
		o.SourceZone = time.UTC
	}
	if o.PartitionZone == nil {
		o.PartitionZone = time.UTC
	}
	if o.Parquet.Compression == "" {
		o.Parquet.Compression = "zstd"
	}
	if o.Parquet.RowGroupRows <= 0 {
		o.Parquet.RowGroupRows = 64 * 1024
	}
	if o.Parquet.TargetFileBytes <= 0 {
		o.Parquet.TargetFileBytes = 256 << 20
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.StagingGrace <= 0 {
		o.StagingGrace = 24 * time.Hour
	}
	if o.MaxFutureSkew <= 0 {
		o.MaxFutureSkew = DefaultMaxFutureSkew
	}
	if o.MaxCommitAttempts <= 0 {
		o.MaxCommitAttempts = 5
	}
	if o.Command == "" {
		o.Command = "run"
	}
}

// DefaultMaxFutureSkew is how far past the run's clock an event time may be
// unless Options.MaxFutureSkew says otherwise.
const DefaultMaxFutureSkew = 15 * time.Minute

// ProgressEvery is how many rows of an input pass between two Progress
// calls.
const ProgressEvery = 8192

// Stages of a run's progress (ProgressEvent.Stage).
const (
	StageRead  = "read"  // reading the source's inputs
	StageWrite = "write" // deduplicating and encoding partitions, uploading their files
)

// ProgressEvent says how far a run has got: reading its source (Stage
// StageRead: the input fields), then writing its partitions (StageWrite:
// the partition and byte fields). Events of the write stage may come from
// several partitions being written at once; their counts only grow.
type ProgressEvent struct {
	Stage string
	Input string // the input's key
	Size  int64  // the input's size in bytes, 0 when unknown (a table)
	Index int    // 1-based position of the input among those this run reads
	Total int    // how many inputs this run reads
	Rows  int64  // rows of this input read so far
	// RowsRead counts the rows of every input read so far, this one included.
	RowsRead int64
	// Done marks the input's last event: it has been read in full.
	Done bool

	// Partitions is how many of PartitionsTotal partitions are written
	// (deduplicated, encoded and their files uploaded).
	Partitions, PartitionsTotal int
	// RowsWritten counts the rows encoded so far, BytesStaged the bytes of
	// the files uploaded so far (none in a dry run).
	RowsWritten, BytesStaged int64
}

// Phases of a run, in order, as passed to Options.Phase.
const (
	PhaseRead      = "read"      // the first input has been read into the spills
	PhaseStage     = "stage"     // the first file has been staged
	PhaseStaged    = "staged"    // every file is staged; the commit is next
	PhaseCommitted = "committed" // the commit exists; publishing is next
	PhasePublish   = "publish"   // the first file has been published
)

func (o *Options) validate() error {
	var errs []error
	if o.Source == nil {
		errs = append(errs, errors.New("no source"))
	}
	if o.Dest == nil && !o.DryRun {
		errs = append(errs, errors.New("no destination"))
	}
	if o.Catalog == nil {
		errs = append(errs, errors.New("no catalog"))
	}
	if o.RunID == "" {
		errs = append(errs, errors.New("no run ID"))
	}
	if _, err := ParseCodec(o.Parquet.Compression); err != nil {
		errs = append(errs, err)
	}
	if !(o.Rejects.MaxFraction >= 0 && o.Rejects.MaxFraction <= 1) { // NaN fails too
		errs = append(errs, fmt.Errorf("rejects max fraction must be within 0..1, got %v", o.Rejects.MaxFraction))
	}
	return errors.Join(errs...)
}
