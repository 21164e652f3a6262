package sinktest

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditexport/auditexport/sinks"
)

// LargeSize is big enough to make every cloud upload come in pieces: S3's
// transfer manager (under gocloud) goes multipart above 16 MiB, in 8 MiB
// parts, so 12 MiB would still be one PutObject; Azure stages 8 MiB blocks;
// GCS sends 16 MiB chunks.
const LargeSize = 20 << 20

// Run runs the conformance suite. open is called once per subtest and may
// return the same bucket every time; Run closes nothing it did not open.
func Run(t *testing.T, open func(t *testing.T) *sinks.Bucket) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, b *sinks.Bucket, p string)
	}{
		{"PutBytesRoundTrip", testPutBytesRoundTrip},
		{"PutFileRoundTrip", testPutFileRoundTrip},
		{"PutFileDigests", testPutFileDigests},
		{"ReadRange", testReadRange},
		{"Overwrite", testOverwrite},
		{"IfNotExist", testIfNotExist},
		{"IfNotExistRace", testIfNotExistRace},
		{"NotFound", testNotFound},
		{"List", testList},
		{"ListStops", testListStops},
		{"Copy", testCopy},
		{"Delete", testDelete},
		{"Exists", testExists},
		{"OddKeys", testOddKeys},
		{"Empty", testEmpty},
		{"Large", testLarge},
		{"InvalidKeys", testInvalidKeys},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := open(t)
			tc.fn(t, b, uniquePrefix(tc.name))
		})
	}
}

func uniquePrefix(name string) string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return "sinktest/" + name + "-" + hex.EncodeToString(r[:]) + "/"
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// checkStored reads key back and compares it, its attributes and w with data.
func checkStored(t *testing.T, b *sinks.Bucket, key string, data []byte, w sinks.Written) {
	t.Helper()
	c := ctx(t)
	if w.Key != key || w.Size != int64(len(data)) || w.SHA256 != sha(data) {
		t.Errorf("Written = {%q %d %s}, want {%q %d %s}", w.Key, w.Size, w.SHA256, key, len(data), sha(data))
	}
	got, err := b.ReadAll(c, key)
	if err != nil {
		t.Fatalf("ReadAll(%q): %v", key, err)
	}
	if sha(got) != sha(data) || len(got) != len(data) {
		t.Errorf("ReadAll(%q): %d bytes sha256 %s, want %d bytes %s", key, len(got), sha(got), len(data), sha(data))
	}
	a, err := b.Attributes(c, key)
	if err != nil {
		t.Fatalf("Attributes(%q): %v", key, err)
	}
	if a.Key != key || a.Size != int64(len(data)) {
		t.Errorf("Attributes(%q) = key %q size %d, want size %d", key, a.Key, a.Size, len(data))
	}
	if sum := md5.Sum(data); a.MD5 != nil && !bytes.Equal(a.MD5, sum[:]) {
		t.Errorf("Attributes(%q).MD5 = %x, want %x", key, a.MD5, sum)
	}
	if a.ModTime.IsZero() {
		t.Errorf("Attributes(%q).ModTime is zero", key)
	}
}

func testPutBytesRoundTrip(t *testing.T, b *sinks.Bucket, p string) {
	data := randomBytes(t, 100_003)
	key := p + "event_date=2026-11-25/part-00000.parquet"
	w, err := b.PutBytes(ctx(t), key, data, sinks.PutOptions{ContentType: "application/vnd.apache.parquet"})
	if err != nil {
		t.Fatalf("PutBytes: %v", err)
	}
	checkStored(t, b, key, data, w)
}

func testPutFileRoundTrip(t *testing.T, b *sinks.Bucket, p string) {
	data := randomBytes(t, 70_001)
	path := filepath.Join(t.TempDir(), "part.parquet")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	key := p + "f.parquet"
	w, err := b.PutFile(ctx(t), key, path, sinks.PutOptions{})
	if err != nil {
		t.Fatalf("PutFile: %v", err)
	}
	checkStored(t, b, key, data, w)
	r, err := b.NewReader(ctx(t), key)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close reader: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("NewReader read %d bytes, want the %d written", len(got), len(data))
	}
}

