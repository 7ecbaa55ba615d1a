package sipcheck

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// corpusDir is /work/shared/rfc-corpus seen from this package directory.
var corpusDir = filepath.Join("..", "..", "..", "shared", "rfc-corpus")

func requireCorpus(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(corpusDir, "rfc4475", "INDEX.md")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("RFC torture corpus missing at %s: %v", corpusDir, err)
		}
		t.Skipf("RFC torture corpus not found at %s (set up the shared corpus to run this test): %v", corpusDir, err)
	}
}

// endpointOpts is what a SIP user agent without registrar supports;
// registrarOpts adds REGISTER, to exercise the REGISTER checks.
var (
	endpointOpts = RequestOptions{
		Supported: []string{"100rel", "replaces", "timer", "norefersub"},
		AllowedMethods: []string{"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "MESSAGE",
			"NOTIFY", "SUBSCRIBE", "REFER", "INFO", "PRACK", "UPDATE"},
		AcceptedContentTypes: []string{"application/sdp", "multipart/mixed"},
	}
	registrarOpts = func() RequestOptions {
		o := endpointOpts
		o.AllowedMethods = append(slices.Clone(o.AllowedMethods), "REGISTER")
		return o
	}()
)

// outcome is the expected handling of one corpus file sent as one UDP
// datagram: the Datagram verdict, then for a Reply the status of the reply,
// for an accepted request the Request code (with endpointOpts; reg with
// registrarOpts), for an accepted response the Response result.
type outcome struct {
	verdict Verdict
	code    int
	reg     int
	keep    bool
}

func accept(code int) outcome       { return outcome{verdict: Accept, code: code, reg: code} }
func acceptReg(ua, reg int) outcome { return outcome{verdict: Accept, code: ua, reg: reg} }
func reply(code int) outcome        { return outcome{verdict: Reply, code: code} }
func response(keep bool) outcome    { return outcome{verdict: Accept, keep: keep} }

var drop = outcome{verdict: Drop}

// expected maps every corpus file to its outcome, decided from the "must do"
// column of the INDEX.md files. Where the INDEX leaves a choice: lwsstart,
// trws, escruri are rejected; baddate and badbranch accepted (Date unused;
// sipgo matches a bare "z9hG4bK" branch the RFC 2543 way); the bare-LF
// RFC 5118 archive bytes rejected; test.dat dropped.
var expected = map[string]outcome{
	// RFC 4475 3.1.1: valid messages.
	"rfc4475/wsinv.dat":      accept(0),
	"rfc4475/intmeth.dat":    accept(501), // unknown method
	"rfc4475/esc01.dat":      accept(0),
	"rfc4475/escnull.dat":    acceptReg(405, 0), // REGISTER: an endpoint has no registrar
	"rfc4475/esc02.dat":      accept(501),       // RE%47IST%45R is not REGISTER
	"rfc4475/lwsdisp.dat":    accept(0),
	"rfc4475/longreq.dat":    accept(0),
	"rfc4475/dblreq.dat":     acceptReg(405, 0), // trailing INVITE cut off
	"rfc4475/semiuri.dat":    accept(0),
	"rfc4475/transports.dat": accept(0),
	"rfc4475/mpart01.dat":    accept(0),
	"rfc4475/unreason.dat":   response(true),
	"rfc4475/noreason.dat":   response(true),
	// RFC 4475 3.1.2: invalid messages.
	"rfc4475/badinv01.dat":   reply(400),
	"rfc4475/clerr.dat":      reply(400),
	"rfc4475/ncl.dat":        reply(400),
	"rfc4475/scalar02.dat":   reply(400),
	"rfc4475/scalarlg.dat":   drop,
	"rfc4475/quotbal.dat":    reply(400),
	"rfc4475/ltgtruri.dat":   reply(400),
	"rfc4475/lwsruri.dat":    reply(400),
	"rfc4475/lwsstart.dat":   reply(400),
	"rfc4475/trws.dat":       reply(400),
	"rfc4475/escruri.dat":    accept(400),
	"rfc4475/baddate.dat":    accept(0), // Date is not used: ignored
	"rfc4475/regbadct.dat":   reply(400),
	"rfc4475/badaspec.dat":   reply(400),
	"rfc4475/baddn.dat":      reply(400),
	"rfc4475/badvers.dat":    accept(505),
	"rfc4475/mismatch01.dat": accept(400),
	"rfc4475/mismatch02.dat": accept(501),
	"rfc4475/bigcode.dat":    drop,
	// RFC 4475 3.2-3.4: transaction and application layer, compatibility.
	"rfc4475/badbranch.dat": accept(0), // sipgo falls back to RFC 2543 matching
	"rfc4475/insuf.dat":     accept(400),
	"rfc4475/unkscm.dat":    accept(416),
	"rfc4475/novelsc.dat":   reply(416), // sipgo cannot parse "soap.beep:"
	"rfc4475/unksm2.dat":    acceptReg(405, 400),
	"rfc4475/bext01.dat":    accept(420),
	"rfc4475/invut.dat":     accept(415),
	"rfc4475/regaut01.dat":  acceptReg(405, 0),
	"rfc4475/multi01.dat":   accept(400),
	"rfc4475/mcl01.dat":     reply(400),
	"rfc4475/bcast.dat":     response(false),
	"rfc4475/zeromf.dat":    accept(0),
	"rfc4475/cparam01.dat":  acceptReg(405, 0),
	"rfc4475/cparam02.dat":  acceptReg(405, 0),
	"rfc4475/regescrt.dat":  acceptReg(405, 0),
	"rfc4475/sdp01.dat":     accept(406),
	"rfc4475/inv2543.dat":   accept(0),
	"rfc4475/test.dat":      drop, // no Via, no CSeq: nothing to answer

	// RFC 5118 archive bytes: bare LF line ends, rejected.
	"rfc5118/ipv6-good.dat":                          reply(400),
	"rfc5118/ipv6-bad.dat":                           reply(400),
	"rfc5118/port-ambiguous.dat":                     reply(400),
	"rfc5118/port-unambiguous.dat":                   reply(400),
	"rfc5118/via-received-param-with-delim.dat":      reply(400),
	"rfc5118/via-received-param-no-delim.dat":        reply(400),
	"rfc5118/ipv6-in-sdp.dat":                        reply(400),
	"rfc5118/mult-ip-in-header.dat":                  reply(400),
	"rfc5118/mult-ip-in-sdp.dat":                     reply(400),
	"rfc5118/ipv4-mapped-ipv6.dat":                   reply(400),
	"rfc5118/ipv6-bug-abnf-3-colons.dat":             reply(400),
	"rfc5118/ipv6-correct-abnf-2-colons.dat":         reply(400),
	"rfc5118/crlf/ipv6-good.dat":                     acceptReg(405, 0),
	"rfc5118/crlf/ipv6-bad.dat":                      reply(400),
	"rfc5118/crlf/port-ambiguous.dat":                acceptReg(405, 0),
	"rfc5118/crlf/port-unambiguous.dat":              acceptReg(405, 0),
	"rfc5118/crlf/via-received-param-with-delim.dat": accept(0),
	"rfc5118/crlf/via-received-param-no-delim.dat":   accept(0),
	"rfc5118/crlf/ipv6-in-sdp.dat":                   reply(400), // Content-Length 268 > 251
	"rfc5118/crlf/mult-ip-in-header.dat":             accept(0),
	"rfc5118/crlf/mult-ip-in-sdp.dat":                accept(0), // cut to Content-Length 181
	"rfc5118/crlf/ipv4-mapped-ipv6.dat":              accept(0), // cut to Content-Length 236
	"rfc5118/crlf/ipv6-bug-abnf-3-colons.dat":        accept(0),
	"rfc5118/crlf/ipv6-correct-abnf-2-colons.dat":    accept(0),
}

