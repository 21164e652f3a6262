package schema

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// builtinYAML is the embedded catalog. A string, so nothing can modify it.
//
//go:embed catalog.yaml
var builtinYAML string

// Type is the logical type of a column.
type Type string

// The column types. Each maps to one Arrow type (see [ArrowType]).
const (
	String    Type = "string"
	Timestamp Type = "timestamp" // microseconds since the Unix epoch, UTC
	Int       Type = "int"       // 64-bit signed
	Float     Type = "float"     // 64-bit IEEE 754
	Bool      Type = "bool"
	JSON      Type = "json" // valid JSON, kept as text
)

// typeList is the valid types, for error messages.
const typeList = "string, timestamp, int, float, bool, json"

// Valid reports whether t is one of the six column types. The empty Type is not
// valid (a [Mapping] with no type means string, but a [Column] always has one).
func (t Type) Valid() bool {
	switch t {
	case String, Timestamp, Int, Float, Bool, JSON:
		return true
	}
	return false
}

// Status says how sure the project is about a catalog entry.
type Status string

const (
	// Confirmed is a fact Sigma publishes.
	Confirmed Status = "confirmed"
	// Assumed is a working assumption of this project.
	Assumed Status = "assumed"
)

// Valid reports whether s is Confirmed or Assumed.
func (s Status) Valid() bool { return s == Confirmed || s == Assumed }

// Category is an event category (the EVENT_CATEGORY value). Categories are an
// open set: the catalog knows the documented ones, and sources may carry others.
type Category struct {
	Name        string   `yaml:"name" json:"name"` // e.g. QUERY_EXECUTIONS
	Description string   `yaml:"description" json:"description"`
	Status      Status   `yaml:"status" json:"status"`
	Aliases     []string `yaml:"aliases" json:"aliases,omitempty"` // other spellings, e.g. older plural names
}

// Column is one column of the audit log.
type Column struct {
	ID          string   `yaml:"id" json:"id"`             // CDW column ID, e.g. EVENT_STATUS_REASON_CODE
	Friendly    string   `yaml:"friendly" json:"friendly"` // Sigma friendly name, e.g. "Event Status Reason Code"
	Type        Type     `yaml:"type" json:"type"`
	FieldID     int32    `yaml:"field_id" json:"field_id"`               // stable Parquet field_id, unique in the catalog, never reused
	Categories  []string `yaml:"categories" json:"categories,omitempty"` // categories whose events fill it; empty = base column (every event)
	Status      Status   `yaml:"status" json:"status"`
	Description string   `yaml:"description" json:"description"`
	Aliases     []string `yaml:"aliases" json:"aliases,omitempty"` // other header spellings that resolve to it
}

// Catalog is a validated set of categories and columns with lookup indexes.
// Treat a Catalog and its slices as read-only: the indexes are built once, and
// WithMappings returns a new Catalog rather than changing this one.
type Catalog struct {
	Version    string     `json:"version"`
	Categories []Category `json:"categories"`
	Columns    []Column   `json:"columns"`

	byID    map[string]int // column ID -> index in Columns
	byName  map[string]int // nameKey(friendly name or alias) -> index in Columns
	byField map[int32]int  // field ID -> index in Columns
	cats    map[string]int // lower-case category name or alias -> index in Categories
}

// catalogFile is the YAML document.
type catalogFile struct {
	Version    string     `yaml:"version"`
	Categories []Category `yaml:"categories"`
	Columns    []Column   `yaml:"columns"`
}

// Builtin parses the embedded catalog. It parses on every call, so callers get
// their own copy; call it once and pass the result along.
func Builtin() (*Catalog, error) {
	c, err := Parse([]byte(builtinYAML))
	if err != nil {
		return nil, fmt.Errorf("built-in catalog: %w", err)
	}
	return c, nil
}

// Parse reads and validates a catalog document. Unknown keys are errors that
// name the key and its line. Validation requires: a version; category names and
// column IDs in upper snake case (^[A-Z][A-Z0-9_]*$); unique column IDs; field
// IDs > 0 and unique; valid types and statuses; friendly names and aliases
// unique compared case- and space-insensitively, and none equal to another
// column's ID; column categories naming catalog categories.
func Parse(data []byte) (*Catalog, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f catalogFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("catalog is empty")
		}
		return nil, yamlError(err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		return nil, errors.New("catalog has more than one YAML document")
	}
	c := &Catalog{Version: f.Version, Categories: f.Categories, Columns: f.Columns}
	if err := c.build(readEntryLines(data)); err != nil {
		return nil, err
	}
	return c, nil
}

// Lookup returns the column with exactly this ID.
func (c *Catalog) Lookup(id string) (Column, bool) {
	i, ok := c.byID[id]
	if !ok {
		return Column{}, false
	}
	return c.Columns[i], true
}

// Category returns the category with this name or alias, compared
// case-insensitively with surrounding whitespace ignored.
func (c *Catalog) Category(name string) (Category, bool) {
	i, ok := c.cats[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Category{}, false
	}
	return c.Categories[i], true
}

// nameKey is the comparison form of a friendly name or alias: lower case,
// surrounding whitespace trimmed, inner runs of whitespace collapsed to one space.
func nameKey(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// validID reports whether s matches ^[A-Z][A-Z0-9_]*$.
func validID(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		b := s[i]
		if (b < 'A' || b > 'Z') && (b < '0' || b > '9') && b != '_' {
			return false
		}
	}
	return true
}

