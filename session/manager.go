package session

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipsimple-go/sipsimple/account"
	"github.com/sipsimple-go/sipsimple/core"
	"github.com/sipsimple-go/sipsimple/msrp"
	"github.com/sipsimple-go/sipsimple/notification"
	"github.com/sipsimple-go/sipsimple/sdp"
)

// Config holds what a Manager needs.
type Config struct {
	Center   *notification.Center
	Engine   *core.Engine
	Accounts *account.Manager
	// Media configures the audio streams (RTPConfiguration, codecs, the
	// mixer); zero values take the defaults.
	Media MediaConfig
	// InviteTimeout bounds an outgoing INVITE (default 90 s, as
	// python-sipsimple).
	InviteTimeout time.Duration
	// ReinviteTimeout bounds our hold, unhold and stream-removal
	// re-INVITEs (default 5 s, python-sipsimple's short_reinvite_timeout);
	// added streams wait InviteTimeout. A re-INVITE that times out is
	// cancelled.
	ReinviteTimeout time.Duration
	// Ringtones are the ringtones of seed 001 (may be nil).
	Ringtones *RingtoneConfiguration
	Logger    *slog.Logger
}

// Manager is seed 000's SessionManager: it must run to receive calls;
// incoming INVITEs are matched to an account (404 when none matches and
// there is no default) and become sessions posted in SIPSessionNewIncoming.
type Manager struct {
	center *notification.Center
	engine *core.Engine
	accts  *account.Manager
	cfg    Config
	log    *slog.Logger
	media  *mediaEngine

	mu       sync.Mutex
	started  bool
	sessions map[*Session]struct{}

	// byInv routes the invitations' notifications to their sessions: one
	// observer for all of them (a goroutine per session would cost a
	// goroutine start per notification burst under load), delivering each
	// session's notifications in order.
	byInv   sync.Map // *core.Invitation -> *Session
	stopObs func()

	chatMu        sync.Mutex
	chatListeners map[listenerKey]*msrp.Listener // per local address and TLS, made on first use
	partials      map[string]bool                // partial files being received into
	chats         map[*MSRPChat]struct{}         // not ended yet
	transfers     map[*MSRPFileTransfer]struct{} // not ended yet
}

// follow routes inv's SIPInvitationChangedState to s.
func (m *Manager) follow(inv *core.Invitation, s *Session) { m.byInv.Store(inv, s) }

func (m *Manager) onInvitation(n notification.Notification) {
	inv, _ := n.Sender.(*core.Invitation)
	if v, ok := m.byInv.Load(inv); ok {
		v.(*Session).onInvitation(n)
	}
}

// NewManager returns a stopped Manager.
func NewManager(c Config) *Manager {
	if c.InviteTimeout <= 0 {
		c.InviteTimeout = 90 * time.Second
	}
	if c.ReinviteTimeout <= 0 {
		c.ReinviteTimeout = 5 * time.Second
	}
	if c.Ringtones == nil {
		c.Ringtones = NewRingtoneConfiguration()
	}
	log := c.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Manager{center: c.Center, engine: c.Engine, accts: c.Accounts, cfg: c, log: log, sessions: map[*Session]struct{}{}}
}

// Ringtones returns the ringtone configuration.
func (m *Manager) Ringtones() *RingtoneConfiguration { return m.cfg.Ringtones }

// Start takes incoming INVITEs over from the account manager and starts
// the audio engine.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started {
		return errors.New("session manager is already started")
	}
	media, err := newMediaEngine(m.cfg.Media)
	if err != nil {
		return err
	}
	m.media = media
	m.started = true
	m.stopObs = m.center.Observe(core.InvitationChangedState, nil, m.onInvitation)
	m.engine.Handle("INVITE", m.handleInvite)
	m.center.Post(ManagerDidStart, m, nil)
	return nil
}

