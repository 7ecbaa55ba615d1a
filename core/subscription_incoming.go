package core

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Notifications posted by an IncomingSubscription (the sender), with the
// names python-sipsimple uses.
const (
	IncomingSubscriptionGotSubscribe           = "SIPIncomingSubscriptionGotSubscribe"
	IncomingSubscriptionGotRefreshingSubscribe = "SIPIncomingSubscriptionGotRefreshingSubscribe"
	IncomingSubscriptionGotUnsubscribe         = "SIPIncomingSubscriptionGotUnsubscribe"
	IncomingSubscriptionAnsweredSubscribe      = "SIPIncomingSubscriptionAnsweredSubscribe"
	IncomingSubscriptionSentNotify             = "SIPIncomingSubscriptionSentNotify"
	IncomingSubscriptionNotifyDidSucceed       = "SIPIncomingSubscriptionNotifyDidSucceed"
	IncomingSubscriptionNotifyDidFail          = "SIPIncomingSubscriptionNotifyDidFail"
	IncomingSubscriptionDidTimeout             = "SIPIncomingSubscriptionDidTimeout"
	IncomingSubscriptionChangedState           = "SIPIncomingSubscriptionChangedState"
	IncomingSubscriptionDidEnd                 = "SIPIncomingSubscriptionDidEnd"
)

// Subscription states (python-sipsimple's IncomingSubscription.state).
const (
	SubscriptionIncoming   = "incoming"   // received, not answered yet
	SubscriptionPending    = "pending"    // accepted as pending (authorisation awaited)
	SubscriptionActive     = "active"     // accepted; NOTIFYs carry the state
	SubscriptionTerminated = "terminated" // over
)

// IncomingSubscriptionGotSubscribeData is the data of
// SIPIncomingSubscriptionGotSubscribe.
type IncomingSubscriptionGotSubscribeData struct {
	Event      string // the event package, e.g. "presence"
	RequestURI SIPURI
	From       NameAddr
	To         NameAddr
	Expires    time.Duration // as requested
	Request    *sip.Request
}

// IncomingSubscriptionGotRefreshingSubscribeData is the data of
// SIPIncomingSubscriptionGotRefreshingSubscribe.
type IncomingSubscriptionGotRefreshingSubscribeData struct {
	Expires time.Duration
}

// IncomingSubscriptionResponseData is the data of
// SIPIncomingSubscriptionAnsweredSubscribe, NotifyDidSucceed and
// NotifyDidFail. For a NOTIFY that got no response, Code is 408 or 0 and
// Reason the error.
type IncomingSubscriptionResponseData struct {
	Code   int
	Reason string
}

// IncomingSubscriptionSentNotifyData is the data of
// SIPIncomingSubscriptionSentNotify.
type IncomingSubscriptionSentNotifyData struct {
	State       string // Subscription-State value: active, pending, terminated
	Reason      string // the terminated reason
	ContentType string
	Body        []byte
}

// IncomingSubscriptionChangedStateData is the data of
// SIPIncomingSubscriptionChangedState.
type IncomingSubscriptionChangedStateData struct {
	PrevState string
	State     string
}

// IncomingSubscriptionDidEndData is the data of
// SIPIncomingSubscriptionDidEnd. Originator is "local" (End, Reject, a
// failed NOTIFY or the engine stopping) or "remote" (unsubscribed, or let
// it expire).
type IncomingSubscriptionDidEndData struct {
	Originator string
	Reason     string
}

// IncomingSubscriptionConfig tunes an IncomingSubscription.
type IncomingSubscriptionConfig struct {
	// Contact is our Contact in the 200 and in NOTIFYs (required).
	Contact SIPURI
	// Credentials answer digest challenges to our NOTIFYs, if any.
	Credentials *Credentials
	// DefaultExpires applies when the SUBSCRIBE has no Expires (RFC 3856
	// recommends 3600 s for presence); default 3600 s.
	DefaultExpires time.Duration
	// MaxExpires caps the granted duration; default 3600 s.
	MaxExpires time.Duration
	// MinExpires is the shortest accepted duration: shorter (but non-zero)
	// requests are answered 423 with Min-Expires. Default 60 s.
	MinExpires time.Duration
	// NotifyTimeout bounds one NOTIFY exchange; default 32 s (64*T1).
	NotifyTimeout time.Duration
}

// ErrSubscriptionState is wrapped by errors from IncomingSubscription
// methods called in the wrong state.
var ErrSubscriptionState = errors.New("wrong subscription state")