func corpusFiles(t *testing.T) []string {
	var files []string
	for _, dir := range []string{"rfc4475", "rfc5118", filepath.Join("rfc5118", "crlf")} {
		m, err := filepath.Glob(filepath.Join(corpusDir, dir, "*.dat"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			rel, _ := filepath.Rel(corpusDir, f)
			files = append(files, filepath.ToSlash(rel))
		}
	}
	return files
}

func TestCorpus(t *testing.T) {
	requireCorpus(t)
	files := corpusFiles(t)
	if len(files) != len(expected) {
		t.Errorf("%d corpus files, %d expectations", len(files), len(expected))
	}
	seen := map[string]bool{}
	for _, name := range files {
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			want, ok := expected[name]
			if !ok {
				t.Fatalf("no expectation for %s", name)
			}
			data, err := os.ReadFile(filepath.Join(corpusDir, filepath.FromSlash(name)))
			if err != nil {
				t.Fatal(err)
			}
			checkOutcome(t, data, want)
		})
	}
	for name := range expected {
		if !seen[name] {
			t.Errorf("expected file %s missing from the corpus", name)
		}
	}
}

func checkOutcome(t *testing.T, data []byte, want outcome) {
	t.Helper()
	msg, rep, v := Datagram(data)
	if v != want.verdict {
		t.Fatalf("verdict %v, want %v (reply %q)", v, want.verdict, firstLine(rep))
	}
	switch v {
	case Reply:
		if msg != nil {
			t.Errorf("Reply with a message")
		}
		res := parseResponse(t, rep)
		checkReason(t, res.Reason)
		if res.StatusCode != want.code {
			t.Errorf("reply %q, want status %d", res.StartLine(), want.code)
		}
		checkReplyMatches(t, data, res)
		if _, rep2, _ := Datagram(data); !bytes.Equal(rep, rep2) {
			t.Errorf("reply differs for a retransmission")
		}
	case Accept:
		if rep != nil {
			t.Errorf("Accept with a reply")
		}
		m, err := sip.ParseMessage(msg)
		if err != nil {
			t.Fatalf("accepted message does not parse: %v", err)
		}
		switch m := m.(type) {
		case *sip.Request:
			for _, c := range []struct {
				opts RequestOptions
				want int
			}{{endpointOpts, want.code}, {registrarOpts, want.reg}} {
				code, reason := Request(m, c.opts)
				if code != c.want {
					t.Errorf("Request = %d %q, want %d (allowed %v)", code, reason, c.want, c.opts.AllowedMethods)
				}
				if code != 0 {
					checkErrorResponse(t, m, code, reason, c.opts)
				}
			}
		case *sip.Response:
			if got := Response(m); got != want.keep {
				t.Errorf("Response = %v, want %v", got, want.keep)
			}
		}
	default:
		if msg != nil || rep != nil {
			t.Errorf("%v with message or reply", v)
		}
	}
}

