package schema

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestCoerce(t *testing.T) {
	tests := []struct {
		typ  Type
		raw  string
		want Value
	}{
		// "" is null for every type.
		{String, "", Value{Null: true}},
		{Int, "", Value{Null: true}},
		{Float, "", Value{Null: true}},
		{Bool, "", Value{Null: true}},
		{JSON, "", Value{Null: true}},
		{Timestamp, "", Value{Null: true}},
		// Whitespace only is null for every type but string.
		{Int, "  ", Value{Null: true}},
		{Timestamp, "\t", Value{Null: true}},
		{String, "  ", Value{Str: "  "}},

		{String, " as is, \"quoted\" ", Value{Str: " as is, \"quoted\" "}},
		{Int, "42", Value{Int: 42}},
		{Int, " -7 ", Value{Int: -7}},
		{Int, "+7", Value{Int: 7}},
		{Int, "0", Value{}},
		{Int, "9223372036854775807", Value{Int: math.MaxInt64}},
		{Int, "-9223372036854775808", Value{Int: math.MinInt64}},
		{Float, "1.5", Value{Float: 1.5}},
		{Float, " -2e3 ", Value{Float: -2000}},
		{Float, "12", Value{Float: 12}},
		{Float, "Inf", Value{Float: math.Inf(1)}},
		{Float, "-inf", Value{Float: math.Inf(-1)}},
		{Bool, "true", Value{Bool: true}},
		{Bool, "TRUE", Value{Bool: true}},
		{Bool, "t", Value{Bool: true}},
		{Bool, "Yes", Value{Bool: true}},
		{Bool, "1", Value{Bool: true}},
		{Bool, "false", Value{}},
		{Bool, "F", Value{}},
		{Bool, "no", Value{}},
		{Bool, " 0 ", Value{}},
		{JSON, `["a@example.com","b@example.com"]`, Value{Str: `["a@example.com","b@example.com"]`}},
		{JSON, ` {"k": 1} `, Value{Str: ` {"k": 1} `}},
		{JSON, `null`, Value{Str: `null`}},
		{JSON, `3`, Value{Str: `3`}},
		{Timestamp, "2026-11-25 13:45:12.123456789", Value{Int: 1795614312123456}},
		{Timestamp, " 2026-11-25T13:45:12Z ", Value{Int: 1795614312000000}},
		{Timestamp, "2026-11-25 05:45:12.5 -0800", Value{Int: 1795614312500000}},
		{Timestamp, "1969-12-31 23:59:59.9999999", Value{Int: -1}}, // truncated toward the past
	}
	for _, tt := range tests {
		got, err := Coerce(tt.typ, tt.raw, nil)
		if err != nil {
			t.Errorf("Coerce(%s, %q): %v", tt.typ, tt.raw, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Coerce(%s, %q) = %+v, want %+v", tt.typ, tt.raw, got, tt.want)
		}
	}
}

func TestCoerceNaN(t *testing.T) {
	got, err := Coerce(Float, "NaN", nil)
	if err != nil || !math.IsNaN(got.Float) {
		t.Errorf("Coerce(float, NaN) = %+v, %v; want NaN", got, err)
	}
}

func TestCoerceNaiveZone(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	got, err := Coerce(Timestamp, "2026-11-25 08:45:12", ny)
	if want := time.Date(2026, 11, 25, 13, 45, 12, 0, time.UTC); err != nil || !got.Time().Equal(want) {
		t.Errorf("Coerce in New York = %v, %v; want %v", got.Time(), err, want)
	}
	// An explicit offset wins over the naive zone.
	got, err = Coerce(Timestamp, "2026-11-25 13:45:12Z", ny)
	if want := time.Date(2026, 11, 25, 13, 45, 12, 0, time.UTC); err != nil || !got.Time().Equal(want) {
		t.Errorf("Coerce with Z in New York = %v, %v; want %v", got.Time(), err, want)
	}
}

func TestCoerceErrors(t *testing.T) {
	long := strings.Repeat("x", 100)
	tests := []struct {
		typ  Type
		raw  string
		want string
	}{
		{Int, "12:30", `"12:30" is not a valid int`},
		{Int, "12.0", `"12.0" is not a valid int`},
		{Int, "1e3", `"1e3" is not a valid int`},
		{Int, "1,000", `"1,000" is not a valid int`},
		{Int, "0x10", `"0x10" is not a valid int`},
		{Int, "9223372036854775808", `"9223372036854775808" is not a valid int: out of range`},
		{Float, "abc", `"abc" is not a valid float`},
		{Float, "1e400", `"1e400" is not a valid float: out of range`},
		{Float, "1,5", `"1,5" is not a valid float`},
		{Bool, "maybe", `"maybe" is not a valid bool: want true/false, t/f, yes/no or 1/0`},
		{Bool, "2", `"2" is not a valid bool: want true/false, t/f, yes/no or 1/0`},
		{JSON, `{"a":`, `"{\"a\":" is not a valid json`},
		{JSON, `[1,]`, `"[1,]" is not a valid json`},
		{Timestamp, "2026-13-01 00:00:00", `"2026-13-01 00:00:00" is not a valid timestamp: month out of range`},
		{Timestamp, " 2026-11-25 ", `" 2026-11-25 " is not a valid timestamp: a date without a time of day`},
		{Int, long, `"` + strings.Repeat("x", 64) + `"... (100 bytes) is not a valid int`},
		{Int, strings.Repeat("é", 40), `"` + strings.Repeat("é", 32) + `"... (80 bytes) is not a valid int`},
	}
	for _, tt := range tests {
		_, err := Coerce(tt.typ, tt.raw, nil)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Coerce(%s, %q) error:\ngot  %v\nwant %s", tt.typ, tt.raw, err, tt.want)
			continue
		}
		var ve *ValueError
		if !errors.As(err, &ve) || ve.Value != tt.raw || ve.Type != tt.typ {
			t.Errorf("Coerce(%s, %q) error is not a *ValueError for it: %#v", tt.typ, tt.raw, err)
		}
	}
}

func TestCoerceInvalidType(t *testing.T) {
	for _, typ := range []Type{"", "integer"} {
		if _, err := Coerce(typ, "1", nil); err == nil || !strings.Contains(err.Error(), "is not one of") {
			t.Errorf("Coerce(%q) error = %v", typ, err)
		}
	}
}

func TestTypeValid(t *testing.T) {
	for _, typ := range []Type{String, Timestamp, Int, Float, Bool, JSON} {
		if !typ.Valid() {
			t.Errorf("%s.Valid() = false", typ)
		}
	}
	for _, typ := range []Type{"", "STRING", "integer", "varchar"} {
		if typ.Valid() {
			t.Errorf("%q.Valid() = true", typ)
		}
	}
}

func BenchmarkCoerceTimestamp(b *testing.B) {
	for b.Loop() {
		if _, err := Coerce(Timestamp, "2026-11-25 13:45:12.123 -0800", nil); err != nil {
			b.Fatal(err)
		}
	}
}
