package core

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipsimple-go/sipsimple/internal/interop"
	"github.com/sipsimple-go/sipsimple/notification"
)

// Edge cases of Registration against real peers on 127.0.0.1: SIPp acting
// as a registrar with scripted answers (testdata/sipp/register_*.xml), and
// Kamailio for nonce expiry and TLS.

// regEvents records, in post order, the SIP messages an engine sends and
// receives (SIPEngineSIPTrace) and the notifications of a registration. One
// observer receives both, so when a registration outcome is read every
// message that led to it has been read before it.
type regEvents struct {
	t       *testing.T
	r       *Registration
	ch      chan notification.Notification
	dropped atomic.Int32

	sent     []*sip.Request  // REGISTERs sent, without retransmissions
	received []*sip.Response // responses received, without retransmissions
	outcomes []notification.Notification
	seen     map[string]bool
}

func recordRegistration(t *testing.T, e *Engine, c *notification.Center) *regEvents {
	t.Helper()
	ev := &regEvents{t: t, ch: make(chan notification.Notification, 4096), seen: map[string]bool{}}
	e.SetTrace(true)
	cancel := c.Observe(notification.Any, nil, func(n notification.Notification) {
		select {
		case ev.ch <- n:
		default:
			ev.dropped.Add(1)
		}
	})
	t.Cleanup(cancel)
	return ev
}

// next reads events until a notification of r named name arrives and
// returns it. Any other registration outcome on the way (but
// SIPRegistrationWillExpire) fails the test.
func (ev *regEvents) next(name string) notification.Notification {
	ev.t.Helper()
	deadline := time.NewTimer(20 * time.Second) // a failure bound only
	defer deadline.Stop()
	for {
		select {
		case n := <-ev.ch:
			if ev.dropped.Load() > 0 {
				ev.t.Fatal("the event recorder dropped notifications")
			}
			if n.Name == EngineSIPTrace {
				ev.trace(n)
				continue
			}
			if n.Sender != ev.r || !strings.HasPrefix(n.Name, "SIPRegistration") {
				continue
			}
			ev.outcomes = append(ev.outcomes, n)
			if n.Name == name {
				return n
			}
			if n.Name == RegistrationWillExpire {
				continue
			}
			ev.t.Fatalf("got %s %+v while waiting for %s", n.Name, n.Data, name)
		case <-deadline.C:
			ev.t.Fatalf("no %s within 20s; messages sent: %d, outcomes: %v", name, len(ev.sent), ev.outcomes)
		}
	}
}

func (ev *regEvents) trace(n notification.Notification) {
	d, _ := notification.Data[SIPTraceData](n)
	msg, err := sip.ParseMessage(d.Data)
	if err != nil {
		ev.t.Errorf("unparseable traced message: %v\n%s", err, d.Data)
		return
	}
	// UDP is traced raw, retransmissions included: keep the first copy.
	key := strconv.FormatBool(d.Received) + "\x00" + firstLine(d.Data)
	if via := msg.Via(); via != nil {
		b, _ := via.Params.Get("branch")
		key += "\x00" + b
	}
	if ev.seen[key] {
		return
	}
	ev.seen[key] = true
	switch m := msg.(type) {
	case *sip.Request:
		if !d.Received && m.Method == sip.REGISTER {
			ev.sent = append(ev.sent, m)
		}
	case *sip.Response:
		if d.Received {
			ev.received = append(ev.received, m)
		}
	}
}

// contacts returns the Contact header values of a request.
func contacts(req *sip.Request) []string {
	var out []string
	for _, h := range req.GetHeaders("Contact") {
		out = append(out, splitHeaderList(h.Value())...)
	}
	return out
}

func headerValue(m interface{ GetHeader(string) sip.Header }, name string) string {
	if h := m.GetHeader(name); h != nil {
		return strings.TrimSpace(h.Value())
	}
	return ""
}