// checkReason checks RFC 3261 25.1 reason-phrase = *(reserved / unreserved
// / escaped / UTF8-NONASCII / UTF8-CONT / SP / HTAB) for our ASCII phrases.
func checkReason(t *testing.T, r string) {
	t.Helper()
	for _, c := range []byte(r) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte(";/?:@&=+$,-_.!~*'() \t%", c) >= 0) {
			t.Errorf("reason phrase %q: %q not allowed", r, c)
			return
		}
	}
}

func firstLine(b []byte) string {
	l, _, _ := bytes.Cut(b, []byte("\r\n"))
	return string(l)
}

func parseResponse(t *testing.T, b []byte) *sip.Response {
	t.Helper()
	m, err := sip.ParseMessage(b)
	if err != nil {
		t.Fatalf("reply does not parse: %v\n%s", err, b)
	}
	res, ok := m.(*sip.Response)
	if !ok {
		t.Fatalf("reply is not a response:\n%s", b)
	}
	return res
}

// checkReplyMatches checks that a Datagram reply answers the request in
// data: same Call-ID, as many Via values, the top Via's branch, the CSeq
// method, a To tag.
func checkReplyMatches(t *testing.T, data []byte, res *sip.Response) {
	t.Helper()
	_, hs := splitMessage(data)
	var callID, cseq string
	vias := 0
	for _, h := range hs {
		switch h.lname {
		case "call-id":
			if callID == "" {
				callID = h.value
			}
		case "cseq":
			if cseq == "" {
				cseq = h.value
			}
		case "via":
			vias += len(strings.Split(h.value, ","))
		}
	}
	if got := res.CallID().Value(); got != callID {
		t.Errorf("reply Call-ID %q, want %q", got, callID)
	}
	if got := len(res.GetHeaders("Via")); got == 0 || got > vias {
		t.Errorf("reply has %d Via values, request %d", got, vias)
	}
	if f := strings.Fields(cseq); len(f) == 2 && string(res.CSeq().MethodName) != f[1] {
		t.Errorf("reply CSeq %q, request %q", res.CSeq().Value(), cseq)
	}
	if !res.To().Params.Has("tag") {
		t.Errorf("reply To without tag: %q", res.To().Value())
	}
}

func checkErrorResponse(t *testing.T, req *sip.Request, code int, reason string, opts RequestOptions) {
	t.Helper()
	res := ErrorResponse(req, code, reason, opts)
	res2 := parseResponse(t, []byte(res.String()))
	checkReason(t, res2.Reason)
	if res2.StatusCode != code || res2.SipVersion != "SIP/2.0" {
		t.Errorf("ErrorResponse start line %q", res2.StartLine())
	}
	need := map[int]string{405: "Allow", 501: "Allow", 420: "Unsupported", 415: "Accept", 406: "Warning"}[code]
	if need != "" && res2.GetHeader(need) == nil {
		t.Errorf("%d response without %s:\n%s", code, need, res)
	}
}

