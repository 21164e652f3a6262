package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/auditexport/auditexport/sinks"
)

// Key is an event key: 128 bits of SHA-256 over the event's identity.
type Key [16]byte

// keysMagic starts every key file.
const keysMagic = "AUDITEXPORT-KEYS-1\n"

// KeysHeader is the magic line that starts a key file, for writers that
// stream sorted keys after it.
func KeysHeader() []byte { return []byte(keysMagic) }

// EncodeKeys renders a key file: the magic line, then the keys sorted, 16
// bytes each.
func EncodeKeys(keys []Key) []byte {
	sorted := slices.Clone(keys)
	slices.SortFunc(sorted, func(a, b Key) int { return bytes.Compare(a[:], b[:]) })
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

// LoadKeys calls fn with the keys of every published key file of a
// partition and returns how many it read. Key files are published only
// after their commit, so everything under the prefix is committed; that
// nothing committed is missing from it is what CheckKeys proves, once per
// partition before a run writes it.
func LoadKeys(ctx context.Context, b *sinks.Bucket, partition string, fn func(Key)) (int64, error) {
	var total int64
	err := b.List(ctx, KeysDir(partition), func(o sinks.Object) error {
		if !strings.HasSuffix(o.Key, ".keys") {
			return nil
		}
		data, err := b.ReadAll(ctx, o.Key)
		if err != nil {
			return err
		}
		n, err := DecodeKeys(data, fn)
		if err != nil {
			return &DamagedError{Key: o.Key, Err: fmt.Errorf("key file %s: %w", o.Key, err)}
		}
		total += n
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("load the committed event keys of %s: %w", partition, err)
	}
	return total, nil
}
