package archive

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/auditexport/auditexport/sinks"
)

// Finding kinds. Each names one way an archive can differ from what its
// commit log says; docs/archive-format.md lists what each one means.
const (
	// The commit log.
	KindCommitMissing = "commit_missing" // a number between 1 and the head has no commit
	KindCommitDamaged = "commit_damaged" // a commit does not parse, or says another number, or lists impossible keys
	KindChainBroken   = "chain_broken"   // previous_sha256 does not match the stored bytes of the commit before
	KindHeadMismatch  = "head_mismatch"  // the log does not reach the head recorded outside the bucket (--expect-head)
	KindUnpublished   = "unpublished"    // a commit has no published marker
	// Committed objects.
	KindFileMissing    = "file_missing"    // a committed data or key file is not in the bucket
	KindSizeMismatch   = "size_mismatch"   // a committed object has another size than its commit records
	KindSHA256Mismatch = "sha256_mismatch" // a committed object's bytes hash to another sha256
	KindRowsMismatch   = "rows_mismatch"   // rows or key counts disagree (file footer, key file, commit)
	KindDataDamaged    = "data_damaged"    // a committed Parquet file whose footer cannot be read
	KindKeysDamaged    = "keys_damaged"    // a key file that is not a valid, sorted key file
	KindDuplicateKey   = "duplicate_key"   // one event key is held twice in a partition's key files, or in two partitions
	KindManifestBad    = "manifest_mismatch"
	// Objects no commit accounts for.
	KindUnexpectedFile = "unexpected_file" // an object in the layout or under _auditexport/ that no commit lists
	KindStagingDebris  = "staging_debris"  // staged objects no unpublished commit needs (info)
	// The source.
	KindSourceMismatch = "source_mismatch" // per-partition distinct event counts differ from the source's
)

// Severities of a finding. An error means the archive is not what its log
// says (or cannot be proven to be); an info is worth knowing and harmless.
const (
	SeverityError = "error"
	SeverityInfo  = "info"
)

