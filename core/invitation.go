package core

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// InvitationChangedState is posted by an Invitation (the sender) on every
// change of state or sub-state, as in python-sipsimple.
const InvitationChangedState = "SIPInvitationChangedState"

// Invitation states (python-sipsimple's Invitation.state).
const (
	InvitationNull          = "null"
	InvitationOutgoing      = "outgoing"
	InvitationIncoming      = "incoming"
	InvitationEarly         = "early"
	InvitationConnecting    = "connecting"
	InvitationConnected     = "connected"
	InvitationDisconnecting = "disconnecting"
	InvitationDisconnected  = "disconnected"
)

// Sub-states of the connected state.
const (
	InvitationNormal           = "normal"
	InvitationSentProposal     = "sent_proposal"
	InvitationReceivedProposal = "received_proposal"
)

// InvitationChangedStateData is the data of SIPInvitationChangedState.
// Code, Reason and Message come from the response or request that caused
// the change, when one did; Body and ContentType are its body (an SDP
// offer or answer).
type InvitationChangedStateData struct {
	PrevState, State       string
	PrevSubState, SubState string
	Originator             string // "local" or "remote"
	Code                   int
	Reason                 string
	Method                 string // the request that caused the change, if any
	ContentType            string
	Body                   []byte
	Message                sip.Message
	// DisconnectReason says why a disconnected invitation ended: "user
	// request", "timeout", "missing ACK", "internal error", or the text of
	// the response.
	DisconnectReason string
}

// InvitationConfig describes the local side of an Invitation.
type InvitationConfig struct {
	// From is the local party (From of an outgoing INVITE). For an
	// incoming one it is taken from the request.
	From NameAddr
	// To is the remote party of an outgoing INVITE.
	To NameAddr
	// RequestURI is the outgoing INVITE's target; default To.URI.
	RequestURI SIPURI
	// Contact is our Contact (required).
	Contact SIPURI
	// Credentials answer digest challenges to our requests.
	Credentials *Credentials
	// RouteSet is a preloaded route (outbound proxy) for the INVITE.
	RouteSet []SIPURI
	// Headers are extra headers for the initial INVITE or its answer.
	Headers []sip.Header
	// Timeout bounds an outgoing INVITE until its final response
	// (python-sipsimple: 90 s); when it expires the INVITE is cancelled.
	Timeout time.Duration
}

// ErrInvitationState is wrapped by errors from Invitation methods called in
// a state that does not allow them.
var ErrInvitationState = errors.New("wrong invitation state")

// Invitation is the INVITE dialog usage (RFC 3261 13-15): an outgoing or
// incoming INVITE, its provisional and final responses, CANCEL, the 2xx
// ACK (and its retransmissions), re-INVITEs in both directions with 491
// glare handling (RFC 3261 14.1), and BYE. Bodies (SDP) are opaque here:
// the session layer makes offers and answers. Its methods may be called
// from any goroutine, return at once, and report through
// SIPInvitationChangedState.
type Invitation struct {
	e   *Engine
	cfg InvitationConfig

	mu          sync.Mutex
	state       string
	subState    string
	outgoing    bool
	dlg         *dialog
	releaseDlg  func()
	auth        *authorizer
	remoteUA    string
	done        chan struct{}
	owner       bool // we chose the Call-ID (the caller): RFC 3261 14.1 glare timer
	endReason   string
	endPosted   bool
	ctx         context.Context
	cancelCtx   context.CancelFunc
	callID      string
	fromTag     string
	invite      *sip.Request // the outgoing INVITE in flight (for CANCEL)
	reinviteOut *sip.Request // our re-INVITE in flight, once sent (for CANCEL)
	gotProv     bool         // a provisional response arrived (CANCEL may go)
	cancelling  bool         // CANCEL wanted
	ack         *sip.Request // ACK of our 2xx-answered INVITE (for retransmissions)
	serverReq   *sip.Request // the incoming INVITE (or re-INVITE) being answered
	serverTx    sip.ServerTransaction
	localTag    string
	ok          *sip.Response // our 2xx awaiting ACK
	okTimer     *time.Timer
	okGen       int
	reinviteReq *sip.Request // pending incoming re-INVITE
	reinviteTx  sip.ServerTransaction
	proposal    []byte // our pending re-INVITE body
	proposalCT  string
	glareTimer  *time.Timer
	// reinviteAnswered is set (by the engine's read loop) once the final
	// response to our re-INVITE in flight is read; reinviteSettled closes
	// once runReinvite has processed it. See runReinvite.
	reinviteAnswered atomic.Bool
	reinviteSettled  chan struct{}
}

// NewOutgoingInvitation prepares an outgoing call; Send starts it.
func (e *Engine) NewOutgoingInvitation(cfg InvitationConfig) (*Invitation, error) {
	if cfg.Contact.Host == "" {
		return nil, errors.New("new invitation: no Contact")
	}
	if cfg.To.URI.Host == "" || cfg.From.URI.Host == "" {
		return nil, errors.New("new invitation: From and To need a host")
	}
	if cfg.RequestURI.Host == "" {
		cfg.RequestURI = cfg.To.URI
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 90 * time.Second
	}
	i := &Invitation{e: e, cfg: cfg, state: InvitationNull, outgoing: true, owner: true, done: make(chan struct{}),
		callID: sip.GenerateTagN(24), fromTag: sip.GenerateTagN(16)}
	i.ctx, i.cancelCtx = context.WithCancel(context.Background())
	if cfg.Credentials != nil {
		i.auth = newAuthorizer(*cfg.Credentials)
	}
	return i, nil
}

