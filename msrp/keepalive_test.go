package msrp

import (
	"errors"
	"net"
	"testing"
	"time"
)

// An idle connection carries empty SENDs: the peer answers them and
// reports nothing, and the session stays up.
func TestKeepAliveIdle(t *testing.T) {
	alice, bob := pair(t, SessionConfig{KeepAlive: 20 * time.Millisecond}, SessionConfig{}, nil)
	c := alice.conn
	// Wait (bounded) until a few keep-alives went and were answered: the
	// connection's frame count grows while nobody sends anything.
	deadline := time.After(testWait)
	start := c.activity.Load()
	for c.activity.Load() < start+6 {
		select {
		case <-deadline:
			t.Fatalf("no keep-alive traffic within %v", testWait)
		case <-time.After(5 * time.Millisecond): // polling a counter, not synchronising
		}
	}
	select {
	case ev := <-bob.Events():
		t.Fatalf("bob reported %T for a keep-alive", ev)
	case ev := <-alice.Events():
		t.Fatalf("alice reported %T while idle", ev)
	default:
	}
	if _, err := alice.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte("still here")}); err != nil {
		t.Fatal(err)
	}
	if got := waitEvent[Received](t, bob); string(got.Body) != "still here" {
		t.Fatalf("bob received %q", got.Body)
	}
}

// A peer that stops answering is found by the keep-alive: the session
// ends with ErrConnectionLost after TransactionTimeout.
func TestKeepAliveDeadPeer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// The peer answers the binding SEND, then reads and answers nothing.
	peerDone := make(chan struct{})
	go func() {
		defer close(peerDone)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		rd := NewReader(nc, ReaderOptions{})
		m, err := rd.Read()
		if err != nil {
			return
		}
		b, _ := NewResponse(m, StatusOK, "").Marshal()
		nc.Write(b)
		for {
			if _, err := rd.Read(); err != nil {
				return
			}
		}
	}()
	a := ln.Addr().(*net.TCPAddr)
	s, err := NewSession(SessionConfig{KeepAlive: 20 * time.Millisecond, TransactionTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	peer := URI{Host: "127.0.0.1", Port: a.Port, SessionID: "silent", Transport: "tcp"}
	if err := s.Connect(testCtx(t), []URI{peer}); err != nil {
		t.Fatal(err)
	}
	closed := waitEvent[Closed](t, s)
	if !errors.Is(closed.Err, ErrConnectionLost) {
		t.Fatalf("closed with %v, want ErrConnectionLost", closed.Err)
	}
	s.Close()
	<-peerDone
}
