package core

import (
	"encoding/json"
	"errors"
	"github.com/sipsimple-go/sipsimple/internal/corpus"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseSIPURIAccept(t *testing.T) {
	tests := []struct {
		in   string
		want SIPURI
		str  string // canonical form; "" means the input itself
	}{
		{in: "sip:alice@atlanta.com", want: SIPURI{Scheme: "sip", User: "alice", Host: "atlanta.com"}},
		{in: "SIP:alice@atlanta.com", want: SIPURI{Scheme: "sip", User: "alice", Host: "atlanta.com"}, str: "sip:alice@atlanta.com"},
		{in: "SiPs:alice@atlanta.com", want: SIPURI{Scheme: "sips", User: "alice", Host: "atlanta.com"}, str: "sips:alice@atlanta.com"},
		{in: "sip:alice:secretword@atlanta.com;transport=tcp", want: SIPURI{Scheme: "sip", User: "alice", Password: "secretword",
			Host: "atlanta.com", Parameters: Parameters{{"transport", "tcp"}}}},
		{in: "sips:alice@atlanta.com?subject=project%20x&priority=urgent", want: SIPURI{Scheme: "sips", User: "alice",
			Host: "atlanta.com", Headers: Parameters{{"subject", "project x"}, {"priority", "urgent"}}}},
		{in: "sip:+1-212-555-1212:1234@gateway.com;user=phone", want: SIPURI{Scheme: "sip", User: "+1-212-555-1212",
			Password: "1234", Host: "gateway.com", Parameters: Parameters{{"user", "phone"}}}},
		{in: "sips:1212@gateway.com", want: SIPURI{Scheme: "sips", User: "1212", Host: "gateway.com"}},
		{in: "sip:alice@192.0.2.4", want: SIPURI{Scheme: "sip", User: "alice", Host: "192.0.2.4"}},
		{in: "sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com", want: SIPURI{Scheme: "sip", Host: "atlanta.com",
			Parameters: Parameters{{"method", "REGISTER"}}, Headers: Parameters{{"to", "alice@atlanta.com"}}}},
		{in: "sip:alice;day=tuesday@atlanta.com", want: SIPURI{Scheme: "sip", User: "alice;day=tuesday", Host: "atlanta.com"}},
		{in: "sips:+358-555-1234567;postd=pp22@foo.com;user=phone", want: SIPURI{Scheme: "sips",
			User: "+358-555-1234567;postd=pp22", Host: "foo.com", Parameters: Parameters{{"user", "phone"}}}},
		{in: "sip:%61lice@atlanta.com;transport=TCP", want: SIPURI{Scheme: "sip", User: "alice", Host: "atlanta.com",
			Parameters: Parameters{{"transport", "TCP"}}}, str: "sip:alice@atlanta.com;transport=TCP"},
		{in: "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com", want: SIPURI{Scheme: "sip",
			Host: "biloxi.com", Parameters: Parameters{{"transport", "tcp"}, {"method", "REGISTER"}},
			Headers: Parameters{{"to", "sip:bob@biloxi.com"}}}},
		{in: "sip:[2001:db8::10]:5070", want: SIPURI{Scheme: "sip", Host: "2001:db8::10", Port: 5070}},
		{in: "sip:[2001:DB8::10]", want: SIPURI{Scheme: "sip", Host: "2001:DB8::10"}},
		{in: "sip:user@[::ffff:192.0.2.10]", want: SIPURI{Scheme: "sip", User: "user", Host: "::ffff:192.0.2.10"}},
		{in: "sip:[::1];maddr=[::2]", want: SIPURI{Scheme: "sip", Host: "::1", Parameters: Parameters{{"maddr", "[::2]"}}}},
		// RFC 5118 section 4.10: the extra colon is tolerated and dropped.
		{in: "sip:user@[2001:db8:::192.0.2.1]", want: SIPURI{Scheme: "sip", User: "user", Host: "2001:db8::192.0.2.1"},
			str: "sip:user@[2001:db8::192.0.2.1]"},
		{in: "sip:[:::192.0.2.1]", want: SIPURI{Scheme: "sip", Host: "::192.0.2.1"}, str: "sip:[::192.0.2.1]"},
		{in: "sip:host.example.com.;lr", want: SIPURI{Scheme: "sip", Host: "host.example.com.", Parameters: Parameters{{"lr", ""}}}},
		{in: "sip:alice@atlanta.com;maddr=239.255.255.1;ttl=15", want: SIPURI{Scheme: "sip", User: "alice",
			Host: "atlanta.com", Parameters: Parameters{{"maddr", "239.255.255.1"}, {"ttl", "15"}}}},
		{in: "sip:a%3Ab%40c@host", want: SIPURI{Scheme: "sip", User: "a:b@c", Host: "host"}},
		{in: "sip:a%3bb@host", want: SIPURI{Scheme: "sip", User: "a;b", Host: "host"}, str: "sip:a;b@host"},
		{in: "sip:a%2fb@host", want: SIPURI{Scheme: "sip", User: "a/b", Host: "host"}, str: "sip:a/b@host"},
		{in: "sip:host;lr;foo=[::1]", want: SIPURI{Scheme: "sip", Host: "host", Parameters: Parameters{{"lr", ""}, {"foo", "[::1]"}}}},
		{in: "sip:host?h=", want: SIPURI{Scheme: "sip", Host: "host", Headers: Parameters{{"h", ""}}}},
		// "@" cannot appear unescaped after the host, so this is the only parse.
		{in: "sip:host;maddr=x?h=a@b", want: SIPURI{Scheme: "sip", User: "host;maddr=x?h=a", Host: "b"}},
		{in: "sip:host?h=a?b", want: SIPURI{Scheme: "sip", Host: "host", Headers: Parameters{{"h", "a?b"}}}},
		{in: "sip:host:05060", want: SIPURI{Scheme: "sip", Host: "host", Port: 5060}, str: "sip:host:5060"},
		{in: "sip:user:@host", want: SIPURI{Scheme: "sip", User: "user", Host: "host"}, str: "sip:user@host"},
		{in: "sip:user:p%3Ass@host", want: SIPURI{Scheme: "sip", User: "user", Password: "p:ss", Host: "host"}},
		{in: "sip:%E2%82%AC@host", want: SIPURI{Scheme: "sip", User: "€", Host: "host"}},
		{in: "sip:%00@host", want: SIPURI{Scheme: "sip", User: "\x00", Host: "host"}},
		{in: "sip:x@a-b.c-d.example", want: SIPURI{Scheme: "sip", User: "x", Host: "a-b.c-d.example"}},
		{in: "sip:9.example.com", want: SIPURI{Scheme: "sip", Host: "9.example.com"}},
		{in: "sip:u@localhost", want: SIPURI{Scheme: "sip", User: "u", Host: "localhost"}},
		{in: "sip:user@1.2.3.4:65535", want: SIPURI{Scheme: "sip", User: "user", Host: "1.2.3.4", Port: 65535}},
		{in: "sip:host;x=%3B", want: SIPURI{Scheme: "sip", Host: "host", Parameters: Parameters{{"x", ";"}}}},
		{in: "sip:host;%41=b", want: SIPURI{Scheme: "sip", Host: "host", Parameters: Parameters{{"A", "b"}}}, str: "sip:host;A=b"},
		{in: "sip:host;transport=tcp?Route=%3Csip:p1%3E&Route=%3Csip:p2%3E", want: SIPURI{Scheme: "sip", Host: "host",
			Parameters: Parameters{{"transport", "tcp"}}, Headers: Parameters{{"Route", "<sip:p1>"}, {"Route", "<sip:p2>"}}}},
		{in: "sip:a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.com", want: SIPURI{Scheme: "sip",
			Host: "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.com"}},
		{in: "sip:" + strings.Repeat("a", 63) + ".com", want: SIPURI{Scheme: "sip", Host: strings.Repeat("a", 63) + ".com"}},
		{in: "sip:-_.!~*'()&=+$,;?/@host", want: SIPURI{Scheme: "sip", User: "-_.!~*'()&=+$,;?/", Host: "host"}},
		{in: "sip:u:-_.!~*'()&=+$,@host", want: SIPURI{Scheme: "sip", User: "u", Password: "-_.!~*'()&=+$,", Host: "host"}},
		{in: "sip:host;-_.!~*'()[]/:&+$=-_.!~*'()[]/:&+$", want: SIPURI{Scheme: "sip", Host: "host",
			Parameters: Parameters{{"-_.!~*'()[]/:&+$", "-_.!~*'()[]/:&+$"}}}},
		{in: "sip:host?-_.!~*'()[]/?:+$=-_.!~*'()[]/?:+$", want: SIPURI{Scheme: "sip", Host: "host",
			Headers: Parameters{{"-_.!~*'()[]/?:+$", "-_.!~*'()[]/?:+$"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := ParseSIPURI(tt.in)
			if err != nil {
				t.Fatalf("ParseSIPURI: %v", err)
			}
			if !reflect.DeepEqual(u, tt.want) {
				t.Fatalf("ParseSIPURI = %#v, want %#v", u, tt.want)
			}
			want := tt.str
			if want == "" {
				want = tt.in
			}
			if got := u.String(); got != want {
				t.Errorf("String() = %q, want %q", got, want)
			}
			again, err := ParseSIPURI(u.String())
			if err != nil {
				t.Fatalf("ParseSIPURI(String()): %v", err)
			}
			if !reflect.DeepEqual(again, u) || !again.Equal(u) || !u.Equal(again) {
				t.Errorf("round trip gave %#v, want %#v", again, u)
			}
			if err := u.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestParseSIPURIReject(t *testing.T) {
	longLabel := strings.Repeat("a", 64)
	tests := []struct {
		in     string
		reason string // substring of the error
		offset int    // -1: not checked
	}{
		{"", "missing scheme", 0},
		{"alice@atlanta.com", "missing scheme", 0},
		{"tel:+1-201-555-0123", "unsupported scheme", 0},
		{"http://example.com", "unsupported scheme", 0},
		{"sipx:host", "unsupported scheme", 0},
		{" sip:host", "unsupported scheme", 0},
		{"sip:", "empty host", 4},
		{"sip:@host", "empty user", 4},
		{"sip::pw@host", "empty user", 4},
		{"sip:alice@", "empty host", 10},
		{"sip:alice@;lr", "empty host", 10},
		{"sip:host:", "empty port", 9},
		{"sip:host:0", "port 0", 9},
		{"sip:host:00000", "port 0", 9},
		{"sip:host:65536", "out of range", 9},
		{"sip:host:99999999999999999999999999", "out of range", 9},
		{"sip:host:50a", "'a' in port", 11},
		{"sip:host:-1", "'-' in port", 9},
		{"sip:host:5060:5060", "':' in port", 13},
		{"sip:2001:db8::10", "IPv6 address not enclosed", 4}, // RFC 5118 4.2
		{"sip:[2001:db8::10]:5070:1", "':' in port", 23},
		{"sip:2001:db8::10;lr", "IPv6 address not enclosed", 4},
		{"sip:::1", "IPv6 address not enclosed", 4},
		{"sip:[2001:db8::10", "without closing", 4},
		{"sip:[]", "empty IPv6", 5},
		{"sip:[1.2.3.4]", "invalid IPv6", 5},
		{"sip:[::1%eth0]", "'%' in IPv6", 8},
		{"sip:[::1%25eth0]", "'%' in IPv6", 8},
		{"sip:[::1]x", "unexpected character 'x' after host", 9},
		{"sip:[::1]]", "unexpected character ']'", 9},
		{"sip:[::g]", "'g' in IPv6", 7},
		{"sip:[2001:db8::1::2]", "invalid IPv6", 5},
		{"sip:[1:2:3:4:5:6:7:8:9]", "invalid IPv6", 5},
		{"sip:[2001:db8:::1]", "invalid IPv6", 5},
		{"sip:[::::192.0.2.1]", "invalid IPv6", 5},
		{"sip:host]", "']' in host", 8},
		{"sip:alice@atl anta.com", "' ' in host", 13},
		{"sip:alice@atlanta.com\r\n", "control character 0x0D in host", 21},
		{"sip:alice@atlanta.com\x00", "control character 0x00", 21},
		{"sip:al\x00ice@host", "control character 0x00 not allowed in user", 6},
		{"sip:al\x7fice@host", "control character 0x7F not allowed in user", 6},
		{"sip:alice@ex\u00e4mple.com", "non-ASCII character 'ä' in host", 12},
		{"sip:\u00e4lice@host", "non-ASCII character 'ä' not allowed in user", 4},
		{"sip:\xffalice@host", "byte 0xFF not allowed in user", 4},
		{"sip:a%4@host", "bad escape in user", 5},
		{"sip:a%@host", "bad escape in user", 5},
		{"sip:a%zz@host", "bad escape in user", 5},
		{"sip:u:%g0@host", "bad escape in password", 6},
		{"sip:host;a=%2", "bad escape in parameter value", 11},
		{"sip:host;%=b", "bad escape in parameter name", 9},
		{"sip:host?a=%", "bad escape in header value", 11},
		{"sip:host;", "empty parameter name", 9},
		{"sip:host;;lr", "empty parameter name", 9},
		{"sip:host;=x", "empty parameter name", 9},
		{"sip:host;a=", "empty value", 11},
		{"sip:host;a=b=c", "'=' not allowed in parameter value", 12},
		{"sip:host;transport=tcp;Transport=udp", "duplicate parameter", 23},
		{"sip:host;lr;lr", "duplicate parameter", 12},
		{"sip:host?", "header without", 9},
		{"sip:host?a", "header without", 9},
		{"sip:host?=b", "empty header name", 9},
		{"sip:host?a=b&", "header without", 13},
		{"sip:host?a=b&&c=d", "header without", 13},
		{"sip:host?a=b c", "' ' not allowed in header value", 12},
		{"sip:host?a=;", "';' not allowed in header value", 11},
		{"sip:user@host?subject=<x>", "'<' not allowed in header value", 22},
		{"sip:user@host?Subject=foo&Call-Info=<http://www.foo.com>", "'<'", -1},
		{"sip:-host.com", "starts or ends with \"-\"", 4},
		{"sip:host-.com", "starts or ends with \"-\"", 4},
		{"sip:a..b.com", "empty label", 6},
		{"sip:.com", "empty label", 4},
		{"sip:.", "empty label", 4},
		{"sip:host..", "empty label", 9},
		{"sip:example.123", "top-level label", 12},
		{"sip:example.1com", "top-level label", 12},
		{"sip:1.2.3.256", "invalid IPv4", 4},
		{"sip:01.2.3.4", "invalid IPv4", 4},
		{"sip:1.2.3", "invalid IPv4", 4},
		{"sip:1234", "invalid IPv4", 4},
		{"sip:1.2.3.4.", "top-level label", 10},
		{"sip:host_name.com", "'_' in host", 8},
		{"sip:" + longLabel + ".com", "longer than 63", 4},
		{"sip:" + strings.Repeat("a.", 127) + "com", "longer than 253", 4},
		{"sip:a@b@c", "'@' in host", 7},
		{"sip:<host>", "'<' in host", 4},
		{"sip://host", "'/' in host", 4},
		{"sip:user:pa;ss@host", "';' not allowed in password", 11},
		{"sip:user:pa:ss@host", "':' not allowed in password", 11},
		{"sip:us\"er@host", "'\"' not allowed in user", 6},
		{"sip:alice@atlanta.com;transport=tcp#frag", "'#' not allowed in parameter value", 35},
		{"sip:alice@atlanta.com#frag", "'#' in host", 21},
		{"sip:" + strings.Repeat("a", MaxSIPURILength), "longer than 65535 bytes", MaxSIPURILength},
	}
	for _, tt := range tests {
		name := tt.in
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			u, err := ParseSIPURI(tt.in)
			if err == nil {
				t.Fatalf("ParseSIPURI succeeded: %#v", u)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, want *ParseError", err, err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not mention %q", err, tt.reason)
			}
			if tt.offset >= 0 && pe.Offset != tt.offset {
				t.Errorf("offset %d, want %d (%v)", pe.Offset, tt.offset, err)
			}
			if len(pe.Input) > 80 {
				t.Errorf("error quotes %d bytes of input", len(pe.Input))
			}
		})
	}
}

// TestParseSIPURIHostile checks that long and repetitive input is rejected
// or accepted in linear time.
func TestParseSIPURIHostile(t *testing.T) {
	start := time.Now()
	var b strings.Builder
	b.WriteString("sip:host")
	for i := 0; b.Len() < MaxSIPURILength-10; i++ {
		b.WriteString(";p")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(strconv.Itoa(i))
	}
	many := b.String()
	u, err := ParseSIPURI(many)
	if err != nil {
		t.Fatalf("many parameters: %v", err)
	}
	if !u.Equal(u.Clone()) || u.Validate() != nil {
		t.Fatal("many parameters: not equal to itself or invalid")
	}
	if u.String() != many {
		t.Fatal("many parameters: String differs from input")
	}
	// The same parameters reversed, then a conflicting one.
	rev := u.Clone()
	for i, j := 0, len(rev.Parameters)-1; i < j; i, j = i+1, j-1 {
		rev.Parameters[i], rev.Parameters[j] = rev.Parameters[j], rev.Parameters[i]
	}
	if !u.Equal(rev) {
		t.Error("reordered parameters: not equal")
	}
	rev.Parameters[0].Value = "different"
	if u.Equal(rev) || rev.Equal(u) {
		t.Error("conflicting parameter: equal")
	}
	if _, err := ParseSIPURI(many + ";p0"); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Errorf("duplicate after many: %v", err)
	}

	headers := "sip:host?" + strings.TrimSuffix(strings.Repeat("h=%41&", 10000), "&")
	u, err = ParseSIPURI(headers)
	if err != nil || len(u.Headers) != 10000 || u.Headers[9999].Value != "A" {
		t.Fatalf("many headers: %v", err)
	}
	if !u.Equal(u.Clone()) {
		t.Fatal("many headers: not equal to itself")
	}

	for _, in := range []string{
		"sip:" + strings.Repeat("%41", 20000) + "@host",
		"sip:" + strings.Repeat("[", 60000),
		"sip:[" + strings.Repeat(":", 60000) + "]",
		"sip:" + strings.Repeat("@", 60000),
		"sip:host" + strings.Repeat(";", 60000),
		"sip:host?" + strings.Repeat("&", 60000),
		"sip:host" + strings.Repeat("?", 60000),
		"sip:" + strings.Repeat("a", 1<<20),
		"sip:" + strings.Repeat("1.", 30000) + "1",
		"sip:host:" + strings.Repeat("0", 60000) + "1",
		strings.Repeat("s", 60000) + ":host",
	} {
		_, _ = ParseSIPURI(in)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("hostile inputs took %v", d)
	}
}

// rfc3261Equivalent are the sets of equivalent URIs of RFC 3261 section
// 19.1.4; every pair within a set is equivalent.
var rfc3261Equivalent = [][]string{
	{"sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"},
	{"sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"},
	{"sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
		"sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"},
	{"sip:alice@atlanta.com?subject=project%20x&priority=urgent",
		"sip:alice@atlanta.com?priority=urgent&subject=project%20x"},
}

// rfc3261Different are the pairs of URIs that RFC 3261 section 19.1.4 says
// are not equivalent.
var rfc3261Different = [][2]string{
	{"SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"}, // different usernames
	{"sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"},                              // can resolve to different ports
	{"sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"},                     // can resolve to different transports
	{"sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"},                // different port and transports
	{"sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"},      // different header component
	{"sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"},                        // even though that's what it resolves to
	// "Note that equality is not transitive":
	{"sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"},
}

func TestSIPURIEqualRFC3261(t *testing.T) {
	for _, set := range rfc3261Equivalent {
		for _, a := range set {
			for _, b := range set {
				checkURIEqual(t, a, b, true)
			}
		}
	}
	for _, pair := range rfc3261Different {
		checkURIEqual(t, pair[0], pair[1], false)
		checkURIEqual(t, pair[1], pair[0], false)
	}
	// The rest of the intransitivity note.
	checkURIEqual(t, "sip:carol@chicago.com", "sip:carol@chicago.com;security=on", true)
	checkURIEqual(t, "sip:carol@chicago.com", "sip:carol@chicago.com;security=off", true)
}

func TestSIPURIEqual(t *testing.T) {
	tests := []struct {
		a, b  string
		equal bool
	}{
		{"sip:alice@atlanta.com", "sip:ALICE@atlanta.com", false},
		{"sip:alice@atlanta.com", "sips:alice@atlanta.com", false},
		{"sip:alice:pw@host", "sip:alice@host", false},
		{"sip:alice:pw@host", "sip:alice:PW@host", false},
		{"sip:alice:pw@host", "sip:alice:%70w@host", true},
		{"sip:alice@host", "sip:host", false},
		{"sip:%41@h", "sip:A@h", true},
		{"sip:%41@h", "sip:a@h", false},
		{"sip:host;maddr=x.com", "sip:host", false},
		{"sip:host;maddr=X.com", "sip:host;MADDR=x.COM", true},
		{"sip:host;maddr=[2001:DB8::1]", "sip:host;maddr=[2001:db8:0::1]", true},
		{"sip:[2001:DB8::1]", "sip:[2001:db8:0::1]", true},
		{"sip:[2001:db8::1]:5060", "sip:[2001:db8::1]", false},
		{"sip:192.0.2.4", "sip:[::ffff:192.0.2.4]", false},
		{"sip:host;method=INVITE", "sip:host;method=invite", false},
		{"sip:host;method=INVITE", "sip:host;method=INVITE", true},
		{"sip:host;method=INVITE", "sip:host", false},
		{"sip:host;ttl=15", "sip:host", false},
		{"sip:host;ttl=15", "sip:host;ttl=16", false},
		{"sip:host;user=phone", "sip:host", false},
		{"sip:host;user=phone", "sip:host;USER=PHONE", true},
		{"sip:host;transport=tcp", "sip:host;transport=udp", false},
		{"sip:host;lr", "sip:host;lr=on", false},
		{"sip:host;lr", "sip:host", true},
		{"sip:host;newparam=%35", "sip:host;newparam=5", true},
		{"sip:host;NewParam=ABC", "sip:host;newparam=abc", true},
		{"sip:host?Route=a&Route=b", "sip:host?Route=b&Route=a", false},
		{"sip:host?Route=a&Route=b", "sip:host?route=a&ROUTE=b", true},
		{"sip:host?a=1&B=2", "sip:host?b=2&A=1", true},
		{"sip:host?a=1&b=2", "sip:host?a=1", false},
		{"sip:host?a=1&a=1", "sip:host?a=1&b=1", false},
		{"sip:host?subject=X", "sip:host?subject=x", false},
		{"sip:host?subject=%58", "sip:host?subject=X", true},
		{"sip:host?a=", "sip:host?a=", true},
		{"sip:host.", "sip:host", false},
		{"sip:host:5060", "sip:host:05060", true},
		{"sip:HOST.example.COM", "sip:host.EXAMPLE.com", true},
	}
	for _, tt := range tests {
		checkURIEqual(t, tt.a, tt.b, tt.equal)
		checkURIEqual(t, tt.b, tt.a, tt.equal)
	}
	// The zero value and an unset scheme.
	if !(SIPURI{Host: "h"}).Equal(SIPURI{Scheme: "SIP", Host: "h"}) {
		t.Error("empty scheme does not equal sip")
	}
}

func checkURIEqual(t *testing.T, a, b string, want bool) {
	t.Helper()
	ua, err := ParseSIPURI(a)
	if err != nil {
		t.Fatalf("ParseSIPURI(%q): %v", a, err)
	}
	ub, err := ParseSIPURI(b)
	if err != nil {
		t.Fatalf("ParseSIPURI(%q): %v", b, err)
	}
	if got := ua.Equal(ub); got != want {
		t.Errorf("%q.Equal(%q) = %v, want %v", a, b, got, want)
	}
}

func TestSIPURIHelpers(t *testing.T) {
	u := MustParseSIPURI("sips:alice@[2001:db8::1]:5061;Transport=TLS;lr?subject=hi")
	if got := u.Transport(); got != "tls" {
		t.Errorf("Transport() = %q", got)
	}
	if !u.IsSecure() {
		t.Error("IsSecure() = false")
	}
	if got := u.HostPort(); got != "[2001:db8::1]:5061" {
		t.Errorf("HostPort() = %q", got)
	}
	if got := u.WithPort(0).HostPort(); got != "[2001:db8::1]" {
		t.Errorf("WithPort(0).HostPort() = %q", got)
	}
	if got := u.WithPort(7000).String(); got != "sips:alice@[2001:db8::1]:7000;Transport=TLS;lr?subject=hi" {
		t.Errorf("WithPort(7000) = %q", got)
	}
	if u.Port != 5061 {
		t.Error("WithPort changed the original")
	}
	c := u.Clone()
	c.Parameters.Set("transport", "tcp")
	c.Parameters.Set("maddr", "x.example")
	c.Headers[0].Value = "changed"
	if u.Transport() != "tls" || u.Parameters.Has("maddr") || u.Headers[0].Value != "hi" {
		t.Error("Clone shares memory with the original")
	}
	if c.Parameters[0].Name != "Transport" || c.Parameters[2].Name != "maddr" {
		t.Errorf("Set: %v", c.Parameters)
	}
	c.Parameters.Del("LR")
	c.Parameters.Del("missing")
	if c.Parameters.Has("lr") || len(c.Parameters) != 2 {
		t.Errorf("Del: %v", c.Parameters)
	}
	c.Parameters.Del("transport")
	c.Parameters.Del("maddr")
	if c.Parameters != nil {
		t.Errorf("Del of all: %#v, want nil", c.Parameters)
	}

	plain := MustParseSIPURI("sip:bob@example.com")
	if plain.Transport() != "" || plain.IsSecure() || plain.HostPort() != "example.com" {
		t.Errorf("plain helpers: %q %v %q", plain.Transport(), plain.IsSecure(), plain.HostPort())
	}
	if v, ok := plain.Parameters.Get("x"); ok || v != "" {
		t.Error("Get on nil parameters")
	}

	// Values built by hand are escaped when printed.
	built := SIPURI{User: "alice smith", Password: "p@ss:word", Host: "example.com",
		Parameters: Parameters{{"x", "a;b c"}, {"lr", ""}}, Headers: Parameters{{"subject", "a&b=c"}}}
	const want = "sip:alice%20smith:p%40ss%3Aword@example.com;x=a%3Bb%20c;lr?subject=a%26b%3Dc"
	if got := built.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if back := MustParseSIPURI(want); !reflect.DeepEqual(back, SIPURI{Scheme: "sip", User: built.User,
		Password: built.Password, Host: built.Host, Parameters: built.Parameters, Headers: built.Headers}) {
		t.Errorf("parse of built: %#v", back)
	}
	if got := (SIPURI{Host: "::1"}).String(); got != "sip:[::1]" {
		t.Errorf("IPv6 host: %q", got)
	}
	if got := (SIPURI{Host: "[::1]", Port: 5060}).String(); got != "sip:[::1]:5060" {
		t.Errorf("bracketed IPv6 host: %q", got)
	}
	if got := (SIPURI{Password: "x", Host: "h"}).String(); got != "sip:h" {
		t.Errorf("password without user: %q", got)
	}

	defer func() {
		if recover() == nil {
			t.Error("MustParseSIPURI did not panic")
		}
	}()
	MustParseSIPURI("tel:123")
}

func TestSIPURIValidate(t *testing.T) {
	good := []SIPURI{
		{Host: "example.com"},
		{Scheme: "SIPS", Host: "example.com", Port: 65535},
		{Host: "::1"},
		{Host: "[::1]"},
		{Host: "192.0.2.1", User: "a b", Password: "c"},
		{Host: "h", Parameters: Parameters{{"lr", ""}}, Headers: Parameters{{"a", ""}, {"a", "b"}}},
	}
	for _, u := range good {
		if err := u.Validate(); err != nil {
			t.Errorf("%#v: %v", u, err)
		}
	}
	bad := []struct {
		u      SIPURI
		reason string
	}{
		{SIPURI{}, "empty host"},
		{SIPURI{Scheme: "tel", Host: "h"}, "scheme"},
		{SIPURI{Host: "h", Port: -1}, "port"},
		{SIPURI{Host: "h", Port: 65536}, "port"},
		{SIPURI{Host: "h", Password: "p"}, "password without user"},
		{SIPURI{Host: "a;b"}, "in host"},
		{SIPURI{Host: "a@b"}, "in host"},
		{SIPURI{Host: "[::1"}, "IPv6"},
		{SIPURI{Host: "fe80::1%eth0"}, "IPv6"},
		{SIPURI{Host: "1.2.3.4:5"}, "IPv6"},
		{SIPURI{Host: "[1.2.3.4]"}, "in host"},
		{SIPURI{Host: "h", Parameters: Parameters{{"", "x"}}}, "no name"},
		{SIPURI{Host: "h", Parameters: Parameters{{"lr", ""}, {"LR", ""}}}, "duplicate"},
		{SIPURI{Host: "h", Headers: Parameters{{"", "x"}}}, "no name"},
	}
	for _, tt := range bad {
		err := tt.u.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("%#v: Validate() = %v, want %q", tt.u, err, tt.reason)
		}
	}
}

func TestSIPURIText(t *testing.T) {
	type doc struct {
		URI   SIPURI  `json:"uri"`
		Empty SIPURI  `json:"empty"`
		Ptr   *SIPURI `json:"ptr"`
	}
	u := MustParseSIPURI("sip:alice@example.com;transport=tcp")
	out, err := json.Marshal(doc{URI: u, Ptr: &u})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"uri":"sip:alice@example.com;transport=tcp","empty":"","ptr":"sip:alice@example.com;transport=tcp"}`
	if string(out) != want {
		t.Errorf("json = %s, want %s", out, want)
	}
	var back doc
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.URI, u) || !reflect.DeepEqual(back.Empty, SIPURI{}) || !reflect.DeepEqual(*back.Ptr, u) {
		t.Errorf("json round trip: %#v", back)
	}
	if err := json.Unmarshal([]byte(`{"uri":"tel:1"}`), &back); err == nil {
		t.Error("unmarshal of tel: succeeded")
	}
	if _, err := json.Marshal(SIPURI{Host: "bad host"}); err == nil {
		t.Error("marshal of an invalid URI succeeded")
	}
}

func TestParseNameAddr(t *testing.T) {
	tests := []struct {
		in   string
		want NameAddr
		str  string
	}{
		{`"Alice" <sip:alice@example.com>;tag=x`, NameAddr{DisplayName: "Alice",
			URI: SIPURI{Scheme: "sip", User: "alice", Host: "example.com"}, Params: Parameters{{"tag", "x"}}},
			`"Alice" <sip:alice@example.com>;tag=x`},
		{`Bob Smith   <sips:bob@example.com;transport=tls> ; tag = 1928301774;expires=60`, NameAddr{DisplayName: "Bob Smith",
			URI:    SIPURI{Scheme: "sips", User: "bob", Host: "example.com", Parameters: Parameters{{"transport", "tls"}}},
			Params: Parameters{{"tag", "1928301774"}, {"expires", "60"}}},
			`"Bob Smith" <sips:bob@example.com;transport=tls>;tag=1928301774;expires=60`},
		{`<sip:carol@chicago.com>`, NameAddr{URI: SIPURI{Scheme: "sip", User: "carol", Host: "chicago.com"}},
			`<sip:carol@chicago.com>`},
		{`sip:carol@chicago.com;tag=887s`, NameAddr{URI: SIPURI{Scheme: "sip", User: "carol", Host: "chicago.com"},
			Params: Parameters{{"tag", "887s"}}}, `<sip:carol@chicago.com>;tag=887s`},
		{`  sip:user@[2001:db8::10]  `, NameAddr{URI: SIPURI{Scheme: "sip", User: "user", Host: "2001:db8::10"}},
			`<sip:user@[2001:db8::10]>`},
		{`"T. desk phone" <sip:ted@[::ffff:192.0.2.2]>`, NameAddr{DisplayName: "T. desk phone",
			URI: SIPURI{Scheme: "sip", User: "ted", Host: "::ffff:192.0.2.2"}}, `"T. desk phone" <sip:ted@[::ffff:192.0.2.2]>`},
		{`"say \"hi\" \\ " <sip:h>`, NameAddr{DisplayName: `say "hi" \ `, URI: SIPURI{Scheme: "sip", Host: "h"}},
			`"say \"hi\" \\ " <sip:h>`},
		{`"Zoë 日本" <sip:h>;received=[2001:db8::9:255];x="quoted; value"`, NameAddr{DisplayName: "Zoë 日本",
			URI: SIPURI{Scheme: "sip", Host: "h"}, Params: Parameters{{"received", "[2001:db8::9:255]"}, {"x", `"quoted; value"`}}},
			`"Zoë 日本" <sip:h>;received=[2001:db8::9:255];x="quoted; value"`},
		{`""<sip:h>;lr`, NameAddr{URI: SIPURI{Scheme: "sip", Host: "h"}, Params: Parameters{{"lr", ""}}}, `<sip:h>;lr`},
		{`<sip:alice;day=tuesday@atlanta.com?subject=x>`, NameAddr{URI: SIPURI{Scheme: "sip", User: "alice;day=tuesday",
			Host: "atlanta.com", Headers: Parameters{{"subject", "x"}}}}, `<sip:alice;day=tuesday@atlanta.com?subject=x>`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			na, err := ParseNameAddr(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(na, tt.want) {
				t.Fatalf("ParseNameAddr = %#v, want %#v", na, tt.want)
			}
			if got := na.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			again, err := ParseNameAddr(na.String())
			if err != nil || !reflect.DeepEqual(again, na) {
				t.Errorf("round trip: %#v, %v", again, err)
			}
			c := na.Clone()
			c.Params.Set("tag", "changed")
			c.URI.Parameters.Set("lr", "")
			if !reflect.DeepEqual(na, tt.want) {
				t.Error("Clone shares memory")
			}
		})
	}

	bad := []struct{ in, reason string }{
		{``, "missing URI"},
		{`"Alice <sip:a@b>`, "unterminated quoted string"},
		{`"Alice" sip:a@b`, "missing \"<\""},
		{`<sip:a@b`, "missing \">\""},
		{`Alice <sip:a@b`, "missing \">\""},
		{`<tel:+123>`, "unsupported scheme"},
		{`<sip:a@b c>`, "URI: character ' ' in host"},
		{`*`, "missing scheme"},
		{`sip:a@b?subject=x`, "'?' in a URI without angle brackets"},
		{`sip:a@b,sip:c@d`, "',' in a URI without angle brackets"},
		{`Al@ice <sip:a@b>`, "'@' in display name"},
		{`"A\` + "\r\n" + `" <sip:a@b>`, "bad quoted-pair"},
		{"\"A\r\n B\" <sip:a@b>", "control character 0x0D in quoted string"},
		{"\"A\xff\" <sip:a@b>", "invalid UTF-8"},
		{`<sip:a@b>;`, "empty parameter name"},
		{`<sip:a@b>;tag=`, "empty value"},
		{`<sip:a@b>;tag=1;TAG=2`, "duplicate parameter"},
		{`<sip:a@b> x`, "unexpected character 'x'"},
		{`<sip:a@b>;x="unterminated`, "unterminated quoted string"},
		{`<sip:a@b>;x=[::1`, "without closing"},
		{`<sip:a@b>;x=[1.2.3.4]`, "invalid IPv6"},
		{`<sip:a@b>;x=a@b`, "unexpected character '@'"},
	}
	for _, tt := range bad {
		_, err := ParseNameAddr(tt.in)
		var pe *ParseError
		if err == nil || !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("ParseNameAddr(%q) = %v, want error with %q", tt.in, err, tt.reason)
		}
	}

	// Display names that no quoted string holds as such.
	na := NameAddr{DisplayName: "a\r\nb\x01\xff", URI: SIPURI{Host: "h"}}
	if got := na.String(); got != "\"a  b\\\x01\uFFFD\" <sip:h>" {
		t.Errorf("String() = %q", got)
	}
	if _, err := ParseNameAddr(na.String()); err != nil {
		t.Errorf("reparse: %v", err)
	}
	if _, err := ParseNameAddr("<sip:h>" + strings.Repeat(" ", MaxSIPURILength)); err == nil {
		t.Error("over-long name-addr accepted")
	}
}

