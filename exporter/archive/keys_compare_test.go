package archive

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// Key.Compare orders keys exactly as their bytes do: key files written with
// SortKeys must read as sorted to the byte-wise checks of verify.
func TestKeyCompareMatchesBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	keys := make([]Key, 2000)
	for i := range keys {
		for j := range keys[i] {
			keys[i][j] = byte(rng.IntN(4) * 85) // few byte values: many equal prefixes
		}
	}
	keys = append(keys, Key{}, Key{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	for i := range keys {
		for j := range 20 {
			a, b := keys[i], keys[(i+j*97)%len(keys)]
			if got, want := a.Compare(b), bytes.Compare(a[:], b[:]); got != want {
				t.Fatalf("%x.Compare(%x) = %d, bytes.Compare = %d", a, b, got, want)
			}
		}
	}
	SortKeys(keys)
	if !slices.IsSortedFunc(keys, func(a, b Key) int { return bytes.Compare(a[:], b[:]) }) {
		t.Error("SortKeys: keys not in byte order")
	}
}