// NewIncomingInvitation takes an initial INVITE (no To tag) and posts
// SIPInvitationChangedState to incoming, with the offer if any. The caller
// answers with SendResponse.
func (e *Engine) NewIncomingInvitation(req *sip.Request, tx sip.ServerTransaction, cfg InvitationConfig) (*Invitation, error) {
	if req.Method != sip.INVITE {
		return nil, fmt.Errorf("new incoming invitation: request is %s", req.Method)
	}
	if cfg.Contact.Host == "" {
		return nil, errors.New("new incoming invitation: no Contact")
	}
	localTag := sip.GenerateTagN(16)
	dlg, err := newUASDialog(req, localTag, cfg.Contact)
	if err != nil {
		e.respond(tx, sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
		return nil, err
	}
	i := &Invitation{e: e, cfg: cfg, state: InvitationNull, done: make(chan struct{}), dlg: dlg, localTag: localTag,
		serverReq: req, serverTx: tx, callID: dlg.id.CallID}
	i.ctx, i.cancelCtx = context.WithCancel(context.Background())
	if cfg.Credentials != nil {
		i.auth = newAuthorizer(*cfg.Credentials)
	}
	if h := req.GetHeader("User-Agent"); h != nil {
		i.remoteUA = h.Value()
	}
	release, err := e.RegisterDialog(dlg.id, i.handleInDialog)
	if err != nil {
		e.respond(tx, sip.NewResponseFromRequest(req, 500, "Server Internal Error", nil))
		return nil, err
	}
	i.releaseDlg = release
	tx.OnCancel(func(*sip.Request) { i.cancelled() })
	i.mu.Lock()
	i.setStateLocked(InvitationIncoming, "", InvitationChangedStateData{Originator: "remote", Method: "INVITE", Message: req,
		ContentType: contentType(req), Body: req.Body()})
	i.mu.Unlock()
	return i, nil
}

// State returns the state and sub-state.
func (i *Invitation) State() (state, subState string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.state, i.subState
}

// RemoteUserAgent returns the peer's User-Agent or Server header.
func (i *Invitation) RemoteUserAgent() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.remoteUA
}

// CallID returns the Call-ID.
func (i *Invitation) CallID() string { return i.callID }

// Done is closed when the invitation is disconnected.
func (i *Invitation) Done() <-chan struct{} { return i.done }

// DialogID returns the dialog's identifier once it exists.
func (i *Invitation) DialogID() (DialogID, bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.dlg == nil || i.dlg.id.RemoteTag == "" && i.outgoing {
		return DialogID{}, false
	}
	return i.dlg.id, true
}

func contentType(m sip.Message) string {
	if hs := m.GetHeaders("Content-Type"); len(hs) > 0 {
		return hs[0].Value()
	}
	return ""
}

// setStateLocked changes state and posts the notification.
func (i *Invitation) setStateLocked(state, sub string, d InvitationChangedStateData) {
	if state == i.state && sub == i.subState {
		return
	}
	d.PrevState, d.PrevSubState = i.state, i.subState
	d.State, d.SubState = state, sub
	i.state, i.subState = state, sub
	if d.Method == "" && d.Message != nil {
		if req, ok := d.Message.(*sip.Request); ok {
			d.Method = string(req.Method)
		}
	}
	i.e.center.Post(InvitationChangedState, i, d)
	if state == InvitationDisconnected && !i.endPosted {
		i.endPosted = true
		i.stopOKLocked()
		if i.glareTimer != nil {
			i.glareTimer.Stop()
		}
		if i.releaseDlg != nil {
			i.releaseDlg()
		}
		i.cancelCtx()
		close(i.done)
	}
}

// --- outgoing ---

// Send starts the outgoing INVITE with body (an SDP offer; empty for a
// late offer) through routes, tried in order (a timeout, a transport error
// or a 503 moves to the next).
func (i *Invitation) Send(routes []Route, contentType string, body []byte) error {
	if len(routes) == 0 {
		return errors.New("invitation: no route")
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if !i.outgoing || i.state != InvitationNull {
		return fmt.Errorf("%w: cannot send, it is %s", ErrInvitationState, i.state)
	}
	i.setStateLocked(InvitationOutgoing, "", InvitationChangedStateData{Originator: "local", Method: "INVITE",
		ContentType: contentType, Body: body})
	go i.runOutgoing(append([]Route(nil), routes...), contentType, append([]byte(nil), body...))
	return nil
}

// buildInvite creates the INVITE with CSeq seq.
func (i *Invitation) buildInvite(seq uint32, contentType string, body []byte) (*sip.Request, error) {
	req, err := NewRequest("INVITE", i.cfg.RequestURI, i.cfg.From, i.cfg.To, i.cfg.Contact, i.cfg.RouteSet)
	if err != nil {
		return nil, err
	}
	req.From().Params.Add("tag", i.fromTag)
	callID := sip.CallIDHeader(i.callID)
	req.ReplaceHeader(&callID)
	req.ReplaceHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: sip.INVITE})
	req.AppendHeader(sip.NewHeader("Allow", i.e.callAllow()))
	req.AppendHeader(sip.NewHeader("Supported", "replaces, norefersub"))
	for _, h := range i.cfg.Headers {
		req.AppendHeader(h)
	}
	if len(body) > 0 {
		req.AppendHeader(sip.NewHeader("Content-Type", contentType))
	}
	req.SetBody(body)
	return req, nil
}

