package msrp

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// testWait bounds every wait for an event: a deadline, not a sleep.
const testWait = 10 * time.Second

// nextEvent returns the next event of s, failing the test after testWait.
func nextEvent(t testing.TB, s *Session) Event {
	t.Helper()
	select {
	case ev, ok := <-s.Events():
		if !ok {
			t.Fatalf("events closed")
		}
		return ev
	case <-time.After(testWait):
		t.Fatalf("no event within %v", testWait)
	}
	return nil
}

// waitEvent skips events until one of type T arrives.
func waitEvent[T Event](t testing.TB, s *Session) T {
	t.Helper()
	for {
		ev := nextEvent(t, s)
		if e, ok := ev.(T); ok {
			return e
		}
		if c, ok := ev.(Closed); ok {
			var zero T
			if _, want := any(zero).(Closed); !want {
				t.Fatalf("session closed while waiting for %T: %v", zero, c.Err)
			}
		}
	}
}

// drain reads events until the channel is closed and returns them.
func drain(t testing.TB, s *Session) []Event {
	t.Helper()
	var evs []Event
	for {
		select {
		case ev, ok := <-s.Events():
			if !ok {
				return evs
			}
			evs = append(evs, ev)
		case <-time.After(testWait):
			t.Fatalf("events not closed within %v", testWait)
		}
	}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	t.Cleanup(cancel)
	return ctx
}

// pair connects an active session alice to a passive session bob on a
// listener; with tlsCfg, over TLS.
func pair(t testing.TB, aliceCfg, bobCfg SessionConfig, tlsCfg *tlsPair) (alice, bob *Session) {
	t.Helper()
	var serverTLS *tls.Config
	if tlsCfg != nil {
		serverTLS = tlsCfg.server
		aliceCfg.TLSConfig = tlsCfg.client
		aliceCfg.LocalURI.Secure = true
	}
	l, err := Listen("tcp", "127.0.0.1:0", serverTLS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	bob, err = l.NewSession(bobCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bob.Close() })
	aliceCfg.LocalURI.Host = "127.0.0.1"
	alice, err = NewSession(aliceCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { alice.Close() })
	ctx := testCtx(t)
	accepted := make(chan error, 1)
	go func() { accepted <- bob.Accept(ctx, []URI{alice.LocalURI()}) }()
	if err := alice.Connect(ctx, []URI{bob.LocalURI()}); err != nil {
		t.Fatal("connect:", err)
	}
	if err := <-accepted; err != nil {
		t.Fatal("accept:", err)
	}
	waitEvent[Connected](t, alice)
	waitEvent[Connected](t, bob)
	return alice, bob
}

