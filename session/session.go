package session

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sipsimple-go/sipsimple/account"
	"github.com/sipsimple-go/sipsimple/core"
	"github.com/sipsimple-go/sipsimple/notification"
	"github.com/sipsimple-go/sipsimple/sdp"
)

// ErrState is wrapped by errors from methods called in a state that does
// not allow them; the message names the state.
var ErrState = errors.New("wrong session state")

// ErrNoChat is returned by the chat methods of a session without a chat
// stream.
var ErrNoChat = errors.New("the session has no chat stream")

// mediaStream is what a Session needs from a stream.
type mediaStream interface {
	Kind() string
	// Offer returns our m= line for an offer or re-offer with direction.
	Offer(direction sdp.Direction) (sdp.Media, error)
	// Answer returns our m= line answering remote (direction is what we
	// want, before the offer's direction is applied); an error rejects
	// the stream.
	Answer(remote sdp.Media, direction sdp.Direction) (sdp.Media, error)
	// Apply starts the stream, or updates it, with the negotiated pair.
	Apply(local, remote sdp.Media) error
	Close()
}

// Session is a call (seed 000's Session). Create outgoing ones with
// Manager.NewSession and Connect; incoming ones arrive in
// SIPSessionNewIncoming (the sender). Methods return at once; progress is
// reported by notifications.
type Session struct {
	mgr     *Manager
	account *account.Account

	mu                sync.Mutex
	state             State
	direction         string
	inv               *core.Invitation
	local             *sdp.Local
	lastLocal         *sdp.Description
	lastRemote        *sdp.Description
	audio             *AudioStream
	route             *core.Route
	localURI          core.SIPURI
	remoteURI         core.SIPURI
	startTime         time.Time
	stopTime          time.Time
	holdLocal         bool
	holdRemote        bool
	ending            bool
	failed            bool
	lateOffer         bool              // the INVITE had no SDP: our 200 offers, the ACK answers
	chat              *MSRPChat         // the chat stream, nil when none
	transfer          *MSRPFileTransfer // the file-transfer stream, nil when none
	proposalPrevLocal *sdp.Description  // our SDP before a proposal of ours, restored if it is refused
	pendingRemote     *sdp.Description  // a remote proposal awaiting AcceptProposal
	proposing         string            // "add_audio", "remove_audio", "hold", "unhold" while PROPOSING
	proposalStream    *AudioStream
	closingStreams    bool        // terminate runs: the streams are being closed
	proposalTimer     *time.Timer // bounds our re-INVITE
	proposalGen       int         // disarms a timer that fired late
	proposalCancelled bool        // our re-INVITE was cancelled on timeout
	pendingReoffer    bool        // a hold/unhold re-INVITE waits for the current exchange
	sipHost           string      // the host of our Contact, for the RTP address
	stopRing          func()      // stops the ringtone playing, if any
}

func (s *Session) center() *notification.Center { return s.mgr.center }

func now() time.Time { return time.Now() }

// State returns the session's state.
func (s *Session) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Account returns the session's account.
func (s *Session) Account() *account.Account { return s.account }

// Direction is "outgoing" or "incoming" ("" before Connect).
func (s *Session) Direction() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.direction
}

// StartTime and StopTime are when the session was established and ended
// (zero until then).
func (s *Session) StartTime() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.startTime }

// StopTime: see StartTime.
func (s *Session) StopTime() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.stopTime }

// OnHoldByLocal, OnHoldByRemote and OnHold report the hold state.
func (s *Session) OnHoldByLocal() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.holdLocal }

// OnHoldByRemote: see OnHoldByLocal.
func (s *Session) OnHoldByRemote() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.holdRemote }

// OnHold is OnHoldByLocal or OnHoldByRemote.
func (s *Session) OnHold() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.holdLocal || s.holdRemote }

// RemoteUserAgent is the peer's User-Agent or Server header, once known.
func (s *Session) RemoteUserAgent() string {
	s.mu.Lock()
	inv := s.inv
	s.mu.Unlock()
	if inv == nil {
		return ""
	}
	return inv.RemoteUserAgent()
}

// LocalURI and RemoteURI are the parties; CallerURI and CalleeURI the same
// by role.
func (s *Session) LocalURI() core.SIPURI { s.mu.Lock(); defer s.mu.Unlock(); return s.localURI }

// RemoteURI: see LocalURI.
func (s *Session) RemoteURI() core.SIPURI { s.mu.Lock(); defer s.mu.Unlock(); return s.remoteURI }

// CallerURI is the calling party.
func (s *Session) CallerURI() core.SIPURI {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.direction == "incoming" {
		return s.remoteURI
	}
	return s.localURI
}

// CalleeURI is the called party.
func (s *Session) CalleeURI() core.SIPURI {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.direction == "incoming" {
		return s.localURI
	}
	return s.remoteURI
}

// Route is the route of an outgoing session (nil for incoming ones).
func (s *Session) Route() *core.Route { s.mu.Lock(); defer s.mu.Unlock(); return s.route }

// Audio returns the audio stream (nil when the session has none).
func (s *Session) Audio() *AudioStream { s.mu.Lock(); defer s.mu.Unlock(); return s.audio }

// HasAudio reports whether the session has an active audio stream.
func (s *Session) HasAudio() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.audio != nil && s.audio.Started()
}

// HasChat reports whether the session has a chat stream.
func (s *Session) HasChat() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.chat != nil
}

// Chat returns the session's chat stream (seed 000's chat_transport), nil
// when it has none.
func (s *Session) Chat() *MSRPChat {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.chat
}

func (s *Session) setStateLocked(st State) {
	if st == s.state {
		return
	}
	if s.stopRing != nil && (st != StateIncoming && st != StateCalling) {
		s.stopRing()
		s.stopRing = nil
	}
	prev := s.state
	s.state = st
	s.center().Post(ChangedState, s, ChangedStateData{Timestamp: now(), PrevState: prev, State: st})
}

func streamNames(audio, chat bool) []string {
	var out []string
	if audio {
		out = append(out, "audio")
	}
	if chat {
		out = append(out, "chat")
	}
	return out
}

// Connect starts an outgoing session to callee through routes (tried in
// order; nil means the account's routes to callee). It posts
// SIPSessionNewOutgoing and moves to CALLING.
func (s *Session) Connect(ctx context.Context, callee core.SIPURI, routes []core.Route, audio, chat bool) error {
	if !audio && !chat {
		return errors.New("connect: no stream requested (audio, chat or both)")
	}
	return s.connect(ctx, callee, routes, audio, chat, "")
}

// SendFile starts an outgoing session whose one stream sends the file at
// path (RFC 5547): SIPSessionNewOutgoing with the stream "file-transfer",
// then the transfer's MSRPFileTransfer* notifications (FileTransfer); the
// session ends by itself once the file is delivered or not.
func (s *Session) SendFile(ctx context.Context, callee core.SIPURI, routes []core.Route, path string) error {
	if path == "" {
		return errors.New("send file: no file")
	}
	return s.connect(ctx, callee, routes, false, false, path)
}

