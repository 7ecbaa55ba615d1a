package core

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseRoute(t *testing.T) {
	tests := []struct {
		in   string
		want Route
		str  string
	}{
		{"proxy.example.com", Route{"proxy.example.com", 5060, "udp", ""}, "proxy.example.com:5060;transport=udp"},
		{"proxy:5070", Route{"proxy", 5070, "udp", ""}, "proxy:5070;transport=udp"},
		{"proxy.example.com:5070;transport=TCP", Route{"proxy.example.com", 5070, "tcp", ""}, "proxy.example.com:5070;transport=tcp"},
		{"192.0.2.1;transport=tls", Route{"192.0.2.1", 5061, "tls", ""}, "192.0.2.1:5061;transport=tls"},
		{"[2001:db8::1]:5080;transport=tcp", Route{"2001:db8::1", 5080, "tcp", ""}, "[2001:db8::1]:5080;transport=tcp"},
		{"[2001:db8::1]", Route{"2001:db8::1", 5060, "udp", ""}, "[2001:db8::1]:5060;transport=udp"},
		{"ws.example.com;transport=ws", Route{"ws.example.com", 80, "ws", ""}, "ws.example.com:80;transport=ws"},
		{"ws.example.com;transport=wss", Route{"ws.example.com", 443, "wss", ""}, "ws.example.com:443;transport=wss"},
		{"sip:proxy.example.com;lr", Route{"proxy.example.com", 5060, "udp", ""}, "proxy.example.com:5060;transport=udp"},
		{"SIP:proxy.example.com:5062;transport=tls;lr", Route{"proxy.example.com", 5062, "tls", ""}, "proxy.example.com:5062;transport=tls"},
		{"sips:proxy.example.com", Route{"proxy.example.com", 5061, "tls", ""}, "proxy.example.com:5061;transport=tls"},
		{"sips:proxy.example.com;transport=tcp", Route{"proxy.example.com", 5061, "tls", ""}, "proxy.example.com:5061;transport=tls"},
		{"sips:proxy.example.com;transport=ws", Route{"proxy.example.com", 443, "wss", ""}, "proxy.example.com:443;transport=wss"},
		{"sip:[::1]:5060;transport=udp", Route{"::1", 5060, "udp", ""}, "[::1]:5060;transport=udp"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := ParseRoute(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if r != tt.want {
				t.Fatalf("ParseRoute = %#v, want %#v", r, tt.want)
			}
			if got := r.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if back, err := ParseRoute(r.String()); err != nil || back != r {
				t.Errorf("ParseRoute(String()) = %#v, %v", back, err)
			}
			if back, err := ParseRoute(r.URI().String()); err != nil || back != r {
				t.Errorf("ParseRoute(URI().String()) = %#v, %v", back, err)
			}
		})
	}

	bad := []struct {
		in, reason string
		syntax     bool // a *ParseError
	}{
		{"", "empty host", true},
		{"proxy.example.com:0", "port 0", true},
		{"proxy.example.com:65536", "out of range", true},
		{"proxy.example.com;transport=sctp", "transport \"sctp\"", false},
		{"proxy.example.com;transport", "transport parameter without value", true},
		{"fe80::1", "IPv6 address not enclosed", true},
		{"http://proxy.example.com", "unsupported scheme", true},
		{"proxy:x", "unsupported scheme", true},
		{"2001:db8::1", "IPv6 address not enclosed", true},
		{"alice@proxy.example.com", "no user part", true},
		{"sip:alice@proxy.example.com", "no user part", true},
		{"sip:proxy.example.com?subject=x", "no headers", true},
		{"sip:proxy.example.com;maddr=192.0.2.1", "unsupported parameter \"maddr\"", true},
		{"sips:proxy.example.com;transport=udp", "cannot be used with a sips URI", true},
		{"tel:+1234", "unsupported scheme", true},
		{"proxy example", "in host", true},
		{"proxy.example.com:5060:5060", "in port", true},
	}
	for _, tt := range bad {
		r, err := ParseRoute(tt.in)
		if err == nil {
			t.Errorf("ParseRoute(%q) = %#v, want error", tt.in, r)
			continue
		}
		var pe *ParseError
		if !strings.Contains(err.Error(), tt.reason) || errors.As(err, &pe) != tt.syntax {
			t.Errorf("ParseRoute(%q): %v (%T), want %q", tt.in, err, err, tt.reason)
		}
	}
	// Offsets refer to the input, without the "sip:" added to it.
	_, err := ParseRoute("proxy.example.com:5x")
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Offset != 19 || pe.What != "route" {
		t.Errorf("error %#v, want a route error at offset 19", err)
	}
}

