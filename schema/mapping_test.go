package schema

import (
	"errors"
	"slices"
	"testing"
)

func TestWithMappings(t *testing.T) {
	base := builtin(t)
	c, err := base.WithMappings([]Mapping{
		{Header: "Who", ID: "USER_EMAIL"},          // renamed friendly name
		{Header: "Object Type", ID: "OBJECT_NAME"}, // the org's word wins over OBJECT_TYPE's name
		{Header: "Cost Center", ID: "COST_CENTER"}, // new column, defaults
		{Header: "Risk Score", ID: "RISK_SCORE", Type: Float, FieldID: 2_000_001},
		{Header: "Reviewed At", Type: Timestamp},                     // ID derived from the header
		{ID: "TENANT_REGION", Type: String},                          // a column only, no header
		{Header: "who ", ID: "USER_EMAIL", Type: String, FieldID: 9}, // same again, agreeing
		{Header: "CC", ID: "COST_CENTER"},                            // second name for a new column
	})
	if err != nil {
		t.Fatalf("WithMappings: %v", err)
	}
	check := func(id string, want Column) {
		t.Helper()
		got, ok := c.Lookup(id)
		if !ok {
			t.Errorf("Lookup(%s): not found", id)
			return
		}
		if got.ID != want.ID || got.Friendly != want.Friendly || got.Type != want.Type ||
			got.FieldID != want.FieldID || !slices.Equal(got.Aliases, want.Aliases) {
			t.Errorf("Lookup(%s):\ngot  %+v\nwant %+v", id, got, want)
		}
	}
	check("USER_EMAIL", Column{ID: "USER_EMAIL", Friendly: "User Email", Type: String, FieldID: 9, Aliases: []string{"Who"}})
	check("OBJECT_NAME", Column{ID: "OBJECT_NAME", Friendly: "Object Name", Type: String, FieldID: 11, Aliases: []string{"Object Type"}})
	check("COST_CENTER", Column{ID: "COST_CENTER", Friendly: "Cost Center", Type: String, FieldID: DerivedFieldID("COST_CENTER"), Aliases: []string{"CC"}})
	check("RISK_SCORE", Column{ID: "RISK_SCORE", Friendly: "Risk Score", Type: Float, FieldID: 2_000_001})
	check("REVIEWED_AT", Column{ID: "REVIEWED_AT", Friendly: "Reviewed At", Type: Timestamp, FieldID: DerivedFieldID("REVIEWED_AT")})
	check("TENANT_REGION", Column{ID: "TENANT_REGION", Type: String, FieldID: DerivedFieldID("TENANT_REGION")})

	res, err := c.Resolve([]string{"WHO", "Object Type", "cc", "OBJECT_TYPE", "tenant_region"}, ResolveOptions{Strict: true})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	var got []string
	for _, r := range res.Columns {
		got = append(got, r.Column.ID+"/"+r.By)
	}
	want := []string{"USER_EMAIL/friendly", "OBJECT_NAME/friendly", "COST_CENTER/friendly", "OBJECT_TYPE/id", "TENANT_REGION/id"}
	if !slices.Equal(got, want) {
		t.Errorf("resolved:\ngot  %v\nwant %v", got, want)
	}

	// The base catalog is unchanged.
	if _, ok := base.Lookup("COST_CENTER"); ok {
		t.Errorf("base catalog gained COST_CENTER")
	}
	if col, _ := base.Lookup("USER_EMAIL"); len(col.Aliases) != 0 {
		t.Errorf("base USER_EMAIL aliases = %v, want none", col.Aliases)
	}
	if res, err := base.Resolve([]string{"Object Type"}, ResolveOptions{}); err != nil || res.Columns[0].Column.ID != "OBJECT_TYPE" {
		t.Errorf("base catalog resolves \"Object Type\" to %+v, %v; want OBJECT_TYPE", res, err)
	}
}

// An org alias takes a name away from another column's aliases, and may itself
// be overridden by a later WithMappings.
func TestWithMappingsOverridesAlias(t *testing.T) {
	c, err := builtin(t).WithMappings([]Mapping{{Header: "Actor", ID: "USER_ID"}})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := c.WithMappings([]Mapping{{Header: "actor", ID: "USER_EMAIL"}})
	if err != nil {
		t.Fatal(err)
	}
	if col, _ := c2.Lookup("USER_ID"); len(col.Aliases) != 0 {
		t.Errorf("USER_ID aliases = %v, want none", col.Aliases)
	}
	if col, _ := c.Lookup("USER_ID"); !slices.Equal(col.Aliases, []string{"Actor"}) {
		t.Errorf("first catalog changed: USER_ID aliases = %v, want [Actor]", col.Aliases)
	}
	res, err := c2.Resolve([]string{"ACTOR"}, ResolveOptions{})
	if err != nil || res.Columns[0].Column.ID != "USER_EMAIL" {
		t.Errorf("Resolve(ACTOR) = %+v, %v; want USER_EMAIL", res, err)
	}
}

