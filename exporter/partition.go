package exporter

import (
	"strings"
	"time"
)

// hiveDefault names the partition of an empty value, as Hive does.
const hiveDefault = "__HIVE_DEFAULT_PARTITION__"

// maxCategoryBytes bounds an escaped category, so that the directory
// "event_category=<value>" fits the 255 bytes a file name may have on
// common file systems (and leaves room in a 1,024-byte object key).
const maxCategoryBytes = 255 - len("event_category=")

// categoryTooLong reports whether a category cannot name a partition
// directory. Escaping at most triples a value, so short ones are not
// escaped to tell.
func categoryTooLong(cat string) bool {
	return len(cat) > maxCategoryBytes/3 && len(escapePartitionValue(cat)) > maxCategoryBytes
}

// partitioner names the partition of each row read, remembering recent
// names so that most rows cost no allocation: a direct-mapped cache keyed
// by the event's 15-minute slot of Unix time (and its category). A slot is
// cached only when its first and last instants fall on the same date in
// the zone, so a zone whose offsets are not whole quarter hours, or a
// transition inside a slot, is still named exactly, without the cache.
type partitioner struct {
	zone       *time.Location
	byCategory bool
	cache      [256]partitionSlot
}

type partitionSlot struct {
	slot int64
	cat  string
	path string
}

const slotMicros = int64(15 * time.Minute / time.Microsecond)

func newPartitioner(zone *time.Location, byCategory bool) *partitioner {
	return &partitioner{zone: zone, byCategory: byCategory}
}

// path returns partitionPath of an event time given in microseconds.
func (p *partitioner) path(micros int64, category string) string {
	if !p.byCategory {
		category = ""
	}
	slot := micros / slotMicros
	if micros < 0 && micros%slotMicros != 0 {
		slot--
	}
	e := &p.cache[uint64(slot)%uint64(len(p.cache))]
	if e.path != "" && e.slot == slot && e.cat == category {
		return e.path
	}
	t := time.UnixMicro(micros)
	path := partitionPath(t, p.zone, p.byCategory, category)
	first, last := time.UnixMicro(slot*slotMicros).In(p.zone), time.UnixMicro((slot+1)*slotMicros-1).In(p.zone)
	if first.YearDay() == last.YearDay() && first.Year() == last.Year() {
		*e = partitionSlot{slot: slot, cat: strings.Clone(category), path: path}
	}
	return path
}

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