// rfc5118Dir returns the directory of the RFC 5118 torture messages, or
// skips the test. SIPSIMPLE_RFC_CORPUS overrides the default location,
// ../../shared/rfc-corpus relative to this package.
func rfc5118Dir(t *testing.T) string {
	return corpus.Dir(t, "rfc5118") // fails under CI=true when the corpus is missing
}

// TestSIPURIRFC5118 parses the Request-URI and the To, From and Contact
// values of the RFC 5118 IPv6 torture messages, in the wire (CRLF) form and
// in the archived bare-LF form.
func TestSIPURIRFC5118(t *testing.T) {
	dir := rfc5118Dir(t)
	tests := []struct {
		file string
		host string // host of the Request-URI; "" when it must be rejected
		port int
	}{
		{"ipv6-good.dat", "2001:db8::10", 0},
		{"ipv6-bad.dat", "", 0}, // 4.2: no brackets
		{"port-ambiguous.dat", "2001:db8::10:5070", 0},
		{"port-unambiguous.dat", "2001:db8::10", 5070},
		{"via-received-param-with-delim.dat", "2001:db8::10", 0},
		{"via-received-param-no-delim.dat", "2001:db8::10", 0},
		{"ipv6-in-sdp.dat", "2001:db8::10", 0},
		{"mult-ip-in-header.dat", "host.example.net", 0},
		{"mult-ip-in-sdp.dat", "2001:db8::10", 0},
		{"ipv4-mapped-ipv6.dat", "example.com", 0},
		{"ipv6-bug-abnf-3-colons.dat", "2001:db8::192.0.2.1", 0}, // 4.10: tolerated
		{"ipv6-correct-abnf-2-colons.dat", "2001:db8::192.0.2.1", 0},
	}
	for _, form := range []string{"crlf", "."} {
		for _, tt := range tests {
			t.Run(form+"/"+tt.file, func(t *testing.T) {
				data, err := os.ReadFile(filepath.Join(dir, form, tt.file))
				if err != nil {
					t.Fatal(err)
				}
				lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
				fields := strings.Fields(lines[0])
				if len(fields) != 3 || fields[2] != "SIP/2.0" {
					t.Fatalf("bad request line %q", lines[0])
				}
				u, err := ParseSIPURI(fields[1])
				if tt.host == "" {
					if err == nil {
						t.Fatalf("Request-URI %q accepted: %#v", fields[1], u)
					}
					return
				}
				if err != nil {
					t.Fatalf("Request-URI %q: %v", fields[1], err)
				}
				if u.Host != tt.host || u.Port != tt.port {
					t.Errorf("Request-URI %q: host %q port %d, want %q %d", fields[1], u.Host, u.Port, tt.host, tt.port)
				}
				if again := MustParseSIPURI(u.String()); !again.Equal(u) {
					t.Errorf("round trip of %q: %q", fields[1], u.String())
				}
				headers := 0
				for _, line := range lines[1:] {
					if line == "" {
						break
					}
					name, value, ok := strings.Cut(line, ":")
					switch name = strings.ToLower(strings.TrimSpace(name)); {
					case !ok:
						t.Fatalf("bad header line %q", line)
					case name == "to" || name == "from" || name == "contact":
						headers++
						na, err := ParseNameAddr(value)
						if err != nil {
							t.Errorf("%s: %v", line, err)
							continue
						}
						if again, err := ParseNameAddr(na.String()); err != nil || !again.URI.Equal(na.URI) {
							t.Errorf("%s: round trip %q: %v", line, na.String(), err)
						}
					}
				}
				if headers < 2 {
					t.Errorf("only %d To/From/Contact headers found", headers)
				}
			})
		}
	}
	// 4.10: the URI in To of the 3-colon message equals the 2-colon one.
	a := MustParseSIPURI("sip:user@[2001:db8:::192.0.2.1]")
	b := MustParseSIPURI("sip:user@[2001:db8::192.0.2.1]")
	if !a.Equal(b) {
		t.Error("3-colon and 2-colon forms differ")
	}
}

var sipuriBenchInputs = []struct{ name, uri string }{
	{"short", "sip:alice@atlanta.com"},
	{"telephone", "sips:+358-555-1234567;postd=pp22@foo.com;user=phone"},
	{"long", "sip:alice:secretword@[2001:db8::10]:5070;transport=tcp;lr;maddr=239.255.255.1;ttl=15?subject=project%20x&priority=urgent"},
}

func BenchmarkParseSIPURI(b *testing.B) {
	for _, in := range sipuriBenchInputs {
		s := in.uri
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				if _, err := ParseSIPURI(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSIPURIString(b *testing.B) {
	u := MustParseSIPURI(sipuriBenchInputs[2].uri)
	b.ReportAllocs()
	for b.Loop() {
		_ = u.String()
	}
}

func BenchmarkSIPURIEqual(b *testing.B) {
	x := MustParseSIPURI(rfc3261Equivalent[2][0])
	y := MustParseSIPURI(rfc3261Equivalent[2][1])
	b.ReportAllocs()
	for b.Loop() {
		if !x.Equal(y) {
			b.Fatal("not equal")
		}
	}
}
