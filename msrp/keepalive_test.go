package msrp

import (
	"errors"
	"net"
	"testing"
	"time"
)

// An idle connection carries empty SENDs: the peer sees them on the wire
// (bodiless, Byte-Range 1-0/0, the session's To-Path) and answers them,
// and the session stays up and reports nothing.
func TestKeepAliveIdle(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s, err := NewSession(SessionConfig{KeepAlive: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	peer := URI{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, SessionID: "peer", Transport: "tcp"}
	connected := make(chan error, 1)
	go func() { connected <- s.Connect(testCtx(t), []URI{peer}) }()
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(testWait))
	rd := NewReader(nc, ReaderOptions{})
	answer := func(what string) *Message {
		t.Helper()
		m, err := rd.Read()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		b, _ := NewResponse(m, StatusOK, "").Marshal()
		if _, err := nc.Write(b); err != nil {
			t.Fatal(err)
		}
		return m
	}
	answer("the binding SEND")
	if err := <-connected; err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		m := answer("a keep-alive")
		if m.Method != MethodSEND || len(m.Body) != 0 || m.ByteRange != (ByteRange{Start: 1, End: 0, Total: 0}) ||
			len(m.ToPath) != 1 || !m.ToPath[0].Equal(peer) {
			t.Fatalf("keep-alive %d: %s %v to %v, body %d octets", i, m.Method, m.ByteRange, m.ToPath, len(m.Body))
		}
	}
	waitEvent[Connected](t, s)
	select {
	case ev := <-s.Events():
		t.Fatalf("the session reported %T while idle", ev)
	default:
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
