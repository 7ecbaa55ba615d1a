package session

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sipsimple-go/sipsimple/account"
	"github.com/sipsimple-go/sipsimple/core"
	"github.com/sipsimple-go/sipsimple/cpim"
	"github.com/sipsimple-go/sipsimple/msrp"
	"github.com/sipsimple-go/sipsimple/payloads"
	"github.com/sipsimple-go/sipsimple/sdp"
)

// Notification names posted by an MSRPChat (the sender), seed 001's
// MSRPChat notifications.
const (
	ChatDidInitialize        = "MSRPChatDidInitialize"
	ChatDidStart             = "MSRPChatDidStart"
	ChatDidFail              = "MSRPChatDidFail"
	ChatWillEnd              = "MSRPChatWillEnd"
	ChatDidEnd               = "MSRPChatDidEnd"
	ChatGotMessage           = "MSRPChatGotMessage"
	ChatDidDeliverMessage    = "MSRPChatDidDeliverMessage"
	ChatDidNotDeliverMessage = "MSRPChatDidNotDeliverMessage"
	// ChatGotComposingIndication reports the peer's is-composing state
	// (RFC 3994), as python-sipsimple's ChatStreamGotComposingIndication.
	ChatGotComposingIndication = "MSRPChatGotComposingIndication"
)

// MSRPConfig configures the MSRP connections of chat streams (seed 001's
// MSRPConfiguration, local part).
type MSRPConfig struct {
	// LocalAddress is the IP address chat streams listen on and put in
	// their MSRP URI; invalid means the address of the SIP transport the
	// session uses.
	LocalAddress netip.Addr
	// Port is the local MSRP port; 0 picks one per address.
	Port int
	// TLS, when not nil, makes the local MSRP URIs msrps: (TLS with this
	// server configuration, which needs a certificate); nil means TCP.
	TLS *tls.Config
	// StartTimeout bounds the connection set-up of a stream (0: 15 s,
	// python-sipsimple's media_stream_timeout), and its reservation at a
	// relay.
	StartTimeout time.Duration
	// KeepAlive is how long a stream's MSRP connection may stay idle
	// before an empty SEND checks it (msrp.SessionConfig.KeepAlive); a
	// peer that does not answer ends the stream. 0 means 30 s, negative
	// none.
	KeepAlive time.Duration
	// Relay, when set, is asked for the MSRP relay (RFC 4976) a chat or
	// file-transfer stream of a session of acc reserves its session at
	// before its SDP is made; outgoing is true for a stream we offer
	// (seed 001's use_relay_outgoing), false for one that answers an
	// offer (use_relay_incoming). A nil relay means direct connections
	// (RFC 6135). The Application sets it from its settings and the
	// account's msrp.connection_model.
	Relay func(ctx context.Context, acc *account.Account, outgoing bool) (*MSRPRelay, error)
	// PartialFileLifetime is how long the partial file an interrupted
	// incoming transfer leaves in the downloads directory is kept for a
	// resume; older ones are removed when the next transfer into that
	// directory starts. 0 means 7 days (python-sipsimple's), negative
	// forever.
	PartialFileLifetime time.Duration
	// MaxFileSize is the largest file a transfer receives: larger offers
	// are refused, and a file whose file-selector gives no size is cut
	// off (413) there. 0 means 64 GiB, negative no limit.
	MaxFileSize int64
}

// maxFileSize is MaxFileSize with its default, 0 for no limit.
func (c MSRPConfig) maxFileSize() int64 {
	switch {
	case c.MaxFileSize == 0:
		return 64 << 30
	case c.MaxFileSize < 0:
		return 0
	}
	return c.MaxFileSize
}

// partialFileLifetime is PartialFileLifetime with its default, 0 for
// forever.
func (c MSRPConfig) partialFileLifetime() time.Duration {
	switch {
	case c.PartialFileLifetime == 0:
		return 7 * 24 * time.Hour
	case c.PartialFileLifetime < 0:
		return 0
	}
	return c.PartialFileLifetime
}