// FileTransfer returns the session's file-transfer stream, nil when it
// has none.
func (s *Session) FileTransfer() *MSRPFileTransfer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transfer
}

func (s *Session) connect(ctx context.Context, callee core.SIPURI, routes []core.Route, audio, chat bool, file string) error {
	s.mu.Lock()
	if s.state != StateNull {
		st := s.state
		s.mu.Unlock()
		return fmt.Errorf("%w: connect needs NULL, it is %s", ErrState, st)
	}
	s.state = StateCalling // reserved; the notification follows
	s.mu.Unlock()
	fail := func(err error) error {
		s.mu.Lock()
		s.state = StateNull
		s.mu.Unlock()
		return err
	}
	if len(routes) == 0 {
		var err error
		if routes, err = s.account.Routes(ctx, callee); err != nil {
			return fail(err)
		}
	}
	e := s.mgr.engine
	contact, err := s.account.UACContact(callee)
	if err != nil {
		return fail(err)
	}
	routeSet, err := s.account.RouteSet()
	if err != nil {
		return fail(err)
	}
	creds := s.account.Credentials()
	name, _ := s.account.DisplayName.Get()
	inv, err := e.NewOutgoingInvitation(core.InvitationConfig{
		From: core.NameAddr{DisplayName: name, URI: s.account.URI()}, To: core.NameAddr{URI: callee},
		Contact: contact, Credentials: &creds, RouteSet: routeSet, Timeout: s.mgr.cfg.InviteTimeout})
	if err != nil {
		return fail(err)
	}
	s.sipHost = contact.Host
	var media []sdp.Media
	var as *AudioStream
	var cs *MSRPChat
	address := ""
	if audio {
		if as, err = s.mgr.newAudioStream(s, contact.Host); err != nil {
			return fail(fmt.Errorf("connect: audio stream: %w", err))
		}
		m, err := as.Offer(sdp.SendRecv)
		if err != nil {
			as.Close()
			return fail(err)
		}
		media = append(media, m)
		address = as.LocalAddress()
	}
	if chat {
		if cs, err = s.mgr.newChatFor(ctx, contact.Host, s.account, true); err != nil {
			if as != nil {
				as.Close()
			}
			return fail(fmt.Errorf("connect: %w", err))
		}
		m := cs.Offer()
		media = append(media, m)
		if address == "" {
			address = m.Address
		}
	}
	var ft *MSRPFileTransfer
	if file != "" {
		if ft, err = s.mgr.newOutgoingTransfer(contact.Host, file, s.account); err != nil {
			return fail(err)
		}
		if err := ft.reserve(ctx, s.account, true); err != nil {
			ft.End()
			return fail(fmt.Errorf("file transfer: %w", err))
		}
		m := ft.Offer()
		media = append(media, m)
		address = m.Address
	}
	s.mu.Lock()
	s.direction = "outgoing"
	s.inv = inv
	s.audio = as
	r := routes[0]
	s.route = &r
	s.localURI, s.remoteURI = s.account.URI(), callee
	if cs != nil {
		s.attachChatLocked(cs)
	}
	if ft != nil {
		s.attachTransferLocked(ft)
	}
	s.local = sdp.NewLocal("-", address)
	offer := s.local.Next(&sdp.Description{Address: address, Media: media})
	s.lastLocal = offer
	s.mgr.follow(inv, s)
	s.state = StateNull
	streams := streamNames(audio, chat)
	if ft != nil {
		streams = append(streams, "file-transfer")
	}
	s.center().Post(NewOutgoing, s, StreamsData{Timestamp: now(), Streams: streams})
	s.setStateLocked(StateCalling)
	s.mu.Unlock()
	s.mgr.add(s)
	if err := inv.Send(routes, "application/sdp", offer.Marshal()); err != nil {
		s.terminate(origLocalOrRemote(true), 0, err.Error(), true)
		return err
	}
	return nil
}

// endFailedLocked ends a session whose answer was unusable: it is marked
// failed and the invitation ended (without s.mu: End posts).
func (s *Session) endFailedLocked() {
	s.failed = true
	s.mu.Unlock()
	s.inv.End()
	s.mu.Lock()
}

// relayedChat makes, when a relay may be used (MSRPConfig.Relay), the
// chat stream a method is about to need, reserved at the relay; it runs
// without s.mu as the reservation is network I/O, and only when needed,
// called under s.mu, says the method will use it. nil, nil otherwise: the
// method makes its stream itself. The caller ends a stream it did not use.
func (s *Session) relayedChat(outgoing bool, needed func() bool) (*MSRPChat, error) {
	if s.mgr.cfg.Media.MSRP.Relay == nil {
		return nil, nil
	}
	s.mu.Lock()
	ok, host := needed(), s.sipHost
	s.mu.Unlock()
	if !ok {
		return nil, nil
	}
	return s.mgr.newChatFor(context.Background(), host, s.account, outgoing)
}

// hasChatMedia reports whether d offers a chat stream.
func hasChatMedia(d *sdp.Description) bool {
	for _, m := range d.Media {
		if isChatMedia(m) && !m.Rejected() {
			return true
		}
	}
	return false
}

func origLocalOrRemote(local bool) string {
	if local {
		return originatorLocal
	}
	return origRemote
}

