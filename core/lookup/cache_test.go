package lookup

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

const ttlZone = `
ttl.test. 300 IN NAPTR 10 10 "s" "SIP+D2U" "" _sip._udp.ttl.test.
_sip._udp.ttl.test. 300 IN SRV 10 0 5060 host.ttl.test.
host.ttl.test. 60 IN A 192.0.2.1
`

func TestCacheHitAndExpiry(t *testing.T) {
	srv := newTestServer(t, ttlZone)
	clock := newFakeClock()
	r := newTestResolver(srv, WithCache(true), WithClock(clock.now))
	lookup := func() []string {
		t.Helper()
		routes, err := r.LookupSIPProxy(context.Background(), Target{Host: "ttl.test"}, []string{"udp"})
		if err != nil {
			t.Fatal(err)
		}
		return routeStrings(routes)
	}
	want := []string{"udp:192.0.2.1:5060"}
	sorted := func(q []string) []string { slices.Sort(q); return q }

	if got := lookup(); !slices.Equal(got, want) {
		t.Fatalf("routes %q", got)
	}
	if q := sorted(srv.queries()); !slices.Equal(q, []string{"A host.ttl.test", "AAAA host.ttl.test", "NAPTR ttl.test", "SRV _sip._udp.ttl.test"}) {
		t.Fatalf("first lookup queries %q", q)
	}

	// Cache hit: no query at all.
	clock.advance(29 * time.Second)
	if got := lookup(); !slices.Equal(got, want) {
		t.Errorf("cached routes %q", got)
	}
	if q := srv.queries(); len(q) > 0 {
		t.Errorf("cached lookup made queries %q", q)
	}

	// After 30 s the negative AAAA answer (SOA minimum 30) has expired.
	clock.advance(time.Second)
	lookup()
	if q := srv.queries(); !slices.Equal(q, []string{"AAAA host.ttl.test"}) {
		t.Errorf("queries after 30 s %q, want only the negative AAAA answer again", q)
	}

	// After 60 s the A record (TTL 60) has expired too, not the rest.
	clock.advance(30 * time.Second)
	lookup()
	if q := sorted(srv.queries()); !slices.Equal(q, []string{"A host.ttl.test", "AAAA host.ttl.test"}) {
		t.Errorf("queries after 60 s %q, want the address records again", q)
	}

	// After 300 s everything has.
	clock.advance(240 * time.Second)
	lookup()
	if q := srv.queries(); len(q) != 4 {
		t.Errorf("queries after 300 s %q, want all four again", q)
	}

	// ClearCache forgets everything.
	r.ClearCache()
	lookup()
	if q := srv.queries(); len(q) != 4 {
		t.Errorf("queries after ClearCache %q, want all four again", q)
	}
}

func TestCacheNegativeAnswers(t *testing.T) {
	for _, withSOA := range []bool{true, false} {
		srv := newTestServer(t, testZone)
		srv.mu.Lock()
		srv.noSOA = !withSOA
		srv.mu.Unlock()
		r := newTestResolver(srv, WithCache(true))
		for range 2 {
			if _, err := r.LookupSIPProxy(context.Background(), Target{Host: "plain.test"}, []string{"udp"}); err != nil {
				t.Fatal(err)
			}
		}
		q := srv.queries()
		// First lookup: NAPTR, SRV, A, AAAA. Second: the negative NAPTR and
		// SRV answers again unless an SOA record allowed caching them.
		want := 4
		if !withSOA {
			want = 6
		}
		if len(q) != want {
			t.Errorf("SOA %v: queries %q, want %d", withSOA, q, want)
		}
	}

	// NXDOMAIN is cached and reported again from the cache.
	srv := newTestServer(t, testZone)
	r := newTestResolver(srv, WithCache(true), WithAddressFamily(IPv4Only))
	for i := range 2 {
		_, err := r.LookupSIPProxy(context.Background(), Target{Host: "nope.test", Port: 5060}, []string{"udp"})
		var le *LookupError
		if !errors.As(err, &le) || le.Kind != ErrNXDomain || le.Name != "nope.test" || le.Type != "A" {
			t.Errorf("lookup %d: error %v", i, err)
		}
	}
	if q := srv.queries(); len(q) != 1 {
		t.Errorf("queries %q, want one", q)
	}
}

func TestCacheBounded(t *testing.T) {
	srv := newTestServer(t, testZone)
	r := newTestResolver(srv, WithCacheSize(3))
	if _, err := r.LookupSIPProxy(context.Background(), Target{Host: "example.test"}, allTransports); err != nil {
		t.Fatal(err)
	}
	if n := r.cache.len(); n != 3 {
		t.Errorf("cache holds %d answers, want 3", n)
	}

	c := newCache(2)
	now := time.Now()
	for _, name := range []string{"a.", "b.", "a.", "c."} { // "a." used again: "b." is evicted
		c.put(&cacheEntry{key: cacheKey{name, 1}, expires: now.Add(time.Hour)})
		c.get(cacheKey{name, 1}, now)
	}
	if _, ok := c.get(cacheKey{"b.", 1}, now); ok {
		t.Error("least recently used entry not evicted")
	}
	for _, name := range []string{"a.", "c."} {
		if _, ok := c.get(cacheKey{name, 1}, now); !ok {
			t.Errorf("%s evicted", name)
		}
	}
	if _, ok := c.get(cacheKey{"a.", 1}, now.Add(time.Hour)); ok {
		t.Error("expired entry returned")
	}
	if c.len() != 1 {
		t.Errorf("expired entry kept: %d entries", c.len())
	}
}

func TestCacheConcurrent(t *testing.T) {
	srv := newTestServer(t, testZone)
	r := newTestResolver(srv, WithCacheSize(8))
	hosts := []string{"example.test", "srv.test", "plain.test", "order.test", "svc.test", "weight.test"}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				host := hosts[(g+i)%len(hosts)]
				routes, err := r.LookupSIPProxy(context.Background(), Target{Host: host}, allTransports)
				if err == nil && len(routes) == 0 {
					err = errors.New(host + ": no routes")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := r.cache.len(); n > 8 {
		t.Errorf("cache holds %d answers, bound is 8", n)
	}
}
