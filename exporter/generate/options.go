package generate

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Formats, header modes and timestamp styles accepted by Options.
const (
	FormatCSV     = "csv"
	FormatCSVGzip = "csv.gz"
	FormatJSONL   = "jsonl"

	HeadersFriendly = "friendly"
	HeadersIDs      = "ids"
	HeadersRenamed  = "renamed"

	TimestampsMixed = "mixed"
	TimestampsPlain = "plain"
)

const (
	maxDays       = 3660
	maxRowsPerDay = 1_000_000_000
	maxExportsDay = 24 // at most one export an hour
)

// Options says what to generate. The zero values of Exports, Format, Headers
// and TimestampStyle select the defaults documented on each field.
type Options struct {
	// Start is the first event day: a UTC midnight.
	Start time.Time
	// Days is the number of event days covered, from Start.
	Days int
	// RowsPerDay is the number of distinct events per day (before duplicates).
	RowsPerDay int
	// Exports is the number of export snapshots (files). 0 means one per day.
	// Runs are spread evenly: export k runs at Start + 6h + (k+1)*Days/Exports
	// days, so with one per day export k runs at 06:00 UTC after day k.
	Exports int
	// Format is "csv" (the default), "csv.gz" or "jsonl".
	Format string
	// Headers is "friendly" (the default: Sigma's export), "ids" (CDW column
	// IDs) or "renamed" (friendly names with a few renamed by an admin; the
	// renames are returned in Truth.Renames).
	Headers string
	// WithEventID includes the Event Id column. Without it, events are
	// identified by their whole row.
	WithEventID bool
	// DuplicateRate is the fraction of rows of a file that are written twice
	// (at-least-once delivery), decided per event and file.
	DuplicateRate float64
	// LateRate is the fraction of events that arrive after the cut-off of
	// the first export whose window contains them, and so first appear in the
	// next export. Rows are at most 2 hours late, so only events in the 2
	// hours before a cut-off can be late: LateRate must be at most
	// 2h / (time between exports), e.g. 0.0833 with daily exports.
	LateRate float64
	// Seed selects the data; the same Options give byte-identical files.
	Seed int64
	// TimestampStyle is "mixed" (the default: Snowflake's text forms with and
	// without offset, 0-9 fractional digits, T or space; one form per event)
	// or "plain" (2026-11-25 13:45:12.123, UTC).
	TimestampStyle string
	// Workers is how many files are written at once, each by its own
	// goroutine. 0 means GOMAXPROCS. The files do not depend on it.
	Workers int
}

// Truth describes what Generate wrote (as JSON, in the snake_case of
// every auditexport summary).
type Truth struct {
	// Files are the names of the files written into dir, in export order.
	Files []string `json:"files"`
	// DistinctPerDay maps a UTC date ("2026-11-25") to the number of distinct
	// events of that date found in at least one file. Dates without any are
	// absent.
	DistinctPerDay map[string]int `json:"distinct_per_day"`
	// Distinct is the total number of distinct events in all files.
	Distinct int `json:"distinct"`
	// RowsWritten is the number of data rows in all files, counting the
	// overlap between files and duplicates.
	RowsWritten int `json:"rows_written"`
	// Renames maps each renamed header to its column ID (Headers "renamed").
	Renames map[string]string `json:"renames,omitempty"`
	// Categories maps an event category to its number of distinct events.
	Categories map[string]int `json:"categories"`
	// Late is the number of distinct events that first appear in a later
	// file than the first one whose time window contains them.
	Late int `json:"late"`
	// Duplicates is the number of extra copies written (rows that repeat a
	// row already in the same file).
	Duplicates int `json:"duplicates"`
}

// withDefaults returns o with the zero values of optional fields replaced.
func (o Options) withDefaults() Options {
	if o.Exports == 0 {
		o.Exports = o.Days
	}
	if o.Format == "" {
		o.Format = FormatCSV
	}
	if o.Headers == "" {
		o.Headers = HeadersFriendly
	}
	if o.TimestampStyle == "" {
		o.TimestampStyle = TimestampsMixed
	}
	if !o.Start.IsZero() {
		o.Start = o.Start.UTC()
	}
	return o
}

// Validate reports every option outside its valid range, each error naming the
// option, its valid range and the value given.
func (o Options) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	switch u := o.Start.UTC(); {
	case o.Start.IsZero():
		bad("start must be a UTC midnight, got the zero time")
	case u.Hour() != 0 || u.Minute() != 0 || u.Second() != 0 || u.Nanosecond() != 0:
		bad("start must be a UTC midnight, got %s", u.Format(time.RFC3339Nano))
	case u.Year() < 1970 || u.Year() > 9000:
		bad("start must be a UTC midnight between the years 1970 and 9000, got %s", u.Format(time.RFC3339))
	}
	intRange := func(name string, v, lo, hi int) bool {
		if v < lo {
			bad("%s must be >= %d, got %d", name, lo, v)
			return false
		}
		if v > hi {
			bad("%s must be <= %d, got %d", name, hi, v)
			return false
		}
		return true
	}
	daysOK := intRange("days", o.Days, 1, maxDays)
	intRange("rows per day", o.RowsPerDay, 1, maxRowsPerDay)
	switch {
	case o.Exports < 0:
		bad("exports must be >= 0 (0 means one per day), got %d", o.Exports)
	case daysOK && o.Exports > o.Days*maxExportsDay:
		bad("exports must be <= %d (at most %d a day over %d days), got %d",
			o.Days*maxExportsDay, maxExportsDay, o.Days, o.Exports)
	}
	if o.Workers < 0 {
		bad("workers must be >= 0 (0 means GOMAXPROCS), got %d", o.Workers)
	}
	oneOf := func(name, v string, valid ...string) {
		if v == "" {
			return
		}
		for _, s := range valid {
			if v == s {
				return
			}
		}
		bad("%s must be %q, %q or %q, got %q", name, valid[0], valid[1], valid[2], v)
	}
	oneOf("format", o.Format, FormatCSV, FormatCSVGzip, FormatJSONL)
	oneOf("headers", o.Headers, HeadersFriendly, HeadersIDs, HeadersRenamed)
	if o.TimestampStyle != "" && o.TimestampStyle != TimestampsMixed && o.TimestampStyle != TimestampsPlain {
		bad("timestamp style must be %q or %q, got %q", TimestampsMixed, TimestampsPlain, o.TimestampStyle)
	}
	rate := func(name string, v float64) {
		if math.IsNaN(v) || v < 0 || v > 1 {
			bad("%s must be within [0, 1], got %v", name, v)
		}
	}
	rate("duplicate rate", o.DuplicateRate)
	rate("late rate", o.LateRate)
	if exports := max(o.Exports, 0); daysOK && exports <= o.Days*maxExportsDay && o.LateRate > 0 && o.LateRate <= 1 {
		if exports == 0 {
			exports = o.Days
		}
		interval := time.Duration(int64(o.Days) * int64(24*time.Hour) / int64(exports))
		if limit := min(1, float64(2*time.Hour)/float64(interval)); o.LateRate > limit {
			bad("late rate must be <= %.4g with an export every %s (rows are at most 2h late), got %v",
				limit, interval, o.LateRate)
		}
	}
	return errors.Join(errs...)
}
