package interop

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"
)

// These tests prove the Kamailio harness with a hand-written SIP client,
// independently of the SDK.

// sipUA is a raw UDP user agent of one user against a Kamailio.
type sipUA struct {
	t      testing.TB
	k      *Kamailio
	ep     *udpEndpoint
	user   string
	tag    string
	callID string
	cseq   int
}

func newSipUA(t testing.TB, k *Kamailio, user string) *sipUA {
	return &sipUA{t: t, k: k, ep: newUDPEndpoint(t), user: user, tag: randomToken(), callID: randomToken() + "@127.0.0.1"}
}

func (u *sipUA) contact() string { return fmt.Sprintf("<sip:%s@%s>", u.user, u.ep.addr()) }

// register sends a REGISTER (Expires: expires) with the given Authorization
// value ("" for none) and returns the final response.
func (u *sipUA) register(expires int, authorization string) *sipMessage {
	u.t.Helper()
	u.cseq++
	cseq := fmt.Sprintf("%d REGISTER", u.cseq)
	hdrs := []string{
		fmt.Sprintf("Via: SIP/2.0/UDP %s;rport;branch=z9hG4bK%s", u.ep.addr(), randomToken()),
		"Max-Forwards: 70",
		fmt.Sprintf("From: <%s>;tag=%s", u.k.AOR(u.user), u.tag),
		fmt.Sprintf("To: <%s>", u.k.AOR(u.user)),
		"Call-ID: " + u.callID,
		"CSeq: " + cseq,
		"Contact: " + u.contact(),
		fmt.Sprintf("Expires: %d", expires),
		"User-Agent: interop-raw-test",
	}
	if authorization != "" {
		hdrs = append(hdrs, "Authorization: "+authorization)
	}
	return u.ep.transact(u.k.UDPAddr(), request("REGISTER", u.registrar(), hdrs, ""), cseq)
}

func (u *sipUA) registrar() string { return "sip:" + u.k.Domain }

// registerWithAuth registers, answering the 401 challenge with password.
func (u *sipUA) registerWithAuth(expires int, password string) (challenge, final *sipMessage) {
	u.t.Helper()
	challenge = u.register(expires, "")
	if challenge.status() != 401 {
		u.t.Fatalf("REGISTER without credentials: got %q, want 401", challenge.startLine)
	}
	auth := digestAuthorization(challenge.get("WWW-Authenticate"), u.user, password, "REGISTER", u.registrar())
	return challenge, u.register(expires, auth)
}

// contactExpires returns the expires parameter of the Contact in resp that
// matches ours, or -1.
func (u *sipUA) contactExpires(resp *sipMessage) int {
	for _, hv := range resp.all("Contact") {
		for _, c := range strings.Split(hv, ",") {
			if !strings.Contains(c, u.ep.addr()) {
				continue
			}
			for _, p := range strings.Split(c, ";") {
				if v, ok := strings.CutPrefix(strings.TrimSpace(p), "expires="); ok {
					var n int
					fmt.Sscan(v, &n)
					return n
				}
			}
		}
	}
	return -1
}

