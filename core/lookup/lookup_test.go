package lookup

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// testZone is served by the loopback test server. Each domain exercises one
// path of RFC 3263.
const testZone = `
; NAPTR path: TLS, then TCP, then UDP; A/AAAA of the domain for explicit ports.
example.test. 300 IN NAPTR 10 50 "s" "SIPS+D2T" "" _sips._tcp.example.test.
example.test. 300 IN NAPTR 10 60 "S" "SIP+D2T" "" _sip._tcp.example.test.
example.test. 300 IN NAPTR 10 70 "s" "SIP+D2U" "" _sip._udp.example.test.
example.test. 300 IN A 192.0.2.1
example.test. 300 IN AAAA 2001:db8::1
_sips._tcp.example.test. 300 IN SRV 10 0 5061 tls1.example.test.
_sip._tcp.example.test. 300 IN SRV 10 0 5060 tcp1.example.test.
_sip._udp.example.test. 300 IN SRV 20 0 5062 udp2.example.test.
_sip._udp.example.test. 300 IN SRV 10 0 5060 udp1.example.test.
tls1.example.test. 300 IN A 192.0.2.10
tls1.example.test. 300 IN AAAA 2001:db8::10
tcp1.example.test. 300 IN A 192.0.2.20
udp1.example.test. 300 IN A 192.0.2.30
udp2.example.test. 300 IN A 192.0.2.31
udp2.example.test. 300 IN A 192.0.2.32

; NAPTR orders: only the lowest usable order is used.
order.test. 300 IN NAPTR 20 10 "s" "SIP+D2T" "" _sip._tcp.order.test.
order.test. 300 IN NAPTR 10 20 "s" "SIP+D2U" "" _sip._udp.order.test.
order.test. 300 IN NAPTR 10 10 "s" "SIPS+D2T" "" _sips._tcp.order.test.
_sip._tcp.order.test. 300 IN SRV 0 0 5060 host.order.test.
_sip._udp.order.test. 300 IN SRV 0 0 5060 host.order.test.
_sips._tcp.order.test. 300 IN SRV 0 0 5061 host.order.test.
host.order.test. 300 IN A 192.0.2.40

; NAPTR whose lowest order leads nowhere: the next order is used.
dead.test. 300 IN NAPTR 10 10 "s" "SIP+D2U" "" _sip._udp.missing.dead.test.
dead.test. 300 IN NAPTR 20 10 "s" "SIP+D2T" "" _sip._tcp.dead.test.
_sip._tcp.dead.test. 300 IN SRV 0 0 5060 host.dead.test.
host.dead.test. 300 IN A 192.0.2.45

; NAPTR records to skip: SCTP, an E2U rule, flag "a", a regexp.
svc.test. 300 IN NAPTR 10 10 "s" "SIP+D2S" "" _sip._sctp.svc.test.
svc.test. 300 IN NAPTR 10 20 "u" "E2U+sip" "!^.*$!sip:info@svc.test!" .
svc.test. 300 IN NAPTR 10 30 "s" "SIP+D2W" "" _sip._ws.svc.test.
svc.test. 300 IN NAPTR 10 40 "a" "SIP+D2T" "" tcp.svc.test.
svc.test. 300 IN NAPTR 10 50 "s" "SIP+D2T" "" _sip._tcp.svc.test.
svc.test. 300 IN NAPTR 10 60 "s" "SIP+D2U" "!x!y!" _sip._udp.svc.test.
_sip._sctp.svc.test. 300 IN SRV 10 0 5060 sctp.svc.test.
_sip._ws.svc.test. 300 IN SRV 10 0 8080 ws.svc.test.
_sip._tcp.svc.test. 300 IN SRV 10 0 5060 tcp.svc.test.
_sip._udp.svc.test. 300 IN SRV 10 0 5060 udp.svc.test.
sctp.svc.test. 300 IN A 192.0.2.80
ws.svc.test. 300 IN A 192.0.2.81
tcp.svc.test. 300 IN A 192.0.2.82
udp.svc.test. 300 IN A 192.0.2.83

; No NAPTR: SRV per transport.
srv.test. 300 IN A 192.0.2.49
_sip._udp.srv.test. 300 IN SRV 10 0 5060 a.srv.test.
_sip._tcp.srv.test. 300 IN SRV 10 0 5070 b.srv.test.
_sips._tcp.srv.test. 300 IN SRV 10 0 5071 b.srv.test.
a.srv.test. 300 IN A 192.0.2.50
b.srv.test. 300 IN A 192.0.2.51
b.srv.test. 300 IN AAAA 2001:db8::51

; SRV weights within a priority, and a backup priority.
_sip._udp.weight.test. 300 IN SRV 10 60 5060 w60.weight.test.
_sip._udp.weight.test. 300 IN SRV 10 30 5060 w30.weight.test.
_sip._udp.weight.test. 300 IN SRV 10 10 5060 w10.weight.test.
_sip._udp.weight.test. 300 IN SRV 20 0 5060 backup.weight.test.
w60.weight.test. 300 IN A 192.0.2.60
w30.weight.test. 300 IN A 192.0.2.30
w10.weight.test. 300 IN A 192.0.2.10
backup.weight.test. 300 IN A 192.0.2.99

; No NAPTR, no SRV: A/AAAA with default ports.
plain.test. 300 IN A 192.0.2.70
plain.test. 300 IN AAAA 2001:db8::70

; SRV target "." : the service is not offered (no A fallback).
dot.test. 300 IN A 192.0.2.71
_sip._udp.dot.test. 300 IN SRV 0 0 0 .

; SRV targets that do not all resolve.
half.test. 300 IN A 192.0.2.72
_sip._udp.half.test. 300 IN SRV 10 0 5060 gone.half.test.
_sip._udp.half.test. 300 IN SRV 20 0 5060 here.half.test.
here.half.test. 300 IN A 192.0.2.73
bad.test. 300 IN A 192.0.2.74
_sip._udp.bad.test. 300 IN SRV 10 0 5060 gone.bad.test.
`

