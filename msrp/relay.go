package msrp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/icholy/digest"
)

// DefaultRelayPort is the port of a relay URI without one (RFC 4976
// section 6).
const DefaultRelayPort = 2855

// RelayChunkSize is the chunk size of a session that goes through a
// relay when SessionConfig.ChunkSize and OutgoingMessage.ChunkSize say
// nothing smaller: relays bound the frames they forward (Kamailio's msrp
// module 10 KiB of body), so large chunks meant for a direct connection
// would be refused.
const RelayChunkSize = 4096

// ErrNoResponse is the error of a request (AUTH, a keep-alive,
// Session.Request) that got no response within TransactionTimeout.
var ErrNoResponse = errors.New("msrp: no response within the transaction timeout")

// ErrRelayPending is returned by Connect and Accept called while
// ConnectRelay has not finished.
var ErrRelayPending = errors.New("msrp: the relay reservation is not done")

// ErrRelayAuth is wrapped by the error of ConnectRelay when the relay
// refused the credentials (a second 401, or 403).
var ErrRelayAuth = errors.New("msrp: relay refused the credentials")

// Relay is an MSRP relay (RFC 4976) a session reaches its peer through.
type Relay struct {
	// URI is the relay's URI, without a session-id:
	// msrps://relay.example.com:2855;tcp (or msrp: for TCP without TLS).
	// A URI without a port means 2855.
	URI URI
	// Username and Password answer the relay's digest challenge (the
	// SIP account's credentials, normally).
	Username, Password string
	// Expires asks for a lifetime of the reservation; 0 lets the relay
	// choose. The session renews it before it ends.
	Expires time.Duration
	// ServerName is the name to verify the relay's certificate against;
	// "" means URI.Host.
	ServerName string
}

// relayState is what ConnectRelay learnt, guarded by Session.mu.
type relayState struct {
	cfg      Relay
	uri      URI   // the relay's URI with its port
	usePath  []URI // the Use-Path of the last 200
	expires  time.Duration
	chal     *digest.Challenge // the last challenge, for renewals
	count    int               // nonce count of chal
	reserved bool              // the first AUTH succeeded
}

// ConnectRelay connects the session to relay and reserves a session
// there with AUTH (RFC 4976 section 5): it dials the relay (TLS for
// msrps, with SessionConfig.TLSConfig), answers its digest challenge with
// relay's credentials, and keeps the Use-Path the relay returned. Path
// then returns the path to advertise in SDP (the Use-Path and the
// session's URI), and Connect or Accept, called with the peer's path
// once the offer/answer is done, use this connection: every request goes
// to the relay with the Use-Path in front of the peer's path, and the
// relay delivers the peer's requests over it. Accept then needs no
// Listener and returns at once. The session renews the reservation
// before it expires.
//
// ConnectRelay must be called before Connect or Accept, once. When it
// fails (dial, handshake, a refusal as a *StatusError wrapping
// ErrRelayAuth for bad credentials, no Use-Path, ctx) the session is
// closed with that error.
func (s *Session) ConnectRelay(ctx context.Context, relay Relay) error {
	ru := relay.URI
	if ru.Port == 0 {
		ru.Port = DefaultRelayPort
	}
	if ru.Transport == "" {
		ru.Transport = "tcp"
	}
	if err := ru.Validate(); err != nil {
		return fmt.Errorf("msrp: relay URI: %w", err)
	}
	if ru.SessionID != "" {
		return fmt.Errorf("msrp: relay URI %s has a session-id", ru)
	}
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return s.closeErrOrLocked(ErrSessionClosed)
	case s.started || s.relay != nil || s.conn != nil:
		s.mu.Unlock()
		return ErrStarted
	}
	s.relay = &relayState{cfg: relay, uri: ru}
	s.mu.Unlock()

	serverName := ru.Host
	if relay.ServerName != "" {
		serverName = relay.ServerName
	}
	nc, err := s.dialAddr(ctx, net.JoinHostPort(ru.Host, strconv.Itoa(ru.Port)), ru.Secure, serverName)
	if err != nil {
		err = fmt.Errorf("msrp: relay %s: %w", ru, err)
		s.terminate(err)
		return err
	}
	s.mu.Lock()
	c, err := s.adoptLocked(nc)
	if err != nil {
		s.mu.Unlock()
		nc.Close()
		if errors.Is(err, ErrStarted) {
			s.terminate(err)
		}
		return err
	}
	s.startLocked()
	c.start()
	s.mu.Unlock()

	if err := s.auth(ctx); err != nil {
		s.terminate(err)
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.closeErrOrLocked(ErrSessionClosed)
	}
	s.relay.reserved = true
	s.wg.Add(1)
	go s.renewLoop()
	return nil
}

