package schema

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func builtin(t testing.TB) *Catalog {
	t.Helper()
	c, err := Builtin()
	if err != nil {
		t.Fatalf("Builtin: %v", err)
	}
	return c
}

func TestBuiltinCategories(t *testing.T) {
	c := builtin(t)
	if c.Version == "" {
		t.Errorf("Version is empty")
	}
	documented := []string{"ACCESS_SIGMA", "USER_ACCOUNT", "ACCOUNT_TYPE", "TEAMS", "CONNECTION",
		"OBJECT_INTERACTION", "QUERY_EXECUTIONS", "PUBLIC_API", "EXPORTS", "PERMISSIONS", "SCHEDULES",
		"MATERIALIZATIONS", "STORED_PROCEDURES", "AI_CONVERSATIONS", "AI_SETTINGS", "WRITEBACK"}
	var got []string
	for _, cat := range c.Categories {
		got = append(got, cat.Name)
		if cat.Status != Confirmed {
			t.Errorf("category %s: status %q, want confirmed", cat.Name, cat.Status)
		}
		if cat.Description == "" {
			t.Errorf("category %s: no description", cat.Name)
		}
	}
	if !slices.Equal(got, documented) {
		t.Errorf("categories:\ngot  %v\nwant %v", got, documented)
	}
}

func TestCategoryLookup(t *testing.T) {
	c := builtin(t)
	tests := []struct {
		name, want string
	}{
		{"QUERY_EXECUTIONS", "QUERY_EXECUTIONS"},
		{"query_executions", "QUERY_EXECUTIONS"},
		{"  Exports ", "EXPORTS"},
		{"USER_ACCOUNTS", "USER_ACCOUNT"},
		{"connections", "CONNECTION"},
		{"OBJECT_INTERACTIONS", "OBJECT_INTERACTION"},
		{"NEW_THING", ""},
		{"", ""},
	}
	for _, tt := range tests {
		cat, ok := c.Category(tt.name)
		if ok != (tt.want != "") || cat.Name != tt.want {
			t.Errorf("Category(%q) = %q, %v; want %q", tt.name, cat.Name, ok, tt.want)
		}
	}
}

