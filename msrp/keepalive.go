package msrp

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// keepAliveLoop sends an empty SEND (RFC 4975 section 7.1.1 allows a
// SEND without body) over a connection that carried nothing, in either
// direction, for SessionConfig.KeepAlive: it keeps NAT bindings and
// relay connections open and finds a dead peer, ending the session when
// the SEND is not answered within TransactionTimeout (ErrConnectionLost)
// while nothing else arrives either (a peer in the middle of a large
// chunk answers after it), or is refused (*StatusError).
func (s *Session) keepAliveLoop() {
	defer s.wg.Done()
	c, to, from, _, ok := s.awaitReady()
	if !ok {
		return
	}
	last := c.activity()
	t := time.NewTicker(s.cfg.KeepAlive)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-s.done:
			return
		}
		if n := c.activity(); n != last {
			last = n
			continue
		}
		rx := c.rx.Load()
		resp, err := s.transact(context.Background(), emptySEND(to, from))
		select {
		case <-s.done:
			return
		default:
		}
		switch {
		case errors.Is(err, ErrNoResponse) && c.rx.Load() != rx:
			// No answer yet, but the peer is sending: alive.
		case err != nil:
			s.terminate(fmt.Errorf("%w: keep-alive: %v", ErrConnectionLost, err))
			return
		case resp.StatusCode != StatusOK:
			s.terminate(fmt.Errorf("msrp: keep-alive refused: %w", &StatusError{Code: resp.StatusCode, Comment: resp.Comment}))
			return
		}
		last = c.activity()
	}
}

// emptySEND is a SEND without body (RFC 4975 section 7.1.1): the
// binding SEND of Connect, and a keep-alive.
func emptySEND(to, from []URI) *Message {
	return &Message{Request: true, Method: MethodSEND, TransactionID: NewTransactionID(),
		ToPath: to, FromPath: from, MessageID: NewMessageID(),
		ByteRange: ByteRange{Start: 1, End: 0, Total: 0}, Flag: FlagComplete}
}

// Request sends a request of method (not SEND nor REPORT: an extension
// such as python-sipsimple's FILE_OFFSET) with headers to the peer over
// the connected session and returns its response; an error when the
// session is not connected yet, ends, no response comes within
// TransactionTimeout (ErrNoResponse), or ctx ends.
func (s *Session) Request(ctx context.Context, method string, headers []Header) (*Message, error) {
	if method == MethodSEND || method == MethodREPORT || method == "" {
		return nil, fmt.Errorf("msrp: Request cannot send %q", method)
	}
	s.mu.Lock()
	ready, to, from := s.isReady, s.remote, s.from
	s.mu.Unlock()
	if !ready {
		return nil, errors.New("msrp: Request before the session is connected")
	}
	req := &Message{Request: true, Method: method, TransactionID: NewTransactionID(), ToPath: to, FromPath: from,
		Headers: slices.Clone(headers)}
	return s.transact(ctx, req)
}