// IncomingSubscription is the notifier side of one subscription (RFC 6665):
// created for a SUBSCRIBE, it is answered with Accept, AcceptPending or
// Reject, then sends NOTIFYs (PushContent) and handles the subscriber's
// refreshes and unsubscription, and its expiry. Its methods may be called
// from any goroutine and never wait for the network: each NOTIFY runs on a
// goroutine of its own, one at a time, and outcomes are notifications.
type IncomingSubscription struct {
	e   *Engine
	cfg IncomingSubscriptionConfig

	event      string // Event header value (package and parameters)
	pkg        string // the event package
	request    *sip.Request
	requested  time.Duration
	auth       *authorizer
	done       chan struct{}
	releaseDlg func()

	mu          sync.Mutex
	state       string
	tx          sip.ServerTransaction // the initial SUBSCRIBE, until answered
	dlg         *dialog
	expires     time.Duration
	expiresAt   time.Time
	timer       *time.Timer
	contentType string
	body        []byte
	notifying   bool  // a NOTIFY is in flight
	queued      *note // the NOTIFY to send when it is done
	ending      bool  // a terminated NOTIFY was queued or sent
	endInfo     IncomingSubscriptionDidEndData
	closed      bool
}

// note is a NOTIFY to send.
type note struct {
	state, reason string
	contentType   string
	body          []byte
}

// NewIncomingSubscription takes a SUBSCRIBE that starts a subscription (no
// To tag) and posts SIPIncomingSubscriptionGotSubscribe. Requests it
// cannot take are answered here (400 without Event or Contact, 423 when
// the requested duration is too brief) and an error is returned; otherwise
// the caller must answer with Accept, AcceptPending or Reject.
func (e *Engine) NewIncomingSubscription(req *sip.Request, tx sip.ServerTransaction, cfg IncomingSubscriptionConfig) (*IncomingSubscription, error) {
	if cfg.DefaultExpires <= 0 {
		cfg.DefaultExpires = 3600 * time.Second
	}
	if cfg.MaxExpires <= 0 {
		cfg.MaxExpires = 3600 * time.Second
	}
	if cfg.MinExpires <= 0 {
		cfg.MinExpires = 60 * time.Second
	}
	if cfg.NotifyTimeout <= 0 {
		cfg.NotifyTimeout = 32 * time.Second
	}
	reject := func(code int, reason string, extra ...sip.Header) error {
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		for _, h := range extra {
			res.AppendHeader(h)
		}
		e.respond(tx, res)
		return fmt.Errorf("SUBSCRIBE answered %d %s", code, reason)
	}
	if req.Method != sip.SUBSCRIBE {
		return nil, fmt.Errorf("new incoming subscription: request is %s, not SUBSCRIBE", req.Method)
	}
	if cfg.Contact.Host == "" {
		return nil, errors.New("new incoming subscription: no Contact configured")
	}
	if to := req.To(); to != nil {
		if tag, _ := to.Params.Get("tag"); tag != "" {
			return nil, reject(481, "Subscription Does Not Exist")
		}
	}
	event, pkg := eventOf(req)
	if pkg == "" {
		return nil, reject(489, "Bad Event")
	}
	requested, ok := expiresOf(req, cfg.DefaultExpires)
	if !ok {
		return nil, reject(400, "Bad Expires")
	}
	if requested > 0 && requested < cfg.MinExpires {
		return nil, reject(423, "Interval Too Brief", sip.NewHeader("Min-Expires", strconv.Itoa(int(cfg.MinExpires/time.Second))))
	}
	localTag := sip.GenerateTagN(16)
	dlg, err := newUASDialog(req, localTag, cfg.Contact)
	if err != nil {
		return nil, reject(400, "Bad Request")
	}
	s := &IncomingSubscription{e: e, cfg: cfg, event: event, pkg: pkg, request: req, requested: requested,
		done: make(chan struct{}), state: SubscriptionIncoming, tx: tx, dlg: dlg,
		expires: min(requested, cfg.MaxExpires)}
	if cfg.Credentials != nil {
		s.auth = newAuthorizer(*cfg.Credentials)
	}
	release, err := e.RegisterDialog(dlg.id, s.handleInDialog)
	if err != nil {
		return nil, reject(500, "Server Internal Error")
	}
	s.releaseDlg = release
	d := IncomingSubscriptionGotSubscribeData{Event: pkg, Expires: requested, Request: req, From: dlg.remote, To: dlg.local}
	d.RequestURI, _ = ParseSIPURI(req.Recipient.String())
	e.center.Post(IncomingSubscriptionGotSubscribe, s, d)
	return s, nil
}

