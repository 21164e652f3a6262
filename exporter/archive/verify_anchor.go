package archive

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Anchor is a commit number and the SHA-256 of that commit's stored bytes,
// recorded outside the bucket (from a run summary's head_commit and
// head_sha256, or a verify report). The hash chain shows only that the log
// is consistent with itself; someone who can write the bucket can edit the
// head, remove the last commits or rewrite the whole chain consistently.
// An anchor kept elsewhere proves the log still reaches what was written.
type Anchor struct {
	Number int64
	SHA256 string
}

// IsZero reports whether no anchor is set.
func (a Anchor) IsZero() bool { return a.Number == 0 && a.SHA256 == "" }

// String renders the anchor as ParseAnchor reads it: N:SHA.
func (a Anchor) String() string { return fmt.Sprintf("%d:%s", a.Number, a.SHA256) }

// ParseAnchor reads an anchor written as N:SHA, N a commit number (1 or
// more) and SHA the 64 hex digits of the SHA-256 of its stored bytes.
func ParseAnchor(s string) (Anchor, error) {
	num, sum, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return Anchor{}, errors.New("want N:SHA (a commit number, a colon, then 64 hex digits)")
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 1 {
		return Anchor{}, fmt.Errorf("commit number %q is not a number of 1 or more", num)
	}
	sum = strings.ToLower(sum)
	if b, err := hex.DecodeString(sum); err != nil || len(b) != 32 {
		return Anchor{}, fmt.Errorf("sha256 %q is not 64 hex digits", sum)
	}
	return Anchor{Number: n, SHA256: sum}, nil
}

// checkAnchor checks the log against ExpectHead: the anchored commit is in
// the log with the recorded bytes, and every commit after it up to the
// log's head chains back to it. What checkLog reports (a gap, a broken
// link) says where the log is damaged; this says that the recorded head is
// not reached, which is what matters when the whole chain may be forged.
func (v *verifier) checkAnchor() {
	a := v.o.ExpectHead
	if a.IsZero() {
		return
	}
	key := CommitKey(a.Number)
	sum, ok := v.sums[a.Number]
	switch {
	case !ok && a.Number > v.logHead:
		v.rep.errorf(KindHeadMismatch, key, "the expected head is commit %d but the log ends at commit %d: commits were removed from the log after %s was recorded",
			a.Number, v.logHead, a)
		return
	case !ok:
		v.rep.errorf(KindHeadMismatch, key, "the expected head is commit %d, which is missing from the log: it was removed after %s was recorded", a.Number, a)
		return
	case sum != a.SHA256:
		v.rep.errorf(KindHeadMismatch, key, "stored bytes hash to %s, the expected head %s records %s: commit %d was changed after it was recorded",
			sum, a, a.SHA256, a.Number)
		return
	}
	for n := a.Number + 1; n <= v.logHead; n++ {
		c := v.commits[n]
		switch {
		case c == nil:
			v.rep.errorf(KindHeadMismatch, CommitKey(n), "commit %d is missing or damaged: the chain from the expected head %d to the log's head %d cannot be followed past it",
				n, a.Number, v.logHead)
			return
		case c.Previous != v.sums[n-1]:
			v.rep.errorf(KindHeadMismatch, CommitKey(n), "previous_sha256 does not match commit %d's stored bytes: the log's head %d does not chain back to the expected head %d",
				n-1, v.logHead, a.Number)
			return
		}
	}
}