// TestCorpusDetails checks what the INDEX says beyond the verdicts.
func TestCorpusDetails(t *testing.T) {
	requireCorpus(t)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(corpusDir, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	parse := func(name string) *sip.Request {
		msg, _, v := Datagram(read(name))
		if v != Accept {
			t.Fatalf("%s: %v", name, v)
		}
		m, err := sip.ParseMessage(msg)
		if err != nil {
			t.Fatal(err)
		}
		return m.(*sip.Request)
	}

	// dblreq: the REGISTER is processed, the trailing INVITE ignored.
	data := read("rfc4475/dblreq.dat")
	msg, _, _ := Datagram(data)
	if bytes.Contains(msg, []byte("INVITE")) || !bytes.HasSuffix(msg, []byte("\r\n\r\n")) {
		t.Errorf("dblreq not cut at Content-Length 0: %q", msg[len(msg)-20:])
	}
	// mpart01: binary body framed by Content-Length.
	if n := len(parse("rfc4475/mpart01.dat").Body()); n != 553 {
		t.Errorf("mpart01 body %d octets, want 553", n)
	}
	// RFC 5118: Content-Length smaller than the CRLF body is honoured.
	for name, n := range map[string]int{"rfc5118/crlf/mult-ip-in-sdp.dat": 181, "rfc5118/crlf/ipv4-mapped-ipv6.dat": 236} {
		if got := len(parse(name).Body()); got != n {
			t.Errorf("%s body %d octets, want %d", name, got, n)
		}
	}
	// Parsing facts the INDEX lists (what sipgo makes of the accepted bytes).
	if req := parse("rfc4475/wsinv.dat"); *req.MaxForwards() != 68 || req.CSeq().SeqNo != 9 {
		t.Errorf("wsinv: Max-Forwards %v, CSeq %v", req.MaxForwards(), req.CSeq())
	}
	if req := parse("rfc4475/semiuri.dat"); req.Recipient.User != "user;par=u%40example.net" {
		t.Errorf("semiuri: user part %q", req.Recipient.User)
	}
	if req := parse("rfc4475/esc02.dat"); len(req.GetHeaders("Contact")) != 2 || req.Method == sip.REGISTER {
		t.Errorf("esc02: %d Contact values, method %s", len(req.GetHeaders("Contact")), req.Method)
	}
	if c := parse("rfc4475/cparam01.dat").Contact(); !c.Params.Has("unknownparam") || c.Address.UriParams.Has("unknownparam") {
		t.Errorf("cparam01: unknownparam must be a contact-param: %s", c.Value())
	}
	if c := parse("rfc4475/cparam02.dat").Contact(); c.Params.Has("unknownparam") || !c.Address.UriParams.Has("unknownparam") {
		t.Errorf("cparam02: unknownparam must be a URI parameter: %s", c.Value())
	}
	if u := parse("rfc5118/crlf/port-ambiguous.dat").Recipient; u.Host != "[2001:db8::10:5070]" || u.Port != 0 {
		t.Errorf("port-ambiguous: host %q port %d", u.Host, u.Port)
	}
	if u := parse("rfc5118/crlf/port-unambiguous.dat").Recipient; u.Host != "[2001:db8::10]" || u.Port != 5070 {
		t.Errorf("port-unambiguous: host %q port %d", u.Host, u.Port)
	}
	if v, _ := parse("rfc5118/crlf/via-received-param-with-delim.dat").Via().Params.Get("received"); v != "[2001:db8::9:255]" {
		t.Errorf("via-received-param-with-delim: received=%q", v)
	}

	// scalar02: once the CSeq (which sipgo rejects) is in range, each other
	// overlarge scalar still gets a 400 from Request.
	b := bytes.Replace(read("rfc4475/scalar02.dat"), []byte("36893488147419103232"), []byte("1"), 1)
	for _, fix := range []struct{ old, new, reason string }{
		{"Max-Forwards: 300", "Max-Forwards: 70", "Max-Forwards"},
		{"Expires: 1000000000000000", "Expires: 3600\r\nX: 1", "Expires"},
		{";expires=280297596632815", ";expires=3600", "Contact expires"},
		{"", "", ""},
	} {
		msg, _, v := Datagram(b)
		if v != Accept {
			t.Fatalf("scalar02 variant: %v", v)
		}
		m, err := sip.ParseMessage(msg)
		if err != nil {
			t.Fatal(err)
		}
		code, reason := Request(m.(*sip.Request), registrarOpts)
		if fix.reason == "" {
			if code != 0 {
				t.Errorf("scalar02 with all fields fixed: %d %s", code, reason)
			}
			break
		}
		if code != 400 || !strings.Contains(reason, fix.reason) {
			t.Errorf("scalar02 variant: %d %q, want 400 (%s)", code, reason, fix.reason)
		}
		b = bytes.Replace(b, []byte(fix.old), []byte(fix.new), 1)
	}

	// bext01: 420 lists exactly the Require tags (not Proxy-Require's).
	req := parse("rfc4475/bext01.dat")
	code, reason := Request(req, endpointOpts)
	res := ErrorResponse(req, code, reason, endpointOpts)
	if got := res.GetHeader("Unsupported").Value(); got != "nothingSupportsThis, nothingSupportsThisEither" {
		t.Errorf("bext01 Unsupported: %q", got)
	}
	// intmeth: 501 with Allow.
	req = parse("rfc4475/intmeth.dat")
	code, reason = Request(req, endpointOpts)
	res = ErrorResponse(req, code, reason, endpointOpts)
	if h := res.GetHeader("Allow"); h == nil || !strings.Contains(h.Value(), "INVITE") {
		t.Errorf("intmeth 501 without Allow:\n%s", res)
	}
	// badvers: the 505 itself is SIP/2.0.
	req = parse("rfc4475/badvers.dat")
	code, reason = Request(req, endpointOpts)
	if res = ErrorResponse(req, code, reason, endpointOpts); !strings.HasPrefix(res.String(), "SIP/2.0 505 ") {
		t.Errorf("badvers: %q", res.StartLine())
	}
	// Replies name the problem.
	for name, detail := range map[string]string{
		"rfc4475/clerr.dat":     "Content-Length larger than datagram",
		"rfc4475/ncl.dat":       "negative Content-Length",
		"rfc4475/mcl01.dat":     "conflicting Content-Length",
		"rfc4475/regbadct.dat":  "'?'",
		"rfc4475/baddn.dat":     "display name",
		"rfc4475/quotbal.dat":   "unterminated",
		"rfc4475/scalar02.dat":  "CSeq",
		"rfc4475/badinv01.dat":  "Via",
		"rfc5118/ipv6-good.dat": "bare LF",
	} {
		_, rep, _ := Datagram(read(name))
		if l := firstLine(rep); !strings.Contains(l, detail) {
			t.Errorf("%s: reply %q does not name %q", name, l, detail)
		}
	}
}

func TestDatagramKeepAlive(t *testing.T) {
	for _, d := range []string{"", "\r\n", "\r\n\r\n", "\n", "\x00\x00\x00\x00"} {
		if msg, rep, v := Datagram([]byte(d)); v != Ignore || msg != nil || rep != nil {
			t.Errorf("%q: %v", d, v)
		}
	}
	for _, d := range []string{" ", "\x00\x01\x00\x08\x21\x12\xa4\x42abcdefghijkl"} { // STUN
		if _, _, v := Datagram([]byte(d)); v != Drop {
			t.Errorf("%q: %v, want Drop", d, v)
		}
	}
}

const options = "OPTIONS sip:bob@example.com SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n" +
	"Max-Forwards: 70\r\n" +
	"To: Bob <sip:bob@example.com>\r\n" +
	"From: Alice <sip:alice@example.com>;tag=1928301774\r\n" +
	"Call-ID: a84b4c76e66710@pc33.example.com\r\n" +
	"CSeq: 63104 OPTIONS\r\n"

func TestDatagramSynthetic(t *testing.T) {
	tests := []struct {
		name   string
		data   string
		want   Verdict
		code   int    // reply status
		detail string // in the reply's status line
	}{
		{"ok", options + "Content-Length: 0\r\n\r\n", Accept, 0, ""},
		{"no Content-Length", options + "\r\n", Accept, 0, ""},
		{"leading CRLF", "\r\n\r\n" + options + "\r\n", Accept, 0, ""},
		{"same Content-Length twice", options + "Content-Length: 4\r\nl: 0004\r\n\r\nabcd", Accept, 0, ""},
		{"folded Content-Length", options + "Content-Length:\r\n 4\r\n\r\nabcdef", Accept, 0, ""},
		{"non-numeric Content-Length", options + "Content-Length: 12a\r\n\r\n", Reply, 400, "malformed Content-Length"},
		{"huge Content-Length", options + "Content-Length: 99999999999999999999999\r\n\r\n", Reply, 400, "larger than datagram"},
		{"empty Content-Length", options + "Content-Length:\r\n\r\n", Reply, 400, "malformed Content-Length"},
		{"bare CR", options + "Foo: a\rb\r\n\r\n", Reply, 400, "bare CR"},
		{"LF inside header section", options + "Foo: a\nBar: b\r\n\r\n", Reply, 400, "bare"},
		{"no empty line", options + "Content-Length: 0\r\n", Reply, 400, "no empty line"},
		{"header without colon", options + "Foobar roobar\r\n\r\n", Reply, 400, "colon"},
		{"Max-Forwards overflow", strings.Replace(options, "70", "4294967296", 1) + "\r\n", Reply, 400, "Max-Forwards"},
		{"CSeq above 2^31-1", strings.Replace(options, "63104", "3000000000", 1) + "\r\n", Reply, 400, "2147483647"},
		{"two From values", strings.Replace(options, ";tag=1928301774", ";tag=1, <sip:eve@example.com>", 1) + "\r\n", Reply, 400, "several values"},
		{"unbracketed comma", strings.Replace(options, "Bob <sip:bob@example.com>", "sip:bob,x@example.com", 1) + "\r\n", Reply, 400, "','"},
		{"junk after >", strings.Replace(options, "<sip:bob@example.com>", "<sip:bob@example.com>x", 1) + "\r\n", Reply, 400, "after the URI"},
		{"quote in unquoted name", strings.Replace(options, "Bob <", `B"ob <`, 1) + "\r\n", Reply, 400, "display name"},
		{"Contact star", options + "Contact: *\r\n\r\n", Accept, 0, ""},
		{"Contact list", options + "Contact: <sip:a@b>;q=0.5, \"x, y\" <sip:c@d>,<sip:e@f>;expires=3\r\n\r\n", Accept, 0, ""},
		// Valid, but sipgo v1.7.2 fails on a bare addr-spec after ", " in a
		// Contact list (it takes " sip" as the scheme): answered 400.
		{"Contact list, bare URI after comma", options + "Contact: <sip:a@b>, sip:e@f\r\n\r\n", Reply, 400, "Contact"},
		{"Contact list with bad element", options + "Contact: <sip:a@b>, sip:c@d?x=y\r\n\r\n", Reply, 400, "'?'"},
		{"UTF-8 unquoted display name", strings.Replace(options, "Bob <", "Bjørn <", 1) + "\r\n", Accept, 0, ""},
		{"lower-case method", strings.Replace(options, "OPTIONS sip", "options sip", 1) + "\r\n", Reply, 501, "case-sensitive"},
		{"tel Request-URI parsed", strings.Replace(options, "sip:bob@example.com SIP", "tel:+15551234 SIP", 1) + "\r\n", Accept, 0, ""},
		{"unparseable scheme", strings.Replace(options, "sip:bob@example.com SIP", "x-1:foo SIP", 1) + "\r\n", Reply, 416, ""},
		{"bad version syntax", strings.Replace(options, "SIP/2.0\r\n", "XIP/2.0\r\n", 1) + "\r\n", Reply, 400, "SIP-Version"},
		{"version 2", strings.Replace(options, "SIP/2.0\r\n", "SIP/2\r\n", 1) + "\r\n", Accept, 0, ""}, // Request: 505
		{"tab in Request-Line", strings.Replace(options, "OPTIONS sip", "OPTIONS\tsip", 1) + "\r\n", Reply, 400, ""},
		{"malformed ACK", strings.Replace(strings.Replace(options, "OPTIONS", "ACK", 2), "Bob <", "Bob, <", 1) + "\r\n", Drop, 0, ""},
		{"malformed response", "SIP/2.0 200 OK\r\n" + options[strings.Index(options, "Via"):] + "Content-Length: 5\r\n\r\n", Drop, 0, ""},
		{"no Via", strings.Replace(options, "Via:", "X-Via:", 1) + "Content-Length: 9\r\n\r\n", Drop, 0, ""},
		{"unrepairable To", strings.Replace(options, "Bob <sip:bob@example.com>", `"Bob`, 1) + "\r\n", Drop, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, rep, v := Datagram([]byte(tt.data))
			if v != tt.want {
				t.Fatalf("verdict %v, want %v (reply %q)", v, tt.want, firstLine(rep))
			}
			switch v {
			case Accept:
				if _, err := sip.ParseMessage(msg); err != nil {
					t.Errorf("accepted message does not parse: %v", err)
				}
			case Reply:
				res := parseResponse(t, rep)
				checkReason(t, res.Reason)
				if res.StatusCode != tt.code || !strings.Contains(res.Reason, tt.detail) {
					t.Errorf("reply %q, want %d (%s)", res.StartLine(), tt.code, tt.detail)
				}
				checkReplyMatches(t, []byte(tt.data), res)
			}
		})
	}
}