// runOutgoing sends the INVITE through each route until one gives a final
// answer.
func (i *Invitation) runOutgoing(routes []Route, ct string, body []byte) {
	deadline := time.AfterFunc(i.cfg.Timeout, func() { i.timeoutOutgoing() })
	defer deadline.Stop()
	seq := uint32(1)
	var last InvitationChangedStateData
	last.Originator, last.Code, last.Reason, last.DisconnectReason = "local", 0, "no route", "internal error"
	for idx := 0; idx < len(routes); idx++ {
		route := routes[idx]
		for round := 0; round <= maxAuthRounds; round++ {
			req, err := i.buildInvite(seq, ct, body)
			if err != nil {
				i.disconnect(InvitationChangedStateData{Originator: "local", Reason: err.Error(), DisconnectReason: "internal error"})
				return
			}
			if err := i.e.prepareRequest(req, route); err != nil {
				last = InvitationChangedStateData{Originator: "local", Reason: err.Error(), DisconnectReason: "internal error"}
				break
			}
			if i.auth != nil {
				if err := i.auth.authorize(req); err != nil {
					i.disconnect(InvitationChangedStateData{Originator: "local", Reason: err.Error(), DisconnectReason: "internal error"})
					return
				}
			}
			res, err := i.transactInvite(req)
			i.mu.Lock()
			cancelling := i.cancelling
			i.mu.Unlock()
			switch {
			case err != nil:
				last = InvitationChangedStateData{Originator: "local", Code: 408, Reason: "Request Timeout", DisconnectReason: "timeout"}
				if !errors.Is(err, sip.ErrTransactionTimeout) && !errors.Is(err, context.DeadlineExceeded) {
					last.Code, last.Reason, last.DisconnectReason = 0, err.Error(), "internal error"
				}
				if cancelling {
					i.mu.Lock()
					timedOut := i.endReason == "timeout"
					i.mu.Unlock()
					if timedOut {
						i.disconnect(InvitationChangedStateData{Originator: "local", Code: 408, Reason: "Request Timeout", DisconnectReason: "timeout"})
					} else {
						i.disconnect(InvitationChangedStateData{Originator: "local", Code: 487, Reason: "Request Terminated", DisconnectReason: "user request"})
					}
					return
				}
			case res.IsSuccess():
				return // established (or ended) by onSuccess
			case (res.StatusCode == 401 || res.StatusCode == 407) && i.auth != nil && !cancelling:
				if err := i.auth.challenged(res); err != nil {
					i.disconnect(failureData(res, "remote"))
					return
				}
				seq++
				continue
			case res.StatusCode == 503 && !cancelling && idx+1 < len(routes):
				last = failureData(res, "remote")
			default:
				d := failureData(res, "remote")
				if cancelling && res.StatusCode == 487 {
					d.Originator, d.DisconnectReason = "local", "user request"
				}
				i.disconnect(d)
				return
			}
			break
		}
		seq++
	}
	i.disconnect(last)
}

func failureData(res *sip.Response, originator string) InvitationChangedStateData {
	return InvitationChangedStateData{Originator: originator, Code: res.StatusCode, Reason: res.Reason, Message: res,
		DisconnectReason: res.Reason}
}

// transactInvite runs one INVITE client transaction: provisional responses
// move to early, a 2xx establishes the dialog and is ACKed. It returns the
// final response.
func (i *Invitation) transactInvite(req *sip.Request) (*sip.Response, error) {
	client := i.e.Client()
	if client == nil {
		return nil, ErrEngineNotRunning
	}
	i.mu.Lock()
	if i.state == InvitationDisconnected {
		i.mu.Unlock()
		return nil, context.Canceled
	}
	i.invite, i.gotProv = req, false
	i.mu.Unlock()
	tx, err := client.TransactionRequest(i.ctx, req, sipgo.ClientRequestBuild)
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	i.e.traceOutgoing(req)
	onLate := func(res *sip.Response) {
		if res.IsSuccess() {
			i.onSuccess(req, res) // a retransmitted 2xx, or another fork's
		}
	}
	tx.OnRetransmission(onLate)
	// After the transaction, 2xx responses still come for a while: ours
	// again when the ACK was lost, other forks' (RFC 6026 Timer M).
	stopLate := i.e.watchLate2xx(i.callID, req.CSeq().SeqNo, onLate)
	defer func() { time.AfterFunc(64*sip.T1, stopLate) }()
	for {
		select {
		case res := <-tx.Responses():
			i.noteRemoteUA(res)
			switch {
			case res.StatusCode == 100:
			case res.IsProvisional():
				i.onProvisional(res)
			case res.IsSuccess():
				i.onSuccess(req, res)
				return res, nil
			default:
				return res, nil
			}
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, err
			}
			return nil, errors.New("INVITE transaction ended without a final response")
		case <-i.ctx.Done():
			// Ended or timed out before any provisional response: there
			// is nothing to CANCEL (RFC 3261 9.1), so stop waiting; a late
			// 2xx goes unanswered and the callee gives up on its own.
			return nil, i.ctx.Err()
		}
	}
}

func (i *Invitation) noteRemoteUA(res *sip.Response) {
	if h := res.GetHeader("Server"); h != nil {
		i.mu.Lock()
		i.remoteUA = h.Value()
		i.mu.Unlock()
	} else if h := res.GetHeader("User-Agent"); h != nil {
		i.mu.Lock()
		i.remoteUA = h.Value()
		i.mu.Unlock()
	}
}

// onProvisional handles 180/183: the first one with a To tag moves to
// early; a CANCEL waiting for a provisional response goes now.
func (i *Invitation) onProvisional(res *sip.Response) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.gotProv = true
	if i.cancelling {
		i.sendCancelLocked()
		return
	}
	if i.state == InvitationOutgoing || i.state == InvitationEarly {
		i.setStateLocked(InvitationEarly, "", InvitationChangedStateData{Originator: "remote", Code: res.StatusCode,
			Reason: res.Reason, Message: res, ContentType: contentType(res), Body: res.Body()})
	}
}