// Path returns the path to advertise for the session (the SDP a=path):
// the relay's Use-Path followed by LocalURI with a relay, else LocalURI.
func (s *Session) Path() []URI {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.relay != nil {
		return append(slices.Clone(s.relay.usePath), s.local)
	}
	return []URI{s.local}
}

// Relayed reports whether the session goes through a relay
// (ConnectRelay succeeded).
func (s *Session) Relayed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.relay != nil && s.relay.reserved
}

// auth runs one AUTH transaction with the relay, answering one
// challenge, and records the Use-Path and Expires of the 200.
func (s *Session) auth(ctx context.Context) error {
	s.mu.Lock()
	rs := s.relay
	ru := rs.uri
	cred := ""
	if rs.chal != nil { // a renewal: answer the last challenge again
		rs.count++
		cred, _ = s.digestLocked()
	}
	s.mu.Unlock()
	challenged := false
	for {
		req := &Message{Request: true, Method: MethodAUTH, TransactionID: NewTransactionID(),
			ToPath: []URI{ru}, FromPath: []URI{s.LocalURI()}}
		if cred != "" {
			req.AddHeader("Authorization", cred)
		}
		if rs.cfg.Expires > 0 {
			req.AddHeader("Expires", strconv.Itoa(int(rs.cfg.Expires/time.Second)))
		}
		resp, err := s.transact(ctx, req)
		if err != nil {
			return fmt.Errorf("msrp: AUTH to relay %s: %w", ru, err)
		}
		switch {
		case resp.StatusCode == StatusOK:
			return s.authorized(resp)
		case resp.StatusCode == 401 && !challenged:
			challenged = true
			s.mu.Lock()
			err := s.challengedLocked(resp)
			if err == nil {
				cred, err = s.digestLocked()
			}
			s.mu.Unlock()
			if err != nil {
				return fmt.Errorf("msrp: AUTH to relay %s: %w", ru, err)
			}
		case resp.StatusCode == 401 || resp.StatusCode == 403:
			return fmt.Errorf("msrp: AUTH to relay %s as %q: %w: %w", ru, rs.cfg.Username, ErrRelayAuth,
				&StatusError{Code: resp.StatusCode, Comment: resp.Comment})
		case resp.StatusCode == 423 && rs.cfg.Expires > 0:
			// Interval out of bounds: take the relay's bound, once.
			v, ok := resp.Header("Min-Expires")
			if !ok {
				v, ok = resp.Header("Max-Expires")
			}
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if !ok || err != nil || n <= 0 || time.Duration(n)*time.Second == rs.cfg.Expires {
				return fmt.Errorf("msrp: AUTH to relay %s: %w", ru, &StatusError{Code: resp.StatusCode, Comment: resp.Comment})
			}
			s.mu.Lock()
			rs.cfg.Expires = time.Duration(n) * time.Second
			if rs.chal != nil {
				// A nonce count is never used twice.
				rs.count++
				cred, err = s.digestLocked()
			}
			s.mu.Unlock()
			if err != nil {
				return fmt.Errorf("msrp: AUTH to relay %s: %w", ru, err)
			}
		default:
			return fmt.Errorf("msrp: AUTH to relay %s: %w", ru, &StatusError{Code: resp.StatusCode, Comment: resp.Comment})
		}
	}
}

