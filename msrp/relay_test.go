package msrp

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	"github.com/sipsimple-go/sipsimple/internal/interop"
)

// startRelay runs Kamailio as an MSRP relay with the users alice and bob.
func startRelay(t *testing.T) (*interop.Kamailio, URI) {
	t.Helper()
	k := interop.StartKamailio(t, interop.KamailioConfig{
		MSRPRelay:  true,
		DisableTLS: true,
		Users:      map[string]string{"alice": "alicepw", "bob": "bobpw"},
	})
	u, err := ParseURI(k.MSRPRelayURI(false))
	if err != nil {
		t.Fatal(err)
	}
	return k, u
}

// relayed makes a session reserved at the relay for user.
func relayed(t *testing.T, relay URI, user, password string) *Session {
	t.Helper()
	s, err := NewSession(SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.ConnectRelay(testCtx(t), Relay{URI: relay, Username: user, Password: password}); err != nil {
		t.Fatalf("%s: ConnectRelay: %v", user, err)
	}
	if !s.Relayed() {
		t.Fatalf("%s: not relayed after ConnectRelay", user)
	}
	p := s.Path()
	if len(p) != 2 || p[0].Host != relay.Host || p[0].Port != relay.Port || p[0].SessionID == "" || !p[1].Equal(s.LocalURI()) {
		t.Fatalf("%s: Path() = %v, want the relay's Use-Path then %v", user, p, s.LocalURI())
	}
	return s
}

// exchange sends a text each way and a 1 MB message from a to b, with
// success reports, and checks what arrives.
func exchange(t *testing.T, a, b *Session) {
	t.Helper()
	id, err := a.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte("hello through the relay"), SuccessReport: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := waitEvent[Received](t, b); string(got.Body) != "hello through the relay" || got.MessageID != id {
		t.Fatalf("b received %q (%s), want the text (%s)", got.Body, got.MessageID, id)
	}
	if d := waitEvent[Delivered](t, a); d.MessageID != id {
		t.Fatalf("a: Delivered %s, want %s", d.MessageID, id)
	}
	id, err = b.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte("and back"), SuccessReport: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := waitEvent[Received](t, a); string(got.Body) != "and back" {
		t.Fatalf("a received %q", got.Body)
	}
	if d := waitEvent[Delivered](t, b); d.MessageID != id {
		t.Fatalf("b: Delivered %s, want %s", d.MessageID, id)
	}
	// A large message goes in chunks the relay can forward (RelayChunkSize).
	big := make([]byte, 1<<20)
	rand.Read(big)
	id, err = a.Send(OutgoingMessage{ContentType: "application/octet-stream", Body: big, SuccessReport: true, ChunkSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := waitEvent[Received](t, b); !bytes.Equal(got.Body, big) {
		t.Fatalf("b received %d bytes, not the %d sent", len(got.Body), len(big))
	}
	if d := waitEvent[Delivered](t, a); d.MessageID != id {
		t.Fatalf("a: Delivered %s, want %s", d.MessageID, id)
	}
}

// Both ends reserve a session at Kamailio's msrp module (RFC 4976: AUTH
// challenged with digest, Use-Path, Expires) and talk through it: the
// To-Path of each request is its own relay hop, the peer's relay hop and
// the peer.
func TestRelayBothEnds(t *testing.T) {
	_, relay := startRelay(t)
	alice := relayed(t, relay, "alice", "alicepw")
	bob := relayed(t, relay, "bob", "bobpw")
	ctx := testCtx(t)
	if err := bob.Accept(ctx, alice.Path()); err != nil {
		t.Fatal("bob: Accept:", err)
	}
	if err := alice.Connect(ctx, bob.Path()); err != nil {
		t.Fatal("alice: Connect:", err)
	}
	waitEvent[Connected](t, alice)
	waitEvent[Connected](t, bob)
	exchange(t, alice, bob)
}

// A relayed session talks to a peer without relay that listens (RFC 6135
// passive): the relay connects to the peer.
func TestRelayToDirectPeer(t *testing.T) {
	_, relay := startRelay(t)
	alice := relayed(t, relay, "alice", "alicepw")
	l, err := Listen("tcp", "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	bob, err := l.NewSession(SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bob.Close() })
	ctx := testCtx(t)
	accepted := make(chan error, 1)
	go func() { accepted <- bob.Accept(ctx, alice.Path()) }()
	if err := alice.Connect(ctx, bob.Path()); err != nil {
		t.Fatal("alice: Connect:", err)
	}
	if err := <-accepted; err != nil {
		t.Fatal("bob: Accept:", err)
	}
	exchange(t, alice, bob)
	// The direct side's large message goes through alice's relay too:
	// in chunks the relay forwards (its path has a relay).
	exchange(t, bob, alice)
}

// Wrong credentials: the relay refuses the AUTH and ConnectRelay says so.
func TestRelayWrongPassword(t *testing.T) {
	_, relay := startRelay(t)
	s, err := NewSession(SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.ConnectRelay(testCtx(t), Relay{URI: relay, Username: "alice", Password: "wrong"})
	if !errors.Is(err, ErrRelayAuth) {
		t.Fatalf("ConnectRelay with a wrong password: %v, want ErrRelayAuth", err)
	}
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 403 {
		t.Fatalf("ConnectRelay with a wrong password: %v, want the relay's 403", err)
	}
	if s.Relayed() {
		t.Fatal("Relayed() after a refused AUTH")
	}
	if err := s.Connect(testCtx(t), []URI{relay}); err == nil {
		t.Fatal("Connect after a failed ConnectRelay succeeded")
	}
}

// An Expires the relay finds too short gets 423 with Min-Expires: the
// session asks again with the relay's bound.
func TestRelayExpiresOutOfBounds(t *testing.T) {
	_, relay := startRelay(t)
	s, err := NewSession(SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.ConnectRelay(testCtx(t), Relay{URI: relay, Username: "alice", Password: "alicepw", Expires: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	exp := s.relay.expires
	s.mu.Unlock()
	if exp != 60*time.Second {
		t.Fatalf("reservation expires in %v, want the relay's minimum 60s", exp)
	}
}

// The relay over TLS (msrps, as RFC 4976 wants): the relay's certificate
// is verified, and its Use-Path is msrps.
func TestRelayTLS(t *testing.T) {
	k := interop.StartKamailio(t, interop.KamailioConfig{
		MSRPRelay: true,
		Users:     map[string]string{"alice": "alicepw", "bob": "bobpw"},
	})
	k.RequireTLS(t)
	relay, err := ParseURI(k.MSRPRelayURI(true))
	if err != nil {
		t.Fatal(err)
	}
	sessions := make([]*Session, 2)
	for i, user := range []string{"alice", "bob"} {
		s, err := NewSession(SessionConfig{TLSConfig: &tls.Config{RootCAs: k.Certificate.Pool()}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.ConnectRelay(testCtx(t), Relay{URI: relay, Username: user, Password: user + "pw"}); err != nil {
			t.Fatalf("%s: ConnectRelay over TLS: %v", user, err)
		}
		if p := s.Path(); !p[0].Secure {
			t.Fatalf("%s: Use-Path %v, want msrps", user, p[0])
		}
		sessions[i] = s
	}
	alice, bob := sessions[0], sessions[1]
	ctx := testCtx(t)
	if err := bob.Accept(ctx, alice.Path()); err != nil {
		t.Fatal(err)
	}
	if err := alice.Connect(ctx, bob.Path()); err != nil {
		t.Fatal(err)
	}
	exchange(t, alice, bob)
}

// Two sessions through the relay to two sessions of one peer without
// relay: the relay reuses its one connection to the peer's listener for
// both (RFC 4975 section 8.1), and the listener's connection carries
// both sessions. Closing one leaves the other working.
func TestRelaySharedConnectionToPeer(t *testing.T) {
	_, relay := startRelay(t)
	l, err := Listen("tcp", "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var alices, bobs [2]*Session
	for i := range 2 {
		alices[i] = relayed(t, relay, "alice", "alicepw")
		b, err := l.NewSession(SessionConfig{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		bobs[i] = b
		ctx := testCtx(t)
		accepted := make(chan error, 1)
		go func() { accepted <- b.Accept(ctx, alices[i].Path()) }()
		if err := alices[i].Connect(ctx, b.Path()); err != nil {
			t.Fatalf("alice %d: Connect: %v", i, err)
		}
		if err := <-accepted; err != nil {
			t.Fatalf("bob %d: Accept: %v", i, err)
		}
	}
	for i := range 2 {
		exchange(t, alices[i], bobs[i])
	}
	bobs[0].mu.Lock()
	c0 := bobs[0].conn
	bobs[0].mu.Unlock()
	bobs[1].mu.Lock()
	c1 := bobs[1].conn
	bobs[1].mu.Unlock()
	if c0 == nil || c0 != c1 {
		t.Fatal("the relay's two sessions to bob came over two connections: the test shows no sharing")
	}
	bobs[0].Close()
	exchange(t, alices[1], bobs[1])
}