// keepAlive is KeepAlive with its default, 0 for none.
func (c MSRPConfig) keepAlive() time.Duration {
	switch {
	case c.KeepAlive == 0:
		return 30 * time.Second
	case c.KeepAlive < 0:
		return 0
	}
	return c.KeepAlive
}

// MSRPRelay is the relay a stream reserves its session at.
type MSRPRelay struct {
	msrp.Relay
	// Optional lets the stream connect directly when the relay cannot be
	// reached (a relay found by DNS rather than configured): a relay
	// that answers but refuses still fails the stream.
	Optional bool
}

// chatAcceptTypes are the types a chat stream accepts: CPIM-wrapped
// messages (any content inside), plain text and is-composing.
var chatAcceptTypes = []string{"message/cpim", "text/plain", payloads.IsComposingContentType}

// ChatMessageData is the data of MSRPChatGotMessage and
// SIPSessionGotMessage: seed 000's content, content_type, cpim_headers and
// message.
type ChatMessageData struct {
	Timestamp time.Time
	// Content is the message's content (inside the CPIM wrapper).
	Content []byte
	// ContentType is the content's type.
	ContentType string
	// CPIM is the CPIM wrapper (From, To, DateTime, ...), nil when the
	// message came without one.
	CPIM *cpim.Message
	// MessageID is the MSRP Message-ID.
	MessageID string
}

// ChatDeliveryData is the data of MSRPChatDidDeliverMessage,
// MSRPChatDidNotDeliverMessage and their SIPSession counterparts.
type ChatDeliveryData struct {
	Timestamp time.Time
	// MessageID is what SendMessage returned.
	MessageID string
	// Code and Reason: 200 OK when delivered; otherwise the peer's status,
	// 408 for a timeout, or 0 when the stream ended first.
	Code   int
	Reason string
}

// ChatComposingData is the data of MSRPChatGotComposingIndication.
type ChatComposingData struct {
	Timestamp time.Time
	payloads.IsComposing
}

// ChatFailData is the data of MSRPChatDidFail.
type ChatFailData struct {
	Timestamp time.Time
	Reason    string
}

// MSRPChat is a chat stream (seed 001's MSRPChat): an MSRP session
// (RFC 4975) negotiated in SDP, carrying CPIM-wrapped messages (RFC 3862)
// and is-composing indications (RFC 3994). It is the sender of the
// MSRPChat* notifications; the messages it sends and receives are also
// reported by its Session, when it has one.
//
// Messages sent before the stream is connected are queued and go out once
// it is; every message SendMessage accepted is reported once, delivered
// (the peer's success REPORT) or not delivered (an error, a timeout, or
// the stream ending first): nothing is lost silently.
type MSRPChat struct {
	msrpStream
	addr netip.Addr

	// Guarded by mu.
	sess      *Session // the owning session, nil while standalone
	localURI  core.SIPURI
	remoteURI core.SIPURI
	connected bool
}

