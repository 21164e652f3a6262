package postgres

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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
//
// A renderer appends to the reader's row buffer, which becomes one string per row: the binary formats are
// decoded here rather than through pgtype, and times are formatted by hand, so that rendering a value
// allocates nothing.

// renderFormats asks for binary results of the types rendered from binary; every other type comes as text.
var renderFormats = pgx.QueryResultFormatsByOID{
	oidBool:        pgx.BinaryFormatCode,
	oidFloat4:      pgx.BinaryFormatCode,
	oidFloat8:      pgx.BinaryFormatCode,
	oidDate:        pgx.BinaryFormatCode,
	oidTimestamp:   pgx.BinaryFormatCode,
	oidTimestamptz: pgx.BinaryFormatCode,
}

// renderFunc appends the rendering of one non-NULL value to dst. On error dst may hold part of a rendering:
// the caller truncates it.
type renderFunc func(dst, raw []byte) ([]byte, error)

// Layouts of the renderings, for the times outside years 0-9999 that are left to package time.
const (
	utcTimestampLayout   = time.RFC3339Nano
	naiveTimestampLayout = "2006-01-02 15:04:05.999999"
	dateLayout           = "2006-01-02"
)

// PostgreSQL's binary times count from 2000-01-01 UTC; its infinities are the extremes of the integer. Its
// range (src/include/datatype/timestamp.h) starts at 4714-11-24 BC and ends before 294277 AD for timestamps,
// before 5874898 AD for dates: what lies outside is not a value PostgreSQL sends, and is an error, as in pgtype.
const (
	pgEpochUnixSeconds = 946684800 // 2000-01-01 in seconds since the Unix epoch
	pgEpochUnixDays    = 10957     // 2000-01-01 in days since the Unix epoch
	secondsPerDay      = 86400

	pgMinTimestamp = -211813488000000000 // microseconds since 2000-01-01, inclusive
	pgEndTimestamp = 9223371331200000000 // exclusive
	pgMinDate      = -2451545            // days since 2000-01-01, inclusive
	pgEndDate      = 2145031949          // exclusive
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
	return func(dst, _ []byte) ([]byte, error) {
		return dst, fmt.Errorf("no binary rendering for type oid %d", oid)
	}
}

func renderText(dst, raw []byte) ([]byte, error) { return append(dst, raw...), nil }

func renderJSON(dst, raw []byte) ([]byte, error) {
	b := bytes.NewBuffer(dst)
	if err := json.Compact(b, raw); err != nil {
		return dst, err
	}
	return b.Bytes(), nil
}

func renderTimestamptz(dst, raw []byte) ([]byte, error) {
	return renderPGTimestamp(dst, raw, "timestamptz", 'T', "Z", utcTimestampLayout)
}

func renderTimestamp(dst, raw []byte) ([]byte, error) {
	return renderPGTimestamp(dst, raw, "timestamp", ' ', "", naiveTimestampLayout)
}

func renderPGTimestamp(dst, raw []byte, typ string, sep byte, zone, layout string) ([]byte, error) {
	if len(raw) != 8 {
		return dst, fmt.Errorf("invalid length for %s: %d", typ, len(raw))
	}
	switch us := int64(binary.BigEndian.Uint64(raw)); {
	case us == math.MaxInt64:
		return append(dst, "infinity"...), nil
	case us == math.MinInt64:
		return append(dst, "-infinity"...), nil
	case us < pgMinTimestamp || us >= pgEndTimestamp:
		return dst, fmt.Errorf("%s %d microseconds from 2000-01-01 is out of range", typ, us)
	default:
		return appendPGTimestamp(dst, us, sep, zone, layout), nil
	}
}

func renderDate(dst, raw []byte) ([]byte, error) {
	if len(raw) != 4 {
		return dst, fmt.Errorf("invalid length for date: %d", len(raw))
	}
	switch d := int32(binary.BigEndian.Uint32(raw)); {
	case d == math.MaxInt32:
		return append(dst, "infinity"...), nil
	case d == math.MinInt32:
		return append(dst, "-infinity"...), nil
	case d < pgMinDate || d >= pgEndDate:
		return dst, fmt.Errorf("date %d days from 2000-01-01 is out of range", d)
	default:
		days := int64(d) + pgEpochUnixDays
		y, m, dd := civilDate(days)
		if y < 0 || y > 9999 {
			return time.Unix(days*secondsPerDay, 0).UTC().AppendFormat(dst, dateLayout), nil
		}
		return appendDate(dst, int(y), m, dd), nil
	}
}