// runRegistrar starts SIPp with a registrar scenario of testdata/sipp for
// one registration (one Call-ID) over UDP, or the transport given ("tcp"),
// and returns it with the route to it.
func runRegistrar(t *testing.T, scenario string, transport ...string) (*interop.SIPp, Route) {
	t.Helper()
	tr, sippTransport := "udp", "u1"
	if len(transport) > 0 && transport[0] == "tcp" {
		tr, sippTransport = "tcp", "t1"
	}
	s := interop.RunSIPp(t, interop.SIPpOptions{
		Scenario:      "testdata/sipp/" + scenario,
		Transport:     sippTransport,
		Calls:         1,
		Timeout:       20 * time.Second,
		TraceMessages: true,
	})
	return s, Route{Address: interop.Loopback, Port: s.Port, Transport: tr}
}

// waitSIPp waits for SIPp to end its one call and requires it to have
// succeeded, i.e. every check_it regexp of the scenario matched.
func waitSIPp(t *testing.T, s *interop.SIPp) interop.SIPpResult {
	t.Helper()
	return s.WaitOK(t)
}

func newEdgeRegistration(t *testing.T, e *Engine, cfg RegistrationConfig) *Registration {
	t.Helper()
	if cfg.AOR.Host == "" {
		cfg.AOR = MustParseSIPURI("sip:alice@example.test")
	}
	if cfg.Contact.User == "" {
		cfg.Contact = SIPURI{Scheme: "sip", User: "alice"}
	}
	r, err := e.NewRegistration(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// 423 Interval Too Brief with Min-Expires: 120: the second REGISTER asks
// for 120 s and the registration succeeds with the 120 s granted.
func TestRegistrationEdge423MinExpires(t *testing.T) {
	s, route := runRegistrar(t, "register_423.xml")
	e, c := startEngine(t, EngineConfig{})
	ev := recordRegistration(t, e, c)
	r := newEdgeRegistration(t, e, RegistrationConfig{Expires: 30 * time.Second})
	ev.r = r
	if err := r.Register(route); err != nil {
		t.Fatal(err)
	}
	d, _ := notification.Data[RegistrationDidSucceedData](ev.next(RegistrationDidSucceed))
	if d.Code != 200 || d.Expires != 120*time.Second || d.Route != route {
		t.Fatalf("DidSucceed %+v, want 200 with Expires 120s on %v", d, route)
	}
	if len(ev.sent) != 2 {
		t.Fatalf("%d REGISTERs sent, want 2", len(ev.sent))
	}
	if got := headerValue(ev.sent[0], "Expires"); got != "30" {
		t.Errorf("first REGISTER Expires %q, want 30", got)
	}
	if got := headerValue(ev.sent[1], "Expires"); got != "120" {
		t.Errorf("second REGISTER Expires %q, want 120 (the Min-Expires)", got)
	}
	if len(ev.received) != 2 || ev.received[0].StatusCode != 423 {
		t.Errorf("responses %v, want 423 then 200", ev.received)
	}
	if d.ContactURI.User != "alice" || d.ContactURI.Host != "127.0.0.1" {
		t.Errorf("ContactURI %s", d.ContactURI)
	}
	if !r.Registered() {
		t.Error("Registered() is false after DidSucceed")
	}
	waitSIPp(t, s) // SIPp checked Expires: 120 on the second REGISTER
}

// A 500 fails the registration with that code, on the route tried.
func TestRegistrationEdge500(t *testing.T) {
	s, route := runRegistrar(t, "register_500.xml")
	e, c := startEngine(t, EngineConfig{})
	ev := recordRegistration(t, e, c)
	r := newEdgeRegistration(t, e, RegistrationConfig{Expires: 60 * time.Second})
	ev.r = r
	if err := r.Register(route); err != nil {
		t.Fatal(err)
	}
	d, _ := notification.Data[RegistrationDidFailData](ev.next(RegistrationDidFail))
	if d.Code != 500 || d.Reason != "Server Internal Error" || d.Route != route || d.MinExpires != 0 {
		t.Fatalf("DidFail %+v, want 500 Server Internal Error on %v", d, route)
	}
	if len(ev.sent) != 1 {
		t.Errorf("%d REGISTERs sent, want 1 (a 500 is not retried on the same route)", len(ev.sent))
	}
	if r.Registered() {
		t.Error("Registered() after a 500")
	}
	waitSIPp(t, s)
}

// A registrar that receives the REGISTER and never answers: DidFail 408
// once RegistrationConfig.Timeout has passed, not at the transaction's 32 s.
func TestRegistrationEdgeNoAnswer(t *testing.T) {
	const timeout = time.Second
	s, route := runRegistrar(t, "register_drop.xml")
	e, c := startEngine(t, EngineConfig{})
	ev := recordRegistration(t, e, c)
	r := newEdgeRegistration(t, e, RegistrationConfig{Expires: 60 * time.Second, Timeout: timeout})
	ev.r = r
	start := time.Now()
	if err := r.Register(route); err != nil {
		t.Fatal(err)
	}
	n := ev.next(RegistrationDidFail)
	elapsed := n.Timestamp.Sub(start)
	d, _ := notification.Data[RegistrationDidFailData](n)
	if d.Code != 408 || d.Route != route {
		t.Fatalf("DidFail %+v, want 408 on %v", d, route)
	}
	if elapsed < timeout || elapsed > timeout+2*time.Second {
		t.Fatalf("DidFail after %v, want just after the %v timeout", elapsed, timeout)
	}
	if len(ev.sent) != 1 || len(ev.received) != 0 {
		t.Errorf("%d REGISTERs sent and %d responses received, want 1 and 0", len(ev.sent), len(ev.received))
	}
	res := waitSIPp(t, s) // SIPp did receive the REGISTER
	if res.Stats["IncomingCall(C)"] != "1" {
		t.Errorf("sipp IncomingCall(C) = %q, want 1", res.Stats["IncomingCall(C)"])
	}
}

// 401, then 401 stale=true with a new nonce to the authorized REGISTER,
// then 200: the stale challenge is answered once more (not taken for a
// wrong password) with the new nonce, and exactly three REGISTERs are sent.
func TestRegistrationEdgeStaleNonce(t *testing.T) {
	s, route := runRegistrar(t, "register_stale.xml")
	e, c := startEngine(t, EngineConfig{})
	ev := recordRegistration(t, e, c)
	r := newEdgeRegistration(t, e, RegistrationConfig{Expires: 60 * time.Second,
		Credentials: Credentials{Username: "alice", Password: "secret"}})
	ev.r = r
	if err := r.Register(route); err != nil {
		t.Fatal(err)
	}
	d, _ := notification.Data[RegistrationDidSucceedData](ev.next(RegistrationDidSucceed))
	if d.Code != 200 || d.Expires != 60*time.Second {
		t.Fatalf("DidSucceed %+v", d)
	}
	if len(ev.sent) != 3 {
		t.Fatalf("%d REGISTERs sent, want 3", len(ev.sent))
	}
	if h := headerValue(ev.sent[0], "Authorization"); h != "" {
		t.Errorf("first REGISTER has Authorization %q", h)
	}
	for i, nonce := range map[int]string{1: "first-nonce", 2: "second-nonce"} {
		p := digestParams(headerValue(ev.sent[i], "Authorization"))
		if p["nonce"] != nonce || p["nc"] != "00000001" || p["username"] != "alice" {
			t.Errorf("REGISTER %d answers %v, want nonce %s with nc 00000001", i+1, p, nonce)
		}
	}
	waitSIPp(t, s) // SIPp verified the third digest (verifyauth)
}

// A 200 whose Via says the REGISTER came from 127.0.0.2:40000 makes a
// registration with ContactRewrite register that address and remove the
// first contact (expires=0) in one REGISTER (PJSUA allow_contact_rewrite);
// the rewritten contact keeps its transport parameter.
func TestRegistrationEdgeContactRewrite(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			s, route := runRegistrar(t, "register_rewrite.xml", transport)
			e, c := startEngine(t, EngineConfig{})
			l, _ := e.Listener(transport)
			ev := recordRegistration(t, e, c)
			r := newEdgeRegistration(t, e, RegistrationConfig{Expires: 60 * time.Second, ContactRewrite: true})
			ev.r = r
			if err := r.Register(route); err != nil {
				t.Fatal(err)
			}
			d, _ := notification.Data[RegistrationDidSucceedData](ev.next(RegistrationDidSucceed))
			params := ""
			if transport != "udp" {
				params = ";transport=" + transport
			}
			want := "sip:alice@127.0.0.2:40000" + params
			if d.ContactURI.String() != want || r.Contact().String() != want {
				t.Fatalf("DidSucceed contact %s, Contact() %s, want %s", d.ContactURI, r.Contact(), want)
			}
			if d.Expires != 60*time.Second || !r.Registered() {
				t.Errorf("DidSucceed %+v, Registered() %v", d, r.Registered())
			}
			if len(ev.sent) != 2 {
				t.Fatalf("%d REGISTERs sent, want 2", len(ev.sent))
			}
			first := "<sip:alice@127.0.0.1:" + strconv.Itoa(int(l.Addr.Port())) + params + ">"
			if got := contacts(ev.sent[0]); len(got) != 1 || got[0] != first {
				t.Errorf("first REGISTER contacts %q, want %s", got, first)
			}
			if got := contacts(ev.sent[1]); len(got) != 2 || got[0] != "<"+want+">" || got[1] != first+";expires=0" {
				t.Errorf("second REGISTER contacts %q, want <%s> and %s;expires=0", got, want, first)
			}
			waitSIPp(t, s)

			// Through another route the rewritten address means nothing
			// (the NAT binding is per destination): the configured contact
			// is registered again.
			s2, route2 := runRegistrar(t, "register_rewrite.xml", transport)
			if err := r.Register(route2); err != nil {
				t.Fatal(err)
			}
			ev.next(RegistrationDidSucceed)
			if len(ev.sent) != 4 {
				t.Fatalf("%d REGISTERs sent, want 4", len(ev.sent))
			}
			if got := contacts(ev.sent[2]); len(got) < 1 || got[0] != first {
				t.Errorf("first REGISTER through the second route has contacts %q, want %s first", got, first)
			}
			waitSIPp(t, s2)
		})
	}
}