func TestWithMappingsErrors(t *testing.T) {
	bad := func(i int, header, id, problem string) MappingError {
		return MappingError{Index: i, Header: header, ID: id, Problem: problem, Earlier: -1}
	}
	tests := []struct {
		name string
		m    []Mapping
		want []MappingError
	}{
		{"bad id", []Mapping{{Header: "Event Type", ID: "EVENT_TYPE"}, {Header: "x", ID: "X"}, {Header: "Who", ID: "bad id"}},
			[]MappingError{bad(2, "Who", "bad id", `id "bad id" is not a valid column ID (upper snake case, e.g. USER_EMAIL)`)}},
		{"lower-case id", []Mapping{{Header: "Who", ID: "user_email"}},
			[]MappingError{bad(0, "Who", "user_email", `id "user_email" is not a valid column ID (upper snake case, e.g. USER_EMAIL)`)}},
		{"bad type", []Mapping{{Header: "Who", ID: "WHO", Type: "integer"}},
			[]MappingError{bad(0, "Who", "WHO", `type "integer" is not one of string, timestamp, int, float, bool, json`)}},
		{"change type", []Mapping{{Header: "Duration", ID: "QUERY_DURATION_MS", Type: String}},
			[]MappingError{bad(0, "Duration", "QUERY_DURATION_MS", "column QUERY_DURATION_MS is of type int; a mapping cannot change it to string")}},
		{"change field ID", []Mapping{{Header: "Who", ID: "USER_EMAIL", FieldID: 77}},
			[]MappingError{bad(0, "Who", "USER_EMAIL", "column USER_EMAIL has field_id 9; a mapping cannot change it to 77")}},
		{"negative field ID", []Mapping{{Header: "Who", ID: "WHO", FieldID: -1}},
			[]MappingError{bad(0, "Who", "WHO", "field_id -1 must be greater than 0")}},
		{"reserved field ID", []Mapping{{Header: "Who", ID: "WHO", FieldID: 5000}},
			[]MappingError{bad(0, "Who", "WHO", "field_id 5000 is in the range of the built-in catalog; use 1000000 or more, or leave it out")}},
		{"field ID taken", []Mapping{{ID: "A_COL", FieldID: 1_000_000}, {ID: "B_COL", FieldID: 1_000_000}},
			[]MappingError{bad(1, "", "B_COL", "field_id 1000000 is already used by column A_COL")}},
		{"header is another column's ID", []Mapping{{Header: "user_id", ID: "USER_EMAIL"}},
			[]MappingError{bad(0, "user_id", "USER_EMAIL", "the header is the column ID of USER_ID, which always resolves to itself; map a different header to USER_EMAIL")}},
		{"one header, two IDs", []Mapping{{Header: "Who", ID: "USER_EMAIL"}, {Header: " WHO", ID: "USER_ID"}},
			[]MappingError{{Index: 1, Header: " WHO", ID: "USER_ID", Problem: "the header is already mapped to USER_EMAIL", Earlier: 0}}},
		{"empty entry", []Mapping{{Type: Int}}, []MappingError{bad(0, "", "", "needs a header, an id or both")}},
		{"nothing to derive", []Mapping{{Header: "###"}},
			[]MappingError{bad(0, "###", "", "the header has no letters or digits to derive an id from; set id")}},
		{"every bad entry", []Mapping{{Header: "A", ID: "a"}, {Header: "B", ID: "b"}},
			[]MappingError{bad(0, "A", "a", `id "a" is not a valid column ID (upper snake case, e.g. USER_EMAIL)`),
				bad(1, "B", "b", `id "b" is not a valid column ID (upper snake case, e.g. USER_EMAIL)`)}},
	}
	c := builtin(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.WithMappings(tt.m)
			if err == nil {
				t.Fatalf("WithMappings succeeded (%d columns), want %+v", len(got.Columns), tt.want)
			}
			var errs []MappingError
			for _, e := range unjoin(err) {
				me, ok := errors.AsType[*MappingError](e)
				if !ok {
					t.Fatalf("error %q (%T) is not a *MappingError", e, e)
				}
				errs = append(errs, *me)
			}
			if !slices.Equal(errs, tt.want) {
				t.Errorf("errors:\ngot  %+v\nwant %+v", errs, tt.want)
			}
		})
	}
}

// A Catalog literal (no Parse) still works: everything resolves by derivation,
// and mappings add columns.
func TestWithMappingsOnEmptyCatalog(t *testing.T) {
	c, err := (&Catalog{}).WithMappings([]Mapping{{Header: "Who", ID: "USER_EMAIL"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Resolve([]string{"who", "Other"}, ResolveOptions{})
	if err != nil || res.Columns[0].Column.ID != "USER_EMAIL" || res.Columns[1].Column.ID != "OTHER" {
		t.Errorf("Resolve = %+v, %v", res, err)
	}
}