func TestBuiltinBaseColumns(t *testing.T) {
	c := builtin(t)
	want := []string{"TIMESTAMP", "EVENT_ID", "EVENT_CATEGORY", "EVENT_TYPE", "EVENT_STATUS",
		"EVENT_STATUS_REASON_CODE", "ORGANIZATION_ID", "USER_ID", "USER_EMAIL", "OBJECT_ID", "OBJECT_NAME",
		"OBJECT_TYPE", "REQUEST_ID", "IP_ADDRESS", "USER_AGENT"}
	confirmed := map[string]bool{"EVENT_TYPE": true, "EVENT_STATUS": true, "EVENT_STATUS_REASON_CODE": true,
		"OBJECT_NAME": true, "USER_EMAIL": true}
	var got []string
	for _, col := range c.Columns {
		if len(col.Categories) > 0 {
			continue
		}
		got = append(got, col.ID)
		wantStatus := Assumed
		if confirmed[col.ID] {
			wantStatus = Confirmed
		}
		if col.Status != wantStatus {
			t.Errorf("%s: status %q, want %q", col.ID, col.Status, wantStatus)
		}
		if col.FieldID < 1 || col.FieldID > 99 {
			t.Errorf("%s: base column field ID %d, want 1..99", col.ID, col.FieldID)
		}
		wantType := String
		if col.ID == "TIMESTAMP" {
			wantType = Timestamp
		}
		if col.Type != wantType {
			t.Errorf("%s: type %s, want %s", col.ID, col.Type, wantType)
		}
		if !strings.Contains(col.Description, "assum") {
			t.Errorf("%s: description %q does not say what is assumed", col.ID, col.Description)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("base columns:\ngot  %v\nwant %v", got, want)
	}
}

func TestBuiltinEventColumns(t *testing.T) {
	c := builtin(t)
	perCategory := map[string]int{}
	for _, col := range c.Columns {
		if len(col.Categories) == 0 {
			continue
		}
		if col.Status != Assumed {
			t.Errorf("%s: status %q, want assumed", col.ID, col.Status)
		}
		if col.Description == "" {
			t.Errorf("%s: no description", col.ID)
		}
		// Event columns are grouped in blocks of 100, one per category, owned
		// by the first category listed.
		block := slices.IndexFunc(c.Categories, func(cat Category) bool { return cat.Name == col.Categories[0] }) + 1
		if got := int(col.FieldID) / 100; got != block {
			t.Errorf("%s: field ID %d is in block %d, want block %d (%s)", col.ID, col.FieldID, got, block, col.Categories[0])
		}
		for _, cat := range col.Categories {
			perCategory[cat]++
		}
	}
	for _, cat := range c.Categories {
		if n := perCategory[cat.Name]; n < 3 {
			t.Errorf("category %s has %d event columns, want at least 3", cat.Name, n)
		}
	}
}

// The working assumption: a column ID is its friendly name in upper snake case.
func TestBuiltinFriendlyDerivesToID(t *testing.T) {
	for _, col := range builtin(t).Columns {
		if got := DeriveID(col.Friendly); got != col.ID {
			t.Errorf("DeriveID(%q) = %s, want %s", col.Friendly, got, col.ID)
		}
	}
}

func TestBuiltinFieldIDsUnique(t *testing.T) {
	seen := map[int32]string{}
	for _, col := range builtin(t).Columns {
		if prev, dup := seen[col.FieldID]; dup {
			t.Errorf("field ID %d used by %s and %s", col.FieldID, prev, col.ID)
		}
		seen[col.FieldID] = col.ID
		if col.FieldID <= 0 || col.FieldID >= MinOrgFieldID {
			t.Errorf("%s: field ID %d outside the built-in range 1..%d", col.ID, col.FieldID, MinOrgFieldID-1)
		}
	}
}

// TestFieldIDsNeverChange holds every built-in column to the ID, type and field
// ID recorded in testdata/field_ids.txt. Columns may be added (run with -update
// to append them), never renumbered, retyped or removed.
func TestFieldIDsNeverChange(t *testing.T) {
	path := filepath.Join("testdata", "field_ids.txt")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := builtin(t)
	pinned := map[string]bool{}
	pinnedField := map[int32]string{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		parts := strings.Fields(text)
		if len(parts) != 3 {
			t.Fatalf("%s:%d: want ID TYPE FIELD_ID, got %q", path, line, text)
		}
		id, typ := parts[0], Type(parts[1])
		fid, err := strconv.ParseInt(parts[2], 10, 32)
		if err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		pinned[id] = true
		pinnedField[int32(fid)] = id
		col, ok := c.Lookup(id)
		switch {
		case !ok:
			t.Errorf("column %s (field ID %d) was removed; columns are never removed from the catalog", id, fid)
		case col.FieldID != int32(fid):
			t.Errorf("column %s: field ID %d, pinned %d; field IDs are never renumbered", id, col.FieldID, fid)
		case col.Type != typ:
			t.Errorf("column %s: type %s, pinned %s; a column's type never changes", id, col.Type, typ)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var added []string
	for _, col := range c.Columns {
		if pinned[col.ID] {
			continue
		}
		if prev, ok := pinnedField[col.FieldID]; ok {
			t.Errorf("column %s reuses field ID %d of %s; field IDs are never reused", col.ID, col.FieldID, prev)
			continue
		}
		added = append(added, fmt.Sprintf("%s %s %d\n", col.ID, col.Type, col.FieldID))
	}
	if len(added) == 0 {
		return
	}
	if !*update {
		t.Errorf("columns not pinned in %s (run go test ./schema -update to append them):\n%s", path, strings.Join(added, ""))
		return
	}
	af, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer af.Close()
	if _, err := af.WriteString(strings.Join(added, "")); err != nil {
		t.Fatal(err)
	}
}

func TestLookup(t *testing.T) {
	c := builtin(t)
	col, ok := c.Lookup("EVENT_STATUS_REASON_CODE")
	if !ok || col.Friendly != "Event Status Reason Code" || col.Type != String || col.FieldID != 6 {
		t.Errorf("Lookup(EVENT_STATUS_REASON_CODE) = %+v, %v", col, ok)
	}
	for _, id := range []string{"event_type", "Event Type", "NOPE", ""} {
		if _, ok := c.Lookup(id); ok {
			t.Errorf("Lookup(%q) found a column; want exact IDs only", id)
		}
	}
}

const minimalCatalog = `version: "1"
categories:
  - name: EXPORTS
    status: confirmed
    aliases: [EXPORT]
columns:
  - id: TIMESTAMP
    friendly: Timestamp
    type: timestamp
    field_id: 1
    status: assumed
  - id: ROW_COUNT
    friendly: Row Count
    type: int
    field_id: 100
    categories: [EXPORTS]
    status: assumed
    aliases: [Rows]
`

func TestParseMinimal(t *testing.T) {
	c, err := Parse([]byte(minimalCatalog))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if c.Version != "1" || len(c.Categories) != 1 || len(c.Columns) != 2 {
		t.Errorf("got version %q, %d categories, %d columns", c.Version, len(c.Categories), len(c.Columns))
	}
	if col, ok := c.Lookup("ROW_COUNT"); !ok || col.Type != Int || !slices.Equal(col.Aliases, []string{"Rows"}) {
		t.Errorf("Lookup(ROW_COUNT) = %+v, %v", col, ok)
	}
}

func TestParseErrors(t *testing.T) {
	// edit replaces old with new in minimalCatalog, for each pair old, new.
	edit := func(pairs ...string) string {
		s := minimalCatalog
		for i := 0; i < len(pairs); i += 2 {
			if !strings.Contains(s, pairs[i]) {
				panic("test catalog lacks " + pairs[i])
			}
			s = strings.Replace(s, pairs[i], pairs[i+1], 1)
		}
		return s
	}
	tests := []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{"unknown column key", edit("    field_id: 100\n", "    field_id: 100\n    colour: red\n"),
			[]string{`line 16: unknown key "colour" in a column`}},
		{"unknown top-level key", "extra: 1\n" + minimalCatalog, []string{`line 1: unknown key "extra" at the top level`}},
		{"unknown category key", edit("    status: confirmed\n", "    status: confirmed\n    colour: red\n"),
			[]string{`line 5: unknown key "colour" in a category`}},
		{"duplicate field ID", edit("field_id: 100", "field_id: 1"),
			[]string{"line 12: columns[1] (ROW_COUNT): field_id 1 is already used by columns[0] (TIMESTAMP)"}},
		{"zero field ID", edit("field_id: 100", "field_id: 0"), []string{"field_id 0 must be greater than 0"}},
		{"negative field ID", edit("field_id: 100", "field_id: -4"), []string{"field_id -4 must be greater than 0"}},
		{"bad type", edit("type: int", "type: integer"),
			[]string{`columns[1] (ROW_COUNT): type "integer" is not one of string, timestamp, int, float, bool, json`}},
		{"missing type", edit("    type: int\n", ""), []string{`type "" is not one of`}},
		{"bad id", edit("id: ROW_COUNT", "id: row count"), []string{`id "row count" is not a valid column ID`}},
		{"duplicate id", edit("id: ROW_COUNT", "id: TIMESTAMP"), []string{"id TIMESTAMP is already used by columns[0]"}},
		{"duplicate friendly, other case and spacing", edit("friendly: Row Count", "friendly: \"  TIMESTAMP \""),
			[]string{`name "  TIMESTAMP " is already used by columns[0] (TIMESTAMP)`}},
		{"alias equal to its own friendly name", edit("aliases: [Rows]", "aliases: [\"row   count\"]"), nil},
		{"alias of another column", edit("aliases: [Rows]", "aliases: [timestamp]"),
			[]string{`name "timestamp" is already used by columns[0] (TIMESTAMP)`}},
		{"name equal to another ID", edit("    field_id: 1\n", "    field_id: 1\n    aliases: [row_count]\n"),
			[]string{`columns[0] (TIMESTAMP): name "row_count" is the ID of columns[1]; it would never resolve to TIMESTAMP`}},
		{"name equal to its own ID", edit("aliases: [Rows]", "aliases: [row_count]"), nil},
		{"missing friendly", edit("    friendly: Row Count\n", ""), []string{"columns[1] (ROW_COUNT): friendly name is missing"}},
		{"bad status", edit("    status: assumed\n    aliases", "    status: maybe\n    aliases"),
			[]string{`status "maybe" is not confirmed or assumed`}},
		{"unknown category", edit("categories: [EXPORTS]", "categories: [IMPORTS]"), []string{`category "IMPORTS" is not in categories`}},
		{"category alias", edit("categories: [EXPORTS]", "categories: [EXPORT]"), []string{`category "EXPORT": use the category's name EXPORTS`}},
		{"category twice", edit("categories: [EXPORTS]", "categories: [EXPORTS, EXPORTS]"), []string{"category EXPORTS is listed twice"}},
		{"bad category name", edit("- name: EXPORTS", "- name: Exports"), []string{`name "Exports" is not a valid category name`}},
		{"category alias clash", edit("aliases: [EXPORT]", "aliases: [exports]"), []string{`"exports" is already used by categories[0] (EXPORTS)`}},
		{"missing version", edit(`version: "1"`, `version: ""`), []string{"version is missing"}},
		{"no columns", "version: x\n", []string{"columns is empty"}},
		{"empty", "", []string{"catalog is empty"}},
		{"two documents", minimalCatalog + "---\nversion: 2\n", []string{"more than one YAML document"}},
		{"not yaml", "version: [", []string{"yaml:"}},
		{"duplicate key", edit("    type: int\n", "    type: int\n    type: float\n"), []string{`"type" already defined`}},
		{"all errors at once", edit("type: int", "type: integer", "field_id: 100", "field_id: 1"), []string{"type \"integer\"", "field_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse succeeded, want error containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}