// onSuccess handles a 2xx to the INVITE: the first establishes the
// dialog; retransmissions get the same ACK again; a 2xx from another fork
// is ACKed and ended with BYE (RFC 3261 13.2.2.4).
func (i *Invitation) onSuccess(req *sip.Request, res *sip.Response) {
	tag := ""
	if to := res.To(); to != nil {
		tag, _ = to.Params.Get("tag")
	}
	i.mu.Lock()
	if i.ack == nil && i.state == InvitationDisconnected {
		// Answered after it ended (a 487 or a timeout came first from
		// another fork): hang that one up.
		i.mu.Unlock()
		i.endFork(req, res)
		return
	}
	if i.ack != nil {
		if i.dlg != nil && tag == i.dlg.id.RemoteTag {
			ack := i.ack
			i.mu.Unlock()
			i.e.writeRequest(ack)
			return
		}
		i.mu.Unlock()
		i.endFork(req, res)
		return
	}
	dlg, err := newUACDialog(req, res, i.cfg.Contact)
	if err != nil {
		i.mu.Unlock()
		i.e.log.Debug("unusable 2xx to INVITE", "error", err)
		return
	}
	i.dlg = dlg
	ack, route, err := dlg.newRequestCSeq("ACK", req.CSeq().SeqNo)
	if err == nil {
		err = i.e.prepareRequest(ack, route)
	}
	if err != nil {
		i.mu.Unlock()
		i.disconnect(InvitationChangedStateData{Originator: "local", Reason: err.Error(), DisconnectReason: "internal error"})
		return
	}
	if i.auth != nil {
		i.auth.authorize(ack) // the ACK carries the INVITE's credentials
	}
	i.ack = ack
	release, rerr := i.e.RegisterDialog(dlg.id, i.handleInDialog)
	if rerr == nil {
		i.releaseDlg = release
	}
	cancelling := i.cancelling
	// The ACK goes out with the lock held, so that a request the peer
	// sends as soon as it has the ACK (a re-INVITE, a BYE) finds the
	// invitation connected rather than early (500 Retry-After).
	i.e.writeRequest(ack)
	d := InvitationChangedStateData{Originator: "remote", Code: res.StatusCode, Reason: res.Reason, Message: res,
		ContentType: contentType(res), Body: res.Body()}
	i.setStateLocked(InvitationConnecting, "", d)
	i.setStateLocked(InvitationConnected, InvitationNormal, InvitationChangedStateData{Originator: "local", Method: "ACK"})
	i.mu.Unlock()
	if cancelling {
		i.End() // answered while being cancelled: hang up now
	}
}

// endFork ACKs and BYEs a 2xx from a fork other than the established one.
func (i *Invitation) endFork(req *sip.Request, res *sip.Response) {
	dlg, err := newUACDialog(req, res, i.cfg.Contact)
	if err != nil {
		return
	}
	ack, route, err := dlg.newRequestCSeq("ACK", req.CSeq().SeqNo)
	if err != nil || i.e.prepareRequest(ack, route) != nil {
		return
	}
	i.e.writeRequest(ack)
	bye, route, err := dlg.newRequest("BYE")
	if err != nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 32*time.Second)
		defer cancel()
		i.e.sendAuthorized(ctx, bye, route, i.auth)
	}()
}

// writeRequest sends a request outside any transaction (an ACK to a 2xx).
func (e *Engine) writeRequest(req *sip.Request) {
	client := e.Client()
	if client == nil || e.stopping.Load() {
		// Stopping: sipgo would open a new socket for a destination its
		// cleared pool no longer knows, and leak its reader.
		return
	}
	if err := client.WriteRequest(req, sipgo.ClientRequestBuild); err != nil {
		e.log.Debug("sending request failed", "method", req.Method, "error", err)
		return
	}
	e.traceOutgoing(req)
}

// timeoutOutgoing cancels an INVITE unanswered after Timeout.
func (i *Invitation) timeoutOutgoing() {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.state == InvitationOutgoing || i.state == InvitationEarly {
		i.endReason = "timeout"
		i.cancelling = true
		if i.gotProv {
			i.sendCancelLocked()
		} else {
			i.cancelCtx() // nothing to CANCEL yet: stop retransmitting
		}
	}
}

// sendCancelLocked sends CANCEL for the INVITE in flight (RFC 3261 9.1).
func (i *Invitation) sendCancelLocked() { i.sendCancelForLocked(i.invite) }

// sendCancelForLocked cancels the INVITE or re-INVITE inv (RFC 3261 9.1:
// the same Request-URI, Call-ID, From, To, CSeq number and top Via).
func (i *Invitation) sendCancelForLocked(inv *sip.Request) {
	if inv == nil {
		return
	}
	cancel := sip.NewRequest(sip.CANCEL, inv.Recipient)
	if via := inv.Via(); via != nil {
		cancel.AppendHeader(via.Clone())
	}
	for _, h := range inv.GetHeaders("Route") {
		cancel.AppendHeader(sip.NewHeader("Route", h.Value()))
	}
	maxFwd := sip.MaxForwardsHeader(70)
	cancel.AppendHeader(&maxFwd)
	cancel.AppendHeader(sip.HeaderClone(inv.From()))
	cancel.AppendHeader(sip.HeaderClone(inv.To()))
	cancel.AppendHeader(sip.HeaderClone(inv.CallID()))
	cancel.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	cancel.SetTransport(inv.Transport())
	cancel.SetDestination(inv.Destination())
	cancel.Laddr = inv.Laddr
	go func() {
		ctx, c := context.WithTimeout(context.Background(), 32*time.Second)
		defer c()
		if _, err := i.e.transactOnce(ctx, cancel); err != nil {
			i.e.log.Debug("CANCEL failed", "error", err)
		}
	}()
}

