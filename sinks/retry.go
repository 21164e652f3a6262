package sinks

import (
	"context"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// RetryPolicy bounds the retries of idempotent calls (List pages, Attributes,
// opening a reader, ReadAll, Copy, Delete, Exists, and every Put; see PutFile
// for how a create-if-absent Put is retried). Only transient errors are
// retried (see IsPermanent); waits grow exponentially with jitter (±50%) up
// to MaxInterval. The zero value means the defaults.
//
// The SDKs under gocloud retry too (the AWS SDK, for one, makes up to 3
// attempts by default); this policy wraps whole calls around theirs.
type RetryPolicy struct {
	// MaxTries counts every attempt, the first included. 0 means 5; 1 turns
	// retries off.
	MaxTries int
	// InitialInterval is the first wait. 0 means 500ms.
	InitialInterval time.Duration
	// MaxInterval caps one wait. 0 means 10s.
	MaxInterval time.Duration
	// MaxElapsedTime caps the time spent retrying one call. 0 means 2m.
	MaxElapsedTime time.Duration
	// OnRetry, if set, is called before each wait with the (already classified
	// and redacted) error, e.g. to log it.
	OnRetry func(op, key string, err error, wait time.Duration)
}

// Default retry settings.
const (
	DefaultMaxTries        = 5
	DefaultInitialInterval = 500 * time.Millisecond
	DefaultMaxInterval     = 10 * time.Second
	DefaultMaxElapsedTime  = 2 * time.Minute
)

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxTries <= 0 {
		p.MaxTries = DefaultMaxTries
	}
	if p.InitialInterval <= 0 {
		p.InitialInterval = DefaultInitialInterval
	}
	if p.MaxInterval <= 0 {
		p.MaxInterval = DefaultMaxInterval
	}
	if p.MaxInterval < p.InitialInterval {
		p.MaxInterval = p.InitialInterval
	}
	if p.MaxElapsedTime <= 0 {
		p.MaxElapsedTime = DefaultMaxElapsedTime
	}
	return p
}

// retry runs fn until it succeeds, returns a permanent error, or b's policy
// is used up. Each error of fn is classified once (conditional as for
// classify) before IsPermanent decides; the error returned is the last one,
// classified, or the context's error if ctx ended between tries.
func retry[T any](ctx context.Context, b *Bucket, op, key string, conditional bool, fn func() (T, error)) (T, error) {
	p := b.retryPolicy
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = p.InitialInterval
	bo.MaxInterval = p.MaxInterval
	bo.RandomizationFactor = 0.5
	bo.Multiplier = 2
	opts := []backoff.RetryOption{
		backoff.WithBackOff(bo),
		backoff.WithMaxTries(uint(p.MaxTries)),
		backoff.WithMaxElapsedTime(p.MaxElapsedTime),
	}
	if p.OnRetry != nil {
		opts = append(opts, backoff.WithNotify(func(err error, d time.Duration) { p.OnRetry(op, b.fullKey(key), err, d) }))
	}
	v, err := backoff.Retry(ctx, func() (T, error) {
		v, err := fn()
		if err == nil {
			return v, nil
		}
		err = b.classify(op, key, err, conditional)
		if IsPermanent(err) {
			return v, backoff.Permanent(err)
		}
		return v, err
	}, opts...)
	return v, b.classify(op, key, err, conditional)
}
