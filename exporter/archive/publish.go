package archive

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/auditexport/auditexport/sinks"
)

// Manifest lists a partition's committed files. It is derived from the log
// (verify checks that it matches) and rewritten as commits add files.
type Manifest struct {
	Version   int    `json:"version"`
	Partition string `json:"partition"`
	// Commit is the latest commit that added files to the partition.
	Commit int64  `json:"commit"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	Files  []File `json:"files"`
}

// ManifestKey is the key of a partition's manifest.
func ManifestKey(partition string) string { return partition + "/" + ManifestName }

// Publish makes a committed commit visible: it copies each staged data and
// key file into place (skipping those already there), merges the commit's
// files into each partition's manifest, writes _SUCCESS, marks the commit
// published and removes its staging copies. It is idempotent, so a run that
// finds a commit unpublished (its writer died) calls it again. Commits must
// be published in order.
func Publish(ctx context.Context, b *sinks.Bucket, c *Commit, onCopy func()) error {
	for _, f := range c.Files {
		if err := place(ctx, b, f.Key, f.Staging, f.Bytes); err != nil {
			return fmt.Errorf("publish commit %d: %w", c.Number, err)
		}
		if onCopy != nil {
			onCopy()
		}
	}
	for _, k := range c.Keys {
		if err := place(ctx, b, k.Key, k.Staging, k.Bytes); err != nil {
			return fmt.Errorf("publish commit %d: %w", c.Number, err)
		}
	}
	byPart := filesByPartition(c.Files)
	// A concurrent run that rolled this commit forward has written its
	// manifests already; writing them again from an older view could drop
	// files of a later commit.
	done, err := b.Exists(ctx, PublishedKey(c.Number))
	if err != nil {
		return fmt.Errorf("publish commit %d: %w", c.Number, err)
	}
	if !done {
		for _, p := range sortedKeys(byPart) {
			if err := mergeManifest(ctx, b, p, c.Number, byPart[p]); err != nil {
				return fmt.Errorf("publish commit %d: %w", c.Number, err)
			}
		}
	}
	if _, err := b.PutBytes(ctx, PublishedKey(c.Number), nil, sinks.PutOptions{IfNotExist: true}); err != nil && !errors.Is(err, sinks.ErrExists) {
		return fmt.Errorf("publish commit %d: %w", c.Number, err)
	}
	if err := healManifests(ctx, b, c, byPart); err != nil {
		return fmt.Errorf("publish commit %d: %w", c.Number, err)
	}
	for _, f := range c.Files {
		removeStaged(ctx, b, f.Staging)
	}
	for _, k := range c.Keys {
		removeStaged(ctx, b, k.Staging)
	}
	return nil
}

// CheckStaged checks that every data and key file c names is staged with
// its recorded size (a file without a staging key: in place). A run calls
// it right before Append: a commit that names a file which is not there
// can never be published, and fails every later run's roll-forward.
func CheckStaged(ctx context.Context, b *sinks.Bucket, c *Commit) error {
	want := map[string]int64{} // key -> size
	for _, f := range c.Files {
		want[cmp.Or(f.Staging, f.Key)] = f.Bytes
	}
	for _, k := range c.Keys {
		want[cmp.Or(k.Staging, k.Key)] = k.Bytes
	}
	// One listing per run directory of staging; other keys one by one.
	have := map[string]int64{}
	dirs := map[string]bool{}
	for key := range want {
		if d := stagingRunDir(key); strings.HasPrefix(key, StagingPrefix) && strings.HasSuffix(d, "/") {
			dirs[d] = true
			continue
		}
		o, err := b.Attributes(ctx, key)
		if errors.Is(err, sinks.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("check the files of commit %d: %w", c.Number, err)
		}
		have[key] = o.Size
	}
	for _, d := range sortedKeys(dirs) {
		if err := b.List(ctx, d, func(o sinks.Object) error {
			have[o.Key] = o.Size
			return nil
		}); err != nil {
			return fmt.Errorf("check the files of commit %d: %w", c.Number, err)
		}
	}
	var missing []string
	for _, key := range sortedKeys(want) {
		size, ok := have[key]
		switch {
		case !ok:
			missing = append(missing, key)
		case size != want[key]:
			return fmt.Errorf("%s is %d bytes, commit %d records %d; nothing was committed", key, size, c.Number, want[key])
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%s, named by commit %d, is missing (removed as staging debris by another run?); nothing was committed, run it again", missing[0], c.Number)
	}
	return fmt.Errorf("%s and %d more files named by commit %d are missing (removed as staging debris by another run?); nothing was committed, run it again", missing[0], len(missing)-1, c.Number)
}

// healManifests makes sure the manifests of the partitions c touches list
// c's files and those of every later published commit. Two publishers of
// different commits can interleave their read-modify-write of a manifest;
// whichever finishes last repairs what the other overwrote.
func healManifests(ctx context.Context, b *sinks.Bucket, c *Commit, byPart map[string][]File) error {
	var later []int64
	if err := b.List(ctx, PublishedPrefix, func(o sinks.Object) error {
		if n, ok := parseNumber(path.Base(o.Key)); ok && n > c.Number {
			later = append(later, n)
		}
		return nil
	}); err != nil {
		return err
	}
	need := map[string][]File{}
	latest := map[string]int64{} // partition -> latest commit adding files to it
	for p, fs := range byPart {
		need[p] = append(need[p], fs...)
		latest[p] = c.Number
	}
	for _, n := range later {
		lc, _, err := ReadCommit(ctx, b, n)
		if err != nil {
			return err
		}
		for p, fs := range filesByPartition(lc.Files) {
			if _, touched := byPart[p]; touched {
				need[p] = append(need[p], fs...)
				latest[p] = max(latest[p], n)
			}
		}
	}
	for _, p := range sortedKeys(need) {
		m, err := ReadManifest(ctx, b, p)
		if err != nil {
			return err
		}
		have := map[string]bool{}
		if m != nil {
			for _, f := range m.Files {
				have[f.Key] = true
			}
		}
		var missing []File
		for _, f := range need[p] {
			if !have[f.Key] {
				missing = append(missing, f)
			}
		}
		if len(missing) > 0 || m == nil || m.Commit < latest[p] {
			if err := mergeManifest(ctx, b, p, latest[p], missing); err != nil {
				return err
			}
		}
	}
	return nil
}

func filesByPartition(files []File) map[string][]File {
	out := map[string][]File{}
	for _, f := range files {
		out[f.Partition] = append(out[f.Partition], f)
	}
	return out
}

// place copies a staged object to its published key unless it is there.
func place(ctx context.Context, b *sinks.Bucket, key, staging string, size int64) error {
	if o, err := b.Attributes(ctx, key); err == nil {
		if o.Size != size {
			return &DamagedError{Key: key, Err: fmt.Errorf("%s is published with %d bytes, the commit says %d", key, o.Size, size)}
		}
		return nil
	} else if !errors.Is(err, sinks.ErrNotFound) {
		return err
	}
	if err := b.Copy(ctx, key, staging); err != nil {
		if !errors.Is(err, sinks.ErrNotFound) {
			return err
		}
		// A concurrent run rolling the same commit forward may have
		// published it and removed the staged copy in between.
		if o, aerr := b.Attributes(ctx, key); aerr == nil && o.Size == size {
			return nil
		}
		return &DamagedError{Key: key, Err: fmt.Errorf("%s: neither the published file nor its staged copy %s exists", key, staging)}
	}
	o, err := b.Attributes(ctx, key)
	if err != nil {
		return err
	}
	if o.Size != size {
		return fmt.Errorf("%s: published %d bytes, the commit says %d", key, o.Size, size)
	}
	return nil
}

func removeStaged(ctx context.Context, b *sinks.Bucket, key string) {
	if key == "" || !strings.HasPrefix(key, StagingPrefix) {
		return
	}
	_ = b.Delete(ctx, key) // debris is collected later if this fails
}

// mergeManifest adds files to a partition's manifest and writes _SUCCESS.
func mergeManifest(ctx context.Context, b *sinks.Bucket, partition string, commit int64, files []File) error {
	m, err := ReadManifest(ctx, b, partition)
	if err != nil {
		return err
	}
	if m == nil {
		m = &Manifest{Version: FormatVersion, Partition: partition}
	}
	have := map[string]bool{}
	for _, f := range m.Files {
		have[f.Key] = true
	}
	for _, f := range files {
		if have[f.Key] {
			continue
		}
		f.Staging = ""
		m.Files = append(m.Files, f)
		m.Rows += f.Rows
		m.Bytes += f.Bytes
	}
	if commit > m.Commit {
		m.Commit = commit
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if _, err := b.PutBytes(ctx, ManifestKey(partition), append(data, '\n'), sinks.PutOptions{ContentType: "application/json"}); err != nil {
		return err
	}
	_, err = b.PutBytes(ctx, partition+"/"+SuccessName, nil, sinks.PutOptions{})
	return err
}

// ReadManifest reads a partition's manifest; nil when it has none.
func ReadManifest(ctx context.Context, b *sinks.Bucket, partition string) (*Manifest, error) {
	data, err := b.ReadAll(ctx, ManifestKey(partition))
	if errors.Is(err, sinks.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, &DamagedError{Key: ManifestKey(partition), Err: fmt.Errorf("manifest %s is damaged: %w", ManifestKey(partition), err)}
	}
	return &m, nil
}