func parseRequest(t *testing.T, s string) *sip.Request {
	t.Helper()
	m, err := sip.ParseMessage([]byte(s))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, s)
	}
	return m.(*sip.Request)
}

const invite = "INVITE sip:bob@example.com SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n" +
	"Max-Forwards: 70\r\n" +
	"To: Bob <sip:bob@example.com>\r\n" +
	"From: Alice <sip:alice@example.com>;tag=1928301774\r\n" +
	"Call-ID: a84b4c76e66710@pc33.example.com\r\n" +
	"CSeq: 314159 INVITE\r\n" +
	"Contact: <sip:alice@192.0.2.1>\r\n"

const sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n"

func TestRequestSynthetic(t *testing.T) {
	withSDP := func(extra string) string {
		return invite + extra + "Content-Type: application/sdp\r\n\r\n" + sdp
	}
	tests := []struct {
		name string
		msg  string
		opts RequestOptions
		code int
	}{
		{"ok", withSDP(""), endpointOpts, 0},
		{"late offer", invite + "\r\n", endpointOpts, 0},
		{"Max-Forwards 256", strings.Replace(invite, "70", "256", 1) + "\r\n", endpointOpts, 400},
		{"two Max-Forwards", invite + "Max-Forwards: 70\r\n\r\n", endpointOpts, 400},
		{"Expires overflow", invite + "Expires: 4294967296\r\n\r\n", endpointOpts, 400},
		{"Expires max", invite + "Expires: 4294967295\r\n\r\n", endpointOpts, 0},
		{"Expires junk", invite + "Expires: soon\r\n\r\n", endpointOpts, 400},
		{"Contact expires with LWS", strings.Replace(invite, "192.0.2.1>", "192.0.2.1> ; expires = 99999999999", 1) + "\r\n", endpointOpts, 400},
		{"Contact expires overflow", strings.Replace(invite, "192.0.2.1>", "192.0.2.1>;expires=99999999999", 1) + "\r\n", endpointOpts, 400},
		{"no Via", strings.Replace(invite, "Via:", "X-Via:", 1) + "\r\n", endpointOpts, 400},
		{"two CSeq", invite + "CSeq: 2 INVITE\r\n\r\n", endpointOpts, 400},
		{"no Max-Forwards (RFC 2543)", strings.Replace(invite, "Max-Forwards: 70\r\n", "", 1) + "\r\n", endpointOpts, 0},
		{"SIP/2.1", strings.Replace(invite, "SIP/2.0\r\n", "SIP/2.1\r\n", 1) + "\r\n", endpointOpts, 505},
		{"CSeq method lower case", strings.Replace(invite, "314159 INVITE", "314159 invite", 1) + "\r\n", endpointOpts, 400},
		{"CSeq method other", strings.Replace(invite, "314159 INVITE", "314159 BYE", 1) + "\r\n", endpointOpts, 400},
		{"REGISTER at endpoint", strings.Replace(strings.Replace(invite, "INVITE", "REGISTER", 2), "sip:bob@", "sip:", 1) + "\r\n", endpointOpts, 405},
		{"REGISTER at registrar", strings.Replace(strings.Replace(invite, "INVITE", "REGISTER", 2), "sip:bob@", "sip:", 1) + "\r\n", registrarOpts, 0},
		{"unknown method", strings.Replace(invite, "INVITE", "FOO", 2) + "\r\n", endpointOpts, 501},
		{"no method list", strings.Replace(invite, "INVITE", "FOO", 2) + "\r\n", RequestOptions{}, 0},
		{"tel Request-URI", strings.Replace(invite, "sip:bob@example.com SIP", "tel:+15551234 SIP", 1) + "\r\n", endpointOpts, 416},
		{"sips Request-URI", strings.Replace(invite, "sip:bob@example.com SIP", "sips:bob@example.com SIP", 1) + "\r\n", endpointOpts, 0},
		{"Require supported", invite + "Require: 100rel\r\n\r\n", endpointOpts, 0},
		{"Require unsupported", invite + "Require: 100rel, foo\r\n\r\n", endpointOpts, 420},
		{"Require on CANCEL", strings.Replace(invite, "INVITE", "CANCEL", 2) + "Require: foo\r\n\r\n", endpointOpts, 0},
		{"Proxy-Require ignored", invite + "Proxy-Require: foo\r\n\r\n", endpointOpts, 0},
		{"body without Content-Type", invite + "\r\n" + sdp, endpointOpts, 400},
		{"Content-Type with params", invite + "Content-Type: Application/SDP ; charset=utf-8\r\n\r\n" + sdp, endpointOpts, 0},
		{"Content-Type with LWS", invite + "Content-Type: application / sdp\r\n\r\n" + sdp, endpointOpts, 0},
		{"unknown Content-Type", invite + "Content-Type: text/html\r\n\r\n" + sdp, endpointOpts, 415},
		{"unknown Content-Type optional", invite + "Content-Disposition: session;handling=optional\r\nContent-Type: text/html\r\n\r\n" + sdp, endpointOpts, 0},
		{"Content-Encoding gzip", withSDP("Content-Encoding: gzip\r\n"), endpointOpts, 415},
		{"Content-Encoding identity", withSDP("Content-Encoding: identity\r\n"), endpointOpts, 0},
		{"MESSAGE text/html", strings.Replace(invite, "INVITE", "MESSAGE", 2) + "Content-Type: text/html\r\n\r\n<p>hi</p>", endpointOpts, 0},
		{"Accept application/*", withSDP("Accept: text/plain, application/*\r\n"), endpointOpts, 0},
		{"Accept */* q=0", withSDP("Accept: */*;q=0\r\n"), endpointOpts, 406},
		{"Accept sdp q=0.0", withSDP("Accept: application/sdp;q=0.0\r\n"), endpointOpts, 406},
		{"Accept empty", withSDP("Accept: \r\n"), endpointOpts, 406},
		{"Accept on OPTIONS", strings.Replace(invite, "INVITE", "OPTIONS", 2) + "Accept: text/plain\r\n\r\n", endpointOpts, 0},
		{"R-URI headers", strings.Replace(invite, "sip:bob@example.com SIP", "sip:bob@example.com?Subject=x SIP", 1) + "\r\n", endpointOpts, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := parseRequest(t, tt.msg)
			code, reason := Request(req, tt.opts)
			if code != tt.code {
				t.Fatalf("Request = %d %q, want %d", code, reason, tt.code)
			}
			if code != 0 {
				checkErrorResponse(t, req, code, reason, tt.opts)
			}
		})
	}
	if code, _ := Request(nil, endpointOpts); code != 400 {
		t.Errorf("Request(nil) = %d", code)
	}
}

