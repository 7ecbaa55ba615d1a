package msrp

import (
	"reflect"
	"testing"
)

func TestParseURI(t *testing.T) {
	for _, c := range []struct {
		in   string
		want URI
		out  string // String(), when it differs from in
	}{
		{"msrp://atlanta.example.com:7654/jshA7weztas;tcp",
			URI{Host: "atlanta.example.com", Port: 7654, SessionID: "jshA7weztas", Transport: "tcp"}, ""},
		{"msrps://alice@intra.example.com;tcp",
			URI{Secure: true, User: "alice", Host: "intra.example.com", Transport: "tcp"}, ""},
		{"MSRPS://extra.example.com;TCP", URI{Secure: true, Host: "extra.example.com", Transport: "TCP"}, "msrps://extra.example.com;TCP"},
		{"msrp://[2001:db8::1]:9/a/b+c=d;tcp;foo;bar=baz",
			URI{Host: "2001:db8::1", Port: 9, SessionID: "a/b+c=d", Transport: "tcp",
				Params: []URIParam{{Name: "foo"}, {Name: "bar", Value: "baz"}}}, ""},
		{"msrp://[::1]/s;ws", URI{Host: "::1", SessionID: "s", Transport: "ws"}, ""},
		{"msrp://us;er:pw%20@192.0.2.1:65535/s;tcp",
			URI{User: "us;er:pw%20", Host: "192.0.2.1", Port: 65535, SessionID: "s", Transport: "tcp"}, ""},
		{"msrp://h:007/s;tcp", URI{Host: "h", Port: 7, SessionID: "s", Transport: "tcp"}, "msrp://h:7/s;tcp"},
	} {
		u, err := ParseURI(c.in)
		if err != nil {
			t.Errorf("ParseURI(%q): %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(u, c.want) {
			t.Errorf("ParseURI(%q) = %#v, want %#v", c.in, u, c.want)
		}
		out := c.out
		if out == "" {
			out = c.in
		}
		if u.String() != out {
			t.Errorf("String() = %q, want %q", u.String(), out)
		}
		if err := u.Validate(); err != nil {
			t.Errorf("Validate(%q): %v", c.in, err)
		}
	}
}

func TestParseURIErrors(t *testing.T) {
	for _, s := range []string{
		"", "sip:alice@example.com", "msrp:/h;tcp", "msrp://h", "msrp://h/s", "msrp://h/s;", "msrp://;tcp",
		"msrp://h:/s;tcp", "msrp://h:0/s;tcp", "msrp://h:65536/s;tcp", "msrp://h:12a/s;tcp", "msrp://h:123456/s;tcp",
		"msrp://[::1/s;tcp", "msrp://[1.2.3.4]/s;tcp", "msrp://[fe80::1%25eth0]/s;tcp", "msrp://[::1]x/s;tcp",
		"msrp://h//;tcp;", "msrp://h/s;tcp;", "msrp://h/s;tcp;a=", "msrp://h/s;tcp;a=b=c", "msrp://h/s;t-p",
		"msrp://h/s%20;tcp", "msrp://h o/s;tcp", "msrp://a b@h/s;tcp", "msrp://h/s?x;tcp", "msrp://h%41/s;tcp",
		"msrp://h/;tcp",
	} {
		if u, err := ParseURI(s); err == nil {
			t.Errorf("ParseURI(%q) = %#v, want an error", s, u)
		}
	}
}

func TestURIEqual(t *testing.T) {
	eq := [][2]string{
		{"msrp://Atlanta.Example.COM:7654/jshA7we;tcp", "msrp://atlanta.example.com:7654/jshA7we;tcp"},
		{"msrp://alice@h:1/s;tcp", "msrp://bob@h:1/s;tcp"},
		{"msrp://h:1/s;TCP", "MSRP://h:1/s;tcp"},
		{"msrp://[2001:DB8::1]:1/s;tcp", "msrp://[2001:db8:0:0::1]:1/s;tcp"},
		{"msrp://h:1/s;tcp;a=b", "msrp://h:1/s;tcp"},
	}
	ne := [][2]string{
		{"msrp://h:1/s;tcp", "msrps://h:1/s;tcp"},
		{"msrp://h:1/s;tcp", "msrp://h/s;tcp"},
		{"msrp://h:1/s;tcp", "msrp://h:2/s;tcp"},
		{"msrp://h:1/abc;tcp", "msrp://h:1/ABC;tcp"},
		{"msrp://h:1/s;tcp", "msrp://h:1/s;sctp"},
		{"msrp://h:1/s;tcp", "msrp://g:1/s;tcp"},
		{"msrp://h:1/s;tcp", "msrp://h:1;tcp"},
	}
	for _, p := range eq {
		a, b := mustURI(t, p[0]), mustURI(t, p[1])
		if !a.Equal(b) || !b.Equal(a) {
			t.Errorf("%s and %s should be equal", p[0], p[1])
		}
	}
	for _, p := range ne {
		a, b := mustURI(t, p[0]), mustURI(t, p[1])
		if a.Equal(b) || b.Equal(a) {
			t.Errorf("%s and %s should differ", p[0], p[1])
		}
	}
}

func TestPath(t *testing.T) {
	const s = "msrps://a.example.org:9000/kjfjan;tcp msrps://b.example.net:9000/aeiug;tcp msrps://bob.example.net:8145/foo;tcp"
	p, err := ParsePath("  " + s + "\t")
	if err != nil || len(p) != 3 || FormatPath(p) != s {
		t.Fatalf("ParsePath: %v, %v; FormatPath %q", p, err, FormatPath(p))
	}
	if _, err := ParsePath(" "); err == nil {
		t.Error("empty path accepted")
	}
	if _, err := ParsePath("msrp://h;tcp x"); err == nil {
		t.Error("bad second URI accepted")
	}
}