var allTransports = []string{"udp", "tcp", "tls"}

func TestLookupSIPProxy(t *testing.T) {
	tests := []struct {
		name      string
		target    Target
		supported []string
		opts      []Option
		want      []string
		// queries the server must have received (in any order); nil
		// means "do not check".
		queries []string
	}{
		{
			name:      "NAPTR order and preference, not the caller's preference",
			target:    Target{Host: "example.test"},
			supported: []string{"udp", "tcp", "tls"},
			want: []string{
				"tls:192.0.2.10:5061 (example.test)",
				"tls:[2001:db8::10]:5061 (example.test)",
				"tcp:192.0.2.20:5060",
				"udp:192.0.2.30:5060",
				"udp:192.0.2.31:5062",
				"udp:192.0.2.32:5062",
			},
			queries: []string{
				"NAPTR example.test",
				"SRV _sips._tcp.example.test", "SRV _sip._tcp.example.test", "SRV _sip._udp.example.test",
				"A tls1.example.test", "AAAA tls1.example.test",
				"A tcp1.example.test", "AAAA tcp1.example.test",
				"A udp1.example.test", "AAAA udp1.example.test",
				"A udp2.example.test", "AAAA udp2.example.test",
			},
		},
		{
			name:      "NAPTR limited to supported transports",
			target:    Target{Host: "EXAMPLE.test."},
			supported: []string{"tcp"},
			want:      []string{"tcp:192.0.2.20:5060"},
			queries:   []string{"NAPTR example.test", "SRV _sip._tcp.example.test", "A tcp1.example.test", "AAAA tcp1.example.test"},
		},
		{
			name:      "NAPTR lowest order only",
			target:    Target{Host: "order.test"},
			supported: allTransports,
			want:      []string{"tls:192.0.2.40:5061 (order.test)", "udp:192.0.2.40:5060"},
		},
		{
			name:      "NAPTR order whose records are all unsupported is skipped",
			target:    Target{Host: "order.test"},
			supported: []string{"tcp"},
			want:      []string{"tcp:192.0.2.40:5060"},
		},
		{
			name:      "NAPTR order that leads nowhere falls to the next order",
			target:    Target{Host: "dead.test"},
			supported: allTransports,
			want:      []string{"tcp:192.0.2.45:5060"},
		},
		{
			name:      "NAPTR unsupported services, flags and regexps skipped",
			target:    Target{Host: "svc.test"},
			supported: []string{"udp", "tcp"},
			want:      []string{"tcp:192.0.2.82:5060"},
			queries:   []string{"NAPTR svc.test", "SRV _sip._tcp.svc.test", "A tcp.svc.test", "AAAA tcp.svc.test"},
		},
		{
			name:      "NAPTR WebSocket service",
			target:    Target{Host: "svc.test"},
			supported: []string{"ws", "tcp"},
			want:      []string{"ws:192.0.2.81:8080", "tcp:192.0.2.82:5060"},
		},
		{
			name:      "no usable NAPTR: SRV",
			target:    Target{Host: "svc.test"},
			supported: []string{"udp"},
			want:      []string{"udp:192.0.2.83:5060"},
			queries:   []string{"NAPTR svc.test", "SRV _sip._udp.svc.test", "A udp.svc.test", "AAAA udp.svc.test"},
		},
		{
			name:      "SRV fallback in the caller's order of transports",
			target:    Target{Host: "srv.test"},
			supported: []string{"tcp", "udp", "tls"},
			want: []string{
				"tcp:192.0.2.51:5070",
				"tcp:[2001:db8::51]:5070",
				"udp:192.0.2.50:5060",
				"tls:192.0.2.51:5071 (srv.test)",
				"tls:[2001:db8::51]:5071 (srv.test)",
			},
			queries: []string{
				"NAPTR srv.test",
				"SRV _sip._tcp.srv.test", "SRV _sip._udp.srv.test", "SRV _sips._tcp.srv.test",
				"A a.srv.test", "AAAA a.srv.test", "A b.srv.test", "AAAA b.srv.test",
			},
		},
		{
			name:      "IPv6 first",
			target:    Target{Host: "srv.test"},
			supported: []string{"tcp"},
			opts:      []Option{WithAddressFamily(IPv6First)},
			want:      []string{"tcp:[2001:db8::51]:5070", "tcp:192.0.2.51:5070"},
		},
		{
			name:      "IPv4 only makes no AAAA query",
			target:    Target{Host: "srv.test"},
			supported: []string{"tcp"},
			opts:      []Option{WithAddressFamily(IPv4Only)},
			want:      []string{"tcp:192.0.2.51:5070"},
			queries:   []string{"NAPTR srv.test", "SRV _sip._tcp.srv.test", "A b.srv.test"},
		},
		{
			name:      "IPv6 only",
			target:    Target{Host: "srv.test"},
			supported: []string{"tcp"},
			opts:      []Option{WithAddressFamily(IPv6Only)},
			want:      []string{"tcp:[2001:db8::51]:5070"},
		},
		{
			name:      "no SRV: A/AAAA with default ports per supported transport",
			target:    Target{Host: "plain.test"},
			supported: []string{"udp", "tls", "wss"},
			want: []string{
				"udp:192.0.2.70:5060",
				"udp:[2001:db8::70]:5060",
				"tls:192.0.2.70:5061 (plain.test)",
				"tls:[2001:db8::70]:5061 (plain.test)",
				"wss:192.0.2.70:443 (plain.test)",
				"wss:[2001:db8::70]:443 (plain.test)",
			},
			queries: []string{
				"NAPTR plain.test",
				"SRV _sip._udp.plain.test", "SRV _sips._tcp.plain.test", "SRV _sips._ws.plain.test",
				"A plain.test", "AAAA plain.test",
			},
		},
		{
			name:      "explicit port: A/AAAA only, udp for sip",
			target:    Target{Host: "example.test", Port: 5080},
			supported: []string{"tcp", "udp"},
			want:      []string{"udp:192.0.2.1:5080", "udp:[2001:db8::1]:5080"},
			queries:   []string{"A example.test", "AAAA example.test"},
		},
		{
			name:      "explicit port, udp not supported: first supported",
			target:    Target{Host: "example.test", Port: 5080},
			supported: []string{"tcp", "tls"},
			want:      []string{"tcp:192.0.2.1:5080", "tcp:[2001:db8::1]:5080"},
			queries:   []string{"A example.test", "AAAA example.test"},
		},
		{
			name:      "explicit port with sips: tls",
			target:    Target{Host: "example.test", Port: 5081, Secure: true},
			supported: allTransports,
			want:      []string{"tls:192.0.2.1:5081 (example.test)", "tls:[2001:db8::1]:5081 (example.test)"},
			queries:   []string{"A example.test", "AAAA example.test"},
		},
		{
			name:      "explicit port and transport",
			target:    Target{Host: "example.test", Port: 5082, Transport: "TCP"},
			supported: allTransports,
			opts:      []Option{WithAddressFamily(IPv4Only)},
			want:      []string{"tcp:192.0.2.1:5082"},
			queries:   []string{"A example.test"},
		},
		{
			name:      "sips: only TLS from NAPTR",
			target:    Target{Host: "example.test", Secure: true},
			supported: allTransports,
			want:      []string{"tls:192.0.2.10:5061 (example.test)", "tls:[2001:db8::10]:5061 (example.test)"},
			queries:   []string{"NAPTR example.test", "SRV _sips._tcp.example.test", "A tls1.example.test", "AAAA tls1.example.test"},
		},
		{
			name:      "sips: only TLS from SRV",
			target:    Target{Host: "srv.test", Secure: true},
			supported: allTransports,
			want:      []string{"tls:192.0.2.51:5071 (srv.test)", "tls:[2001:db8::51]:5071 (srv.test)"},
			queries:   []string{"NAPTR srv.test", "SRV _sips._tcp.srv.test", "A b.srv.test", "AAAA b.srv.test"},
		},
		{
			name:      "sips: only TLS from A",
			target:    Target{Host: "plain.test", Secure: true},
			supported: allTransports,
			opts:      []Option{WithAddressFamily(IPv4Only)},
			want:      []string{"tls:192.0.2.70:5061 (plain.test)"},
		},
		{
			name:      "transport parameter: SRV of that transport, no NAPTR",
			target:    Target{Host: "example.test", Transport: "tcp"},
			supported: allTransports,
			want:      []string{"tcp:192.0.2.20:5060"},
			queries:   []string{"SRV _sip._tcp.example.test", "A tcp1.example.test", "AAAA tcp1.example.test"},
		},
		{
			name:      "transport parameter tcp on sips means TLS",
			target:    Target{Host: "example.test", Transport: "tcp", Secure: true},
			supported: allTransports,
			opts:      []Option{WithAddressFamily(IPv4Only)},
			want:      []string{"tls:192.0.2.10:5061 (example.test)"},
			queries:   []string{"SRV _sips._tcp.example.test", "A tls1.example.test"},
		},
		{
			name:      "transport parameter without SRV: A/AAAA on the default port",
			target:    Target{Host: "plain.test", Transport: "tls"},
			supported: allTransports,
			want:      []string{"tls:192.0.2.70:5061 (plain.test)", "tls:[2001:db8::70]:5061 (plain.test)"},
			queries:   []string{"SRV _sips._tcp.plain.test", "A plain.test", "AAAA plain.test"},
		},
		{
			name:      "IP literal: no DNS",
			target:    Target{Host: "192.0.2.200"},
			supported: allTransports,
			want:      []string{"udp:192.0.2.200:5060"},
			queries:   []string{},
		},
		{
			name:      "IPv6 literal in brackets, sips",
			target:    Target{Host: "[2001:DB8::200]", Secure: true},
			supported: allTransports,
			want:      []string{"tls:[2001:db8::200]:5061 (2001:db8::200)"},
			queries:   []string{},
		},
		{
			name:      "IP literal with port and transport",
			target:    Target{Host: "192.0.2.200", Port: 5099, Transport: "tcp"},
			supported: allTransports,
			want:      []string{"tcp:192.0.2.200:5099"},
			queries:   []string{},
		},
		{
			name:      "IP literal, udp not supported",
			target:    Target{Host: "192.0.2.200"},
			supported: []string{"tcp"},
			want:      []string{"tcp:192.0.2.200:5060"},
			queries:   []string{},
		},
		{
			name:      "SRV targets that do not resolve are skipped",
			target:    Target{Host: "half.test"},
			supported: []string{"udp"},
			opts:      []Option{WithAddressFamily(IPv4Only)},
			want:      []string{"udp:192.0.2.73:5060"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, testZone)
			r := newTestResolver(srv, tc.opts...)
			routes, err := r.LookupSIPProxy(context.Background(), tc.target, tc.supported)
			if err != nil {
				t.Fatalf("LookupSIPProxy: %v", err)
			}
			if got := routeStrings(routes); !slices.Equal(got, tc.want) {
				t.Errorf("routes:\n\tgot  %q\n\twant %q", got, tc.want)
			}
			if tc.queries != nil {
				got := srv.queries()
				slices.Sort(got)
				want := slices.Clone(tc.queries)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("queries:\n\tgot  %q\n\twant %q", got, want)
				}
			}
		})
	}
}