// eventOf returns the Event header value and its package name, lower
// case.
func eventOf(req *sip.Request) (string, string) {
	h := req.GetHeader("Event")
	if h == nil {
		h = req.GetHeader("o")
	}
	if h == nil {
		return "", ""
	}
	v := strings.TrimSpace(h.Value())
	pkg, _, _ := strings.Cut(v, ";")
	return v, strings.ToLower(strings.TrimSpace(pkg))
}

// expiresOf returns the Expires of req, or def without one; ok is false
// when the header is not a number.
func expiresOf(req *sip.Request, def time.Duration) (time.Duration, bool) {
	h := req.GetHeader("Expires")
	if h == nil {
		return def, true
	}
	n, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32)
	if err != nil {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// Event returns the event package ("presence", "message-summary", ...).
func (s *IncomingSubscription) Event() string { return s.pkg }

// Request returns the SUBSCRIBE that created the subscription.
func (s *IncomingSubscription) Request() *sip.Request { return s.request }

// Subscriber returns the subscriber's address (From of the SUBSCRIBE).
func (s *IncomingSubscription) Subscriber() NameAddr { return s.dlg.remote }

// State returns the state: incoming, pending, active or terminated.
func (s *IncomingSubscription) State() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Expires returns the duration granted (or to be granted).
func (s *IncomingSubscription) Expires() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expires
}

// Done is closed when the subscription has ended.
func (s *IncomingSubscription) Done() <-chan struct{} { return s.done }

// Accept answers 200 and sends a NOTIFY with the state (active) and the
// content. A subscription accepted as pending can be accepted later.
func (s *IncomingSubscription) Accept(contentType string, body []byte) error {
	return s.answer(SubscriptionActive, contentType, body)
}

// AcceptPending answers 200 and sends a NOTIFY saying the subscription
// is pending (no content), as when authorisation is awaited.
func (s *IncomingSubscription) AcceptPending() error {
	return s.answer(SubscriptionPending, "", nil)
}

func (s *IncomingSubscription) answer(state, contentType string, body []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.state == SubscriptionIncoming:
	case s.state == SubscriptionPending && state == SubscriptionActive:
	default:
		return fmt.Errorf("%w: cannot accept as %s, it is %s", ErrSubscriptionState, state, s.state)
	}
	if state == SubscriptionActive {
		s.contentType, s.body = contentType, append([]byte(nil), body...)
	}
	if s.tx != nil {
		tx := s.tx
		s.tx = nil
		res := sip.NewResponseFromRequest(s.request, 200, "OK", nil)
		res.To().Params.Add("tag", s.dlg.id.LocalTag)
		res.AppendHeader(sip.NewHeader("Contact", "<"+s.cfg.Contact.String()+">"))
		res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(s.expires/time.Second))))
		s.e.respond(tx, res)
		s.e.center.Post(IncomingSubscriptionAnsweredSubscribe, s, IncomingSubscriptionResponseData{Code: 200, Reason: "OK"})
		if s.expires == 0 {
			// A fetch (Expires: 0): one NOTIFY with the state, then over.
			s.setStateLocked(SubscriptionTerminated)
			s.endInfo = IncomingSubscriptionDidEndData{Originator: "remote", Reason: "timeout"}
			s.queueLocked(&note{state: "terminated", reason: "timeout", contentType: s.contentType, body: s.body})
			return nil
		}
		s.startTimerLocked()
	}
	s.setStateLocked(state)
	s.queueLocked(s.currentNoteLocked())
	return nil
}