// Accept accepts an incoming session (INCOMING -> ACCEPTING), with audio
// if it was offered.
func (s *Session) Accept(audio, chat bool) error {
	var pre *MSRPChat
	if chat {
		var err error
		if pre, err = s.relayedChat(false, func() bool {
			return s.state == StateIncoming && !s.lateOffer && s.lastRemote != nil && hasChatMedia(s.lastRemote)
		}); err != nil {
			return fmt.Errorf("accept: %w", err)
		}
		defer func() {
			if pre != nil {
				pre.End()
			}
		}()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != StateIncoming {
		return fmt.Errorf("%w: accept needs INCOMING, it is %s", ErrState, s.state)
	}
	if s.lateOffer {
		return s.acceptLateOfferLocked(audio)
	}
	remote := s.lastRemote
	var answer []sdp.Media
	gotAudio, gotChat := false, false
	var cs *MSRPChat
	for _, m := range remote.Media {
		if m.Type == "audio" && m.IsRTP() && !m.Rejected() && audio && !gotAudio && s.audio != nil {
			local, err := s.audio.Answer(m, sdp.SendRecv)
			if err == nil {
				answer = append(answer, local)
				gotAudio = true
				continue
			}
		}
		if chat && !gotChat && isChatMedia(m) {
			if cs == nil && pre != nil {
				cs, pre = pre, nil
			}
			if cs == nil {
				var err error
				if cs, err = s.mgr.newChat(s.sipHost, s.account); err != nil {
					return fmt.Errorf("accept: chat stream: %w", err)
				}
			}
			if local, err := cs.Answer(m); err == nil {
				answer = append(answer, local)
				gotChat = true
				continue
			}
		}
		answer = append(answer, sdp.RejectMedia(m))
	}
	if cs != nil && !gotChat {
		cs.End()
		cs = nil
	}
	if !gotAudio && !gotChat {
		return errors.New("accept: no acceptable stream in the offer (audio, chat) among those accepted")
	}
	if !gotAudio && s.audio != nil {
		s.audio.Close()
		s.audio = nil
	}
	if cs != nil {
		s.attachChatLocked(cs)
	}
	address := ""
	if s.audio != nil {
		address = s.audio.LocalAddress()
	} else {
		for _, m := range answer {
			if !m.Rejected() {
				address = m.Address
				break
			}
		}
	}
	s.answerIncomingLocked(address, answer)
	return nil
}

// answerIncomingLocked sends the 200 with our answer (ACCEPTING). The
// media start before the 200 goes: the caller may send at once (DTMF
// right after its DidStart), and what arrives before a stream knows its
// payload types and keys would be dropped.
func (s *Session) answerIncomingLocked(address string, answer []sdp.Media) {
	desc := s.local.Next(&sdp.Description{Address: address, Media: answer})
	s.lastLocal = desc
	s.setStateLocked(StateAccepting)
	s.applyLocked()
	inv := s.inv
	go func() {
		if err := inv.SendResponse(200, "OK", "application/sdp", desc.Marshal()); err != nil {
			s.terminate(originatorLocal, 0, err.Error(), true)
		}
	}()
}

// acceptLateOfferLocked accepts an INVITE that came without SDP: the 200
// carries our audio offer; the ACK's answer starts the stream
// (onConnected).
func (s *Session) acceptLateOfferLocked(audio bool) error {
	if !audio || s.audio == nil {
		return errors.New("accept: the INVITE had no offer, so audio must be accepted (we offer it in the 200)")
	}
	m, err := s.audio.Offer(sdp.SendRecv)
	if err != nil {
		return fmt.Errorf("accept: %w", err)
	}
	desc := s.local.Next(&sdp.Description{Address: s.audio.LocalAddress(), Media: []sdp.Media{m}})
	s.lastLocal = desc
	s.setStateLocked(StateAccepting)
	inv := s.inv
	go func() {
		if err := inv.SendResponse(200, "OK", "application/sdp", desc.Marshal()); err != nil {
			s.terminate(originatorLocal, 0, err.Error(), true)
		}
	}()
	return nil
}

// Reject declines an incoming session: 486 Busy Here when isBusy, else 603
// Decline.
func (s *Session) Reject(isBusy bool) error {
	s.mu.Lock()
	if s.state != StateIncoming {
		st := s.state
		s.mu.Unlock()
		return fmt.Errorf("%w: reject needs INCOMING, it is %s", ErrState, st)
	}
	s.ending = true
	s.center().Post(WillEnd, s, TimestampData{Timestamp: now()})
	s.setStateLocked(StateTerminating)
	inv := s.inv
	s.mu.Unlock()
	code, reason := 603, "Decline"
	if isBusy {
		code, reason = 486, "Busy Here"
	}
	return inv.SendResponse(code, reason, "", nil)
}

// End terminates the session in any active state (cancelling or declining
// one not established yet; isBusy answers 486 instead of 603).
func (s *Session) End(isBusy bool) error {
	s.mu.Lock()
	switch s.state {
	case StateNull, StateTerminating, StateTerminated:
		st := s.state
		s.mu.Unlock()
		return fmt.Errorf("%w: end needs an active session, it is %s", ErrState, st)
	case StateIncoming:
		s.mu.Unlock()
		return s.Reject(isBusy)
	}
	s.ending = true
	s.center().Post(WillEnd, s, TimestampData{Timestamp: now()})
	s.setStateLocked(StateTerminating)
	inv := s.inv
	s.mu.Unlock()
	if err := inv.End(); err != nil && !errors.Is(err, core.ErrInvitationState) {
		return err
	}
	return nil
}

// Hold puts the session on hold: a re-INVITE making our audio sendonly
// (SIPSessionGotHoldRequest, originator local).
func (s *Session) Hold() error { return s.setHold(true) }

// Unhold takes the session off hold (SIPSessionGotUnholdRequest).
func (s *Session) Unhold() error { return s.setHold(false) }

func (s *Session) setHold(hold bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != StateEstablished {
		return fmt.Errorf("%w: hold/unhold needs ESTABLISHED, it is %s", ErrState, s.state)
	}
	if s.holdLocal == hold {
		return nil
	}
	if s.audio == nil {
		return errors.New("hold: the session has no audio stream")
	}
	s.holdLocal = hold
	name := GotUnholdRequest
	if hold {
		name = GotHoldRequest
	}
	s.center().Post(name, s, OriginatorData{Timestamp: now(), Originator: originatorLocal})
	s.audio.SetLocalHold(hold)
	return s.reofferLocked("hold")
}

// localDirection is what we want to do on the audio stream now.
// In an offer (forOffer) a hold while the remote holds us too is offered
// inactive, as python-sipsimple does; in an answer the offer's direction
// already says whether the remote holds (sdp.AnswerDirection).
func (s *Session) localDirectionLocked(forOffer bool) sdp.Direction {
	if s.holdLocal {
		if forOffer && s.holdRemote {
			return sdp.Inactive // both on hold: nobody sends (python-sipsimple)
		}
		return sdp.SendOnly
	}
	return sdp.SendRecv
}

// reofferLocked sends a re-INVITE with our current streams. While another
// offer/answer exchange is under way it is deferred until that one ends
// (the seed serialises hold and unhold the same way); the SDP is built when
// the re-INVITE is really sent, so it carries the latest hold state.
func (s *Session) reofferLocked(reason string) error {
	if s.proposing != "" || s.state == StateProposed || s.state == StateProposing {
		s.pendingReoffer = true
		return nil
	}
	if st, sub := s.inv.State(); st != core.InvitationConnected || sub != core.InvitationNormal {
		s.pendingReoffer = true
		return nil
	}
	media := make([]sdp.Media, 0, len(s.lastLocal.Media))
	for _, m := range s.lastLocal.Media {
		if m.Type == "audio" && !m.Rejected() && s.audio != nil {
			om, err := s.audio.Offer(s.localDirectionLocked(true))
			if err != nil {
				return err
			}
			media = append(media, om)
			continue
		}
		media = append(media, m)
	}
	desc := s.local.Next(&sdp.Description{Address: s.lastLocal.Address, Media: media})
	if err := s.inv.SendReinvite("application/sdp", desc.Marshal()); err != nil {
		if errors.Is(err, core.ErrInvitationState) {
			s.pendingReoffer = true // a remote re-INVITE got in first
			return nil
		}
		return err
	}
	s.lastLocal = desc
	s.proposing = reason
	s.armProposalTimerLocked(reason)
	return nil
}

// armProposalTimerLocked bounds our re-INVITE: 5 s for hold, unhold and
// removals, the INVITE timeout for added streams (python-sipsimple's
// short_reinvite_timeout and invite_timeout). When it fires the re-INVITE
// is cancelled.
func (s *Session) armProposalTimerLocked(reason string) {
	s.proposalGen++
	gen := s.proposalGen
	d := s.mgr.cfg.ReinviteTimeout
	if reason == "add_audio" || reason == "add_chat" {
		d = s.mgr.cfg.InviteTimeout
	}
	if s.proposalTimer != nil {
		s.proposalTimer.Stop()
	}
	s.proposalTimer = time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if gen != s.proposalGen || s.proposing == "" {
			return
		}
		s.proposalCancelled = true
		if err := s.inv.CancelReinvite(); err != nil {
			s.mgr.log.Debug("re-INVITE timeout: cannot cancel", "error", err)
		}
	})
}

