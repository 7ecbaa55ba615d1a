package configuration

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// kindCase runs Parse then Validate on text and compares with want (when
// ok) or checks the error mentions ruleHint.
type kindCase struct {
	text     string
	ok       bool
	want     any
	ruleHint string
}

func runKind[T any](t *testing.T, k Kind[T], cases []kindCase) {
	t.Helper()
	for _, c := range cases {
		v, err := k.Parse(c.text)
		if err == nil {
			err = k.Validate(v)
		}
		if c.ok {
			if err != nil {
				t.Errorf("%s: %q rejected: %v", k.Name(), c.text, err)
				continue
			}
			if c.want != nil && !reflect.DeepEqual(any(v), c.want) {
				t.Errorf("%s: %q parsed as %#v, want %#v", k.Name(), c.text, v, c.want)
			}
			// Format must round-trip through Parse.
			back, err := k.Parse(k.Format(v))
			if err != nil || !reflect.DeepEqual(back, v) {
				t.Errorf("%s: %q does not round-trip: %q -> %#v (%v)", k.Name(), c.text, k.Format(v), back, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: %q accepted as %#v, want rejection", k.Name(), c.text, v)
		} else if c.ruleHint != "" && !strings.Contains(err.Error(), c.ruleHint) {
			t.Errorf("%s: %q error %q does not mention %q", k.Name(), c.text, err, c.ruleHint)
		}
	}
}

func TestKinds(t *testing.T) {
	t.Run("String", func(t *testing.T) {
		runKind(t, String, []kindCase{{"", true, "", ""}, {"a b, c", true, "a b, c", ""}})
	})
	t.Run("NonEmptyString", func(t *testing.T) {
		runKind(t, NonEmptyString, []kindCase{{"x", true, "x", ""}, {"", false, nil, "empty"}})
	})
	t.Run("Bool", func(t *testing.T) {
		runKind(t, Bool, []kindCase{
			{"true", true, true, ""}, {"False", true, false, ""}, {"yes", true, true, ""}, {"off", true, false, ""},
			{"1", true, true, ""}, {"0", true, false, ""}, {"maybe", false, nil, "true or false"}, {"", false, nil, ""},
		})
	})
	t.Run("Port", func(t *testing.T) {
		runKind(t, Port, []kindCase{
			{"0", true, 0, ""}, {"5060", true, 5060, ""}, {"65535", true, 65535, ""}, {" 80 ", true, 80, ""},
			{"65536", false, nil, "between 0 and 65535"}, {"-1", false, nil, "between"}, {"http", false, nil, "integer"},
			{"", false, nil, "integer"},
		})
	})
	t.Run("NonNegativeInt", func(t *testing.T) {
		runKind(t, NonNegativeInt, []kindCase{{"0", true, 0, ""}, {"3600", true, 3600, ""}, {"-5", false, nil, "between 0"}, {"1.5", false, nil, "integer"}})
	})
	t.Run("PositiveInt", func(t *testing.T) {
		runKind(t, PositiveInt, []kindCase{{"1", true, 1, ""}, {"0", false, nil, "between 1"}})
	})
	t.Run("IntChoice", func(t *testing.T) {
		runKind(t, IntChoice("sample rate", 16000, 32000), []kindCase{{"16000", true, 16000, ""}, {"44100", false, nil, "one of 16000, 32000"}})
	})
	t.Run("Choice", func(t *testing.T) {
		runKind(t, Choice("level", "debug", "info"), []kindCase{{"INFO", true, "info", ""}, {"verbose", false, nil, "one of debug, info"}})
	})
	t.Run("PortRange", func(t *testing.T) {
		runKind(t, PortRangeKind, []kindCase{
			{"50000-50500", true, PortRange{50000, 50500}, ""}, {"1-65535", true, PortRange{1, 65535}, ""},
			{"5000-5000", true, PortRange{5000, 5000}, ""}, {" 10 - 20 ", true, PortRange{10, 20}, ""},
			{"0-100", false, nil, "1 <= start"}, {"600-500", false, nil, "start <= end"}, {"1-70000", false, nil, "65535"},
			{"5000", false, nil, "start-end"}, {"a-b", false, nil, "integer"},
		})
	})
	t.Run("Duration", func(t *testing.T) {
		runKind(t, Duration, []kindCase{
			{"90", true, 90 * time.Second, ""}, {"0", true, time.Duration(0), ""}, {"1m30s", true, 90 * time.Second, ""},
			{"500ms", true, 500 * time.Millisecond, ""}, {"-1", false, nil, "negative"}, {"soon", false, nil, "seconds"},
			{"99999999999999999", false, nil, "range"},
		})
	})
	t.Run("Path", func(t *testing.T) {
		runKind(t, Path, []kindCase{{"~/Downloads", true, "~/Downloads", ""}, {"/tmp/a/../b", true, "/tmp/b", ""}, {"", false, nil, "empty"}})
	})
	t.Run("Host", func(t *testing.T) {
		runKind(t, Host, []kindCase{
			{"example.com", true, "example.com", ""}, {"sip-1.example.com.", true, nil, ""}, {"10.0.0.1", true, nil, ""},
			{"::1", true, "::1", ""}, {"[2001:db8::1]", true, "2001:db8::1", ""}, {"localhost", true, nil, ""},
			{"exa mple.com", false, nil, "host name"}, {"-bad.com", false, nil, "host"}, {"300.1.1.1", false, nil, "host"},
			{"", false, nil, "host"}, {"a_b.com", false, nil, "host"},
		})
	})
	t.Run("IPAddress", func(t *testing.T) {
		runKind(t, IPAddress, []kindCase{
			{"127.0.0.1", true, "127.0.0.1", ""}, {"::1", true, "::1", ""}, {"[::1]", true, "::1", ""},
			{"example.com", false, nil, "IPv4 or IPv6"}, {"1.2.3", false, nil, "IPv4"},
		})
	})
	t.Run("SIPAddress", func(t *testing.T) {
		runKind(t, SIPAddressKind, []kindCase{
			{"alice@example.com", true, SIPAddress{"alice", "example.com"}, ""},
			{"sip:bob@10.0.0.1", true, SIPAddress{"bob", "10.0.0.1"}, ""},
			{"bonjour@local", true, nil, ""}, {"a@b@example.com", true, SIPAddress{"a@b", "example.com"}, ""},
			{"carol@example.com:5070", true, nil, ""},
			{"example.com", false, nil, "user@domain"}, {"@example.com", false, nil, "user part"},
			{"alice@", false, nil, "domain"}, {"al ice@example.com", false, nil, "white space"},
			{"alice@exa mple.com", false, nil, "domain"}, {"alice@example.com:0", false, nil, "port"},
		})
		a, _ := ParseSIPAddress("a@b@example.com")
		if a.String() != "a%40b@example.com" {
			t.Errorf("String() = %q, want the inner @ escaped", a.String())
		}
	})
	t.Run("SIPURI", func(t *testing.T) {
		runKind(t, SIPURIKind, []kindCase{
			{"sip:proxy.example.com", true, nil, ""}, {"sips:alice@example.com:5061;transport=tls", true, nil, ""},
			{"sip:[::1]:5060", true, nil, ""}, {"SIP:10.0.0.1;lr", true, nil, ""}, {"sip:bob@example.com?subject=x", true, nil, ""},
			{"http://example.com", false, nil, `"sip:"`}, {"sip:", false, nil, "host"}, {"sip:a b", false, nil, "white space"},
			{"sip:example.com:0", false, nil, "port"}, {"sip:example.com:", false, nil, "port"}, {"sip:[::1", false, nil, "]"},
			{"sip:[example.com]", false, nil, "IPv6"},
		})
	})
	t.Run("TransportList", func(t *testing.T) {
		runKind[[]string](t, TransportList, []kindCase{
			{"tls, tcp, udp", true, []string{"tls", "tcp", "udp"}, ""}, {"UDP", true, []string{"udp"}, ""},
			{"ws,wss", true, []string{"ws", "wss"}, ""},
			{"udp, sctp", false, nil, "one of udp, tcp, tls, ws, wss"}, {"udp, udp", false, nil, "repeat"},
			{"", false, nil, "empty"},
		})
	})
	t.Run("AudioCodecList", func(t *testing.T) {
		runKind[[]string](t, AudioCodecList, []kindCase{
			{"opus, G722, PCMU, PCMA", true, []string{"opus", "G722", "PCMU", "PCMA"}, ""},
			{"pcmu", true, []string{"PCMU"}, ""},
			{"PCMU, G729", false, nil, "one of opus"}, {"PCMA, pcma", false, nil, "repeat"}, {"", false, nil, "empty"},
		})
	})
	t.Run("StringList", func(t *testing.T) {
		runKind[[]string](t, StringList, []kindCase{{"", true, []string{}, ""}, {"a, b", true, []string{"a", "b"}, ""}})
	})
}

func TestExpandPath(t *testing.T) {
	t.Setenv("HOME", "/home/alice")
	for in, want := range map[string]string{"~": "/home/alice", "~/x": "/home/alice/x", "/abs": "/abs", "~bob/x": "~bob/x"} {
		if got := ExpandPath(in); got != want {
			t.Errorf("ExpandPath(%q) = %q, want %q", in, got, want)
		}
	}
}