func TestSessionTextBothWays(t *testing.T) {
	alice, bob := pair(t, SessionConfig{}, SessionConfig{AcceptTypes: []string{"text/*"}}, nil)
	if !alice.LocalURI().Equal(mustURI(t, "msrp://127.0.0.1/"+alice.LocalURI().SessionID+";tcp")) {
		t.Errorf("alice URI %v", alice.LocalURI())
	}
	id, err := alice.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte("Hey Bob, are you there?")})
	if err != nil {
		t.Fatal(err)
	}
	rec := waitEvent[Received](t, bob)
	if rec.MessageID != id || rec.ContentType != "text/plain" || string(rec.Body) != "Hey Bob, are you there?" {
		t.Errorf("bob received %+v", rec)
	}
	if d := waitEvent[Delivered](t, alice); d.MessageID != id {
		t.Errorf("delivered %q, sent %q", d.MessageID, id)
	}
	id2, err := bob.Send(OutgoingMessage{ContentType: "text/plain; charset=utf-8", Body: []byte("Yes, Alice."),
		Headers: []Header{{Name: "Content-Disposition", Value: "inline"}}})
	if err != nil {
		t.Fatal(err)
	}
	rec = waitEvent[Received](t, alice)
	if rec.MessageID != id2 || string(rec.Body) != "Yes, Alice." || len(rec.Headers) != 1 || rec.Headers[0].Value != "inline" {
		t.Errorf("alice received %+v", rec)
	}
	if d := waitEvent[Delivered](t, bob); d.MessageID != id2 {
		t.Errorf("delivered %q, sent %q", d.MessageID, id2)
	}
	// Many messages, several chunks each, in order, every one delivered.
	const n = 50
	ids := make([]string, n)
	for i := range ids {
		body := strings.Repeat(fmt.Sprintf("message %d ", i), 1+i*50)
		if ids[i], err = alice.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte(body), MessageID: fmt.Sprintf("m%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range ids {
		rec := waitEvent[Received](t, bob)
		if rec.MessageID != ids[i] || !strings.HasPrefix(string(rec.Body), fmt.Sprintf("message %d ", i)) {
			t.Fatalf("message %d: received %s", i, rec.MessageID)
		}
	}
	for i := range ids {
		if d := waitEvent[Delivered](t, alice); d.MessageID != ids[i] {
			t.Fatalf("delivered %s, want %s", d.MessageID, ids[i])
		}
	}
	// A type bob does not accept: 415, reported to alice.
	id, _ = alice.Send(OutgoingMessage{ContentType: "image/png", Body: []byte{1, 2, 3}})
	if nd := waitEvent[NotDelivered](t, alice); nd.MessageID != id || nd.Code != StatusUnsupportedMedia {
		t.Errorf("got %+v, want 415 for %s", nd, id)
	}
	// Close: Closed{nil}, then the channel is closed; Close is idempotent.
	alice.Close()
	evs := drain(t, alice)
	if c, ok := evs[len(evs)-1].(Closed); !ok || c.Err != nil {
		t.Errorf("last event %#v", evs[len(evs)-1])
	}
	alice.Close()
	if _, err := alice.Send(OutgoingMessage{}); !errors.Is(err, ErrSessionClosed) {
		t.Errorf("Send after Close: %v", err)
	}
	// bob sees the connection lost.
	if c := waitEvent[Closed](t, bob); !errors.Is(c.Err, ErrConnectionLost) {
		t.Errorf("bob closed with %v", c.Err)
	}
}

func TestSessionSuccessReport(t *testing.T) {
	alice, bob := pair(t, SessionConfig{}, SessionConfig{}, nil)
	id, err := alice.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte("report me"), SuccessReport: true})
	if err != nil {
		t.Fatal(err)
	}
	waitEvent[Received](t, bob)
	if d := waitEvent[Delivered](t, alice); d.MessageID != id {
		t.Errorf("delivered %q", d.MessageID)
	}
	// Chunked, with a success report on the whole message.
	body := bytes.Repeat([]byte("0123456789"), 1000)
	id, _ = alice.Send(OutgoingMessage{ContentType: "text/plain", Body: body, SuccessReport: true})
	if rec := waitEvent[Received](t, bob); !bytes.Equal(rec.Body, body) {
		t.Error("body differs")
	}
	if d := waitEvent[Delivered](t, alice); d.MessageID != id {
		t.Errorf("delivered %q", d.MessageID)
	}
}

func TestSessionFailureReportNo(t *testing.T) {
	alice, bob := pair(t, SessionConfig{}, SessionConfig{}, nil)
	for _, mode := range []string{"no", "partial"} {
		id, err := alice.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte("fire and forget"), FailureReport: mode})
		if err != nil {
			t.Fatal(err)
		}
		if d := waitEvent[Delivered](t, alice); d.MessageID != id {
			t.Errorf("%s: delivered %q", mode, d.MessageID)
		}
		if rec := waitEvent[Received](t, bob); rec.MessageID != id || rec.First.FailureReportMode() != mode {
			t.Errorf("%s: received %+v", mode, rec)
		}
	}
	if _, err := alice.Send(OutgoingMessage{ContentType: "text/plain", FailureReport: "maybe"}); err == nil {
		t.Error("Failure-Report maybe accepted")
	}
}