// Stop ends every session (bounded by ctx) and gives INVITE back.
func (m *Manager) Stop(ctx context.Context) error {
	m.mu.Lock()
	if !m.started {
		m.mu.Unlock()
		return errors.New("session manager is not started")
	}
	m.started = false
	var live []*Session
	for s := range m.sessions {
		live = append(live, s)
	}
	m.mu.Unlock()
	m.engine.Handle("INVITE", nil)
	for _, s := range live {
		s.End(false)
	}
	for _, s := range live {
		s.mu.Lock()
		inv := s.inv
		s.mu.Unlock()
		if inv == nil {
			continue
		}
		select {
		case <-inv.Done():
		case <-ctx.Done():
		}
	}
	// Sessions that slipped in while stopping (an INVITE handled as
	// INVITE was being given back, a Connect racing Stop) or that did not
	// end within ctx: end them here, so no RTP socket outlives the manager.
	m.mu.Lock()
	var left []*Session
	for s := range m.sessions {
		left = append(left, s)
	}
	m.mu.Unlock()
	for _, s := range left {
		s.terminate(originatorLocal, 0, "session manager stopped", true)
	}
	m.closeChats()
	m.mu.Lock()
	media := m.media
	m.media = nil
	stop := m.stopObs
	m.stopObs = nil
	m.mu.Unlock()
	if stop != nil {
		stop()
	}
	if media != nil {
		media.Close()
	}
	m.center.Post(ManagerDidEnd, m, nil)
	return nil
}

// NewSession returns a session of account in the NULL state, for Connect.
func (m *Manager) NewSession(a *account.Account) (*Session, error) {
	if a == nil {
		return nil, errors.New("new session: no account")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.started {
		return nil, errors.New("new session: the session manager is not started")
	}
	return &Session{mgr: m, account: a, state: StateNull}, nil
}

// Sessions returns the active sessions (not NULL or TERMINATED).
func (m *Manager) Sessions() []*Session {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Session, 0, len(m.sessions))
	for s := range m.sessions {
		if st := s.State(); st != StateNull && st != StateTerminated {
			out = append(out, s)
		}
	}
	return out
}

func (m *Manager) add(s *Session) {
	m.mu.Lock()
	m.sessions[s] = struct{}{}
	m.mu.Unlock()
}

func (m *Manager) remove(s *Session) {
	m.mu.Lock()
	delete(m.sessions, s)
	m.mu.Unlock()
}

func (m *Manager) newAudioStream(s *Session, sipHost string) (*AudioStream, error) {
	m.mu.Lock()
	media := m.media
	m.mu.Unlock()
	if media == nil {
		return nil, errNotStarted
	}
	return media.newAudioStream(s, sipHost)
}

