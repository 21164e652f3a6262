package schema

import (
	"fmt"
	"time"
)

// tsShape is the reason given for text that is not a timestamp at all.
const tsShape = "want YYYY-MM-DD HH:MM:SS[.fraction][zone]"

// maxOffset is the largest zone offset accepted, in minutes (±18:00, as in
// ISO 8601 and java.time; real offsets lie within -12:00..+14:00).
const maxOffset = 18 * 60

// ParseTimestamp parses the timestamp text that Snowflake CSV unloads, Sigma,
// and PostgreSQL produce:
//
//	YYYY-MM-DD HH:MM:SS[.fraction][zone]
//
// with "T" or a space between date and time, 0 to 9 fractional digits after a
// ".", and as zone nothing (the time is then read in naive; nil means UTC), "Z",
// "UTC", or an offset ±HH, ±HHMM or ±HH:MM, each optionally after one space.
// This covers RFC 3339 (with nanoseconds) and, for example,
//
//	2026-11-25 13:45:12            2026-11-25T13:45:12.123456789Z
//	2026-11-25 13:45:12.123 -0800  2026-11-25 13:45:12+05:30
//	2026-11-25 13:45:12+00         2026-11-25 13:45:12 UTC
//
// Anything else is rejected with a *ValueError: a date without a time, other
// separators, zone names, out-of-range fields (February 30, hour 24, second 60).
// The result is in UTC. For a naive value in a zone with daylight saving time,
// a wall time that does not exist or occurs twice resolves as time.Date does.
// The common path does not allocate.
func ParseTimestamp(s string, naive *time.Location) (time.Time, error) {
	bad := func(reason string) (time.Time, error) {
		return time.Time{}, &ValueError{Value: s, Type: Timestamp, Reason: reason}
	}
	if len(s) < 19 {
		if len(s) == 10 && isDate(s) {
			return bad("a date without a time of day")
		}
		return bad(tsShape)
	}
	year, ok1 := digits(s, 0, 4)
	month, ok2 := digits(s, 5, 2)
	day, ok3 := digits(s, 8, 2)
	hour, ok4 := digits(s, 11, 2)
	minute, ok5 := digits(s, 14, 2)
	sec, ok6 := digits(s, 17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':' {
		return bad(tsShape)
	}

	i := 19
	nsec := 0
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		n := j - i - 1
		switch {
		case n == 0:
			return bad("no digits after the decimal point")
		case n > 9:
			return bad("more than 9 fractional digits")
		}
		nsec, _ = digits(s, i+1, n)
		for ; n < 9; n++ {
			nsec *= 10
		}
		i = j
	}

	offset := 0 // minutes east of UTC
	zoned := i < len(s)
	if zoned {
		z := s[i:]
		if z[0] == ' ' {
			z = z[1:]
		}
		switch {
		case z == "":
			return bad("trailing space")
		case z == "Z" || z == "UTC":
		case len(z) >= 3 && (z[0] == '+' || z[0] == '-'):
			oh, okh := digits(z, 1, 2)
			om, okm := 0, true
			switch {
			case len(z) == 3:
			case len(z) == 5:
				om, okm = digits(z, 3, 2)
			case len(z) == 6 && z[3] == ':':
				om, okm = digits(z, 4, 2)
			default:
				okm = false
			}
			if !okh || !okm {
				return bad("want a zone offset like +05:30, -0800 or +00")
			}
			if om > 59 || oh*60+om > maxOffset {
				return bad("zone offset out of range")
			}
			offset = oh*60 + om
			if z[0] == '-' {
				offset = -offset
			}
		default:
			return bad(fmt.Sprintf("unknown zone %q; want Z, UTC or an offset like -08:00", z))
		}
	}

	switch {
	case month < 1 || month > 12:
		return bad("month out of range")
	case day < 1 || day > daysIn(month, year):
		return bad("day out of range")
	case hour > 23:
		return bad("hour out of range")
	case minute > 59:
		return bad("minute out of range")
	case sec > 59:
		return bad("second out of range")
	}

	var unix int64
	if !zoned && naive != nil && naive != time.UTC {
		unix = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, naive).Unix()
	} else {
		unix = daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+minute*60+sec) - int64(offset*60)
	}
	if unix < minUnix || unix > maxUnix {
		return bad("outside years 0001 to 9999 once in UTC")
	}
	return time.Unix(unix, int64(nsec)).UTC(), nil
}

// minUnix and maxUnix bound the seconds of a timestamp to the years 0001 to
// 9999 in UTC, the range every reader and RFC 3339 can represent: a value
// such as "9999-12-31 23:00:00 -0100" is year 10000 once in UTC.
var (
	minUnix = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxUnix = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
)

// digits parses s[i:i+n] as n decimal digits.
func digits(s string, i, n int) (int, bool) {
	if i+n > len(s) {
		return 0, false
	}
	v := 0
	for _, b := range []byte(s[i : i+n]) {
		if b < '0' || b > '9' {
			return 0, false
		}
		v = v*10 + int(b-'0')
	}
	return v, true
}

// isDate reports whether s has the shape YYYY-MM-DD.
func isDate(s string) bool {
	_, ok1 := digits(s, 0, 4)
	_, ok2 := digits(s, 5, 2)
	_, ok3 := digits(s, 8, 2)
	return ok1 && ok2 && ok3 && s[4] == '-' && s[7] == '-'
}

// daysIn returns the number of days in a month of the proleptic Gregorian calendar.
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysSinceEpoch returns the days from 1970-01-01 to a valid proleptic
// Gregorian date (H. Hinnant's days_from_civil).
func daysSinceEpoch(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400 // [0, 399]
	mp := int64(month+9) % 12
	doy := (153*mp+2)/5 + int64(day) - 1   // [0, 365]
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return era*146097 + doe - 719468
}