// digestParams parses the parameters of a Digest Authorization value.
func digestParams(h string) map[string]string {
	p := map[string]string{}
	h = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(h), "Digest"))
	for _, part := range splitHeaderList(h) {
		k, v, _ := strings.Cut(part, "=")
		p[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(v), `"`)
	}
	return p
}

func sha256Hex(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, ":")))
	return hex.EncodeToString(sum[:])
}

// SHA-256 digest (RFC 8760): a challenge with algorithm=SHA-256 is
// answered with algorithm=SHA-256 and the correct 64-hex-digit response,
// recomputed here from RFC 7616; offered SHA-256 first and MD5 second (in
// order of preference), the client answers the SHA-256 one only.
func TestRegistrationEdgeSHA256(t *testing.T) {
	for _, scenario := range []string{"register_sha256.xml", "register_sha256_md5.xml"} {
		t.Run(strings.TrimSuffix(scenario, ".xml"), func(t *testing.T) {
			s, route := runRegistrar(t, scenario)
			e, c := startEngine(t, EngineConfig{})
			ev := recordRegistration(t, e, c)
			r := newEdgeRegistration(t, e, RegistrationConfig{Expires: 60 * time.Second,
				Credentials: Credentials{Username: "alice", Password: "secret"}})
			ev.r = r
			if err := r.Register(route); err != nil {
				t.Fatal(err)
			}
			ev.next(RegistrationDidSucceed)
			if len(ev.sent) != 2 {
				t.Fatalf("%d REGISTERs sent, want 2", len(ev.sent))
			}
			auths := ev.sent[1].GetHeaders("Authorization")
			if len(auths) != 1 {
				t.Fatalf("%d Authorization headers, want 1: %v", len(auths), auths)
			}
			p := digestParams(auths[0].Value())
			if !strings.EqualFold(p["algorithm"], "SHA-256") || p["nonce"] != "sha256-nonce" || p["opaque"] != "op4que" || p["qop"] != "auth" {
				t.Fatalf("Authorization %v, want the SHA-256 challenge answered", p)
			}
			ha1 := sha256Hex("alice", "example.test", "secret")
			ha2 := sha256Hex("REGISTER", p["uri"])
			if want := sha256Hex(ha1, p["nonce"], p["nc"], p["cnonce"], p["qop"], ha2); p["response"] != want {
				t.Fatalf("response %s, want %s", p["response"], want)
			}
			if p["uri"] != "sip:example.test" {
				t.Errorf("digest uri %q, want the Request-URI sip:example.test", p["uri"])
			}
			waitSIPp(t, s)
		})
	}
}