func TestKamailioOptions(t *testing.T) {
	k := StartKamailio(t, KamailioConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	code, raw, err := PingUDP(ctx, k.UDPAddr(), "sip:"+k.Domain)
	if err != nil {
		t.Fatal(err)
	}
	if code != 200 {
		t.Fatalf("OPTIONS sip:%s over UDP: got %d, want 200:\n%s", k.Domain, code, raw)
	}
	// The log arrives through a pipe: wait for it rather than look once.
	if err := k.Output().WaitForString(ctx, "<- OPTIONS sip:"+k.Domain); err != nil {
		t.Errorf("Kamailio log does not show the OPTIONS request: %v", err)
	}
}

func TestKamailioRegisterDigest(t *testing.T) {
	k := StartKamailio(t, KamailioConfig{
		Users:      map[string]string{"alice": "secret", "bob": "hunter2"},
		MaxExpires: 120,
	})
	alice := newSipUA(t, k, "alice")

	// No credentials: 401 with a digest challenge for our realm.
	resp := alice.register(60, "")
	if resp.status() != 401 {
		t.Fatalf("REGISTER without credentials: got %q, want 401", resp.startLine)
	}
	wa := resp.get("WWW-Authenticate")
	p := digestParams(wa)
	if !strings.HasPrefix(wa, "Digest ") || p["realm"] != DefaultDomain || p["nonce"] == "" || !containsToken(p["qop"], "auth") {
		t.Fatalf("unexpected challenge %q", wa)
	}
	if strings.EqualFold(p["stale"], "true") {
		t.Fatalf("first challenge must not be stale: %q", wa)
	}

	// Correct credentials: 200 with our Contact and its expiry.
	auth := digestAuthorization(wa, "alice", "secret", "REGISTER", alice.registrar())
	resp = alice.register(60, auth)
	if resp.status() != 200 {
		t.Fatalf("REGISTER with credentials: got %q, want 200", resp.startLine)
	}
	if got := alice.contactExpires(resp); got != 60 {
		t.Fatalf("200 OK Contact expires = %d, want 60; Contact: %q", got, resp.all("Contact"))
	}

	// The nonce may be reused until it expires: max_expires clamps 3600 to 120.
	resp = alice.register(3600, digestAuthorization(wa, "alice", "secret", "REGISTER", alice.registrar()))
	if resp.status() != 200 {
		t.Fatalf("re-REGISTER: got %q, want 200", resp.startLine)
	}
	if got := alice.contactExpires(resp); got != 120 {
		t.Fatalf("Contact expires = %d, want 120 (max_expires)", got)
	}

	// Wrong password: Kamailio challenges again, with a fresh nonce and
	// without stale=true.
	_, resp = alice.registerWithAuth(60, "not-the-password")
	if resp.status() != 401 {
		t.Fatalf("REGISTER with wrong password: got %q, want 401", resp.startLine)
	}
	p2 := digestParams(resp.get("WWW-Authenticate"))
	if p2["nonce"] == "" || strings.EqualFold(p2["stale"], "true") {
		t.Fatalf("challenge after wrong password: %q", resp.get("WWW-Authenticate"))
	}

	// Unknown user: same as a wrong password.
	mallory := newSipUA(t, k, "mallory")
	if _, resp = mallory.registerWithAuth(60, "secret"); resp.status() != 401 {
		t.Fatalf("REGISTER of unknown user: got %q, want 401", resp.startLine)
	}

	// Credentials of another user are refused.
	resp = alice.register(60, "")
	auth = digestAuthorization(resp.get("WWW-Authenticate"), "bob", "hunter2", "REGISTER", alice.registrar())
	if resp = alice.register(60, auth); resp.status() != 403 {
		t.Fatalf("REGISTER alice with bob's credentials: got %q, want 403", resp.startLine)
	}

	// Unregister.
	if _, resp = alice.registerWithAuth(0, "secret"); resp.status() != 200 {
		t.Fatalf("un-REGISTER: got %q, want 200", resp.startLine)
	}
	if got := alice.contactExpires(resp); got != -1 {
		t.Fatalf("after un-REGISTER the Contact is still bound (expires=%d)", got)
	}
}

func TestKamailioRejectWrongPassword(t *testing.T) {
	k := StartKamailio(t, KamailioConfig{
		Users:               map[string]string{"alice": "secret"},
		RejectWrongPassword: true,
		NoQop:               true,
		LogLevel:            "notice",
	})
	alice := newSipUA(t, k, "alice")
	ch, resp := alice.registerWithAuth(30, "wrong")
	if p := digestParams(ch.get("WWW-Authenticate")); p["qop"] != "" {
		t.Errorf("NoQop: challenge still offers qop: %q", ch.get("WWW-Authenticate"))
	}
	if resp.status() != 403 {
		t.Fatalf("REGISTER with wrong password: got %q, want 403", resp.startLine)
	}
	if _, resp = alice.registerWithAuth(30, "secret"); resp.status() != 200 {
		t.Fatalf("REGISTER with right password (no qop): got %q, want 200", resp.startLine)
	}
}

func TestKamailioMinExpires(t *testing.T) {
	users := map[string]string{"alice": "secret"}
	t.Run("raise", func(t *testing.T) {
		k := StartKamailio(t, KamailioConfig{Users: users, MinExpires: 30, DisableTLS: true})
		alice := newSipUA(t, k, "alice")
		_, resp := alice.registerWithAuth(5, "secret")
		if resp.status() != 200 || alice.contactExpires(resp) != 30 {
			t.Fatalf("REGISTER expires=5 with min_expires 30: got %q, Contact %q; want 200 with expires=30",
				resp.startLine, resp.all("Contact"))
		}
	})
	t.Run("423", func(t *testing.T) {
		k := StartKamailio(t, KamailioConfig{Users: users, MinExpires: 30, RejectBriefExpires: true, DisableTLS: true})
		alice := newSipUA(t, k, "alice")
		_, resp := alice.registerWithAuth(5, "secret")
		if resp.status() != 423 || resp.get("Min-Expires") != "30" {
			t.Fatalf("REGISTER expires=5: got %q, Min-Expires %q; want 423 with Min-Expires: 30",
				resp.startLine, resp.get("Min-Expires"))
		}
	})
}

// TestKamailioStreamTransports sends OPTIONS over TCP and over TLS (trusting
// the generated certificate).
func TestKamailioStreamTransports(t *testing.T) {
	k := StartKamailio(t, KamailioConfig{})
	ruri := "sip:" + k.Domain
	options := func(transport, local string) string {
		return request("OPTIONS", ruri, []string{
			fmt.Sprintf("Via: SIP/2.0/%s %s;branch=z9hG4bK%s", transport, local, randomToken()),
			"Max-Forwards: 70",
			fmt.Sprintf("From: <sip:probe@%s>;tag=%s", k.Domain, randomToken()),
			"To: <" + ruri + ">",
			"Call-ID: " + randomToken(),
			"CSeq: 1 OPTIONS",
		}, "")
	}
	t.Run("tcp", func(t *testing.T) {
		d := &tlsDialer{timeout: 5 * time.Second}
		conn, err := d.dialTCP(k.TCPAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Write([]byte(options("TCP", conn.LocalAddr().String()))); err != nil {
			t.Fatal(err)
		}
		m, err := readSIPStream(bufio.NewReader(conn))
		if err != nil || m.status() != 200 {
			t.Fatalf("OPTIONS over TCP: %v %v", err, m)
		}
	})
	t.Run("tls", func(t *testing.T) {
		k.RequireTLS(t)
		d := &tlsDialer{timeout: 5 * time.Second}
		conn, err := d.dialTLS(k.TLSAddr(), &tls.Config{RootCAs: k.Certificate.Pool(), ServerName: k.Domain})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Write([]byte(options("TLS", conn.LocalAddr().String()))); err != nil {
			t.Fatal(err)
		}
		m, err := readSIPStream(bufio.NewReader(conn))
		if err != nil || m.status() != 200 {
			t.Fatalf("OPTIONS over TLS: %v %v", err, m)
		}
	})
}

// TestKamailioProxyBetweenUsers registers bob and sends him a MESSAGE from
// alice through the proxy: 407, then relayed to bob's registered contact.
func TestKamailioProxyBetweenUsers(t *testing.T) {
	k := StartKamailio(t, KamailioConfig{Users: map[string]string{"alice": "secret", "bob": "hunter2"}, DisableTLS: true})
	bob := newSipUA(t, k, "bob")
	if _, resp := bob.registerWithAuth(60, "hunter2"); resp.status() != 200 {
		t.Fatalf("bob REGISTER: %q", resp.startLine)
	}

	alice := newSipUA(t, k, "alice")
	ruri := k.AOR("bob")
	message := func(cseq int, auth string) (string, string) {
		cs := fmt.Sprintf("%d MESSAGE", cseq)
		hdrs := []string{
			fmt.Sprintf("Via: SIP/2.0/UDP %s;rport;branch=z9hG4bK%s", alice.ep.addr(), randomToken()),
			"Max-Forwards: 70",
			fmt.Sprintf("From: <%s>;tag=%s", k.AOR("alice"), alice.tag),
			"To: <" + ruri + ">",
			"Call-ID: " + alice.callID,
			"CSeq: " + cs,
			"Content-Type: text/plain",
		}
		if auth != "" {
			hdrs = append(hdrs, "Proxy-Authorization: "+auth)
		}
		return request("MESSAGE", ruri, hdrs, "hello bob"), cs
	}
	msg, cs := message(1, "")
	resp := alice.ep.transact(k.UDPAddr(), msg, cs)
	if resp.status() != 407 || resp.get("Proxy-Authenticate") == "" {
		t.Fatalf("MESSAGE without credentials: got %q, want 407 with Proxy-Authenticate", resp.startLine)
	}
	msg, cs = message(2, digestAuthorization(resp.get("Proxy-Authenticate"), "alice", "secret", "MESSAGE", ruri))
	alice.ep.send(k.UDPAddr(), msg)

	// Bob gets the MESSAGE at his registered contact, via Kamailio.
	req, from := bob.ep.recv(5 * time.Second)
	if req.isResponse() || req.method() != "MESSAGE" || req.body != "hello bob" {
		t.Fatalf("bob received %q with body %q, want the MESSAGE", req.startLine, req.body)
	}
	if !strings.Contains(req.startLine, bob.ep.addr()) {
		t.Errorf("MESSAGE Request-URI %q is not bob's contact %s", req.startLine, bob.ep.addr())
	}
	if req.get("Proxy-Authorization") != "" {
		t.Errorf("credentials were not consumed by the proxy")
	}
	bob.ep.send(from, response(req, "200 OK"))

	if resp = alice.ep.finalResponse(cs, 5*time.Second); resp.status() != 200 {
		t.Fatalf("MESSAGE to bob: got %q, want 200", resp.startLine)
	}

	// A user that is not registered: 404.
	msg, cs = message(3, "")
	msg = strings.Replace(msg, "sip:bob@", "sip:carol@", 2)
	if resp = alice.ep.transact(k.UDPAddr(), msg, cs); resp.status() != 407 {
		t.Fatalf("MESSAGE to carol without credentials: got %q, want 407", resp.startLine)
	}
	carol := k.AOR("carol")
	msg, cs = message(4, digestAuthorization(resp.get("Proxy-Authenticate"), "alice", "secret", "MESSAGE", carol))
	msg = strings.Replace(msg, "sip:bob@", "sip:carol@", 2)
	if resp = alice.ep.transact(k.UDPAddr(), msg, cs); resp.status() != 404 {
		t.Fatalf("MESSAGE to unregistered carol: got %q, want 404", resp.startLine)
	}
}

// TestKamailioNonceExpire checks that an expired nonce is challenged with
// stale=true (NonceExpire: 1 second).
func TestKamailioNonceExpire(t *testing.T) {
	k := StartKamailio(t, KamailioConfig{Users: map[string]string{"alice": "secret"}, NonceExpire: 1, DisableTLS: true})
	alice := newSipUA(t, k, "alice")
	challenge, resp := alice.registerWithAuth(60, "secret")
	if resp.status() != 200 {
		t.Fatalf("REGISTER: got %q, want 200", resp.startLine)
	}
	// Reuse the nonce until Kamailio declares it stale (bounded poll).
	wa := challenge.get("WWW-Authenticate")
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		resp = alice.register(60, digestAuthorization(wa, "alice", "secret", "REGISTER", alice.registrar()))
		if resp.status() != 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("nonce still accepted 10s after it should have expired")
		}
		<-tick.C
	}
	if resp.status() != 401 || !strings.EqualFold(digestParams(resp.get("WWW-Authenticate"))["stale"], "true") {
		t.Fatalf("REGISTER with expired nonce: got %q %q, want 401 with stale=true", resp.startLine, resp.get("WWW-Authenticate"))
	}
	// The new nonce works.
	if resp = alice.register(60, digestAuthorization(resp.get("WWW-Authenticate"), "alice", "secret", "REGISTER", alice.registrar())); resp.status() != 200 {
		t.Fatalf("REGISTER with fresh nonce: got %q, want 200", resp.startLine)
	}
}

