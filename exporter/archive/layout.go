package archive

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// The Hive layout of published data: every name a run writes into it, and
// every name verify reads back out of it, is built and parsed here.
const (
	// DateKey and CategoryKey name the partition levels.
	DateKey     = "event_date"
	CategoryKey = "event_category"
	// DefaultPartitionValue names the partition of an empty value, as Hive
	// does.
	DefaultPartitionValue = "__HIVE_DEFAULT_PARTITION__"
	// DataExt ends every data file; KeysExt every key file.
	DataExt = ".parquet"
	KeysExt = ".keys"
)

// MaxCategoryBytes bounds an escaped category, so that the directory
// "event_category=<value>" fits the 255 bytes a file name may have on
// common file systems (and leaves room in a 1,024-byte object key).
const MaxCategoryBytes = 255 - len(CategoryKey+"=")

// PartitionPath returns the Hive partition of an event:
// event_date=YYYY-MM-DD[/event_category=<escaped>], the date in zone.
func PartitionPath(t time.Time, zone *time.Location, byCategory bool, category string) string {
	var b strings.Builder
	b.Grow(48)
	b.WriteString(DateKey + "=")
	b.WriteString(t.In(zone).Format(time.DateOnly))
	if byCategory {
		b.WriteString("/" + CategoryKey + "=")
		b.WriteString(EscapePartitionValue(category))
	}
	return b.String()
}

// PartitionDate returns the event date (YYYY-MM-DD) a partition names, or
// false when it does not start with an event_date level.
func PartitionDate(partition string) (string, bool) {
	first, _, _ := strings.Cut(partition, "/")
	if d, ok := strings.CutPrefix(first, DateKey+"="); ok {
		return d, true
	}
	return "", false
}

// CategoryTooLong reports whether a category cannot name a partition
// directory. Escaping at most triples a value, so short ones are not
// escaped to tell.
func CategoryTooLong(category string) bool {
	return len(category) > MaxCategoryBytes/3 && len(EscapePartitionValue(category)) > MaxCategoryBytes
}

// EscapePartitionValue escapes a partition value the way Hive does
// (percent-encoding of '/', '\', '=', ':', '%', quotes, control bytes and the
// other characters Hive's FileUtils escapes), plus '.' when the value is
// made only of dots, so that no value can name a parent or current
// directory. The result is always one path segment inside the prefix.
func EscapePartitionValue(v string) string {
	if v == "" {
		return DefaultPartitionValue
	}
	if strings.Trim(v, ".") == "" {
		return strings.Repeat("%2E", len(v))
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if needsEscape(c) {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

const hexDigits = "0123456789ABCDEF"

func needsEscape(c byte) bool {
	if c < 0x20 || c == 0x7f {
		return true
	}
	switch c {
	case '"', '#', '%', '\'', '*', '/', ':', '=', '?', '\\', '{', '[', ']', '^':
		return true
	}
	return false
}

// DataFileName names a run's seq-th data file of a partition:
// part-NNNNN-<run id>.parquet.
func DataFileName(seq int, runID string) string {
	return fmt.Sprintf("part-%05d-%s%s", seq, runID, DataExt)
}

// DataFileRun returns the run ID in a data file's key or name.
func DataFileRun(key string) (string, bool) {
	rest, ok := strings.CutPrefix(path.Base(key), "part-")
	if !ok {
		return "", false
	}
	rest, ok = strings.CutSuffix(rest, DataExt)
	if !ok {
		return "", false
	}
	seq, run, ok := strings.Cut(rest, "-")
	if !ok || seq == "" || run == "" || strings.Trim(seq, "0123456789") != "" {
		return "", false
	}
	return run, true
}

// DataKey is the published key of a data file (named by DataFileName) of
// a partition (as PartitionPath makes it).
func DataKey(partition, name string) string { return partition + "/" + name }

// StagingDir is where attempt n of a run stages its objects, before its
// commit names them.
func StagingDir(runID string, attempt int) string {
	return StagingPrefix + runID + "/" + strconv.Itoa(attempt) + "/"
}

// StagingKey is where attempt n of a run stages the object it commits
// under key.
func StagingKey(runID string, attempt int, key string) string {
	return StagingDir(runID, attempt) + key
}

// KeyFileKey is the published key file of the rows a run commits to a
// partition.
func KeyFileKey(partition, runID string) string { return KeysDir(partition) + runID + KeysExt }

// RejectsKey is the rejects file of a run.
func RejectsKey(runID string) string { return RejectsPrefix + runID + ".jsonl" }
