package source

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// Renderings of PostgreSQL values as record text. Most types arrive in PostgreSQL's own text format, which is
// already what a record holds (integers and numeric as decimal text, uuid canonical, text as is). The types
// whose text format is not, arrive in binary and are rendered here:
//
//	timestamptz  RFC 3339 in UTC with up to 6 fractional digits: 2026-11-25T13:45:12.123456Z
//	timestamp    no zone, for the schema package to place: 2026-11-25 13:45:12.123456
//	date         2026-11-25
//	bool         true, false
//	float4/8     shortest decimal text that reads back the same value, no exponent: 0.1, 100000000000000000000
//
// json and jsonb (and arrays, which the query turns into json) arrive as text and are compacted.
// Infinite timestamps and dates render as infinity and -infinity, NaN and infinite floats as NaN, Infinity
// and -Infinity: the schema package rejects them with a reason rather than have them dropped.

// renderFormats asks for binary results of the types rendered from binary; every other type comes as text.
var renderFormats = pgx.QueryResultFormatsByOID{
	oidBool:        pgx.BinaryFormatCode,
	oidFloat4:      pgx.BinaryFormatCode,
	oidFloat8:      pgx.BinaryFormatCode,
	oidDate:        pgx.BinaryFormatCode,
	oidTimestamp:   pgx.BinaryFormatCode,
	oidTimestamptz: pgx.BinaryFormatCode,
}

// renderFunc renders one non-NULL value.
type renderFunc func(m *pgtype.Map, raw []byte) (string, error)

// Layouts of the renderings.
const (
	naiveTimestampLayout = "2006-01-02 15:04:05.999999"
	dateLayout           = "2006-01-02"
)

func renderers(fields []pgconn.FieldDescription, want int) ([]renderFunc, error) {
	if len(fields) != want {
		return nil, fmt.Errorf("the cursor returns %d columns, the table has %d", len(fields), want)
	}
	out := make([]renderFunc, len(fields))
	for i, fd := range fields {
		out[i] = renderer(fd.DataTypeOID, fd.Format)
	}
	return out, nil
}

func renderer(oid uint32, format int16) renderFunc {
	if format == pgx.TextFormatCode {
		if oid == oidJSON || oid == oidJSONB {
			return renderJSON
		}
		return renderText
	}
	switch oid {
	case oidTimestamptz:
		return renderTimestamptz
	case oidTimestamp:
		return renderTimestamp
	case oidDate:
		return renderDate
	case oidBool:
		return renderBool
	case oidFloat4:
		return renderFloat4
	case oidFloat8:
		return renderFloat8
	}
	return func(*pgtype.Map, []byte) (string, error) {
		return "", fmt.Errorf("no binary rendering for type oid %d", oid)
	}
}

func renderText(_ *pgtype.Map, raw []byte) (string, error) { return string(raw), nil }

func renderJSON(_ *pgtype.Map, raw []byte) (string, error) {
	var b bytes.Buffer
	b.Grow(len(raw))
	if err := json.Compact(&b, raw); err != nil {
		return "", err
	}
	return b.String(), nil
}

func renderTimestamptz(m *pgtype.Map, raw []byte) (string, error) {
	var v pgtype.Timestamptz
	if err := m.Scan(oidTimestamptz, pgx.BinaryFormatCode, raw, &v); err != nil {
		return "", err
	}
	return renderTime(v.Time.UTC(), v.InfinityModifier, time.RFC3339Nano), nil
}

func renderTimestamp(m *pgtype.Map, raw []byte) (string, error) {
	var v pgtype.Timestamp
	if err := m.Scan(oidTimestamp, pgx.BinaryFormatCode, raw, &v); err != nil {
		return "", err
	}
	return renderTime(v.Time, v.InfinityModifier, naiveTimestampLayout), nil
}

func renderDate(m *pgtype.Map, raw []byte) (string, error) {
	var v pgtype.Date
	if err := m.Scan(oidDate, pgx.BinaryFormatCode, raw, &v); err != nil {
		return "", err
	}
	return renderTime(v.Time, v.InfinityModifier, dateLayout), nil
}

func renderTime(t time.Time, inf pgtype.InfinityModifier, layout string) string {
	switch inf {
	case pgtype.Infinity:
		return "infinity"
	case pgtype.NegativeInfinity:
		return "-infinity"
	}
	return t.Format(layout)
}

func renderBool(m *pgtype.Map, raw []byte) (string, error) {
	var v bool
	if err := m.Scan(oidBool, pgx.BinaryFormatCode, raw, &v); err != nil {
		return "", err
	}
	return strconv.FormatBool(v), nil
}

func renderFloat4(m *pgtype.Map, raw []byte) (string, error) {
	var v float32
	if err := m.Scan(oidFloat4, pgx.BinaryFormatCode, raw, &v); err != nil {
		return "", err
	}
	return formatFloat(float64(v), 32), nil
}

func renderFloat8(m *pgtype.Map, raw []byte) (string, error) {
	var v float64
	if err := m.Scan(oidFloat8, pgx.BinaryFormatCode, raw, &v); err != nil {
		return "", err
	}
	return formatFloat(v, 64), nil
}

func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'f', -1, bits)
}
