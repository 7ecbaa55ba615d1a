package core

import (
	"reflect"
	"testing"
)

// FuzzParseSIPURI checks that ParseSIPURI never panics and that every URI
// it accepts is valid, equal to itself, and printed in a canonical form that
// parses back to the same value.
func FuzzParseSIPURI(f *testing.F) {
	seeds := []string{
		"sip:alice@atlanta.com",
		"sips:alice:secret@[2001:db8::10]:5070;transport=tcp;lr?subject=project%20x&priority=urgent",
		"sip:+1-212-555-1212:1234@gateway.com;user=phone",
		"sip:alice;day=tuesday@atlanta.com",
		"sip:user@[2001:db8:::192.0.2.1]",
		"sip:[::ffff:192.0.2.10]",
		"sip:host.example.com.;maddr=[::1];ttl=15;method=INVITE",
		"sip:%61%3B%00%ff@h?to=sip:bob%40biloxi.com&Route=%3Csip:p%3E",
		"sip:2001:db8::10",
		"sip:a@b@c",
		"sip:host;a=b=c",
		"tel:+1234",
	}
	for _, set := range rfc3261Equivalent {
		seeds = append(seeds, set...)
	}
	for _, pair := range rfc3261Different {
		seeds = append(seeds, pair[0], pair[1])
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseSIPURI(s)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("error %v is %T", err, err)
			}
			return
		}
		if err := u.Validate(); err != nil {
			t.Fatalf("accepted %q but Validate: %v", s, err)
		}
		if !u.Equal(u) {
			t.Fatalf("%q is not equal to itself", s)
		}
		out := u.String()
		v, err := ParseSIPURI(out)
		if err != nil {
			t.Fatalf("accepted %q but not its String %q: %v", s, out, err)
		}
		if !u.Equal(v) || !v.Equal(u) {
			t.Fatalf("%q and its String %q are not Equal", s, out)
		}
		if !reflect.DeepEqual(u, v) {
			t.Fatalf("%q: String %q parses to %#v, want %#v", s, out, v, u)
		}
		if again := v.String(); again != out {
			t.Fatalf("String is not canonical: %q then %q", out, again)
		}
		text, err := u.MarshalText()
		if err != nil || string(text) != out {
			t.Fatalf("MarshalText = %q, %v; want %q", text, err, out)
		}
	})
}

// FuzzParseNameAddr checks that ParseNameAddr never panics and that every
// value it accepts prints as a value that parses back to the same one.
func FuzzParseNameAddr(f *testing.F) {
	for _, s := range []string{
		`"Alice" <sip:alice@example.com>;tag=x`,
		`Bob Smith <sips:bob@example.com;transport=tls> ; tag = 1;expires=60`,
		`sip:carol@chicago.com;tag=887s`,
		`"say \"hi\" \\" <sip:h>;received=[2001:db8::9:255];x="q;v"`,
		`<sip:alice;day=tuesday@atlanta.com?subject=x>`,
		`"Zoë" <sip:h>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		na, err := ParseNameAddr(s)
		if err != nil {
			return
		}
		out := na.String()
		back, err := ParseNameAddr(out)
		if err != nil {
			t.Fatalf("accepted %q but not its String %q: %v", s, out, err)
		}
		if !reflect.DeepEqual(back, na) {
			t.Fatalf("%q: String %q parses to %#v, want %#v", s, out, back, na)
		}
	})
}