func TestRouteValidate(t *testing.T) {
	good := []Route{
		{"192.0.2.1", 5060, "udp", ""},
		{"2001:db8::1", 1, "tcp", ""},
		{"::ffff:192.0.2.1", 65535, "tls", "sip.example.com"},
		{"proxy.example.com", 443, "wss", "192.0.2.7"},
		{"localhost", 80, "ws", ""},
	}
	for _, r := range good {
		if err := r.Validate(); err != nil {
			t.Errorf("%#v: %v", r, err)
		}
	}
	bad := []struct {
		r      Route
		reason string
	}{
		{Route{}, "address \"\": empty host"},
		{Route{"192.0.2.1", 0, "udp", ""}, "port 0"},
		{Route{"192.0.2.1", 65536, "udp", ""}, "port 65536"},
		{Route{"192.0.2.1", -1, "udp", ""}, "port -1"},
		{Route{"192.0.2.1", 5060, "", ""}, "transport \"\""},
		{Route{"192.0.2.1", 5060, "UDP", ""}, "transport \"UDP\""},
		{Route{"192.0.2.1", 5060, "sctp", ""}, "transport \"sctp\""},
		{Route{"[2001:db8::1]", 5060, "udp", ""}, "not a valid IPv6"},
		{Route{"fe80::1%eth0", 5060, "udp", ""}, "zone"},
		{Route{"192.0.2.256", 5060, "udp", ""}, "invalid IPv4"},
		{Route{"proxy_1.example.com", 5060, "udp", ""}, "'_' in host"},
		{Route{"proxy.example.com:5060", 5060, "udp", ""}, "not a valid IPv6"},
		{Route{"proxy.example.com", 5061, "tls", "bad name"}, "TLS name"},
	}
	for _, tt := range bad {
		if err := tt.r.Validate(); err == nil || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("%#v: Validate() = %v, want %q", tt.r, err, tt.reason)
		}
	}
}

func TestRouteURI(t *testing.T) {
	tests := []struct {
		r         Route
		uri, host string
	}{
		{Route{"192.0.2.1", 5060, "udp", ""}, "sip:192.0.2.1:5060;transport=udp;lr", "192.0.2.1:5060"},
		{Route{"proxy.example.com", 5061, "tls", "example.com"}, "sip:proxy.example.com:5061;transport=tls;lr", "proxy.example.com:5061"},
		{Route{"2001:db8::1", 443, "WSS", ""}, "sip:[2001:db8::1]:443;transport=wss;lr", "[2001:db8::1]:443"},
		{Route{Address: "h"}, "sip:h;lr", "h"},
	}
	for _, tt := range tests {
		u := tt.r.URI()
		if got := u.String(); got != tt.uri {
			t.Errorf("%#v: URI() = %q, want %q", tt.r, got, tt.uri)
		}
		if !u.Parameters.Has("lr") || u.IsSecure() {
			t.Errorf("%#v: URI() not a loose-routing sip URI", tt.r)
		}
		if got := tt.r.HostPort(); got != tt.host {
			t.Errorf("%#v: HostPort() = %q, want %q", tt.r, got, tt.host)
		}
		if back := MustParseSIPURI(tt.uri); !reflect.DeepEqual(back, u) {
			t.Errorf("URI() %#v does not round-trip: %#v", u, back)
		}
	}
	if got := (Route{Address: "h"}).String(); got != "h" {
		t.Errorf("String() of a bare address = %q", got)
	}
}