// msrpStream is what the chat and file-transfer streams share: their MSRP
// session and its set-up from the offer/answer (RFC 6135 roles).
type msrpStream struct {
	mgr  *Manager
	ms   *msrp.Session
	cfg  MSRPConfig
	lis  *msrp.Listener     // where ms was made
	mcfg msrp.SessionConfig // what ms was made with

	mu      sync.Mutex
	offered bool // we made the offer (else we answered)
	active  bool // we connect (RFC 6135 setup)
	started bool // Apply called
	ended   bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// errStarted is start's error for a stream started already.
var errStarted = errors.New("already started")

// start marks the stream started, reads the remote's path and setup and
// returns what connect needs; what names the stream in errors. An error
// other than errStarted leaves the stream started, to be failed (fail).
func (st *msrpStream) start(remote sdp.Media, what string) (path []msrp.URI, active bool, ctx context.Context, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.started || st.ended {
		return nil, false, nil, fmt.Errorf("%s: %w", what, errStarted)
	}
	st.started = true
	rm, err := sdp.ParseMSRP(remote)
	if err != nil {
		return nil, false, nil, fmt.Errorf("%s: %w", what, err)
	}
	for _, p := range rm.Path {
		u, err := msrp.ParseURI(p)
		if err != nil {
			return nil, false, nil, fmt.Errorf("%s: remote path: %w", what, err)
		}
		path = append(path, u)
	}
	if len(path) == 0 {
		return nil, false, nil, fmt.Errorf("%s: the remote has no a=path", what)
	}
	if st.offered {
		// The answerer chose: "active" means it connects to us; anything
		// else ("passive", or none: RFC 4145 section 4) means we connect.
		st.active = !strings.EqualFold(rm.Setup, sdp.SetupActive)
	}
	timeout := st.cfg.StartTimeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	ctx, st.cancel = context.WithTimeout(context.Background(), timeout)
	return path, st.active, ctx, nil
}

// connect sets the connection up in the background: Connect when active,
// else Accept on the listener; failing, it fails the stream (fail).
func (st *msrpStream) connect(ctx context.Context, path []msrp.URI, active bool, sender any, failName string) {
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		defer st.cancel()
		var err error
		if active {
			err = st.ms.Connect(ctx, path)
		} else {
			err = st.ms.Accept(ctx, path)
		}
		if err != nil {
			st.fail(sender, failName, err)
		}
	}()
}

// fail ends a stream that could not start: it posts failName from sender
// (unless the stream was ended meanwhile) and closes the MSRP session,
// which reports what was queued as not delivered.
func (st *msrpStream) fail(sender any, failName string, err error) {
	st.mgr.log.Debug("MSRP stream failed to start", "stream", failName, "error", err)
	st.mu.Lock()
	ended := st.ended
	st.mu.Unlock()
	if !ended {
		st.mgr.center.Post(failName, sender, ChatFailData{Timestamp: now(), Reason: err.Error()})
	}
	st.ms.Close()
}

// reserve reserves the stream's MSRP session at the relay MSRPConfig.Relay
// gives for acc, if any (RFC 4976), so that the SDP carries the relay's
// path. It must be called before the stream's SDP is made and before the
// stream is shared. An optional relay that cannot be reached leaves the
// stream with direct connections (a new MSRP session).
func (st *msrpStream) reserve(ctx context.Context, acc *account.Account, outgoing bool) error {
	if st.cfg.Relay == nil || acc == nil {
		return nil
	}
	timeout := st.cfg.StartTimeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r, err := st.cfg.Relay(ctx, acc, outgoing)
	if err != nil {
		return fmt.Errorf("MSRP relay: %w", err)
	}
	if r == nil {
		return nil
	}
	err = st.ms.ConnectRelay(ctx, r.Relay)
	if err == nil {
		st.mgr.log.Debug("MSRP stream reserved at the relay", "relay", r.URI.String(), "path", msrp.FormatPath(st.ms.Path()))
		return nil
	}
	// A relay that answered must be obeyed; one that could not be
	// reached, or did not answer, is skipped when optional.
	var se *msrp.StatusError
	if !r.Optional || errors.As(err, &se) || st.lis == nil {
		return err
	}
	st.mgr.log.Info("MSRP relay unreachable, connecting directly", "relay", r.URI.String(), "error", err)
	st.ms.Close()
	ms, nerr := st.lis.NewSession(st.mcfg)
	if nerr != nil {
		return nerr
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ended {
		// Ended meanwhile (the manager stopping): nothing uses ms.
		ms.Close()
		return errors.New("the stream ended")
	}
	st.ms = ms
	return nil
}

// Relayed reports whether the stream's MSRP session is reserved at a
// relay (RFC 4976; see MSRPConfig.Relay): its SDP path then starts with
// the relay's.
func (st *msrpStream) Relayed() bool { return st.ms.Relayed() }

// Applied reports whether Apply was called (the offer/answer is done).
func (st *msrpStream) Applied() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.started
}