func TestLookupErrors(t *testing.T) {
	tests := []struct {
		name      string
		target    Target
		supported []string
		kind      error
		errName   string
		errType   string
		noQueries bool
	}{
		{"NXDOMAIN names the host", Target{Host: "nope.test"}, allTransports, ErrNXDomain, "nope.test", "A/AAAA", false},
		{"NXDOMAIN with explicit port", Target{Host: "nope.test", Port: 5060}, allTransports, ErrNXDomain, "nope.test", "A/AAAA", false},
		{"SRV target NXDOMAIN", Target{Host: "bad.test"}, []string{"udp"}, ErrNXDomain, "gone.bad.test", "A/AAAA", false},
		{"SRV target \".\": no A fallback", Target{Host: "dot.test"}, []string{"udp"}, ErrNoRecords, "_sip._udp.dot.test", "SRV", false},
		{"transport parameter not supported", Target{Host: "example.test", Transport: "tcp"}, []string{"udp"}, ErrUnsupportedTransport, "example.test", "", true},
		{"unknown transport parameter", Target{Host: "example.test", Transport: "sctp"}, allTransports, ErrUnsupportedTransport, "example.test", "", true},
		{"sips over udp", Target{Host: "example.test", Transport: "udp", Secure: true}, allTransports, ErrUnsupportedTransport, "example.test", "", true},
		{"sips without tls support", Target{Host: "example.test", Secure: true}, []string{"udp", "tcp"}, ErrUnsupportedTransport, "example.test", "", true},
		{"no known transport", Target{Host: "example.test"}, []string{"sctp"}, ErrUnsupportedTransport, "example.test", "", true},
		{"empty host", Target{}, allTransports, ErrInvalidTarget, "", "", true},
		{"host with port", Target{Host: "example.test:5060"}, allTransports, ErrInvalidTarget, "example.test:5060", "", true},
		{"host with space", Target{Host: "exa mple.test"}, allTransports, ErrInvalidTarget, "exa mple.test", "", true},
		{"port out of range", Target{Host: "example.test", Port: 70000}, allTransports, ErrInvalidTarget, "example.test", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, testZone)
			r := newTestResolver(srv)
			routes, err := r.LookupSIPProxy(context.Background(), tc.target, tc.supported)
			if err == nil {
				t.Fatalf("got routes %q, want an error", routeStrings(routes))
			}
			var le *LookupError
			if !errors.As(err, &le) {
				t.Fatalf("error %T %v is not a *LookupError", err, err)
			}
			if !errors.Is(err, tc.kind) || le.Name != tc.errName || le.Type != tc.errType {
				t.Errorf("got %v (kind %v, name %q, type %q), want kind %v, name %q, type %q",
					err, le.Kind, le.Name, le.Type, tc.kind, tc.errName, tc.errType)
			}
			if tc.errName != "" && !strings.Contains(err.Error(), tc.errName) {
				t.Errorf("message %q does not name %q", err, tc.errName)
			}
			if q := srv.queries(); tc.noQueries && len(q) > 0 {
				t.Errorf("queries made: %q", q)
			}
			if routes != nil {
				t.Errorf("routes %q returned with the error", routeStrings(routes))
			}
		})
	}
}

