package lookup

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/miekg/dns"
)

func srv(prio, weight uint16, target string) *dns.SRV {
	return &dns.SRV{Hdr: dns.RR_Header{Name: "_sip._udp.t.", Rrtype: dns.TypeSRV, Class: dns.ClassINET},
		Priority: prio, Weight: weight, Port: 5060, Target: target}
}

func targets(recs []*dns.SRV) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Target
	}
	return out
}

// TestOrderSRVAlgorithm drives the RFC 2782 selection with chosen random
// numbers and checks each pick.
func TestOrderSRVAlgorithm(t *testing.T) {
	recs := []*dns.SRV{
		srv(2, 5, "backup-a"),
		srv(1, 10, "a"),
		srv(1, 30, "b"),
		srv(1, 60, "c"),
		srv(1, 0, "zero"), // listed last, must be placed first in its priority
		srv(2, 5, "backup-b"),
	}
	var calls []int
	picks := []int{
		0,  // priority 1, sum 100: 0 selects "zero" (running sum 0)
		5,  // sum 100: "a" (running 10 >= 5)
		50, // sum 90 (b, c): "b" running 30 < 50, "c" running 90 >= 50
		0,  // sum 30 (b): "b"
		6,  // priority 2, sum 10: backup-a running 5 < 6, backup-b 10 >= 6
		0,  // backup-a
	}
	intn := func(n int) int {
		calls = append(calls, n)
		p := picks[0]
		picks = picks[1:]
		return p
	}
	got := targets(orderSRV(recs, intn))
	want := []string{"zero", "a", "c", "b", "backup-b", "backup-a"}
	if !slices.Equal(got, want) {
		t.Errorf("order %q, want %q", got, want)
	}
	if wantCalls := []int{101, 101, 91, 31, 11, 6}; !slices.Equal(calls, wantCalls) {
		t.Errorf("intn called with %v, want %v", calls, wantCalls)
	}
	if recs[0].Target != "backup-a" {
		t.Error("orderSRV modified its input")
	}
}

// TestOrderSRVDistribution checks, with a seeded source, that the first
// pick within a priority follows the weights (weight/(sum+1), and 1/(sum+1)
// for weight 0), and that priorities are never mixed.
func TestOrderSRVDistribution(t *testing.T) {
	recs := []*dns.SRV{srv(10, 60, "w60"), srv(10, 30, "w30"), srv(10, 10, "w10"), srv(10, 0, "w0"), srv(20, 0, "backup")}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 20000
	first := map[string]int{}
	for range n {
		out := orderSRV(recs, rng.IntN)
		first[out[0].Target]++
		if out[4].Target != "backup" {
			t.Fatalf("priority 20 record not last: %q", targets(out))
		}
	}
	for target, weight := range map[string]float64{"w60": 60, "w30": 30, "w10": 10, "w0": 1} {
		want := weight / 101
		got := float64(first[target]) / n
		if got < want-0.02 || got > want+0.02 {
			t.Errorf("%s first in %.3f of the orders, want %.3f", target, got, want)
		}
	}
}

// TestWeightedLookupReproducible checks the whole lookup with an injected
// source: the same seed gives the same order, the backup comes last, and
// the weights show in the distribution.
func TestWeightedLookupReproducible(t *testing.T) {
	srvr := newTestServer(t, testZone)
	target := Target{Host: "weight.test", Transport: "udp"}
	lookup := func(r *Resolver) []string {
		t.Helper()
		routes, err := r.LookupSIPProxy(context.Background(), target, allTransports)
		if err != nil {
			t.Fatal(err)
		}
		return routeStrings(routes)
	}
	a := newTestResolver(srvr, WithRandSource(rand.NewPCG(7, 7)), WithCache(true))
	b := newTestResolver(srvr, WithRandSource(rand.NewPCG(7, 7)), WithCache(true))
	const n = 3000
	first := map[string]int{}
	for range n {
		ra, rb := lookup(a), lookup(b)
		if !slices.Equal(ra, rb) {
			t.Fatalf("same seed, different orders: %q and %q", ra, rb)
		}
		if len(ra) != 4 || ra[3] != "udp:192.0.2.99:5060" {
			t.Fatalf("routes %q: want 4 with the backup last", ra)
		}
		first[ra[0]]++
	}
	for route, weight := range map[string]float64{"udp:192.0.2.60:5060": 60, "udp:192.0.2.30:5060": 30, "udp:192.0.2.10:5060": 10} {
		want := weight / 101
		got := float64(first[route]) / n
		if got < want-0.04 || got > want+0.04 {
			t.Errorf("%s first in %.3f of the lookups, want %.3f", route, got, want)
		}
	}
}
