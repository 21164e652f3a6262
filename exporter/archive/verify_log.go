package archive

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/auditexport/auditexport/sinks"
)

// exactNumber reads the commit number of a log or marker key whose base
// name is exactly what CommitKey or PublishedKey make (ext ".json" or "").
func exactNumber(key, ext string) (int64, bool) {
	base, ok := strings.CutSuffix(path.Base(key), ext)
	if !ok || len(base) != 20 {
		return 0, false
	}
	n, err := strconv.ParseInt(base, 10, 64)
	return n, err == nil && n > 0
}

// checkLog checks the commit log in full, whatever the date range: its
// numbering, each commit's bytes, the hash chain and the published markers.
func (v *verifier) checkLog(ctx context.Context) error {
	var numbers []int64
	for _, k := range v.logKeys {
		n, ok := exactNumber(k, ".json")
		if !ok || k != CommitKey(n) {
			v.rep.errorf(KindUnexpectedFile, k, "not a commit (commits are %s<20-digit number>.json); remove it: a run may misread it as one", LogPrefix)
			continue
		}
		numbers = append(numbers, n)
	}
	slices.Sort(numbers)
	v.published = map[int64]bool{}
	var maxMarker int64
	for _, k := range v.markerKeys {
		n, ok := exactNumber(k, "")
		if !ok || k != PublishedKey(n) {
			v.rep.errorf(KindUnexpectedFile, k, "not a published marker (markers are %s<20-digit number>)", PublishedPrefix)
			continue
		}
		v.published[n] = true
		maxMarker = max(maxMarker, n)
	}
	var head int64
	if len(numbers) > 0 {
		head = numbers[len(numbers)-1]
	}
	v.rep.Commits = len(numbers)
	v.rep.Head = max(head, maxMarker)
	v.logHead = head

	// Read every commit's stored bytes.
	raws := make([][]byte, len(numbers))
	err := forEach(ctx, v.o.Workers, len(numbers), func(ctx context.Context, i int) error {
		data, err := v.b.ReadAll(ctx, CommitKey(numbers[i]))
		if errors.Is(err, sinks.ErrNotFound) {
			return nil // removed since the listing; reported as missing below
		}
		if err != nil {
			return fmt.Errorf("read commit %d: %w", numbers[i], err)
		}
		raws[i] = data
		return nil
	})
	if err != nil {
		return err
	}
	raw := map[int64][]byte{}
	v.sums = map[int64]string{}
	for i, n := range numbers {
		if raws[i] != nil {
			raw[n] = raws[i]
			v.sums[n] = SHA256(raws[i])
		}
	}
	v.rep.HeadSHA256 = v.sums[v.rep.Head]

	v.commits = map[int64]*Commit{}
	lastPublished := maxMarker
	for n := int64(1); n <= v.rep.Head; n++ {
		key := CommitKey(n)
		data, ok := raw[n]
		if !ok {
			why := fmt.Sprintf("the log goes up to commit %d", head)
			if n > head {
				why = fmt.Sprintf("published marker %s shows commits up to %d existed", PublishedKey(maxMarker), maxMarker)
			}
			v.rep.errorf(KindCommitMissing, key, "commit %d is missing from the log (%s): the files it added are unaccounted for", n, why)
			v.lost = append(v.lost, n)
			continue
		}
		c, err := DecodeCommit(data)
		if err != nil {
			v.rep.errorf(KindCommitDamaged, key, "does not parse as a commit: %v", err)
			v.lost = append(v.lost, n)
			continue
		}
		if c.Number != n {
			v.rep.errorf(KindCommitDamaged, key, "says it is commit %d", c.Number)
			v.lost = append(v.lost, n)
			continue
		}
		v.commits[n] = c
		switch prev, have := raw[n-1]; {
		case n == 1 && c.Previous != "":
			v.rep.errorf(KindChainBroken, key, "commit 1 has previous_sha256 %s, want empty: commits before it were removed or it was rewritten", c.Previous)
		case n == 1:
		case !have:
			v.rep.errorf(KindChainBroken, key, "previous_sha256 %s names commit %d, which is missing: the chain cannot be followed past it", short(c.Previous), n-1)
		case c.Previous != SHA256(prev):
			v.rep.errorf(KindChainBroken, key, "previous_sha256 is %s but commit %d's stored bytes hash to %s: commit %d was changed after commit %d was written",
				short(c.Previous), n-1, short(SHA256(prev)), n-1, n)
		}
		if !v.published[n] {
			if n < lastPublished {
				v.rep.errorf(KindUnpublished, key, "commit %d has no published marker though commit %d has one: not fully published; the next run will roll it forward", n, lastPublished)
			} else {
				v.rep.errorf(KindUnpublished, key, "commit %d is not fully published (its run is still publishing, or died): the next run will roll it forward", n)
			}
		}
	}
	return nil
}