// Finding is one thing verify found wrong (or worth knowing) about one
// object of the archive.
type Finding struct {
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	// Key is the object the finding is about, relative to the archive
	// prefix (for a partition-wide finding, the partition or its key
	// directory).
	Key    string `json:"key"`
	Detail string `json:"detail"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%-5s %-17s %s: %s", f.Severity, f.Kind, f.Key, f.Detail)
}

// VerifyOptions select what Verify checks.
type VerifyOptions struct {
	// ReadData downloads every committed data file in range, checks its
	// sha256, and reads its row count from the Parquet footer.
	ReadData bool
	// From and To (YYYY-MM-DD, inclusive; "" is unbounded) restrict the
	// per-partition checks to partitions whose event_date is in range. The
	// commit log, its hash chain and the published markers are always
	// checked in full.
	From, To string
	// WorkDir holds the temporary copy of each data file --read-data reads
	// (default: the system temp dir).
	WorkDir string
	// ExpectHead, when set, is a head recorded outside the bucket (a run
	// summary's head_commit and head_sha256): the log must hold that
	// commit with those bytes and chain from it to its head.
	ExpectHead Anchor
	// Workers bounds concurrent reads (default 8).
	Workers int
	Logger  *slog.Logger
	// Now is the clock, for the age of staging debris (default time.Now).
	Now func() time.Time
}

// Report is what Verify checked and found.
type Report struct {
	Tiers []string `json:"tiers"`
	From  string   `json:"from,omitempty"`
	To    string   `json:"to,omitempty"`
	// Commits is how many commits the log holds; Head the highest commit
	// number the archive shows evidence of (log or published marker).
	Commits int   `json:"commits"`
	Head    int64 `json:"head"`
	// HeadSHA256 is the SHA-256 of the head commit's stored bytes ("" when
	// the head is missing): with Head, the anchor to record outside the
	// bucket.
	HeadSHA256 string `json:"head_sha256,omitempty"`
	// ExpectHead is the anchor checked (--expect-head), as N:SHA.
	ExpectHead string `json:"expect_head,omitempty"`
	// Counts of what was checked in range.
	Partitions int   `json:"partitions"`
	Files      int   `json:"files"`
	FileBytes  int64 `json:"file_bytes"`
	Rows       int64 `json:"rows"`
	KeyFiles   int   `json:"key_files"`
	Keys       int64 `json:"keys"`
	Manifests  int   `json:"manifests"`
	// DataFilesRead and BytesRead count what --read-data downloaded.
	DataFilesRead int   `json:"data_files_read,omitempty"`
	BytesRead     int64 `json:"bytes_read,omitempty"`
	// SourcePartitions is how many partitions were compared with the source.
	SourcePartitions int `json:"source_partitions,omitempty"`

	Findings []Finding `json:"findings"`

	// PartitionRows maps each partition in range to the rows of its
	// committed files that are present in the bucket: what a reader of
	// the layout gets.
	PartitionRows map[string]int64 `json:"-"`
	// PartitionCommits maps each partition in range to the commits that
	// add files to it, ascending.
	PartitionCommits map[string][]int64 `json:"-"`

	mu sync.Mutex
}

func (r *Report) add(kind, severity, key, format string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Findings = append(r.Findings, Finding{Kind: kind, Severity: severity, Key: key, Detail: fmt.Sprintf(format, a...)})
}

func (r *Report) errorf(kind, key, format string, a ...any) {
	r.add(kind, SeverityError, key, format, a...)
}

func (r *Report) infof(kind, key, format string, a ...any) {
	r.add(kind, SeverityInfo, key, format, a...)
}

// Errors counts the error findings.
func (r *Report) Errors() int { return r.count(SeverityError) }

// Infos counts the info findings.
func (r *Report) Infos() int { return r.count(SeverityInfo) }

func (r *Report) count(sev string) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == sev {
			n++
		}
	}
	return n
}

// Kinds counts findings by kind.
func (r *Report) Kinds() map[string]int {
	out := map[string]int{}
	for _, f := range r.Findings {
		out[f.Kind]++
	}
	return out
}

// Has reports whether the report holds a finding of kind about key ("" for
// any key).
func (r *Report) Has(kind, key string) bool {
	for _, f := range r.Findings {
		if f.Kind == kind && (key == "" || f.Key == key) {
			return true
		}
	}
	return false
}

// sortFindings puts errors first, then by key and kind, so the report reads
// the same on every run.
func (r *Report) sortFindings() {
	rank := func(s string) int {
		if s == SeverityError {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(r.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(rank(a.Severity), rank(b.Severity)), strings.Compare(a.Key, b.Key), strings.Compare(a.Kind, b.Kind))
	})
}

// Verify checks that the archive in b is what its commit log says, like
// restic's check: the log is numbered 1..N without gaps, every commit
// parses and chains to the stored bytes of the one before, every commit is
// published, every committed data and key file is there with its recorded
// size, nothing in the layout is missing from the log, no event key is held
// twice in the archive, and every manifest is what the log implies; with
// ExpectHead, that the log still holds a head recorded outside it. With
// ReadData it also downloads every committed data file and checks its
// sha256 and footer row count. It reads only; it never changes the archive.
//
// A returned error means verify could not do its job (the bucket could not
// be listed or read); what is wrong with the archive is in the report.
func Verify(ctx context.Context, b *sinks.Bucket, opts VerifyOptions) (*Report, error) {
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	for _, d := range []struct{ name, v string }{{"from", opts.From}, {"to", opts.To}} {
		if d.v == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, d.v); err != nil {
			return nil, fmt.Errorf("verify: %s date %q is not YYYY-MM-DD", d.name, d.v)
		}
	}
	if opts.From != "" && opts.To != "" && opts.To < opts.From {
		return nil, fmt.Errorf("verify: to date %s is before from date %s", opts.To, opts.From)
	}
	if !opts.ExpectHead.IsZero() {
		if _, err := ParseAnchor(opts.ExpectHead.String()); err != nil {
			return nil, fmt.Errorf("verify: expected head: %w", err)
		}
	}
	v := &verifier{
		b:    b,
		o:    opts,
		rep:  &Report{Tiers: []string{"structure"}, From: opts.From, To: opts.To, Findings: []Finding{}, PartitionRows: map[string]int64{}, PartitionCommits: map[string][]int64{}},
		log:  opts.Logger.With("component", "verify"),
		objs: map[string]sinks.Object{},
	}
	if opts.ReadData {
		v.rep.Tiers = append(v.rep.Tiers, "read-data")
	}
	if !opts.ExpectHead.IsZero() {
		v.rep.ExpectHead = opts.ExpectHead.String()
	}
	if err := v.list(ctx); err != nil {
		return nil, err
	}
	if err := v.checkLog(ctx); err != nil {
		return nil, err
	}
	v.checkAnchor()
	v.indexCommits()
	v.checkCommitted()
	v.checkLayout()
	v.checkStaging()
	if err := v.checkKeys(ctx); err != nil {
		return nil, err
	}
	if err := v.checkManifests(ctx); err != nil {
		return nil, err
	}
	if opts.ReadData {
		if err := v.readData(ctx); err != nil {
			return nil, err
		}
	}
	v.rep.sortFindings()
	v.log.Info("verified", "commits", v.rep.Commits, "partitions", v.rep.Partitions, "files", v.rep.Files,
		"errors", v.rep.Errors(), "infos", v.rep.Infos())
	return v.rep, nil
}

// verifier is the state of one Verify.
type verifier struct {
	b   *sinks.Bucket
	o   VerifyOptions
	rep *Report
	log *slog.Logger

	// objs is the listing of the whole archive, by key.
	objs map[string]sinks.Object
	// logKeys, markerKeys, keyObjs, layout and staging split the listing.
	logKeys    []string
	markerKeys []string
	keyObjs    []sinks.Object
	layout     []sinks.Object
	staging    []sinks.Object

	// commits are the commits that parse, by number; published marks those
	// with a marker.
	commits   map[int64]*Commit
	published map[int64]bool
	// sums are the SHA-256 of each commit's stored bytes; logHead is the
	// highest commit number in the log.
	sums    map[int64]string
	logHead int64
	// lost are the commits that are missing or cannot be read: what they
	// listed shows up as objects no commit accounts for.
	lost []int64

	// files and keyFiles index what the commits list, by key.
	files    map[string]fileRef
	keyFiles map[string]keyRef
	// stagingRefs maps staged keys to the commit that lists them.
	stagingRefs map[string]int64
}

type fileRef struct {
	commit int64
	File
}

type keyRef struct {
	commit int64
	KeyFile
}

// list reads the whole listing of the archive once; every later check
// works from it, so the structural tier costs one listing plus the small
// objects (commits, manifests, key files).
func (v *verifier) list(ctx context.Context) error {
	err := v.b.List(ctx, "", func(o sinks.Object) error {
		v.objs[o.Key] = o
		switch {
		case strings.HasPrefix(o.Key, LogPrefix):
			v.logKeys = append(v.logKeys, o.Key)
		case strings.HasPrefix(o.Key, PublishedPrefix):
			v.markerKeys = append(v.markerKeys, o.Key)
		case strings.HasPrefix(o.Key, KeysPrefix):
			v.keyObjs = append(v.keyObjs, o)
		case strings.HasPrefix(o.Key, StagingPrefix):
			v.staging = append(v.staging, o)
		case strings.HasPrefix(o.Key, RejectsPrefix):
		case strings.HasPrefix(o.Key, InternalPrefix):
			v.rep.infof(KindUnexpectedFile, o.Key, "not part of the archive format; auditexport neither writes nor reads it")
		default:
			v.layout = append(v.layout, o)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list the archive: %w", err)
	}
	return nil
}

// partitionDate is the event_date of a partition path, "" when it has none.
func partitionDate(partition string) string {
	d, ok := PartitionDate(partition)
	if !ok {
		return ""
	}
	if _, err := time.Parse(time.DateOnly, d); err != nil {
		return ""
	}
	return d
}

// inRange reports whether a partition is inside From..To. A path that
// names no date is always checked: nothing else would vouch for it.
func (v *verifier) inRange(partition string) bool {
	d := partitionDate(partition)
	if d == "" {
		return true
	}
	return (v.o.From == "" || d >= v.o.From) && (v.o.To == "" || d <= v.o.To)
}

// forEach calls fn for 0..n-1 on at most workers goroutines and returns the
// first error.
func forEach(ctx context.Context, workers, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				if err := fn(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// partitionOf is the partition directory of a layout key.
func partitionOf(key string) string { return path.Dir(key) }