// testPutFileDigests: with the digests its writer computed, PutFile stores
// the file; when the file no longer matches them (changed on disk since it
// was written, same size), the put fails as an integrity error and no
// object is left at the key.
func testPutFileDigests(t *testing.T, b *sinks.Bucket, p string) {
	data := randomBytes(t, 70_001)
	path := filepath.Join(t.TempDir(), "part.parquet")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s, m := sha256.Sum256(data), md5.Sum(data)
	d := &sinks.Digests{Size: int64(len(data)), SHA256: s[:], MD5: m[:]}
	key := p + "f.parquet"
	w, err := b.PutFile(ctx(t), key, path, sinks.PutOptions{IfNotExist: true, Digests: d})
	if err != nil {
		t.Fatalf("PutFile: %v", err)
	}
	checkStored(t, b, key, data, w)

	changed := slices.Clone(data)
	changed[len(changed)/2] ^= 0xff
	if err := os.WriteFile(path, changed, 0o600); err != nil {
		t.Fatal(err)
	}
	stale := p + "stale.parquet"
	_, err = b.PutFile(ctx(t), stale, path, sinks.PutOptions{IfNotExist: true, Digests: d})
	if !errors.Is(err, sinks.ErrIntegrity) {
		t.Fatalf("PutFile of a file changed since its digests: %v, want ErrIntegrity", err)
	}
	if ok, err := b.Exists(ctx(t), stale); err != nil || ok {
		t.Errorf("after the failed put, Exists(%s) = %v, %v; want false", stale, ok, err)
	}
}

// testReadRange reads a file's tail the way a Parquet footer is read: the
// last 8 bytes, then a range before them, then past the end.
func testReadRange(t *testing.T, b *sinks.Bucket, p string) {
	data := randomBytes(t, 70_001)
	key := p + "part.parquet"
	if _, err := b.PutBytes(ctx(t), key, data, sinks.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	n := int64(len(data))
	for _, tc := range []struct {
		offset, length int64
		want           []byte
	}{
		{n - 8, 8, data[n-8:]},
		{1000, 4096, data[1000:5096]},
		{0, 1, data[:1]},
		{n - 3, 100, data[n-3:]}, // past the end: what there is
		{n - 10, -1, data[n-10:]},
	} {
		got, err := b.ReadRange(ctx(t), key, tc.offset, tc.length)
		if err != nil {
			t.Errorf("ReadRange(%d, %d): %v", tc.offset, tc.length, err)
			continue
		}
		if !bytes.Equal(got, tc.want) {
			t.Errorf("ReadRange(%d, %d) = %d bytes, want the %d bytes stored there", tc.offset, tc.length, len(got), len(tc.want))
		}
	}
	if _, err := b.ReadRange(ctx(t), key, -1, 8); !errors.Is(err, sinks.ErrInvalid) {
		t.Errorf("ReadRange(-1, 8): err = %v, want ErrInvalid", err)
	}
}

func testOverwrite(t *testing.T, b *sinks.Bucket, p string) {
	key := p + "k"
	if _, err := b.PutBytes(ctx(t), key, []byte("first"), sinks.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	w, err := b.PutBytes(ctx(t), key, []byte("second, longer"), sinks.PutOptions{})
	if err != nil {
		t.Fatalf("overwrite: %v", err)
	}
	checkStored(t, b, key, []byte("second, longer"), w)
}

func testIfNotExist(t *testing.T, b *sinks.Bucket, p string) {
	key := p + "_auditexport/log/00000000000000000001.json"
	orig := []byte(`{"commit":1}`)
	w, err := b.PutBytes(ctx(t), key, orig, sinks.PutOptions{IfNotExist: true, ContentType: "application/json"})
	if err != nil {
		t.Fatalf("first IfNotExist put: %v", err)
	}
	checkStored(t, b, key, orig, w)
	for _, other := range [][]byte{[]byte(`{"commit":2}`), []byte(`{"commit":1, "longer":true}`)} {
		_, err = b.PutBytes(ctx(t), key, other, sinks.PutOptions{IfNotExist: true})
		if !errors.Is(err, sinks.ErrExists) {
			t.Fatalf("second IfNotExist put: err = %v, want ErrExists", err)
		}
		if !sinks.IsPermanent(err) {
			t.Errorf("IsPermanent(%v) = false, want true", err)
		}
	}
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("file"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := b.PutFile(ctx(t), key, path, sinks.PutOptions{IfNotExist: true}); !errors.Is(err, sinks.ErrExists) {
		t.Fatalf("IfNotExist PutFile: err = %v, want ErrExists", err)
	}
	got, err := b.ReadAll(ctx(t), key)
	if err != nil || !bytes.Equal(got, orig) {
		t.Errorf("after conflicts ReadAll = %q, %v; want the original %q", got, err, orig)
	}
}

func testIfNotExistRace(t *testing.T, b *sinks.Bucket, p string) {
	key := p + "race"
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = b.PutBytes(ctx(t), key, []byte(strings.Repeat(string(rune('a'+i)), 100+i)), sinks.PutOptions{IfNotExist: true})
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner == -1:
			winner = i
		case err == nil:
			t.Errorf("writers %d and %d both created %s", winner, i, key)
		case !errors.Is(err, sinks.ErrExists):
			t.Errorf("writer %d: %v, want nil or ErrExists", i, err)
		}
	}
	if winner == -1 {
		t.Fatal("no writer created the key")
	}
	got, err := b.ReadAll(ctx(t), key)
	if want := strings.Repeat(string(rune('a'+winner)), 100+winner); err != nil || string(got) != want {
		t.Errorf("stored %q, %v; want the winner's %q", got, err, want)
	}
}

func testNotFound(t *testing.T, b *sinks.Bucket, p string) {
	c, key := ctx(t), p+"missing"
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, sinks.ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", what, err)
		} else if !strings.Contains(err.Error(), key) {
			t.Errorf("%s: message %q does not name the key", what, err)
		}
	}
	_, err := b.NewReader(c, key)
	check("NewReader", err)
	_, err = b.Attributes(c, key)
	check("Attributes", err)
	_, err = b.ReadAll(c, key)
	check("ReadAll", err)
	_, err = b.ReadRange(c, key, 0, 8)
	check("ReadRange", err)
	check("Delete", b.Delete(c, key))
	check("Copy", b.Copy(c, p+"dst", key))
	if ok, err := b.Exists(c, key); ok || err != nil {
		t.Errorf("Exists = %v, %v; want false, nil", ok, err)
	}
}