// short abbreviates a hex hash for messages.
func short(h string) string {
	if h == "" {
		return `""`
	}
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}

// indexCommits indexes what the commits list and checks that each commit
// is possible: keys where the layout puts them, no file committed twice,
// one key file per partition holding as many keys as the partition's files
// hold rows.
func (v *verifier) indexCommits() {
	v.files = map[string]fileRef{}
	v.keyFiles = map[string]keyRef{}
	v.stagingRefs = map[string]int64{}
	numbers := make([]int64, 0, len(v.commits))
	for n := range v.commits {
		numbers = append(numbers, n)
	}
	slices.Sort(numbers)
	for _, n := range numbers {
		c := v.commits[n]
		ck := CommitKey(n)
		rows := map[string]int64{}
		for _, f := range c.Files {
			if f.Partition == "" || partitionOf(f.Key) != f.Partition || !strings.HasSuffix(f.Key, DataExt) || strings.HasPrefix(f.Key, InternalPrefix) {
				v.rep.errorf(KindCommitDamaged, ck, "lists file %q in partition %q: not a data file of that partition", f.Key, f.Partition)
				continue
			}
			if prev, dup := v.files[f.Key]; dup {
				v.rep.errorf(KindCommitDamaged, ck, "lists %s, which commit %d already added", f.Key, prev.commit)
				continue
			}
			v.files[f.Key] = fileRef{commit: n, File: f}
			rows[f.Partition] += f.Rows
			if f.Staging != "" {
				v.stagingRefs[f.Staging] = n
			}
			if v.inRange(f.Partition) && !slices.Contains(v.rep.PartitionCommits[f.Partition], n) {
				v.rep.PartitionCommits[f.Partition] = append(v.rep.PartitionCommits[f.Partition], n)
			}
		}
		keyed := map[string]bool{}
		for _, k := range c.Keys {
			if partitionOfKeys(k.Key) != k.Partition || !strings.HasSuffix(k.Key, ".keys") {
				v.rep.errorf(KindCommitDamaged, ck, "lists key file %q for partition %q: not under %s", k.Key, k.Partition, KeysDir(k.Partition))
				continue
			}
			if prev, dup := v.keyFiles[k.Key]; dup {
				v.rep.errorf(KindCommitDamaged, ck, "lists key file %s, which commit %d already added", k.Key, prev.commit)
				continue
			}
			v.keyFiles[k.Key] = keyRef{commit: n, KeyFile: k}
			if k.Staging != "" {
				v.stagingRefs[k.Staging] = n
			}
			if keyed[k.Partition] {
				v.rep.errorf(KindCommitDamaged, ck, "lists two key files for partition %s", k.Partition)
			}
			keyed[k.Partition] = true
			if k.Count != rows[k.Partition] {
				v.rep.errorf(KindRowsMismatch, ck, "key file %s holds %d keys, the commit's files in %s hold %d rows", k.Key, k.Count, k.Partition, rows[k.Partition])
			}
		}
		for _, p := range sortedKeys(rows) {
			if !keyed[p] && rows[p] > 0 {
				v.rep.errorf(KindCommitDamaged, ck, "adds %d rows to %s but no key file for it: later runs would write those events again", rows[p], p)
			}
		}
	}
}

// partitionOfKeys is the partition a key file belongs to, from its key.
func partitionOfKeys(key string) string {
	rest, ok := strings.CutPrefix(key, KeysPrefix)
	if !ok {
		return ""
	}
	return path.Dir(rest)
}