// stop marks the stream ended and stops its set-up; it reports whether it
// was already ended, and whether it had started.
func (st *msrpStream) stop() (already, started bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ended {
		return true, st.started
	}
	st.ended = true
	if st.cancel != nil {
		st.cancel()
	}
	return false, st.started
}

// NewChat returns a chat stream for sessions of a: it listens for its MSRP
// connection on the manager's listener for the stream's address (made on
// first use) and posts MSRPChatDidInitialize. End releases it.
func (m *Manager) NewChat(sipHost string) (*MSRPChat, error) { return m.newChat(sipHost, nil) }

// newChat makes a chat stream for a session of acc (nil: no account),
// whose msrp.transport tcp keeps it off TLS.
func (m *Manager) newChat(sipHost string, acc *account.Account) (*MSRPChat, error) {
	cfg, addr, lis, err := m.msrpListenerFor(sipHost, acc)
	if err != nil {
		return nil, fmt.Errorf("chat stream: %w", err)
	}
	// The TLS configuration also serves to dial msrps peers (its roots,
	// or InsecureSkipVerify when tls.verify_server is off).
	mcfg := msrp.SessionConfig{AcceptTypes: chatAcceptTypes, Check: checkChat, TLSConfig: clientTLS(m.cfg.Media.MSRP.TLS),
		KeepAlive: cfg.keepAlive(), Logger: m.log}
	ms, err := lis.NewSession(mcfg)
	if err != nil {
		return nil, fmt.Errorf("chat stream: %w", err)
	}
	c := &MSRPChat{msrpStream: msrpStream{mgr: m, ms: ms, cfg: cfg, lis: lis, mcfg: mcfg}, addr: addr}
	m.chatMu.Lock()
	if m.chats == nil {
		m.chats = map[*MSRPChat]struct{}{}
	}
	m.chats[c] = struct{}{}
	m.chatMu.Unlock()
	m.center.Post(ChatDidInitialize, c, TimestampData{Timestamp: now()})
	return c, nil
}

// newChatFor makes a chat stream for a session of acc, reserved at the
// relay the configuration gives (outgoing: we offer it). It does network
// I/O: call it without holding a session's lock.
func (m *Manager) newChatFor(ctx context.Context, sipHost string, acc *account.Account, outgoing bool) (*MSRPChat, error) {
	c, err := m.newChat(sipHost, acc)
	if err != nil {
		return nil, err
	}
	if err := c.reserve(ctx, acc, outgoing); err != nil {
		c.End()
		return nil, fmt.Errorf("chat stream: %w", err)
	}
	return c, nil
}

// clientTLS is the configuration to dial msrps peers with: conf without
// its server name (set per connection from the first hop).
func clientTLS(conf *tls.Config) *tls.Config {
	if conf == nil {
		return nil
	}
	c := conf.Clone()
	c.ServerName = ""
	return c
}

// msrpListenerFor returns the MSRP configuration, the local address and
// its listener for a stream of a session of acc (nil: none) on sipHost.
// The stream uses TLS (msrps:) when MSRPConfig.TLS is set, unless the
// account's msrp.transport is tcp.
func (m *Manager) msrpListenerFor(sipHost string, acc *account.Account) (MSRPConfig, netip.Addr, *msrp.Listener, error) {
	m.mu.Lock()
	started, media := m.started, m.media
	m.mu.Unlock()
	cfg := m.cfg.Media.MSRP
	if acc != nil && acc.MSRP.Transport.Get() == "tcp" {
		cfg.TLS = nil
	}
	if !started || media == nil {
		return cfg, netip.Addr{}, nil, errNotStarted
	}
	addr := cfg.LocalAddress
	if !addr.IsValid() || addr.IsUnspecified() {
		addr = media.localAddress(sipHost)
	}
	lis, err := m.chatListener(addr, cfg)
	return cfg, addr, lis, err
}

// listenerKey names an MSRP listener: its address, and TLS or not.
type listenerKey struct {
	addr netip.Addr
	tls  bool
}

