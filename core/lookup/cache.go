package lookup

import (
	"container/list"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Cache bounds.
const (
	// DefaultCacheSize is the number of answers kept when WithCache(true)
	// is given without WithCacheSize.
	DefaultCacheSize = 1024
	// maxPositiveTTL and maxNegativeTTL cap the time an answer is kept,
	// whatever its TTL says (RFC 2308 section 5 suggests at most hours for
	// negative answers).
	maxPositiveTTL = 24 * time.Hour
	maxNegativeTTL = time.Hour
)

type cacheKey struct {
	name  string // canonical: lower case, fully qualified
	qtype uint16
}

// rrset is the useful part of one answer: the records of the type asked for
// whose owner is the name or the end of its CNAME chain, and the address
// records of the additional section. It is shared between lookups once
// cached and must not be modified.
type rrset struct {
	rrs   []dns.RR
	extra []dns.RR
}

type cacheEntry struct {
	key     cacheKey
	set     rrset
	kind    error // nil, ErrNXDomain or ErrNoRecords
	detail  error // the cause kept with a negative answer
	expires time.Time
}

// cache is a bounded LRU map of answers with expiry times, safe for
// concurrent use. Expired entries are dropped when met, and the least
// recently used entry is evicted when the cache is full.
type cache struct {
	mu    sync.Mutex
	max   int
	ll    *list.List // of *cacheEntry, most recently used first
	items map[cacheKey]*list.Element
}

func newCache(max int) *cache {
	if max <= 0 {
		max = DefaultCacheSize
	}
	return &cache{max: max, ll: list.New(), items: make(map[cacheKey]*list.Element)}
}

func (c *cache) get(key cacheKey, now time.Time) (*cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.ll.Remove(el)
		delete(c.items, key)
		return nil, false
	}
	c.ll.MoveToFront(el)
	return e, true
}

func (c *cache) put(e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[e.key]; ok {
		el.Value = e
		c.ll.MoveToFront(el)
		return
	}
	c.items[e.key] = c.ll.PushFront(e)
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).key)
	}
}

func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

func (c *cache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ll.Init()
	clear(c.items)
}
