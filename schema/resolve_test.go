package schema

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	c, err := builtin(t).WithMappings([]Mapping{
		{Header: "Who", ID: "USER_EMAIL"},
		{Header: "Object Type", ID: "OBJECT_NAME"}, // the org's word wins
		{Header: "Cost Center", ID: "COST_CENTER", Type: Int},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		header string
		id     string
		by     string
		typ    Type
	}{
		{"EVENT_TYPE", "EVENT_TYPE", ByID, String},                             // exact ID
		{"event_status_reason_code", "EVENT_STATUS_REASON_CODE", ByID, String}, // case-folded ID
		{" Timestamp ", "TIMESTAMP", ByID, Timestamp},                          // case-folded ID, trimmed
		{"Query  duration\tMS", "QUERY_DURATION_MS", ByFriendly, Int},          // friendly, odd spacing and case
		{"ip  ADDRESS", "IP_ADDRESS", ByFriendly, String},
		{"who", "USER_EMAIL", ByFriendly, String},             // org alias
		{"Object Type", "OBJECT_NAME", ByFriendly, String},    // org alias overriding a built-in friendly name
		{"OBJECT_TYPE", "OBJECT_TYPE", ByID, String},          // the overridden column is still reachable by ID
		{"cost center", "COST_CENTER", ByFriendly, Int},       // org column
		{"Foo Bar", "FOO_BAR", ByDerived, String},             // unknown: derived string column
		{"Event-Type Id", "EVENT_TYPE_ID", ByDerived, String}, // derived, not a catalog ID
		{"Rows-Returned", "ROWS_RETURNED", ByDerived, Int},    // derives to a catalog ID: that column
	}
	headers := make([]string, len(tests))
	for i, tt := range tests {
		headers[i] = tt.header
	}
	res, err := c.Resolve(headers, ResolveOptions{})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if len(res.Columns) != len(tests) {
		t.Fatalf("got %d columns, want %d", len(res.Columns), len(tests))
	}
	for i, tt := range tests {
		r := res.Columns[i]
		if r.Header != tt.header || r.Column.ID != tt.id || r.By != tt.by || r.Column.Type != tt.typ {
			t.Errorf("header %q: got %s by %s (%s, header %q), want %s by %s (%s)",
				tt.header, r.Column.ID, r.By, r.Column.Type, r.Header, tt.id, tt.by, tt.typ)
		}
	}
	if r := res.Columns[len(tests)-3]; r.Column.FieldID != DerivedFieldID("FOO_BAR") || r.Column.Friendly != "Foo Bar" {
		t.Errorf("derived column: %+v", r.Column)
	}
	wantWarnings := []string{
		`header "Foo Bar" is not in the catalog or the org's mapping; keeping it as string column FOO_BAR`,
		`header "Event-Type Id" is not in the catalog or the org's mapping; keeping it as string column EVENT_TYPE_ID`,
		`header "Rows-Returned" is not in the catalog or the org's mapping; its derived ID matches catalog column ROWS_RETURNED (int), using it`,
	}
	if strings.Join(res.Warnings, "\n") != strings.Join(wantWarnings, "\n") {
		t.Errorf("warnings:\ngot  %q\nwant %q", res.Warnings, wantWarnings)
	}
}

func TestResolveEmpty(t *testing.T) {
	res, err := builtin(t).Resolve(nil, ResolveOptions{})
	if err != nil || len(res.Columns) != 0 || len(res.Warnings) != 0 {
		t.Errorf("Resolve(nil) = %+v, %v; want an empty resolution", res, err)
	}
}

