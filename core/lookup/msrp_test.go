package lookup

import (
	"context"
	"errors"
	"slices"
	"testing"
)

const msrpZone = `
relay.test. 300 IN A 192.0.2.50
_msrps._tcp.relay.test. 300 IN SRV 10 0 2856 msrps1.relay.test.
_msrp._tcp.relay.test. 300 IN SRV 10 0 2857 msrp1.relay.test.
msrps1.relay.test. 300 IN A 192.0.2.51
msrp1.relay.test. 300 IN A 192.0.2.52
plain.test. 300 IN A 192.0.2.60
_msrps._tcp.down.test. 300 IN SRV 0 0 0 .
`

// RFC 4976 relay discovery: SRV of _msrps._tcp / _msrp._tcp, else the
// domain at 2855; an IP literal as it is; "." means no relay.
func TestLookupMSRPRelay(t *testing.T) {
	srv := newTestServer(t, msrpZone)
	r := newTestResolver(srv)
	ctx := context.Background()
	for _, tc := range []struct {
		domain string
		secure bool
		want   []string
	}{
		{"relay.test", true, []string{"tls:192.0.2.51:2856 (relay.test)"}},
		{"relay.test", false, []string{"tcp:192.0.2.52:2857"}},
		{"plain.test", true, []string{"tls:192.0.2.60:2855 (plain.test)"}},
		{"plain.test.", false, []string{"tcp:192.0.2.60:2855"}},
		{"192.0.2.70", false, []string{"tcp:192.0.2.70:2855"}},
		{"[2001:db8::7]", true, []string{"tls:[2001:db8::7]:2855 (2001:db8::7)"}},
	} {
		routes, err := r.LookupMSRPRelay(ctx, tc.domain, tc.secure)
		if err != nil {
			t.Errorf("%s secure=%v: %v", tc.domain, tc.secure, err)
			continue
		}
		if got := routeStrings(routes); !slices.Equal(got, tc.want) {
			t.Errorf("%s secure=%v: %q, want %q", tc.domain, tc.secure, got, tc.want)
		}
	}
	var le *LookupError
	if _, err := r.LookupMSRPRelay(ctx, "down.test", true); !errors.As(err, &le) || !errors.Is(err, ErrNoRecords) {
		t.Errorf("SRV target '.': %v, want ErrNoRecords", err)
	}
	if _, err := r.LookupMSRPRelay(ctx, "", true); !errors.Is(err, ErrInvalidTarget) {
		t.Errorf("empty domain: %v", err)
	}
	if _, err := r.LookupMSRPRelay(ctx, "a/b", true); !errors.Is(err, ErrInvalidTarget) {
		t.Errorf("bad domain: %v", err)
	}
}