func TestSessionTLS(t *testing.T) {
	tp := newTLSPair(t)
	alice, bob := pair(t, SessionConfig{}, SessionConfig{}, tp)
	if !bob.LocalURI().Secure || !alice.LocalURI().Secure {
		t.Errorf("URIs %v %v are not msrps", alice.LocalURI(), bob.LocalURI())
	}
	id, _ := alice.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte("secret"), SuccessReport: true})
	if rec := waitEvent[Received](t, bob); string(rec.Body) != "secret" {
		t.Errorf("received %q", rec.Body)
	}
	if d := waitEvent[Delivered](t, alice); d.MessageID != id {
		t.Errorf("delivered %q", d.MessageID)
	}
	id, _ = bob.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte("back")})
	if rec := waitEvent[Received](t, alice); string(rec.Body) != "back" {
		t.Errorf("received %q", rec.Body)
	}
	if d := waitEvent[Delivered](t, bob); d.MessageID != id {
		t.Errorf("delivered %q", d.MessageID)
	}
}

func TestSessionLargeMessage(t *testing.T) {
	alice, bob := pair(t, SessionConfig{}, SessionConfig{MaxMessageSize: 32 << 20}, nil)
	body := make([]byte, 10<<20)
	rand.Read(body)
	want := sha256.Sum256(body)
	id, err := alice.Send(OutgoingMessage{ContentType: "application/octet-stream", Body: body, SuccessReport: true})
	if err != nil {
		t.Fatal(err)
	}
	rec := waitEvent[Received](t, bob)
	if rec.MessageID != id || sha256.Sum256(rec.Body) != want {
		t.Errorf("received %s of %d octets, hash differs or id", rec.MessageID, len(rec.Body))
	}
	if d := waitEvent[Delivered](t, alice); d.MessageID != id {
		t.Errorf("delivered %q", d.MessageID)
	}
	// The same from an io.Reader of unknown size, in 64 KiB chunks the
	// other way.
	bob.cfg.ChunkSize = 64 << 10
	id, err = bob.Send(OutgoingMessage{ContentType: "application/octet-stream", Reader: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	rec = waitEvent[Received](t, alice)
	if rec.MessageID != id || sha256.Sum256(rec.Body) != want {
		t.Errorf("received %s of %d octets, hash differs or id", rec.MessageID, len(rec.Body))
	}
	if d := waitEvent[Delivered](t, bob); d.MessageID != id {
		t.Errorf("delivered %q", d.MessageID)
	}
}

func TestSessionAcceptBeforeConnect(t *testing.T) {
	// The connection may bind before Accept: Received events flow, and
	// Connected comes with Accept.
	l, err := Listen("tcp", "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	bob, err := l.NewSession(SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	if _, err := l.NewSession(SessionConfig{LocalURI: URI{SessionID: bob.LocalURI().SessionID}}); err == nil {
		t.Error("duplicate session-id accepted")
	}
	alice, _ := NewSession(SessionConfig{LocalURI: URI{Host: "127.0.0.1"}})
	defer alice.Close()
	if err := alice.Connect(testCtx(t), []URI{bob.LocalURI()}); err != nil {
		t.Fatal(err)
	}
	alice.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte("early")})
	if rec := waitEvent[Received](t, bob); string(rec.Body) != "early" {
		t.Errorf("received %q", rec.Body)
	}
	if err := bob.Accept(testCtx(t), []URI{alice.LocalURI()}); err != nil {
		t.Fatal(err)
	}
	waitEvent[Connected](t, bob)
	if err := bob.Accept(testCtx(t), []URI{alice.LocalURI()}); !errors.Is(err, ErrStarted) {
		t.Errorf("second Accept: %v", err)
	}
	// A second connection for the same session: 506, and the first
	// connection keeps working.
	other, _ := NewSession(SessionConfig{LocalURI: URI{Host: "127.0.0.1"}})
	defer other.Close()
	var se *StatusError
	if err := other.Connect(testCtx(t), []URI{bob.LocalURI()}); !errors.As(err, &se) || se.Code != StatusSessionAlreadyInUse {
		t.Errorf("second connection: %v", err)
	}
	id, _ := bob.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte("still here")})
	if d := waitEvent[Delivered](t, bob); d.MessageID != id {
		t.Errorf("delivered %s", d.MessageID)
	}
}