// runPendingLocked sends a deferred re-INVITE once nothing is under way.
func (s *Session) runPendingLocked() {
	if !s.pendingReoffer || s.state != StateEstablished || s.proposing != "" {
		return
	}
	s.pendingReoffer = false
	if err := s.reofferLocked("hold"); err != nil {
		s.mgr.log.Debug("deferred re-INVITE failed", "error", err)
	}
}

// SendDTMF sends a DTMF digit (0-9 * # A-D) on the audio stream (RFC 4733).
func (s *Session) SendDTMF(digit rune) error {
	if !validDigit(digit) {
		return fmt.Errorf("send DTMF: %q is not a DTMF digit (0-9 * # A-D)", digit)
	}
	s.mu.Lock()
	st, a := s.state, s.audio
	s.mu.Unlock()
	if st != StateEstablished {
		return fmt.Errorf("%w: send DTMF needs ESTABLISHED, it is %s", ErrState, st)
	}
	if a == nil || !a.Started() {
		return errors.New("send DTMF: the session has no active audio stream")
	}
	return a.SendDTMF(digit)
}

func validDigit(d rune) bool {
	return d >= '0' && d <= '9' || d == '*' || d == '#' || d >= 'A' && d <= 'D'
}

// SendMessage sends a chat message on the session's chat stream: content
// of contentType in a CPIM wrapper To toURI (nil: the remote party),
// dated dt (zero: now). It returns the message id that
// SIPSessionDidDeliverMessage or SIPSessionDidNotDeliverMessage reports.
// Messages sent before the stream is connected are queued.
func (s *Session) SendMessage(content, contentType string, toURI *core.SIPURI, dt time.Time) (string, error) {
	s.mu.Lock()
	c, st := s.chat, s.state
	s.mu.Unlock()
	if c == nil {
		return "", ErrNoChat
	}
	if st == StateTerminating || st == StateTerminated {
		return "", fmt.Errorf("%w: send message needs a live session, it is %s", ErrState, st)
	}
	return c.SendMessage([]byte(content), contentType, toURI, dt)
}

// AddChat proposes a chat stream to a session that has none
// (ESTABLISHED -> PROPOSING; SIPSessionGotStreamProposal from us, then
// Accepted- or RejectedStreamProposal). It waits the INVITE timeout for
// the answer, as adding audio does.
func (s *Session) AddChat() error {
	pre, err := s.relayedChat(true, func() bool { return s.state == StateEstablished && s.chat == nil })
	if err != nil {
		return fmt.Errorf("add chat: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != StateEstablished || s.chat != nil {
		if pre != nil {
			pre.End()
		}
		if s.chat != nil {
			return errors.New("add chat: the session already has a chat stream")
		}
		return fmt.Errorf("%w: add chat needs ESTABLISHED, it is %s", ErrState, s.state)
	}
	cs := pre
	if cs == nil {
		if cs, err = s.mgr.newChat(s.sipHost, s.account); err != nil {
			return fmt.Errorf("add chat: %w", err)
		}
	}
	m := cs.Offer()
	s.attachChatLocked(cs)
	return s.proposeStreamLocked(m, freeSlot(s.lastLocal, "message"), "chat")
}

// proposeStreamLocked offers the new stream m ("audio" or "chat") in a
// re-INVITE, in slot (a removed stream's m= line, RFC 3264 8.1) or, when
// slot is -1, in a new m= line: PROPOSING, SIPSessionGotStreamProposal,
// and the answer in onProposalAnsweredLocked (within the INVITE timeout).
func (s *Session) proposeStreamLocked(m sdp.Media, slot int, kind string) error {
	desc := s.lastLocal.Clone()
	if slot >= 0 {
		desc.Media[slot] = m
	} else {
		desc.AddMedia(m)
	}
	if desc.Address == "" {
		desc.Address = m.Address
	}
	s.proposalPrevLocal = s.lastLocal
	desc = s.local.Next(desc)
	s.lastLocal = desc
	s.proposing = "add_" + kind
	s.setStateLocked(StateProposing)
	s.center().Post(GotStreamProposal, s, ProposalData{Timestamp: now(), Proposer: originatorLocal, Streams: []string{kind}})
	if err := s.inv.SendReinvite("application/sdp", desc.Marshal()); err != nil {
		return err
	}
	s.armProposalTimerLocked(s.proposing)
	return nil
}

// freeSlot returns the index of a removed m= line of mediaType in d, -1
// when there is none.
func freeSlot(d *sdp.Description, mediaType string) int {
	for i, m := range d.Media {
		if m.Rejected() && m.Type == mediaType {
			return i
		}
	}
	return -1
}

// RemoveChat removes the session's chat stream with a re-INVITE (its m=
// line gets port 0); messages not delivered yet are reported. If the peer
// refuses, the session ends, as for RemoveAudio.
func (s *Session) RemoveChat() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != StateEstablished {
		return fmt.Errorf("%w: remove chat needs ESTABLISHED, it is %s", ErrState, s.state)
	}
	if s.chat == nil {
		return ErrNoChat
	}
	s.endChatLocked()
	return s.removeStreamLocked(isChatMedia, "remove_chat")
}

// removeStreamLocked sets the m= lines that match to port 0 and sends the
// re-INVITE (reason "remove_audio" or "remove_chat"); the stream is
// already closed here, and SIPSessionGotStreamUpdate lists what remains.
func (s *Session) removeStreamLocked(match func(sdp.Media) bool, reason string) error {
	desc := s.lastLocal.Clone()
	for i, m := range desc.Media {
		if match(m) && !m.Rejected() {
			desc.RemoveMedia(i)
		}
	}
	desc = s.local.Next(desc)
	s.lastLocal = desc
	s.proposing = reason
	s.center().Post(GotStreamUpdate, s, StreamsData{Timestamp: now(), Streams: s.streamNamesLocked()})
	if err := s.inv.SendReinvite("application/sdp", desc.Marshal()); err != nil {
		return err
	}
	s.armProposalTimerLocked(s.proposing)
	return nil
}

