package account

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipsimple-go/sipsimple/core"
)

// Handler receives an account's events (PJSUA's AccountCallback). Methods
// run on the account's own goroutine, one event at a time, never on a
// network goroutine; they may call any API. An event the handler does not
// answer gets PJSUA's default action: incoming calls are rejected,
// presence subscriptions are accepted, instant messages from strangers are
// answered (sip.unknown_message_response: 200, or 480) and dropped. Embed
// DefaultHandler to implement only some methods.
type Handler interface {
	// OnIncomingCall gets an INVITE this account was chosen for. Answer
	// it with in.Respond; unanswered, it is rejected with 480.
	OnIncomingCall(a *Account, in *Incoming)
	// OnIncomingMessage gets an out-of-dialog MESSAGE. Unanswered, it
	// gets the account's unknown_message_response.
	OnIncomingMessage(a *Account, in *Incoming)
	// OnRegistrationState reports each registration outcome.
	OnRegistrationState(a *Account, st RegistrationState)
	// OnIncomingSubscription gets a watcher's presence SUBSCRIBE. Answer
	// it with sub.Accept (a.AcceptPresence sends the account's status),
	// sub.AcceptPending or sub.Reject; unanswered, it is accepted with
	// the account's status.
	OnIncomingSubscription(a *Account, sub *core.IncomingSubscription)
}

// DefaultHandler leaves every event to its default action.
type DefaultHandler struct{}

// OnIncomingCall implements Handler (default: reject).
func (DefaultHandler) OnIncomingCall(*Account, *Incoming) {}

// OnIncomingMessage implements Handler (default: answer and drop).
func (DefaultHandler) OnIncomingMessage(*Account, *Incoming) {}

// OnRegistrationState implements Handler.
func (DefaultHandler) OnRegistrationState(*Account, RegistrationState) {}

// OnIncomingSubscription implements Handler (default: accept).
func (DefaultHandler) OnIncomingSubscription(*Account, *core.IncomingSubscription) {}

// RegistrationState is a registration outcome given to OnRegistrationState.
type RegistrationState struct {
	Registered bool
	Code       int
	Reason     string
	Expires    time.Duration
}

// Incoming is an incoming request handed to a Handler.
type Incoming struct {
	Request *sip.Request
	e       *core.Engine
	tx      sip.ServerTransaction
	done    atomic.Bool
}

// Respond answers the request (once; later calls do nothing and return
// false).
func (in *Incoming) Respond(code int, reason string) bool {
	if !in.done.CompareAndSwap(false, true) {
		return false
	}
	in.e.Respond(in.tx, sip.NewResponseFromRequest(in.Request, code, reason, nil))
	return true
}

// Answered reports whether Respond was called.
func (in *Incoming) Answered() bool { return in.done.Load() }

// SetHandler installs the account's handler (nil restores the defaults).
func (a *Account) SetHandler(h Handler) {
	a.mu.Lock()
	a.handler = h
	a.mu.Unlock()
}

func (a *Account) currentHandler() Handler {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.handler == nil {
		return DefaultHandler{}
	}
	return a.handler
}

// events runs handler calls of one account in order on one goroutine that
// exists only while events are queued; when the queue is full, requests
// are answered 503 at once instead of piling up.
type events struct {
	mu      sync.Mutex
	queue   []func()
	running bool
}

const maxQueuedEvents = 1024

// submit queues f; it returns false when the queue is full.
func (ev *events) submit(f func()) bool {
	ev.mu.Lock()
	if len(ev.queue) >= maxQueuedEvents {
		ev.mu.Unlock()
		return false
	}
	ev.queue = append(ev.queue, f)
	start := !ev.running
	ev.running = true
	ev.mu.Unlock()
	if start {
		go ev.run()
	}
	return true
}

func (ev *events) run() {
	for {
		ev.mu.Lock()
		if len(ev.queue) == 0 {
			ev.running = false
			ev.mu.Unlock()
			return
		}
		f := ev.queue[0]
		ev.queue[0] = nil
		ev.queue = ev.queue[1:]
		ev.mu.Unlock()
		f()
	}
}

// handleIncoming serves INVITE and MESSAGE requests: it finds the account
// (404 when none matches and there is no default), then runs the account's
// handler and the default action on the account's event goroutine.
func (m *Manager) handleIncoming(req *sip.Request, tx sip.ServerTransaction) {
	e := m.engine()
	if to := req.To(); to != nil {
		if tag, _ := to.Params.Get("tag"); tag != "" {
			// Inside a dialog nobody here knows (RFC 3261 12.2.2).
			e.Respond(tx, sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
			return
		}
	}
	a := m.FindForIncoming(req)
	if a == nil {
		e.Respond(tx, sip.NewResponseFromRequest(req, 404, "Not Found", nil))
		return
	}
	in := &Incoming{Request: req, e: e, tx: tx}
	ok := a.events.submit(func() {
		h := a.currentHandler()
		switch req.Method {
		case sip.INVITE:
			h.OnIncomingCall(a, in)
			in.Respond(480, "Temporarily Unavailable") // PJSUA: calls are rejected when unhandled
		case sip.MESSAGE:
			h.OnIncomingMessage(a, in)
			code := a.SIP.UnknownMessageResponse.Get()
			reason := "OK"
			if code == 480 {
				reason = "Temporarily Unavailable"
			}
			in.Respond(code, reason) // PJSUA: messages from strangers are ignored
		}
	})
	if !ok {
		e.Respond(tx, sip.NewResponseFromRequest(req, 503, "Service Unavailable", nil))
	}
}

// reportRegistration passes a registration outcome to the handler.
func (a *Account) reportRegistration(st RegistrationState) {
	a.events.submit(func() { a.currentHandler().OnRegistrationState(a, st) })
}
