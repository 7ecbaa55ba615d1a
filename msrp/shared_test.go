package msrp

import (
	"net"
	"testing"
	"time"
)

// sharedPeer binds sessions of l over one connection it dialled, as a relay
// does, and returns the connection and its reader.
func sharedPeer(t *testing.T, l *Listener, sessions ...*Session) (net.Conn, *Reader) {
	t.Helper()
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	from := URI{Host: "127.0.0.1", Port: 9, SessionID: "peer", Transport: "tcp"}
	rd := NewReader(nc, ReaderOptions{})
	for _, s := range sessions {
		bind := &Message{Request: true, Method: MethodSEND, TransactionID: NewTransactionID(), ToPath: []URI{s.LocalURI()},
			FromPath: []URI{from}, MessageID: NewMessageID(), ByteRange: ByteRange{Start: 1, End: 0, Total: 0}}
		b, err := bind.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := nc.Write(b); err != nil {
			t.Fatal(err)
		}
		nc.SetReadDeadline(time.Now().Add(testWait))
		r, err := rd.Read()
		if err != nil || r.StatusCode != StatusOK || r.TransactionID != bind.TransactionID {
			t.Fatalf("binding %s: %+v, %v", s.LocalURI(), r, err)
		}
		if err := s.Accept(testCtx(t), []URI{from}); err != nil {
			t.Fatal(err)
		}
	}
	return nc, rd
}

// A session on a connection others share closes at once even when the
// peer stopped reading and its sender is blocked on the connection; the
// other session lives on, and requests for the closed one (late chunks)
// are answered 481 without closing the connection.
func TestSharedConnectionClose(t *testing.T) {
	l, err := Listen("tcp", "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a, err := l.NewSession(SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.NewSession(SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	nc, rd := sharedPeer(t, l, a, b)
	// The peer reads nothing now: a's 32 MiB fill the socket buffers.
	if _, err := a.Send(OutgoingMessage{ContentType: "application/octet-stream", Body: make([]byte, 32<<20), ChunkSize: 64 << 10}); err != nil {
		t.Fatal(err)
	}
	// Until a's sender is blocked: the writer's queue is full (a bounded
	// poll on the connection's state, the only sign there is).
	deadline := time.Now().Add(testWait)
	for c := a.conn; len(c.data) < cap(c.data); {
		if time.Now().After(deadline) {
			t.Fatal("the writer's queue never filled")
		}
		time.Sleep(time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { a.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(testWait):
		t.Fatal("Close of a session sharing its connection hangs while the peer does not read")
	}
	// The peer reads again: what a queued may still be in the socket;
	// then requests for a (ended) are refused, b's go through.
	refused := make(chan struct{}, 64)
	go func() {
		for {
			m, err := rd.Read()
			if err != nil {
				return
			}
			if !m.Request && m.StatusCode == StatusNoSession {
				refused <- struct{}{}
			}
		}
	}()
	from := URI{Host: "127.0.0.1", Port: 9, SessionID: "peer", Transport: "tcp"}
	for range maxUnknownRequests + 2 {
		m := &Message{Request: true, Method: MethodSEND, TransactionID: NewTransactionID(), ToPath: []URI{a.LocalURI()},
			FromPath: []URI{from}, MessageID: NewMessageID(), ContentType: "text/plain", Body: []byte("late")}
		buf, _ := m.Marshal()
		if _, err := nc.Write(buf); err != nil {
			t.Fatal(err)
		}
	}
	m := &Message{Request: true, Method: MethodSEND, TransactionID: NewTransactionID(), ToPath: []URI{b.LocalURI()},
		FromPath: []URI{from}, MessageID: NewMessageID(), ContentType: "text/plain", Body: []byte("for b")}
	buf, _ := m.Marshal()
	if _, err := nc.Write(buf); err != nil {
		t.Fatal(err)
	}
	if got := waitEvent[Received](t, b); string(got.Body) != "for b" {
		t.Fatalf("b received %q", got.Body)
	}
	for i := range maxUnknownRequests + 2 {
		select {
		case <-refused:
		case <-time.After(testWait):
			t.Fatalf("%d of the %d requests for the ended session answered 481", i, maxUnknownRequests+2)
		}
	}
}