// challengedLocked records the digest challenge of a 401.
func (s *Session) challengedLocked(resp *Message) error {
	var lastErr error = errors.New("401 without WWW-Authenticate")
	for _, h := range resp.Headers {
		if !strings.EqualFold(h.Name, "WWW-Authenticate") {
			continue
		}
		chal, err := digest.ParseChallenge(h.Value)
		if err != nil {
			lastErr = fmt.Errorf("WWW-Authenticate %q: %w", h.Value, err)
			continue
		}
		if !digest.CanDigest(chal) {
			lastErr = fmt.Errorf("WWW-Authenticate: unsupported algorithm %q or qop %v", chal.Algorithm, chal.QOP)
			continue
		}
		s.relay.chal, s.relay.count = chal, 1
		return nil
	}
	return lastErr
}

// digestLocked answers the recorded challenge (RFC 4976 section 5.1:
// method AUTH, digest-uri the relay's URI as in the To-Path).
func (s *Session) digestLocked() (string, error) {
	rs := s.relay
	cred, err := digest.Digest(rs.chal, digest.Options{
		Method: MethodAUTH, URI: rs.uri.String(),
		Username: rs.cfg.Username, Password: rs.cfg.Password, Count: rs.count,
	})
	if err != nil {
		return "", err
	}
	return cred.String(), nil
}

// authorized records the Use-Path and Expires of an AUTH's 200.
func (s *Session) authorized(resp *Message) error {
	path, err := resp.UsePath()
	if err == nil && len(path) == 0 {
		err = errors.New("no Use-Path")
	}
	if err != nil {
		return fmt.Errorf("msrp: AUTH 200 from the relay: %w", err)
	}
	var expires time.Duration
	if v, ok := resp.Header("Expires"); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
			expires = time.Duration(n) * time.Second
		}
	}
	s.mu.Lock()
	s.relay.usePath = path
	s.relay.expires = expires
	s.mu.Unlock()
	s.log.Debug("msrp: relay session reserved", "use_path", FormatPath(path), "expires", expires)
	return nil
}

// transact sends a request that expects a response (AUTH, a keep-alive)
// and waits for it: the response, or an error for a timeout, the end of
// the session or ctx.
func (s *Session) transact(ctx context.Context, req *Message) (*Message, error) {
	t := &txn{tid: req.TransactionID, resp: make(chan *Message, 1)}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, s.closeErrOrLocked(ErrSessionClosed)
	}
	c := s.conn
	s.addTxnLocked(t)
	s.mu.Unlock()
	c.queueCtrl(req)
	select {
	case r := <-t.resp:
		if r == nil {
			return nil, s.txnErr()
		}
		return r, nil
	case <-ctx.Done():
		s.mu.Lock()
		if !t.done {
			t.done = true
			delete(s.txns, t.tid)
		}
		s.mu.Unlock()
		return nil, ctx.Err()
	}
}

// txnErr is the error of a transaction that got no response: the
// session's end, or a timeout.
func (s *Session) txnErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.closeErrOrLocked(ErrSessionClosed)
	}
	return ErrNoResponse
}

// renewLoop renews the relay reservation before it expires (at 80 % of
// its lifetime, at least 10 s before the end); a failed renewal is
// logged and tried again once, then left to the relay.
func (s *Session) renewLoop() {
	defer s.wg.Done()
	failures := 0
	for {
		s.mu.Lock()
		exp := s.relay.expires
		s.mu.Unlock()
		if exp <= 0 {
			return
		}
		wait := exp * 8 / 10
		if exp-wait < 10*time.Second {
			wait = max(exp-10*time.Second, exp/2)
		}
		if failures > 0 {
			wait = min(wait, 5*time.Second)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.done:
			t.Stop()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.TransactionTimeout)
		err := s.auth(ctx)
		cancel()
		if err == nil {
			failures = 0
			continue
		}
		select {
		case <-s.done:
			return
		default:
		}
		failures++
		s.log.Warn("msrp: renewing the relay reservation failed", "err", err)
		if failures > 1 {
			return
		}
	}
}
