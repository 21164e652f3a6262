package exporter

import (
	"fmt"
	"strings"

	"github.com/auditexport/auditexport/exporter/archive"
)

// shape is the archive shape this run's options make: what its commit
// records, and what the archive's head must match.
func (r *run) shape() *archive.Shape {
	keys := append([]string{}, r.o.KeyColumns...)
	return &archive.Shape{
		PartitionTimezone: r.o.PartitionZone.String(),
		ByCategory:        r.o.ByCategory,
		TimeColumn:        r.o.TimeColumn,
		IDColumn:          r.o.IDColumn,
		CategoryColumn:    r.o.CategoryColumn,
		KeyColumns:        keys,
		LowerCaseColumns:  r.o.Parquet.LowerCaseColumns,
	}
}

// checkShape refuses a run whose options would shape the archive otherwise
// than its head commit records: it would write events the archive holds
// again, under another partition or key. An archive whose head predates
// recorded shapes takes this run's shape, with a warning.
func (r *run) checkShape() error {
	head := r.state.Head
	if head == nil {
		return nil
	}
	if head.Shape == nil {
		r.warnOnce(fmt.Sprintf("the archive's head commit %d does not record the settings that shape it (written by an older version); this run's commit records its own", head.Number))
		return nil
	}
	if diff := head.Shape.Diff(r.shape()); len(diff) > 0 {
		return &ShapeError{Fields: diff, Commit: head.Number, Archive: r.o.Dest.String()}
	}
	return nil
}

// ShapeError refuses a run whose settings differ from the shape the
// archive records. Nothing is read or written.
type ShapeError struct {
	// Fields are the differing settings, by their archive.Shape JSON name.
	Fields []archive.ShapeField
	// Commit is the head commit that records the archive's shape.
	Commit int64
	// Archive is the destination, as a log may show it.
	Archive string
}

func (e *ShapeError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = fmt.Sprintf("%s is %q in this run but %q in the archive", f.Name, f.Other, f.Archive)
	}
	return fmt.Sprintf("the run's settings do not match the archive's shape (recorded by commit %d): %s; a run under other settings would write archived events again, so use the archive's values or start a new archive under another prefix",
		e.Commit, strings.Join(parts, "; "))
}
