package archive

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"
)

// localTempRE matches the temp files a write to a local directory leaves
// next to its target when it is killed ("<name>.<hex>.tmp").
var localTempRE = regexp.MustCompile(`\.[0-9a-f]+\.tmp$`)

// checkCommitted checks that every data and key file a commit lists (in
// range) is in the bucket with its recorded size. A file of a commit that
// is not published yet may still be only in staging.
func (v *verifier) checkCommitted() {
	parts := map[string]bool{}
	for _, key := range sortedKeys(v.files) {
		f := v.files[key]
		if !v.inRange(f.Partition) {
			continue
		}
		parts[f.Partition] = true
		v.rep.Files++
		v.rep.FileBytes += f.Bytes
		v.rep.Rows += f.Rows
		if _, ok := v.rep.PartitionRows[f.Partition]; !ok {
			v.rep.PartitionRows[f.Partition] = 0
		}
		if v.present(key, f.commit, f.Bytes, f.Staging, "data file", fmt.Sprintf("%d rows, ", f.Rows)) {
			v.rep.PartitionRows[f.Partition] += f.Rows
		}
	}
	for _, key := range sortedKeys(v.keyFiles) {
		k := v.keyFiles[key]
		if !v.inRange(k.Partition) {
			continue
		}
		parts[k.Partition] = true
		v.rep.KeyFiles++
		v.present(key, k.commit, k.Bytes, k.Staging, "key file", fmt.Sprintf("%d keys, ", k.Count))
	}
	v.rep.Partitions = len(parts)
}

// present checks one committed object and reports whether it is in place
// with its recorded size.
func (v *verifier) present(key string, commit, size int64, staging, what, counts string) bool {
	o, ok := v.objs[key]
	switch {
	case ok && o.Size != size:
		v.rep.errorf(KindSizeMismatch, key, "is %d bytes, commit %d recorded %d: the %s was truncated or replaced", o.Size, commit, size, what)
		return false
	case ok:
		return true
	case v.published[commit]:
		v.rep.errorf(KindFileMissing, key, "the %s committed by commit %d (%s%d bytes) is not in the bucket", what, commit, counts, size)
	default:
		if s, ok := v.objs[staging]; ok && s.Size == size {
			return false // staged; publishing commit N puts it in place
		}
		v.rep.errorf(KindFileMissing, key, "the %s committed by commit %d (%s%d bytes) is neither published nor staged (%s): rolling commit %d forward will fail",
			what, commit, counts, size, staging, commit)
	}
	return false
}

// checkLayout reports objects in the Hive layout (in range) and key files
// that no commit lists. In the layout, only committed files, _manifest.json
// and _SUCCESS may be: a reader that lists a partition directory (Athena,
// Spark, DuckDB) reads whatever else is there as data, and fails on it.
func (v *verifier) checkLayout() {
	for _, o := range v.layout {
		part := partitionOf(o.Key)
		if !v.inRange(part) {
			continue
		}
		switch base := path.Base(o.Key); {
		case base == ManifestName || base == SuccessName:
			// checkManifests
		case strings.HasSuffix(base, ".parquet"):
			if _, ok := v.files[o.Key]; !ok {
				v.rep.errorf(KindUnexpectedFile, o.Key, "a Parquet file in the layout that is not in any commit: readers of the layout see its %d bytes, and nothing vouches for them%s", o.Size, v.lostHint())
			}
		case localTempRE.MatchString(base):
			v.rep.errorf(KindUnexpectedFile, o.Key, "the temp file of an interrupted write (%d bytes, no commit lists it): readers that list the directory read it as data and fail; a run removes it once older than the staging grace", o.Size)
		default:
			v.rep.errorf(KindUnexpectedFile, o.Key, "a file in the layout that no commit lists (%d bytes): readers that list the directory read it as data", o.Size)
		}
	}
	for _, o := range v.keyObjs {
		if !v.inRange(partitionOfKeys(o.Key)) {
			continue
		}
		switch _, ok := v.keyFiles[o.Key]; {
		case !strings.HasSuffix(o.Key, ".keys"):
			v.rep.infof(KindUnexpectedFile, o.Key, "not a key file (runs read only *.keys)")
		case !ok:
			v.rep.errorf(KindUnexpectedFile, o.Key, "a key file that is not in any commit: runs take its keys as archived and never write those events%s", v.lostHint())
		}
	}
}

// lostHint names the commits that may have listed an object no readable
// commit lists.
func (v *verifier) lostHint() string {
	switch len(v.lost) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf(" (commit %d, which is missing or damaged, may have listed it)", v.lost[0])
	}
	return fmt.Sprintf(" (commits %s, missing or damaged, may have listed it)", joinNumbers(v.lost))
}

// checkStaging reports staged objects that no unpublished commit needs, by
// run: debris, removed by a later run once older than its grace period.
func (v *verifier) checkStaging() {
	type group struct {
		n      int
		bytes  int64
		newest time.Time
		after  int64 // a published commit that lists some of them
	}
	groups := map[string]*group{}
	for _, o := range v.staging {
		n, ref := v.stagingRefs[o.Key]
		if ref && !v.published[n] {
			continue // needed to roll commit n forward
		}
		rest := strings.TrimPrefix(o.Key, StagingPrefix)
		run, _, _ := strings.Cut(rest, "/")
		dir := StagingPrefix + run + "/"
		g := groups[dir]
		if g == nil {
			g = &group{}
			groups[dir] = g
		}
		g.n++
		g.bytes += o.Size
		if o.ModTime.After(g.newest) {
			g.newest = o.ModTime
		}
		if ref {
			g.after = n
		}
	}
	now := v.o.Now()
	for _, dir := range sortedKeys(groups) {
		g := groups[dir]
		age := "of unknown age"
		if !g.newest.IsZero() {
			age = "the newest " + now.Sub(g.newest).Round(time.Second).String() + " old"
		}
		why := "debris of a run that died before its commit, or of a run in progress"
		if g.after > 0 {
			why = fmt.Sprintf("copies left behind after commit %d was published", g.after)
		}
		v.rep.infof(KindStagingDebris, dir, "%d staged objects (%d bytes, %s) that no unpublished commit needs: %s; a later run removes them once older than the staging grace",
			g.n, g.bytes, age, why)
	}
}
