package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/auditexport/auditexport/sinks"
)

// checkManifests checks that each partition's _manifest.json (in range) is
// what the log implies: the files of every published commit that adds to
// the partition, with their rows, bytes, sha256 and times; the totals; the
// latest commit; and a _SUCCESS next to it. Files of a commit that is not
// published yet may or may not be listed.
func (v *verifier) checkManifests(ctx context.Context) error {
	byPart := map[string][]fileRef{}
	for _, key := range sortedKeys(v.files) {
		f := v.files[key]
		if v.inRange(f.Partition) {
			byPart[f.Partition] = append(byPart[f.Partition], f)
		}
	}
	for _, o := range v.layout {
		if p := partitionOf(o.Key); (strings.HasSuffix(o.Key, "/"+ManifestName) || strings.HasSuffix(o.Key, "/"+SuccessName)) && v.inRange(p) {
			if _, ok := byPart[p]; !ok {
				byPart[p] = nil
			}
		}
	}
	parts := sortedKeys(byPart)
	return forEach(ctx, v.o.Workers, len(parts), func(ctx context.Context, i int) error {
		return v.checkManifest(ctx, parts[i], byPart[parts[i]])
	})
}

func (v *verifier) checkManifest(ctx context.Context, part string, files []fileRef) error {
	key := ManifestKey(part)
	published := 0
	for _, f := range files {
		if v.published[f.commit] {
			published++
		}
	}
	commits := v.rep.PartitionCommits[part]
	rebuild := ""
	if len(commits) > 0 {
		rebuild = fmt.Sprintf(" (commits adding files to %s: %s)", part, joinNumbers(commits))
	}
	if _, ok := v.objs[part+"/"+SuccessName]; !ok && published > 0 {
		v.rep.errorf(KindManifestBad, part+"/"+SuccessName, "missing, though published commits add files to %s: readers that wait for _SUCCESS skip the partition", part)
	}
	if _, ok := v.objs[key]; !ok {
		if published > 0 {
			v.rep.errorf(KindManifestBad, key, "missing; the log lists %d published files in %s%s", published, part, rebuild)
		}
		return nil
	}
	data, err := v.b.ReadAll(ctx, key)
	if errors.Is(err, sinks.ErrNotFound) {
		return nil // removed since the listing
	}
	if err != nil {
		return fmt.Errorf("read manifest %s: %w", key, err)
	}
	v.rep.mu.Lock()
	v.rep.Manifests++
	v.rep.mu.Unlock()
	if len(files) == 0 {
		v.rep.errorf(KindManifestBad, key, "a manifest of a partition the log adds no files to")
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		v.rep.errorf(KindManifestBad, key, "does not parse as a manifest: %v%s", err, rebuild)
		return nil
	}
	var diffs []string
	diff := func(format string, a ...any) { diffs = append(diffs, fmt.Sprintf(format, a...)) }
	if m.Version != FormatVersion {
		diff("version %d, want %d", m.Version, FormatVersion)
	}
	if m.Partition != part {
		diff("partition %q, want %q", m.Partition, part)
	}
	listed := map[string]File{}
	var rows, size, latest int64
	for _, mf := range m.Files {
		if _, dup := listed[mf.Key]; dup {
			diff("lists %s twice", mf.Key)
			continue
		}
		listed[mf.Key] = mf
		rows += mf.Rows
		size += mf.Bytes
		ref, ok := v.files[mf.Key]
		if !ok || ref.Partition != part {
			diff("lists %s, which no commit adds to %s", mf.Key, part)
			continue
		}
		latest = max(latest, ref.commit)
		want := ref.File
		want.Staging = ""
		if d := fileDiff(mf, want); d != "" {
			diff("%s: %s", mf.Key, d)
		}
	}
	for _, f := range files {
		if _, ok := listed[f.Key]; !ok && v.published[f.commit] {
			diff("lacks %s (commit %d, %d rows)", f.Key, f.commit, f.Rows)
		}
	}
	if m.Rows != rows || m.Bytes != size {
		diff("totals %d rows, %d bytes; its files add up to %d rows, %d bytes", m.Rows, m.Bytes, rows, size)
	}
	if m.Commit != latest {
		diff("commit %d, but the latest commit among its files is %d", m.Commit, latest)
	}
	if len(diffs) > 0 {
		more := ""
		if len(diffs) > 3 {
			more = fmt.Sprintf(" (and %d more)", len(diffs)-3)
			diffs = diffs[:3]
		}
		v.rep.errorf(KindManifestBad, key, "differs from the log: %s%s%s", strings.Join(diffs, "; "), more, rebuild)
	}
	return nil
}

// fileDiff says how a manifest's entry differs from the commit's.
func fileDiff(got, want File) string {
	var d []string
	if got.Partition != want.Partition {
		d = append(d, fmt.Sprintf("partition %q, the log says %q", got.Partition, want.Partition))
	}
	if got.Rows != want.Rows {
		d = append(d, fmt.Sprintf("rows %d, the log says %d", got.Rows, want.Rows))
	}
	if got.Bytes != want.Bytes {
		d = append(d, fmt.Sprintf("bytes %d, the log says %d", got.Bytes, want.Bytes))
	}
	if got.SHA256 != want.SHA256 {
		d = append(d, fmt.Sprintf("sha256 %s, the log says %s", short(got.SHA256), short(want.SHA256)))
	}
	if !got.MinTime.Equal(want.MinTime) || !got.MaxTime.Equal(want.MaxTime) {
		d = append(d, "event times differ from the log's")
	}
	if got.Staging != "" {
		d = append(d, "names a staging key")
	}
	return strings.Join(d, ", ")
}

func joinNumbers(ns []int64) string {
	ns = slices.Clone(ns)
	slices.Sort(ns)
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}
