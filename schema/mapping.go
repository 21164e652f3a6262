package schema

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Mapping is one entry of an org's own mapping, from its configuration.
// Header is a header spelling used by the org's exports (e.g. a renamed
// friendly name); ID is the CDW column ID it stands for. Either may be left
// out, not both: no ID means DeriveID(Header); no Header only declares a column
// (useful for a database source whose headers are already IDs). Type defaults to
// string for a new column; FieldID defaults to DerivedFieldID(ID).
type Mapping struct {
	Header  string `yaml:"header"`
	ID      string `yaml:"id"`
	Type    Type   `yaml:"type"`
	FieldID int32  `yaml:"field_id"`
}

// MinOrgFieldID is the smallest field ID a column outside the built-in catalog
// may have. Field IDs below it belong to the built-in catalog, which may add
// columns in any release; DerivedFieldID returns values from here up.
const MinOrgFieldID = 1_000_000

// WithMappings returns a new catalog with the org's mappings applied; c is not
// changed. Per entry:
//
//   - an ID already in the catalog gets Header as an alias. Its type and field
//     ID cannot be changed (an error if the entry gives different ones). If
//     Header is another column's friendly name or alias, the org's word wins:
//     the name resolves to the mapped column from then on.
//   - a new ID adds a column (Status Assumed) whose friendly name is Header,
//     of the given type (default string) and field ID (default
//     DerivedFieldID(ID); an explicit one must be at least MinOrgFieldID).
//
// A header may not be another column's ID (Resolve tries IDs first, so the
// mapping would never apply), and two entries may not map one header to two
// IDs. Each bad entry is a *MappingError naming it by index and header, e.g.
// `entry 2 of the org's mapping (header "Who"): id "bad id" is not a valid column ID (upper snake case, e.g. USER_EMAIL)`
// (MappingError.Where names entries as the caller's configuration does);
// all bad entries are reported at once, joined.
func (c *Catalog) WithMappings(m []Mapping) (*Catalog, error) {
	n := c.clone()
	owner := make(map[string]int) // nameKey -> entry of this call that claimed it
	var errs []error
	for i, mp := range m {
		header := strings.TrimSpace(mp.Header)
		fail := func(format string, args ...any) {
			errs = append(errs, &MappingError{Index: i, Header: mp.Header, ID: mp.ID, Problem: fmt.Sprintf(format, args...), Earlier: -1})
		}

		id := strings.TrimSpace(mp.ID)
		switch {
		case header == "" && id == "":
			fail("needs a header, an id or both")
			continue
		case id == "":
			if id = DeriveID(header); id == "" {
				fail("the header has no letters or digits to derive an id from; set id")
				continue
			}
		case !validID(id):
			fail("id %q is not a valid column ID (upper snake case, e.g. USER_EMAIL)", mp.ID)
			continue
		}
		if mp.Type != "" && !mp.Type.Valid() {
			fail("type %q is not one of %s", mp.Type, typeList)
			continue
		}
		if mp.FieldID < 0 {
			fail("field_id %d must be greater than 0", mp.FieldID)
			continue
		}

		idx, exists := n.byID[id]
		newColumn := !exists
		if exists {
			col := n.Columns[idx]
			if mp.Type != "" && mp.Type != col.Type {
				fail("column %s is of type %s; a mapping cannot change it to %s", id, col.Type, mp.Type)
				continue
			}
			if mp.FieldID != 0 && mp.FieldID != col.FieldID {
				fail("column %s has field_id %d; a mapping cannot change it to %d", id, col.FieldID, mp.FieldID)
				continue
			}
		} else {
			typ := mp.Type
			if typ == "" {
				typ = String
			}
			fid := mp.FieldID
			if fid == 0 {
				fid = DerivedFieldID(id)
			} else if fid < MinOrgFieldID {
				fail("field_id %d is in the range of the built-in catalog; use %d or more, or leave it out", fid, MinOrgFieldID)
				continue
			}
			if j, used := n.byField[fid]; used {
				fail("field_id %d is already used by column %s", fid, n.Columns[j].ID)
				continue
			}
			n.Columns = append(n.Columns, Column{
				ID:          id,
				Friendly:    header,
				Type:        typ,
				FieldID:     fid,
				Status:      Assumed,
				Description: fmt.Sprintf("Added by entry %d of the org's mapping.", i),
			})
			idx = len(n.Columns) - 1
			n.byID[id] = idx
			n.byField[fid] = idx
		}
		if header == "" {
			continue
		}

		if j, ok := n.byID[strings.ToUpper(header)]; ok && j != idx {
			fail("the header is the column ID of %s, which always resolves to itself; map a different header to %s", n.Columns[j].ID, id)
			continue
		}
		key := nameKey(header)
		if prev, taken := n.byName[key]; taken {
			if prev == idx {
				continue // already resolves to this column
			}
			if k, ok := owner[key]; ok {
				errs = append(errs, &MappingError{Index: i, Header: mp.Header, ID: mp.ID, Problem: fmt.Sprintf("the header is already mapped to %s", n.Columns[prev].ID), Earlier: k})
				continue
			}
			// The org's word wins over the catalog's: the other column loses the name.
			other := &n.Columns[prev]
			other.Aliases = slices.DeleteFunc(other.Aliases, func(a string) bool { return nameKey(a) == key })
		}
		n.byName[key] = idx
		owner[key] = i
		if !newColumn || n.Columns[idx].Friendly != header {
			n.Columns[idx].Aliases = append(n.Columns[idx].Aliases, header)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return n, nil
}

// clone returns a copy of c that can be changed without touching c.
func (c *Catalog) clone() *Catalog {
	n := &Catalog{
		Version:    c.Version,
		Categories: slices.Clone(c.Categories),
		Columns:    slices.Clone(c.Columns),
		byID:       maps.Clone(c.byID),
		byName:     maps.Clone(c.byName),
		byField:    maps.Clone(c.byField),
		cats:       maps.Clone(c.cats),
	}
	if n.byID == nil { // a Catalog built by hand rather than by Parse
		n.byID, n.byName, n.byField, n.cats = map[string]int{}, map[string]int{}, map[int32]int{}, map[string]int{}
	}
	for i := range n.Columns {
		n.Columns[i].Aliases = slices.Clone(n.Columns[i].Aliases)
		n.Columns[i].Categories = slices.Clone(n.Columns[i].Categories)
	}
	for i := range n.Categories {
		n.Categories[i].Aliases = slices.Clone(n.Categories[i].Aliases)
	}
	return n
}
