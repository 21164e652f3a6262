package exporter

import (
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/auditexport/auditexport/schema"
)

// OutputSchema is what a run writes: every catalog column in catalog order
// with its field ID, named by column ID or in lower case.
func TestOutputSchema(t *testing.T) {
	cat := testCatalog(t)
	extra := schema.Column{ID: "COST_CENTER", Friendly: "Cost Center", Type: schema.String, FieldID: 2000001}
	cols := append(append([]schema.Column{}, cat.Columns...), extra)
	for _, lower := range []bool{false, true} {
		sc := OutputSchema(cols, lower)
		if sc.NumFields() != len(cols) {
			t.Fatalf("lower %v: %d fields, want %d", lower, sc.NumFields(), len(cols))
		}
		for i, c := range cols {
			f := sc.Field(i)
			if f.Name != ColumnName(c.ID, lower) || (lower && f.Name == c.ID && c.ID != ColumnName(c.ID, true)) {
				t.Errorf("field %d named %q, want %q", i, f.Name, ColumnName(c.ID, lower))
			}
			if id, ok := f.Metadata.GetValue("PARQUET:field_id"); !ok || id != strconv.Itoa(int(c.FieldID)) {
				t.Errorf("field %s has field ID %q, want %d", f.Name, id, c.FieldID)
			}
		}
		if f := sc.Field(len(cols) - 1); f.Type.ID() != arrow.STRING {
			t.Errorf("COST_CENTER has type %s, want string", f.Type)
		}
	}
	if ColumnName("EVENT_TYPE", true) != "event_type" || ColumnName("EVENT_TYPE", false) != "EVENT_TYPE" {
		t.Error("ColumnName")
	}
}
