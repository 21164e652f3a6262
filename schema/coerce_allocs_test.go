package schema

import (
	"testing"
	"time"
)

// Coerce runs once per cell of every row read, so a valid value of any type
// must not allocate: the string and json cases keep the raw text, the others
// parse in place. These bounds are regression guards, not timings: a new
// allocation here costs one malloc per cell (about 30 per row of a Sigma
// export), and the test names the type and value that started allocating.
func TestCoerceAllocs(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		typ   Type
		raw   string
		naive *time.Location
	}{
		{String, "a@example.com", nil},
		{String, "  padded, \"quoted\"  ", nil},
		{Int, "42", nil},
		{Int, " -7 ", nil},
		{Float, "1.5", nil},
		{Float, "-2e3", nil},
		{Float, "NaN", nil},
		{Bool, "true", nil},
		{Bool, "Yes", nil},
		{JSON, `{"k": [1, 2], "s": "x"}`, nil},
		{JSON, `["a@example.com","b@example.com"]`, nil},
		{Timestamp, "2026-11-25 13:45:12.123", nil},
		{Timestamp, "2026-11-25T13:45:12.123456789Z", nil},
		{Timestamp, "2026-11-25 13:45:12.123 -0800", nil},
		{Timestamp, "2026-11-25 13:45:12.123", ny}, // naive, read in a DST zone
		// Empty cells are null for every type.
		{String, "", nil},
		{Timestamp, "", nil},
		{Int, "   ", nil},
	}
	for _, c := range cases {
		if _, err := Coerce(c.typ, c.raw, c.naive); err != nil {
			t.Fatalf("Coerce(%s, %q): %v", c.typ, c.raw, err)
		}
		got := testing.AllocsPerRun(1000, func() {
			_, _ = Coerce(c.typ, c.raw, c.naive)
		})
		if got != 0 {
			t.Errorf("Coerce(%s, %q, zone %v) allocates %v times per call, want 0: the per-cell coerce path regressed", c.typ, c.raw, c.naive, got)
		}
	}
}
