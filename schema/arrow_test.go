package schema

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestArrowType(t *testing.T) {
	tests := []struct {
		typ  Type
		want arrow.DataType
	}{
		{String, arrow.BinaryTypes.String},
		{JSON, arrow.BinaryTypes.String},
		{Timestamp, &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
		{Int, arrow.PrimitiveTypes.Int64},
		{Float, arrow.PrimitiveTypes.Float64},
		{Bool, arrow.FixedWidthTypes.Boolean},
	}
	for _, tt := range tests {
		if got := ArrowType(tt.typ); !arrow.TypeEqual(got, tt.want) {
			t.Errorf("ArrowType(%s) = %v, want %v", tt.typ, got, tt.want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Errorf("ArrowType(\"decimal\") did not panic")
		}
	}()
	ArrowType("decimal")
}

func TestArrowField(t *testing.T) {
	col := Column{ID: "QUERY_DURATION_MS", Type: Int, FieldID: 701}
	f := ArrowField(col, "duration")
	if f.Name != "duration" || !f.Nullable || !arrow.TypeEqual(f.Type, arrow.PrimitiveTypes.Int64) {
		t.Errorf("ArrowField = %v", f)
	}
	if v, ok := f.Metadata.GetValue("PARQUET:field_id"); !ok || v != "701" || f.Metadata.Len() != 1 {
		t.Errorf("metadata = %v, want PARQUET:field_id=701 only", f.Metadata)
	}
	if f := ArrowField(col, ""); f.Name != "QUERY_DURATION_MS" {
		t.Errorf("ArrowField with no name: name %q, want the column ID", f.Name)
	}
}

func TestResolutionArrowSchema(t *testing.T) {
	res, err := builtin(t).Resolve([]string{"Timestamp", "Event Type", "Is Cached", "Foo"}, ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := res.ArrowSchema()
	want := []struct {
		name, fieldID string
		typ           arrow.DataType
	}{
		{"TIMESTAMP", "1", &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
		{"EVENT_TYPE", "4", arrow.BinaryTypes.String},
		{"IS_CACHED", "703", arrow.FixedWidthTypes.Boolean},
		{"FOO", "1827412600", arrow.BinaryTypes.String},
	}
	if s.NumFields() != len(want) {
		t.Fatalf("schema has %d fields, want %d", s.NumFields(), len(want))
	}
	for i, w := range want {
		f := s.Field(i)
		id, _ := f.Metadata.GetValue(FieldIDKey)
		if f.Name != w.name || id != w.fieldID || !arrow.TypeEqual(f.Type, w.typ) {
			t.Errorf("field %d = %s %v field_id %s, want %s %v field_id %s", i, f.Name, f.Type, id, w.name, w.typ, w.fieldID)
		}
	}
}
