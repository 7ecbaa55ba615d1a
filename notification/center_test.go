package notification

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestWildcardMatching(t *testing.T) {
	s1, s2 := &testSender{"s1"}, &testSender{"s2"}
	posts := []struct {
		name   string
		sender any
	}{
		{"N1", s1},
		{"N1", s2},
		{"N2", s1},
		{"N2", nil},
		{"N1", nil},
		{"N1", []int{7}}, // not comparable: only sender wildcards match
		{"N3", s2},
	}
	tests := []struct {
		desc   string
		name   string
		sender any
		want   []string
	}{
		{"any name, any sender", Any, nil, []string{"N1/s1", "N1/s2", "N2/s1", "N2/nil", "N1/nil", "N1/[7]", "N3/s2"}},
		{"any name, one sender", Any, s1, []string{"N1/s1", "N2/s1"}},
		{"one name, any sender", "N1", nil, []string{"N1/s1", "N1/s2", "N1/nil", "N1/[7]"}},
		{"one name, one sender", "N1", s1, []string{"N1/s1"}},
		{"unmatched sender", "N3", s1, nil},
	}
	c, _ := newTestCenter(t)
	recs := make([]*recorder, len(tests))
	for i, tc := range tests {
		recs[i] = newRecorder()
		if err := c.AddObserver(recs[i], tc.name, tc.sender); err != nil {
			t.Fatalf("%s: %v", tc.desc, err)
		}
	}
	before := time.Now()
	for _, p := range posts {
		c.Post(p.name, p.sender, nil)
	}
	got := barrier(t, c, recs...)
	for i, tc := range tests {
		if g := labels(got[i]); !slices.Equal(g, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.desc, g, tc.want)
		}
		for _, n := range got[i] {
			if n.Timestamp.Before(before) || n.Timestamp.After(time.Now()) {
				t.Errorf("%s: bad timestamp %v", tc.desc, n.Timestamp)
			}
		}
	}
}

func TestExactlyOnceWithOverlappingRegistrations(t *testing.T) {
	s1 := &testSender{"s1"}
	c, _ := newTestCenter(t)
	r := newRecorder()
	for _, k := range []regKey{{Any, nil}, {Any, s1}, {"N", nil}, {"N", s1}, {"N", s1}} {
		if err := c.AddObserver(r, k.name, k.sender); err != nil {
			t.Fatal(err)
		}
	}
	c.Post("N", s1, 1)
	c.Post("N", nil, 2)
	c.Post("M", s1, 3)
	got := barrier(t, c, r)[0]
	if want := []string{"N/s1", "N/nil", "M/s1"}; !slices.Equal(labels(got), want) {
		t.Fatalf("got %v, want %v", labels(got), want)
	}
	// The duplicate registration was a no-op: one removal is enough to
	// remove it, a second one fails.
	if err := c.RemoveObserver(r, "N", s1); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveObserver(r, "N", s1); !errors.Is(err, ErrNotObserving) {
		t.Fatalf("second removal: %v", err)
	}
}

func TestExactlyOnceManyObservers(t *testing.T) {
	// More candidates than smallUnion, to exercise the map-based union.
	s1 := &testSender{"s1"}
	c, _ := newTestCenter(t)
	recs := make([]*recorder, 3*smallUnion)
	for i := range recs {
		recs[i] = newRecorder()
		for _, k := range []regKey{{Any, nil}, {"N", s1}, {"N", nil}} {
			if err := c.AddObserver(recs[i], k.name, k.sender); err != nil {
				t.Fatal(err)
			}
		}
	}
	c.Post("N", s1, nil)
	for i, got := range barrier(t, c, recs...) {
		if len(got) != 1 {
			t.Fatalf("observer %d got %v", i, labels(got))
		}
	}
}

func TestPerObserverOrder(t *testing.T) {
	const count = 20000
	c, _ := newTestCenter(t)
	r := newRecorder()
	if err := c.AddObserver(r, "N", nil); err != nil {
		t.Fatal(err)
	}
	for i := range count {
		c.Post("N", nil, i)
	}
	for i := range count {
		if got := r.next(t).Data; got != i {
			t.Fatalf("notification %d has data %v", i, got)
		}
	}
}