// --- incoming ---

// SendResponse answers the incoming INVITE: 180/183 move to early, a 2xx
// to connecting (connected when the ACK comes; retransmitted until then),
// 300-699 reject it. Extra headers may be given.
func (i *Invitation) SendResponse(code int, reason string, contentType string, body []byte, headers ...sip.Header) error {
	if code < 101 || code > 699 {
		return fmt.Errorf("invitation: response code %d out of range (101-699)", code)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.outgoing || (i.state != InvitationIncoming && i.state != InvitationEarly) {
		return fmt.Errorf("%w: cannot answer, it is %s", ErrInvitationState, i.state)
	}
	if reason == "" {
		reason = defaultReason(code)
	}
	res := sip.NewResponseFromRequest(i.serverReq, code, reason, nil)
	res.To().Params.Add("tag", i.localTag)
	if code < 300 {
		res.AppendHeader(sip.NewHeader("Contact", "<"+i.cfg.Contact.String()+">"))
	}
	if code >= 200 && code < 300 {
		res.AppendHeader(sip.NewHeader("Allow", i.e.callAllow()))
		res.AppendHeader(sip.NewHeader("Supported", "replaces, norefersub"))
	}
	for _, h := range append(append([]sip.Header(nil), i.cfg.Headers...), headers...) {
		res.AppendHeader(h)
	}
	if len(body) > 0 {
		res.AppendHeader(sip.NewHeader("Content-Type", contentType))
		res.SetBody(body)
	}
	i.e.respond(i.serverTx, res)
	d := InvitationChangedStateData{Originator: "local", Code: code, Reason: reason, Message: res, ContentType: contentType, Body: body}
	switch {
	case code < 200:
		i.setStateLocked(InvitationEarly, "", d)
	case code < 300:
		i.startOKLocked(i.serverTx, res, false)
		i.setStateLocked(InvitationConnecting, "", d)
	default:
		d.DisconnectReason = "user request"
		i.setStateLocked(InvitationDisconnected, "", d)
	}
	return nil
}

func defaultReason(code int) string {
	switch code {
	case 180:
		return "Ringing"
	case 183:
		return "Session Progress"
	case 200:
		return "OK"
	case 486:
		return "Busy Here"
	case 488:
		return "Not Acceptable Here"
	case 603:
		return "Decline"
	case 415:
		return "Unsupported Media Type"
	case 480:
		return "Temporarily Unavailable"
	case 491:
		return "Request Pending"
	case 500:
		return "Server Internal Error"
	}
	return "Response " + strconv.Itoa(code)
}

// startOKLocked retransmits our 2xx (T1 doubling up to T2) until its ACK
// arrives, and ends the call with BYE when none does within 64*T1 (RFC
// 3261 13.3.1.4). reinvite says whether it answers a re-INVITE.
func (i *Invitation) startOKLocked(tx sip.ServerTransaction, res *sip.Response, reinvite bool) {
	i.stopOKLocked()
	i.ok = res
	i.okGen++
	gen := i.okGen
	start := time.Now()
	interval := sip.T1
	var tick func()
	tick = func() {
		i.mu.Lock()
		defer i.mu.Unlock()
		if gen != i.okGen || i.ok == nil {
			return
		}
		if time.Since(start) >= 64*sip.T1 {
			i.ok = nil
			i.sendByeLocked("missing ACK")
			return
		}
		tx.Respond(res)
		interval = min(2*interval, sip.T2)
		i.okTimer = time.AfterFunc(interval, tick)
	}
	i.okTimer = time.AfterFunc(interval, tick)
	go func() {
		select {
		case ack := <-tx.Acks():
			i.gotAck(ack, gen)
		case <-tx.Done():
		case <-i.done:
		}
	}()
}

func (i *Invitation) stopOKLocked() {
	i.okGen++
	i.ok = nil
	if i.okTimer != nil {
		i.okTimer.Stop()
		i.okTimer = nil
	}
}

// gotAck handles the ACK of our 2xx (gen -1: an ACK that came outside the
// transaction, through the dialog).
func (i *Invitation) gotAck(ack *sip.Request, gen int) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.ok == nil || (gen >= 0 && gen != i.okGen) {
		return
	}
	i.stopOKLocked()
	d := InvitationChangedStateData{Originator: "remote", Method: "ACK", Message: ack, ContentType: contentType(ack), Body: ack.Body()}
	if i.state == InvitationConnecting {
		i.setStateLocked(InvitationConnected, InvitationNormal, d)
	} else if i.state == InvitationConnected && len(ack.Body()) > 0 {
		i.e.center.Post(InvitationChangedState, i, d) // a late answer in the ACK
	}
}

// cancelled handles the peer's CANCEL of the incoming INVITE (sipgo
// answered 200 and 487).
func (i *Invitation) cancelled() {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.state == InvitationIncoming || i.state == InvitationEarly {
		i.setStateLocked(InvitationDisconnected, "", InvitationChangedStateData{Originator: "remote", Code: 487,
			Reason: "Request Terminated", Method: "CANCEL", DisconnectReason: "user request"})
	}
}

// --- both ---