// Kamailio with nonces that expire after 1 s and a 4 s registration,
// refreshed after 2 s: each refresh answers the cached challenge, whose
// nonce has expired, gets 401 with stale=true, answers the new nonce and
// succeeds. Two refreshes in a row, no DidFail.
func TestRegistrationEdgeNonceExpiredOnRefresh(t *testing.T) {
	k := interop.StartKamailio(t, interop.KamailioConfig{Users: map[string]string{"frank": "pw"}, NonceExpire: 1, DisableTLS: true})
	e, c := startEngine(t, EngineConfig{})
	ev := recordRegistration(t, e, c)
	r := newTestRegistration(t, e, k, "frank", "pw", 4*time.Second)
	ev.r = r
	if err := r.Register(kamailioRoute(t, k, "udp")); err != nil {
		t.Fatal(err)
	}
	ev.next(RegistrationDidSucceed)
	if len(ev.sent) != 2 {
		t.Fatalf("%d REGISTERs for the first registration, want 2", len(ev.sent))
	}
	for refresh := 1; refresh <= 2; refresh++ {
		sent, received := len(ev.sent), len(ev.received)
		ev.next(RegistrationWillExpire)
		d, _ := notification.Data[RegistrationDidSucceedData](ev.next(RegistrationDidSucceed))
		if d.Code != 200 || d.Expires != 4*time.Second {
			t.Fatalf("refresh %d: DidSucceed %+v", refresh, d)
		}
		regs, responses := ev.sent[sent:], ev.received[received:]
		if len(regs) != 2 || len(responses) != 2 {
			t.Fatalf("refresh %d: %d REGISTERs and %d responses, want 2 and 2 (stale challenge, then success)", refresh, len(regs), len(responses))
		}
		// The refresh answered the cached challenge without a round trip.
		cached := digestParams(headerValue(regs[0], "Authorization"))
		previous := digestParams(headerValue(ev.sent[sent-1], "Authorization"))
		if cached["nonce"] == "" || cached["nonce"] != previous["nonce"] || cached["nc"] != "00000002" {
			t.Errorf("refresh %d: first REGISTER answers %v, want the cached nonce %s with nc 00000002", refresh, cached, previous["nonce"])
		}
		chal := digestParams(headerValue(responses[0], "WWW-Authenticate"))
		if responses[0].StatusCode != 401 || !strings.EqualFold(chal["stale"], "true") {
			t.Fatalf("refresh %d: got %d %v, want 401 with stale=true", refresh, responses[0].StatusCode, chal)
		}
		if fresh := digestParams(headerValue(regs[1], "Authorization")); fresh["nonce"] != chal["nonce"] || fresh["nc"] != "00000001" {
			t.Errorf("refresh %d: second REGISTER answers %v, want the new nonce %s", refresh, fresh, chal["nonce"])
		}
		if responses[1].StatusCode != 200 {
			t.Fatalf("refresh %d: final response %d", refresh, responses[1].StatusCode)
		}
	}
	if !r.Registered() {
		t.Fatal("not registered after the refreshes")
	}
}