// Reject answers the SUBSCRIBE with a final failure code (300 to 699) and
// ends the subscription.
func (s *IncomingSubscription) Reject(code int, reason string) error {
	if code < 300 || code > 699 {
		return fmt.Errorf("reject subscription: code %d is not a final failure (300-699)", code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != SubscriptionIncoming {
		return fmt.Errorf("%w: cannot reject, it is %s", ErrSubscriptionState, s.state)
	}
	if reason == "" {
		reason = "Rejected"
	}
	tx := s.tx
	s.tx = nil
	s.e.respond(tx, sip.NewResponseFromRequest(s.request, code, reason, nil))
	s.e.center.Post(IncomingSubscriptionAnsweredSubscribe, s, IncomingSubscriptionResponseData{Code: code, Reason: reason})
	s.setStateLocked(SubscriptionTerminated)
	s.endInfo = IncomingSubscriptionDidEndData{Originator: "local", Reason: "rejected"}
	s.finishLocked()
	return nil
}

// PushContent replaces the content and, when active, sends it in a NOTIFY.
// NOTIFYs never overlap: while one is in flight only the newest content
// waits.
func (s *IncomingSubscription) PushContent(contentType string, body []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == SubscriptionTerminated || s.ending {
		return fmt.Errorf("%w: cannot push content, it is %s", ErrSubscriptionState, s.state)
	}
	s.contentType, s.body = contentType, append([]byte(nil), body...)
	if s.state == SubscriptionActive {
		s.queueLocked(s.currentNoteLocked())
	}
	return nil
}

// End terminates the subscription with a NOTIFY (Subscription-State:
// terminated with reason, e.g. "deactivated", "noresource", "rejected";
// "" means none). An unanswered SUBSCRIBE is answered 480 instead.
func (s *IncomingSubscription) End(reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.state == SubscriptionTerminated || s.ending:
		return fmt.Errorf("%w: cannot end, it is %s", ErrSubscriptionState, s.state)
	case s.state == SubscriptionIncoming:
		tx := s.tx
		s.tx = nil
		s.e.respond(tx, sip.NewResponseFromRequest(s.request, 480, "Temporarily Unavailable", nil))
		s.e.center.Post(IncomingSubscriptionAnsweredSubscribe, s, IncomingSubscriptionResponseData{Code: 480, Reason: "Temporarily Unavailable"})
		s.setStateLocked(SubscriptionTerminated)
		s.endInfo = IncomingSubscriptionDidEndData{Originator: "local", Reason: reason}
		s.finishLocked()
		return nil
	}
	s.terminateLocked("local", reason)
	return nil
}

// terminateLocked queues the final NOTIFY; the subscription ends when it
// completes.
func (s *IncomingSubscription) terminateLocked(originator, reason string) {
	s.stopTimerLocked()
	s.setStateLocked(SubscriptionTerminated)
	s.endInfo = IncomingSubscriptionDidEndData{Originator: originator, Reason: reason}
	n := &note{state: "terminated", reason: reason}
	if s.contentType != "" && reason == "timeout" && originator == "remote" {
		n.contentType, n.body = s.contentType, s.body
	}
	s.queueLocked(n)
}

func (s *IncomingSubscription) currentNoteLocked() *note {
	if s.state == SubscriptionPending {
		return &note{state: "pending"}
	}
	return &note{state: "active", contentType: s.contentType, body: s.body}
}

func (s *IncomingSubscription) setStateLocked(state string) {
	if s.state == state {
		return
	}
	prev := s.state
	s.state = state
	s.e.center.Post(IncomingSubscriptionChangedState, s, IncomingSubscriptionChangedStateData{PrevState: prev, State: state})
}

func (s *IncomingSubscription) startTimerLocked() {
	s.stopTimerLocked()
	s.expiresAt = time.Now().Add(s.expires)
	deadline := s.expiresAt
	s.timer = time.AfterFunc(s.expires, func() { s.expired(deadline) })
}

func (s *IncomingSubscription) stopTimerLocked() {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
}

// expired ends the subscription if it was not refreshed in time.
func (s *IncomingSubscription) expired(deadline time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == SubscriptionTerminated || s.ending || !s.expiresAt.Equal(deadline) {
		return
	}
	s.e.center.Post(IncomingSubscriptionDidTimeout, s, nil)
	s.terminateLocked("remote", "timeout")
}

// queueLocked sends n now, or after the NOTIFY in flight (replacing any
// NOTIFY already waiting: the newest state is what counts).
func (s *IncomingSubscription) queueLocked(n *note) {
	if n.state == "terminated" {
		s.ending = true
	}
	if s.notifying {
		s.queued = n
		return
	}
	s.sendLocked(n)
}

// sendLocked starts a NOTIFY on its own goroutine; the result comes back
// to the actor.
func (s *IncomingSubscription) sendLocked(n *note) {
	if s.closed {
		return
	}
	req, route, err := s.dlg.newRequest("NOTIFY")
	if err != nil {
		s.notifyFailedLocked(0, err.Error())
		return
	}
	req.AppendHeader(sip.NewHeader("Event", s.event))
	state := n.state
	switch n.state {
	case "terminated":
		if n.reason != "" {
			state += ";reason=" + n.reason
		}
	default:
		left := time.Until(s.expiresAt)
		state += ";expires=" + strconv.Itoa(max(int((left+time.Second/2)/time.Second), 0))
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	if n.contentType != "" {
		req.AppendHeader(sip.NewHeader("Content-Type", n.contentType))
		req.SetBody(n.body)
	} else {
		req.SetBody(nil)
	}
	s.notifying = true
	s.e.center.Post(IncomingSubscriptionSentNotify, s, IncomingSubscriptionSentNotifyData{State: n.state, Reason: n.reason,
		ContentType: n.contentType, Body: n.body})
	timeout := s.cfg.NotifyTimeout
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		res, err := s.e.sendAuthorized(ctx, req, route, s.auth)
		s.notifyDone(res, err, req.CSeq().SeqNo)
	}()
}

// notifyDone handles a NOTIFY's outcome: a failure ends the subscription
// (RFC 6665 4.2.2), success sends what waited meanwhile.
func (s *IncomingSubscription) notifyDone(res *sip.Response, err error, cseq uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notifying = false
	if cseq > s.dlg.localCSeq {
		s.dlg.localCSeq = cseq // challenged NOTIFYs took more numbers
	}
	if err == nil && res != nil && res.IsSuccess() {
		s.e.center.Post(IncomingSubscriptionNotifyDidSucceed, s, IncomingSubscriptionResponseData{Code: res.StatusCode, Reason: res.Reason})
		if s.queued != nil {
			n := s.queued
			s.queued = nil
			s.sendLocked(n)
			return
		}
		if s.ending {
			s.finishLocked()
		}
		return
	}
	code, reason := 0, ""
	switch {
	case res != nil:
		code, reason = res.StatusCode, res.Reason
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sip.ErrTransactionTimeout):
		code, reason = 408, "Request Timeout"
	case err != nil:
		reason = err.Error()
	}
	s.notifyFailedLocked(code, reason)
}