// End ends the invitation whatever its state: an outgoing INVITE is
// cancelled (once a provisional response allows it), an incoming one is
// declined (603), an established call gets BYE. It returns an error when
// the invitation is already ending.
func (i *Invitation) End() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	switch i.state {
	case InvitationNull:
		i.setStateLocked(InvitationDisconnected, "", InvitationChangedStateData{Originator: "local", DisconnectReason: "user request"})
	case InvitationOutgoing, InvitationEarly:
		if !i.outgoing {
			i.mu.Unlock()
			err := i.SendResponse(603, "Decline", "", nil)
			i.mu.Lock()
			return err
		}
		if i.cancelling {
			return fmt.Errorf("%w: already cancelling", ErrInvitationState)
		}
		i.cancelling = true
		i.endReason = "user request"
		i.setStateLocked(InvitationDisconnecting, "", InvitationChangedStateData{Originator: "local"})
		if i.gotProv {
			i.sendCancelLocked()
		} else {
			i.cancelCtx() // nothing to CANCEL yet: stop retransmitting
		}
	case InvitationIncoming:
		i.mu.Unlock()
		err := i.SendResponse(603, "Decline", "", nil)
		i.mu.Lock()
		return err
	case InvitationConnecting, InvitationConnected:
		i.stopOKLocked()
		i.sendByeLocked("user request")
	default:
		return fmt.Errorf("%w: cannot end, it is %s", ErrInvitationState, i.state)
	}
	return nil
}

// sendByeLocked moves to disconnecting, sends BYE and disconnects when it
// is answered (or not).
func (i *Invitation) sendByeLocked(reason string) {
	if i.dlg == nil {
		i.setStateLocked(InvitationDisconnected, "", InvitationChangedStateData{Originator: "local", DisconnectReason: reason})
		return
	}
	bye, route, err := i.dlg.newRequest("BYE")
	i.setStateLocked(InvitationDisconnecting, "", InvitationChangedStateData{Originator: "local", Method: "BYE"})
	if err != nil {
		i.setStateLocked(InvitationDisconnected, "", InvitationChangedStateData{Originator: "local", DisconnectReason: reason})
		return
	}
	auth := i.auth
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 32*time.Second)
		defer cancel()
		res, err := i.e.sendAuthorized(ctx, bye, route, auth)
		d := InvitationChangedStateData{Originator: "local", Method: "BYE", DisconnectReason: reason}
		if err == nil && res != nil {
			d.Code, d.Reason, d.Message = res.StatusCode, res.Reason, res
		}
		i.disconnect(d)
	}()
}

// disconnect moves to disconnected (once).
func (i *Invitation) disconnect(d InvitationChangedStateData) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.state == InvitationDisconnected {
		return
	}
	if d.DisconnectReason == "" {
		d.DisconnectReason = i.endReason
	}
	if i.endReason == "timeout" && d.Code == 487 {
		d.Code, d.Reason, d.DisconnectReason = 408, "Request Timeout", "timeout"
	}
	i.setStateLocked(InvitationDisconnected, "", d)
}

// SendReinvite proposes a new session description (hold, a stream added
// or removed): sub-state sent_proposal until the answer, which comes in
// SIPInvitationChangedState back to normal with the response's code and
// body. A 491 (glare) is retried after the RFC 3261 14.1 delay.
func (i *Invitation) SendReinvite(contentType string, body []byte) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.state != InvitationConnected || i.subState != InvitationNormal {
		return fmt.Errorf("%w: cannot re-INVITE, it is %s/%s", ErrInvitationState, i.state, i.subState)
	}
	i.proposal, i.proposalCT = append([]byte(nil), body...), contentType
	i.setStateLocked(InvitationConnected, InvitationSentProposal, InvitationChangedStateData{Originator: "local",
		Method: "INVITE", ContentType: contentType, Body: body})
	i.sendReinviteLocked()
	return nil
}

func (i *Invitation) sendReinviteLocked() {
	req, route, err := i.dlg.newRequest("INVITE")
	if err != nil {
		i.setStateLocked(InvitationConnected, InvitationNormal, InvitationChangedStateData{Originator: "local", Reason: err.Error()})
		return
	}
	req.AppendHeader(sip.NewHeader("Allow", i.e.callAllow()))
	if len(i.proposal) > 0 {
		req.AppendHeader(sip.NewHeader("Content-Type", i.proposalCT))
	}
	req.SetBody(i.proposal)
	auth := i.auth
	go i.runReinvite(req, route, auth)
}

// CancelReinvite cancels our re-INVITE in progress (a timeout of the
// session layer): the peer answers it 487 and the invitation goes back to
// connected/normal with that code, or, if its 2xx crossed the CANCEL, with
// the 2xx. It fails when no re-INVITE of ours is in flight.
func (i *Invitation) CancelReinvite() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.state != InvitationConnected || i.subState != InvitationSentProposal {
		return fmt.Errorf("%w: no re-INVITE to cancel, it is %s/%s", ErrInvitationState, i.state, i.subState)
	}
	if i.glareTimer != nil {
		// Not sent: it waits to be retried after a 491. Give it up.
		i.glareTimer.Stop()
		i.glareTimer = nil
		i.setStateLocked(InvitationConnected, InvitationNormal, InvitationChangedStateData{Originator: "local",
			Code: 487, Reason: "Request Terminated"})
		return nil
	}
	if i.reinviteOut == nil {
		return fmt.Errorf("%w: the re-INVITE is not sent yet", ErrInvitationState)
	}
	i.sendCancelForLocked(i.reinviteOut)
	return nil
}