func TestSessionConnectUnknown(t *testing.T) {
	l, err := Listen("tcp", "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	alice, _ := NewSession(SessionConfig{LocalURI: URI{Host: "127.0.0.1"}})
	defer alice.Close()
	pending, _ := alice.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte("queued")})
	var se *StatusError
	if err := alice.Connect(testCtx(t), []URI{l.URI("nosuchsession")}); !errors.As(err, &se) || se.Code != StatusNoSession {
		t.Fatalf("connect to unknown session: %v", err)
	}
	if nd := waitEvent[NotDelivered](t, alice); nd.MessageID != pending || nd.Code != 0 {
		t.Errorf("queued message: %+v", nd)
	}
	if c := waitEvent[Closed](t, alice); !errors.As(c.Err, &se) {
		t.Errorf("closed with %v", c.Err)
	}
	// Accept on a session without a listener.
	if err := alice.Accept(testCtx(t), []URI{l.URI("x")}); !errors.Is(err, ErrNoListener) {
		t.Errorf("Accept without listener: %v", err)
	}
}

// rawPeer is a test MSRP peer driven by hand.
type rawPeer struct {
	ln net.Listener
	c  net.Conn
	r  *Reader
}

func newRawPeer(t *testing.T) *rawPeer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &rawPeer{ln: ln}
	t.Cleanup(func() {
		ln.Close()
		if p.c != nil {
			p.c.Close()
		}
	})
	return p
}

func (p *rawPeer) uri() URI {
	a := p.ln.Addr().(*net.TCPAddr)
	return URI{Host: "127.0.0.1", Port: a.Port, SessionID: "rawpeer", Transport: "tcp"}
}

// accept takes the connection and answers the binding SEND.
func (p *rawPeer) accept(t *testing.T) {
	t.Helper()
	c, err := p.ln.Accept()
	if err != nil {
		t.Error(err)
		return
	}
	p.c = c
	p.r = NewReader(c, ReaderOptions{})
	bind := p.read(t)
	if bind == nil || bind.Method != MethodSEND || len(bind.Body) != 0 {
		t.Errorf("binding request %+v", bind)
		return
	}
	p.write(t, NewResponse(bind, StatusOK, ""))
}

func (p *rawPeer) read(t *testing.T) *Message {
	t.Helper()
	m, err := p.r.Read()
	if err != nil {
		t.Errorf("raw peer read: %v", err)
		return nil
	}
	return m
}

func (p *rawPeer) write(t *testing.T, m *Message) {
	t.Helper()
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.c.Write(b); err != nil {
		t.Error(err)
	}
}

// connectRaw connects a session to a raw peer.
func connectRaw(t *testing.T, cfg SessionConfig) (*Session, *rawPeer) {
	t.Helper()
	p := newRawPeer(t)
	cfg.LocalURI.Host = "127.0.0.1"
	s, err := NewSession(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	done := make(chan struct{})
	go func() { defer close(done); p.accept(t) }()
	if err := s.Connect(testCtx(t), []URI{p.uri()}); err != nil {
		t.Fatal(err)
	}
	<-done
	waitEvent[Connected](t, s)
	return s, p
}

func TestSessionReportAfterResponse(t *testing.T) {
	// The 200 to the last chunk does not deliver a message that asked
	// for a success report: the failure REPORT that follows decides.
	s, p := connectRaw(t, SessionConfig{})
	id, _ := s.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte("x"), SuccessReport: true})
	m := p.read(t)
	if m == nil || m.MessageID != id || !m.WantsSuccessReport() {
		t.Fatalf("got %+v", m)
	}
	p.write(t, NewResponse(m, StatusOK, ""))
	p.write(t, NewReport(m, ByteRange{Start: 1, End: 1, Total: 1}, Status{Code: 413, Comment: "Too big"}))
	if nd := waitEvent[NotDelivered](t, s); nd.MessageID != id || nd.Code != 413 || nd.Reason != "Too big" {
		t.Errorf("got %+v", nd)
	}
	// And a success REPORT delivers it.
	id, _ = s.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte("y"), SuccessReport: true})
	m = p.read(t)
	p.write(t, NewResponse(m, StatusOK, ""))
	p.write(t, NewReport(m, ByteRange{Start: 1, End: 1, Total: 1}, Status{Code: 200, Comment: "OK"}))
	if d := waitEvent[Delivered](t, s); d.MessageID != id {
		t.Errorf("delivered %s", d.MessageID)
	}
	// An error response fails a message and stops its chunks: of a
	// 64 MiB message in 4 KiB chunks, what was in flight still comes
	// (socket buffers), then the next message.
	const size, chunk = 64 << 20, 4 << 10
	id, _ = s.Send(OutgoingMessage{ContentType: "application/octet-stream", Reader: io.LimitReader(zeros{}, size),
		Size: size, ChunkSize: chunk})
	m = p.read(t)
	p.write(t, NewResponse(m, StatusStopSending, ""))
	if nd := waitEvent[NotDelivered](t, s); nd.MessageID != id || nd.Code != StatusStopSending {
		t.Errorf("got %+v", nd)
	}
	next, _ := s.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte("next")})
	chunks := 1
	for {
		m = p.read(t)
		if m == nil {
			t.Fatal("the connection ended before the next message")
		}
		if m.MessageID == next {
			break
		}
		chunks++
	}
	if chunks >= size/chunk {
		t.Errorf("all %d chunks were sent after the 413", chunks)
	}
}