// endChatLocked ends and forgets the chat stream.
func (s *Session) endChatLocked() {
	if s.chat == nil {
		return
	}
	c := s.chat
	s.chat = nil
	c.End()
}

// streamNamesLocked lists the session's streams ("audio", "chat").
func (s *Session) streamNamesLocked() []string {
	return streamNames(s.audio != nil, s.chat != nil)
}

// onInvitation follows the invitation (on this session's observer
// goroutine, in order).
func (s *Session) onInvitation(n notification.Notification) {
	d, _ := notification.Data[core.InvitationChangedStateData](n)
	switch d.State {
	case core.InvitationEarly:
		// Only a provisional response received (outgoing) rings; our own
		// 180 to an incoming INVITE is no ring indication.
		if (d.Code == 180 || d.Code == 183) && d.Originator == origRemote {
			s.center().Post(GotRingIndication, s, TimestampData{Timestamp: now()})
			s.mu.Lock()
			if s.stopRing == nil && d.Code == 180 && s.state == StateCalling {
				s.stopRing = s.mgr.playRingtone(s.mgr.cfg.Ringtones.OutboundRingtone())
			}
			s.mu.Unlock()
		}
	case core.InvitationConnecting:
		s.onConnecting(d)
	case core.InvitationConnected:
		s.onConnected(d)
	case core.InvitationDisconnected:
		originator := d.Originator
		s.mu.Lock()
		ending := s.ending
		s.mu.Unlock()
		if ending {
			originator = originatorLocal
		}
		failed := d.Code >= 300 || d.Code == 0 && d.DisconnectReason != "user request"
		s.terminate(originator, d.Code, d.Reason+disconnectSuffix(d), failed)
	}
}

func disconnectSuffix(d core.InvitationChangedStateData) string {
	if d.Reason == "" && d.DisconnectReason != "" {
		return d.DisconnectReason
	}
	return ""
}

// onConnecting handles the 2xx (outgoing: the answer) or our 2xx
// (incoming).
func (s *Session) onConnecting(d core.InvitationChangedStateData) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.direction == "outgoing" {
		s.center().Post(WillStart, s, TimestampData{Timestamp: now()})
		answer, err := sdp.Parse(d.Body)
		if err == nil {
			err = sdp.ValidateAnswer(s.lastLocal, answer)
		}
		if err != nil {
			s.endFailedLocked()
			return
		}
		s.lastRemote = answer
		s.applyLocked()
		return
	}
	s.center().Post(WillStart, s, TimestampData{Timestamp: now()})
	// Incoming: Accept started the streams before sending the answer.
}

// applyLocked starts or updates the streams from lastLocal/lastRemote.
func (s *Session) applyLocked() {
	if s.lastRemote == nil || s.lastLocal == nil {
		return // a late offer not answered yet
	}
	for i, m := range s.lastRemote.Media {
		if i >= len(s.lastLocal.Media) {
			break
		}
		l := s.lastLocal.Media[i]
		// An MSRP stream starts once, on its first offer/answer; MSRP has
		// no hold, so later re-INVITEs leave it alone.
		var st interface {
			Applied() bool
			Apply(local, remote sdp.Media) error
		}
		switch {
		case isFileMedia(m) && isFileMedia(l) && s.transfer != nil:
			st = s.transfer
		case isChatMedia(m) && isChatMedia(l) && s.chat != nil:
			st = s.chat
		}
		if st != nil {
			if !l.Rejected() && !m.Rejected() && !st.Applied() {
				if m.Address == "" {
					m.Address = s.lastRemote.Address
				}
				// A stream that cannot start reports it itself (its
				// DidFail, what it could not deliver).
				_ = st.Apply(l, m)
			}
			continue
		}
		if m.Type != "audio" || s.audio == nil || l.Rejected() || m.Rejected() {
			continue
		}
		if m.Address == "" {
			m.Address = s.lastRemote.Address
		}
		holdRemote := m.Hold()
		if holdRemote != s.holdRemote && s.state == StateEstablished {
			name := GotUnholdRequest
			if holdRemote {
				name = GotHoldRequest
			}
			s.center().Post(name, s, OriginatorData{Timestamp: now(), Originator: origRemote})
		}
		s.holdRemote = holdRemote
		s.audio.SetRemoteHold(holdRemote)
		if err := s.audio.Apply(l, m); err != nil {
			s.mgr.log.Debug("audio stream failed to start", "error", err)
		}
	}
}

// onConnected handles the ACK (ESTABLISHED) and re-INVITE outcomes.
func (s *Session) onConnected(d core.InvitationChangedStateData) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case d.PrevState != core.InvitationConnected:
		if s.state == StateTerminating || s.state == StateTerminated {
			return
		}
		if s.lateOffer && s.lastRemote == nil {
			// Our offer went in the 200: the ACK carries the answer.
			answer, err := sdp.Parse(d.Body)
			if err == nil {
				err = sdp.ValidateAnswer(s.lastLocal, answer)
			}
			if err != nil || len(d.Body) == 0 {
				s.mgr.log.Debug("late offer: no usable answer in the ACK", "error", err)
				s.endFailedLocked()
				return
			}
			s.lastRemote = answer
			s.applyLocked()
		}
		s.startTime = now()
		s.setStateLocked(StateEstablished)
		s.center().Post(DidStart, s, TimestampData{Timestamp: now()})
	case d.SubState == core.InvitationReceivedProposal:
		s.onRemoteProposalLocked(d)
	case d.PrevSubState == core.InvitationSentProposal && d.SubState == core.InvitationNormal:
		s.onProposalAnsweredLocked(d)
	}
	if d.SubState == core.InvitationNormal {
		s.runPendingLocked()
	}
}

// onRemoteProposalLocked handles a re-INVITE from the peer: hold, unhold
// and other changes of existing streams are answered at once; a new
// stream is a proposal for the application.
func (s *Session) onRemoteProposalLocked(d core.InvitationChangedStateData) {
	offer, err := sdp.Parse(d.Body)
	if err == nil && s.lastRemote != nil {
		err = sdp.ValidateReoffer(s.lastRemote, offer)
	}
	if err != nil || len(d.Body) == 0 {
		s.inv.RejectProposal(488, "Not Acceptable Here")
		return
	}
	var added []string
	for i, m := range offer.Media {
		newStream := i >= len(s.lastLocal.Media) || s.lastLocal.Media[i].Rejected() && s.lastLocal.Media[i].Type == m.Type
		if newStream && !m.Rejected() {
			if isChatMedia(m) {
				added = append(added, "chat")
			} else {
				added = append(added, m.Type)
			}
		}
	}
	if len(added) > 0 {
		s.pendingRemote = offer
		s.setStateLocked(StateProposed)
		s.center().Post(GotStreamProposal, s, ProposalData{Timestamp: now(), Proposer: origRemote, Streams: added})
		return
	}
	s.answerRemoteLocked(offer, false, false)
}

