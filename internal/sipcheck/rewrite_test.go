package sipcheck

import (
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// rewriteBody looks like From and To lines with LWS around '=': a body is
// never rewritten.
const rewriteBody = "From: <sip:x@y> ; tag = z\r\nTo: sip:a@b ; q = 1\r\n"

// rewriteMsg builds a request with the given top Via parameters, From and
// To values, unrelated headers whose parameters have LWS around '=' and ';'
// (never rewritten), and rewriteBody followed by extra octets after
// Content-Length.
func rewriteMsg(method, via, from, to, extra string) string {
	return method + " sip:bob@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1:5060" + via + "\r\n" +
		"Max-Forwards: 70\r\n" +
		"To: " + to + "\r\n" +
		"From: " + from + "\r\n" +
		"Call-ID: a84b4c76e66710@pc33.example.com\r\n" +
		"CSeq: 63104 " + method + "\r\n" +
		"Contact: <sip:alice@192.0.2.1> ; expires = 60 ;\r\n q = 0.5\r\n" +
		"X-Params: a ; b = c\r\n" +
		"Content-Type: text/plain\r\n" +
		"Content-Length: " + strconv.Itoa(len(rewriteBody)) + "\r\n\r\n" + rewriteBody + extra
}

const (
	cookieBranch = ";branch=z9hG4bK776asdhds"
	alice        = "Alice <sip:alice@example.com>;tag=1928301774"
	bob          = "Bob <sip:bob@example.com>"
)

func TestDatagramRewrite(t *testing.T) {
	tests := []struct {
		name             string
		via, from, to    string
		wantFrom, wantTo string // "" = as sent
		verdict          Verdict
		detail           string // in the reply's reason phrase
	}{
		{name: "nothing to rewrite", via: cookieBranch, from: alice, to: bob, verdict: Accept},
		{name: "LWS around = of the From tag", via: cookieBranch, from: "Alice <sip:alice@example.com>;tag = 1928301774", to: bob,
			wantFrom: alice, verdict: Accept},
		{name: "folded LWS around ; and =, display name kept", via: cookieBranch,
			from: "\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8 ;  x=1", to: bob,
			wantFrom: "\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>;tag=98asjd8;x=1", verdict: Accept},
		{name: "bare URI To with LWS before ;", via: cookieBranch, from: alice, to: "\r\n sip:bob@example.com ;   tag    = 1918181833n",
			wantTo: "\r\n sip:bob@example.com;tag=1918181833n", verdict: Accept},
		{name: "tabs", via: cookieBranch, from: "<sip:alice@example.com>\t;\ttag\t=\t1", to: bob,
			wantFrom: "<sip:alice@example.com>;tag=1", verdict: Accept},
		{name: "quoted value kept", via: cookieBranch, from: "<sip:alice@example.com>;x = \"a ; b = c\" ; tag=1", to: bob,
			wantFrom: "<sip:alice@example.com>;x=\"a ; b = c\";tag=1", verdict: Accept},
		{name: "URI parameters untouched", via: cookieBranch, from: "<sip:alice@example.com;user=phone> ; tag=1", to: bob,
			wantFrom: "<sip:alice@example.com;user=phone>;tag=1", verdict: Accept},
		{name: "trailing LWS kept", via: cookieBranch, from: "<sip:alice@example.com>;tag = 1  ", to: bob,
			wantFrom: "<sip:alice@example.com>;tag=1  ", verdict: Accept},
		{name: "compact f and t", via: cookieBranch, from: alice, to: bob, verdict: Accept},

		{name: "tag with inner white space", via: cookieBranch, from: "<sip:alice@example.com>;tag = 98 asjd8", to: bob,
			verdict: Reply, detail: "malformed tag parameter in From"},
		{name: "empty tag", via: cookieBranch, from: "<sip:alice@example.com>;tag=", to: bob,
			verdict: Reply, detail: "malformed tag parameter in From"},
		{name: "tag without value", via: cookieBranch, from: "<sip:alice@example.com>;tag", to: bob,
			verdict: Reply, detail: "malformed tag parameter in From"},
		{name: "quoted tag", via: cookieBranch, from: "<sip:alice@example.com>;tag=\"x\"", to: bob,
			verdict: Reply, detail: "malformed tag parameter in From"},
		{name: "upper-case TAG with LWS inside", via: cookieBranch, from: "<sip:alice@example.com>;TAG = a b", to: bob,
			verdict: Reply, detail: "malformed tag parameter in From"},
		{name: "To tag not a token", via: cookieBranch, from: alice, to: "<sip:bob@example.com>;tag=a@b",
			verdict: Reply, detail: "malformed tag parameter in To"},

		// RFC 2543: no magic cookie in the top Via branch, From without tag.
		{name: "RFC 2543 From without tag", via: "", from: "<sip:alice@example.com>", to: bob,
			wantFrom: "<sip:alice@example.com>;tag=", verdict: Accept},
		{name: "RFC 2543 bare URI with parameters", via: "", from: "sip:alice@example.com;user=phone", to: bob,
			wantFrom: "sip:alice@example.com;user=phone;tag=", verdict: Accept},
		{name: "RFC 2543 branch without cookie", via: ";branch=390skdjuw", from: "<sip:alice@example.com>", to: bob,
			wantFrom: "<sip:alice@example.com>;tag=", verdict: Accept},
		{name: "bare cookie branch", via: ";branch=z9hG4bK", from: "<sip:alice@example.com>", to: bob,
			wantFrom: "<sip:alice@example.com>;tag=", verdict: Accept},
		{name: "RFC 2543 normalised and tagged", via: "", from: "<sip:alice@example.com> ; x = 1  ", to: bob,
			wantFrom: "<sip:alice@example.com>;x=1;tag=  ", verdict: Accept},
		{name: "RFC 2543 From with tag", via: "", from: alice, to: bob, verdict: Accept},
		{name: "RFC 3261 branch, From without tag", via: cookieBranch, from: "<sip:alice@example.com>", to: bob, verdict: Accept},
	}
	for _, tt := range tests {
		for _, method := range []string{"OPTIONS", "MESSAGE"} {
			t.Run(tt.name+"/"+method, func(t *testing.T) {
				data := rewriteMsg(method, tt.via, tt.from, tt.to, "surplus")
				if tt.name == "compact f and t" {
					data = strings.Replace(strings.Replace(data, "\r\nTo: ", "\r\nt: ", 1), "\r\nFrom: ", "\r\nf: ", 1)
				}
				in := []byte(data)
				msg, rep, v := Datagram(in)
				if v != tt.verdict {
					t.Fatalf("verdict %v, want %v (reply %q)", v, tt.verdict, firstLine(rep))
				}
				if v == Reply {
					res := parseResponse(t, rep)
					checkReason(t, res.Reason)
					if res.StatusCode != 400 || !strings.Contains(res.Reason, tt.detail) {
						t.Errorf("reply %q, want 400 (%s)", res.StartLine(), tt.detail)
					}
					checkReplyMatches(t, in, res)
					return
				}
				wantFrom, wantTo := tt.from, tt.to
				if tt.wantFrom != "" {
					wantFrom = tt.wantFrom
				}
				if tt.wantTo != "" {
					wantTo = tt.wantTo
				}
				want := strings.TrimSuffix(rewriteMsg(method, tt.via, wantFrom, wantTo, "surplus"), "surplus")
				if tt.name == "compact f and t" {
					want = strings.Replace(strings.Replace(want, "\r\nTo: ", "\r\nt: ", 1), "\r\nFrom: ", "\r\nf: ", 1)
				}
				if string(msg) != want {
					t.Fatalf("message\n%q\nwant\n%q", msg, want)
				}
				if wantFrom == tt.from && wantTo == tt.to && &msg[0] != &in[0] {
					t.Errorf("unchanged message copied instead of aliasing the datagram")
				}
				m, err := sip.ParseMessage(msg)
				if err != nil {
					t.Fatalf("rewritten message does not parse: %v", err)
				}
				if code, reason := Request(m.(*sip.Request), endpointOpts); code != 0 {
					t.Errorf("Request = %d %s", code, reason)
				}
				if _, err := sip.ServerTxKeyMake(m); err != nil {
					t.Errorf("sipgo makes no transaction key: %v", err)
				}
			})
		}
	}
}

// TestDatagramRewriteResponse: responses get the parameter normalisation
// (a To tag with LWS around '=' is read), never a tag or a rejection.
func TestDatagramRewriteResponse(t *testing.T) {
	base := "SIP/2.0 200 OK\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n" +
		"To: TO\r\n" +
		"From: <sip:alice@example.com>\r\n" +
		"Call-ID: a84b4c76e66710@pc33.example.com\r\n" +
		"CSeq: 314159 INVITE\r\n" +
		"Content-Length: 0\r\n\r\n"
	for _, tt := range []struct{ to, want string }{
		{"Bob <sip:bob@example.com> ; tag = a6c85cf", "Bob <sip:bob@example.com>;tag=a6c85cf"},
		{"<sip:bob@example.com>;tag = a b", "<sip:bob@example.com>;tag=a b"},
		{"<sip:bob@example.com>;tag=a6c85cf", "<sip:bob@example.com>;tag=a6c85cf"},
	} {
		msg, _, v := Datagram([]byte(strings.Replace(base, "TO", tt.to, 1)))
		if want := strings.Replace(base, "TO", tt.want, 1); v != Accept || string(msg) != want {
			t.Errorf("To %q: %v %q, want %q", tt.to, v, msg, want)
		}
	}
}

// TestRestoreFromTag: the empty From tag added to an RFC 2543 request keys
// its transaction, so that the retransmission and the ACK match it; removed
// again, the From is as sent.
func TestRestoreFromTag(t *testing.T) {
	const from = "<sip:alice@example.com;user=phone>"
	parsed := func(s string) *sip.Request {
		t.Helper()
		msg, rep, v := Datagram([]byte(s))
		if v != Accept {
			t.Fatalf("%v %q", v, firstLine(rep))
		}
		return parseRequest(t, string(msg))
	}
	invite := rewriteMsg("INVITE", "", from, bob, "")
	req := parsed(invite)
	key, err := sip.ServerTxKeyMake(req)
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := sip.ServerTxKeyMake(parsed(invite)); k != key {
		t.Errorf("retransmission key %q, want %q", k, key)
	}
	ack := rewriteMsg("ACK", "", from, bob+";tag=uas1", "")
	if k, err := sip.ServerTxKeyMake(parsed(ack)); k != key {
		t.Errorf("ACK key %q (%v), want %q", k, err, key)
	}

	if !RestoreFromTag(req) {
		t.Fatal("RestoreFromTag found no tag to remove")
	}
	if got := req.From().Value(); got != from {
		t.Errorf("restored From %q, want %q", got, from)
	}
	res := sip.NewResponseFromRequest(req, 486, "Busy Here", nil)
	if got := res.From().Value(); got != from {
		t.Errorf("response From %q, want %q", got, from)
	}
	if RestoreFromTag(req) {
		t.Error("RestoreFromTag removed a second tag")
	}
	tagged := parsed(rewriteMsg("INVITE", cookieBranch, alice, bob, ""))
	if RestoreFromTag(tagged) || tagged.From().Value() != "\"Alice\" <sip:alice@example.com>;tag=1928301774" {
		t.Errorf("RestoreFromTag changed a real tag: %q", tagged.From().Value())
	}
	if RestoreFromTag(nil) {
		t.Error("RestoreFromTag(nil)")
	}
}

func TestNormalizeParams(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{";tag=1", ";tag=1"},
		{" ; tag = 1 ", ";tag=1 "}, // trailing LWS: next to neither ';' nor '='

		{";a b=c", ";a b=c"},
		{`;x = "a = b" ; y`, `;x="a = b";y`},
		{`;x = "unterminated ; y = 1`, `;x="unterminated ; y = 1`},
		{"\r\n ;\r\n\ttag\r\n =\r\n 1", ";tag=1"},
	} {
		got, changed := normalizeParams([]byte(tt.in))
		if string(got) != tt.want || changed != (tt.in != tt.want) {
			t.Errorf("normalizeParams(%q) = %q, %v; want %q", tt.in, got, changed, tt.want)
		}
	}
}