// runReinvite runs our re-INVITE transaction and its ACK.
//
// While it is in flight a peer's re-INVITE is answered 491 (RFC 3261
// 14.2), unless the final response to ours was already read: the
// transaction layer hands responses and requests on from goroutines of
// their own, so a peer that sends its re-INVITE right after its answer to
// ours (and our ACK) could otherwise find ours still pending. The engine
// marks that response as it is read (reinviteAnswered) and the peer's
// re-INVITE waits for it to be processed (reinviteSettled).
func (i *Invitation) runReinvite(req *sip.Request, route Route, auth *authorizer) {
	var res *sip.Response
	var err error
	i.mu.Lock()
	settled := make(chan struct{})
	i.reinviteSettled = settled
	i.mu.Unlock()
	defer close(settled)
	locked := false // the loop's breaks hold i.mu
	for round := 0; round <= maxAuthRounds; round++ {
		if err = i.e.prepareRequest(req, route); err != nil {
			i.mu.Lock()
			locked = true
			break
		}
		if auth != nil {
			if err = auth.authorize(req); err != nil {
				i.mu.Lock()
				locked = true
				break
			}
		}
		i.reinviteAnswered.Store(false)
		stop := i.e.watchFinal(i.callID, req.CSeq().SeqNo, func() { i.reinviteAnswered.Store(true) })
		ctx, cancel := context.WithTimeout(i.ctx, 64*sip.T1)
		res, err = i.e.transactSent(ctx, req, func() {
			i.mu.Lock()
			i.reinviteOut = req
			i.mu.Unlock()
		})
		cancel()
		stop()
		i.mu.Lock()
		i.reinviteOut = nil
		if err != nil || (res.StatusCode != 401 && res.StatusCode != 407) || auth == nil {
			locked = true
			break
		}
		// Another round: ours is pending again.
		i.reinviteAnswered.Store(false)
		i.mu.Unlock()
		if err = auth.challenged(res); err != nil {
			i.mu.Lock()
			locked = true
			break
		}
		i.mu.Lock()
		i.dlg.localCSeq++
		req.CSeq().SeqNo = i.dlg.localCSeq
		i.mu.Unlock()
	}
	if !locked {
		i.mu.Lock() // out of authentication rounds
	}
	defer i.mu.Unlock()
	defer i.reinviteAnswered.Store(false)
	if i.state != InvitationConnected || i.subState != InvitationSentProposal {
		return
	}
	if err != nil || res == nil {
		// RFC 3261 14.1: a timeout ends the dialog.
		i.setStateLocked(InvitationConnected, InvitationNormal, InvitationChangedStateData{Originator: "local", Code: 408, Reason: "Request Timeout"})
		i.sendByeLocked("timeout")
		return
	}
	if seq := req.CSeq().SeqNo; seq > i.dlg.localCSeq {
		i.dlg.localCSeq = seq
	}
	if res.IsSuccess() {
		ack, aroute, aerr := i.dlg.newRequestCSeq("ACK", req.CSeq().SeqNo)
		if aerr == nil && i.e.prepareRequest(ack, aroute) == nil {
			i.e.writeRequest(ack) // before anything else in the dialog (a BYE) goes
			// The 2xx is retransmitted if the ACK is lost: ACK it again.
			stop := i.e.watchLate2xx(i.callID, req.CSeq().SeqNo, func(*sip.Response) { i.e.writeRequest(ack) })
			time.AfterFunc(64*sip.T1, stop)
		}
		if c := res.Contact(); c != nil {
			if u, err := ParseSIPURI(c.Address.String()); err == nil {
				i.dlg.remoteTarget = u
			}
		}
	}
	if res.StatusCode == 491 {
		// Glare: try again after 2.1-4 s if we own the Call-ID, else 0-2 s,
		// in units of 10 ms (RFC 3261 14.1).
		lo, hi := 0, 200
		if i.owner {
			lo, hi = 210, 400
		}
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(hi-lo+1)))
		delay := time.Duration(lo+int(n.Int64())) * 10 * time.Millisecond
		var timer *time.Timer
		timer = time.AfterFunc(delay, func() {
			i.mu.Lock()
			defer i.mu.Unlock()
			if i.glareTimer != timer {
				return
			}
			i.glareTimer = nil
			if i.state == InvitationConnected && i.subState == InvitationSentProposal {
				i.sendReinviteLocked()
			}
		})
		i.glareTimer = timer
		return
	}
	d := InvitationChangedStateData{Originator: "remote", Code: res.StatusCode, Reason: res.Reason, Message: res,
		ContentType: contentType(res), Body: res.Body()}
	i.setStateLocked(InvitationConnected, InvitationNormal, d)
	if res.StatusCode == 408 || res.StatusCode == 481 {
		i.sendByeLocked(res.Reason) // RFC 3261 14.1: the dialog is gone
	}
}

// AcceptProposal answers a received re-INVITE with 200 and body (the SDP
// answer).
func (i *Invitation) AcceptProposal(contentType string, body []byte) error {
	return i.answerProposal(200, "OK", contentType, body)
}

// RejectProposal answers a received re-INVITE with a failure code
// (default 488): the session stays as it was.
func (i *Invitation) RejectProposal(code int, reason string) error {
	if code == 0 {
		code = 488
	}
	if code < 300 || code > 699 {
		return fmt.Errorf("invitation: reject code %d out of range (300-699)", code)
	}
	return i.answerProposal(code, reason, "", nil)
}

func (i *Invitation) answerProposal(code int, reason, contentType string, body []byte) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.state != InvitationConnected || i.subState != InvitationReceivedProposal || i.reinviteTx == nil {
		return fmt.Errorf("%w: no proposal to answer, it is %s/%s", ErrInvitationState, i.state, i.subState)
	}
	if reason == "" {
		reason = defaultReason(code)
	}
	req, tx := i.reinviteReq, i.reinviteTx
	i.reinviteReq, i.reinviteTx = nil, nil
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	if code < 300 {
		res.AppendHeader(sip.NewHeader("Contact", "<"+i.cfg.Contact.String()+">"))
		res.AppendHeader(sip.NewHeader("Allow", i.e.callAllow()))
	}
	if len(body) > 0 {
		res.AppendHeader(sip.NewHeader("Content-Type", contentType))
		res.SetBody(body)
	}
	i.e.respond(tx, res)
	if code < 300 {
		i.startOKLocked(tx, res, true)
	}
	i.setStateLocked(InvitationConnected, InvitationNormal, InvitationChangedStateData{Originator: "local", Code: code,
		Reason: reason, Message: res, ContentType: contentType, Body: body})
	return nil
}

