package core

import (
	"context"
	"fmt"
)

// Limiter caps how many requests are in flight at once: an application
// registering thousands of accounts shares one Limiter between their
// Registrations so that a burst neither overflows socket buffers nor
// floods the registrar. It is a counted semaphore; every Acquire that
// succeeds must be matched by one Release. A nil *Limiter imposes no limit.
type Limiter struct {
	slots chan struct{}
}

// NewLimiter returns a Limiter allowing n requests in flight (n > 0).
func NewLimiter(n int) (*Limiter, error) {
	if n <= 0 {
		return nil, fmt.Errorf("limiter: size %d, want a positive number", n)
	}
	return &Limiter{slots: make(chan struct{}, n)}, nil
}

// Acquire waits for a free slot or for ctx to end.
func (l *Limiter) Acquire(ctx context.Context) error {
	if l == nil {
		return nil
	}
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Release frees a slot taken by Acquire.
func (l *Limiter) Release() {
	if l == nil {
		return
	}
	select {
	case <-l.slots:
	default:
		panic("core: Limiter.Release without Acquire")
	}
}

// InFlight reports how many slots are taken.
func (l *Limiter) InFlight() int {
	if l == nil {
		return 0
	}
	return len(l.slots)
}