func TestRoute(t *testing.T) {
	r := Route{Address: "2001:db8::1", Port: 5061, Transport: "tls", TLSName: "example.test"}
	if got := r.HostPort(); got != "[2001:db8::1]:5061" {
		t.Errorf("HostPort = %q", got)
	}
	if got := r.String(); got != "tls:[2001:db8::1]:5061 (example.test)" {
		t.Errorf("String = %q", got)
	}
	for tr, want := range map[string]int{"udp": 5060, "TCP": 5060, "tls": 5061, "ws": 80, "wss": 443, "sctp": 0} {
		if got := DefaultPort(tr); got != want {
			t.Errorf("DefaultPort(%q) = %d, want %d", tr, got, want)
		}
	}
}

func TestAdditionalSectionUsed(t *testing.T) {
	srv := newTestServer(t, testZone)
	srv.mu.Lock()
	srv.extra = true
	srv.mu.Unlock()
	r := newTestResolver(srv)
	routes, err := r.LookupSIPProxy(context.Background(), Target{Host: "example.test"}, allTransports)
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) != 6 {
		t.Errorf("routes %q", routeStrings(routes))
	}
	for _, q := range srv.queries() {
		if strings.HasPrefix(q, "A ") || strings.HasPrefix(q, "AAAA ") {
			t.Errorf("address query %q made although the SRV answers carried the addresses", q)
		}
	}
}
