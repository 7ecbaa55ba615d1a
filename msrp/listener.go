package msrp

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// DefaultFirstRequestTimeout is how long an accepted connection may stay
// without a request that binds it to a session.
const DefaultFirstRequestTimeout = 30 * time.Second

// maxUnknownRequests is the number of requests for unknown sessions an
// unbound connection is answered (481) before it is closed.
const maxUnknownRequests = 3

// ErrListenerClosed is returned by a Listener's methods after Close, and
// by Session.Accept when the session's listener was closed.
var ErrListenerClosed = errors.New("msrp: listener closed")

// ListenConfig configures a Listener. The zero value listens for plain
// TCP with the defaults.
type ListenConfig struct {
	// TLSConfig, when set, makes the listener accept TLS (msrps URIs);
	// it needs a certificate.
	TLSConfig *tls.Config
	// FirstRequestTimeout bounds the time between accepting a
	// connection and the request that binds it to a session (default
	// DefaultFirstRequestTimeout). Idle or unknown connections are
	// closed after it.
	FirstRequestTimeout time.Duration
	// Logger receives debug logs of the listener and its connections
	// before they are bound; nil discards them.
	Logger *slog.Logger
}

// Listener accepts the MSRP connections of passive sessions (RFC 4975
// section 8, RFC 6135): sessions are created on it with NewSession and get
// the listener's address in their URI; a connection is bound to the
// session named by the To-Path of its first request (compared with
// URI.Equal). Requests for unknown sessions are answered 481, and after a
// few of them (or FirstRequestTimeout without a binding request) the
// connection is closed. A session already bound to a connection answers
// another connection's attempt with 506.
//
// An accepted connection carries every session its requests bind (RFC
// 4975 section 8.1: a relay sends all its sessions to us over one
// connection); a session we Connect dials a connection of its own.
type Listener struct {
	ln        net.Listener
	cfg       ListenConfig
	log       *slog.Logger
	host      string
	port      int
	secure    bool
	acceptEnd chan struct{}
	quit      chan struct{} // closed by Close

	mu       sync.Mutex
	closed   bool
	sessions map[string]*Session // by session-id
	conns    map[*conn]struct{}  // accepted, not yet bound
}

// Listen listens on a TCP address ("127.0.0.1:0", "[::]:2855"), with TLS
// when tlsConfig is not nil. See ListenConfig.Listen.
func Listen(network, address string, tlsConfig *tls.Config) (*Listener, error) {
	return ListenConfig{TLSConfig: tlsConfig}.Listen(network, address)
}

// Listen listens on a TCP network ("tcp", "tcp4", "tcp6") and address.
func (lc ListenConfig) Listen(network, address string) (*Listener, error) {
	ln, err := net.Listen(network, address)
	if err != nil {
		return nil, err
	}
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		ln.Close()
		return nil, fmt.Errorf("msrp: listener address %v is not TCP", ln.Addr())
	}
	if lc.FirstRequestTimeout <= 0 {
		lc.FirstRequestTimeout = DefaultFirstRequestTimeout
	}
	l := &Listener{
		cfg:       lc,
		log:       orDiscard(lc.Logger),
		port:      addr.Port,
		secure:    lc.TLSConfig != nil,
		acceptEnd: make(chan struct{}),
		quit:      make(chan struct{}),
		sessions:  make(map[string]*Session),
		conns:     make(map[*conn]struct{}),
	}
	if !addr.IP.IsUnspecified() {
		l.host = addr.IP.String()
	}
	if lc.TLSConfig != nil {
		ln = tls.NewListener(ln, lc.TLSConfig)
	}
	l.ln = ln
	go l.acceptLoop()
	return l, nil
}

// Addr returns the listening address.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// URI returns the MSRP URI of a session with this id on the listener:
// msrp or msrps (with TLS), the listener's address, transport tcp. When
// listening on an unspecified address (0.0.0.0, ::) the host is empty and
// must be filled in by the caller.
func (l *Listener) URI(sessionID string) URI {
	return URI{Secure: l.secure, Host: l.host, Port: l.port, SessionID: sessionID, Transport: "tcp"}
}

// NewSession creates a session on the listener. cfg.LocalURI's scheme,
// port and transport are the listener's; its host is kept when set (a
// listener on 0.0.0.0 needs it), else the listener's address; an empty
// session-id is generated. The session can then Accept (passive) or
// Connect (active). It fails when the session-id is already in use.
func (l *Listener) NewSession(cfg SessionConfig) (*Session, error) {
	u := l.URI(cfg.LocalURI.SessionID)
	if cfg.LocalURI.Host != "" {
		u.Host = cfg.LocalURI.Host
	}
	u.User = cfg.LocalURI.User
	u.Params = cfg.LocalURI.Params
	if u.Host == "" {
		return nil, errors.New("msrp: LocalURI.Host is required with a listener on an unspecified address")
	}
	cfg.LocalURI = u
	s, err := NewSession(cfg)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, ErrListenerClosed
	}
	if _, dup := l.sessions[s.local.SessionID]; dup {
		return nil, fmt.Errorf("msrp: session-id %s already in use on the listener", s.local.SessionID)
	}
	s.lis = l
	l.sessions[s.local.SessionID] = s
	return s, nil
}

// Close stops accepting, closes the connections not yet bound to a
// session and waits for their goroutines. Sessions created on the
// listener and their connections are not closed; those not yet connected
// can no longer be (Accept fails with ErrListenerClosed).
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	conns := make([]*conn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	sessions := make([]*Session, 0, len(l.sessions))
	for _, s := range l.sessions {
		sessions = append(sessions, s)
	}
	l.mu.Unlock()
	close(l.quit)
	err := l.ln.Close()
	<-l.acceptEnd
	for _, c := range conns {
		c.close(ErrListenerClosed)
	}
	for _, c := range conns {
		c.wait()
	}
	for _, s := range sessions {
		s.listenerClosed()
	}
	return err
}

func (l *Listener) acceptLoop() {
	defer close(l.acceptEnd)
	var delay time.Duration
	for {
		nc, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Temporary errors (EMFILE...): back off, as net/http does.
			l.log.Warn("msrp: accept", "err", err)
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-l.quit:
				t.Stop()
				return
			}
			continue
		}
		delay = 0
		c := newConn(nc, l.log)
		c.lis = l
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			nc.Close()
			return
		}
		l.conns[c] = struct{}{}
		l.mu.Unlock()
		nc.SetReadDeadline(time.Now().Add(l.cfg.FirstRequestTimeout))
		c.start()
	}
}

// bind binds c to the session its first request names, returning the
// session, or nil and the status to answer: 481 for an unknown session,
// 506 for a session bound to another connection.
func (l *Listener) bind(c *conn, to URI) (*Session, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, StatusNoSession
	}
	s := l.sessions[to.SessionID]
	if s == nil || !s.local.Equal(to) {
		l.log.Debug("msrp: request for unknown session", "to", to.String(), "remote", c.nc.RemoteAddr().String())
		return nil, StatusNoSession
	}
	if code := s.attach(c); code != 0 {
		return nil, code
	}
	delete(l.conns, c)
	return s, 0
}

// forget drops an unbound connection that ended.
func (l *Listener) forget(c *conn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

// unregister drops a closed session.
func (l *Listener) unregister(s *Session) {
	l.mu.Lock()
	if l.sessions[s.local.SessionID] == s {
		delete(l.sessions, s.local.SessionID)
	}
	l.mu.Unlock()
}
