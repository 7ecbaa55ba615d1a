package sdp

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sipsimple-go/sipsimple/internal/corpus"
)

// msrpFragmentHeader completes the SDP fragments of the msrp corpus (c=, m=
// and a= lines only) into descriptions. It has no c= line: the fragments
// bring their own session-level one.
const msrpFragmentHeader = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"

var (
	msrpIndexRowRE  = regexp.MustCompile("^\\| `([^`]+)` \\|[^|]*\\| ([^|]*) \\|")
	msrpFactAddrRE  = regexp.MustCompile(`; c=IN IP4 (\S+);`)
	msrpFactMediaRE = regexp.MustCompile(`m=(\S+) port (\d+) (\S+) \[([^\]]*)\] (sendrecv|sendonly|recvonly|inactive)`)
)

// msrpIndexRow is what the test reads of an INDEX.md row.
type msrpIndexRow struct {
	validity, row string
}

func readMSRPIndex(t *testing.T, dir string) map[string]msrpIndexRow {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "INDEX.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]msrpIndexRow{}
	for row := range strings.SplitSeq(string(b), "\n") {
		if m := msrpIndexRowRE.FindStringSubmatch(row); m != nil {
			rows[m[1]] = msrpIndexRow{validity: m[2], row: row}
		}
	}
	return rows
}

var (
	rfc5547Hash1 = []byte{0x72, 0x24, 0x5F, 0xE8, 0x65, 0x3D, 0xDA, 0xF3, 0x71, 0x36, 0x2F, 0x86, 0xD4, 0x71, 0x91, 0x3E, 0xE4, 0xA2, 0xCE, 0x2E}
	rfc5547Hash2 = []byte{0x58, 0x23, 0x1F, 0xE8, 0x65, 0x3B, 0xBC, 0xF3, 0x71, 0x36, 0x2F, 0x86, 0xD4, 0x71, 0x91, 0x3E, 0xE4, 0xB1, 0xDF, 0x2F}
)

