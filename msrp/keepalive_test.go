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

// A chunk that takes longer than KeepAlive + TransactionTimeout to arrive
// is activity all along: the keep-alive does not end the session, whose
// unanswered empty SEND the peer answers only after the chunk.
func TestKeepAliveDuringLongChunk(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s, err := NewSession(SessionConfig{KeepAlive: 20 * time.Millisecond, TransactionTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	peer := URI{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, SessionID: "slow", Transport: "tcp"}
	connected := make(chan error, 1)
	go func() { connected <- s.Connect(testCtx(t), []URI{peer}) }()
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(testWait))
	rd := NewReader(nc, ReaderOptions{})
	bind, err := rd.Read()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewResponse(bind, StatusOK, "").Marshal()
	nc.Write(b)
	if err := <-connected; err != nil {
		t.Fatal(err)
	}
	// Requests from the session (keep-alives) are read all along and
	// answered once the chunk is out, as a peer whose writer is busy
	// with the chunk would.
	pending := make(chan *Message, 64)
	go func() {
		defer close(pending)
		for {
			m, err := rd.Read()
			if err != nil {
				return
			}
			if m.Request {
				pending <- m
			}
		}
	}()
	body := make([]byte, 40<<10)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	frame, err := (&Message{Request: true, Method: MethodSEND, TransactionID: NewTransactionID(),
		ToPath: bind.FromPath, FromPath: []URI{peer}, MessageID: "long", ContentType: "text/plain",
		ByteRange: ByteRange{Start: 1, End: int64(len(body)), Total: int64(len(body))}, Flag: FlagComplete,
		Body: body}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// A slow link: 1 KiB every 20 ms, about 800 ms for the chunk, well
	// past KeepAlive + TransactionTimeout (a pace, not a synchronisation).
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for off := 0; off < len(frame); off += 1 << 10 {
		<-tick.C
		if _, err := nc.Write(frame[off:min(off+1<<10, len(frame))]); err != nil {
			t.Fatalf("writing the chunk: %v", err)
		}
	}
	got := waitEvent[Received](t, s)
	if got.MessageID != "long" || string(got.Body) != string(body) {
		t.Fatalf("received %s, %d octets", got.MessageID, len(got.Body))
	}
	for {
		select {
		case m := <-pending:
			b, _ := NewResponse(m, StatusOK, "").Marshal()
			nc.Write(b)
			continue
		default:
		}
		break
	}
	select {
	case ev := <-s.Events():
		if c, ok := ev.(Closed); ok {
			t.Fatalf("the session closed: %v", c.Err)
		}
	default:
	}
}