// chatListener returns the MSRP listener of addr (TLS when cfg.TLS is
// set), made on first use. With MSRPConfig.Port set, the TLS and TCP
// listeners of one address cannot both exist: the second fails.
func (m *Manager) chatListener(addr netip.Addr, cfg MSRPConfig) (*msrp.Listener, error) {
	m.chatMu.Lock()
	defer m.chatMu.Unlock()
	key := listenerKey{addr: addr, tls: cfg.TLS != nil}
	if l := m.chatListeners[key]; l != nil {
		return l, nil
	}
	l, err := msrp.ListenConfig{TLSConfig: cfg.TLS, Logger: m.log}.Listen("tcp",
		net.JoinHostPort(addr.String(), strconv.Itoa(cfg.Port)))
	if err != nil {
		return nil, err
	}
	if m.chatListeners == nil {
		m.chatListeners = map[listenerKey]*msrp.Listener{}
	}
	m.chatListeners[key] = l
	return l, nil
}

// closeChats ends the chat streams still open and closes the MSRP
// listeners (Manager.Stop).
func (m *Manager) closeChats() {
	m.chatMu.Lock()
	var ended []interface{ End() }
	for c := range m.chats {
		ended = append(ended, c)
	}
	for t := range m.transfers {
		ended = append(ended, t)
	}
	m.chatMu.Unlock()
	for _, c := range ended {
		c.End()
	}
	m.chatMu.Lock()
	ls := m.chatListeners
	m.chatListeners = nil
	m.chatMu.Unlock()
	for _, l := range ls {
		l.Close()
	}
}

// LocalURI is the stream's MSRP URI (the last of its a=path).
func (st *msrpStream) LocalURI() msrp.URI { return st.ms.LocalURI() }

// SetParties sets the SIP URIs put in the CPIM wrapper of sent messages:
// From local, To remote (unless SendMessage names another recipient).
// A Session sets them itself.
func (c *MSRPChat) SetParties(local, remote core.SIPURI) {
	c.mu.Lock()
	c.localURI, c.remoteURI = local, remote
	c.mu.Unlock()
}

// media builds our m=message section with setup.
func (c *MSRPChat) media(setup string) sdp.Media {
	u := c.ms.LocalURI()
	x := sdp.MSRPMedia{Path: pathStrings(c.ms.Path()), AcceptTypes: chatAcceptTypes, AcceptWrappedTypes: []string{"*"},
		Setup: setup, Secure: u.Secure}
	return x.Media(u.Port, c.addr.String(), sdp.SendRecv)
}

// Offer returns the stream's SDP offer: our path, the accepted types and
// a=setup:actpass (RFC 6135).
func (c *MSRPChat) Offer() sdp.Media {
	c.mu.Lock()
	c.offered = true
	c.mu.Unlock()
	return c.media(sdp.OfferSetup())
}

// Answer returns the stream's answer to the remote offer: it fails when
// the offer is not an MSRP chat stream we can take (no path, or no type
// in common).
func (c *MSRPChat) Answer(remote sdp.Media) (sdp.Media, error) {
	rm, err := sdp.ParseMSRP(remote)
	if err != nil {
		return sdp.Media{}, err
	}
	if len(rm.Path) == 0 {
		return sdp.Media{}, errors.New("chat stream: the offer has no a=path")
	}
	if rm.FileSelector != nil {
		return sdp.Media{}, errors.New("chat stream: the offer is a file transfer (a=file-selector)")
	}
	if !acceptsChat(rm.AcceptTypes) {
		return sdp.Media{}, fmt.Errorf("chat stream: the offer accepts none of %v (accept-types %v)", chatAcceptTypes, rm.AcceptTypes)
	}
	setup, active := sdp.AnswerSetup(rm.Setup)
	c.mu.Lock()
	c.offered, c.active = false, active
	c.mu.Unlock()
	return c.media(setup), nil
}

// pathStrings formats the URIs of an a=path.
func pathStrings(path []msrp.URI) []string {
	out := make([]string, len(path))
	for i, u := range path {
		out[i] = u.String()
	}
	return out
}