// zeros is an endless reader of zero octets.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestSessionTransactionTimeout(t *testing.T) {
	s, p := connectRaw(t, SessionConfig{TransactionTimeout: 200 * time.Millisecond})
	go io.Copy(io.Discard, p.c) // reads and never answers
	id, _ := s.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte("anyone?")})
	if nd := waitEvent[NotDelivered](t, s); nd.MessageID != id || nd.Code != StatusRequestTimeout {
		t.Errorf("got %+v, want 408", nd)
	}
	// A report that never comes times out too.
	s.cfg.ReportTimeout = 200 * time.Millisecond
	s.cfg.TransactionTimeout = time.Hour
	id, _ = s.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte("report?"), SuccessReport: true, FailureReport: "no"})
	if nd := waitEvent[NotDelivered](t, s); nd.MessageID != id || nd.Code != StatusRequestTimeout {
		t.Errorf("got %+v, want 408", nd)
	}
}

func TestSessionPeerClosesWithPending(t *testing.T) {
	s, p := connectRaw(t, SessionConfig{ChunkSize: 64})
	const n = 40
	sent := map[string]bool{}
	for i := range n {
		id, err := s.Send(OutgoingMessage{ContentType: "text/plain", Body: bytes.Repeat([]byte{'a' + byte(i%26)}, 100*(i+1))})
		if err != nil {
			t.Fatal(err)
		}
		sent[id] = true
	}
	// Answer the first chunk, then drop the connection.
	if m := p.read(t); m != nil {
		p.write(t, NewResponse(m, StatusOK, ""))
	}
	p.c.Close()
	outcomes := 0
	var closed *Closed
	for _, ev := range drain(t, s) {
		switch e := ev.(type) {
		case Delivered:
			t.Errorf("%s delivered without its responses", e.MessageID)
		case NotDelivered:
			if !sent[e.MessageID] {
				t.Errorf("outcome for %s, not sent or twice", e.MessageID)
			}
			delete(sent, e.MessageID)
			if e.Code != 0 || e.Reason != "connection lost" {
				t.Errorf("NotDelivered %+v", e)
			}
			outcomes++
		case Closed:
			closed = &e
		}
	}
	if outcomes != n {
		t.Errorf("%d outcomes for %d messages", outcomes, n)
	}
	if closed == nil || !errors.Is(closed.Err, ErrConnectionLost) {
		t.Errorf("closed: %+v", closed)
	}
}

func TestSessionCloseWithPending(t *testing.T) {
	s, p := connectRaw(t, SessionConfig{})
	go io.Copy(io.Discard, p.c)
	const n = 30
	for range n {
		if _, err := s.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte("pending")}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	evs := drain(t, s)
	if len(evs) != n+1 {
		t.Fatalf("%d events for %d messages", len(evs), n)
	}
	for _, ev := range evs[:n] {
		if nd, ok := ev.(NotDelivered); !ok || nd.Code != 0 || nd.Reason != "session closed" {
			t.Errorf("event %#v", ev)
		}
	}
}

