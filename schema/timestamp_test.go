package schema

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

func TestParseTimestamp(t *testing.T) {
	base := time.Date(2026, 11, 25, 13, 45, 12, 0, time.UTC)
	at := func(nsec int, offset time.Duration) time.Time { return base.Add(time.Duration(nsec) - offset) }
	const h = time.Hour
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-11-25 13:45:12", at(0, 0)},
		{"2026-11-25T13:45:12", at(0, 0)},
		{"2026-11-25 13:45:12.1", at(100_000_000, 0)},
		{"2026-11-25 13:45:12.12", at(120_000_000, 0)},
		{"2026-11-25 13:45:12.123", at(123_000_000, 0)},
		{"2026-11-25 13:45:12.1234", at(123_400_000, 0)},
		{"2026-11-25 13:45:12.12345", at(123_450_000, 0)},
		{"2026-11-25 13:45:12.123456", at(123_456_000, 0)},
		{"2026-11-25 13:45:12.1234567", at(123_456_700, 0)},
		{"2026-11-25 13:45:12.12345678", at(123_456_780, 0)},
		{"2026-11-25 13:45:12.123456789", at(123_456_789, 0)},
		{"2026-11-25 13:45:12.000000000", at(0, 0)},
		{"2026-11-25 13:45:12Z", at(0, 0)},
		{"2026-11-25T13:45:12Z", at(0, 0)},
		{"2026-11-25 13:45:12 Z", at(0, 0)},
		{"2026-11-25 13:45:12.5Z", at(500_000_000, 0)},
		{"2026-11-25 13:45:12 UTC", at(0, 0)},
		{"2026-11-25 13:45:12.123 UTC", at(123_000_000, 0)},
		{"2026-11-25 13:45:12+0000", at(0, 0)},
		{"2026-11-25 13:45:12-0000", at(0, 0)},
		{"2026-11-25 13:45:12 -0800", at(0, -8*h)},
		{"2026-11-25 13:45:12.123 -0800", at(123_000_000, -8*h)},
		{"2026-11-25 13:45:12-08:00", at(0, -8*h)},
		{"2026-11-25 13:45:12 -08:00", at(0, -8*h)},
		{"2026-11-25T13:45:12+05:30", at(0, 5*h+30*time.Minute)},
		{"2026-11-25 13:45:12+0530", at(0, 5*h+30*time.Minute)},
		{"2026-11-25 13:45:12+00", at(0, 0)},
		{"2026-11-25 13:45:12.25-03", at(250_000_000, -3*h)},
		{"2026-11-25 13:45:12 +14:00", at(0, 14*h)},
		{"2026-11-25T13:45:12.987654321-09:30", at(987_654_321, -9*h-30*time.Minute)},
		{"2026-11-25 00:00:00+18:00", time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)},
		// Calendar edges.
		{"2024-02-29 00:00:00", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"2000-02-29 23:59:59", time.Date(2000, 2, 29, 23, 59, 59, 0, time.UTC)},
		{"1970-01-01 00:00:00", time.Unix(0, 0).UTC()},
		{"1969-12-31 23:59:59.999999999", time.Unix(-1, 999_999_999).UTC()},
		{"0001-01-01 00:00:00", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"0001-01-01 00:30:00+00:30", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"9999-12-31 23:00:00-00:59", time.Date(9999, 12, 31, 23, 59, 0, 0, time.UTC)},
		{"9999-12-31 23:59:59.999999999+00:00", time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC)},
	}
	for _, tt := range tests {
		got, err := ParseTimestamp(tt.in, nil)
		if err != nil {
			t.Errorf("ParseTimestamp(%q): %v", tt.in, err)
			continue
		}
		if !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("ParseTimestamp(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseTimestampRFC3339Nano(t *testing.T) {
	want := time.Date(2026, 11, 25, 13, 45, 12, 120_000_000, time.FixedZone("", -7*3600))
	for _, layout := range []string{time.RFC3339, time.RFC3339Nano} {
		s := want.Format(layout)
		got, err := ParseTimestamp(s, nil)
		if err != nil || !got.Equal(want.Truncate(layoutPrecision(layout))) {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
}

func layoutPrecision(layout string) time.Duration {
	if layout == time.RFC3339 {
		return time.Second
	}
	return time.Nanosecond
}

func TestParseTimestampRejects(t *testing.T) {
	tests := []struct{ in, reason string }{
		{"", tsShape},
		{"2026-11-25", "a date without a time of day"},
		{"2026-11-25 13:45", tsShape},
		{"2026-11-25 13:45:1", tsShape},
		{"garbage", tsShape},
		{"garbage that is long enough", tsShape},
		{"2026/11/25 13:45:12", tsShape},
		{"25-11-2026 13:45:12", tsShape},
		{"2026-11-25_13:45:12", tsShape},
		{"2026-11-25t13:45:12", tsShape},
		{"2026-11-25  13:45:12", tsShape},
		{"2026-1-25 13:45:12Z", tsShape},
		{"+2026-11-25 13:45:12", tsShape},
		{"2026-11-25 13.45.12", tsShape},
		{"2026-13-01 00:00:00", "month out of range"},
		{"2026-00-01 00:00:00", "month out of range"},
		{"2026-11-00 00:00:00", "day out of range"},
		{"2026-11-31 00:00:00", "day out of range"},
		{"2026-02-29 00:00:00", "day out of range"},
		{"1900-02-29 00:00:00", "day out of range"},
		{"2026-11-25 24:00:00", "hour out of range"},
		{"2026-11-25 13:60:00", "minute out of range"},
		{"2026-11-25 13:45:60", "second out of range"},
		{"2026-11-25 13:45:12.", "no digits after the decimal point"},
		{"2026-11-25 13:45:12.Z", "no digits after the decimal point"},
		{"2026-11-25 13:45:12,123", `unknown zone ",123"; want Z, UTC or an offset like -08:00`},
		{"2026-11-25 13:45:12.1234567890", "more than 9 fractional digits"},
		{"2026-11-25 13:45:12 ", "trailing space"},
		{"2026-11-25 13:45:12  Z", `unknown zone " Z"; want Z, UTC or an offset like -08:00`},
		{"2026-11-25 13:45:12 PST", `unknown zone "PST"; want Z, UTC or an offset like -08:00`},
		{"2026-11-25 13:45:12 America/New_York", `unknown zone "America/New_York"; want Z, UTC or an offset like -08:00`},
		{"2026-11-25 13:45:12z", `unknown zone "z"; want Z, UTC or an offset like -08:00`},
		{"2026-11-25 13:45:12 utc", `unknown zone "utc"; want Z, UTC or an offset like -08:00`},
		{"2026-11-25 13:45:12ZZ", `unknown zone "ZZ"; want Z, UTC or an offset like -08:00`},
		{"2026-11-25 13:45:12+8", `unknown zone "+8"; want Z, UTC or an offset like -08:00`},
		{"2026-11-25 13:45:12+080", "want a zone offset like +05:30, -0800 or +00"},
		{"2026-11-25 13:45:12+08:0", "want a zone offset like +05:30, -0800 or +00"},
		{"2026-11-25 13:45:12+08-00", "want a zone offset like +05:30, -0800 or +00"},
		{"2026-11-25 13:45:12+08:00:00", "want a zone offset like +05:30, -0800 or +00"},
		{"2026-11-25 13:45:12+0a", "want a zone offset like +05:30, -0800 or +00"},
		{"2026-11-25 13:45:12+19", "zone offset out of range"},
		{"2026-11-25 13:45:12+18:01", "zone offset out of range"},
		{"2026-11-25 13:45:12+05:60", "zone offset out of range"},
		// Years that JSON, RFC 3339 and most readers cannot represent once in UTC.
		{"0000-03-01 00:00:00", "outside years 0001 to 9999 once in UTC"},
		{"0001-01-01 00:00:00+01:00", "outside years 0001 to 9999 once in UTC"},
		{"9999-12-31 23:59:59 -0100", "outside years 0001 to 9999 once in UTC"},
		{"9999-12-31 23:00:00-01", "outside years 0001 to 9999 once in UTC"},
		{"2026-11-25 13:45:12Z trailing", `unknown zone "Z trailing"; want Z, UTC or an offset like -08:00`},
	}
	for _, tt := range tests {
		got, err := ParseTimestamp(tt.in, nil)
		if err == nil {
			t.Errorf("ParseTimestamp(%q) = %v, want an error", tt.in, got)
			continue
		}
		var ve *ValueError
		if !errors.As(err, &ve) || ve.Reason != tt.reason || ve.Value != tt.in || ve.Type != Timestamp {
			t.Errorf("ParseTimestamp(%q) error = %v, want reason %q", tt.in, err, tt.reason)
		}
	}
}

func TestParseTimestampNaive(t *testing.T) {
	want := time.Date(2026, 11, 25, 13, 45, 12, 0, time.UTC)
	for _, loc := range []*time.Location{nil, time.UTC} {
		if got, err := ParseTimestamp("2026-11-25 13:45:12", loc); err != nil || !got.Equal(want) {
			t.Errorf("ParseTimestamp in %v = %v, %v; want %v", loc, got, err, want)
		}
	}
	fixed := time.FixedZone("UTC-8", -8*3600)
	if got, err := ParseTimestamp("2026-11-25 05:45:12", fixed); err != nil || !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("ParseTimestamp in UTC-8 = %v, %v; want %v in UTC", got, err, want)
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	tests := []struct{ in, want string }{
		{"2026-07-01 12:00:00", "2026-07-01T10:00:00Z"}, // summer: UTC+2
		{"2026-11-25 12:00:00", "2026-11-25T11:00:00Z"}, // winter: UTC+1
		{"2026-07-01 12:00:00Z", "2026-07-01T12:00:00Z"},
	}
	for _, tt := range tests {
		got, err := ParseTimestamp(tt.in, berlin)
		if err != nil || got.Format(time.RFC3339Nano) != tt.want {
			t.Errorf("ParseTimestamp(%q) in Berlin = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

// The hand-written date arithmetic agrees with the standard library over the
// whole range of four-digit years.
func TestParseTimestampMatchesStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	lo := time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	zones := []*time.Location{time.UTC, time.FixedZone("", -8*3600), time.FixedZone("", 5*3600+1800), time.FixedZone("", 14*3600)}
	layouts := []string{
		"2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04:05.000Z07:00",
		"2006-01-02 15:04:05 -0700",
		"2006-01-02 15:04:05.000000-07",
	}
	for range 20000 {
		want := time.Unix(lo+r.Int64N(hi-lo), r.Int64N(1e9)).In(zones[r.IntN(len(zones))])
		for _, layout := range layouts {
			s := want.Format(layout)
			ref, err := time.Parse(layout, s)
			if err != nil {
				t.Fatalf("time.Parse(%q): %v", s, err)
			}
			got, err := ParseTimestamp(s, nil)
			if err != nil || !got.Equal(ref) {
				t.Fatalf("ParseTimestamp(%q) = %v, %v; time.Parse gives %v", s, got, err, ref)
			}
		}
	}
}

func TestParseTimestampAllocs(t *testing.T) {
	for _, s := range []string{"2026-11-25 13:45:12.123", "2026-11-25 13:45:12.123 -0800", "2026-11-25T13:45:12Z"} {
		if n := testing.AllocsPerRun(100, func() {
			if _, err := ParseTimestamp(s, nil); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("ParseTimestamp(%q) allocates %v times, want 0", s, n)
		}
	}
}

// FuzzParseTimestamp: no input panics, and an accepted value survives a round
// trip through RFC 3339 (checked against the standard library).
func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{
		"2026-11-25 13:45:12", "2026-11-25T13:45:12.123456789Z", "2026-11-25 13:45:12.123 -0800",
		"2026-11-25 13:45:12+05:30", "2026-11-25 13:45:12+00", "2026-11-25 13:45:12 UTC",
		"2024-02-29 23:59:59.9 -08:00", "0000-01-01 00:00:00+18:00", "2026-13-01 00:00:00", "2026-11-25", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTimestamp(s, nil)
		if err != nil {
			var ve *ValueError
			if !errors.As(err, &ve) || ve.Reason == "" {
				t.Fatalf("ParseTimestamp(%q) error %v is not a *ValueError with a reason", s, err)
			}
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("ParseTimestamp(%q) = %v, not in UTC", s, got)
		}
		if got.Year() < 1 {
			return // year 0 or -1 (after an offset): RFC 3339 cannot write it
		}
		formatted := got.Format(time.RFC3339Nano)
		again, err := ParseTimestamp(formatted, nil)
		if err != nil || !again.Equal(got) {
			t.Fatalf("ParseTimestamp(%q) = %v; formatted %q parses to %v, %v", s, got, formatted, again, err)
		}
		if ref, err := time.Parse(time.RFC3339Nano, formatted); err != nil || !ref.Equal(got) {
			t.Fatalf("ParseTimestamp(%q) = %v; time.Parse(%q) = %v, %v", s, got, formatted, ref, err)
		}
	})
}

func BenchmarkParseTimestamp(b *testing.B) {
	for _, s := range []string{"2026-11-25 13:45:12.123", "2026-11-25 13:45:12.123 -0800", "2026-11-25T13:45:12.123456789Z"} {
		b.Run(s, func(b *testing.B) {
			for b.Loop() {
				if _, err := ParseTimestamp(s, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