// answerRemoteLocked answers a re-offer of the existing streams (plus the
// audio or chat stream of an accepted proposal when withNewAudio or
// withNewChat).
func (s *Session) answerRemoteLocked(offer *sdp.Description, withNewAudio, withNewChat bool) {
	media := make([]sdp.Media, 0, len(offer.Media))
	var removed bool
	for i, m := range offer.Media {
		switch {
		case m.Type == "audio" && s.audio != nil && !m.Rejected() && (i < len(s.lastLocal.Media) && !s.lastLocal.Media[i].Rejected() || withNewAudio):
			lm, err := s.audio.Answer(m, s.localDirectionLocked(false))
			if err != nil {
				media = append(media, sdp.RejectMedia(m))
				continue
			}
			media = append(media, lm)
		case isChatMedia(m) && s.chat != nil && !m.Rejected() && i < len(s.lastLocal.Media) &&
			isChatMedia(s.lastLocal.Media[i]) && !s.lastLocal.Media[i].Rejected():
			// The chat stream goes on as it was (MSRP has no hold).
			media = append(media, s.lastLocal.Media[i])
		case isChatMedia(m) && s.chat != nil && withNewChat && !m.Rejected():
			// The chat stream of an accepted proposal.
			withNewChat = false
			lm, err := s.chat.Answer(m)
			if err != nil {
				s.endChatLocked()
				media = append(media, sdp.RejectMedia(m))
				continue
			}
			media = append(media, lm)
		default:
			if i < len(s.lastLocal.Media) && !s.lastLocal.Media[i].Rejected() && m.Rejected() {
				removed = true
			}
			media = append(media, sdp.RejectMedia(m))
		}
	}
	if withNewChat {
		// Accepted with chat but no chat line to answer.
		s.endChatLocked()
	}
	desc := s.local.Next(&sdp.Description{Address: s.lastLocal.Address, Media: media})
	chatGone := false
	if s.chat != nil {
		chatGone = true
		for _, m := range desc.Media {
			if isChatMedia(m) && !m.Rejected() {
				chatGone = false
			}
		}
	}
	s.lastLocal, s.lastRemote = desc, offer
	s.inv.AcceptProposal("application/sdp", desc.Marshal())
	if chatGone {
		// The peer removed the chat stream (port 0).
		s.endChatLocked()
		s.center().Post(GotStreamUpdate, s, StreamsData{Timestamp: now(), Streams: s.streamNamesLocked()})
	}
	s.applyLocked()
	if removed && s.audio != nil {
		stillAudio := false
		for _, m := range desc.Media {
			if m.Type == "audio" && !m.Rejected() {
				stillAudio = true
			}
		}
		if !stillAudio {
			s.audio.Close()
			s.audio = nil
			s.center().Post(GotStreamUpdate, s, StreamsData{Timestamp: now(), Streams: s.streamNamesLocked()})
		}
	}
}

// onProposalAnsweredLocked handles the answer to our re-INVITE.
func (s *Session) onProposalAnsweredLocked(d core.InvitationChangedStateData) {
	reason := s.proposing
	s.proposing = ""
	s.proposalGen++ // disarms the timeout
	if s.proposalTimer != nil {
		s.proposalTimer.Stop()
		s.proposalTimer = nil
	}
	cancelled := s.proposalCancelled
	s.proposalCancelled = false
	if cancelled && d.Code >= 200 && d.Code < 300 {
		// The 2xx crossed our CANCEL: the two sides may now disagree on
		// the streams, so the session ends (python-sipsimple).
		s.mgr.log.Debug("re-INVITE answered after its CANCEL: ending the session", "reason", reason)
		go s.End(false)
		return
	}
	if d.Code < 200 || d.Code >= 300 {
		if reason == "add_chat" || reason == "add_audio" {
			// Refused: the stream goes, and the session is as before.
			if reason == "add_chat" {
				s.endChatLocked()
			} else if s.audio != nil && !s.audio.Started() {
				s.audio.Close()
				s.audio = nil
			}
			if s.proposalPrevLocal != nil {
				s.lastLocal = s.proposalPrevLocal
			}
		}
		s.proposalPrevLocal = nil
		if reason == "remove_audio" || reason == "remove_chat" {
			// The stream is gone here but not there: end the session
			// (python-sipsimple does the same).
			go s.End(false)
			return
		}
		if reason == "hold" {
			return // the session stays as it was; the hold state is ours
		}
		if s.state == StateProposing {
			s.setStateLocked(StateEstablished)
			s.center().Post(RejectedStreamProposal, s, ProposalResultData{Timestamp: now(), Proposer: originatorLocal, Reason: d.Reason})
		}
		return
	}
	s.proposalPrevLocal = nil
	answer, err := sdp.Parse(d.Body)
	if err == nil {
		err = sdp.ValidateAnswer(s.lastLocal, answer)
	}
	if err != nil {
		return
	}
	s.lastRemote = answer
	if reason == "add_chat" {
		for i, m := range answer.Media {
			if i < len(s.lastLocal.Media) && isChatMedia(s.lastLocal.Media[i]) && m.Rejected() {
				// Accepted the re-INVITE but refused the chat line: a
				// later re-offer must not offer it again as it was.
				local := *s.lastLocal
				local.Media = slices.Clone(local.Media)
				local.Media[i] = sdp.RejectMedia(local.Media[i])
				s.lastLocal = &local
				s.endChatLocked()
				s.setStateLocked(StateEstablished)
				s.center().Post(RejectedStreamProposal, s, ProposalResultData{Timestamp: now(), Proposer: originatorLocal,
					Reason: "chat stream refused"})
				return
			}
		}
	}
	s.applyLocked()
	if s.state == StateProposing {
		s.setStateLocked(StateEstablished)
		s.center().Post(AcceptedStreamProposal, s, ProposalResultData{Timestamp: now(), Proposer: originatorLocal})
	}
}

