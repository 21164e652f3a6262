package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Layout prefixes and names, relative to the destination prefix. Every
// name the archive keeps for itself is under InternalPrefix; sinks keeps two
// there for its own use, which no commit names: sinks.ProbePrefix (check's
// probe object) and tmp/ (in-flight writes on file://, hidden from List).
const (
	InternalPrefix  = "_auditexport/"
	LogPrefix       = "_auditexport/log/"
	PublishedPrefix = "_auditexport/published/"
	KeysPrefix      = "_auditexport/keys/"
	StagingPrefix   = "_auditexport/staging/"
	RejectsPrefix   = "_auditexport/rejects/"
	ManifestName    = "_manifest.json"
	SuccessName     = "_SUCCESS"
)

// FormatVersion is the version of the manifest format, and of commits
// written before they recorded the archive's shape.
const FormatVersion = 1

// Commit versions: ShapeVersion is version 1 plus the archive's shape;
// CommitVersion, which this build writes, adds the inputs the run read
// (reads). Commits of every earlier version are still read.
const (
	ShapeVersion  = 2
	CommitVersion = 3
)

// Commit is one entry of the commit log: the files it adds, the source
// progress after it, and the hash of the commit before it.
type Commit struct {
	Version  int       `json:"version"`
	Number   int64     `json:"number"`
	Previous string    `json:"previous_sha256"`
	RunID    string    `json:"run_id"`
	Command  string    `json:"command"`
	Created  time.Time `json:"created"`
	Tool     string    `json:"tool_version"`
	Window   string    `json:"window"`
	Files    []File    `json:"files"`
	Keys     []KeyFile `json:"keys"`
	Source   Progress  `json:"source"`
	// Shape is what decides where an event lands and what its key is; every
	// commit of version 2 records it, and a run whose settings differ is
	// refused. Nil in commits of version 1.
	Shape *Shape `json:"shape,omitempty"`
	// Reads are the inputs the committing run read in full, with their row
	// counts: for a source read by windows (the Sigma API: one per window
	// of days), which windows this commit's events came from. Version 3.
	Reads []Read `json:"reads,omitempty"`
}

// Read is one input a run read in full and how many rows it held.
type Read struct {
	Key      string `json:"key"`
	Rows     int64  `json:"rows"`
	Rejected int64  `json:"rejected"`
}

// Shape is the settings that shape an archive: where an event lands (its
// partition), what makes two rows one event (its key), and how columns are
// named. Changing any of them under an existing archive would write events
// it already holds again, under another partition or key, or split its
// columns: a run must use the archive's shape.
type Shape struct {
	PartitionTimezone string   `json:"partition_timezone"`
	ByCategory        bool     `json:"by_category"`
	TimeColumn        string   `json:"time_column"`
	IDColumn          string   `json:"id_column"`
	CategoryColumn    string   `json:"category_column"`
	KeyColumns        []string `json:"key_columns"`
	LowerCaseColumns  bool     `json:"lower_case_columns"`
}

// ShapeField is one setting of a shape, as its JSON field names it.
type ShapeField struct {
	Name           string // the JSON field, e.g. "partition_timezone"
	Archive, Other string // the archive's value and the other value, rendered
}

// Diff lists the fields in which other differs from s, in field order.
func (s *Shape) Diff(other *Shape) []ShapeField {
	var out []ShapeField
	add := func(name, a, b string) {
		if a != b {
			out = append(out, ShapeField{Name: name, Archive: a, Other: b})
		}
	}
	add("partition_timezone", s.PartitionTimezone, other.PartitionTimezone)
	add("by_category", strconv.FormatBool(s.ByCategory), strconv.FormatBool(other.ByCategory))
	add("time_column", s.TimeColumn, other.TimeColumn)
	add("id_column", s.IDColumn, other.IDColumn)
	add("category_column", s.CategoryColumn, other.CategoryColumn)
	add("key_columns", strings.Join(s.KeyColumns, ","), strings.Join(other.KeyColumns, ","))
	add("lower_case_columns", strconv.FormatBool(s.LowerCaseColumns), strconv.FormatBool(other.LowerCaseColumns))
	return out
}

// File is a committed Parquet file.
type File struct {
	Key       string    `json:"key"`
	Partition string    `json:"partition"`
	Rows      int64     `json:"rows"`
	Bytes     int64     `json:"bytes"`
	SHA256    string    `json:"sha256"`
	MinTime   time.Time `json:"min_time"`
	MaxTime   time.Time `json:"max_time"`
	Staging   string    `json:"staging_key,omitempty"`
}

// KeyFile holds the event keys of the files a commit adds to one partition.
type KeyFile struct {
	Key       string `json:"key"`
	Partition string `json:"partition"`
	Count     int64  `json:"count"`
	Bytes     int64  `json:"bytes"`
	SHA256    string `json:"sha256"`
	Staging   string `json:"staging_key"`
}

// Progress is how far the archive has read its source, as of a commit. It is
// cumulative: the last commit alone tells the next run where to resume.
type Progress struct {
	Source string `json:"source"`
	// Watermark is the latest event time committed so far.
	Watermark time.Time `json:"watermark"`
	// Inputs are the source inputs read in full by an incremental run and
	// still present at the source; an input with the same key, ETag and
	// size is not read again.
	Inputs []Input `json:"inputs"`
}

// Input identifies one source input that has been read in full.
type Input struct {
	Key  string `json:"key"`
	ETag string `json:"etag,omitempty"`
	Size int64  `json:"size,omitempty"`
}

// Encode renders a commit as it is stored.
func (c *Commit) Encode() ([]byte, error) {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// DecodeCommit parses a stored commit, rejecting unknown fields and versions.
func DecodeCommit(data []byte) (*Commit, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Commit
	if err := dec.Decode(&c); err != nil {
		return nil, err
	}
	if c.Version < FormatVersion || c.Version > CommitVersion {
		return nil, fmt.Errorf("format version %d is not supported (this build reads %d to %d)", c.Version, FormatVersion, CommitVersion)
	}
	if c.Version >= ShapeVersion && c.Shape == nil {
		return nil, fmt.Errorf("a commit of version %d must record the archive's shape", c.Version)
	}
	if c.Version < ShapeVersion && c.Shape != nil {
		return nil, fmt.Errorf("a commit of version %d cannot record a shape", c.Version)
	}
	if c.Version < CommitVersion && c.Reads != nil {
		return nil, fmt.Errorf("a commit of version %d cannot record reads", c.Version)
	}
	return &c, nil
}

// CommitKey is the log key of commit n.
func CommitKey(n int64) string { return LogPrefix + pad(n) + ".json" }

// PublishedKey is the marker key of commit n.
func PublishedKey(n int64) string { return PublishedPrefix + pad(n) }

func pad(n int64) string { return fmt.Sprintf("%020d", n) }

// parseNumber reads the commit number from a log or marker key's base name.
func parseNumber(base string) (int64, bool) {
	if len(base) < 20 {
		return 0, false
	}
	n, err := strconv.ParseInt(base[:20], 10, 64)
	return n, err == nil && n > 0
}

// SHA256 is the hex SHA-256 of data.
func SHA256(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}
