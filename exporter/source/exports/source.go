package exports

import (
	"context"
	"fmt"

	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/sinks"
)

// Source reads Sigma's scheduled exports from a landing prefix: every
// object whose name ends in .csv, .jsonl or .ndjson, optionally followed by
// .gz. Gzip is detected by its magic bytes, so a compressed file without .gz
// (or the reverse) still reads correctly.
type Source struct {
	bucket *sinks.Bucket
	// Skipped lists objects under the prefix that are not exports.
	Skipped []string
}

var _ source.Source = (*Source)(nil)

// New reads exports from b; the caller keeps ownership of b unless it calls
// Close.
func New(b *sinks.Bucket) *Source { return &Source{bucket: b} }

// Describe implements source.Source.
func (e *Source) Describe() string { return "sigma exports in " + e.bucket.String() }

// List implements source.Source: every export object under the prefix, in
// key order (Sigma's date-prefixed names sort by run time). The window does
// not narrow the list: each export holds up to 30 days of events.
func (e *Source) List(ctx context.Context, _ source.Window) ([]source.Input, error) {
	var ins []source.Input
	e.Skipped = nil
	err := e.bucket.List(ctx, "", func(o sinks.Object) error {
		if _, ok := source.FormatOf(o.Key); !ok {
			e.Skipped = append(e.Skipped, o.Key)
			return nil
		}
		ins = append(ins, source.Input{Key: o.Key, ETag: o.ETag, Size: o.Size, ModTime: o.ModTime})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list sigma exports: %w", err)
	}
	for i := range ins {
		if ins[i].ETag != "" {
			continue
		}
		a, err := e.bucket.Attributes(ctx, ins[i].Key)
		if err != nil {
			return nil, fmt.Errorf("list sigma exports: %w", err)
		}
		ins[i].ETag, ins[i].Size, ins[i].ModTime = a.ETag, a.Size, a.ModTime
	}
	return ins, nil
}

// Open implements source.Source.
func (e *Source) Open(ctx context.Context, in source.Input, _ source.Window) (source.Reader, error) {
	if _, ok := source.FormatOf(in.Key); !ok {
		return nil, fmt.Errorf("open %s: not a sigma export (want .csv, .csv.gz, .jsonl or .jsonl.gz)", in.Key)
	}
	rc, err := e.bucket.NewReader(ctx, in.Key)
	if err != nil {
		return nil, err
	}
	rd, _, err := source.OpenStream(rc, in.Key)
	return rd, err
}

// Close implements source.Source.
func (e *Source) Close() error { return e.bucket.Close() }
