package generate

import (
	"strconv"
)

// Text rendering for the hot path: timestamps, hex IDs, JSON strings. No fmt,
// no time.Format: everything appends to a caller's buffer.

// zone is how a timestamp shows its offset.
type zone uint8

const (
	zoneNone  zone = iota // 2026-11-25 13:45:12.123 (UTC implied)
	zoneZ                 // 2026-11-25T13:45:12Z
	zoneUTC               // 2026-11-25 13:45:12.123456 -0000
	zoneLocal             // 2026-11-25 05:45:12.123 -0800 (same instant)
)

// tsStyle is one event's timestamp text form. The event time is truncated to
// the style's fractional digits, so the text is exact.
type tsStyle struct {
	digits uint8 // fractional digits, 0-9
	sep    byte  // 'T' or ' '
	zone   zone
	offMin int16 // minutes east of UTC (zoneLocal); for zoneUTC, -1 renders "-0000"
}

var plainStyle = tsStyle{digits: 3, sep: ' ', zone: zoneNone}

// localOffsets are the offsets (minutes east of UTC) of zoneLocal renderings.
var localOffsets = [...]int16{-480, -420, -360, -300, -240, -210, 60, 120, 330, 345, 540, 600, 780}

// pow10 is 10^n for n in [0, 9].
var pow10 = [...]int64{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000}

// truncUnit is the nanoseconds that the last of d fractional digits counts.
func truncUnit(d uint8) int64 { return pow10[9-d] }

// appendTS appends unix-nanosecond time ns (>= 0) in style st.
func appendTS(b []byte, ns int64, st tsStyle) []byte {
	local := ns
	if st.zone == zoneLocal {
		local += int64(st.offMin) * 60e9
	}
	secs := local / 1e9
	frac := local % 1e9
	days := secs / 86400
	sod := secs % 86400
	y, m, d := civil(days)
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, st.sep)
	b = append2(b, int(sod/3600))
	b = append(b, ':')
	b = append2(b, int(sod/60%60))
	b = append(b, ':')
	b = append2(b, int(sod%60))
	if st.digits > 0 {
		b = append(b, '.')
		v := frac / truncUnit(st.digits)
		for i := int(st.digits) - 1; i >= 0; i-- {
			b = append(b, byte('0'+v/pow10[i]%10))
		}
	}
	switch st.zone {
	case zoneZ:
		b = append(b, 'Z')
	case zoneUTC:
		if st.offMin < 0 {
			b = append(b, " -0000"...)
		} else {
			b = append(b, " +0000"...)
		}
	case zoneLocal:
		off := int(st.offMin)
		if off < 0 {
			b = append(b, ' ', '-')
			off = -off
		} else {
			b = append(b, ' ', '+')
		}
		b = append2(b, off/60)
		b = append2(b, off%60)
	}
	return b
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's civil_from_days), for days >= 0.
func civil(days int64) (year, month, day int) {
	z := days + 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

func append4(b []byte, v int) []byte {
	return append(b, byte('0'+v/1000%10), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

const hexDigits = "0123456789abcdef"

// appendHex appends the low n hex digits of v, most significant first.
func appendHex(b []byte, v uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		b = append(b, hexDigits[v>>(4*uint(i))&0xf])
	}
	return b
}

// appendUUID appends hi and lo as a UUID-shaped 8-4-4-4-12 hex string.
func appendUUID(b []byte, hi, lo uint64) []byte {
	b = appendHex(b, hi>>32, 8)
	b = append(b, '-')
	b = appendHex(b, hi>>16, 4)
	b = append(b, '-')
	b = appendHex(b, hi, 4)
	b = append(b, '-')
	b = appendHex(b, lo>>48, 4)
	b = append(b, '-')
	return appendHex(b, lo, 12)
}

// mix is the splitmix64 finalizer: a bijection on uint64 that scatters bits.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// unitHash maps (seed, salt, a, b) to a uniform float in [0, 1).
func unitHash(seed, salt, a, b uint64) float64 {
	h := mix(mix(mix(seed^salt)+a) + b*0x9e3779b97f4a7c15)
	return float64(h>>11) / (1 << 53)
}

// appendJSONString appends s as a JSON string literal. s is valid UTF-8.
func appendJSONString[T string | []byte](b []byte, s T) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, `\u00`...)
			b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendFixed appends v/10^dec with dec decimals (v >= 0), e.g. 12345,2 -> 123.45.
func appendFixed(b []byte, v int64, dec int) []byte {
	b = strconv.AppendInt(b, v/pow10[dec], 10)
	if dec > 0 {
		b = append(b, '.')
		f := v % pow10[dec]
		for i := dec - 1; i >= 0; i-- {
			b = append(b, byte('0'+f/pow10[i]%10))
		}
	}
	return b
}