// handleInvite serves initial INVITEs: account matching, the offer's
// checks (415, 488), 180 Ringing, and SIPSessionNewIncoming.
func (m *Manager) handleInvite(req *sip.Request, tx sip.ServerTransaction) {
	respond := func(code int, reason string, extra ...sip.Header) {
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		for _, h := range extra {
			res.AppendHeader(h)
		}
		m.engine.Respond(tx, res)
	}
	if to := req.To(); to != nil {
		if tag, _ := to.Params.Get("tag"); tag != "" {
			respond(481, "Call/Transaction Does Not Exist")
			return
		}
	}
	a := m.accts.FindForIncoming(req)
	if a == nil {
		respond(404, "Not Found")
		return
	}
	// An INVITE without a body is a late offer (RFC 3261 13.2.1): we
	// offer audio in the 200 and the ACK brings the answer.
	lateOffer := len(req.Body()) == 0
	var offer *sdp.Description
	if !lateOffer {
		if ct := req.GetHeader("Content-Type"); ct == nil || !strings.EqualFold(strings.TrimSpace(strings.Split(ct.Value(), ";")[0]), "application/sdp") {
			respond(415, "Unsupported Media Type", sip.NewHeader("Accept", "application/sdp"))
			return
		}
		var err error
		if offer, err = sdp.Parse(req.Body()); err != nil {
			respond(400, "Bad SDP")
			return
		}
	}
	contact, err := a.UASContact(req)
	if err != nil {
		respond(500, "Server Internal Error")
		return
	}
	s := &Session{mgr: m, account: a, state: StateNull, direction: "incoming", sipHost: contact.Host}
	var streams []string
	offersAudio, offersChat, offersFile := lateOffer, false, false
	for _, md := range mediaOf(offer) {
		offersAudio = offersAudio || md.Type == "audio" && md.IsRTP() && !md.Rejected()
		offersChat = offersChat || isChatMedia(md) && !md.Rejected() && chatOfferUsable(md)
		offersFile = offersFile || isFileMedia(md) && !md.Rejected() && md.Direction == sdp.SendOnly
	}
	var as *AudioStream
	if offersAudio {
		var err error
		if as, err = m.newAudioStream(s, contact.Host); err != nil {
			m.log.Warn("incoming call refused: no audio stream", "error", err)
			respond(500, "Server Internal Error")
			return
		}
		if lateOffer {
			streams = append(streams, "audio")
		}
		for _, md := range mediaOf(offer) {
			if md.Type == "audio" && md.IsRTP() && !md.Rejected() && len(streams) == 0 {
				if _, err := as.Answer(md, sdp.SendRecv); err == nil {
					streams = append(streams, "audio")
				}
			}
		}
		if len(streams) == 0 {
			as.Close()
			as = nil
		}
	}
	if offersChat {
		streams = append(streams, "chat")
	}
	if offersFile {
		streams = append(streams, "file-transfer")
	}
	if len(streams) == 0 {
		respond(488, "Not Acceptable Here")
		return
	}
	creds := a.Credentials()
	closeAudio := func() {
		if as != nil {
			as.Close()
		}
	}
	inv, err := m.engine.NewIncomingInvitation(req, tx, core.InvitationConfig{Contact: contact, Credentials: &creds})
	if err != nil {
		closeAudio()
		return
	}
	if !m.center.HasObservers(NewIncoming, s) {
		// Nobody handles calls: PJSUA's default rejects them. The
		// session was never announced, so it posts nothing.
		closeAudio()
		inv.SendResponse(480, "Temporarily Unavailable", "", nil)
		return
	}
	remote, _ := core.ParseSIPURI(req.From().Address.String())
	s.mu.Lock()
	s.inv = inv
	s.audio = as
	s.lastRemote = offer // nil for a late offer
	s.lateOffer = lateOffer
	localAddr := ""
	if as != nil {
		localAddr = as.LocalAddress()
	} else {
		localAddr = strings.Trim(contact.Host, "[]") // chat only: the o= line's address
	}
	s.local = sdp.NewLocal("-", localAddr)
	s.localURI, s.remoteURI = a.URI(), remote
	m.follow(inv, s)
	s.mu.Unlock()
	m.add(s)
	// The lock is held from the 180 on, so that a CANCEL coming back at
	// once finds the session INCOMING.
	s.mu.Lock()
	inv.SendResponse(180, "Ringing", "", nil)
	s.stopRing = m.playRingtone(m.cfg.Ringtones.RingtoneForSIPURI(remote))
	s.center().Post(NewIncoming, s, StreamsData{Timestamp: now(), Streams: streams})
	s.setStateLocked(StateIncoming)
	s.mu.Unlock()
}

// mediaOf returns d's media lines; none when d is nil.
func mediaOf(d *sdp.Description) []sdp.Media {
	if d == nil {
		return nil
	}
	return d.Media
}

// chatOfferUsable reports whether an offered MSRP stream is a chat we can
// take (a path and a type we accept).
func chatOfferUsable(m sdp.Media) bool {
	x, err := sdp.ParseMSRP(m)
	return err == nil && len(x.Path) > 0 && x.FileSelector == nil && acceptsChat(x.AcceptTypes)
}
