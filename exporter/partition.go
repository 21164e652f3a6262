package exporter

import (
	"strings"
	"time"

	"github.com/auditexport/auditexport/exporter/archive"
)

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

// path returns archive.PartitionPath of an event time given in microseconds.
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
	path := archive.PartitionPath(t, p.zone, p.byCategory, category)
	first, last := time.UnixMicro(slot*slotMicros).In(p.zone), time.UnixMicro((slot+1)*slotMicros-1).In(p.zone)
	if first.YearDay() == last.YearDay() && first.Year() == last.Year() {
		*e = partitionSlot{slot: slot, cat: strings.Clone(category), path: path}
	}
	return path
}