func TestSessionEventOverflow(t *testing.T) {
	alice, bob := pair(t, SessionConfig{}, SessionConfig{MaxQueuedEvents: 3}, nil)
	// bob does not read: the 4th event closes it, and alice loses the
	// connection; every message of alice still has one outcome.
	const n = 5
	for range n {
		alice.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte("flood")})
	}
	outcomes, delivered := 0, 0
	for _, ev := range drain(t, alice) {
		switch e := ev.(type) {
		case Delivered:
			outcomes++
			delivered++
		case NotDelivered:
			outcomes++
		case Closed:
			if !errors.Is(e.Err, ErrConnectionLost) {
				t.Errorf("alice closed with %v", e.Err)
			}
		}
	}
	if outcomes != n {
		t.Errorf("%d outcomes for %d messages", outcomes, n)
	}
	evs := drain(t, bob)
	if len(evs) != 4 {
		t.Errorf("bob has %d events, want 3 Received and Closed: %v", len(evs), evs)
	}
	if delivered != len(evs)-1 {
		t.Errorf("alice has %d messages delivered, bob received %d", delivered, len(evs)-1)
	}
	if c, ok := evs[len(evs)-1].(Closed); !ok || !errors.Is(c.Err, ErrEventOverflow) {
		t.Errorf("bob's last event %v", evs[len(evs)-1])
	}
}

// The bodies waiting in Events are bounded in octets too: a consumer
// that does not read while large messages arrive closes the session
// (ErrEventOverflow) before MaxQueuedBytes are held, not after
// MaxQueuedEvents messages of any size.
func TestSessionEventOverflowBytes(t *testing.T) {
	alice, bob := pair(t, SessionConfig{}, SessionConfig{MaxQueuedBytes: 10 << 10}, nil)
	const n = 5
	for range n {
		alice.Send(OutgoingMessage{ContentType: "text/plain", Body: bytes.Repeat([]byte("x"), 4<<10)})
	}
	outcomes := 0
	for _, ev := range drain(t, alice) {
		switch ev.(type) {
		case Delivered, NotDelivered:
			outcomes++
		}
	}
	if outcomes != n {
		t.Errorf("%d outcomes for %d messages", outcomes, n)
	}
	evs := drain(t, bob)
	if len(evs) != 3 {
		t.Errorf("bob has %d events, want 2 Received (8 KiB of 10) and Closed: %v", len(evs), evs)
	}
	if c, ok := evs[len(evs)-1].(Closed); !ok || !errors.Is(c.Err, ErrEventOverflow) {
		t.Errorf("bob's last event %v", evs[len(evs)-1])
	}
}

func TestSessionQueueFull(t *testing.T) {
	s, _ := NewSession(SessionConfig{LocalURI: URI{Host: "127.0.0.1"}, MaxPendingMessages: 2})
	defer s.Close()
	for i := range 3 {
		_, err := s.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte("x")})
		if (i < 2) != (err == nil) || i == 2 && !errors.Is(err, ErrQueueFull) {
			t.Errorf("Send %d: %v", i, err)
		}
	}
}

// rawClient connects to a listener and speaks MSRP by hand.
func rawClient(t *testing.T, l *Listener) (net.Conn, *Reader) {
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(testWait))
	return c, NewReader(c, ReaderOptions{})
}

func rawSEND(to, from, contentType, body string) string {
	tid := NewTransactionID()
	s := "MSRP " + tid + " SEND\r\nTo-Path: " + to + "\r\nFrom-Path: " + from + "\r\nMessage-ID: " + NewMessageID() + "\r\n"
	if contentType != "" {
		s += "Byte-Range: 1-" + fmt.Sprint(len(body)) + "/" + fmt.Sprint(len(body)) + "\r\nContent-Type: " + contentType + "\r\n\r\n" + body + "\r\n"
	}
	return s + "-------" + tid + "$\r\n"
}

func readStatus(t *testing.T, r *Reader) int {
	t.Helper()
	m, err := r.Read()
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	if m.Request {
		t.Fatalf("got a %s request, want a response", m.Method)
	}
	return m.StatusCode
}