// handleInDialog serves the peer's requests inside the dialog.
func (i *Invitation) handleInDialog(req *sip.Request, tx sip.ServerTransaction) {
	if req.Method == sip.ACK {
		i.gotAck(req, -1)
		return
	}
	if tx == nil {
		return
	}
	respond := func(code int, reason string, extra ...sip.Header) {
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		for _, h := range extra {
			res.AppendHeader(h)
		}
		i.e.respond(tx, res)
	}
	i.mu.Lock()
	if !i.dlg.checkRemoteCSeq(req) && i.dlg.remoteCSeq != 0 {
		i.mu.Unlock()
		respond(500, "Server Internal Error", sip.NewHeader("Retry-After", "1"))
		return
	}
	if h := req.GetHeader("User-Agent"); h != nil {
		i.remoteUA = h.Value()
	}
	switch req.Method {
	case sip.BYE:
		if i.state == InvitationConnecting && i.ok != nil {
			// The BYE overtook the ACK of our 2xx (the transaction layer
			// hands requests on from goroutines of their own): the peer
			// had our answer, so the call was connected.
			i.stopOKLocked()
			i.setStateLocked(InvitationConnected, InvitationNormal, InvitationChangedStateData{Originator: "remote", Method: "BYE", Message: req})
		}
		state := i.state
		i.mu.Unlock()
		respond(200, "OK")
		if state == InvitationIncoming || state == InvitationEarly {
			// BYE before our final answer (RFC 3261 15.1.2): 487 the INVITE.
			i.mu.Lock()
			res := sip.NewResponseFromRequest(i.serverReq, 487, "Request Terminated", nil)
			res.To().Params.Add("tag", i.localTag)
			i.e.respond(i.serverTx, res)
			i.mu.Unlock()
		}
		i.mu.Lock()
		i.stopOKLocked()
		i.setStateLocked(InvitationDisconnected, "", InvitationChangedStateData{Originator: "remote", Method: "BYE",
			Message: req, DisconnectReason: "user request"})
		i.mu.Unlock()
	case sip.INVITE:
		for i.state == InvitationConnected && i.subState == InvitationSentProposal && i.glareTimer == nil &&
			i.reinviteAnswered.Load() && i.reinviteSettled != nil {
			// The answer to ours was read before this request: let it be
			// processed first (see runReinvite).
			settled := i.reinviteSettled
			i.mu.Unlock()
			<-settled
			i.mu.Lock()
		}
		if i.state == InvitationConnecting && i.ok != nil && newerCSeq(req, i.ok) {
			// A re-INVITE overtook the ACK of our 2xx to the INVITE: the
			// peer has our answer, so the call is connected.
			i.stopOKLocked()
			i.setStateLocked(InvitationConnected, InvitationNormal, InvitationChangedStateData{Originator: "remote", Method: "INVITE", Message: req})
		}
		if i.state == InvitationConnected && i.subState == InvitationNormal && i.ok != nil && newerCSeq(req, i.ok) {
			// A new re-INVITE overtook the ACK of our 2xx to the previous
			// one (the peer sends them from different goroutines and UDP
			// keeps no order): the peer has our 2xx, so the new request
			// acknowledges it.
			i.stopOKLocked()
		}
		switch {
		case i.state != InvitationConnected:
			i.mu.Unlock()
			respond(500, "Server Internal Error", sip.NewHeader("Retry-After", strconv.Itoa(1+int(randN(9)))))
		case i.subState == InvitationSentProposal && i.glareTimer == nil:
			i.mu.Unlock()
			respond(491, "Request Pending") // ours is in progress (RFC 3261 14.2)
		case i.subState == InvitationReceivedProposal || i.ok != nil:
			i.mu.Unlock()
			respond(500, "Server Internal Error", sip.NewHeader("Retry-After", strconv.Itoa(1+int(randN(9)))))
		default:
			if i.subState == InvitationSentProposal {
				// Ours got 491 and waits to be retried: the peer's goes
				// first, and ours is reported as refused.
				i.glareTimer.Stop()
				i.glareTimer = nil
				i.setStateLocked(InvitationConnected, InvitationNormal, InvitationChangedStateData{Originator: "remote",
					Code: 491, Reason: "Request Pending"})
			}
			if c := req.Contact(); c != nil {
				if u, err := ParseSIPURI(c.Address.String()); err == nil {
					i.dlg.remoteTarget = u // target refresh
				}
			}
			i.reinviteReq, i.reinviteTx = req, tx
			i.setStateLocked(InvitationConnected, InvitationReceivedProposal, InvitationChangedStateData{Originator: "remote",
				Method: "INVITE", Message: req, ContentType: contentType(req), Body: req.Body()})
			i.mu.Unlock()
		}
	default:
		i.mu.Unlock()
		respond(405, "Method Not Allowed", sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL"))
	}
}

// newerCSeq reports whether req has a higher CSeq than the request res
// answers.
func newerCSeq(req *sip.Request, res *sip.Response) bool {
	a, b := req.CSeq(), res.CSeq()
	return a != nil && b != nil && a.SeqNo > b.SeqNo
}

func randN(n int64) int64 {
	v, _ := rand.Int(rand.Reader, big.NewInt(n))
	return v.Int64()
}
