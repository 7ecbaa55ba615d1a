package account

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"

	"github.com/sipsimple-go/sipsimple/core"
	"github.com/sipsimple-go/sipsimple/payloads"
)

// OnlineStatus is what an account tells its watchers (PJSUA's online
// status with its RPID element): online or not, an RPID activity
// (payloads.ActivityAway, ActivityBusy, ...) and a note.
type OnlineStatus struct {
	Online   bool
	Activity string
	Note     string
}

// presence is an account's notifier state: its online status and the
// server-side subscriptions of its watchers.
type presence struct {
	mu     sync.Mutex
	status OnlineStatus
	set    bool // status was set (the default is online)
	subs   map[*core.IncomingSubscription]struct{}
}

// OnlineStatus returns the status the account advertises; an account is
// online until told otherwise (as in PJSUA).
func (a *Account) OnlineStatus() OnlineStatus {
	a.presence.mu.Lock()
	defer a.presence.mu.Unlock()
	if !a.presence.set {
		return OnlineStatus{Online: true}
	}
	return a.presence.status
}

// SetOnlineStatus changes the status advertised to watchers and sends it
// at once in a NOTIFY on every active presence subscription and, when
// presence.publish is on, in a PUBLISH (PJSUA
// pjsua_acc_set_online_status2).
func (a *Account) SetOnlineStatus(st OnlineStatus) error {
	if _, err := payloads.MarshalPIDF(payloads.Presence{Entity: "sip:x@y", Activity: st.Activity}); err != nil {
		return fmt.Errorf("account %s: set online status: %w", a.ID(), err)
	}
	a.presence.mu.Lock()
	a.presence.status, a.presence.set = st, true
	subs := a.liveSubscriptionsLocked()
	a.presence.mu.Unlock()
	doc, err := a.presenceDocument()
	if err != nil {
		return err
	}
	for _, s := range subs {
		if s.State() == core.SubscriptionActive {
			s.PushContent(payloads.PIDFContentType, doc) // an error means it ended meanwhile
		}
	}
	a.mu.Lock()
	p := a.publisher
	a.mu.Unlock()
	if p != nil {
		p.update()
	}
	return nil
}

// Publication returns the core publication of the account's presence while
// publishing is enabled and active (nil otherwise); observe its
// SIPPublication notifications to follow it.
func (a *Account) Publication() *core.Publication {
	a.mu.Lock()
	p := a.publisher
	a.mu.Unlock()
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pub
}

// PresenceSubscriptions returns the account's watchers' subscriptions that
// have not ended.
func (a *Account) PresenceSubscriptions() []*core.IncomingSubscription {
	a.presence.mu.Lock()
	defer a.presence.mu.Unlock()
	return a.liveSubscriptionsLocked()
}

// liveSubscriptionsLocked drops ended subscriptions and returns the rest.
func (a *Account) liveSubscriptionsLocked() []*core.IncomingSubscription {
	var out []*core.IncomingSubscription
	for s := range a.presence.subs {
		if s.State() == core.SubscriptionTerminated {
			delete(a.presence.subs, s)
			continue
		}
		out = append(out, s)
	}
	return out
}

// presenceDocument renders the account's status as PIDF.
func (a *Account) presenceDocument() ([]byte, error) {
	st := a.OnlineStatus()
	return payloads.MarshalPIDF(payloads.Presence{Entity: a.URI().String(), Online: st.Online,
		Activity: st.Activity, Note: st.Note})
}

// AcceptPresence accepts sub with the account's current presence document
// (what happens to a subscription the handler leaves unanswered).
func (a *Account) AcceptPresence(sub *core.IncomingSubscription) error {
	doc, err := a.presenceDocument()
	if err != nil {
		return err
	}
	return sub.Accept(payloads.PIDFContentType, doc)
}

// endSubscriptions ends every watcher's subscription with reason and waits
// (bounded by ctx) for the final NOTIFYs.
func (a *Account) endSubscriptions(ctx context.Context, reason string) {
	a.presence.mu.Lock()
	subs := a.liveSubscriptionsLocked()
	a.presence.subs = nil
	a.presence.mu.Unlock()
	for _, s := range subs {
		s.End(reason) // an error means it ended meanwhile
	}
	for _, s := range subs {
		select {
		case <-s.Done():
		case <-ctx.Done():
			return
		}
	}
}

// supportedEvents are the event packages accounts serve as notifier.
var supportedEvents = []string{"presence"}

// handleSubscribe serves SUBSCRIBEs that start a subscription: it finds
// the account, checks the event package (489) and Accept (406), and hands
// the subscription to the account's handler; left unanswered, it is
// accepted with the account's presence document (PJSUA's default).
func (m *Manager) handleSubscribe(req *sip.Request, tx sip.ServerTransaction) {
	e := m.engine()
	respond := func(code int, reason string, extra ...sip.Header) {
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		for _, h := range extra {
			res.AppendHeader(h)
		}
		e.Respond(tx, res)
	}
	if to := req.To(); to != nil {
		if tag, _ := to.Params.Get("tag"); tag != "" {
			respond(481, "Subscription Does Not Exist") // no such dialog
			return
		}
	}
	pkg := ""
	if h := req.GetHeader("Event"); h != nil {
		pkg, _, _ = strings.Cut(h.Value(), ";")
		pkg = strings.ToLower(strings.TrimSpace(pkg))
	}
	if !slices.Contains(supportedEvents, pkg) {
		respond(489, "Bad Event", sip.NewHeader("Allow-Events", strings.Join(supportedEvents, ", ")))
		return
	}
	if !acceptsType(req, payloads.PIDFContentType) {
		respond(406, "Not Acceptable", sip.NewHeader("Accept", payloads.PIDFContentType))
		return
	}
	a := m.FindForIncoming(req)
	if a == nil {
		respond(404, "Not Found")
		return
	}
	contact, err := a.UASContact(req)
	if err != nil {
		respond(500, "Server Internal Error")
		return
	}
	creds := a.Credentials()
	sub, err := e.NewIncomingSubscription(req, tx, core.IncomingSubscriptionConfig{Contact: contact, Credentials: &creds})
	if err != nil {
		return // answered already
	}
	a.presence.mu.Lock()
	if a.presence.subs == nil {
		a.presence.subs = map[*core.IncomingSubscription]struct{}{}
	}
	a.presence.subs[sub] = struct{}{}
	a.presence.mu.Unlock()
	ok := a.events.submit(func() {
		a.currentHandler().OnIncomingSubscription(a, sub)
		if sub.State() == core.SubscriptionIncoming {
			if err := a.AcceptPresence(sub); err != nil {
				sub.Reject(500, "Server Internal Error")
			}
		}
	})
	if !ok {
		sub.Reject(503, "Service Unavailable")
	}
}

// acceptsType tells whether the request's Accept allows contentType; no
// Accept means the package's default, which for presence is PIDF.
func acceptsType(req *sip.Request, contentType string) bool {
	hs := req.GetHeaders("Accept")
	if len(hs) == 0 {
		return true
	}
	major, _, _ := strings.Cut(contentType, "/")
	for _, h := range hs {
		for _, v := range strings.Split(h.Value(), ",") {
			t, _, _ := strings.Cut(v, ";")
			t = strings.ToLower(strings.TrimSpace(t))
			if t == contentType || t == "*/*" || t == major+"/*" {
				return true
			}
		}
	}
	return false
}
