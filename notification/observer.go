package notification

import (
	"bytes"
	"fmt"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// observer is the delivery state of one observer identity: its queue, its
// delivery goroutine and its registrations. The goroutine (the worker) runs
// only while notifications come: it is started by the enqueue that finds
// no worker, and exits when the queue stayed empty for workerLinger, so an
// idle observer costs no goroutine while a busy one does not pay for a new
// goroutine (and its id, see goid) at every notification.
type observer struct {
	c    *Center
	o    Observer
	regs map[regKey]struct{} // guarded by c.mu

	mu      sync.Mutex
	queue   []Notification // accepted, not yet taken by the goroutine
	stopped bool           // no more notifications are accepted or delivered
	running bool           // a worker goroutine is running
	waiting bool           // the worker lingers on wake with an empty queue
	wake    chan struct{}  // wakes a lingering worker (capacity 1)
	spare   []Notification // the last worker's emptied batch, reused by the next
	dropped uint64         // notifications dropped in total

	// Overflow episodes. behind is the truth: set by a drop, cleared when
	// the goroutine finds the queue drained. reported is what the last
	// announcement said. At most one goroutine at a time (announcing)
	// posts the announcements that bring reported in line with behind, so
	// that observers see fell-behind and caught-up alternate, in order.
	behind     bool
	reported   bool
	announcing bool
	lost       uint64 // dropped since the last fell-behind announcement

	// pending counts the notifications accepted and not yet fully handled:
	// those in queue plus those of the current batch whose handler has not
	// returned. It only grows under mu, so it never exceeds the limit.
	pending atomic.Int64
	halted  atomic.Bool              // mirrors stopped, read without mu between handler calls
	prev    atomic.Pointer[observer] // earlier incarnation of the same identity, still exiting
	goid    atomic.Uint64            // id of the running worker goroutine, 0 when none runs
	exited  chan struct{}            // closed once stopped and no worker runs
}

func newObserver(c *Center, o Observer, prev *observer) *observer {
	ob := &observer{
		c:      c,
		o:      o,
		regs:   make(map[regKey]struct{}, 1),
		exited: make(chan struct{}),
		wake:   make(chan struct{}, 1),
	}
	ob.prev.Store(prev)
	return ob
}

// enqueue accepts n for delivery, or drops it when the queue is full. It
// never blocks beyond the short critical section of ob.mu.
func (ob *observer) enqueue(n *Notification) {
	ob.mu.Lock()
	if ob.stopped {
		ob.mu.Unlock()
		return
	}
	if ob.pending.Load() >= int64(ob.c.queueLimit) {
		ob.dropped++
		ob.lost++
		ob.behind = true
		ob.announceLocked(n.Name)
		return
	}
	ob.pending.Add(1)
	ob.queue = append(ob.queue, *n)
	start := !ob.running
	ob.running = true
	if ob.waiting {
		ob.wakeLocked()
	}
	ob.mu.Unlock()
	if start {
		go ob.run()
	}
}

// wakeLocked wakes the lingering worker; ob.mu is held.
func (ob *observer) wakeLocked() {
	ob.waiting = false
	select {
	case ob.wake <- struct{}{}:
	default:
	}
}

// workerLinger is how long a worker waits for more notifications before
// it exits.
const workerLinger = 20 * time.Millisecond

// announceLocked posts the overflow notifications owed, unless another
// goroutine is already doing so, and unlocks ob.mu. name is the name of the
// notification just dropped, if any, for the log.
func (ob *observer) announceLocked(name string) {
	if ob.announcing {
		ob.mu.Unlock()
		return
	}
	for ob.behind != ob.reported && !ob.stopped {
		ob.reported = ob.behind
		ob.announcing = true
		fell, lost := ob.behind, ob.lost
		if !fell {
			ob.lost = 0
		}
		ob.mu.Unlock()
		if fell {
			ob.c.fellBehind(ob, name)
		} else {
			ob.c.caughtUp(ob, lost)
		}
		ob.mu.Lock()
	}
	ob.announcing = false
	ob.mu.Unlock()
}

// stop makes the observer refuse and discard notifications and tells its
// worker to exit after the handler call under way. It reports whether a
// worker is still running (ob.exited is closed when it returns); otherwise
// ob.exited is closed already. It is idempotent.
func (ob *observer) stop() (running bool) {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	if !ob.stopped {
		ob.stopped = true
		ob.halted.Store(true)
		clear(ob.queue)
		ob.queue = nil
		if ob.waiting {
			ob.wakeLocked()
		}
		if !ob.running {
			close(ob.exited)
		}
	}
	return ob.running
}

// maxKeptBatch is the capacity above which a delivered batch's backing array
// is released rather than reused, so that a burst does not pin memory.
const maxKeptBatch = 4096

// run is the worker: it delivers until the queue is empty, then exits.
func (ob *observer) run() {
	ob.goid.Store(goid())
	if p := ob.prev.Swap(nil); p != nil {
		// Never let two incarnations of one observer run handlers at once.
		<-p.exited
	}
	ob.mu.Lock()
	batch := ob.spare
	ob.spare = nil
	ob.mu.Unlock()
	var linger *time.Timer
	defer func() {
		if linger != nil {
			linger.Stop()
		}
	}()
	lingered := false
	for {
		ob.mu.Lock()
		if ob.stopped {
			ob.running = false
			ob.mu.Unlock()
			ob.exit()
			return
		}
		if len(ob.queue) == 0 {
			if ob.behind {
				ob.behind = false
				ob.announceLocked("") // unlocks; the announcement may enqueue more
				continue
			}
			if !lingered {
				// Wait a little for more before exiting.
				lingered = true
				ob.waiting = true
				ob.mu.Unlock()
				if linger == nil {
					linger = time.NewTimer(workerLinger)
				} else {
					linger.Reset(workerLinger)
				}
				select {
				case <-ob.wake:
				case <-linger.C:
				}
				ob.mu.Lock()
				ob.waiting = false
				ob.mu.Unlock()
				continue
			}
			ob.running = false
			ob.spare = batch[:0]
			ob.goid.Store(0)
			ob.mu.Unlock()
			return
		}
		batch, ob.queue = ob.queue, batch[:0]
		lingered = false
		ob.mu.Unlock()
		for i := range batch {
			if ob.halted.Load() {
				break
			}
			ob.deliver(&batch[i])
			ob.pending.Add(-1)
		}
		clear(batch)
		if cap(batch) > maxKeptBatch {
			batch = nil
		}
	}
}

// deliver calls the handler, recovering and logging a panic.
func (ob *observer) deliver(n *Notification) {
	defer func() {
		if r := recover(); r != nil {
			ob.c.logger.Error("notification: observer panicked",
				"notification", n.Name,
				"observer", fmt.Sprintf("%T", ob.o),
				"panic", r,
				"stack", string(debug.Stack()))
		}
	}()
	ob.o.HandleNotification(*n)
}

// exit is called by the worker of a stopped observer as it returns: it
// forgets the retired observer and closes ob.exited.
func (ob *observer) exit() {
	c := ob.c
	c.mu.Lock()
	if c.retired[ob.o] == ob {
		delete(c.retired, ob.o)
	}
	c.mu.Unlock()
	ob.goid.Store(0)
	close(ob.exited)
}

// goid returns the id of the calling goroutine, parsed from the first line of
// its stack trace ("goroutine 42 [running]:"), or 0 if that fails. Close uses
// it to recognise a call made from an observer's own handler.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b, ok := bytes.CutPrefix(b, []byte("goroutine "))
	if !ok {
		return 0
	}
	if i := bytes.IndexByte(b, ' '); i >= 0 {
		b = b[:i]
	}
	id, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0
	}
	return id
}
