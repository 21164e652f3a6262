package archive

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/auditexport/auditexport/sinks"
)

// CollectStaging deletes staging objects older than grace that no
// unpublished commit still needs (keep). Younger objects may belong to a
// run in progress and are left alone. It returns how many it deleted.
func CollectStaging(ctx context.Context, b *sinks.Bucket, keep map[string]bool, grace time.Duration, now time.Time) (int, error) {
	var old []string
	err := b.List(ctx, StagingPrefix, func(o sinks.Object) error {
		if !keep[o.Key] && !o.ModTime.IsZero() && now.Sub(o.ModTime) > grace {
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

// StagingKeys lists the staging objects a commit refers to.
func (c *Commit) StagingKeys() []string {
	var ks []string
	for _, f := range c.Files {
		ks = append(ks, f.Staging)
	}
	for _, k := range c.Keys {
		ks = append(ks, k.Staging)
	}
	return ks
}
