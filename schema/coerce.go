package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Value is one coerced cell. Which field is set depends on the column's type:
// Str for string and json, Int for int and timestamp (microseconds since the
// Unix epoch, UTC), Float for float, Bool for bool. Null is set for an empty
// cell, and then nothing else is.
type Value struct {
	Null  bool
	Str   string
	Int   int64 // int, or timestamp as microseconds since the Unix epoch UTC
	Float float64
	Bool  bool
}

// Time returns a timestamp value as a time in UTC.
func (v Value) Time() time.Time { return time.UnixMicro(v.Int).UTC() }

// ValueError is the error Coerce and ParseTimestamp return for a value that is
// not valid for its type. The message names the value (truncated) and the type,
// not the column: the caller adds that.
type ValueError struct {
	Value  string
	Type   Type
	Reason string // may be empty, e.g. "month out of range"
}

func (e *ValueError) Error() string {
	s := quoteValue(e.Value) + " is not a valid " + string(e.Type)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// maxQuoted is how many bytes of a bad value an error message shows.
const maxQuoted = 64

// quoteValue quotes v for a message, cutting it at maxQuoted bytes (on a rune
// boundary) and saying how long it was.
func quoteValue(v string) string {
	if len(v) <= maxQuoted {
		return strconv.Quote(v)
	}
	n := maxQuoted
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return fmt.Sprintf("%s... (%d bytes)", strconv.Quote(v[:n]), len(v))
}

// Coerce turns the text of one cell into a Value of type t.
//
//   - "" is null for every type; for every type but string, so is a cell of
//     only whitespace. Surrounding whitespace is ignored for those types too.
//   - string: kept as is.
//   - int: base-10 int64 with an optional sign; "12.0", "1e3", "1,000" and
//     out-of-range values are rejected.
//   - float: strconv.ParseFloat; "NaN", "Inf" and "-Inf" (any case) are
//     accepted, since Snowflake and PostgreSQL write them; values beyond the
//     float64 range are rejected.
//   - bool: true/false, t/f, yes/no, 1/0, any case.
//   - json: must be valid JSON; kept as text (as given) in Str.
//   - timestamp: ParseTimestamp with naive as the zone of values without an
//     offset (nil means UTC); Int is microseconds since the Unix epoch,
//     sub-microsecond digits truncated.
//
// A bad value yields a *ValueError.
func Coerce(t Type, raw string, naive *time.Location) (Value, error) {
	if !t.Valid() {
		return Value{}, fmt.Errorf("type %q is not one of %s", t, typeList)
	}
	if raw == "" {
		return Value{Null: true}, nil
	}
	if t == String {
		return Value{Str: raw}, nil
	}
	s := strings.TrimSpace(raw)
	if s == "" {
		return Value{Null: true}, nil
	}
	switch t {
	case Int:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return Value{}, &ValueError{Value: raw, Type: t, Reason: numReason(err)}
		}
		return Value{Int: n}, nil
	case Float:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return Value{}, &ValueError{Value: raw, Type: t, Reason: numReason(err)}
		}
		return Value{Float: f}, nil
	case Bool:
		b, ok := parseBool(s)
		if !ok {
			return Value{}, &ValueError{Value: raw, Type: t, Reason: "want true/false, t/f, yes/no or 1/0"}
		}
		return Value{Bool: b}, nil
	case JSON:
		if !json.Valid([]byte(s)) {
			return Value{}, &ValueError{Value: raw, Type: t}
		}
		return Value{Str: raw}, nil
	case Timestamp:
		ts, err := ParseTimestamp(s, naive)
		if err != nil {
			var ve *ValueError
			if errors.As(err, &ve) {
				ve.Value = raw
			}
			return Value{}, err
		}
		return Value{Int: ts.UnixMicro()}, nil
	}
	panic("unreachable: type " + string(t))
}

// numReason keeps the useful part of a strconv error.
func numReason(err error) string {
	if errors.Is(err, strconv.ErrRange) {
		return "out of range"
	}
	return ""
}

// parseBool accepts true/false, t/f, yes/no, 1/0, any case.
func parseBool(s string) (v, ok bool) {
	switch {
	case s == "1" || strings.EqualFold(s, "true") || strings.EqualFold(s, "t") || strings.EqualFold(s, "yes"):
		return true, true
	case s == "0" || strings.EqualFold(s, "false") || strings.EqualFold(s, "f") || strings.EqualFold(s, "no"):
		return false, true
	}
	return false, false
}
