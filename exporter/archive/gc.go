package archive

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/auditexport/auditexport/sinks"
)

// CollectStaging deletes staging objects older than grace. Call it after
// every unpublished commit has been rolled forward: then no commit needs a
// staged object any more. Younger objects may belong to a run in progress
// and are left alone. It returns how many it deleted.
func CollectStaging(ctx context.Context, b *sinks.Bucket, grace time.Duration, now time.Time) (int, error) {
	var old []string
	err := b.List(ctx, StagingPrefix, func(o sinks.Object) error {
		if !o.ModTime.IsZero() && now.Sub(o.ModTime) > grace {
			old = append(old, o.Key)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("list staging debris: %w", err)
	}
	n := 0
	for _, k := range old {
		if err := b.Delete(ctx, k); err != nil && !errors.Is(err, sinks.ErrNotFound) {
			return n, fmt.Errorf("remove staging debris: %w", err)
		}
		n++
	}
	return n, nil
}