func TestListenerErrors(t *testing.T) {
	l, err := ListenConfig{FirstRequestTimeout: 200 * time.Millisecond}.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	bob, _ := l.NewSession(SessionConfig{AcceptTypes: []string{"text/plain"}})
	defer bob.Close()
	from := "msrp://127.0.0.1:9/rawclient;tcp"

	t.Run("unknown session 481, closed after 3", func(t *testing.T) {
		c, r := rawClient(t, l)
		for range maxUnknownRequests {
			io.WriteString(c, rawSEND(l.URI("nosuch").String(), from, "text/plain", "hi"))
			if code := readStatus(t, r); code != StatusNoSession {
				t.Errorf("got %d, want 481", code)
			}
		}
		if _, err := r.Read(); err == nil {
			t.Error("connection still open")
		}
	})
	t.Run("malformed 400", func(t *testing.T) {
		c, r := rawClient(t, l)
		io.WriteString(c, "MSRP abcd SEND\r\nTo-Path: "+bob.LocalURI().String()+"\r\nFrom-Path: "+from+
			"\r\nMessage-ID: 1234\r\nByte-Range: banana\r\nContent-Type: text/plain\r\n\r\nhi\r\n-------abcd$\r\n")
		if code := readStatus(t, r); code != StatusBadRequest {
			t.Errorf("got %d, want 400", code)
		}
		// Framing was kept: the connection still answers.
		io.WriteString(c, rawSEND(l.URI("nosuch").String(), from, "text/plain", "hi"))
		if code := readStatus(t, r); code != StatusNoSession {
			t.Errorf("got %d, want 481", code)
		}
		// Framing lost: closed.
		io.WriteString(c, "HTTP/1.1 GET /\r\n\r\n")
		if _, err := r.Read(); err == nil {
			t.Error("connection still open after garbage")
		}
	})
	t.Run("bound: 415, 501, 481, REPORT unanswered", func(t *testing.T) {
		c, r := rawClient(t, l)
		to := bob.LocalURI().String()
		io.WriteString(c, rawSEND(to, from, "", ""))
		if code := readStatus(t, r); code != StatusOK {
			t.Errorf("binding SEND: got %d", code)
		}
		io.WriteString(c, rawSEND(to, from, "image/png", "PNG"))
		if code := readStatus(t, r); code != StatusUnsupportedMedia {
			t.Errorf("got %d, want 415", code)
		}
		io.WriteString(c, "MSRP rep1 REPORT\r\nTo-Path: "+to+"\r\nFrom-Path: "+from+"\r\nMessage-ID: nosuch\r\nStatus: 000 200 OK\r\n-------rep1$\r\n")
		io.WriteString(c, "MSRP opt1 OPTIONS\r\nTo-Path: "+to+"\r\nFrom-Path: "+from+"\r\n-------opt1$\r\n")
		if code := readStatus(t, r); code != StatusUnknownMethod {
			t.Errorf("got %d, want 501 (REPORT answered?)", code)
		}
		io.WriteString(c, rawSEND(l.URI("other").String(), from, "text/plain", "hi"))
		if code := readStatus(t, r); code != StatusNoSession {
			t.Errorf("got %d, want 481", code)
		}
		io.WriteString(c, rawSEND(to, from, "text/plain", "accepted"))
		if code := readStatus(t, r); code != StatusOK {
			t.Errorf("got %d, want 200", code)
		}
		if rec := waitEvent[Received](t, bob); string(rec.Body) != "accepted" {
			t.Errorf("received %q", rec.Body)
		}
	})
	t.Run("first request timeout", func(t *testing.T) {
		_, r := rawClient(t, l)
		if _, err := r.Read(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("idle connection: %v, want closed by the listener", err)
		}
	})
}

