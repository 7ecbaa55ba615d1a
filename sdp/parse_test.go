package sdp

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t *testing.T, s string) *Description {
	t.Helper()
	d, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, s)
	}
	return d
}

// crlf joins lines with CRLF line ends.
func crlf(lines ...string) string {
	return strings.Join(lines, "\r\n") + "\r\n"
}

func telephoneEvent(pt uint8, rate uint32, fmtp string) Codec {
	return Codec{PayloadType: pt, Name: "telephone-event", ClockRate: rate, Channels: 1, Fmtp: fmtp}
}

func TestParsePjsip(t *testing.T) {
	d, err := Parse(readTestdata(t, "pjsip.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	want := &Description{
		Origin:     Origin{Username: "-", SessionID: 3907038498, SessionVersion: 3907038498, Address: "192.168.1.10"},
		Name:       "pjmedia",
		Bandwidth:  []Bandwidth{{Type: "AS", Value: 117}},
		Attributes: []Attribute{{Key: "X-nat", Value: "0"}},
		Media: []Media{{
			Type:    "audio",
			Port:    4000,
			Proto:   "RTP/AVP",
			Formats: []string{"96", "9", "8", "0", "101", "102"},
			Codecs: []Codec{
				{PayloadType: 96, Name: "opus", ClockRate: 48000, Channels: 2, Fmtp: "useinbandfec=1"},
				{PayloadType: 9, Name: "G722", ClockRate: 8000, Channels: 1},
				{PayloadType: 8, Name: "PCMA", ClockRate: 8000, Channels: 1},
				{PayloadType: 0, Name: "PCMU", ClockRate: 8000, Channels: 1},
				telephoneEvent(101, 48000, "0-16"),
				telephoneEvent(102, 8000, "0-16"),
			},
			Address:     "192.168.1.10",
			Direction:   SendRecv,
			RTCPPort:    4001,
			RTCPAddress: "192.168.1.10",
			Bandwidth:   []Bandwidth{{Type: "AS", Value: 117}},
			Attributes:  []Attribute{{Key: "ssrc", Value: "1932378617 cname:7c6a2d1e3b4f5a69"}},
		}},
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("got\n%#v\nwant\n%#v", d, want)
	}
}

func TestParseSipSimpleAudioAndChat(t *testing.T) {
	d, err := Parse(readTestdata(t, "sipsimple-audio-chat.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Media) != 2 {
		t.Fatalf("got %d streams, want 2", len(d.Media))
	}
	audio, chat := d.Media[0], d.Media[1]
	if audio.RTCPPort != 50011 || audio.RTCPAddress != "" {
		t.Errorf("audio rtcp = %d %q, want 50011 \"\"", audio.RTCPPort, audio.RTCPAddress)
	}
	if got := audio.Codecs[0]; got != (Codec{PayloadType: 113, Name: "opus", ClockRate: 48000, Channels: 2, Fmtp: "useinbandfec=1"}) {
		t.Errorf("audio codec 0 = %+v", got)
	}
	if v, ok := audio.Attribute("zrtp-hash"); !ok || !strings.HasPrefix(v, "1.10 ") {
		t.Errorf("zrtp-hash = %q %v", v, ok)
	}
	wantChat := Media{
		Type:      "message",
		Port:      2855,
		Proto:     "TCP/TLS/MSRP",
		Formats:   []string{"*"},
		Address:   "192.168.1.5",
		Direction: SendRecv,
		Attributes: []Attribute{
			{Key: "path", Value: "msrps://192.168.1.5:2855/f6a8e5b1d2c3;tls"},
			{Key: "accept-types", Value: "message/cpim text/* application/im-iscomposing+xml"},
			{Key: "accept-wrapped-types", Value: "*"},
			{Key: "setup", Value: "active"},
		},
	}
	if !reflect.DeepEqual(chat, wantChat) {
		t.Errorf("chat stream\n%#v\nwant\n%#v", chat, wantChat)
	}
	if chat.IsRTP() || !audio.IsRTP() {
		t.Error("IsRTP wrong")
	}
	out := string(d.Marshal())
	for _, l := range []string{
		"m=message 2855 TCP/TLS/MSRP *\r\n",
		"a=path:msrps://192.168.1.5:2855/f6a8e5b1d2c3;tls\r\n",
		"a=accept-types:message/cpim text/* application/im-iscomposing+xml\r\n",
		"a=accept-wrapped-types:*\r\n",
	} {
		if !strings.Contains(out, l) {
			t.Errorf("Marshal lacks %q:\n%s", l, out)
		}
	}
}

func TestParseRealWorld(t *testing.T) {
	tests := []struct {
		file  string
		check func(t *testing.T, d *Description)
	}{
		{"baresip.sdp", func(t *testing.T, d *Description) {
			m := d.Media[0]
			if m.Proto != "RTP/SAVP" || m.Ptime != 20 || len(m.Crypto) != 2 {
				t.Errorf("proto %q ptime %d crypto %d", m.Proto, m.Ptime, len(m.Crypto))
			}
			if m.Crypto[1].Suite != "AES_CM_128_HMAC_SHA1_32" || m.Crypto[1].Tag != 2 {
				t.Errorf("crypto[1] = %+v", m.Crypto[1])
			}
			if got := m.Codecs[0]; got.Fmtp != "stereo=1;sprop-stereo=1" || got.Channels != 2 {
				t.Errorf("opus = %+v", got)
			}
			if !reflect.DeepEqual(m.Bandwidth, []Bandwidth{{"AS", 64}}) {
				t.Errorf("bandwidth = %v", m.Bandwidth)
			}
			if m.Address != "10.0.0.5" {
				t.Errorf("address %q not inherited", m.Address)
			}
		}},
		{"linphone.sdp", func(t *testing.T, d *Description) {
			a := d.Media[0]
			// 0 and 8 have no rtpmap: the static table resolves them.
			wantNames := []string{"opus", "SILK", "speex", "PCMU", "PCMA", "telephone-event", "telephone-event", "telephone-event"}
			if len(a.Codecs) != len(wantNames) {
				t.Fatalf("codecs %v", a.Codecs)
			}
			for i, n := range wantNames {
				if a.Codecs[i].Name != n {
					t.Errorf("codec %d = %q, want %q", i, a.Codecs[i].Name, n)
				}
			}
			if a.Codecs[7] != telephoneEvent(100, 8000, "") {
				t.Errorf("te/8000 = %+v", a.Codecs[7])
			}
			if v, _ := d.Attribute("rtcp-xr"); !strings.HasPrefix(v, "rcvr-rtt=all:10000") {
				t.Errorf("session rtcp-xr = %q", v)
			}
			v := d.Media[1]
			if v.Type != "video" || v.Codecs[1].Fmtp != "profile-level-id=42801F" || v.Codecs[0].ClockRate != 90000 {
				t.Errorf("video = %+v", v)
			}
		}},
		{"cisco-hold.sdp", func(t *testing.T, d *Description) {
			m := d.Media[0]
			if d.Address != "0.0.0.0" || m.Address != "0.0.0.0" || !m.Hold() {
				t.Errorf("address %q/%q hold %v", d.Address, m.Address, m.Hold())
			}
			if m.Direction != SendRecv || m.Ptime != 20 {
				t.Errorf("direction %v ptime %d", m.Direction, m.Ptime)
			}
			if m.Codecs[0] != (Codec{PayloadType: 18, Name: "G729", ClockRate: 8000, Channels: 1, Fmtp: "annexb=no"}) {
				t.Errorf("G729 = %+v", m.Codecs[0])
			}
		}},
		{"ipv6.sdp", func(t *testing.T, d *Description) {
			if d.Origin.Address != "2001:db8::1" || d.Address != "2001:db8::1" {
				t.Errorf("origin %q address %q", d.Origin.Address, d.Address)
			}
			if d.Media[0].Address != "2001:db8::1" || d.Media[1].Address != "2001:db8::2" {
				t.Errorf("media addresses %q %q", d.Media[0].Address, d.Media[1].Address)
			}
			if d.Media[0].Codecs[0] != (Codec{PayloadType: 0, Name: "PCMU", ClockRate: 8000, Channels: 1}) {
				t.Errorf("PCMU = %+v", d.Media[0].Codecs[0])
			}
			if d.Media[1].Direction != RecvOnly {
				t.Errorf("direction %v", d.Media[1].Direction)
			}
			out := string(d.Marshal())
			if !strings.Contains(out, "c=IN IP6 2001:db8::2\r\n") || !strings.Contains(out, "o=- 1 1 IN IP6 2001:db8::1\r\n") {
				t.Errorf("IPv6 lines lost:\n%s", out)
			}
		}},
		{"asterisk-t38.sdp", func(t *testing.T, d *Description) {
			m := d.Media[0]
			if m.Type != "image" || m.Proto != "udptl" || !reflect.DeepEqual(m.Formats, []string{"t38"}) || m.Codecs != nil {
				t.Errorf("m= %q %q %v %v", m.Type, m.Proto, m.Formats, m.Codecs)
			}
			if len(m.Attributes) != 5 || m.Attributes[0] != (Attribute{"T38FaxVersion", "0"}) {
				t.Errorf("attributes %v", m.Attributes)
			}
			if !strings.Contains(string(d.Marshal()), "m=image 4390 udptl t38\r\n") {
				t.Error("m=image line not kept")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			d, err := Parse(readTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, d)
		})
	}
}

func TestParseQuirks(t *testing.T) {
	const (
		v = "v=0"
		o = "o=- 1 2 IN IP4 192.0.2.1"
		s = "s=-"
		c = "c=IN IP4 192.0.2.1"
		z = "t=0 0"
		m = "m=audio 4000 RTP/AVP 0 8"
	)
	simple := func(t *testing.T, d *Description) {
		t.Helper()
		if d.Origin.SessionVersion != 2 || d.Address != "192.0.2.1" || len(d.Media) != 1 ||
			d.Media[0].Port != 4000 || len(d.Media[0].Codecs) != 2 {
			t.Errorf("got %#v", d)
		}
	}
	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, d *Description)
	}{
		{"CRLF", crlf(v, o, s, c, z, m), simple},
		{"LF only", strings.Join([]string{v, o, s, c, z, m}, "\n") + "\n", simple},
		{"CR only", strings.Join([]string{v, o, s, c, z, m}, "\r") + "\r", simple},
		{"no final line end", strings.Join([]string{v, o, s, c, z, m}, "\r\n"), simple},
		{"trailing blanks, blank lines, indented lines", "v=0 \r\n\r\n" + o + "\t\r\n  " + s + "\r\n" + c + "  \r\n\r\n" + z + "\r\n" + m + " \r\n\r\n", simple},
		{"missing s=", crlf(v, o, c, z, m), func(t *testing.T, d *Description) {
			simple(t, d)
			if d.Name != "" {
				t.Errorf("name %q", d.Name)
			}
		}},
		{"missing t=", crlf(v, o, s, c, m), simple},
		{"c= after t=", crlf(v, o, s, z, c, m), simple},
		{"session attribute before c=", crlf(v, o, "a=tool:x", s, c, z, m), func(t *testing.T, d *Description) {
			simple(t, d)
			if v, _ := d.Attribute("tool"); v != "x" {
				t.Errorf("tool = %q", v)
			}
		}},
		{"lower-case in ip4", crlf(v, "o=- 1 2 in ip4 192.0.2.1", s, "c=in ip4 192.0.2.1", z, m), simple},
		{"i= u= e= p= k= z= r= lines", crlf(v, o, s, "i=info", "u=http://x/", "e=a@b", "p=+1 555", c, z, "r=7d 1h 0 25h", "z=2882844526 -1h", "k=prompt", m, "i=media title", "k=clear:x"), simple},
		{"o= without address (camera)", crlf(v, "o=- 1 2 IN", s, c, z, m), func(t *testing.T, d *Description) {
			simple(t, d)
			if d.Origin.Address != "0.0.0.0" {
				t.Errorf("origin address %q", d.Origin.Address)
			}
		}},
		{"c=IN IP4 0.0.0.0", crlf(v, o, s, "c=IN IP4 0.0.0.0", z, m), func(t *testing.T, d *Description) {
			if d.Media[0].Address != "0.0.0.0" || !d.Media[0].Hold() {
				t.Errorf("address %q", d.Media[0].Address)
			}
		}},
		{"media c= without address inherits", crlf(v, o, s, c, z, m, "c=IN IP4"), simple},
		{"no session c=", crlf(v, o, s, z, m, c), func(t *testing.T, d *Description) {
			if d.Address != "" || d.Media[0].Address != "192.0.2.1" {
				t.Errorf("addresses %q %q", d.Address, d.Media[0].Address)
			}
		}},
		{"multicast ttl kept", crlf(v, o, s, "c=IN IP4 224.2.17.12/127", z, m), func(t *testing.T, d *Description) {
			if d.Media[0].Address != "224.2.17.12/127" {
				t.Errorf("address %q", d.Media[0].Address)
			}
		}},
		{"bandwidth lines", crlf(v, o, s, c, "b=CT:128", "b=X-YZ:5", "b=AS", "b=FOO:bar", z, m, "b=TIAS:64000"), func(t *testing.T, d *Description) {
			if !reflect.DeepEqual(d.Bandwidth, []Bandwidth{{"CT", 128}, {"X-YZ", 5}}) {
				t.Errorf("session b= %v", d.Bandwidth)
			}
			if !reflect.DeepEqual(d.Media[0].Bandwidth, []Bandwidth{{"TIAS", 64000}}) {
				t.Errorf("media b= %v", d.Media[0].Bandwidth)
			}
		}},
		{"session direction applies, media overrides", crlf(v, o, s, c, z, "a=inactive", m, "m=audio 4002 RTP/AVP 0", "a=sendrecv"), func(t *testing.T, d *Description) {
			if d.Media[0].Direction != Inactive || d.Media[1].Direction != SendRecv {
				t.Errorf("directions %v %v", d.Media[0].Direction, d.Media[1].Direction)
			}
			if len(d.Attributes) != 0 {
				t.Errorf("session direction kept as attribute: %v", d.Attributes)
			}
		}},
		{"upper-case direction", crlf(v, o, s, c, z, m, "a=SENDONLY"), func(t *testing.T, d *Description) {
			if d.Media[0].Direction != SendOnly {
				t.Errorf("direction %v", d.Media[0].Direction)
			}
		}},
		{"second direction kept as attribute", crlf(v, o, s, c, z, m, "a=recvonly", "a=sendonly"), func(t *testing.T, d *Description) {
			if d.Media[0].Direction != RecvOnly || !reflect.DeepEqual(d.Media[0].Attributes, []Attribute{{Key: "sendonly"}}) {
				t.Errorf("direction %v attributes %v", d.Media[0].Direction, d.Media[0].Attributes)
			}
		}},
		{"rtpmap overrides the static table", crlf(v, o, s, c, z, "m=audio 4000 RTP/AVP 9", "a=rtpmap:9 g722/8000"), func(t *testing.T, d *Description) {
			if d.Media[0].Codecs[0].Name != "g722" {
				t.Errorf("codec %+v", d.Media[0].Codecs[0])
			}
		}},
		{"dynamic payload type without rtpmap", crlf(v, o, s, c, z, "m=audio 4000 RTP/AVP 0 96"), func(t *testing.T, d *Description) {
			if d.Media[0].Codecs[1] != (Codec{PayloadType: 96}) {
				t.Errorf("codec %+v", d.Media[0].Codecs[1])
			}
		}},
		{"bad rtpmap, fmtp and ptime kept as attributes", crlf(v, o, s, c, z, m, "a=rtpmap:0 PCMU", "a=rtpmap:99 foo/8000", "a=fmtp:0", "a=ptime:20.5", "a=maxptime:-1", "a=rtcp:x", "a=crypto:x"), func(t *testing.T, d *Description) {
			mm := d.Media[0]
			if mm.Codecs[0].Name != "PCMU" || mm.Ptime != 0 || mm.MaxPtime != 0 || mm.RTCPPort != 0 || mm.Crypto != nil {
				t.Errorf("%+v", mm)
			}
			if len(mm.Attributes) != 7 {
				t.Errorf("attributes %v", mm.Attributes)
			}
		}},
		{"duplicate and zero-padded payload types", crlf(v, o, s, c, z, "m=audio 4000 RTP/AVP 0 008 0"), func(t *testing.T, d *Description) {
			if !reflect.DeepEqual(d.Media[0].Formats, []string{"0", "8"}) || len(d.Media[0].Codecs) != 2 {
				t.Errorf("formats %v codecs %v", d.Media[0].Formats, d.Media[0].Codecs)
			}
		}},
		{"RTP m= line with non-numeric formats stays opaque", crlf(v, o, s, c, z, "m=audio 4000 RTP/AVP 0 x", "a=rtpmap:0 PCMU/8000"), func(t *testing.T, d *Description) {
			mm := d.Media[0]
			if mm.Codecs != nil || !reflect.DeepEqual(mm.Formats, []string{"0", "x"}) || len(mm.Attributes) != 1 {
				t.Errorf("%+v", mm)
			}
		}},
		{"lower-case proto and unknown media type", crlf(v, o, s, c, z, "m=application 32416 udp wb", "a=orient:portrait", "m=x-foo 1 X/Y/Z a b"), func(t *testing.T, d *Description) {
			if d.Media[0].Proto != "udp" || d.Media[1].Type != "x-foo" || d.Media[1].Proto != "X/Y/Z" {
				t.Errorf("%+v", d.Media)
			}
		}},
		{"m= line without formats", crlf(v, o, s, c, z, "m=audio 0 RTP/AVP"), func(t *testing.T, d *Description) {
			if d.Media[0].Formats != nil || d.Media[0].Codecs != nil {
				t.Errorf("%+v", d.Media[0])
			}
			if strings.Contains(string(d.Marshal()), "RTP/AVP \r\n") {
				t.Error("trailing blank on m= line")
			}
		}},
		{"port with count", crlf(v, o, s, c, z, "m=video 49170/2 RTP/AVP 31"), func(t *testing.T, d *Description) {
			if d.Media[0].Port != 49170 {
				t.Errorf("port %d", d.Media[0].Port)
			}
		}},
		{"rtcp with IPv6 address", crlf(v, o, s, c, z, m, "a=rtcp:53020 IN IP6 2001:2345:6789:ABCD:EF01:2345:6789:ABCD"), func(t *testing.T, d *Description) {
			if d.Media[0].RTCPPort != 53020 || d.Media[0].RTCPAddress != "2001:2345:6789:ABCD:EF01:2345:6789:ABCD" {
				t.Errorf("%+v", d.Media[0])
			}
			if !strings.Contains(string(d.Marshal()), "a=rtcp:53020 IN IP6 2001:2345:6789:ABCD:EF01:2345:6789:ABCD\r\n") {
				t.Error("a=rtcp not written back")
			}
		}},
		{"large session id", crlf(v, "o=carol 18446744073709551615 28908764872 IN IP4 100.3.6.6", s, c, z), func(t *testing.T, d *Description) {
			if d.Origin.SessionID != 18446744073709551615 || d.Origin.SessionVersion != 28908764872 || d.Media != nil {
				t.Errorf("%+v", d.Origin)
			}
		}},
		{"empty session name", crlf(v, o, "s=", c, z), func(t *testing.T, d *Description) {
			if d.Name != "" || !strings.Contains(string(d.Marshal()), "\r\ns= \r\n") {
				t.Errorf("name %q", d.Name)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustParse(t, tt.in)
			tt.check(t, d)
			checkRoundTrip(t, d)
		})
	}
}

func TestParseGarbage(t *testing.T) {
	const (
		v = "v=0"
		o = "o=- 1 2 IN IP4 192.0.2.1"
		s = "s=-"
		z = "t=0 0"
	)
	tests := []struct{ name, in, errPart string }{
		{"empty", "", "empty"},
		{"blank lines", "\r\n \r\n\t\n", "empty"},
		{"plain text", "hello world", "not a"},
		{"HTML", "<html><body>v=0</body></html>", "not a"},
		{"binary", "\x00\x01\x02\xff\xfe", "not a"},
		{"no equals sign", crlf(v, o, "s-", z), "not a"},
		{"upper-case type", crlf(v, o, "S=x", z), "not a"},
		{"empty type", crlf(v, o, "=x", z), "not a"},
		{"unknown type", crlf(v, o, s, "x=foo", z), "unknown line type"},
		{"version 1", crlf("v=1", o, s, z), "protocol version"},
		{"no v=", crlf(o, s, z), "no v="},
		{"no o=", crlf(v, s, z), "no o="},
		{"two o=", crlf(v, o, o, s, z), "more than one"},
		{"two c=", crlf(v, o, s, "c=IN IP4 1.2.3.4", "c=IN IP4 1.2.3.4", z), "more than one"},
		{"o= session id not a number", crlf(v, "o=- x 2 IN IP4 1.2.3.4", s, z), "session id"},
		{"o= session id overflows", crlf(v, "o=- 18446744073709551616 2 IN IP4 1.2.3.4", s, z), "session id"},
		{"o= version negative", crlf(v, "o=- 1 -2 IN IP4 1.2.3.4", s, z), "session version"},
		{"o= too few fields", crlf(v, "o=- 1 2", s, z), "want"},
		{"o= network type", crlf(v, "o=- 1 2 ATM IP4 1.2.3.4", s, z), "network type"},
		{"o= address type", crlf(v, "o=- 1 2 IN IP5 1.2.3.4", s, z), "address type"},
		{"c= address type", crlf(v, o, s, "c=IN X25 1.2.3.4", z), "address type"},
		{"c= extra fields", crlf(v, o, s, "c=IN IP4 1.2.3.4 5.6.7.8", z), "want"},
		{"t= not numbers", crlf(v, o, s, "t=now later"), "t="},
		{"t= one field", crlf(v, o, s, "t=0"), "t="},
		{"m= too short", crlf(v, o, s, z, "m=audio 4000"), "want"},
		{"m= port not a number", crlf(v, o, s, z, "m=audio x RTP/AVP 0"), "port"},
		{"m= port out of range", crlf(v, o, s, z, "m=audio 70000 RTP/AVP 0"), "port"},
		{"m= negative port", crlf(v, o, s, z, "m=audio -1 RTP/AVP 0"), "port"},
		{"m= empty proto part", crlf(v, o, s, z, "m=audio 1 RTP//AVP 0"), "protocol"},
		{"m= bad media type", crlf(v, o, s, z, "m=au(dio 1 RTP/AVP 0"), "media type"},
		{"session line in media section", crlf(v, o, s, z, "m=audio 1 RTP/AVP 0", "s=late"), "not allowed"},
		{"t= in media section", crlf(v, o, s, z, "m=audio 1 RTP/AVP 0", "t=0 0"), "not allowed"},
		{"bad media c=", crlf(v, o, s, z, "m=audio 1 RTP/AVP 0", "c=IN"), "want"},
		{"fragment without header", crlf("m=audio 12346 RTP/AVP 100", "a=rtpmap:100 telephone-event/8000"), "no v="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse([]byte(tt.in))
			if err == nil {
				t.Fatalf("Parse succeeded: %#v", d)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.errPart) {
				t.Errorf("error %q does not mention %q", err, tt.errPart)
			}
		})
	}
}

func TestParseErrorNamesLine(t *testing.T) {
	_, err := Parse([]byte(crlf("v=0", "o=- 1 2 IN IP4 1.2.3.4", "s=-", "t=0 0", "m=audio 99999 RTP/AVP 0")))
	if err == nil || !strings.Contains(err.Error(), `line 5 "m=audio 99999 RTP/AVP 0"`) {
		t.Errorf("error %v does not name line 5", err)
	}
}

func TestStaticPayloadTypes(t *testing.T) {
	tests := []struct {
		pt   uint8
		want Codec
	}{
		{0, Codec{0, "PCMU", 8000, 1, ""}},
		{3, Codec{3, "GSM", 8000, 1, ""}},
		{4, Codec{4, "G723", 8000, 1, ""}},
		{8, Codec{8, "PCMA", 8000, 1, ""}},
		{9, Codec{9, "G722", 8000, 1, ""}}, // 8000, not 16000: RFC 3551 4.5.2
		{10, Codec{10, "L16", 44100, 2, ""}},
		{13, Codec{13, "CN", 8000, 1, ""}},
		{18, Codec{18, "G729", 8000, 1, ""}},
		{31, Codec{31, "H261", 90000, 1, ""}},
		{34, Codec{34, "H263", 90000, 1, ""}},
	}
	for _, tt := range tests {
		got, ok := StaticCodec(tt.pt)
		if !ok || got != tt.want {
			t.Errorf("StaticCodec(%d) = %+v %v, want %+v", tt.pt, got, ok, tt.want)
		}
		d := mustParse(t, crlf("v=0", "o=- 1 1 IN IP4 1.2.3.4", "s=-", "c=IN IP4 1.2.3.4", "t=0 0",
			"m=audio 4000 RTP/AVP "+strconv.Itoa(int(tt.pt))))
		if c, ok := d.Media[0].Codec(tt.pt); !ok || c != tt.want {
			t.Errorf("parsed PT %d = %+v, want %+v", tt.pt, c, tt.want)
		}
	}
	for _, pt := range []uint8{1, 2, 19, 35, 96, 127} {
		if c, ok := StaticCodec(pt); ok {
			t.Errorf("StaticCodec(%d) = %+v, want none", pt, c)
		}
	}
}

// checkRoundTrip checks that Marshal and Parse give back d, and that
// Marshal is stable.
func checkRoundTrip(t *testing.T, d *Description) {
	t.Helper()
	out := d.Marshal()
	d2, err := Parse(out)
	if err != nil {
		t.Fatalf("re-Parse: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(d, d2) {
		t.Fatalf("round trip changed the description\nbefore %#v\nafter  %#v\n%s", d, d2, out)
	}
	if out2 := d2.Marshal(); string(out2) != string(out) {
		t.Fatalf("Marshal not stable:\n%s\n---\n%s", out, out2)
	}
	for l := range strings.SplitSeq(strings.TrimSuffix(string(out), "\r\n"), "\r\n") {
		if l == "" || strings.ContainsAny(l, "\r\n") {
			t.Fatalf("bad line %q in\n%q", l, out)
		}
	}
}

func TestRoundTripTestdata(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.sdp"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			d, err := Parse(readTestdata(t, filepath.Base(f)))
			if err != nil {
				t.Fatal(err)
			}
			checkRoundTrip(t, d)
			out := string(d.Marshal())
			if !strings.HasPrefix(out, "v=0\r\no=") || !strings.Contains(out, "\r\nt=0 0\r\n") || !strings.HasSuffix(out, "\r\n") {
				t.Errorf("Marshal output shape:\n%s", out)
			}
		})
	}
}

