package source

import (
	"context"
	"fmt"
	"time"
)

// Input is one unit of source data: a Sigma export object in a landing
// prefix, or one time window of a database table.
type Input struct {
	// Key names the input: the object key relative to the landing prefix,
	// or "table:<name>" for a database source.
	Key string
	// ETag and Size identify the object's content; a rewritten object gets a
	// new ETag and is read again. Empty/zero for database inputs.
	ETag    string
	Size    int64
	ModTime time.Time
}

// Window is a half-open interval [From, To) of event time. A zero bound is
// unbounded.
type Window struct {
	From, To time.Time
}

// Contains reports whether t falls inside the window.
func (w Window) Contains(t time.Time) bool {
	if !w.From.IsZero() && t.Before(w.From) {
		return false
	}
	if !w.To.IsZero() && !t.Before(w.To) {
		return false
	}
	return true
}

func (w Window) String() string {
	f, t := "-inf", "+inf"
	if !w.From.IsZero() {
		f = w.From.UTC().Format(time.RFC3339)
	}
	if !w.To.IsZero() {
		t = w.To.UTC().Format(time.RFC3339)
	}
	return "[" + f + ", " + t + ")"
}

// Header is the ordered list of a record's source column names. Readers
// share one *Header between all records that have the same columns, so a
// caller can cache the resolution of a header by pointer.
type Header struct {
	Names []string
}

// Record is one decoded source row. Every value is text; an empty string is
// a NULL (Sigma's CSV export cannot tell the two apart, so the database source
// renders NULL the same way).
type Record struct {
	Header *Header
	// Fields holds one value per header name. A reader may reuse the slice
	// for its next record: copy what must outlive the call to Next.
	Fields []string
	// Line is where the record starts: a 1-based line number in a file, or a
	// 1-based row number for a database query.
	Line int64
}

// Source lists and opens inputs. Implementations: Sigma exports in a landing
// prefix (CSV, CSV.gz, JSON Lines) and a PostgreSQL table.
type Source interface {
	// List returns the inputs that may hold events in w, in a stable order.
	List(ctx context.Context, w Window) ([]Input, error)
	// Open starts reading one input. Rows outside w may still be returned;
	// the caller filters by event time.
	Open(ctx context.Context, in Input, w Window) (Reader, error)
	// Describe names the source for logs and errors, with no secrets.
	Describe() string
	Close() error
}

// Warner is a Source that has warnings about what its last List returned
// (a window older than the source keeps, say); the run reports them.
type Warner interface {
	Warnings() []string
}

// Reader streams the records of one input.
type Reader interface {
	// Next returns the next record, io.EOF at the end, a *RowError for a row
	// that cannot be decoded (the caller rejects it and calls Next again), or
	// any other error, which is fatal for the input.
	Next(ctx context.Context) (Record, error)
	Close() error
}

// HeaderNames returns the column names of what rd reads: a CSV reader
// knows them before its first row (an empty export still has a header);
// any other reader gives them with its first record, which is consumed.
func HeaderNames(ctx context.Context, rd Reader) ([]string, error) {
	if h, ok := rd.(interface{ Header() *Header }); ok {
		return h.Header().Names, nil
	}
	rec, err := rd.Next(ctx)
	if err != nil {
		return nil, err
	}
	return rec.Header.Names, nil
}

// RowError is a row that could not be decoded; reading can go on after it.
type RowError struct {
	Line int64
	// Lines is how many source lines the bad record took in: a quote left
	// open in a CSV field runs on over the lines after it, and each of them
	// may have been a row. Zero means one.
	Lines  int64
	Reason string
	Raw    []string // what could be read of the row, for the rejects file
}

func (e *RowError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// Rows is how many source rows the error stands for: Lines, at least 1.
// Each counts as read and rejected.
func (e *RowError) Rows() int64 { return max(e.Lines, 1) }