func TestPerSenderOrderConcurrentPosters(t *testing.T) {
	const posters, count = 8, 3000
	c, _ := newTestCenter(t)
	r := newRecorder()
	if err := c.AddObserver(r, Any, nil); err != nil {
		t.Fatal(err)
	}
	senders := make([]*testSender, posters)
	var wg sync.WaitGroup
	for p := range posters {
		senders[p] = &testSender{fmt.Sprint("s", p)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range count {
				c.Post("N", senders[p], i)
			}
		}()
	}
	wg.Wait()
	next := map[any]int{}
	for range posters * count {
		n := r.next(t)
		if n.Data != next[n.Sender] {
			t.Fatalf("sender %v: got %v, want %d", n.Sender, n.Data, next[n.Sender])
		}
		next[n.Sender]++
	}
	for _, s := range senders {
		if next[s] != count {
			t.Fatalf("sender %v: %d notifications", s, next[s])
		}
	}
}

func TestReentrantHandler(t *testing.T) {
	c, _ := newTestCenter(t)
	ctx := testContext(t)
	added, victim := newRecorder(), newRecorder()
	if err := c.AddObserver(victim, "victim", nil); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 20)
	done := make(chan struct{})
	var calls atomic.Int32

	// Answers requests, from its own goroutine.
	stopAnswering := c.Observe("request", nil, func(n Notification) {
		c.Post("reply", nil, n.Data)
	})
	defer stopAnswering()

	var cancelSelf func()
	cancelSelf = c.Observe("start", nil, func(Notification) {
		calls.Add(1)
		defer close(done)
		// Post and register from inside a handler.
		if err := c.AddObserver(added, "added", nil); err != nil {
			errs <- err
		}
		c.Post("added", nil, "from handler")
		if err := c.RemoveObserver(victim, "victim", nil); err != nil {
			errs <- err
		}
		// Observe and cancel from inside a handler, twice.
		inner := c.Observe("inner", nil, func(Notification) {})
		inner()
		inner()
		// Expect, trigger, wait: the reply comes from another observer's
		// goroutine.
		w := c.Expect("reply", nil)
		c.Post("request", nil, 42)
		if n, err := w.Wait(ctx); err != nil || n.Data != 42 {
			errs <- fmt.Errorf("Expect/Wait: %v %v", n, err)
		}
		// WaitFor, with the notification coming from another goroutine.
		stop := make(chan struct{})
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
					c.Post("tick", nil, nil)
					runtime.Gosched()
				}
			}
		}()
		_, err := c.WaitFor(ctx, "tick", nil)
		close(stop)
		if err != nil {
			errs <- fmt.Errorf("WaitFor: %w", err)
		}
		// Cancel our own registration, twice, then post to ourselves.
		cancelSelf()
		cancelSelf()
		c.Post("start", nil, nil)
	})
	c.Post("start", nil, nil)
	select {
	case <-done:
	case <-time.After(failAfter):
		t.Fatal("handler did not finish")
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := added.next(t); n.Data != "from handler" {
		t.Errorf("added observer got %v", n)
	}
	c.Post("start", nil, nil)
	if n := calls.Load(); n != 1 {
		t.Errorf("handler called %d times after cancelling itself", n)
	}
	c.mu.Lock()
	left := len(c.observers)
	c.mu.Unlock()
	if left != 2 { // the "request" answerer and added
		t.Errorf("%d observers left registered, want 2", left)
	}
}

// blocker blocks on release in its handler and reports each notification.
type blocker struct {
	started chan Notification
	release chan struct{}
	done    chan Notification
	once    sync.Once
}

// newBlocker returns a blocker that is released at the latest when the
// test ends, before the Center is closed.
func newBlocker(t *testing.T) *blocker {
	b := &blocker{
		started: make(chan Notification, 1<<16),
		release: make(chan struct{}),
		done:    make(chan Notification, 1<<16),
	}
	t.Cleanup(b.unblock)
	return b
}

func (b *blocker) unblock() { b.once.Do(func() { close(b.release) }) }

func (b *blocker) HandleNotification(n Notification) {
	b.started <- n
	<-b.release
	b.done <- n
}

func (b *blocker) waitStarted(t *testing.T) Notification {
	t.Helper()
	select {
	case n := <-b.started:
		return n
	case <-time.After(failAfter):
		t.Fatal("handler not started")
		return Notification{}
	}
}