// msrpCorpus lists every SDP file of the msrp corpus with the facts of its
// INDEX.md row, written out: the m= line, the effective connection address
// and direction, and the complete MSRPMedia (so absent attributes are
// asserted absent).
var msrpCorpus = []struct {
	file     string
	fragment bool // no v=/o=/s=/t=: Parse must refuse it as it is
	port     int
	proto    string
	addr     string
	dir      Direction
	want     MSRPMedia
	extra    map[string]string // other attributes kept in Media.Attributes
}{
	{
		file: "rfc4975-s8.2-fig7-sdp.txt", port: 7394, proto: "TCP/MSRP", addr: "alice.example.com",
		want: MSRPMedia{
			Path:        []string{"msrp://alice.example.com:7394/2s93i9ek2a;tcp"},
			AcceptTypes: []string{"text/plain"},
		},
	},
	{
		file: "rfc4975-s8.7-fig9-sdp-offer.txt", port: 7394, proto: "TCP/MSRP", addr: "alice.example.com",
		want: MSRPMedia{
			Path:        []string{"msrp://alice.example.com:7394/2s93i93idj;tcp"},
			AcceptTypes: []string{"message/cpim", "text/plain", "text/html"},
		},
	},
	{
		file: "rfc4975-s8.7-fig10-sdp-answer.txt", port: 8493, proto: "TCP/MSRP", addr: "bob.example.com",
		want: MSRPMedia{
			Path:        []string{"msrp://bob.example.com:8493/si438dsaodes;tcp"},
			AcceptTypes: []string{"message/cpim", "text/plain"},
		},
	},
	{
		file: "rfc4975-s11.1-step1-sdp-offer.txt", port: 7777, proto: "TCP/MSRP", addr: "alicepc.example.com",
		want: MSRPMedia{
			Path:        []string{"msrp://alicepc.example.com:7777/iau39soe2843z;tcp"},
			AcceptTypes: []string{"text/plain"},
		},
	},
	{
		file: "rfc4975-s11.1-step2-sdp-answer.txt", port: 8888, proto: "TCP/MSRP", addr: "bob.example.com",
		want: MSRPMedia{
			Path:        []string{"msrp://bob.example.com:8888/9di4eae923wzd;tcp"},
			AcceptTypes: []string{"text/plain"},
		},
	},
	{
		file: "rfc4975-s14.4-fig19-sdp-fingerprint-fragment.txt", fragment: true,
		port: 7654, proto: "TCP/TLS/MSRP", addr: "atlanta.example.com",
		want: MSRPMedia{
			Path:        []string{"msrps://atlanta.example.com:7654/jshA7weso3ks;tcp"},
			AcceptTypes: []string{"text/plain"},
			Secure:      true,
		},
		extra: map[string]string{"fingerprint": "SHA-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB"},
	},
	{
		// "a=accept-types: message/cpim ..." has a blank after the colon.
		file: "rfc4976-s11-sdp-offer-fragment.txt", fragment: true,
		port: 1234, proto: "TCP/MSRP", addr: "a.example.com",
		want: MSRPMedia{
			Path:        []string{"msrp://a.example.com:1234/agic456;tcp"},
			AcceptTypes: []string{"message/cpim", "text/plain", "text/html"},
		},
	},
	{
		// Two URIs in one a=path: the relay first, then Bob.
		file: "rfc4976-s11-sdp-answer-fragment.txt", fragment: true,
		port: 1234, proto: "TCP/TLS/MSRP", addr: "bob.example.com",
		want: MSRPMedia{
			Path:        []string{"msrps://relay.example.com:9000/hjdhfha;tcp", "msrps://bob.example.com:1234/fuige;tcp"},
			AcceptTypes: []string{"message/cpim", "text/plain"},
			Secure:      true,
		},
	},
	{
		file: "rfc5547-s6-fig2-sdp.txt", port: 7654, proto: "TCP/MSRP", addr: "host.atlanta.example.com", dir: SendOnly,
		want: MSRPMedia{
			Path:               []string{"msrp://atlanta.example.com:7654/jshA7we;tcp"},
			AcceptTypes:        []string{"message/cpim"},
			AcceptWrappedTypes: []string{"*"},
			FileSelector: &FileSelector{Name: "My cool picture.jpg", Type: "image/jpeg", Size: 32349,
				Hash: &Hash{Algorithm: "sha-1", Value: rfc5547Hash1}},
			FileTransferID:  "vBnG916bdberum2fFEABR1FR3ExZMUrd",
			FileDisposition: "attachment",
			FileDate:        `creation:"Mon, 15 May 2006 15:01:31 +0300"`,
			FileIcon:        "cid:id2@alicepc.example.com",
			FileRange:       &FileRange{Start: 1, Stop: 32349},
		},
	},
	{
		file: "rfc5547-s9.1-fig9-sdp-answer.txt", port: 8888, proto: "TCP/MSRP", addr: "bobpc.example.com", dir: RecvOnly,
		want: MSRPMedia{
			Path:               []string{"msrp://bobpc.example.com:8888/9di4ea;tcp"},
			AcceptTypes:        []string{"message/cpim"},
			AcceptWrappedTypes: []string{"*"},
			FileSelector: &FileSelector{Name: "My cool picture.jpg", Type: "image/jpeg", Size: 4092,
				Hash: &Hash{Algorithm: "sha-1", Value: rfc5547Hash1}},
			FileTransferID: "Q6LMoGymJdh0IKIgD6wD0jkcfgva4xvE",
		},
	},
	{
		// Pull: the answerer sends the file the offer selected by type and hash.
		file: "rfc5547-s9.2-fig16-sdp-answer.txt", port: 8888, proto: "TCP/MSRP", addr: "bobpc.example.com", dir: SendOnly,
		want: MSRPMedia{
			Path:               []string{"msrp://bobpc.example.com:8888/9di4ea;tcp"},
			AcceptTypes:        []string{"message/cpim"},
			AcceptWrappedTypes: []string{"*"},
			FileSelector: &FileSelector{Type: "image/jpeg", Size: -1,
				Hash: &Hash{Algorithm: "sha-1", Value: rfc5547Hash1}},
			FileTransferID: "aCQYuBRVoUPGVsFZkCK98vzcX2FXDIk2",
		},
	},
	{
		file: "rfc5547-s9.2-fig20-sdp-answer.txt", port: 8888, proto: "TCP/MSRP", addr: "bobpc.example.com", dir: RecvOnly,
		want: MSRPMedia{
			Path:               []string{"msrp://bobpc.example.com:8888/eh10dsk;tcp"},
			AcceptTypes:        []string{"message/cpim"},
			AcceptWrappedTypes: []string{"*"},
			FileSelector: &FileSelector{Name: "sunset.jpg", Type: "image/jpeg", Size: 4096,
				Hash: &Hash{Algorithm: "sha-1", Value: rfc5547Hash2}},
			FileTransferID:  "ZVE8MfI9mhAdZ8GyiNMzNN5dpqgzQlCO",
			FileDisposition: "render",
		},
	},
	{
		// Capabilities: port 0, no a=path, bare a=file-selector.
		file: "rfc5547-s9.3-fig24-sdp-capabilities.txt", port: 0, proto: "TCP/MSRP", addr: "bobpc.example.com",
		want: MSRPMedia{
			AcceptTypes:        []string{"message/cpim"},
			AcceptWrappedTypes: []string{"*"},
			MaxSize:            20000,
			FileSelector:       &FileSelector{Size: -1},
		},
	},
}