func (s *IncomingSubscription) notifyFailedLocked(code int, reason string) {
	s.notifying = false
	s.e.center.Post(IncomingSubscriptionNotifyDidFail, s, IncomingSubscriptionResponseData{Code: code, Reason: reason})
	s.stopTimerLocked()
	s.queued = nil
	if !s.ending {
		s.endInfo = IncomingSubscriptionDidEndData{Originator: "local", Reason: fmt.Sprintf("NOTIFY failed: %d %s", code, reason)}
	}
	s.setStateLocked(SubscriptionTerminated)
	s.finishLocked()
}

// finishLocked posts DidEnd once and closes Done.
func (s *IncomingSubscription) finishLocked() {
	if s.closed {
		return
	}
	s.closed = true
	s.stopTimerLocked()
	s.releaseDlg()
	s.e.center.Post(IncomingSubscriptionDidEnd, s, s.endInfo)
	close(s.done)
}

// handleInDialog serves the subscriber's requests inside the dialog:
// refreshing SUBSCRIBEs and unsubscription. Anything else gets 405.
func (s *IncomingSubscription) handleInDialog(req *sip.Request, tx sip.ServerTransaction) {
	if tx == nil {
		return // a stray ACK
	}
	if req.Method != sip.SUBSCRIBE {
		res := sip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil)
		res.AppendHeader(sip.NewHeader("Allow", "SUBSCRIBE"))
		s.e.respond(tx, res)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	respond := func(code int, reason string, extra ...sip.Header) {
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		for _, h := range extra {
			res.AppendHeader(h)
		}
		s.e.respond(tx, res)
	}
	if s.state == SubscriptionTerminated || s.ending {
		respond(481, "Subscription Does Not Exist")
		return
	}
	if !s.dlg.checkRemoteCSeq(req) {
		respond(500, "Server Internal Error", sip.NewHeader("Retry-After", "1"))
		return
	}
	if _, pkg := eventOf(req); pkg != s.pkg {
		respond(489, "Bad Event")
		return
	}
	requested, ok := expiresOf(req, s.cfg.DefaultExpires)
	if !ok {
		respond(400, "Bad Expires")
		return
	}
	if requested > 0 && requested < s.cfg.MinExpires {
		respond(423, "Interval Too Brief", sip.NewHeader("Min-Expires", strconv.Itoa(int(s.cfg.MinExpires/time.Second))))
		return
	}
	if c := req.Contact(); c != nil {
		if u, err := ParseSIPURI(c.Address.String()); err == nil {
			s.dlg.remoteTarget = u // a target refresh (RFC 6665 4.1.2.1)
		}
	}
	granted := min(requested, s.cfg.MaxExpires)
	respond(200, "OK", sip.NewHeader("Contact", "<"+s.cfg.Contact.String()+">"),
		sip.NewHeader("Expires", strconv.Itoa(int(granted/time.Second))))
	if granted == 0 {
		s.e.center.Post(IncomingSubscriptionGotUnsubscribe, s, nil)
		s.terminateLocked("remote", "timeout")
		return
	}
	s.e.center.Post(IncomingSubscriptionGotRefreshingSubscribe, s, IncomingSubscriptionGotRefreshingSubscribeData{Expires: granted})
	s.expires = granted
	s.startTimerLocked()
	if s.state != SubscriptionIncoming {
		s.queueLocked(s.currentNoteLocked())
	}
}
