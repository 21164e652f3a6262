package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Layout prefixes and names, relative to the destination prefix.
const (
	LogPrefix       = "_auditexport/log/"
	PublishedPrefix = "_auditexport/published/"
	KeysPrefix      = "_auditexport/keys/"
	StagingPrefix   = "_auditexport/staging/"
	RejectsPrefix   = "_auditexport/rejects/"
	ManifestName    = "_manifest.json"
	SuccessName     = "_SUCCESS"
)

// FormatVersion is the version of the commit and manifest formats.
const FormatVersion = 1

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
	if c.Version != FormatVersion {
		return nil, fmt.Errorf("format version %d is not supported (this build reads %d)", c.Version, FormatVersion)
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
