package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/auditexport/auditexport/exporter"
	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/schema"
)

// userError is err in the CLI's words, for the person running the command.
// Library errors carry facts (which header, which entry of the org's
// mapping, which archive object); here they get the setting names
// (schema.columns[3], schema.strict) and the command to run next (a damaged
// archive: auditexport verify). It is applied once, where
// errors leave cmd: runExport (summary line, logs, metrics) and Main
// (stderr), and check's report. The result keeps err's chain, so classify
// sees the same types and sentinels; applying it twice changes nothing.
func userError(err error) error {
	if err == nil {
		return nil
	}
	if _, done := err.(*wordedError); done {
		return err
	}
	msg, ok := reword(err)
	if !ok {
		msg = err.Error()
	}
	if h := hint(err); h != "" {
		msg, ok = msg+"; "+h, true
	}
	if !ok {
		return err
	}
	return &wordedError{msg: msg, err: err}
}

// hint is the command to run next after err, added once at the end of
// its text.
func hint(err error) string {
	if errors.As(err, new(*wordedError)) {
		return "" // worded already, further down the chain
	}
	if errors.Is(err, archive.ErrDamaged) {
		return "run auditexport verify"
	}
	return ""
}

// wordedError is an error reworded by userError: its text, and the
// original chain.
type wordedError struct {
	msg string
	err error
}

func (e *wordedError) Error() string { return e.msg }
func (e *wordedError) Unwrap() error { return e.err }

// words is the CLI's text for one typed library error; ok is false for
// errors whose own text is what the user reads.
func words(err error) (string, bool) {
	switch e := err.(type) {
	case *schema.HeaderError:
		return headerWords(e)
	case *schema.MappingError:
		return e.Where(func(i int) string { return fmt.Sprintf("schema.columns[%d]", i) }), true
	case *exporter.ShapeError:
		return shapeWords(e), true
	case *exporter.MissingColumnError:
		if e.Role == exporter.KeyColumn {
			return e.Error() + "; it is named in dedup.key: map it with schema.columns or change dedup.key", true
		}
		return e.Error() + "; map it with schema.columns or set schema.time_column", true
	case *exporter.RejectsError:
		return fmt.Sprintf("%d of %d rows were rejected, over rejects.%s; nothing was written (%s)", e.Rejected, e.Read, e.Limit(), e.Where), true
	case *exporter.WorkDirError:
		return e.Error() + " (run.work_dir)", true
	}
	return "", false
}

// headerWords names the settings that fix a header Resolve rejects.
func headerWords(e *schema.HeaderError) (string, bool) {
	switch e.Problem {
	case schema.HeaderNoID:
		return fmt.Sprintf("column %d: header %q has no letters or digits to derive a column ID from; map it in schema.columns", e.Pos, e.Header), true
	case schema.HeaderUnknown:
		return fmt.Sprintf("column %d: header %q is not in the catalog or schema.columns, and schema.strict is on; map it in schema.columns (it would derive to %s) or turn schema.strict off", e.Pos, e.Header, e.ID), true
	case schema.HeaderFieldIDTaken:
		return fmt.Sprintf("column %d: header %q derives to %s, whose field ID %d is already used by column %s; map it in schema.columns with a field_id", e.Pos, e.Header, e.ID, e.FieldID, e.Column), true
	case schema.HeaderSameFieldID:
		return fmt.Sprintf("headers %q (column %d) and %q (column %d) both get field ID %d; give one of them a field_id in schema.columns", e.PrevHeader, e.PrevPos, e.Header, e.Pos, e.FieldID), true
	}
	return "", false
}

// reword rewrites the typed errors in err's tree with words, and the
// messages that wrap them: a wrapper made with %w (or errors.Join) quotes
// its inner error's text once, and that quote is replaced. It reports
// false when nothing in the tree has other words. This locates text, it
// never decides anything by it: what an error is comes from its type.
func reword(err error) (string, bool) {
	if _, done := err.(*wordedError); done {
		return "", false
	}
	if s, ok := words(err); ok {
		return s, true
	}
	var inner []error
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		inner = u.Unwrap()
	case interface{ Unwrap() error }:
		inner = []error{u.Unwrap()}
	default:
		return "", false
	}
	msg := err.Error()
	type edit struct {
		at, end int
		s       string
	}
	var edits []edit
	for _, in := range inner {
		if in == nil {
			continue
		}
		s, ok := reword(in)
		if !ok {
			continue
		}
		old := in.Error()
		if old == "" || strings.Count(msg, old) != 1 {
			continue // not quoted once: leave the wrapper's text as it is
		}
		at := strings.Index(msg, old)
		edits = append(edits, edit{at, at + len(old), s})
	}
	if len(edits) == 0 {
		return "", false
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].at < edits[j].at })
	var b strings.Builder
	last := 0
	for _, e := range edits {
		if e.at < last {
			continue // overlapping quotes: keep the first
		}
		b.WriteString(msg[last:e.at])
		b.WriteString(e.s)
		last = e.end
	}
	b.WriteString(msg[last:])
	return b.String(), true
}