func listKeys(t *testing.T, b *sinks.Bucket, prefix string) []sinks.Object {
	t.Helper()
	var objs []sinks.Object
	if err := b.List(ctx(t), prefix, func(o sinks.Object) error { objs = append(objs, o); return nil }); err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return objs
}

func keysOf(objs []sinks.Object) []string {
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	return keys
}

func testList(t *testing.T, b *sinks.Bucket, p string) {
	// "a/b.txt" sorts before "a/b/..." ('.' < '/'), which a directory walk
	// gets wrong; "a/bc" is the sibling that a "directory" listing excludes.
	keys := []string{"a/b/2", "a/b/1", "a/b/sub/3", "a/bc/4", "a/b.txt", "a/b/sub/0", "z"}
	for i, k := range keys {
		if _, err := b.PutBytes(ctx(t), p+k, []byte(strings.Repeat("x", i)), sinks.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"a/b/", []string{"a/b/1", "a/b/2", "a/b/sub/0", "a/b/sub/3"}},
		{"a/b", []string{"a/b.txt", "a/b/1", "a/b/2", "a/b/sub/0", "a/b/sub/3", "a/bc/4"}},
		{"a/bc/", []string{"a/bc/4"}},
		{"", []string{"a/b.txt", "a/b/1", "a/b/2", "a/b/sub/0", "a/b/sub/3", "a/bc/4", "z"}},
		{"nothing/", nil},
	} {
		objs := listKeys(t, b, p+tc.prefix)
		var want []string
		for _, k := range tc.want {
			want = append(want, p+k)
		}
		if got := keysOf(objs); !slices.Equal(got, want) {
			t.Errorf("List(%q) = %q, want %q", p+tc.prefix, got, want)
		}
		for _, o := range objs {
			i := slices.Index(keys, strings.TrimPrefix(o.Key, p))
			if o.Size != int64(i) {
				t.Errorf("List: %s size %d, want %d", o.Key, o.Size, i)
			}
			if o.ETag == "" {
				continue
			}
			a, err := b.Attributes(ctx(t), o.Key)
			if err != nil || a.ETag != o.ETag {
				t.Errorf("List ETag of %s = %s, Attributes ETag = %s (%v)", o.Key, o.ETag, a.ETag, err)
			}
		}
	}
}