func acceptsChat(types []string) bool {
	for _, t := range types {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "*" || t == "message/cpim" || t == "text/plain" || t == "text/*" || t == "message/*" {
			return true
		}
	}
	return false
}

// Apply starts the stream once the offer/answer is done: local is our
// m=message section, remote the peer's. The connection is set up in the
// background (within MSRPConfig.StartTimeout); MSRPChatDidStart or
// MSRPChatDidFail tells the outcome.
func (c *MSRPChat) Apply(local, remote sdp.Media) error {
	path, active, ctx, err := c.start(remote, "chat stream")
	if errors.Is(err, errStarted) {
		return err
	}
	c.wg.Add(1)
	go c.events()
	if err != nil {
		// MSRPChatDidFail, and the queued messages not delivered.
		c.fail(c, ChatDidFail, err)
		return err
	}
	c.connect(ctx, path, active, c, ChatDidFail)
	return nil
}

// events turns the MSRP session's events into notifications.
func (c *MSRPChat) events() {
	defer c.wg.Done()
	for ev := range c.ms.Events() {
		switch ev := ev.(type) {
		case msrp.Connected:
			c.mu.Lock()
			c.connected = true
			c.mu.Unlock()
			c.mgr.center.Post(ChatDidStart, c, TimestampData{Timestamp: now()})
		case msrp.Received:
			c.received(ev)
		case msrp.Delivered:
			c.post(ChatDidDeliverMessage, DidDeliverMessage, ChatDeliveryData{Timestamp: now(), MessageID: ev.MessageID,
				Code: 200, Reason: "OK"})
		case msrp.NotDelivered:
			c.post(ChatDidNotDeliverMessage, DidNotDeliverMessage, ChatDeliveryData{Timestamp: now(),
				MessageID: ev.MessageID, Code: ev.Code, Reason: ev.Reason})
		case msrp.Closed:
			if ev.Err != nil {
				c.mgr.log.Debug("chat stream closed", "error", ev.Err)
			}
		}
	}
}

// post posts name with c as sender and, when c belongs to a session,
// sessionName with the session as sender.
func (c *MSRPChat) post(name, sessionName string, data any) {
	c.mgr.center.Post(name, c, data)
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s != nil && sessionName != "" {
		c.mgr.center.Post(sessionName, s, data)
	}
}

// checkChat refuses, before they are answered 200, the chat messages
// received would drop: a malformed CPIM wrapper or is-composing document
// gets 400 (and a failure REPORT), so that the sender is told the message
// was not delivered.
func checkChat(first *msrp.Message, body []byte) error {
	ct, content := first.ContentType, body
	if strings.EqualFold(mediaType(ct), "message/cpim") {
		m, err := cpim.Parse(body)
		if err != nil {
			return &msrp.StatusError{Code: msrp.StatusBadRequest, Comment: "malformed CPIM: " + err.Error()}
		}
		ct, content = m.ContentType, m.Body
	}
	if strings.EqualFold(mediaType(ct), payloads.IsComposingContentType) {
		if _, err := payloads.ParseIsComposing(content); err != nil {
			return &msrp.StatusError{Code: msrp.StatusBadRequest, Comment: "malformed is-composing: " + err.Error()}
		}
	}
	return nil
}

// received reports an incoming message: CPIM-wrapped, plain, or an
// is-composing indication (bare or wrapped).
func (c *MSRPChat) received(ev msrp.Received) {
	d := ChatMessageData{Timestamp: now(), Content: ev.Body, ContentType: ev.ContentType, MessageID: ev.MessageID}
	if strings.EqualFold(mediaType(ev.ContentType), "message/cpim") {
		m, err := cpim.Parse(ev.Body)
		if err != nil {
			// checkChat refused it already; kept for safety.
			c.mgr.log.Debug("chat: malformed CPIM message dropped", "message_id", ev.MessageID, "error", err)
			return
		}
		d.CPIM, d.Content, d.ContentType = m, m.Body, m.ContentType
	}
	if strings.EqualFold(mediaType(d.ContentType), payloads.IsComposingContentType) {
		ic, err := payloads.ParseIsComposing(d.Content)
		if err != nil {
			c.mgr.log.Debug("chat: malformed is-composing dropped", "error", err)
			return
		}
		c.mgr.center.Post(ChatGotComposingIndication, c, ChatComposingData{Timestamp: now(), IsComposing: ic})
		return
	}
	c.post(ChatGotMessage, GotMessage, d)
}

