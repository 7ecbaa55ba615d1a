package lookup

import (
	"context"
	"testing"
)

// BenchmarkLookupSIPProxy resolves sip:example.test (NAPTR, three SRV
// names, A and AAAA of four targets: 12 queries) against the loopback test
// server, without and with the cache.
func BenchmarkLookupSIPProxy(b *testing.B) {
	srv := newTestServer(b, testZone)
	target := Target{Host: "example.test"}
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		opts []Option
	}{
		{"uncached", nil},
		{"cached", []Option{WithCache(true)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := newTestResolver(srv, bc.opts...)
			if _, err := r.LookupSIPProxy(ctx, target, allTransports); err != nil { // warms the cache
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				routes, err := r.LookupSIPProxy(ctx, target, allTransports)
				if err != nil || len(routes) != 6 {
					b.Fatal(err, routes)
				}
			}
		})
	}
}