func TestBlockingHandlerDelaysOnlyItself(t *testing.T) {
	c, _ := newTestCenter(t)
	slow, fast := newBlocker(t), newRecorder()
	for _, o := range []Observer{slow, fast} {
		if err := c.AddObserver(o, "N", nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 100 {
		c.Post("N", nil, i)
	}
	slow.waitStarted(t)
	for i := range 100 {
		if n := fast.next(t); n.Data != i {
			t.Fatalf("fast observer got %v, want %d", n.Data, i)
		}
	}
	if q, _, _ := c.Stats(slow); q != 100 {
		t.Errorf("slow observer has %d pending, want 100", q)
	}
	slow.unblock()
	for i := range 100 {
		select {
		case n := <-slow.done:
			if n.Data != i {
				t.Fatalf("slow observer got %v, want %d", n.Data, i)
			}
		case <-time.After(failAfter):
			t.Fatal("slow observer stuck")
		}
	}
}

type panicker struct{ r *recorder }

func (p *panicker) HandleNotification(n Notification) {
	if n.Name == "boom" {
		panic("kaboom")
	}
	p.r.HandleNotification(n)
}

func TestPanicRecovery(t *testing.T) {
	c, logs := newTestCenter(t)
	p := &panicker{r: newRecorder()}
	if err := c.AddObserver(p, Any, nil); err != nil {
		t.Fatal(err)
	}
	c.Post("boom", nil, nil)
	c.Post("after", nil, nil)
	if n := p.r.next(t); n.Name != "after" {
		t.Fatalf("got %v", n)
	}
	log := logs.String()
	for _, want := range []string{"level=ERROR", "panicked", "notification=boom", "panic=kaboom"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func TestRemoveObserver(t *testing.T) {
	s1 := &testSender{"s1"}
	c, _ := newTestCenter(t)
	r := newRecorder()
	if err := c.AddObserver(r, "N", s1); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		sender any
		want   []string
	}{
		{"N", nil, []string{`"N"`, "any sender", "*notification.recorder"}},
		{"M", s1, []string{`"M"`, "*notification.testSender(0x"}},
		{Any, "alice", []string{"any name", `string("alice")`}},
		{"N", []int{1}, []string{`"N"`, "[]int", ErrInvalidSender.Error()}},
	}
	for _, tc := range tests {
		err := c.RemoveObserver(r, tc.name, tc.sender)
		if !errors.Is(err, ErrNotObserving) {
			t.Fatalf("RemoveObserver(%q, %v) = %v, want ErrNotObserving", tc.name, tc.sender, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q lacks %q", err, w)
			}
		}
		c.DiscardObserver(r, tc.name, tc.sender) // silent
	}
	if err := c.RemoveObserver(newRecorder(), "N", s1); !errors.Is(err, ErrNotObserving) {
		t.Errorf("unknown observer: %v", err)
	}
	if err := c.RemoveObserver(r, "N", s1); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := c.Stats(r); ok {
		t.Error("Stats still knows the removed observer")
	}
	c.Close()
	if err := c.RemoveObserver(r, "N", s1); !errors.Is(err, ErrNotObserving) || !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestRemoveDiscardsQueued(t *testing.T) {
	for _, keepOther := range []bool{false, true} {
		t.Run(fmt.Sprint("keepOther=", keepOther), func(t *testing.T) {
			c, _ := newTestCenter(t)
			b := newBlocker(t)
			if err := c.AddObserver(b, "N", nil); err != nil {
				t.Fatal(err)
			}
			if keepOther {
				if err := c.AddObserver(b, "other", nil); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 5 {
				c.Post("N", nil, i)
			}
			b.waitStarted(t)
			if err := c.RemoveObserver(b, "N", nil); err != nil {
				t.Fatal(err)
			}
			c.Post("N", nil, 5) // no longer matches
			want := 1
			if keepOther {
				c.Post("other", nil, nil)
				want = 6
			}
			b.unblock()
			for range want {
				select {
				case <-b.done:
				case <-time.After(failAfter):
					t.Fatal("missing notification")
				}
			}
			if !keepOther {
				// Once its goroutine has exited, the observer can have
				// delivered nothing more.
				c.mu.Lock()
				ob := c.retired[b]
				c.mu.Unlock()
				if ob != nil {
					<-ob.exited
				}
			}
			select {
			case n := <-b.done:
				t.Fatalf("discarded notification delivered: %v", n)
			default:
			}
		})
	}
}

func TestReAddWaitsForPreviousIncarnation(t *testing.T) {
	c, _ := newTestCenter(t)
	var active, maxActive atomic.Int32
	started := make(chan struct{})
	release := make(chan struct{})
	got := make(chan any, 2)
	o := &funcObserver{fn: func(n Notification) {
		if a := active.Add(1); a > maxActive.Load() {
			maxActive.Store(a)
		}
		if n.Data == 1 {
			close(started)
			<-release
		}
		active.Add(-1)
		got <- n.Data
	}}
	if err := c.AddObserver(o, "N", nil); err != nil {
		t.Fatal(err)
	}
	c.Post("N", nil, 1)
	<-started
	// Remove and re-add while the first incarnation is inside its handler.
	c.PurgeObserver(o)
	if err := c.AddObserver(o, "N", nil); err != nil {
		t.Fatal(err)
	}
	c.Post("N", nil, 2)
	close(release)
	for _, want := range []any{1, 2} {
		select {
		case d := <-got:
			if d != want {
				t.Fatalf("got %v, want %v", d, want)
			}
		case <-time.After(failAfter):
			t.Fatalf("missing %v", want)
		}
	}
	if maxActive.Load() != 1 {
		t.Fatalf("handlers of one observer overlapped")
	}
}

type funcType func(Notification)

func (f funcType) HandleNotification(n Notification) { f(n) }

type boxed struct{ v any }

func TestInvalidSenderAndObserver(t *testing.T) {
	c, logs := newTestCenter(t)
	r := newRecorder()
	for _, s := range []any{[]int{1}, map[string]int{}, boxed{[]byte("x")}} {
		err := c.AddObserver(r, "N", s)
		if !errors.Is(err, ErrInvalidSender) {
			t.Fatalf("AddObserver(%T) = %v", s, err)
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("%T", s)) {
			t.Errorf("error %q does not name %T", err, s)
		}
	}
	if err := c.AddObserver(r, "N", boxed{"ok"}); err != nil {
		t.Errorf("comparable struct sender: %v", err)
	}
	if err := c.AddObserver(nil, "N", nil); !errors.Is(err, ErrInvalidObserver) {
		t.Errorf("nil observer: %v", err)
	}
	if err := c.AddObserver(funcType(func(Notification) {}), "N", nil); !errors.Is(err, ErrInvalidObserver) {
		t.Errorf("func observer: %v", err)
	}
	cancel := c.Observe("N", []int{1}, func(Notification) { t.Error("called") })
	cancel()
	if !strings.Contains(logs.String(), "[]int") {
		t.Errorf("Observe with an invalid sender was not logged: %s", logs)
	}
	// Posting with non-comparable senders must not panic, even with
	// sender-specific registrations present.
	if err := c.AddObserver(r, Any, nil); err != nil {
		t.Fatal(err)
	}
	c.Post("N", []int{1}, nil)
	c.Post("N", boxed{[]int{1}}, nil)
	c.Post("N", boxed{"ok"}, nil)
	// r is registered under (Any, nil) and (N, boxed{"ok"}): it gets each
	// notification once.
	if got := barrier(t, c, r)[0]; len(got) != 3 {
		t.Fatalf("got %v", labels(got))
	}
}

func TestCloseStopsEverything(t *testing.T) {
	defer goleak.VerifyNone(t)
	c, _ := newTestCenter(t)
	recs := make([]*recorder, 10)
	for i := range recs {
		recs[i] = newRecorder()
		if err := c.AddObserver(recs[i], Any, nil); err != nil {
			t.Fatal(err)
		}
	}
	w := c.Expect("never", nil)
	for i := range 1000 {
		c.Post("N", nil, i)
	}
	c.Close()
	c.Close() // idempotent
	if _, err := w.Wait(testContext(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("Waiter after Close: %v", err)
	}
	// Post after Close is a no-op, and nothing can be registered.
	c.Post("N", nil, nil)
	if err := c.AddObserver(recs[0], Any, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("AddObserver after Close: %v", err)
	}
	c.Observe("N", nil, func(Notification) { t.Error("called after Close") })()
	if _, err := c.WaitFor(testContext(t), "N", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("WaitFor after Close: %v", err)
	}
	if _, _, ok := c.Stats(recs[0]); ok {
		t.Error("Stats after Close")
	}
	c.PurgeObserver(recs[0])
	// Every goroutine has exited (goleak checks it too): what was
	// delivered is final and a prefix of what was posted.
	for _, r := range recs {
		for i := 0; len(r.ch) > 0; i++ {
			if n := <-r.ch; n.Data != i {
				t.Fatalf("got %v, want %d", n.Data, i)
			}
		}
	}
}

func TestCloseDiscardsQueuedAndWaitsForHandlers(t *testing.T) {
	defer goleak.VerifyNone(t)
	c, _ := newTestCenter(t)
	b := newBlocker(t)
	if err := c.AddObserver(b, "N", nil); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	ob := c.observers[b]
	c.mu.Unlock()
	for i := range 5 {
		c.Post("N", nil, i)
	}
	b.waitStarted(t)
	closed := make(chan struct{})
	go func() {
		c.Close()
		close(closed)
	}()
	// Wait until Close has stopped the observer, then let the handler go.
	deadline := time.Now().Add(failAfter)
	for !ob.halted.Load() {
		if time.Now().After(deadline) {
			t.Fatal("Close did not stop the observer")
		}
		runtime.Gosched()
	}
	select {
	case <-closed:
		t.Fatal("Close returned while a handler was running")
	default:
	}
	b.unblock()
	select {
	case <-closed:
	case <-time.After(failAfter):
		t.Fatal("Close did not return")
	}
	if n := len(b.done); n != 1 {
		t.Fatalf("%d notifications handled, want 1", n)
	}
}

func TestCloseFromHandler(t *testing.T) {
	defer goleak.VerifyNone(t)
	c, _ := newTestCenter(t)
	other := newRecorder()
	if err := c.AddObserver(other, "N", nil); err != nil {
		t.Fatal(err)
	}
	returned := make(chan struct{})
	var calls atomic.Int32
	c.Observe("N", nil, func(Notification) {
		if calls.Add(1) == 1 {
			c.Close()
			c.Close()
			close(returned)
		}
	})
	for i := range 10 {
		c.Post("N", nil, i)
	}
	select {
	case <-returned:
	case <-time.After(failAfter):
		t.Fatal("Close from a handler deadlocked")
	}
	c.Post("N", nil, nil)
	if err := c.AddObserver(other, "M", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("AddObserver after Close: %v", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("handler called %d times", n)
	}
}

func TestCentersAreIndependent(t *testing.T) {
	alice, _ := newTestCenter(t)
	bob, _ := newTestCenter(t)
	ra, rb := newRecorder(), newRecorder()
	if err := alice.AddObserver(ra, Any, nil); err != nil {
		t.Fatal(err)
	}
	if err := bob.AddObserver(rb, Any, nil); err != nil {
		t.Fatal(err)
	}
	alice.Post("A", nil, nil)
	bob.Post("B", nil, nil)
	if got := labels(barrier(t, alice, ra)[0]); !slices.Equal(got, []string{"A/nil"}) {
		t.Errorf("alice got %v", got)
	}
	if got := labels(barrier(t, bob, rb)[0]); !slices.Equal(got, []string{"B/nil"}) {
		t.Errorf("bob got %v", got)
	}
	bob.Close()
	alice.Post("A2", nil, nil)
	if n := ra.next(t); n.Name != "A2" {
		t.Errorf("alice got %v after bob closed", n)
	}
}

type sessionData struct{ Reason string }

func TestData(t *testing.T) {
	n := Notification{Data: sessionData{"bye"}}
	if d, ok := Data[sessionData](n); !ok || d.Reason != "bye" {
		t.Errorf("Data[sessionData] = %v, %v", d, ok)
	}
	if _, ok := Data[*sessionData](n); ok {
		t.Error("Data[*sessionData] matched a value")
	}
	if _, ok := Data[int](n); ok {
		t.Error("Data[int] matched")
	}
	if d, ok := Data[sessionData](Notification{}); ok || d != (sessionData{}) {
		t.Error("Data of nil data")
	}
	p := &sessionData{"x"}
	if d, ok := Data[*sessionData](Notification{Data: p}); !ok || d != p {
		t.Error("Data[*sessionData] of a pointer")
	}
}

// An observer that stays registered but has nothing to deliver holds no
// goroutine, and its next notification starts one again.
func TestIdleObserverHoldsNoGoroutine(t *testing.T) {
	before := goleak.IgnoreCurrent() // taken while no worker runs
	c := NewCenter()
	defer c.Close()
	got := make(chan string, 2)
	cancel := c.Observe("Ping", nil, func(n Notification) { got <- n.Name })
	defer cancel()
	for round := 0; round < 2; round++ {
		c.Post("Ping", nil, nil)
		select {
		case <-got:
		case <-time.After(5 * time.Second):
			t.Fatal("notification not delivered")
		}
		// goleak retries until the worker has exited (or fails after its
		// own deadline): the registration alone must not keep a goroutine.
		goleak.VerifyNone(t, before)
	}
}

func TestHasObservers(t *testing.T) {
	c := NewCenter()
	defer c.Close()
	sender := &struct{ x int }{}
	if c.HasObservers("A", sender) {
		t.Fatal("observers reported on an empty center")
	}
	cancel := c.Observe("A", nil, func(Notification) {})
	if !c.HasObservers("A", sender) || c.HasObservers("B", sender) {
		t.Fatal("name registration not reported exactly")
	}
	cancel()
	cancel = c.Observe(Any, sender, func(Notification) {})
	if !c.HasObservers("B", sender) || c.HasObservers("B", &struct{ x int }{}) {
		t.Fatal("wildcard name with a sender not reported exactly")
	}
	cancel()
	if c.HasObservers("B", sender) {
		t.Fatal("a removed observer still reported")
	}
}
