package schema

import (
	"fmt"
	"strings"
	"testing"
)

// Library errors say what is wrong in neutral words: no setting names.
func TestHeaderErrorText(t *testing.T) {
	tests := []struct {
		err  HeaderError
		want string
	}{
		{HeaderError{Pos: 3, Problem: HeaderEmpty}, "column 3 has an empty header"},
		{HeaderError{Pos: 2, Header: "(%)", Problem: HeaderNoID},
			`column 2: header "(%)" has no letters or digits to derive a column ID from; map it in the org's mapping`},
		{HeaderError{Pos: 2, Header: "Foo Bar", Problem: HeaderUnknown, ID: "FOO_BAR"},
			`column 2: header "Foo Bar" is not in the catalog or the org's mapping, and strict resolution is on (it would derive to FOO_BAR)`},
		{HeaderError{Pos: 1, Header: "Foo Bar", Problem: HeaderFieldIDTaken, ID: "FOO_BAR", FieldID: 636439837, Column: "OTHER"},
			`column 1: header "Foo Bar" derives to FOO_BAR, whose field ID 636439837 is already used by column OTHER; map it with a field ID in the org's mapping`},
		{HeaderError{Pos: 3, Header: "EVENT_TYPE", Problem: HeaderSameID, ID: "EVENT_TYPE", PrevPos: 2, PrevHeader: "Event Type"},
			`headers "Event Type" (column 2) and "EVENT_TYPE" (column 3) both resolve to column ID EVENT_TYPE`},
		{HeaderError{Pos: 4, Header: "B", Problem: HeaderSameFieldID, ID: "B", FieldID: 1000001, PrevPos: 1, PrevHeader: "A"},
			`headers "A" (column 1) and "B" (column 4) both get field ID 1000001; give one of them a field ID in the org's mapping`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%+v:\ngot  %s\nwant %s", tt.err, got, tt.want)
		}
		if strings.Contains(tt.err.Error(), "schema.") {
			t.Errorf("%q names a setting", tt.err.Error())
		}
	}
}

func TestMappingErrorText(t *testing.T) {
	tests := []struct {
		err         MappingError
		want, where string
	}{
		{MappingError{Index: 2, Header: "Who", ID: "bad id", Problem: `id "bad id" is not a valid column ID`, Earlier: -1},
			`entry 2 of the org's mapping (header "Who"): id "bad id" is not a valid column ID`,
			`cols[2] (header "Who"): id "bad id" is not a valid column ID`},
		{MappingError{Index: 1, Header: " ", ID: "B_COL", Problem: "field_id 1000000 is already used by column A_COL", Earlier: -1},
			`entry 1 of the org's mapping (id "B_COL"): field_id 1000000 is already used by column A_COL`,
			`cols[1] (id "B_COL"): field_id 1000000 is already used by column A_COL`},
		{MappingError{Index: 1, Header: " WHO", ID: "USER_ID", Problem: "the header is already mapped to USER_EMAIL", Earlier: 0},
			`entry 1 of the org's mapping (header " WHO"): the header is already mapped to USER_EMAIL by entry 0 of the org's mapping`,
			`cols[1] (header " WHO"): the header is already mapped to USER_EMAIL by cols[0]`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error():\ngot  %s\nwant %s", got, tt.want)
		}
		if got := tt.err.Where(func(i int) string { return fmt.Sprintf("cols[%d]", i) }); got != tt.where {
			t.Errorf("Where:\ngot  %s\nwant %s", got, tt.where)
		}
	}
}