// build validates c and fills its indexes. lines gives source lines for
// messages; it may be empty.
func (c *Catalog) build(lines entryLines) error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if strings.TrimSpace(c.Version) == "" {
		fail("version is missing")
	}
	if len(c.Columns) == 0 {
		fail("columns is empty")
	}

	c.cats = make(map[string]int)
	canonical := make(map[string]bool, len(c.Categories))
	for i, cat := range c.Categories {
		where := fmt.Sprintf("%scategories[%d] (%s)", lines.at("categories", i), i, cat.Name)
		if !validID(cat.Name) {
			fail("%s: name %q is not a valid category name (upper snake case, e.g. QUERY_EXECUTIONS)", where, cat.Name)
		}
		if !cat.Status.Valid() {
			fail("%s: status %q is not confirmed or assumed", where, cat.Status)
		}
		canonical[cat.Name] = true
		for _, n := range append([]string{cat.Name}, cat.Aliases...) {
			k := strings.ToLower(strings.TrimSpace(n))
			if k == "" {
				fail("%s: empty alias", where)
				continue
			}
			if j, dup := c.cats[k]; dup {
				fail("%s: %q is already used by categories[%d] (%s)", where, n, j, c.Categories[j].Name)
				continue
			}
			c.cats[k] = i
		}
	}

	c.byID = make(map[string]int, len(c.Columns))
	c.byName = make(map[string]int, 2*len(c.Columns))
	c.byField = make(map[int32]int, len(c.Columns))
	where := make([]string, len(c.Columns))
	for i, col := range c.Columns {
		where[i] = fmt.Sprintf("%scolumns[%d] (%s)", lines.at("columns", i), i, col.ID)
		w := where[i]
		switch {
		case !validID(col.ID):
			fail("%s: id %q is not a valid column ID (upper snake case, e.g. USER_EMAIL)", w, col.ID)
		default:
			if j, dup := c.byID[col.ID]; dup {
				fail("%s: id %s is already used by columns[%d]", w, col.ID, j)
			} else {
				c.byID[col.ID] = i
			}
		}
		if !col.Type.Valid() {
			fail("%s: type %q is not one of %s", w, col.Type, typeList)
		}
		if !col.Status.Valid() {
			fail("%s: status %q is not confirmed or assumed", w, col.Status)
		}
		switch j, dup := c.byField[col.FieldID]; {
		case col.FieldID <= 0:
			fail("%s: field_id %d must be greater than 0", w, col.FieldID)
		case dup:
			fail("%s: field_id %d is already used by columns[%d] (%s); field IDs are never reused", w, col.FieldID, j, c.Columns[j].ID)
		default:
			c.byField[col.FieldID] = i
		}
		if strings.TrimSpace(col.Friendly) == "" {
			fail("%s: friendly name is missing", w)
		}
		for _, n := range append([]string{col.Friendly}, col.Aliases...) {
			k := nameKey(n)
			if k == "" {
				if n != col.Friendly {
					fail("%s: empty alias", w)
				}
				continue
			}
			if j, dup := c.byName[k]; dup && j != i {
				fail("%s: name %q is already used by columns[%d] (%s)", w, n, j, c.Columns[j].ID)
				continue
			}
			c.byName[k] = i
		}
		seen := make(map[string]bool, len(col.Categories))
		for _, cat := range col.Categories {
			switch j, known := c.cats[strings.ToLower(cat)]; {
			case canonical[cat] && !seen[cat]:
				seen[cat] = true
			case seen[cat]:
				fail("%s: category %s is listed twice", w, cat)
			case known:
				fail("%s: category %q: use the category's name %s", w, cat, c.Categories[j].Name)
			default:
				fail("%s: category %q is not in categories", w, cat)
			}
		}
	}
	// A name that equals another column's ID would never be reached, because
	// Resolve tries IDs first.
	for i, col := range c.Columns {
		for _, n := range append([]string{col.Friendly}, col.Aliases...) {
			if j, ok := c.byID[strings.ToUpper(strings.TrimSpace(n))]; ok && j != i {
				fail("%s: name %q is the ID of columns[%d]; it would never resolve to %s", where[i], n, j, col.ID)
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}

// entryLines holds the source line of each item of the top-level sequences
// "categories" and "columns", for error messages.
type entryLines map[string][]int

// at returns "line N: " for item i of the named sequence, or "" if unknown.
func (l entryLines) at(seq string, i int) string {
	if lines := l[seq]; i < len(lines) {
		return fmt.Sprintf("line %d: ", lines[i])
	}
	return ""
}

// readEntryLines reads data as a plain YAML tree and records each entry's line.
// Errors are ignored: the strict decode has already reported them.
func readEntryLines(data []byte) entryLines {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil
	}
	out := make(entryLines)
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], root.Content[i+1]
		if val.Kind != yaml.SequenceNode {
			continue
		}
		lines := make([]int, len(val.Content))
		for j, item := range val.Content {
			lines[j] = item.Line
		}
		out[key.Value] = lines
	}
	return out
}

// yamlError rewrites the decoder's "field x not found in type schema.Column"
// into `unknown key "x" in a column`, keeping the line number.
func yamlError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		msgs[i] = m
		line, rest, ok := strings.Cut(m, ": field ")
		if !ok {
			continue
		}
		key, typ, ok := strings.Cut(rest, " not found in type ")
		if !ok {
			continue
		}
		in := map[string]string{
			"schema.Column":      " in a column",
			"schema.Category":    " in a category",
			"schema.catalogFile": " at the top level",
		}[typ]
		msgs[i] = fmt.Sprintf("%s: unknown key %q%s", line, key, in)
	}
	return errors.New(strings.Join(msgs, "; "))
}