func TestResponseSynthetic(t *testing.T) {
	base := "SIP/2.0 200 OK\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n" +
		"To: Bob <sip:bob@example.com>;tag=a6c85cf\r\n" +
		"From: Alice <sip:alice@example.com>;tag=1928301774\r\n" +
		"Call-ID: a84b4c76e66710@pc33.example.com\r\n" +
		"CSeq: 314159 INVITE\r\n"
	tests := []struct {
		name string
		msg  string
		keep bool
	}{
		{"ok", base + "\r\n", true},
		{"Retry-After with comment", base + "Retry-After: 18000;duration=3600 (lunch)\r\n\r\n", true},
		{"Retry-After overflow", base + "Retry-After: 4294967296\r\n\r\n", false},
		{"Warning ok", base + "Warning: 301 isi.edu \"Incompatible, network\", 307 isi.edu \"x\"\r\n\r\n", true},
		{"Warning 4 digits", base + "Warning: 1812 overture \"In Progress\"\r\n\r\n", false},
		{"two Via", base + "Via: SIP/2.0/UDP 192.0.2.2\r\n\r\n", false},
		{"no Call-ID", strings.Replace(base, "Call-ID", "X-Call-ID", 1) + "\r\n", false},
		{"status 700", strings.Replace(base, "200 OK", "700 Huh", 1) + "\r\n", false},
		{"status 99", strings.Replace(base, "200 OK", "99 Huh", 1) + "\r\n", false},
		{"SIP/3.0", strings.Replace(base, "SIP/2.0 200", "SIP/3.0 200", 1) + "\r\n", false},
		{"Expires overflow", base + "Expires: 4294967296\r\n\r\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := sip.ParseMessage([]byte(tt.msg))
			if err != nil {
				t.Fatal(err)
			}
			if got := Response(m.(*sip.Response)); got != tt.keep {
				t.Errorf("Response = %v, want %v", got, tt.keep)
			}
		})
	}
	if Response(nil) {
		t.Error("Response(nil) = true")
	}
}