// headerErrors unjoins Resolve's error into its *HeaderErrors.
func headerErrors(t *testing.T, err error) []HeaderError {
	t.Helper()
	var out []HeaderError
	for _, e := range unjoin(err) {
		he, ok := errors.AsType[*HeaderError](e)
		if !ok {
			t.Fatalf("error %q (%T) is not a *HeaderError", e, e)
		}
		out = append(out, *he)
	}
	return out
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		strict  bool
		want    []HeaderError
	}{
		{"strict", []string{"Event Type", "Foo Bar"}, true,
			[]HeaderError{{Pos: 2, Header: "Foo Bar", Problem: HeaderUnknown, ID: "FOO_BAR"}}},
		{"strict, derivable to a catalog ID", []string{"Event-Type"}, true,
			[]HeaderError{{Pos: 1, Header: "Event-Type", Problem: HeaderUnknown, ID: "EVENT_TYPE"}}},
		{"empty header", []string{"Event Type", "User Email", "  "}, false,
			[]HeaderError{{Pos: 3, Problem: HeaderEmpty}}},
		{"nothing to derive", []string{"Event Type", " (%)"}, false,
			[]HeaderError{{Pos: 2, Header: "(%)", Problem: HeaderNoID}}},
		{"same ID by ID and friendly", []string{"Timestamp", "Event Type", "EVENT_TYPE"}, false,
			[]HeaderError{{Pos: 3, Header: "EVENT_TYPE", Problem: HeaderSameID, ID: "EVENT_TYPE", PrevPos: 2, PrevHeader: "Event Type"}}},
		{"same derived ID", []string{"Foo Bar", "foo-bar"}, false,
			[]HeaderError{{Pos: 2, Header: "foo-bar", Problem: HeaderSameID, ID: "FOO_BAR", PrevPos: 1, PrevHeader: "Foo Bar"}}},
		{"same header twice", []string{"User Email", "user  email"}, false,
			[]HeaderError{{Pos: 2, Header: "user  email", Problem: HeaderSameID, ID: "USER_EMAIL", PrevPos: 1, PrevHeader: "User Email"}}},
		{"every error at once", []string{"", "A", "a", ""}, false,
			[]HeaderError{{Pos: 1, Problem: HeaderEmpty}, {Pos: 3, Header: "a", Problem: HeaderSameID, ID: "A", PrevPos: 2, PrevHeader: "A"}, {Pos: 4, Problem: HeaderEmpty}}},
	}
	c := builtin(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Resolve(tt.headers, ResolveOptions{Strict: tt.strict})
			if err == nil {
				t.Fatalf("Resolve succeeded (%+v), want %+v", res, tt.want)
			}
			if got := headerErrors(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("errors:\ngot  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// A derived column whose field ID hash collides with a catalog column is an
// error, not a silent clash.
func TestResolveFieldIDCollision(t *testing.T) {
	c, err := builtin(t).WithMappings([]Mapping{{ID: "OTHER", FieldID: DerivedFieldID("FOO_BAR")}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Resolve([]string{"Foo Bar"}, ResolveOptions{})
	if err == nil {
		t.Fatal("Resolve succeeded, want a field ID collision")
	}
	want := HeaderError{Pos: 1, Header: "Foo Bar", Problem: HeaderFieldIDTaken, ID: "FOO_BAR", FieldID: 636439837, Column: "OTHER"}
	if got := headerErrors(t, err); !slices.Equal(got, []HeaderError{want}) {
		t.Errorf("errors = %+v, want %+v", got, want)
	}
}

func TestDeriveID(t *testing.T) {
	tests := []struct{ header, want string }{
		{"Event Status Reason Code", "EVENT_STATUS_REASON_CODE"},
		{"User e-mail (2)", "USER_E_MAIL_2"},
		{"  Event   Type  ", "EVENT_TYPE"},
		{"event_type", "EVENT_TYPE"},
		{"EVENT_TYPE", "EVENT_TYPE"},
		{"__x__", "X"},
		{"Query Duration (ms)", "QUERY_DURATION_MS"},
		{"Rows / Returned", "ROWS_RETURNED"},
		{"2nd Reviewer", "C_2ND_REVIEWER"},
		{"  9", "C_9"},
		{"Café Größe", "CAF_GR_E"}, // non-ASCII counts as a separator
		{"userEmail", "USEREMAIL"},
		{"a", "A"},
		{"", ""},
		{"  ", ""},
		{"(%)", ""},
		{"名前", ""},
	}
	for _, tt := range tests {
		if got := DeriveID(tt.header); got != tt.want {
			t.Errorf("DeriveID(%q) = %q, want %q", tt.header, got, tt.want)
		}
		if got := DeriveID(tt.header); got != "" && !validID(got) {
			t.Errorf("DeriveID(%q) = %q is not a valid ID", tt.header, got)
		}
	}
}

// DerivedFieldID is part of the archive format: changing the hash changes the
// field IDs of every derived column already written. These values are pinned.
func TestDerivedFieldIDPinned(t *testing.T) {
	tests := []struct {
		id   string
		want int32
	}{
		{"FOO_BAR", 636439837},
		{"COST_CENTER", 1213866084},
		{"CUSTOM_FIELD", 604533950},
	}
	for _, tt := range tests {
		if got := DerivedFieldID(tt.id); got != tt.want {
			t.Errorf("DerivedFieldID(%s) = %d, want %d (pinned: the hash must never change)", tt.id, got, tt.want)
		}
	}
	for _, id := range []string{"", "A", "EVENT_TYPE", strings.Repeat("Z", 300)} {
		got := DerivedFieldID(id)
		if got < MinOrgFieldID || got == 1<<31-1 {
			t.Errorf("DerivedFieldID(%q) = %d, outside [%d, 2^31-1)", id, got, MinOrgFieldID)
		}
		if again := DerivedFieldID(id); again != got {
			t.Errorf("DerivedFieldID(%q) = %d, then %d", id, got, again)
		}
	}
}
