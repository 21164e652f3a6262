package schema

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
)

// How a header was resolved (Resolved.By).
const (
	ByID       = "id"       // the header is a column ID (exactly or case-folded)
	ByFriendly = "friendly" // the header is a friendly name or alias
	ByDerived  = "derived"  // neither: the column ID was derived with DeriveID
)

// ResolveOptions controls Resolve.
type ResolveOptions struct {
	// Strict makes a header that is neither a column ID nor a known name an
	// error instead of a derived string column (the schema.strict setting).
	Strict bool
}

// Resolved is the column one header resolved to.
type Resolved struct {
	Header string `json:"header"` // the header as given
	Column Column `json:"column"`
	By     string `json:"by"` // ByID, ByFriendly or ByDerived
}

// Resolution is the result of resolving one header line.
type Resolution struct {
	Columns  []Resolved `json:"columns"`            // one per header, in header order
	Warnings []string   `json:"warnings,omitempty"` // one per derived header, in header order
}

// Resolve maps a header line to columns. Per header, surrounding whitespace
// trimmed, the first rule that applies wins:
//
//  1. the header is a column ID, exactly or case-insensitively (databases that
//     fold case give "event_type");
//  2. the header is a friendly name or alias (including the org's, from
//     WithMappings), compared case-insensitively with inner whitespace runs
//     collapsed;
//  3. otherwise the column ID is DeriveID(header). If that ID is in the catalog,
//     the header resolves to that column; if not, it becomes a string column
//     with DerivedFieldID. Either way Resolve adds a warning, or, with
//     opts.Strict, reports an error.
//
// Errors (all reported at once, joined, each a *HeaderError with positions
// counted from 1): an empty header; a header with nothing to derive an ID
// from; an unknown header in strict mode; a derived field ID a catalog column
// already has; two headers resolving to one column ID; two headers with one
// field ID (a hash collision of derived field IDs). Warnings name no
// setting: they say what was kept, and the caller passes them on as they are. A leading UTF-8 byte order mark on the
// first header is for the caller to strip.
func (c *Catalog) Resolve(headers []string, opts ResolveOptions) (*Resolution, error) {
	res := &Resolution{Columns: make([]Resolved, 0, len(headers))}
	type seen struct {
		pos    int
		header string
	}
	byID := make(map[string]seen, len(headers))
	byField := make(map[int32]seen, len(headers))
	var errs []error
	for i, raw := range headers {
		pos := i + 1
		h := strings.TrimSpace(raw)
		if h == "" {
			errs = append(errs, &HeaderError{Pos: pos, Problem: HeaderEmpty})
			continue
		}
		r, warning, err := c.resolveOne(h, pos, opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.Header = raw
		if s, dup := byID[r.Column.ID]; dup {
			errs = append(errs, &HeaderError{Pos: pos, Header: h, Problem: HeaderSameID, ID: r.Column.ID, PrevPos: s.pos, PrevHeader: s.header})
			continue
		}
		if s, dup := byField[r.Column.FieldID]; dup {
			errs = append(errs, &HeaderError{Pos: pos, Header: h, Problem: HeaderSameFieldID, ID: r.Column.ID, FieldID: r.Column.FieldID, PrevPos: s.pos, PrevHeader: s.header})
			continue
		}
		byID[r.Column.ID] = seen{pos, h}
		byField[r.Column.FieldID] = seen{pos, h}
		res.Columns = append(res.Columns, r)
		if warning != "" {
			res.Warnings = append(res.Warnings, warning)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return res, nil
}

// resolveOne resolves one trimmed, non-empty header at position pos.
func (c *Catalog) resolveOne(h string, pos int, opts ResolveOptions) (Resolved, string, error) {
	if i, ok := c.byID[h]; ok {
		return Resolved{Column: c.Columns[i], By: ByID}, "", nil
	}
	if i, ok := c.byID[strings.ToUpper(h)]; ok {
		return Resolved{Column: c.Columns[i], By: ByID}, "", nil
	}
	if i, ok := c.byName[nameKey(h)]; ok {
		return Resolved{Column: c.Columns[i], By: ByFriendly}, "", nil
	}
	id := DeriveID(h)
	if id == "" {
		return Resolved{}, "", &HeaderError{Pos: pos, Header: h, Problem: HeaderNoID}
	}
	if opts.Strict {
		return Resolved{}, "", &HeaderError{Pos: pos, Header: h, Problem: HeaderUnknown, ID: id}
	}
	if i, ok := c.byID[id]; ok {
		col := c.Columns[i]
		return Resolved{Column: col, By: ByDerived},
			fmt.Sprintf("header %q is not in the catalog or the org's mapping; its derived ID matches catalog column %s (%s), using it", h, id, col.Type), nil
	}
	fid := DerivedFieldID(id)
	if i, ok := c.byField[fid]; ok {
		return Resolved{}, "", &HeaderError{Pos: pos, Header: h, Problem: HeaderFieldIDTaken, ID: id, FieldID: fid, Column: c.Columns[i].ID}
	}
	col := Column{
		ID:          id,
		Friendly:    h,
		Type:        String,
		FieldID:     fid,
		Status:      Assumed,
		Description: "Not in the catalog; ID derived from the header.",
	}
	return Resolved{Column: col, By: ByDerived},
		fmt.Sprintf("header %q is not in the catalog or the org's mapping; keeping it as string column %s", h, id), nil
}

// DeriveID turns a header into a column ID in upper snake case, the working
// assumption for how Sigma names CDW columns: ASCII letters are upper-cased,
// each run of other characters (spaces, punctuation, non-ASCII) becomes one
// "_", and leading and trailing "_" are trimmed. A result starting with a digit
// gets a "C_" prefix. It returns "" if nothing is left.
//
//	"Event Status Reason Code" -> EVENT_STATUS_REASON_CODE
//	"User e-mail (2)"          -> USER_E_MAIL_2
//	"2nd Reviewer"             -> C_2ND_REVIEWER
func DeriveID(header string) string {
	out := make([]byte, 0, len(header)+2)
	sep := false
	for i := 0; i < len(header); i++ {
		b := header[i]
		switch {
		case 'a' <= b && b <= 'z':
			b -= 'a' - 'A'
		case 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		default:
			sep = true
			continue
		}
		if sep && len(out) > 0 {
			out = append(out, '_')
		}
		sep = false
		if len(out) == 0 && '0' <= b && b <= '9' {
			out = append(out, 'C', '_')
		}
		out = append(out, b)
	}
	return string(out)
}

// DerivedFieldID is the Parquet field ID of a column the built-in catalog lacks:
// a stable hash (32-bit FNV-1a) of the column ID, in [MinOrgFieldID, 2^31-1).
// It never changes for a given ID, so files written before and after an org adds
// the column to schema.columns (without a field_id) agree.
func DerivedFieldID(id string) int32 {
	h := fnv.New32a()
	h.Write([]byte(id))
	const span = math.MaxInt32 - MinOrgFieldID
	return int32(MinOrgFieldID + h.Sum32()%span)
}
