package bench

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sipsimple-go/sipsimple/account"
	"github.com/sipsimple-go/sipsimple/notification"
)

// collector is a notification observer for one notification name that
// keeps the first notification from each expected account, keyed by sender,
// and closes done once every expected account has posted one. Anything
// else (an unexpected sender, a second notification from an account) is
// recorded as well.
type collector struct {
	name     string
	expected map[string]bool // account ids

	mu         sync.Mutex
	got        map[*account.Account]notification.Notification
	duplicates int
	strangers  []string
	last       time.Time // the latest timestamp collected
	waits      []*subsetWait
	done       chan struct{} // closed once every expected account posted
	first      chan struct{} // closed on the first notification
}

// subsetWait is a wait for a subset of the expected accounts (doneFor).
type subsetWait struct {
	ids  map[string]bool
	left int
	ch   chan struct{}
}

func newCollector(name string, expected map[string]bool) *collector {
	return &collector{name: name, expected: expected, got: make(map[*account.Account]notification.Notification, len(expected)),
		done: make(chan struct{}), first: make(chan struct{})}
}

// HandleNotification implements notification.Observer.
func (c *collector) HandleNotification(n notification.Notification) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.got) == 0 && c.duplicates == 0 && len(c.strangers) == 0 {
		close(c.first)
	}
	a, ok := n.Sender.(*account.Account)
	if !ok || !c.expected[a.ID()] {
		c.strangers = append(c.strangers, fmt.Sprintf("%T %v", n.Sender, n.Sender))
		return
	}
	if _, dup := c.got[a]; dup {
		c.duplicates++
		return
	}
	c.got[a] = n
	if n.Timestamp.After(c.last) {
		c.last = n.Timestamp
	}
	if len(c.got) == len(c.expected) {
		close(c.done)
	}
	for _, w := range c.waits {
		if w.ids[a.ID()] {
			if w.left--; w.left == 0 {
				close(w.ch)
			}
		}
	}
}

// doneFor returns a channel closed once every account in ids (a subset of
// the expected ones) has posted.
func (c *collector) doneFor(ids map[string]bool) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := &subsetWait{ids: ids, left: len(ids), ch: make(chan struct{})}
	for a := range c.got {
		if ids[a.ID()] {
			w.left--
		}
	}
	if w.left == 0 {
		close(w.ch)
	} else {
		c.waits = append(c.waits, w)
	}
	return w.ch
}

// snapshot returns a copy of what was collected so far.
func (c *collector) snapshot() (got map[*account.Account]notification.Notification, duplicates int, strangers []string, last time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	got = make(map[*account.Account]notification.Notification, len(c.got))
	for k, v := range c.got {
		got[k] = v
	}
	return got, c.duplicates, append([]string(nil), c.strangers...), c.last
}

// count returns the number of accounts that posted so far.
func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}

// missingOf returns the number of accounts in want that have not posted,
// and up to max of their ids.
func (c *collector) missingOf(want map[string]bool, max int) (ids []string, count int) {
	got, _, _, _ := c.snapshot()
	seen := make(map[string]bool, len(got))
	for a := range got {
		seen[a.ID()] = true
	}
	for id := range want {
		if !seen[id] {
			count++
			if len(ids) < max {
				ids = append(ids, id)
			}
		}
	}
	return ids, count
}

// describe summarises up to max collected notifications, for failures.
func (c *collector) describe(max int) string {
	got, _, _, _ := c.snapshot()
	var parts []string
	for a, n := range got {
		if len(parts) == max {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, fmt.Sprintf("%s: %+v", a.ID(), n.Data))
	}
	return fmt.Sprintf("%d %s: %s", len(got), c.name, strings.Join(parts, "; "))
}