func testListStops(t *testing.T, b *sinks.Bucket, p string) {
	for _, k := range []string{"1", "2", "3"} {
		if _, err := b.PutBytes(ctx(t), p+k, []byte(k), sinks.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	stop := errors.New("stop")
	n := 0
	err := b.List(ctx(t), p, func(sinks.Object) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("List with a failing callback: err %v after %d calls, want stop after 1", err, n)
	}
}

func testCopy(t *testing.T, b *sinks.Bucket, p string) {
	data := randomBytes(t, 4099)
	src, dst := p+"staging/x.parquet", p+"event_date=2026-11-25/x.parquet"
	if _, err := b.PutBytes(ctx(t), src, data, sinks.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := b.Copy(ctx(t), dst, src); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	for _, k := range []string{src, dst} {
		got, err := b.ReadAll(ctx(t), k)
		if err != nil || sha(got) != sha(data) {
			t.Errorf("after Copy ReadAll(%s): %d bytes, %v; want the %d copied", k, len(got), err, len(data))
		}
	}
}

func testDelete(t *testing.T, b *sinks.Bucket, p string) {
	key := p + "gone"
	if _, err := b.PutBytes(ctx(t), key, []byte("x"), sinks.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx(t), key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if ok, err := b.Exists(ctx(t), key); ok || err != nil {
		t.Errorf("Exists after Delete = %v, %v; want false, nil", ok, err)
	}
	if err := b.Delete(ctx(t), key); !errors.Is(err, sinks.ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}
	if got := keysOf(listKeys(t, b, p)); len(got) != 0 {
		t.Errorf("List after Delete = %q, want nothing", got)
	}
}

func testExists(t *testing.T, b *sinks.Bucket, p string) {
	key := p + "here"
	if ok, err := b.Exists(ctx(t), key); ok || err != nil {
		t.Fatalf("Exists before put = %v, %v", ok, err)
	}
	if _, err := b.PutBytes(ctx(t), key, []byte("x"), sinks.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.Exists(ctx(t), key); !ok || err != nil {
		t.Errorf("Exists after put = %v, %v; want true, nil", ok, err)
	}
	if ok, err := b.Exists(ctx(t), p+"her"); ok || err != nil {
		t.Errorf("Exists of a prefix of a key = %v, %v; want false, nil", ok, err)
	}
}

func testOddKeys(t *testing.T, b *sinks.Bucket, p string) {
	keys := []string{
		"event_date=2026-11-25/part 0.parquet",
		"event_category=user%20login/a=b=c",
		"100%/done+plus",
		"ünïcødé/日本語/😀.json",
		"spaces in dir/  two  spaces",
		"quote'and\"double",
		"hash#and?question&amp",
	}
	slices.Sort(keys)
	for _, k := range keys {
		data := []byte("content of " + k)
		w, err := b.PutBytes(ctx(t), p+k, data, sinks.PutOptions{})
		if err != nil {
			t.Fatalf("PutBytes(%q): %v", k, err)
		}
		checkStored(t, b, p+k, data, w)
	}
	var want []string
	for _, k := range keys {
		want = append(want, p+k)
	}
	if got := keysOf(listKeys(t, b, p)); !slices.Equal(got, want) {
		t.Errorf("List = %q, want %q", got, want)
	}
}

func testEmpty(t *testing.T, b *sinks.Bucket, p string) {
	key := p + "_SUCCESS"
	w, err := b.PutBytes(ctx(t), key, nil, sinks.PutOptions{IfNotExist: true})
	if err != nil {
		t.Fatalf("PutBytes empty: %v", err)
	}
	checkStored(t, b, key, nil, w)
	if w.SHA256 != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("empty SHA256 = %s", w.SHA256)
	}
}

func testLarge(t *testing.T, b *sinks.Bucket, p string) {
	data := randomBytes(t, LargeSize+12345)
	path := filepath.Join(t.TempDir(), "large.parquet")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	key := p + "large.parquet"
	w, err := b.PutFile(ctx(t), key, path, sinks.PutOptions{IfNotExist: true})
	if err != nil {
		t.Fatalf("PutFile large: %v", err)
	}
	checkStored(t, b, key, data, w)
}

func testInvalidKeys(t *testing.T, b *sinks.Bucket, p string) {
	for _, k := range []string{"", "/abs", p + "trailing/", p + "a//b", p + "../up", p + "./x", p + "ctl\x01", p + "bad\xff"} {
		_, err := b.PutBytes(ctx(t), k, []byte("x"), sinks.PutOptions{})
		if !errors.Is(err, sinks.ErrInvalid) || !sinks.IsPermanent(err) {
			t.Errorf("PutBytes(%q): %v, want a permanent ErrInvalid", k, err)
		}
		if _, err := b.Attributes(ctx(t), k); !errors.Is(err, sinks.ErrInvalid) {
			t.Errorf("Attributes(%q): %v, want ErrInvalid", k, err)
		}
	}
}