func FuzzDatagram(f *testing.F) {
	for _, s := range []string{
		options + "Content-Length: 0\r\n\r\n",
		invite + "Content-Type: application/sdp\r\nContent-Length: 10\r\n\r\n" + sdp,
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nl: 0\r\n\r\n",
		"\r\n\r\n",
		options + "Content-Length: -1\r\n\r\n",
		options + "To: \"x <sip:a@b>\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	for _, dir := range []string{"rfc4475", "rfc5118", filepath.Join("rfc5118", "crlf")} {
		files, _ := filepath.Glob(filepath.Join(corpusDir, dir, "*.dat"))
		for _, name := range files {
			if b, err := os.ReadFile(name); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, rep, v := Datagram(data)
		switch v {
		case Accept:
			if rep != nil || len(msg) == 0 {
				t.Fatalf("Accept: msg %q reply %q", msg, rep)
			}
			if !bytes.Contains(data, msg) {
				if d := onlyFromToDiffer(data, msg); d != "" {
					t.Fatalf("Accept: rewritten beyond From/To (%s): msg %q", d, msg)
				}
			}
			m, err := sip.ParseMessage(msg)
			if err != nil {
				t.Fatalf("accepted message does not parse: %v", err)
			}
			switch m := m.(type) {
			case *sip.Request:
				if code, reason := Request(m, endpointOpts); code != 0 {
					_ = ErrorResponse(m, code, reason, endpointOpts).String()
				}
			case *sip.Response:
				Response(m)
			}
		case Reply:
			if msg != nil {
				t.Fatal("Reply with a message")
			}
			m, err := sip.ParseMessage(rep)
			if err != nil {
				t.Fatalf("reply does not parse: %v\n%q", err, rep)
			}
			res, ok := m.(*sip.Response)
			if !ok || res.StatusCode < 400 || res.StatusCode > 599 {
				t.Fatalf("reply is not a 4xx/5xx response: %q", rep)
			}
			checkReason(t, res.Reason)
		case Drop, Ignore:
			if msg != nil || rep != nil {
				t.Fatalf("%v with message or reply", v)
			}
		default:
			t.Fatalf("verdict %v", v)
		}
	})
}

