package notification

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// gated is an observer whose handler needs one token per notification, so a
// test decides exactly how many notifications it may handle.
type gated struct {
	gate chan struct{}
	stop chan struct{}
	done chan Notification
}

func newGated(t *testing.T) *gated {
	g := &gated{gate: make(chan struct{}), stop: make(chan struct{}), done: make(chan Notification, 1<<16)}
	t.Cleanup(func() { close(g.stop) }) // runs before the Center is closed
	return g
}

func (g *gated) HandleNotification(n Notification) {
	select {
	case <-g.gate:
	case <-g.stop:
		return
	}
	g.done <- n
}

// handle lets the observer handle k notifications and returns them.
func (g *gated) handle(t *testing.T, k int) []Notification {
	t.Helper()
	out := make([]Notification, 0, k)
	for range k {
		select {
		case g.gate <- struct{}{}:
		case <-time.After(failAfter):
			t.Fatalf("observer did not take a token after %d notifications", len(out))
		}
		select {
		case n := <-g.done:
			out = append(out, n)
		case <-time.After(failAfter):
			t.Fatalf("observer did not handle a notification after %d", len(out))
		}
	}
	return out
}

// watchOverflow registers a recorder for the Center's own notifications.
func watchOverflow(t *testing.T, c *Center) *recorder {
	t.Helper()
	m := newRecorder()
	for _, name := range []string{NotificationObserverDidFallBehind, NotificationObserverDidCatchUp} {
		if err := c.AddObserver(m, name, c); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func expectFell(t *testing.T, c *Center, monitor *recorder, o Observer, limit int) {
	t.Helper()
	n := monitor.next(t)
	d, ok := Data[ObserverFellBehindData](n)
	if n.Name != NotificationObserverDidFallBehind || !ok || n.Sender != c || d.Observer != o || d.QueueLimit != limit {
		t.Fatalf("got %+v, want %s from the Center with QueueLimit %d", n, NotificationObserverDidFallBehind, limit)
	}
}

func expectCaughtUp(t *testing.T, c *Center, monitor *recorder, o Observer, dropped uint64) {
	t.Helper()
	n := monitor.next(t)
	d, ok := Data[ObserverCaughtUpData](n)
	if n.Name != NotificationObserverDidCatchUp || !ok || n.Sender != c || d.Observer != o || d.Dropped != dropped {
		t.Fatalf("got %+v, want %s from the Center with Dropped %d", n, NotificationObserverDidCatchUp, dropped)
	}
}

func TestOverflowPolicy(t *testing.T) {
	const limit, extra = 8, 5
	c, logs := newTestCenter(t, WithQueueLimit(limit))
	monitor := watchOverflow(t, c)
	slow := newGated(t)
	if err := c.AddObserver(slow, "tick", nil); err != nil {
		t.Fatal(err)
	}
	other := newRecorder()
	if err := c.AddObserver(other, "tock", nil); err != nil {
		t.Fatal(err)
	}

	// The handler holds the first notification until it gets a token, and
	// that notification counts against the limit until the handler
	// returns, so exactly limit notifications are accepted whatever the
	// scheduling.
	for i := range limit + extra {
		c.Post("tick", nil, i)
	}
	expectFell(t, c, monitor, slow, limit)
	if q, d, ok := c.Stats(slow); q != limit || d != extra || !ok {
		t.Fatalf("Stats(slow) = %d, %d, %v; want %d, %d, true", q, d, ok, limit, extra)
	}
	if !strings.Contains(logs.String(), "fell behind") {
		t.Errorf("overflow not logged:\n%s", logs)
	}

	// Other observers are not affected.
	c.Post("tock", nil, nil)
	if n := other.next(t); n.Name != "tock" {
		t.Fatalf("other observer got %v", n)
	}
	if _, d, _ := c.Stats(other); d != 0 {
		t.Fatalf("other observer dropped %d", d)
	}

	// The backlog is delivered in order; the dropped ones never are.
	for i, n := range slow.handle(t, limit) {
		if n.Data != i {
			t.Fatalf("slow observer got %v, want %d", n.Data, i)
		}
	}
	expectCaughtUp(t, c, monitor, slow, extra)

	// Accepted again after catching up.
	c.Post("tick", nil, "again")
	if n := slow.handle(t, 1)[0]; n.Data != "again" {
		t.Fatalf("slow observer got %v after catching up", n.Data)
	}

	// A second episode is reported afresh.
	for i := range limit + 1 {
		c.Post("tick", nil, i)
	}
	expectFell(t, c, monitor, slow, limit)
	for i, n := range slow.handle(t, limit) {
		if n.Data != i {
			t.Fatalf("second episode: got %v, want %d", n.Data, i)
		}
	}
	expectCaughtUp(t, c, monitor, slow, 1)
	if q, d, _ := c.Stats(slow); q != 0 || d != extra+1 {
		t.Fatalf("Stats(slow) = %d, %d at the end", q, d)
	}
}

// TestOverflowOfWildcardObserver checks that an overflowing observer that
// also observes the Center's own notifications does not recurse: it drops
// the fell-behind notification about itself, which counts as lost, and
// then receives its own catch-up.
func TestOverflowOfWildcardObserver(t *testing.T) {
	const limit, extra = 4, 3
	c, _ := newTestCenter(t, WithQueueLimit(limit))
	monitor := watchOverflow(t, c)
	slow := newGated(t)
	if err := c.AddObserver(slow, Any, nil); err != nil {
		t.Fatal(err)
	}
	for i := range limit + extra {
		c.Post("tick", nil, i)
	}
	expectFell(t, c, monitor, slow, limit)
	if _, d, _ := c.Stats(slow); d != extra+1 {
		t.Fatalf("dropped %d, want %d", d, extra+1)
	}
	got := slow.handle(t, limit+1)
	for i := range limit {
		if got[i].Data != i {
			t.Fatalf("got %v at %d", got[i].Data, i)
		}
	}
	if d, ok := Data[ObserverCaughtUpData](got[limit]); !ok || d.Dropped != extra+1 || d.Observer != slow {
		t.Fatalf("last notification %+v, want the catch-up", got[limit])
	}
	expectCaughtUp(t, c, monitor, slow, extra+1)
}

// TestOverflowAnnouncementsAlternate hammers an observer that keeps
// overflowing and catching up, and checks that the announcements about it
// alternate and account for every drop.
func TestOverflowAnnouncementsAlternate(t *testing.T) {
	const limit, posts = 16, 20000
	c, _ := newTestCenter(t, WithQueueLimit(limit))
	monitor := watchOverflow(t, c)
	received := make(chan Notification, posts)
	slow := &funcObserver{fn: func(n Notification) {
		runtime.Gosched() // slower than the monitor, so that only it overflows
		received <- n
	}}
	if err := c.AddObserver(slow, "tick", nil); err != nil {
		t.Fatal(err)
	}
	for i := range posts {
		c.Post("tick", nil, i)
	}
	_, dropped, _ := c.Stats(slow) // final: drops happen inside Post
	if dropped == 0 {
		t.Log("no overflow happened")
	}
	last := -1
	for range posts - int(dropped) {
		select {
		case n := <-received:
			if n.Data.(int) <= last {
				t.Fatalf("got %v after %d", n.Data, last)
			}
			last = n.Data.(int)
		case <-time.After(failAfter):
			t.Fatal("slow observer stuck")
		}
	}
	var lost uint64
	want := NotificationObserverDidFallBehind
	for lost != dropped {
		var n Notification
		select {
		case n = <-monitor.ch:
		case <-time.After(failAfter):
			_, md, _ := c.Stats(monitor)
			t.Fatalf("missing announcements: lost %d of %d; the monitor dropped %d", lost, dropped, md)
		}
		if n.Name != want {
			t.Fatalf("got %s, want %s (lost so far %d of %d)", n.Name, want, lost, dropped)
		}
		if d, ok := Data[ObserverCaughtUpData](n); ok {
			lost += d.Dropped
			want = NotificationObserverDidFallBehind
		} else {
			want = NotificationObserverDidCatchUp
		}
	}
	if want != NotificationObserverDidFallBehind {
		t.Fatal("episode left open")
	}
	if _, md, _ := c.Stats(monitor); md != 0 {
		t.Fatalf("the monitor dropped %d", md)
	}
}
