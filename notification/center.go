package notification

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

const defaultQueueLimit = 65536

// config holds the settings applied by Options.
type config struct {
	queueLimit int
	logger     *slog.Logger
}

// Option configures a Center created by NewCenter.
type Option func(*config)

// WithQueueLimit sets the number of notifications each observer may hold
// before further ones are dropped (65536 by default). A value below 1 keeps
// the default.
func WithQueueLimit(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.queueLimit = n
		}
	}
}

// WithLogger sets the logger used for handler panics and queue overflows
// (slog.Default() at the time NewCenter is called, by default). A nil logger
// keeps the default.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// Center matches posted notifications against registrations and delivers
// them to observers. Create one with NewCenter; the zero value is not usable.
// All methods are safe for concurrent use, including from handlers.
type Center struct {
	queueLimit int
	logger     *slog.Logger

	// idx holds the registrations, read by Post without locking and
	// changed under mu; nil once closed.
	idx      atomic.Pointer[index]
	closedCh chan struct{}

	mu        sync.Mutex
	closed    bool
	observers map[Observer]*observer // identities with at least one registration
	retired   map[Observer]*observer // identities whose goroutine is still exiting
}

// NewCenter returns a new, empty Center.
func NewCenter(opts ...Option) *Center {
	cfg := config{queueLimit: defaultQueueLimit}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	c := &Center{
		queueLimit: cfg.queueLimit,
		logger:     cfg.logger,
		closedCh:   make(chan struct{}),
		observers:  make(map[Observer]*observer),
		retired:    make(map[Observer]*observer),
	}
	c.idx.Store(newIndex())
	return c
}

// AddObserver registers o for the notifications named name (Any for every
// name) posted by sender (nil for every sender). Adding a registration that
// already exists does nothing. The first registration of o creates its
// queue; its goroutine runs only while notifications wait for it.
//
// It returns an error wrapping ErrInvalidObserver if o is nil or not
// comparable, ErrInvalidSender if sender is not comparable, and ErrClosed if
// the Center is closed.
func (c *Center) AddObserver(o Observer, name string, sender any) error {
	if err := checkObserver(o); err != nil {
		return err
	}
	if err := checkSender(sender); err != nil {
		return err
	}
	key := regKey{name: name, sender: sender}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return fmt.Errorf("notification: adding observer %T for %s: %w", o, describe(name, sender), ErrClosed)
	}
	ob := c.observers[o]
	if ob == nil {
		prev := c.retired[o]
		delete(c.retired, o)
		ob = newObserver(c, o, prev)
		c.observers[o] = ob
	} else if _, dup := ob.regs[key]; dup {
		return nil
	}
	ob.regs[key] = struct{}{}
	c.idx.Load().add(key, ob)
	return nil
}

// RemoveObserver removes the registration of o for name and sender, which
// must match the arguments given to AddObserver. If it was the last
// registration of o, the notifications queued for o that have not started to
// be delivered are discarded and its goroutine exits; a handler call already
// under way runs to completion. A notification posted after RemoveObserver
// has returned does not match the removed registration.
//
// If the registration does not exist it returns an error wrapping
// ErrNotObserving that names the observer type, name and sender (and also
// wrapping ErrClosed if the Center is closed).
func (c *Center) RemoveObserver(o Observer, name string, sender any) error {
	if err := checkObserver(o); err != nil {
		return fmt.Errorf("%w: observer %T, name %s, sender %s: %w",
			ErrNotObserving, o, describeName(name), describeSender(sender), err)
	}
	if err := checkSender(sender); err != nil {
		return fmt.Errorf("%w: observer %T, name %s: %w", ErrNotObserving, o, describeName(name), err)
	}
	key := regKey{name: name, sender: sender}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return fmt.Errorf("%w: observer %T, name %s, sender %s: %w",
			ErrNotObserving, o, describeName(name), describeSender(sender), ErrClosed)
	}
	ob := c.observers[o]
	if ob != nil {
		if _, ok := ob.regs[key]; ok {
			c.unregisterLocked(ob, []regKey{key})
			return nil
		}
	}
	return fmt.Errorf("%w: observer %T, name %s, sender %s",
		ErrNotObserving, o, describeName(name), describeSender(sender))
}