var benchInvite = []byte(invite + "Content-Type: application/sdp\r\nContent-Length: 129\r\n\r\n" + sdp)

func BenchmarkDatagram(b *testing.B) {
	data := fixLength(benchInvite)
	if _, _, v := Datagram(data); v != Accept {
		b.Fatalf("benchmark INVITE: %v", v)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		Datagram(data)
	}
}

// BenchmarkParseSIP is the baseline: sipgo's parse alone.
func BenchmarkParseSIP(b *testing.B) {
	data := fixLength(benchInvite)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := parser.ParseSIP(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawChecks is Datagram without sipgo's parse.
func BenchmarkRawChecks(b *testing.B) {
	data := fixLength(benchInvite)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rawCheck(data)
	}
}

func BenchmarkRequest(b *testing.B) {
	m, err := sip.ParseMessage(fixLength(benchInvite))
	if err != nil {
		b.Fatal(err)
	}
	req := m.(*sip.Request)
	b.ReportAllocs()
	for b.Loop() {
		if code, _ := Request(req, endpointOpts); code != 0 {
			b.Fatal(code)
		}
	}
}

// fixLength sets the Content-Length of a test message to its body length.
func fixLength(msg []byte) []byte {
	head, body, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	lines := strings.Split(string(head), "\r\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "Content-Length:") {
			lines[i] = "Content-Length: " + strconv.Itoa(len(body))
		}
	}
	return []byte(strings.Join(lines, "\r\n") + "\r\n\r\n" + string(body))
}

// onlyFromToDiffer compares the message Datagram accepted, msg, with the
// datagram data it came from: the start line, every header but From and To
// (name, order and value) and the body (msg's is data's cut to
// Content-Length) must be as received. It returns "" or what differs.
func onlyFromToDiffer(data, msg []byte) string {
	for len(data) >= 2 && data[0] == '\r' && data[1] == '\n' {
		data = data[2:]
	}
	sl1, hs1 := splitMessage(data)
	sl2, hs2 := splitMessage(msg)
	if sl1 != sl2 {
		return "start line"
	}
	if len(hs1) != len(hs2) {
		return "header count"
	}
	for i := range hs1 {
		a, b := hs1[i], hs2[i]
		if a.name != b.name {
			return "header name " + a.name
		}
		if a.lname != "from" && a.lname != "to" && a.value != b.value {
			return "header " + a.name
		}
	}
	_, body1, ok1 := bytes.Cut(data, []byte("\r\n\r\n"))
	_, body2, ok2 := bytes.Cut(msg, []byte("\r\n\r\n"))
	if ok1 != ok2 || !bytes.HasPrefix(body1, body2) {
		return "body"
	}
	return ""
}