// appendPGTimestamp renders microseconds since 2000-01-01, in PostgreSQL's range, as a date, sep, a time of
// day with up to 6 fractional digits (trailing zeros cut) and zone: the same text as time.Format with layout,
// which renders the years outside 0-9999.
func appendPGTimestamp(dst []byte, us int64, sep byte, zone, layout string) []byte {
	sec, frac := us/1e6, us%1e6
	if frac < 0 {
		sec, frac = sec-1, frac+1e6
	}
	sec += pgEpochUnixSeconds
	days, sod := sec/secondsPerDay, sec%secondsPerDay
	if sod < 0 {
		days, sod = days-1, sod+secondsPerDay
	}
	y, m, d := civilDate(days)
	if y < 0 || y > 9999 {
		return time.Unix(sec, frac*1000).UTC().AppendFormat(dst, layout)
	}
	// YYYY-MM-DD?hh:mm:ss.ffffff
	var b [26]byte
	put4(b[0:4], int(y))
	b[4] = '-'
	put2(b[5:7], m)
	b[7] = '-'
	put2(b[8:10], d)
	b[10] = sep
	put2(b[11:13], int(sod/3600))
	b[13] = ':'
	put2(b[14:16], int(sod/60%60))
	b[16] = ':'
	put2(b[17:19], int(sod%60))
	n := 19
	if frac != 0 {
		b[19] = '.'
		f := int(frac)
		put2(b[24:26], f%100)
		put2(b[22:24], f/100%100)
		put2(b[20:22], f/10000)
		n = 26
		for b[n-1] == '0' {
			n--
		}
	}
	dst = append(dst, b[:n]...)
	return append(dst, zone...)
}

// civilDate converts days since 1970-01-01 to a proleptic Gregorian year, month and day (the inverse of Howard
// Hinnant's days_from_civil), for any year.
func civilDate(days int64) (year int64, month, day int) {
	z := days + 719468 // days since 0000-03-01
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := uint64(z - era*146097)                          // [0, 146096]; unsigned divisions are cheaper
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365], from March 1
	mp := (5*doy + 2) / 153                                // [0, 11], from March
	day = int(doy - (153*mp+2)/5 + 1)
	month = int(mp + 3)
	if month > 12 {
		month -= 12
	}
	year = int64(yoe) + era*400
	if month <= 2 {
		year++
	}
	return year, month, day
}

// appendDate appends YYYY-MM-DD for a year in 0-9999.
func appendDate(dst []byte, y, m, d int) []byte {
	var b [10]byte
	put4(b[0:4], y)
	b[4] = '-'
	put2(b[5:7], m)
	b[7] = '-'
	put2(b[8:10], d)
	return append(dst, b[:]...)
}

// put2 writes v in [0, 99] as two digits; put4 v in [0, 9999] as four.
func put2(b []byte, v int) {
	b[1] = byte('0' + v%10)
	b[0] = byte('0' + v/10)
}

func put4(b []byte, v int) {
	put2(b[2:4], v%100)
	put2(b[0:2], v/100)
}

func renderBool(dst, raw []byte) ([]byte, error) {
	if len(raw) != 1 {
		return dst, fmt.Errorf("invalid length for bool: %d", len(raw))
	}
	return strconv.AppendBool(dst, raw[0] == 1), nil
}

func renderFloat4(dst, raw []byte) ([]byte, error) {
	if len(raw) != 4 {
		return dst, fmt.Errorf("invalid length for float4: %d", len(raw))
	}
	return appendFloat(dst, float64(math.Float32frombits(binary.BigEndian.Uint32(raw))), 32), nil
}

func renderFloat8(dst, raw []byte) ([]byte, error) {
	if len(raw) != 8 {
		return dst, fmt.Errorf("invalid length for float8: %d", len(raw))
	}
	return appendFloat(dst, math.Float64frombits(binary.BigEndian.Uint64(raw)), 64), nil
}

func appendFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	return strconv.AppendFloat(dst, f, 'f', -1, bits)
}
