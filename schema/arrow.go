package schema

import (
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
)

// FieldIDKey is the Arrow field metadata key that pqarrow reads and writes as
// the Parquet field_id.
const FieldIDKey = "PARQUET:field_id"

// ArrowType returns the Arrow type of a column type: string and json are
// UTF-8 strings, timestamp is microseconds in UTC (Parquet
// TIMESTAMP(MICROS, isAdjustedToUTC=true)), int is int64, float is float64,
// bool is boolean. It panics on a type that is not Valid, which cannot come out
// of a Catalog.
func ArrowType(t Type) arrow.DataType {
	switch t {
	case String, JSON:
		return arrow.BinaryTypes.String
	case Timestamp:
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	case Int:
		return arrow.PrimitiveTypes.Int64
	case Float:
		return arrow.PrimitiveTypes.Float64
	case Bool:
		return arrow.FixedWidthTypes.Boolean
	}
	panic("schema: ArrowType of invalid type " + strconv.Quote(string(t)))
}

// ArrowField returns the nullable Arrow field for col, named name (col.ID if
// name is empty), with col.FieldID under FieldIDKey in its metadata.
func ArrowField(col Column, name string) arrow.Field {
	if name == "" {
		name = col.ID
	}
	return arrow.Field{
		Name:     name,
		Type:     ArrowType(col.Type),
		Nullable: true,
		Metadata: arrow.NewMetadata([]string{FieldIDKey}, []string{strconv.FormatInt(int64(col.FieldID), 10)}),
	}
}

// ArrowSchema returns the Arrow schema of a resolved header line: one field per
// column, in header order, named by column ID.
func (r *Resolution) ArrowSchema() *arrow.Schema {
	fields := make([]arrow.Field, len(r.Columns))
	for i, rc := range r.Columns {
		fields[i] = ArrowField(rc.Column, rc.Column.ID)
	}
	return arrow.NewSchema(fields, nil)
}