// DiscardObserver is RemoveObserver without the error: it removes the
// registration if it exists and does nothing otherwise.
func (c *Center) DiscardObserver(o Observer, name string, sender any) {
	_ = c.RemoveObserver(o, name, sender)
}

// PurgeObserver removes every registration of o, discarding the
// notifications queued for it that have not started to be delivered. It does
// nothing if o has no registration.
func (c *Center) PurgeObserver(o Observer) {
	if checkObserver(o) != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ob := c.observers[o]
	if ob == nil {
		return
	}
	keys := make([]regKey, 0, len(ob.regs))
	for k := range ob.regs {
		keys = append(keys, k)
	}
	c.unregisterLocked(ob, keys)
}

// unregisterLocked removes the registrations keys of ob, all of which exist,
// and stops ob when none is left. c.mu must be held.
func (c *Center) unregisterLocked(ob *observer, keys []regKey) {
	c.idx.Load().remove(keys, ob)
	for _, k := range keys {
		delete(ob.regs, k)
	}
	if len(ob.regs) == 0 {
		delete(c.observers, ob.o)
		if ob.stop() {
			c.retired[ob.o] = ob // its worker is finishing a handler call
		}
	}
}

// funcObserver adapts a function to Observer; its pointer is the identity.
type funcObserver struct {
	fn func(Notification)
}

func (f *funcObserver) HandleNotification(n Notification) { f.fn(n) }

// Observe registers fn, as an observer of its own, for the notifications
// named name posted by sender (Any and nil are wildcards), and returns a
// function that removes the registration. Calling cancel more than once, or
// from inside fn, is safe; after it returns, the notifications queued for fn
// that have not started to be delivered are discarded.
//
// Observe cannot return an error: if fn is nil or sender is not comparable
// it logs an error, registers nothing and returns a cancel function that does
// nothing; the same cancel function is returned, silently, when the Center is
// closed.
func (c *Center) Observe(name string, sender any, fn func(Notification)) (cancel func()) {
	if fn == nil {
		c.logger.Error("notification: Observe called with a nil function", "name", name)
		return func() {}
	}
	fo := &funcObserver{fn: fn}
	if err := c.AddObserver(fo, name, sender); err != nil {
		if c.isClosed() {
			return func() {}
		}
		c.logger.Error("notification: Observe failed", "name", name, "error", err)
		return func() {}
	}
	return func() { c.PurgeObserver(fo) }
}

func (c *Center) isClosed() bool {
	select {
	case <-c.closedCh:
		return true
	default:
		return false
	}
}

// Post sends a notification named name from sender, carrying data, to every
// matching observer, stamping it with the current time. It never blocks on
// observers and never runs their code: each matching observer gets the
// notification on its own queue, or drops it when that queue is full. Post
// does nothing once the Center is closed.
func (c *Center) Post(name string, sender any, data any) {
	x := c.idx.Load()
	if x == nil {
		return
	}
	var lists [4][]*observer
	seq := x.seq.Load()
	k := x.match(name, sender, &lists)
	if seq&1 != 0 || x.seq.Load() != seq {
		// The registrations changed during the lookup: look again while
		// they cannot, so that the four keys are seen as one snapshot.
		// This is rare, and c.mu is never held for long.
		c.mu.Lock()
		k = x.match(name, sender, &lists)
		c.mu.Unlock()
	}
	if k == 0 {
		return
	}
	n := Notification{Name: name, Sender: sender, Timestamp: time.Now(), Data: data}
	if k == 1 {
		for _, ob := range lists[0] {
			ob.enqueue(&n)
		}
		return
	}
	enqueueUnion(lists[:k], &n)
}