// terminate ends the session: DidFail (when failed) then DidEnd.
func (s *Session) terminate(originator string, code int, reason string, failed bool) {
	s.mu.Lock()
	if s.state == StateTerminated || s.closingStreams {
		s.mu.Unlock()
		return
	}
	s.closingStreams = true
	established := !s.startTime.IsZero()
	if s.state != StateTerminating {
		// Ended by the remote or by an error: an established session
		// still announces its end.
		if established {
			s.center().Post(WillEnd, s, TimestampData{Timestamp: now()})
		}
		s.setStateLocked(StateTerminating)
	}
	audio, chat, transfer, proposed := s.audio, s.chat, s.transfer, s.proposalStream
	s.mu.Unlock()
	// Without the lock: an MSRP stream's end waits for its connection
	// to drain and a received file's check; the session's API answers
	// meanwhile (TERMINATING).
	if audio != nil {
		audio.Close()
	}
	if chat != nil {
		chat.End() // undelivered messages are reported first
	}
	if transfer != nil {
		transfer.End()
	}
	if proposed != nil {
		proposed.Close()
	}
	s.mu.Lock()
	s.stopTime = now()
	s.proposalGen++
	if s.proposalTimer != nil {
		s.proposalTimer.Stop()
		s.proposalTimer = nil
	}
	if (failed || s.failed) && !established {
		if reason == "" {
			reason = "internal error"
		}
		s.center().Post(DidFail, s, DidFailData{Timestamp: now(), Originator: originator, Code: code, Reason: strings.TrimSpace(reason)})
	}
	s.setStateLocked(StateTerminated)
	s.center().Post(DidEnd, s, OriginatorData{Timestamp: now(), Originator: originator})
	inv := s.inv
	s.mu.Unlock()
	if inv != nil {
		s.mgr.byInv.Delete(inv)
	}
	s.mgr.remove(s)
}

// AddAudio proposes an audio stream to a session that has none
// (ESTABLISHED -> PROPOSING; SIPSessionGotStreamProposal from us, then
// Accepted- or RejectedStreamProposal).
func (s *Session) AddAudio() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != StateEstablished {
		return fmt.Errorf("%w: add audio needs ESTABLISHED, it is %s", ErrState, s.state)
	}
	if s.audio != nil {
		return errors.New("add audio: the session already has an audio stream")
	}
	as, err := s.mgr.newAudioStream(s, s.sipHost)
	if err != nil {
		return fmt.Errorf("add audio: %w", err)
	}
	m, err := as.Offer(sdp.SendRecv)
	if err != nil {
		as.Close()
		return err
	}
	s.audio = as
	slot := freeSlot(s.lastLocal, "audio")
	return s.proposeStreamLocked(m, slot, "audio")
}

// RemoveAudio stops the audio stream and tells the peer (its m= line goes
// to port 0).
func (s *Session) RemoveAudio() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != StateEstablished {
		return fmt.Errorf("%w: remove audio needs ESTABLISHED, it is %s", ErrState, s.state)
	}
	if s.audio == nil {
		return errors.New("remove audio: the session has no audio stream")
	}
	s.audio.Close()
	s.audio = nil
	return s.removeStreamLocked(func(m sdp.Media) bool { return m.Type == "audio" }, "remove_audio")
}

// AcceptProposal accepts the streams the peer proposed (PROPOSED ->
// ESTABLISHED, SIPSessionAcceptedStreamProposal).
func (s *Session) AcceptProposal(audio, chat bool) error {
	var pre *MSRPChat
	var preErr error // refuses the proposal below, like any failure to make the stream
	if chat {
		pre, preErr = s.relayedChat(false, func() bool {
			return s.state == StateProposed && s.pendingRemote != nil && s.chat == nil && hasChatMedia(s.pendingRemote)
		})
		defer func() {
			if pre != nil {
				pre.End()
			}
		}()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != StateProposed || s.pendingRemote == nil {
		return fmt.Errorf("%w: accept proposal needs PROPOSED, it is %s", ErrState, s.state)
	}
	offer := s.pendingRemote
	s.pendingRemote = nil
	refuse := func(err error) error {
		s.inv.RejectProposal(500, "Server Internal Error")
		s.setStateLocked(StateEstablished)
		s.center().Post(RejectedStreamProposal, s, ProposalResultData{Timestamp: now(), Proposer: origRemote, Reason: err.Error()})
		return err
	}
	// Both streams are made before either is attached: a failure leaves
	// the session as it was.
	var as *AudioStream
	if audio && s.audio == nil {
		var err error
		if as, err = s.mgr.newAudioStream(s, s.sipHost); err != nil {
			return refuse(err)
		}
	}
	var cs *MSRPChat
	if chat && s.chat == nil {
		var err error
		cs, err, pre = pre, preErr, nil
		if cs == nil && err == nil {
			cs, err = s.mgr.newChat(s.sipHost, s.account)
		}
		if err != nil {
			if as != nil {
				as.Close()
			}
			return refuse(err)
		}
		s.attachChatLocked(cs)
	}
	if as != nil {
		s.audio = as
	}
	s.answerRemoteLocked(offer, as != nil, cs != nil)
	s.setStateLocked(StateEstablished)
	s.center().Post(AcceptedStreamProposal, s, ProposalResultData{Timestamp: now(), Proposer: origRemote})
	return nil
}

// RejectProposal declines the peer's proposal (488; PROPOSED ->
// ESTABLISHED, SIPSessionRejectedStreamProposal).
func (s *Session) RejectProposal() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != StateProposed {
		return fmt.Errorf("%w: reject proposal needs PROPOSED, it is %s", ErrState, s.state)
	}
	s.pendingRemote = nil
	s.inv.RejectProposal(488, "Not Acceptable Here")
	s.setStateLocked(StateEstablished)
	s.center().Post(RejectedStreamProposal, s, ProposalResultData{Timestamp: now(), Proposer: origRemote, Reason: "rejected"})
	return nil
}

// StartRecordingAudio records the call's audio to fileName (default: a
// name made of the participants and the time, in the recordings
// directory). Nothing is recorded while the session is on hold.
func (s *Session) StartRecordingAudio(fileName string) error {
	s.mu.Lock()
	st, a := s.state, s.audio
	s.mu.Unlock()
	if st != StateEstablished {
		return fmt.Errorf("%w: recording needs ESTABLISHED, it is %s", ErrState, st)
	}
	if a == nil || !a.Started() {
		return errors.New("start recording: the session has no active audio stream")
	}
	if fileName == "" {
		fileName = s.mgr.defaultRecordingName(s)
	}
	s.center().Post(WillStartRecordingAudio, s, RecordingData{Timestamp: now(), FileName: fileName})
	if err := a.StartRecording(fileName); err != nil {
		return err
	}
	s.center().Post(DidStartRecordingAudio, s, RecordingData{Timestamp: now(), FileName: fileName})
	return nil
}

// StopRecordingAudio stops the recording.
func (s *Session) StopRecordingAudio() error {
	s.mu.Lock()
	st, a := s.state, s.audio
	s.mu.Unlock()
	if st != StateEstablished {
		return fmt.Errorf("%w: recording needs ESTABLISHED, it is %s", ErrState, st)
	}
	if a == nil || a.RecordingFileName() == "" {
		return errors.New("stop recording: nothing is being recorded")
	}
	name := a.RecordingFileName()
	s.center().Post(WillStopRecordingAudio, s, RecordingData{Timestamp: now(), FileName: name})
	if err := a.StopRecording(); err != nil {
		return err
	}
	s.center().Post(DidStopRecordingAudio, s, RecordingData{Timestamp: now(), FileName: name})
	return nil
}

