package archive

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/auditexport/auditexport/sinks"
)

// ErrKeysMissing means a partition's key files do not hold the keys of all
// its committed rows: a run that trusted them would archive those events
// again. CheckKeys returns it in a *DamagedError (so it is ErrDamaged too)
// whose Key is the partition's key file prefix.
var ErrKeysMissing = errors.New("committed event keys are missing")

// CheckKeys proves, before a run trusts a partition's key files, that
// none of them is missing or truncated, without reading the commit log:
// the partition's manifest lists its committed files, each file's name
// carries the run that wrote it, and the run's key file
// (_auditexport/keys/<partition>/<run id>.keys) holds one key per row of
// that run's files. The listing gives each key file's size, so only the
// manifest is read.
//
// The manifest is read before the key files are listed: it is written only
// after the key files of the commits it lists are in place, so a publisher
// working at the same time can add key files the manifest does not list
// yet, never the reverse.
//
// A partition without a manifest is new when it has neither key files nor
// data files; otherwise (the manifest was removed, or another run is
// publishing the partition's first commit) the published commits of the
// log say which key files it must have.
//
// It returns the key files it found, sorted, for ReadKeyFiles: the run
// reads exactly what was checked, without listing them again.
func CheckKeys(ctx context.Context, b *sinks.Bucket, partition string) ([]string, error) {
	have, err := checkKeys(ctx, b, partition)
	if err != nil {
		return nil, err
	}
	return sortedKeys(have), nil
}

func checkKeys(ctx context.Context, b *sinks.Bucket, partition string) (map[string]int64, error) {
	m, err := ReadManifest(ctx, b, partition)
	if err != nil {
		return nil, fmt.Errorf("check the event keys of %s: %w", partition, err)
	}
	have, err := listKeyFiles(ctx, b, partition) // key file -> size
	if err != nil {
		return nil, fmt.Errorf("check the event keys of %s: %w", partition, err)
	}
	var want map[string]int64 // key file -> keys it must hold
	var rows int64            // rows the partition's committed files hold
	if m != nil {
		want, rows = manifestKeys(partition, m)
	} else {
		empty, err := partitionEmpty(ctx, b, partition, have)
		if err != nil || empty {
			return have, err
		}
		if want, err = committedKeys(ctx, b, partition); err != nil {
			return nil, err
		}
		for _, n := range want {
			rows += n
		}
	}
	var problems []string
	for _, k := range sortedKeys(want) {
		size, ok := have[k]
		switch n := keysIn(size); {
		case !ok:
			problems = append(problems, fmt.Sprintf("key file %s is missing (it holds the keys of %d committed rows)", k, want[k]))
		case n < want[k]:
			problems = append(problems, fmt.Sprintf("key file %s is truncated (%d bytes, %d keys; it holds the keys of %d committed rows)", k, size, n, want[k]))
		}
	}
	if len(problems) == 0 {
		var got int64
		for _, size := range have {
			got += keysIn(size)
		}
		if got < rows {
			problems = append(problems, fmt.Sprintf("its key files hold %d event keys, its committed files %d rows", got, rows))
		}
	}
	if len(problems) == 0 {
		return have, nil
	}
	return nil, &DamagedError{Key: KeysDir(partition), Err: fmt.Errorf("%w in %s: %s; a run would archive those events again, so nothing is written: restore the key files from object versioning or a backup (their commits record size and sha256)",
		ErrKeysMissing, partition, strings.Join(problems, "; "))}
}

// keysIn is how many whole keys a key file of size bytes holds.
func keysIn(size int64) int64 {
	return max(size-int64(len(keysMagic)), 0) / int64(len(Key{}))
}

// manifestKeys maps each key file a manifest implies to the rows of its
// run's files, and returns the rows of all its files.
func manifestKeys(partition string, m *Manifest) (map[string]int64, int64) {
	want := map[string]int64{}
	var rows int64
	for _, f := range m.Files {
		rows += f.Rows
		if run, ok := DataFileRun(f.Key); ok && f.Rows > 0 {
			want[KeyFileKey(partition, run)] += f.Rows
		}
	}
	return want, rows
}

// errFound stops a listing at its first match.
var errFound = errors.New("found")

// partitionEmpty reports whether a partition has neither key files nor
// data files.
func partitionEmpty(ctx context.Context, b *sinks.Bucket, partition string, keyFiles map[string]int64) (bool, error) {
	if len(keyFiles) > 0 {
		return false, nil
	}
	err := b.List(ctx, partition+"/", func(o sinks.Object) error {
		if path.Dir(o.Key) == partition && strings.HasSuffix(o.Key, DataExt) {
			return errFound
		}
		return nil
	})
	if errors.Is(err, errFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check the event keys of %s: %w", partition, err)
	}
	return true, nil
}

// committedKeys reads the published commits of the log and maps each key
// file they add to the partition to its key count.
func committedKeys(ctx context.Context, b *sinks.Bucket, partition string) (map[string]int64, error) {
	st, err := LoadState(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("check the event keys of %s: %w", partition, err)
	}
	unpublished := map[int64]bool{}
	for _, n := range st.Unpublished {
		unpublished[n] = true
	}
	var numbers []int64
	for _, n := range st.Numbers {
		if !unpublished[n] {
			numbers = append(numbers, n)
		}
	}
	found := make([][]KeyFile, len(numbers))
	err = forEach(ctx, 8, len(numbers), func(ctx context.Context, i int) error {
		c, _, err := ReadCommit(ctx, b, numbers[i])
		if err != nil {
			return err
		}
		for _, k := range c.Keys {
			if k.Partition == partition {
				found[i] = append(found[i], k)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("check the event keys of %s: %w", partition, err)
	}
	want := map[string]int64{}
	for _, ks := range found {
		for _, k := range ks {
			want[k.Key] = k.Count
		}
	}
	return want, nil
}
