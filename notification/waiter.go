package notification

import (
	"context"
	"fmt"
	"sync"
)

// Waiter waits for one notification. Create it with Center.Expect or
// Center.ExpectMatch before triggering the action that causes the
// notification, then call Wait. Its registration is removed after the first
// match, by Cancel, or when the context given to Wait is done, so a Waiter
// leaks neither a registration nor a goroutine.
type Waiter struct {
	c      *Center
	name   string
	sender any
	match  func(Notification) bool
	obs    *waiterObserver

	once    sync.Once
	settled chan struct{} // closed once result and err are final
	result  Notification
	err     error
}

// waiterObserver is the registered identity of a Waiter.
type waiterObserver struct {
	w *Waiter
}

func (wo *waiterObserver) HandleNotification(n Notification) {
	w := wo.w
	if w.match != nil && !w.match(n) {
		return
	}
	w.finish(n, nil)
}

// Expect registers a Waiter for the next notification named name (Any for
// every name) posted by sender (nil for every sender). Because the
// registration is in place when Expect returns, a notification posted by an
// action triggered afterwards cannot be missed, even if it is delivered
// before Wait is called.
func (c *Center) Expect(name string, sender any) *Waiter {
	return c.ExpectMatch(name, sender, nil)
}

// ExpectMatch is Expect for the next notification for which match returns
// true; a nil match accepts every notification. match runs on the Waiter's
// delivery goroutine, never on the posting one.
func (c *Center) ExpectMatch(name string, sender any, match func(Notification) bool) *Waiter {
	w := &Waiter{c: c, name: name, sender: sender, match: match, settled: make(chan struct{})}
	w.obs = &waiterObserver{w: w}
	if err := c.AddObserver(w.obs, name, sender); err != nil {
		w.settle(Notification{}, fmt.Errorf("notification: cannot wait for %s: %w", describe(name, sender), err))
	}
	return w
}

// WaitFor registers for the next notification named name posted by sender
// and waits for it until ctx is done. Since it registers only when called, a
// notification posted before the call is missed; use Expect to register
// before triggering an action.
func (c *Center) WaitFor(ctx context.Context, name string, sender any) (Notification, error) {
	return c.Expect(name, sender).Wait(ctx)
}

// Wait returns the first matching notification, which may have arrived
// before Wait was called. If ctx is done first it cancels the Waiter and
// returns ctx's error wrapped with the name and sender waited for; if the
// Center is closed first it returns an error wrapping ErrClosed. Once Wait
// has returned, later calls return the same result.
func (w *Waiter) Wait(ctx context.Context) (Notification, error) {
	select {
	case <-w.settled:
		return w.result, w.err
	default:
	}
	select {
	case <-w.settled:
	case <-ctx.Done():
		w.finish(Notification{}, fmt.Errorf("notification: waiting for %s: %w", describe(w.name, w.sender), ctx.Err()))
	case <-w.c.closedCh:
		w.finish(Notification{}, fmt.Errorf("notification: waiting for %s: %w", describe(w.name, w.sender), ErrClosed))
	}
	return w.result, w.err
}

// Cancel removes the Waiter's registration. A Wait that has not got a
// notification yet returns an error wrapping context.Canceled. Cancel is
// idempotent and does not affect a notification already received.
func (w *Waiter) Cancel() {
	w.finish(Notification{}, fmt.Errorf("notification: waiting for %s: %w", describe(w.name, w.sender), context.Canceled))
}

// finish removes the Waiter's registration and then settles it, unless it
// is already settled, so that the registration is gone when Wait returns.
func (w *Waiter) finish(n Notification, err error) {
	w.c.PurgeObserver(w.obs)
	w.settle(n, err)
}

func (w *Waiter) settle(n Notification, err error) {
	w.once.Do(func() {
		w.result, w.err = n, err
		close(w.settled)
	})
}