// The audio_* attributes of seed 000, read from the audio stream; zero
// values when the session has no audio stream.

// AudioCodec is the negotiated codec's name, once the stream started.
func (s *Session) AudioCodec() string {
	if a := s.Audio(); a != nil {
		return a.Codec()
	}
	return ""
}

// AudioSampleRate is the negotiated codec's sample rate in Hz.
func (s *Session) AudioSampleRate() int {
	if a := s.Audio(); a != nil {
		return a.SampleRate()
	}
	return 0
}

// AudioSRTPActive reports whether SRTP protects the audio stream.
func (s *Session) AudioSRTPActive() bool {
	if a := s.Audio(); a != nil {
		return a.SRTPActive()
	}
	return false
}

// AudioLocalRTPAddress and AudioLocalRTPPort are the local RTP endpoint.
func (s *Session) AudioLocalRTPAddress() string {
	if a := s.Audio(); a != nil {
		return a.LocalRTPAddress().Addr().String()
	}
	return ""
}

// AudioLocalRTPPort: see AudioLocalRTPAddress.
func (s *Session) AudioLocalRTPPort() int {
	if a := s.Audio(); a != nil {
		return int(a.LocalRTPAddress().Port())
	}
	return 0
}

// AudioRemoteRTPAddressSDP and AudioRemoteRTPPortSDP are where the
// remote's SDP asks us to send audio.
func (s *Session) AudioRemoteRTPAddressSDP() string {
	if a := s.Audio(); a != nil {
		if ap := a.RemoteRTPAddressSDP(); ap.IsValid() {
			return ap.Addr().String()
		}
	}
	return ""
}

// AudioRemoteRTPPortSDP: see AudioRemoteRTPAddressSDP.
func (s *Session) AudioRemoteRTPPortSDP() int {
	if a := s.Audio(); a != nil {
		return int(a.RemoteRTPAddressSDP().Port())
	}
	return 0
}

// AudioRemoteRTPAddressReceived and AudioRemoteRTPPortReceived are where
// the remote's audio really comes from (symmetric RTP), once it arrived.
func (s *Session) AudioRemoteRTPAddressReceived() string {
	if a := s.Audio(); a != nil {
		if ap := a.RemoteRTPAddressReceived(); ap.IsValid() {
			return ap.Addr().String()
		}
	}
	return ""
}

// AudioRemoteRTPPortReceived: see AudioRemoteRTPAddressReceived.
func (s *Session) AudioRemoteRTPPortReceived() int {
	if a := s.Audio(); a != nil {
		return int(a.RemoteRTPAddressReceived().Port())
	}
	return 0
}

// AudioWasReceived reports whether audio arrived on the audio stream.
func (s *Session) AudioWasReceived() bool {
	if a := s.Audio(); a != nil {
		return a.WasReceived()
	}
	return false
}

// AudioRecordingFileName is the .wav file being recorded to, "" when none.
func (s *Session) AudioRecordingFileName() string {
	if a := s.Audio(); a != nil {
		return a.RecordingFileName()
	}
	return ""
}

// attachChatLocked makes c the session's chat stream: its messages are
// also reported with the session as sender, its CPIM parties are the
// session's.
func (s *Session) attachChatLocked(c *MSRPChat) {
	s.chat = c
	c.mu.Lock()
	c.sess = s
	c.localURI, c.remoteURI = s.localURI, s.remoteURI
	c.mu.Unlock()
}

// isChatMedia reports whether m is an MSRP (message) stream other than a
// file transfer.
func isChatMedia(m sdp.Media) bool {
	return m.Type == "message" && sdp.IsMSRP(m.Proto) && !hasFileSelector(m)
}

// isFileMedia reports whether m is an MSRP file transfer (RFC 5547:
// a=file-selector).
func isFileMedia(m sdp.Media) bool {
	return m.Type == "message" && sdp.IsMSRP(m.Proto) && hasFileSelector(m)
}

func hasFileSelector(m sdp.Media) bool {
	_, ok := m.Attribute("file-selector")
	return ok
}

// attachTransferLocked makes t the session's file-transfer stream; a
// session that sends a file ends once the file is delivered or not.
func (s *Session) attachTransferLocked(t *MSRPFileTransfer) {
	s.transfer = t
	if t.sending {
		t.mu.Lock()
		t.onOutcome = func() { go s.End(false) }
		t.mu.Unlock()
	}
}

// AcceptFileTransfer accepts an incoming session that offers a file
// (INCOMING -> ACCEPTING): the file is received into dir ("" means
// MediaConfig.DownloadsDirectory, the setting file_transfer.directory);
// see MSRPFileTransfer. The sender ends the session once it is delivered.
func (s *Session) AcceptFileTransfer(dir string) error {
	if dir == "" {
		dir = s.mgr.cfg.Media.DownloadsDirectory
		if dir == "" {
			dir = filepath.Join(os.TempDir(), "sipsimple-downloads")
		}
	}
	// The transfer is made, and reserved at a relay (network I/O),
	// without s.mu; the offer it answers must still be the session's.
	s.mu.Lock()
	if s.state != StateIncoming {
		defer s.mu.Unlock()
		return fmt.Errorf("%w: accept file transfer needs INCOMING, it is %s", ErrState, s.state)
	}
	remote, host := s.lastRemote, s.sipHost
	s.mu.Unlock()
	if remote == nil {
		return errors.New("accept file transfer: the INVITE had no offer")
	}
	var pre *MSRPFileTransfer
	for _, m := range remote.Media {
		if isFileMedia(m) && !m.Rejected() {
			t, err := s.mgr.newIncomingTransfer(host, m, dir, s.account)
			if err != nil {
				return fmt.Errorf("accept file transfer: %w", err)
			}
			if err := t.reserve(context.Background(), s.account, false); err != nil {
				t.End()
				return fmt.Errorf("accept file transfer: %w", err)
			}
			pre = t
			break
		}
	}
	if pre == nil {
		return errors.New("accept file transfer: no file offered")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != StateIncoming || s.lastRemote != remote {
		pre.End()
		return fmt.Errorf("%w: accept file transfer needs INCOMING, it is %s", ErrState, s.state)
	}
	var answer []sdp.Media
	var ft *MSRPFileTransfer
	for _, m := range remote.Media {
		if ft == nil && isFileMedia(m) && !m.Rejected() {
			t := pre
			local, err := t.Answer(m)
			if err != nil {
				t.End()
				return fmt.Errorf("accept file transfer: %w", err)
			}
			ft = t
			answer = append(answer, local)
			continue
		}
		answer = append(answer, sdp.RejectMedia(m))
	}
	if ft == nil {
		return errors.New("accept file transfer: no file offered")
	}
	if s.audio != nil {
		s.audio.Close()
		s.audio = nil
	}
	s.attachTransferLocked(ft)
	s.answerIncomingLocked(ft.addr, answer)
	return nil
}