// smallUnion is the number of candidate observers below which duplicates are
// found by scanning rather than with a map.
const smallUnion = 32

// enqueueUnion delivers n once to every observer of the union of lists. A
// list never holds an observer twice, but an observer may be in several.
func enqueueUnion(lists [][]*observer, n *Notification) {
	total := 0
	for _, l := range lists {
		total += len(l)
	}
	if total <= smallUnion {
		for i, l := range lists {
		next:
			for _, ob := range l {
				for _, earlier := range lists[:i] {
					for _, x := range earlier {
						if x == ob {
							continue next
						}
					}
				}
				ob.enqueue(n)
			}
		}
		return
	}
	seen := make(map[*observer]struct{}, total)
	for _, l := range lists {
		for _, ob := range l {
			if _, dup := seen[ob]; dup {
				continue
			}
			seen[ob] = struct{}{}
			ob.enqueue(n)
		}
	}
}

// fellBehind reports the start of an overflow episode of ob.
func (c *Center) fellBehind(ob *observer, name string) {
	c.logger.Error("notification: observer fell behind, dropping notifications",
		"observer", fmt.Sprintf("%T", ob.o),
		"queue_limit", c.queueLimit,
		"notification", name)
	c.Post(NotificationObserverDidFallBehind, c, ObserverFellBehindData{Observer: ob.o, QueueLimit: c.queueLimit})
}

// caughtUp reports the end of an overflow episode of ob.
func (c *Center) caughtUp(ob *observer, dropped uint64) {
	c.logger.Warn("notification: observer caught up",
		"observer", fmt.Sprintf("%T", ob.o),
		"dropped", dropped)
	c.Post(NotificationObserverDidCatchUp, c, ObserverCaughtUpData{Observer: ob.o, Dropped: dropped})
}

// Stats reports, for the observer o, the number of notifications accepted
// for it and not yet handled (those queued plus the one being handled) and
// the number dropped since its first registration. ok is false when o has no
// registration.
func (c *Center) Stats(o Observer) (queued int, dropped uint64, ok bool) {
	if checkObserver(o) != nil {
		return 0, 0, false
	}
	c.mu.Lock()
	ob := c.observers[o]
	c.mu.Unlock()
	if ob == nil {
		return 0, 0, false
	}
	ob.mu.Lock()
	dropped = ob.dropped
	ob.mu.Unlock()
	return int(ob.pending.Load()), dropped, true
}

// Close removes every registration, discards every queued notification that
// has not started to be delivered, and waits until every observer goroutine
// has exited, which includes waiting for the handler calls under way. When
// Close is called from a handler it cannot wait for that handler's own
// goroutine, which exits as soon as the handler returns. Afterwards Post does
// nothing, AddObserver returns ErrClosed and pending Waiters fail with
// ErrClosed. Close is idempotent: calls after the first return at once.
func (c *Center) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.idx.Store(nil)
	obs := make([]*observer, 0, len(c.observers)+len(c.retired))
	for _, ob := range c.observers {
		obs = append(obs, ob)
	}
	for _, ob := range c.retired {
		obs = append(obs, ob)
	}
	clear(c.observers)
	clear(c.retired)
	close(c.closedCh)
	c.mu.Unlock()

	for _, ob := range obs {
		ob.stop()
	}
	me := goid()
	for _, ob := range obs {
		if me != 0 && ob.goid.Load() == me {
			continue
		}
		<-ob.exited
	}
}

// HasObservers reports whether a notification named name from sender
// would reach any observer now (wildcards included). A component uses it
// to apply a default when nobody listens, as the session manager rejects
// incoming calls nobody observes.
func (c *Center) HasObservers(name string, sender any) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	var lists [4][]*observer
	return c.idx.Load().match(name, sender, &lists) > 0
}