func TestMarshalFromScratch(t *testing.T) {
	d := &Description{
		Origin:  Origin{Username: "alice", SessionID: 7, SessionVersion: 8, Address: "192.0.2.10"},
		Name:    "call",
		Address: "192.0.2.10",
		Media: []Media{
			{
				Type: "audio", Port: 50000, Proto: "RTP/AVP",
				Codecs: []Codec{
					{PayloadType: 0, Name: "PCMU", ClockRate: 8000},
					{PayloadType: 101, Name: "telephone-event", ClockRate: 8000, Fmtp: "0-16"},
				},
				Ptime:     20,
				Direction: SendOnly,
				RTCPPort:  50001,
			},
			{
				Type: "message", Port: 2855, Proto: "TCP/MSRP", Formats: []string{"*"},
				Address: "198.51.100.1",
				Attributes: []Attribute{
					{Key: "accept-types", Value: "message/cpim text/plain"},
					{Key: "path", Value: "msrp://198.51.100.1:2855/abc;tcp"},
				},
			},
		},
	}
	want := crlf(
		"v=0",
		"o=alice 7 8 IN IP4 192.0.2.10",
		"s=call",
		"c=IN IP4 192.0.2.10",
		"t=0 0",
		"m=audio 50000 RTP/AVP 0 101",
		"a=rtpmap:0 PCMU/8000",
		"a=rtpmap:101 telephone-event/8000",
		"a=fmtp:101 0-16",
		"a=ptime:20",
		"a=sendonly",
		"a=rtcp:50001",
		"m=message 2855 TCP/MSRP *",
		"c=IN IP4 198.51.100.1",
		"a=sendrecv",
		"a=accept-types:message/cpim text/plain",
		"a=path:msrp://198.51.100.1:2855/abc;tcp",
	)
	if got := string(d.Marshal()); got != want {
		t.Errorf("Marshal:\n%s\nwant\n%s", got, want)
	}
	if d.String() != want {
		t.Error("String differs from Marshal")
	}
}