func TestSessionInterleavedIncoming(t *testing.T) {
	l, _ := Listen("tcp", "127.0.0.1:0", nil)
	defer l.Close()
	bob, _ := l.NewSession(SessionConfig{})
	defer bob.Close()
	c, r := rawClient(t, l)
	to, _ := ParsePath(bob.LocalURI().String())
	from, _ := ParsePath("msrp://127.0.0.1:9/rawclient;tcp")
	a := NewChunker(&Message{ToPath: to, FromPath: from, MessageID: "msgA", ContentType: "text/plain", SuccessReport: "yes"},
		strings.NewReader(strings.Repeat("A", 100)), 100, 30)
	b := NewChunker(&Message{ToPath: to, FromPath: from, MessageID: "msgB", ContentType: "text/plain"},
		strings.NewReader(strings.Repeat("B", 50)), -1, 30)
	var frames []*Message
	for {
		ma, errA := a.Next()
		mb, errB := b.Next()
		if ma != nil {
			frames = append(frames, ma)
		}
		if mb != nil {
			frames = append(frames, mb)
		}
		if errA != nil && errB != nil {
			break
		}
	}
	for _, m := range frames {
		w, _ := m.Marshal()
		c.Write(w)
	}
	got := map[string]string{}
	for range 2 {
		rec := waitEvent[Received](t, bob)
		got[rec.MessageID] = string(rec.Body)
	}
	if got["msgA"] != strings.Repeat("A", 100) || got["msgB"] != strings.Repeat("B", 50) {
		t.Errorf("got %v", got)
	}
	responses, report := 0, false
	for responses < len(frames) || !report {
		m, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		if m.Request && m.Method == MethodREPORT {
			report = m.MessageID == "msgA" && m.Status.Code == 200 && m.ByteRange == ByteRange{1, 100, 100}
			if !report {
				t.Errorf("REPORT %+v", m)
			}
		} else if !m.Request && m.StatusCode == 200 {
			responses++
		}
	}
}

// tlsPair is a self-signed server certificate for 127.0.0.1 and a client
// configuration that trusts it.
type tlsPair struct{ server, client *tls.Config }

func newTLSPair(t testing.TB) *tlsPair {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "msrp test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tlsPair{
		server: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}},
		client: &tls.Config{RootCAs: pool},
	}
}

// BenchmarkSessionSendWithReports measures messages per second between
// two sessions over loopback TCP, each message a small text asking for a
// success report: SEND, 200 and REPORT per message, up to window
// messages in flight.
func BenchmarkSessionSendWithReports(b *testing.B) {
	const window = 512
	alice, bob := pair(b, SessionConfig{MaxPendingMessages: window}, SessionConfig{MaxQueuedEvents: 4096}, nil)
	var wg sync.WaitGroup
	wg.Add(1)
	received := 0
	go func() { // bob's consumer
		defer wg.Done()
		for ev := range bob.Events() {
			if _, ok := ev.(Received); ok {
				received++
			}
		}
	}()
	body := []byte("Hey Bob, are you there?")
	inFlight := 0
	outcome := func() {
		for {
			switch e := nextEvent(b, alice).(type) {
			case Delivered:
				inFlight--
				return
			case NotDelivered:
				b.Fatalf("not delivered: %+v", e)
			}
		}
	}
	b.ReportAllocs()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if inFlight == window {
			outcome()
		}
		if _, err := alice.Send(OutgoingMessage{ContentType: "text/plain", Body: body, SuccessReport: true}); err != nil {
			b.Fatal(err)
		}
		inFlight++
	}
	for inFlight > 0 {
		outcome()
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	bob.Close()
	wg.Wait()
	if received != b.N {
		b.Errorf("bob received %d of %d", received, b.N)
	}
}

func TestListenerCloseEndsAccept(t *testing.T) {
	l, err := Listen("tcp", "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	bob, _ := l.NewSession(SessionConfig{})
	defer bob.Close()
	late, _ := l.NewSession(SessionConfig{})
	defer late.Close()
	// ctx ends first: the session keeps waiting.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	remote := []URI{mustURI(t, "msrp://127.0.0.1:9/x;tcp")}
	if err := bob.Accept(ctx, remote); !errors.Is(err, context.Canceled) {
		t.Errorf("Accept with a canceled ctx: %v", err)
	}
	l.Close()
	if c := waitEvent[Closed](t, bob); !errors.Is(c.Err, ErrListenerClosed) {
		t.Errorf("closed with %v", c.Err)
	}
	if err := late.Accept(testCtx(t), remote); !errors.Is(err, ErrListenerClosed) {
		t.Errorf("Accept after the listener closed: %v", err)
	}
	if _, err := l.NewSession(SessionConfig{}); !errors.Is(err, ErrListenerClosed) {
		t.Errorf("NewSession after Close: %v", err)
	}
}
