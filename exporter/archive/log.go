package archive

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"

	"github.com/auditexport/auditexport/sinks"
)

// ErrConflict means another run created the commit this run meant to
// create. The run re-plans against the new log; it never overwrites.
var ErrConflict = errors.New("another run committed first")

// State is what a run needs from the log: the head commit and the commits
// whose files are not all published yet.
type State struct {
	// Head is the latest commit, nil for an empty archive.
	Head *Commit
	// HeadSHA256 is the hash of the head commit's stored bytes.
	HeadSHA256 string
	// Numbers are all commit numbers in the log, ascending.
	Numbers []int64
	// Unpublished are the commits without a published marker, ascending.
	Unpublished []int64
}

// NextNumber is the number the next commit takes.
func (s *State) NextNumber() int64 {
	if s.Head == nil {
		return 1
	}
	return s.Head.Number + 1
}

// LoadState lists the log and the published markers and reads the head.
func LoadState(ctx context.Context, b *sinks.Bucket) (*State, error) {
	st := &State{}
	if err := b.List(ctx, LogPrefix, func(o sinks.Object) error {
		if n, ok := parseNumber(path.Base(o.Key)); ok && path.Ext(o.Key) == ".json" {
			st.Numbers = append(st.Numbers, n)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read the commit log: %w", err)
	}
	slices.Sort(st.Numbers)
	if len(st.Numbers) == 0 {
		return st, nil
	}
	published := map[int64]bool{}
	if err := b.List(ctx, PublishedPrefix, func(o sinks.Object) error {
		if n, ok := parseNumber(path.Base(o.Key)); ok {
			published[n] = true
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read the published markers: %w", err)
	}
	for _, n := range st.Numbers {
		if !published[n] {
			st.Unpublished = append(st.Unpublished, n)
		}
	}
	head, raw, err := ReadCommit(ctx, b, st.Numbers[len(st.Numbers)-1])
	if err != nil {
		return nil, err
	}
	st.Head, st.HeadSHA256 = head, SHA256(raw)
	return st, nil
}

// ReadCommit reads and parses commit n, returning its stored bytes too.
func ReadCommit(ctx context.Context, b *sinks.Bucket, n int64) (*Commit, []byte, error) {
	raw, err := b.ReadAll(ctx, CommitKey(n))
	if err != nil {
		return nil, nil, fmt.Errorf("read commit %d: %w", n, err)
	}
	c, err := DecodeCommit(raw)
	if err != nil {
		return nil, nil, &DamagedError{Key: CommitKey(n), Err: fmt.Errorf("commit %d (%s) is damaged: %w", n, CommitKey(n), err)}
	}
	if c.Number != n {
		return nil, nil, &DamagedError{Key: CommitKey(n), Err: fmt.Errorf("commit %d (%s) says it is number %d", n, CommitKey(n), c.Number)}
	}
	return c, raw, nil
}

// Append creates commit c in the log, only if no commit with its number
// exists, and returns the SHA-256 of the stored bytes: what commit c+1
// records as previous_sha256, and the anchor a user keeps outside the
// bucket. A lost race returns ErrConflict. A retried write that finds its
// own earlier attempt stored counts as success.
func Append(ctx context.Context, b *sinks.Bucket, c *Commit) (string, error) {
	data, err := c.Encode()
	if err != nil {
		return "", err
	}
	sum := SHA256(data)
	_, err = b.PutBytes(ctx, CommitKey(c.Number), data, sinks.PutOptions{IfNotExist: true, ContentType: "application/json"})
	if errors.Is(err, sinks.ErrExists) {
		stored, rerr := b.ReadAll(ctx, CommitKey(c.Number))
		if rerr == nil && string(stored) == string(data) {
			return sum, nil
		}
		return "", fmt.Errorf("commit %d: %w", c.Number, ErrConflict)
	}
	if err != nil {
		// A failed call may still have stored the commit (a lost response):
		// if the log holds exactly our bytes, the commit is ours.
		if stored, rerr := b.ReadAll(ctx, CommitKey(c.Number)); rerr == nil && string(stored) == string(data) {
			return sum, nil
		}
		return "", fmt.Errorf("write commit %d: %w", c.Number, err)
	}
	return sum, nil
}
