package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/auditexport/auditexport/exporter/source"
)

// jobIndexEnv is set by Kubernetes in each pod of an Indexed Job: the pod's
// completion index, 0 to completions-1.
const jobIndexEnv = "JOB_COMPLETION_INDEX"

// shard is one share of a sharded backfill: index (0-based) of count.
type shard struct{ index, count int }

func (s shard) String() string { return fmt.Sprintf("%d/%d", s.index, s.count) }

// resolveShard works out which share of a backfill this process takes:
// --shard i/n wins; else JOB_COMPLETION_INDEX with backfill.shards. ok is false for an unsharded backfill.
func resolveShard(flagShard string, shards int, lookupEnv func(string) (string, bool)) (s shard, ok bool, err error) {
	if flagShard != "" {
		is, ns, found := strings.Cut(flagShard, "/")
		i, ierr := strconv.Atoi(is)
		n, nerr := strconv.Atoi(ns)
		if !found || ierr != nil || nerr != nil || n < 1 || i < 0 || i >= n {
			return shard{}, false, usagef("--shard %q: want i/n with 0 <= i < n (e.g. --shard 0/4 for the first of four shards)", flagShard)
		}
		if shards != 0 && shards != n {
			return shard{}, false, usagef("--shard %s says %d shards but --backfill.shards is %d", flagShard, n, shards)
		}
		return shard{i, n}, true, nil
	}
	raw, inJob := lookupEnv(jobIndexEnv)
	switch {
	case inJob && shards == 0:
		return shard{}, false, usagef("%s=%s is set (a Kubernetes Indexed Job) but backfill.shards is not: set --backfill.shards (or AUDITEXPORT_BACKFILL_SHARDS) to the Job's completions", jobIndexEnv, raw)
	case !inJob && shards > 0:
		return shard{}, false, usagef("backfill.shards is %d but no shard index is given: use --shard i/%d, or run in a Kubernetes Indexed Job (%s), or --backfill.shards 0 for the whole range", shards, shards, jobIndexEnv)
	case !inJob:
		return shard{}, false, nil
	}
	i, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil || i < 0 || i >= shards {
		return shard{}, false, usagef("%s=%q: want an index from 0 to %d (backfill.shards is %d; the Job's completions must match it)", jobIndexEnv, raw, shards-1, shards)
	}
	return shard{i, shards}, true, nil
}

// window narrows a backfill's window to this shard's days. The days of
// [from, to] are split into count contiguous blocks, in order, the first
// (days mod count) blocks one day longer: shard 0 takes the first block.
// Contiguous blocks make each shard one window, so one pass over the source
// and one commit per shard (with round-robin days, a Sigma-export source
// would be read once per day). days is the number of days in the shard's
// block; 0 when the range has fewer days than there are shards.
func (s shard) window(w source.Window) (out source.Window, days int) {
	total := 0
	for d := w.From; d.Before(w.To); d = d.AddDate(0, 0, 1) {
		total++
	}
	base, extra := total/s.count, total%s.count
	start := s.index*base + min(s.index, extra)
	days = base
	if s.index < extra {
		days++
	}
	from := w.From.AddDate(0, 0, start)
	return source.Window{From: from, To: from.AddDate(0, 0, days)}, days
}

func validateBackfill(c *BackfillConfig) []error {
	if c.Shards < 0 {
		return []error{&ConfigError{Setting: "backfill.shards", Value: fmt.Sprint(c.Shards), Problem: "must be 0 (not sharded) or the number of shards"}}
	}
	return nil
}