// TestKamailioTCPContactReachedOverConnection registers bob over TCP and
// checks that a MESSAGE from alice (UDP) reaches him over his connection
// (fix_nated_register for connection-oriented transports).
func TestKamailioTCPContactReachedOverConnection(t *testing.T) {
	k := StartKamailio(t, KamailioConfig{Users: map[string]string{"alice": "secret", "bob": "hunter2"}, SkipProxyAuth: true, DisableTLS: true})
	conn, err := (&tlsDialer{timeout: 5 * time.Second}).dialTCP(k.TCPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	local := conn.LocalAddr().String()
	callID, tag := randomToken(), randomToken()
	register := func(cseq int, auth string) *sipMessage {
		t.Helper()
		hdrs := []string{
			fmt.Sprintf("Via: SIP/2.0/TCP %s;rport;branch=z9hG4bK%s", local, randomToken()),
			"Max-Forwards: 70",
			fmt.Sprintf("From: <%s>;tag=%s", k.AOR("bob"), tag),
			"To: <" + k.AOR("bob") + ">",
			"Call-ID: " + callID,
			fmt.Sprintf("CSeq: %d REGISTER", cseq),
			// A contact port nobody listens on: Kamailio must use the connection.
			"Contact: <sip:bob@127.0.0.1:9;transport=tcp>",
			"Expires: 60",
		}
		if auth != "" {
			hdrs = append(hdrs, "Authorization: "+auth)
		}
		if _, err := conn.Write([]byte(request("REGISTER", "sip:"+k.Domain, hdrs, ""))); err != nil {
			t.Fatal(err)
		}
		m, err := readSIPStream(r)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	resp := register(1, "")
	if resp.status() != 401 {
		t.Fatalf("REGISTER over TCP: got %q, want 401", resp.startLine)
	}
	if resp = register(2, digestAuthorization(resp.get("WWW-Authenticate"), "bob", "hunter2", "REGISTER", "sip:"+k.Domain)); resp.status() != 200 {
		t.Fatalf("REGISTER over TCP with credentials: got %q, want 200", resp.startLine)
	}

	// SkipProxyAuth: alice's MESSAGE is relayed without a 407.
	alice := newSipUA(t, k, "alice")
	ruri := k.AOR("bob")
	alice.ep.send(k.UDPAddr(), request("MESSAGE", ruri, []string{
		fmt.Sprintf("Via: SIP/2.0/UDP %s;rport;branch=z9hG4bK%s", alice.ep.addr(), randomToken()),
		"Max-Forwards: 70",
		fmt.Sprintf("From: <%s>;tag=%s", k.AOR("alice"), alice.tag),
		"To: <" + ruri + ">",
		"Call-ID: " + alice.callID,
		"CSeq: 1 MESSAGE",
		"Content-Type: text/plain",
	}, "over tcp"))
	req, err := readSIPStream(r)
	if err != nil {
		t.Fatalf("bob did not get the MESSAGE over his connection: %v", err)
	}
	if req.isResponse() || req.method() != "MESSAGE" || req.body != "over tcp" {
		t.Fatalf("bob received %q, want the MESSAGE", req.startLine)
	}
	if _, err := conn.Write([]byte(response(req, "200 OK"))); err != nil {
		t.Fatal(err)
	}
	if resp = alice.ep.finalResponse("1 MESSAGE", 5*time.Second); resp.status() != 200 {
		t.Fatalf("MESSAGE to bob over TCP: got %q, want 200", resp.startLine)
	}
}

// TestKamailioDirWithHash starts Kamailio from a subtest whose t.TempDir()
// contains "#" (duplicate subtest names), which Kamailio's tls.cfg parser
// would take for a comment.
func TestKamailioDirWithHash(t *testing.T) {
	for i := 0; i < 2; i++ {
		t.Run("dup", func(t *testing.T) {
			k := StartKamailio(t, KamailioConfig{})
			if k.TLSPort != 0 && strings.Contains(k.Certificate.CertFile, "#") {
				t.Fatalf("certificate path %q contains '#'", k.Certificate.CertFile)
			}
		})
	}
}
