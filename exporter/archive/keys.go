package archive

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/auditexport/auditexport/sinks"
)

// Key is an event key: 128 bits of SHA-256 over the event's identity.
type Key [16]byte

// Compare orders keys as their bytes do (bytes.Compare), by two
// big-endian words: key files are sorted this way.
func (k Key) Compare(o Key) int {
	if c := cmp.Compare(binary.BigEndian.Uint64(k[:8]), binary.BigEndian.Uint64(o[:8])); c != 0 {
		return c
	}
	return cmp.Compare(binary.BigEndian.Uint64(k[8:]), binary.BigEndian.Uint64(o[8:]))
}

// SortKeys sorts keys in place, in key file order.
func SortKeys(keys []Key) { slices.SortFunc(keys, Key.Compare) }

// keysMagic starts every key file.
const keysMagic = "AUDITEXPORT-KEYS-1\n"

// KeysHeader is the magic line that starts a key file, for writers that
// stream sorted keys after it.
func KeysHeader() []byte { return []byte(keysMagic) }

// EncodeKeys renders a key file: the magic line, then the keys sorted, 16
// bytes each.
func EncodeKeys(keys []Key) []byte {
	sorted := slices.Clone(keys)
	SortKeys(sorted)
	out := make([]byte, 0, len(keysMagic)+16*len(sorted))
	out = append(out, keysMagic...)
	for _, k := range sorted {
		out = append(out, k[:]...)
	}
	return out
}

// DecodeKeys parses a key file, calling fn for each key.
func DecodeKeys(data []byte, fn func(Key)) (int64, error) {
	if !bytes.HasPrefix(data, []byte(keysMagic)) {
		return 0, errors.New("not a key file (bad magic)")
	}
	body := data[len(keysMagic):]
	if len(body)%16 != 0 {
		return 0, fmt.Errorf("key file is truncated (%d bytes after the header)", len(body))
	}
	var k Key
	for i := 0; i < len(body); i += 16 {
		copy(k[:], body[i:i+16])
		fn(k)
	}
	return int64(len(body) / 16), nil
}

// KeysDir is the prefix of a partition's published key files.
func KeysDir(partition string) string { return KeysPrefix + partition + "/" }

// ReadKeyFiles calls fn with the keys of the given key files of a
// partition (as CheckKeys returns them) and returns how many it read.
func ReadKeyFiles(ctx context.Context, b *sinks.Bucket, partition string, files []string, fn func(Key)) (int64, error) {
	var total int64
	for _, k := range files {
		data, err := b.ReadAll(ctx, k)
		if err != nil {
			return 0, fmt.Errorf("load the committed event keys of %s: %w", partition, err)
		}
		n, err := DecodeKeys(data, fn)
		if err != nil {
			return 0, fmt.Errorf("load the committed event keys of %s: %w", partition, &DamagedError{Key: k, Err: fmt.Errorf("key file %s: %w", k, err)})
		}
		total += n
	}
	return total, nil
}

// listKeyFiles maps each published key file of a partition to its size.
func listKeyFiles(ctx context.Context, b *sinks.Bucket, partition string) (map[string]int64, error) {
	files := map[string]int64{}
	err := b.List(ctx, KeysDir(partition), func(o sinks.Object) error {
		if strings.HasSuffix(o.Key, KeysExt) {
			files[o.Key] = o.Size
		}
		return nil
	})
	return files, err
}
