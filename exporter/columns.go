package exporter

import (
	"fmt"
	"slices"
	"strings"

	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/schema"
)

// columnSet is the run's output columns: every catalog column in catalog
// order (so files of one archive share a schema), then the columns first
// seen in this run's sources that the catalog lacks.
type columnSet struct {
	cols  []schema.Column
	types []schema.Type
	index map[string]int
}

func newColumnSet(cat *schema.Catalog) *columnSet {
	cs := &columnSet{index: make(map[string]int, len(cat.Columns))}
	for _, c := range cat.Columns {
		cs.add(c)
	}
	return cs
}

func (cs *columnSet) add(c schema.Column) int {
	if i, ok := cs.index[c.ID]; ok {
		return i
	}
	cs.cols = append(cs.cols, c)
	cs.types = append(cs.types, c.Type)
	cs.index[c.ID] = len(cs.cols) - 1
	return len(cs.cols) - 1
}

// headerPlan is how the fields of one source header map to output columns,
// computed once per distinct header.
type headerPlan struct {
	header   *source.Header
	col      []int         // field -> column index
	typ      []schema.Type // field -> column type
	text     []bool        // field -> a string column: its value is its text as read
	timeF    int           // field of the event time, -1 if none
	idF      int           // field of the event ID, -1 if none
	catF     int           // field of the category, -1 if none
	keyF     []int         // fields of configured key columns
	byID     []int         // fields ordered by column ID (for fingerprints)
	colNames []string      // field -> column ID
}

// plan resolves a header against the catalog and records the columns it
// adds to the run.
func (r *reader) plan(in source.Input, h *source.Header) (*headerPlan, error) {
	if p, ok := r.plans[h]; ok {
		return p, nil
	}
	res, err := r.o.Catalog.Resolve(h.Names, schema.ResolveOptions{Strict: r.o.Strict})
	if err != nil {
		return nil, fmt.Errorf("resolve the header of %s: %w", in.Key, err)
	}
	for _, w := range res.Warnings {
		r.warn(in.Key + ": " + w)
	}
	p := &headerPlan{header: h, timeF: -1, idF: -1, catF: -1}
	for i, rc := range res.Columns {
		idx := r.cols.add(rc.Column)
		if rc.By == schema.ByDerived && !slices.Contains(r.read.derived, rc.Column.ID) {
			r.read.derived = append(r.read.derived, rc.Column.ID)
		}
		p.col = append(p.col, idx)
		if !rc.Column.Type.Valid() {
			return nil, fmt.Errorf("column %s of %s has type %q, which is not a column type", rc.Column.ID, in.Key, rc.Column.Type)
		}
		p.typ = append(p.typ, rc.Column.Type)
		p.text = append(p.text, rc.Column.Type == schema.String)
		p.colNames = append(p.colNames, rc.Column.ID)
		switch rc.Column.ID {
		case r.o.TimeColumn:
			p.timeF = i
		case r.o.IDColumn:
			p.idF = i
		case r.o.CategoryColumn:
			p.catF = i
		}
	}
	if p.timeF < 0 {
		return nil, &MissingColumnError{Input: in.Key, Column: r.o.TimeColumn, Role: TimeColumn, Headers: h.Names}
	}
	if t := p.typ[p.timeF]; t != schema.Timestamp {
		return nil, fmt.Errorf("the event time column %s of %s has type %s, want timestamp", r.o.TimeColumn, in.Key, t)
	}
	for _, k := range r.o.KeyColumns {
		f := slices.Index(p.colNames, k)
		if f < 0 {
			return nil, &MissingColumnError{Input: in.Key, Column: k, Role: KeyColumn, Headers: h.Names}
		}
		p.keyF = append(p.keyF, f)
	}
	p.byID = make([]int, len(p.col))
	for i := range p.byID {
		p.byID[i] = i
	}
	slices.SortFunc(p.byID, func(a, b int) int { return strings.Compare(p.colNames[a], p.colNames[b]) })
	r.plans[h] = p
	return p, nil
}

// ColumnRole is what the run needs a column for.
type ColumnRole int

const (
	TimeColumn ColumnRole = iota + 1 // the event time (Options.TimeColumn)
	KeyColumn                        // part of the event key (Options.KeyColumns)
)

// MissingColumnError is a source header that resolves to no column the run
// needs.
type MissingColumnError struct {
	Input   string // the source input
	Column  string // the column ID wanted
	Role    ColumnRole
	Headers []string // the header as read
}

func (e *MissingColumnError) Error() string {
	what := "event time column"
	if e.Role == KeyColumn {
		what = "event key column"
	}
	return fmt.Sprintf("the header of %s has no %s %s (headers: %s)", e.Input, what, e.Column, strings.Join(e.Headers, ", "))
}
