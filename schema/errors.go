package schema

import (
	"fmt"
	"strings"
)

// HeaderProblem is what is wrong with one header of a header line.
type HeaderProblem int

const (
	// HeaderEmpty: the header is empty or only whitespace.
	HeaderEmpty HeaderProblem = iota + 1
	// HeaderNoID: the header has no letters or digits to derive a column ID
	// from.
	HeaderNoID
	// HeaderUnknown: strict resolution is on and the header is neither a
	// column ID nor a name of the catalog or the org's mapping; ID is what it
	// would derive to.
	HeaderUnknown
	// HeaderFieldIDTaken: the header derives to ID, whose derived field ID
	// (FieldID) is already used by catalog column Column.
	HeaderFieldIDTaken
	// HeaderSameID: the header resolves to column ID, as the earlier header
	// at PrevPos does.
	HeaderSameID
	// HeaderSameFieldID: the header gets field ID FieldID, as the earlier
	// header at PrevPos does.
	HeaderSameFieldID
)

// HeaderError is one header that Resolve cannot resolve. Resolve joins one
// per bad header (errors.Join); find them with errors.As or by unwrapping.
type HeaderError struct {
	Pos     int    // position in the header line, from 1
	Header  string // the header, surrounding whitespace trimmed
	Problem HeaderProblem
	ID      string // the column ID it derives or resolves to ("" for HeaderEmpty, HeaderNoID)
	FieldID int32  // the field ID in conflict (HeaderFieldIDTaken, HeaderSameFieldID)
	Column  string // HeaderFieldIDTaken: the catalog column that holds FieldID

	// HeaderSameID, HeaderSameFieldID: the earlier header, and its position.
	PrevPos    int
	PrevHeader string
}

func (e *HeaderError) Error() string {
	switch e.Problem {
	case HeaderEmpty:
		return fmt.Sprintf("column %d has an empty header", e.Pos)
	case HeaderNoID:
		return fmt.Sprintf("column %d: header %q has no letters or digits to derive a column ID from; map it in the org's mapping", e.Pos, e.Header)
	case HeaderUnknown:
		return fmt.Sprintf("column %d: header %q is not in the catalog or the org's mapping, and strict resolution is on (it would derive to %s)", e.Pos, e.Header, e.ID)
	case HeaderFieldIDTaken:
		return fmt.Sprintf("column %d: header %q derives to %s, whose field ID %d is already used by column %s; map it with a field ID in the org's mapping", e.Pos, e.Header, e.ID, e.FieldID, e.Column)
	case HeaderSameID:
		return fmt.Sprintf("headers %q (column %d) and %q (column %d) both resolve to column ID %s", e.PrevHeader, e.PrevPos, e.Header, e.Pos, e.ID)
	case HeaderSameFieldID:
		return fmt.Sprintf("headers %q (column %d) and %q (column %d) both get field ID %d; give one of them a field ID in the org's mapping", e.PrevHeader, e.PrevPos, e.Header, e.Pos, e.FieldID)
	}
	return fmt.Sprintf("column %d: header %q cannot be resolved", e.Pos, e.Header)
}

// MappingError is one entry of the org's mapping that WithMappings rejects.
// WithMappings joins one per bad entry (errors.Join).
type MappingError struct {
	Index  int    // the entry's index in the mapping, from 0
	Header string // the entry's header, as given
	ID     string // the entry's id, as given
	// Problem says what is wrong, in the words of Mapping's fields (header,
	// id, type, field_id), e.g. `id "bad id" is not a valid column ID (upper
	// snake case, e.g. USER_EMAIL)`.
	Problem string
	// Earlier is the index of an earlier entry the problem refers to (one
	// that already maps the header), or -1.
	Earlier int
}

func (e *MappingError) Error() string {
	return e.Where(func(i int) string { return fmt.Sprintf("entry %d of the org's mapping", i) })
}

// Where is the error's text with each entry (this one, and Earlier) named
// by name(index): a caller names entries as its configuration does.
func (e *MappingError) Where(name func(index int) string) string {
	s := name(e.Index)
	if strings.TrimSpace(e.Header) != "" {
		s += fmt.Sprintf(" (header %q)", e.Header)
	} else {
		s += fmt.Sprintf(" (id %q)", e.ID)
	}
	s += ": " + e.Problem
	if e.Earlier >= 0 {
		s += " by " + name(e.Earlier)
	}
	return s
}