func mediaType(ct string) string {
	t, _, _ := strings.Cut(ct, ";")
	return strings.TrimSpace(t)
}

// SendMessage sends content of contentType wrapped in CPIM (From our
// URI, To toURI or, when nil, the remote party, DateTime dt or, when
// zero, now) and returns its message id; MSRPChatDidDeliverMessage or
// MSRPChatDidNotDeliverMessage with that id follows. Before the stream is
// connected the message is queued.
func (c *MSRPChat) SendMessage(content []byte, contentType string, toURI *core.SIPURI, dt time.Time) (string, error) {
	if contentType == "" {
		return "", errors.New("send message: no content type")
	}
	c.mu.Lock()
	ended := c.ended
	from, to := c.localURI, c.remoteURI
	c.mu.Unlock()
	if ended {
		return "", errors.New("send message: the chat stream has ended")
	}
	if toURI != nil {
		to = *toURI
	}
	if dt.IsZero() {
		dt = time.Now()
	}
	m := &cpim.Message{From: cpim.Address{URI: from.String()}, DateTime: dt, ContentType: contentType, Body: content}
	if to.Host != "" {
		m.To = []cpim.Address{{URI: to.String()}}
	}
	body, err := m.Marshal()
	if err != nil {
		return "", fmt.Errorf("send message: %w", err)
	}
	id := msrp.NewMessageID()
	if _, err := c.ms.Send(msrp.OutgoingMessage{ContentType: "message/cpim", Body: body, SuccessReport: true,
		MessageID: id}); err != nil {
		return "", fmt.Errorf("send message: %w", err)
	}
	return id, nil
}

// SendComposingIndication tells the peer whether we are typing (RFC 3994):
// state payloads.ComposingActive with a refresh (0: 120 s), or
// payloads.ComposingIdle. It is sent without delivery notifications.
func (c *MSRPChat) SendComposingIndication(state string, refresh time.Duration) error {
	ic := payloads.IsComposing{State: state, ContentType: "text"}
	if state == payloads.ComposingActive {
		if refresh <= 0 {
			refresh = 120 * time.Second
		}
		ic.Refresh = refresh
	} else {
		ic.LastActive = time.Now()
	}
	b, err := payloads.MarshalIsComposing(ic)
	if err != nil {
		return err
	}
	_, err = c.ms.Send(msrp.OutgoingMessage{ContentType: payloads.IsComposingContentType, Body: b, FailureReport: "no"})
	return err
}

// Connected reports whether the stream's MSRP connection is up.
func (c *MSRPChat) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connected
}

// End ends the stream: messages not delivered yet are reported
// (MSRPChatDidNotDeliverMessage), then MSRPChatWillEnd and MSRPChatDidEnd
// are posted. It is idempotent.
func (c *MSRPChat) End() {
	already, started := c.stop()
	if already {
		return
	}
	c.mgr.center.Post(ChatWillEnd, c, TimestampData{Timestamp: now()})
	c.ms.Close()
	if started {
		c.wg.Wait()
	} else {
		// Never applied: drain what Close reported (queued messages).
		for ev := range c.ms.Events() {
			if nd, ok := ev.(msrp.NotDelivered); ok {
				c.post(ChatDidNotDeliverMessage, DidNotDeliverMessage, ChatDeliveryData{Timestamp: now(),
					MessageID: nd.MessageID, Code: nd.Code, Reason: nd.Reason})
			}
		}
	}
	c.mgr.chatMu.Lock()
	delete(c.mgr.chats, c)
	c.mgr.chatMu.Unlock()
	c.mgr.center.Post(ChatDidEnd, c, TimestampData{Timestamp: now()})
}
