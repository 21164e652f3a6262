package archive

import (
	"slices"
)

// CompareSource compares the distinct events the source holds per partition
// (as a dry run over an empty archive counts them) with the rows of the
// archive's committed files that are in place, for every partition the
// source holds; partitions the source no longer holds (Sigma keeps 30 days)
// are not compared. A day with fewer events in the archive than in the
// source is an error. A day with more is an error too, except on the
// source's oldest day, which Sigma's retention may have cut part-way
// through: there it is an info.
func (r *Report) CompareSource(source map[string]int64) {
	if !slices.Contains(r.Tiers, "source") {
		r.Tiers = append(r.Tiers, "source")
	}
	oldest := ""
	for p := range source {
		if d := partitionDate(p); d != "" && (oldest == "" || d < oldest) {
			oldest = d
		}
	}
	for _, p := range sortedKeys(source) {
		want, got := source[p], r.PartitionRows[p]
		r.SourcePartitions++
		switch {
		case want == got:
		case want > got:
			r.errorf(KindSourceMismatch, p, "source has %d events for %s, archive has %d: %d events are not in the archive",
				want, p, got, want-got)
		case partitionDate(p) == oldest:
			r.infof(KindSourceMismatch, p, "source has %d events for %s, archive has %d: the source's oldest day, which its retention may have cut part-way",
				want, p, got)
		default:
			r.errorf(KindSourceMismatch, p, "source has %d events for %s, archive has %d: the archive holds %d events the source never had",
				want, p, got, got-want)
		}
	}
	r.sortFindings()
}
