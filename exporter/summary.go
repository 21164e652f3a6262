package exporter

import (
	"time"

	"github.com/auditexport/auditexport/exporter/archive"
)

// Summary is what a run did. It is printed as one JSON line at the end of
// every run, and its Progress is what a commit records.
type Summary struct {
	RunID       string    `json:"run_id"`
	DryRun      bool      `json:"dry_run,omitempty"`
	Source      string    `json:"source"`
	Destination string    `json:"destination,omitempty"`
	Window      string    `json:"window"`
	Started     time.Time `json:"started"`
	Finished    time.Time `json:"finished"`

	RowsRead        int64 `json:"rows_read"`
	RowsRejected    int64 `json:"rows_rejected"`
	RowsOutOfWindow int64 `json:"rows_out_of_window"`
	// RowsBeforeLookback are rows an incremental run read that are older
	// than its lookback (an export holds its whole table): they are
	// deduplicated against the archive like any other row, never left out.
	RowsBeforeLookback int64 `json:"rows_before_lookback,omitempty"`
	// RowsKeyEmpty are rows keyed by the whole row because a configured
	// key column (Options.KeyColumns) was empty in them.
	RowsKeyEmpty int64 `json:"rows_key_empty,omitempty"`
	// RowsLate are the rows written that are older than the lookback: new
	// events the archive missed, which a warning reports.
	RowsLate      int64 `json:"rows_late,omitempty"`
	RowsDuplicate int64 `json:"rows_duplicate"`
	// RowsArchived are rows whose event the archive already holds.
	RowsArchived int64 `json:"rows_already_archived"`
	RowsWritten  int64 `json:"rows_written"`
	BytesWritten int64 `json:"bytes_written"`

	// Commit is the number of the commit the run created (0: none, when
	// there was nothing new).
	Commit int64 `json:"commit"`
	// HeadCommit and HeadSHA256 are the archive's head after the run: the
	// run's own commit, or the head it found when it had nothing new, and
	// the SHA-256 of that commit's stored bytes. Recorded outside the
	// bucket, they are the anchor `verify --expect-head N:SHA` checks the
	// chain against. Absent for an empty archive and in a dry run.
	HeadCommit int64  `json:"head_commit,omitempty"`
	HeadSHA256 string `json:"head_sha256,omitempty"`
	// InputsSkipped are source inputs the archive had already read in full.
	InputsSkipped int `json:"inputs_skipped"`
	// RolledForward lists commits of earlier runs this run finished
	// publishing.
	RolledForward []int64 `json:"rolled_forward,omitempty"`
	// StagingRemoved counts staging debris of dead runs removed.
	StagingRemoved int `json:"staging_removed,omitempty"`
	// CommitAttempts is how many times the run planned its commit (more
	// than one after losing a race to a concurrent run).
	CommitAttempts int `json:"commit_attempts"`

	Files      []FileInfo       `json:"files"`
	Partitions []PartitionStats `json:"partitions"`
	// Categories counts written events per category; Unknown lists the
	// values that are not in the catalog (accepted, never dropped).
	Categories        map[string]int64 `json:"categories"`
	UnknownCategories map[string]int64 `json:"unknown_categories,omitempty"`
	// DerivedColumns are source headers kept under a derived column ID
	// because neither the catalog nor the org's mapping knows them.
	DerivedColumns []string `json:"derived_columns,omitempty"`
	RejectsKey     string   `json:"rejects_key,omitempty"`
	// RejectSamples holds the first few reject reasons.
	RejectSamples []Reject `json:"reject_samples,omitempty"`
	Warnings      []string `json:"warnings,omitempty"`

	Progress Progress `json:"progress"`
}

// Progress is how far the run got in its source: the value a commit records
// so the next run resumes after it.
type Progress struct {
	// Inputs are the source inputs read in full, with their identity.
	Inputs []InputProgress `json:"inputs"`
	// MaxEventTime is the latest event time among the rows read (the
	// watermark of a database source).
	// Absent when no row was read.
	MaxEventTime time.Time `json:"max_event_time,omitzero"`
}

// InputProgress is one input read in full.
type InputProgress struct {
	Key      string `json:"key"`
	ETag     string `json:"etag,omitempty"`
	Size     int64  `json:"size,omitempty"`
	Rows     int64  `json:"rows"`
	Rejected int64  `json:"rejected"`
}

// FileInfo is one Parquet file the run wrote, as its commit records it
// (without the staging key, which is gone once the file is published).
type FileInfo = archive.File

// PartitionStats counts one partition's rows.
type PartitionStats struct {
	Partition string `json:"partition"`
	Rows      int64  `json:"rows"`
	Duplicate int64  `json:"duplicate"`
	Archived  int64  `json:"already_archived"`
	Files     int    `json:"files"`
	// Late counts the rows written that are older than the run's lookback.
	Late int64 `json:"late,omitempty"`
}