func TestMarshalZeroAndHostile(t *testing.T) {
	var d Description
	want := crlf("v=0", "o=- 0 0 IN IP4 0.0.0.0", "s= ", "t=0 0")
	if got := string(d.Marshal()); got != want {
		t.Errorf("zero Description:\n%q\nwant\n%q", got, want)
	}
	d.Name = "evil\r\nm=audio 1 RTP/AVP 0"
	d.Attributes = []Attribute{{Key: "x", Value: "1\n2"}}
	out := string(d.Marshal())
	if strings.Contains(out, "\r\nm=") || strings.Count(out, "\n") != 5 {
		t.Errorf("CR/LF in values leaked into the output:\n%q", out)
	}
	if _, err := Parse([]byte(out)); err != nil {
		t.Errorf("Parse of sanitised output: %v", err)
	}
}

func TestClone(t *testing.T) {
	d, err := Parse(readTestdata(t, "baresip.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	c := d.Clone()
	if !reflect.DeepEqual(c, d) {
		t.Fatal("clone differs")
	}
	c.Attributes = append(c.Attributes, Attribute{Key: "x"})
	c.Media[0].Codecs[0].Name = "changed"
	c.Media[0].Formats[0] = "changed"
	c.Media[0].Crypto[0].SessionParams = append(c.Media[0].Crypto[0].SessionParams, "KDR=1")
	c.Media[0].Attributes[0].Value = "changed"
	c.Media[0].Bandwidth[0].Value = 1
	c.Media = append(c.Media, Media{})
	d2, _ := Parse(readTestdata(t, "baresip.sdp"))
	if !reflect.DeepEqual(d, d2) {
		t.Error("changing the clone changed the original")
	}
	if (*Description)(nil).Clone() != nil {
		t.Error("nil Clone")
	}
}

func BenchmarkParse(b *testing.B) {
	in, err := os.ReadFile(filepath.Join("testdata", "sipsimple-audio-chat.sdp"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Parse(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	in, err := os.ReadFile(filepath.Join("testdata", "sipsimple-audio-chat.sdp"))
	if err != nil {
		b.Fatal(err)
	}
	d, err := Parse(in)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = d.Marshal()
	}
}
