package exporter

import (
	"strings"
	"time"
)

// hiveDefault names the partition of an empty value, as Hive does.
const hiveDefault = "__HIVE_DEFAULT_PARTITION__"

// partitionPath returns the Hive partition path of an event:
// event_date=YYYY-MM-DD[/event_category=<escaped>].
func partitionPath(t time.Time, zone *time.Location, byCategory bool, category string) string {
	var b strings.Builder
	b.Grow(48)
	b.WriteString("event_date=")
	b.WriteString(t.In(zone).Format(time.DateOnly))
	if byCategory {
		b.WriteString("/event_category=")
		b.WriteString(escapePartitionValue(category))
	}
	return b.String()
}

// escapePartitionValue escapes a partition value the way Hive does
// (percent-encoding of '/', '\', '=', ':', '%', quotes, control bytes and the
// other characters Hive's FileUtils escapes), plus '.' when the value is
// made only of dots, so that no value can name a parent or current
// directory. The result is always one path segment inside the prefix.
func escapePartitionValue(v string) string {
	if v == "" {
		return hiveDefault
	}
	if strings.Trim(v, ".") == "" {
		return strings.Repeat("%2E", len(v))
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if needsEscape(c) {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

const hexDigits = "0123456789ABCDEF"

func needsEscape(c byte) bool {
	if c < 0x20 || c == 0x7f {
		return true
	}
	switch c {
	case '"', '#', '%', '\'', '*', '/', ':', '=', '?', '\\', '{', '[', ']', '^':
		return true
	}
	return false
}