// Registration over TLS with Kamailio's TLS listener: it succeeds when the
// engine trusts Kamailio's certificate and checks it for the name Kamailio
// serves, and fails with Code 0 and a certificate error, without harm to
// the engine, when the CA is not trusted or the name does not match.
func TestRegistrationEdgeTLS(t *testing.T) {
	k := interop.StartKamailio(t, interop.KamailioConfig{Users: map[string]string{"grace": "pw"}})
	k.RequireTLS(t)
	route := Route{Address: k.Host, Port: k.TLSPort, Transport: "tls"}
	// Our own TLS listener (the contact's) gets a certificate of its own.
	own := interop.GenerateTestCertificate(t, t.TempDir(), "client.example.test")
	ownCert, err := own.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		roots      *x509.CertPool
		serverName string
		wantError  string // "" for success
	}{
		{"trusted", k.Certificate.Pool(), k.Domain, ""},
		{"trusted-by-address", k.Certificate.Pool(), "", ""},
		{"untrusted-ca", own.Pool(), k.Domain, "certificate signed by unknown authority"},
		{"wrong-name", k.Certificate.Pool(), "other.example.test", "other.example.test"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tlsConfig := &tls.Config{Certificates: []tls.Certificate{ownCert}, RootCAs: tc.roots, ServerName: tc.serverName, MinVersion: tls.VersionTLS12}
			e, c := startEngine(t, EngineConfig{TLSConfig: tlsConfig})
			if _, ok := e.Listener("tls"); !ok {
				t.Fatal("the engine has no TLS listener")
			}
			ev := recordRegistration(t, e, c)
			r := newTestRegistration(t, e, k, "grace", "pw", 60*time.Second)
			ev.r = r
			if err := r.Register(route); err != nil {
				t.Fatal(err)
			}
			if tc.wantError == "" {
				d, _ := notification.Data[RegistrationDidSucceedData](ev.next(RegistrationDidSucceed))
				if d.Code != 200 || d.Route != route || d.ContactURI.Transport() != "tls" {
					t.Fatalf("DidSucceed %+v", d)
				}
				if len(ev.sent) != 2 || ev.sent[0].Transport() != "TLS" {
					t.Errorf("%d REGISTERs sent, want 2 over TLS", len(ev.sent))
				}
				ended := c.Expect(RegistrationDidEnd, r)
				if err := r.Unregister(); err != nil {
					t.Fatal(err)
				}
				waitNotification[RegistrationDidEndData](t, ended)
				return
			}
			d, _ := notification.Data[RegistrationDidFailData](ev.next(RegistrationDidFail))
			if d.Code != 0 || d.Route != route || d.Error == nil || !strings.Contains(d.Error.Error(), "certificate") || !strings.Contains(d.Error.Error(), tc.wantError) {
				t.Fatalf("DidFail %+v (error %v), want Code 0 and a certificate error mentioning %q", d, d.Error, tc.wantError)
			}
			t.Logf("DidFail as expected: %v", d.Error)
			if len(ev.sent) != 0 || r.Registered() {
				t.Errorf("%d REGISTERs traced as sent, Registered() %v", len(ev.sent), r.Registered())
			}
			// The engine and the registration still work: register over UDP.
			if err := r.Register(kamailioRoute(t, k, "udp")); err != nil {
				t.Fatal(err)
			}
			ev.next(RegistrationDidSucceed)
		})
	}
}