// TestMSRPCorpus parses every SDP file of the msrp corpus, checks the m=
// line, address and direction against both the table above and the facts
// INDEX.md computed from the bytes, checks ParseMSRP's result field by
// field, and rebuilds the stream with MSRPMedia.Media through Marshal and
// Parse.
func TestMSRPCorpus(t *testing.T) {
	dir := corpus.Dir(t, "msrp")
	index := readMSRPIndex(t, dir)

	// Every SDP file INDEX.md lists is in the table.
	listed := map[string]bool{}
	for _, c := range msrpCorpus {
		listed[c.file] = true
	}
	for f := range index {
		if strings.Contains(f, "-sdp") && !listed[f] {
			t.Errorf("INDEX.md lists SDP file %s, the test does not check it", f)
		}
	}

	for _, c := range msrpCorpus {
		t.Run(c.file, func(t *testing.T) {
			row, ok := index[c.file]
			if !ok {
				t.Fatalf("%s not in INDEX.md", c.file)
			}
			if got := strings.HasPrefix(row.validity, "fragment"); got != c.fragment {
				t.Fatalf("INDEX.md validity %q, table says fragment=%v", row.validity, c.fragment)
			}
			// The table agrees with INDEX.md's computed facts.
			fm := msrpFactMediaRE.FindStringSubmatch(row.row)
			fa := msrpFactAddrRE.FindStringSubmatch(row.row)
			if fm == nil || fa == nil {
				t.Fatalf("INDEX.md row has no m= or c= facts: %s", row.row)
			}
			if fm[1] != "message" || fm[2] != strconv.Itoa(c.port) || fm[3] != c.proto || fm[4] != "*" ||
				fm[5] != c.dir.String() || fa[1] != c.addr {
				t.Fatalf("INDEX.md facts m=%s %s %s [%s] %s c=%s, table says %d %s %v %s",
					fm[1], fm[2], fm[3], fm[4], fm[5], fa[1], c.port, c.proto, c.dir, c.addr)
			}

			b, err := os.ReadFile(filepath.Join(dir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if c.fragment {
				// Parse wants v= and o=: a fragment is refused as it
				// is, and parsed with a minimal session header.
				if _, err := Parse(b); !errors.Is(err, ErrInvalid) {
					t.Fatalf("fragment: Parse error %v, want ErrInvalid", err)
				}
				b = append([]byte(msrpFragmentHeader), b...)
			}
			d, err := Parse(b)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(d.Media) != 1 {
				t.Fatalf("%d m= lines, want 1", len(d.Media))
			}
			m := d.Media[0]
			if m.Type != "message" || m.Port != c.port || m.Proto != c.proto ||
				!reflect.DeepEqual(m.Formats, []string{"*"}) || m.Address != c.addr || m.Direction != c.dir {
				t.Errorf("m=%s %d %s %v c=%s %v, want message %d %s [*] c=%s %v",
					m.Type, m.Port, m.Proto, m.Formats, m.Address, m.Direction, c.port, c.proto, c.addr, c.dir)
			}
			if m.Rejected() != (c.port == 0) {
				t.Errorf("Rejected() = %v", m.Rejected())
			}
			for k, v := range c.extra {
				if got, ok := m.Attribute(k); !ok || got != v {
					t.Errorf("a=%s = %q, %v; want %q", k, got, ok, v)
				}
			}

			x, err := ParseMSRP(m)
			if err != nil {
				t.Fatalf("ParseMSRP: %v", err)
			}
			if !reflect.DeepEqual(x, c.want) {
				t.Errorf("ParseMSRP =\n%#v\nwant\n%#v", x, c.want)
				if x.FileSelector != nil && c.want.FileSelector != nil {
					t.Errorf("file selector %#v, want %#v", *x.FileSelector, *c.want.FileSelector)
				}
			}

			// Rebuilt from the parsed values, the stream reads back the same.
			checkMSRPRoundTrip(t, x, m.Port, m.Address, m.Direction)
		})
	}
}

// TestMSRPCorpusSetup checks AnswerSetup against the RFC 4975 example flow:
// the offer of section 11.1 has no a=setup, and there Alice, the offerer,
// opens the connection (her SEND is the first MSRP request), so the
// answerer is passive.
func TestMSRPCorpusSetup(t *testing.T) {
	dir := corpus.Dir(t, "msrp")
	b, err := os.ReadFile(filepath.Join(dir, "rfc4975-s11.1-step1-sdp-offer.txt"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	x, err := ParseMSRP(d.Media[0])
	if err != nil {
		t.Fatal(err)
	}
	if answer, active := AnswerSetup(x.Setup); answer != "passive" || active {
		t.Errorf("AnswerSetup(%q) = %q, %v; want passive, false", x.Setup, answer, active)
	}
}

// checkMSRPRoundTrip builds the m= section for x, marshals it inside a
// description, parses it back and checks that ParseMSRP gives x again.
func checkMSRPRoundTrip(t *testing.T, x MSRPMedia, port int, addr string, dir Direction) {
	t.Helper()
	m := x.Media(port, addr, dir)
	d := &Description{
		Origin:  Origin{Username: "-", SessionID: 1, SessionVersion: 1, Address: "192.0.2.1"},
		Address: "192.0.2.1",
		Media:   []Media{m},
	}
	text := d.Marshal()
	d2, err := Parse(text)
	if err != nil {
		t.Fatalf("Parse(Marshal): %v\n%s", err, text)
	}
	if !reflect.DeepEqual(d2.Media[0], m) {
		t.Errorf("media changed through Marshal/Parse\n%s\ngot  %#v\nwant %#v", text, d2.Media[0], m)
	}
	x2, err := ParseMSRP(d2.Media[0])
	if err != nil {
		t.Fatalf("ParseMSRP after round trip: %v\n%s", err, text)
	}
	if !reflect.DeepEqual(x2, x) {
		t.Errorf("round trip changed the MSRP media\n%s\ngot  %#v\nwant %#v", text, x2, x)
	}
}

func TestMSRPMedia(t *testing.T) {
	x := MSRPMedia{
		Path:               []string{"msrps://relay.example.com:2855/r1;tcp", "msrps://192.0.2.5:2856/abc;tcp"},
		AcceptTypes:        []string{"message/cpim", "text/plain"},
		AcceptWrappedTypes: []string{"*"},
		Setup:              "actpass",
		MaxSize:            1 << 20,
		Secure:             true,
		FileSelector: &FileSelector{Name: `a "b" 100%.jpg`, Type: "image/jpeg", Size: 12,
			Hash: &Hash{Algorithm: "sha-1", Value: rfc5547Hash2}},
		FileTransferID:  "id-1",
		FileDisposition: "render",
		FileDate:        `modification:"Mon, 15 May 2006 15:01:31 +0300"`,
		FileIcon:        "cid:icon@example.com",
		FileRange:       &FileRange{Start: 10, Stop: -1},
	}
	m := x.Media(2856, "192.0.2.5", SendOnly)
	var keys []string
	for _, a := range m.Attributes {
		keys = append(keys, a.Key)
	}
	wantKeys := "path accept-types accept-wrapped-types max-size setup file-selector file-transfer-id file-disposition file-date file-icon file-range"
	if got := strings.Join(keys, " "); got != wantKeys {
		t.Errorf("attribute order %s\nwant            %s", got, wantKeys)
	}
	if m.Type != "message" || m.Port != 2856 || m.Proto != "TCP/TLS/MSRP" || !reflect.DeepEqual(m.Formats, []string{"*"}) ||
		m.Address != "192.0.2.5" || m.Direction != SendOnly {
		t.Errorf("m= %+v", m)
	}
	d := &Description{Origin: Origin{SessionID: 5, SessionVersion: 5, Address: "192.0.2.5"}, Address: "192.0.2.5", Media: []Media{m}}
	want := "m=message 2856 TCP/TLS/MSRP *\r\n" +
		"a=sendonly\r\n" +
		"a=path:msrps://relay.example.com:2855/r1;tcp msrps://192.0.2.5:2856/abc;tcp\r\n" +
		"a=accept-types:message/cpim text/plain\r\n" +
		"a=accept-wrapped-types:*\r\n" +
		"a=max-size:1048576\r\n" +
		"a=setup:actpass\r\n" +
		`a=file-selector:name:"a %22b%22 100%25.jpg" type:image/jpeg size:12 hash:sha-1:58:23:1F:E8:65:3B:BC:F3:71:36:2F:86:D4:71:91:3E:E4:B1:DF:2F` + "\r\n" +
		"a=file-transfer-id:id-1\r\n" +
		"a=file-disposition:render\r\n" +
		`a=file-date:modification:"Mon, 15 May 2006 15:01:31 +0300"` + "\r\n" +
		"a=file-icon:cid:icon@example.com\r\n" +
		"a=file-range:10-*\r\n"
	if got := string(d.Marshal()); !strings.HasSuffix(got, want) {
		t.Errorf("Marshal:\n%s\nwant the media section\n%s", got, want)
	}

	for name, x := range map[string]MSRPMedia{
		"full":         x,
		"zero":         {},
		"chat":         {Path: []string{"msrp://192.0.2.5:2855/x;tcp"}, AcceptTypes: []string{"message/cpim", "text/plain"}, AcceptWrappedTypes: []string{"*"}, Setup: "passive"},
		"capabilities": {AcceptTypes: []string{"*"}, MaxSize: 20000, FileSelector: &FileSelector{Size: -1}},
		"pull":         {Path: []string{"msrp://h:1/y;tcp"}, FileSelector: &FileSelector{Size: -1, Hash: &Hash{Algorithm: "sha-1", Value: rfc5547Hash1}}, Setup: "holdconn"},
		"utf8 name":    {Path: []string{"msrp://h:1/y;tcp"}, FileSelector: &FileSelector{Name: "Ünïcødé\tname\r\n.txt", Size: 0}, FileRange: &FileRange{Start: 1, Stop: 1}},
	} {
		t.Run(name, func(t *testing.T) {
			for _, dir := range []Direction{SendRecv, SendOnly, RecvOnly, Inactive} {
				checkMSRPRoundTrip(t, x, 2855, "192.0.2.9", dir)
			}
			checkMSRPRoundTrip(t, x, 0, "192.0.2.1", SendRecv)
		})
	}
}

func TestParseMSRPTolerance(t *testing.T) {
	m := Media{Type: "message", Port: 9, Proto: "tcp/tls/msrp", Formats: []string{"*"}, Attributes: []Attribute{
		{Key: "Path", Value: "  msrps://a:1/x;tcp \t msrps://b:2/y;tcp  "},
		{Key: "path", Value: "msrps://c:3/z;tcp"}, // concatenated
		{Key: "accept-types", Value: " message/cpim   text/plain "},
		{Key: "accept-types", Value: "text/html"},
		{Key: "Accept-Wrapped-Types", Value: "*"},
		{Key: "setup", Value: " ActPass "},
		{Key: "setup", Value: "bogus"}, // the first one counts
		{Key: "max-size", Value: " 42 "},
		{Key: "file-selector", Value: ""},
		{Key: "file-transfer-id", Value: " tid "},
		{Key: "file-range", Value: "5-*"},
		{Key: "chatroom", Value: "nickname private-messages"},
		{Key: "x-file-offset"},
	}}
	x, err := ParseMSRP(m)
	if err != nil {
		t.Fatal(err)
	}
	want := MSRPMedia{
		Path:               []string{"msrps://a:1/x;tcp", "msrps://b:2/y;tcp", "msrps://c:3/z;tcp"},
		AcceptTypes:        []string{"message/cpim", "text/plain", "text/html"},
		AcceptWrappedTypes: []string{"*"},
		Setup:              "actpass",
		MaxSize:            42,
		Secure:             true,
		FileSelector:       &FileSelector{Size: -1},
		FileTransferID:     "tid",
		FileRange:          &FileRange{Start: 5, Stop: -1},
		FileOffset:         true,
	}
	if !reflect.DeepEqual(x, want) {
		t.Errorf("got  %#v\nwant %#v", x, want)
	}

	// A bare a=setup reads as absent; the media type is not checked.
	x, err = ParseMSRP(Media{Type: "application", Proto: "TCP/MSRP", Attributes: []Attribute{{Key: "setup"}}})
	if err != nil || x.Setup != "" || x.Secure {
		t.Errorf("bare setup: %#v, %v", x, err)
	}
}

func TestParseMSRPErrors(t *testing.T) {
	for _, tc := range []struct {
		proto string
		attr  Attribute
		want  string // in the error
	}{
		{"RTP/AVP", Attribute{}, `"RTP/AVP"`},
		{"TCP/MSRPS", Attribute{}, `"TCP/MSRPS"`},
		{"", Attribute{}, `""`},
		{"TCP/MSRP", Attribute{Key: "max-size", Value: "-1"}, "a=max-size:-1"},
		{"TCP/MSRP", Attribute{Key: "max-size", Value: "1k"}, "a=max-size:1k"},
		{"TCP/MSRP", Attribute{Key: "max-size", Value: "+5"}, "a=max-size:+5"},
		{"TCP/MSRP", Attribute{Key: "max-size", Value: "99999999999999999999"}, "a=max-size"},
		{"TCP/MSRP", Attribute{Key: "file-range", Value: "0-10"}, "a=file-range"},
		{"TCP/MSRP", Attribute{Key: "file-range", Value: "10-5"}, "a=file-range"},
		{"TCP/MSRP", Attribute{Key: "file-range", Value: "10"}, "a=file-range"},
		{"TCP/MSRP", Attribute{Key: "file-range", Value: "*-10"}, "a=file-range"},
		{"TCP/MSRP", Attribute{Key: "file-selector", Value: "size:big"}, "a=file-selector"},
		{"TCP/MSRP", Attribute{Key: "setup", Value: "sometimes"}, "a=setup:sometimes"},
	} {
		m := Media{Type: "message", Proto: tc.proto, Formats: []string{"*"}}
		if tc.attr.Key != "" {
			m.Attributes = []Attribute{tc.attr}
		}
		_, err := ParseMSRP(m)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseMSRP(%s, %v) error %v, want one naming %s", tc.proto, tc.attr, err, tc.want)
		}
	}
}

func TestAnswerSetup(t *testing.T) {
	for _, tc := range []struct {
		offer, answer string
		active        bool
	}{
		{"actpass", "active", true},
		{"passive", "active", true}, // RFC 4145 4.1
		{"active", "passive", false},
		{"holdconn", "holdconn", false},
		{"", "passive", false}, // RFC 4145 4.1 default, RFC 4975 8.5: the offerer connects
		{"ACTPASS", "active", true},
		{" passive ", "active", true},
		{"Active", "passive", false},
		{"bogus", "passive", false}, // unknown: as absent
	} {
		answer, active := AnswerSetup(tc.offer)
		if answer != tc.answer || active != tc.active {
			t.Errorf("AnswerSetup(%q) = %q, %v; want %q, %v", tc.offer, answer, active, tc.answer, tc.active)
		}
	}
	if OfferSetup() != "actpass" {
		t.Errorf("OfferSetup() = %q", OfferSetup())
	}
}

func TestIsMSRP(t *testing.T) {
	for proto, want := range map[string]bool{
		"TCP/MSRP": true, "tcp/msrp": true, "TCP/TLS/MSRP": true, "tcp/tls/Msrp": true,
		"TCP/MSRPS": false, "RTP/AVP": false, "": false, "TCP/WSS/MSRP": false,
	} {
		if IsMSRP(proto) != want {
			t.Errorf("IsMSRP(%q) = %v", proto, !want)
		}
	}
}

// a=x-file-offset (python-sipsimple's resume capability) is written bare
// and read back.
func TestXFileOffsetRoundTrip(t *testing.T) {
	x := MSRPMedia{Path: []string{"msrp://127.0.0.1:2855/abc;tcp"}, AcceptTypes: []string{"*"}, FileOffset: true}
	d := &Description{Address: "127.0.0.1", Media: []Media{x.Media(2855, "127.0.0.1", SendOnly)}}
	text := string(d.Marshal())
	if !strings.Contains(text, "a=x-file-offset\r\n") {
		t.Fatalf("SDP without a bare a=x-file-offset:\n%s", text)
	}
	back, err := Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	y, err := ParseMSRP(back.Media[0])
	if err != nil || !y.FileOffset {
		t.Fatalf("parsed back: %+v, %v", y, err)
	}
}
