package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/auditexport/auditexport/sinks"
)

// LeaseName is the object a run keeps in its staging directory
// (StagingPrefix + run id + "/") while it may still commit what it staged.
const LeaseName = "lease.json"

// LeaseKey is the key of a run's lease.
func LeaseKey(runID string) string { return StagingPrefix + runID + "/" + LeaseName }

// LeaseRenewal is how often a run renews its lease: every quarter of the
// grace period, and at least every five minutes.
func LeaseRenewal(grace time.Duration) time.Duration {
	return max(min(grace/4, 5*time.Minute), 10*time.Millisecond)
}

// stagingRunDir is the run directory of a staging key (StagingPrefix + run
// id + "/"), or the key itself when it is not in one.
func stagingRunDir(key string) string {
	run, _, ok := strings.Cut(strings.TrimPrefix(key, StagingPrefix), "/")
	if !ok {
		return key
	}
	return StagingPrefix + run + "/"
}

// CollectStaging deletes the staging directories of runs that are gone:
// those (StagingPrefix + run id + "/") in which every object, the run's
// lease included, is older than grace. A run renews its lease (HoldLease)
// far more often than that, so nothing it staged is deleted however long
// it runs. An object directly under StagingPrefix goes by its own age. It
// also removes the temp files of interrupted writes older than grace
// (sinks.Bucket.RemoveTempFiles). Call it after every unpublished commit
// has been rolled forward: then no commit needs a staged object any more.
// It returns how many objects it deleted.
func CollectStaging(ctx context.Context, b *sinks.Bucket, grace time.Duration, now time.Time) (int, error) {
	type runDir struct {
		keys  []string
		young bool
	}
	dirs := map[string]*runDir{}
	err := b.List(ctx, StagingPrefix, func(o sinks.Object) error {
		dk := stagingRunDir(o.Key)
		d := dirs[dk]
		if d == nil {
			d = &runDir{}
			dirs[dk] = d
		}
		d.keys = append(d.keys, o.Key)
		if o.ModTime.IsZero() || now.Sub(o.ModTime) <= grace {
			d.young = true
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("list staging debris: %w", err)
	}
	n := 0
	for _, dk := range sortedKeys(dirs) {
		d := dirs[dk]
		if d.young {
			continue
		}
		lease := dk + LeaseName
		if strings.HasSuffix(dk, "/") {
			// The run may have renewed its lease since the listing.
			o, err := b.Attributes(ctx, lease)
			if err != nil && !errors.Is(err, sinks.ErrNotFound) {
				return n, fmt.Errorf("read the lease of staging debris: %w", err)
			}
			if err == nil && (o.ModTime.IsZero() || now.Sub(o.ModTime) <= grace) {
				continue
			}
		}
		// The lease goes last: a collection cut short leaves a directory
		// that still reads as a dead run's.
		slices.SortStableFunc(d.keys, func(a, b string) int {
			switch {
			case a == lease:
				return 1
			case b == lease:
				return -1
			}
			return 0
		})
		for _, k := range d.keys {
			if err := b.Delete(ctx, k); err != nil && !errors.Is(err, sinks.ErrNotFound) {
				return n, fmt.Errorf("remove staging debris: %w", err)
			}
			n++
		}
	}
	m, err := b.RemoveTempFiles(ctx, now.Add(-grace))
	n += m
	if err != nil {
		return n, fmt.Errorf("remove temp files of interrupted writes: %w", err)
	}
	return n, nil
}

// Lease keeps a run's staging directory from being collected as debris
// while the run may still commit what it staged: an object in the
// directory that the run rewrites every LeaseRenewal(grace), so the
// directory never has every object older than grace (see CollectStaging).
type Lease struct {
	b     *sinks.Bucket
	key   string
	runID string
	grace time.Duration
	log   *slog.Logger
	now   func() time.Time // a monotonic clock
	stop  chan struct{}
	done  chan struct{}

	mu      sync.Mutex
	renewed time.Time     // the last renewal that succeeded
	gap     time.Duration // the longest time between two renewals that succeeded
}

// HoldLease writes the lease of runID's staging directory and renews it in
// the background until Release. A renewal that fails is logged and tried
// again at the next tick; Check tells whether the lease held.
func HoldLease(ctx context.Context, b *sinks.Bucket, runID string, grace time.Duration, log *slog.Logger) (*Lease, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Lease{b: b, key: LeaseKey(runID), runID: runID, grace: grace, log: log, now: time.Now,
		stop: make(chan struct{}), done: make(chan struct{})}
	if err := l.renew(ctx); err != nil {
		return nil, err
	}
	go l.loop(ctx, LeaseRenewal(grace))
	return l, nil
}

func (l *Lease) loop(ctx context.Context, every time.Duration) {
	defer close(l.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			if err := l.renew(ctx); err != nil && ctx.Err() == nil {
				l.log.Warn("renew the staging lease", "key", l.key, "err", err)
			}
		}
	}
}

// renew rewrites the lease object, which gives it a new modification time.
func (l *Lease) renew(ctx context.Context) error {
	at := l.now()
	body, err := json.Marshal(struct {
		RunID   string    `json:"run_id"`
		Renewed time.Time `json:"renewed"`
	}{l.runID, at.UTC()})
	if err != nil {
		return err
	}
	if _, err := l.b.PutBytes(ctx, l.key, append(body, '\n'), sinks.PutOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("write the staging lease: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.renewed.IsZero() {
		l.gap = max(l.gap, at.Sub(l.renewed))
	}
	l.renewed = at
	return nil
}

// Check returns an error when the lease may have lapsed: at some point up
// to now it went more than half the grace period without a renewal (the
// other half allows for clocks that disagree), so another run may have
// taken the staging directory for debris.
func (l *Lease) Check() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	gap := max(l.gap, l.now().Sub(l.renewed))
	if gap > l.grace/2 {
		return fmt.Errorf("staging lease %s was not renewed for %s, more than half of the staging grace period %s: another run may have removed what this run staged; nothing was committed, run it again",
			l.key, gap.Round(time.Second), l.grace)
	}
	return nil
}

// Release stops renewing the lease and deletes it.
func (l *Lease) Release(ctx context.Context) {
	close(l.stop)
	<-l.done
	if err := l.b.Delete(ctx, l.key); err != nil && !errors.Is(err, sinks.ErrNotFound) {
		l.log.Warn("remove the staging lease", "key", l.key, "err", err)
	}
}
