package account

import (
	"context"
	"testing"
	"time"

	"github.com/sipsimple-go/sipsimple/core"
	"github.com/sipsimple-go/sipsimple/internal/interop"
	"github.com/sipsimple-go/sipsimple/notification"
)

func runWatcher(t *testing.T, e *env, scenario string) *interop.SIPp {
	t.Helper()
	udp, _ := e.engine.Listener("udp")
	return interop.RunSIPp(t, interop.SIPpOptions{
		Scenario:      "testdata/sipp/" + scenario,
		Remote:        udp.Addr.String(),
		Service:       "alice",
		Calls:         1,
		Timeout:       20 * time.Second,
		TraceMessages: true,
	})
}

func waitWatcher(t *testing.T, s *interop.SIPp) { t.Helper(); s.WaitOK(t) }

// A SIPp watcher subscribes to alice's presence. Unhandled, the
// subscription is accepted (PJSUA's default) with alice's status, open;
// SetOnlineStatus NOTIFYs the new one (closed, busy, a note); the watcher
// refreshes and gets the current state, then unsubscribes and gets a
// terminated NOTIFY. The scenario checks every message.
func TestPresenceSubscriptionAcceptedByDefault(t *testing.T) {
	e := newEnv(t, nil)
	a := e.localAccount(t, "alice@example.test")
	if st := a.OnlineStatus(); !st.Online {
		t.Fatalf("default online status %+v, want online", st)
	}
	got := e.center.Expect(core.IncomingSubscriptionGotSubscribe, nil)
	first := e.center.Expect(core.IncomingSubscriptionNotifyDidSucceed, nil)
	s := runWatcher(t, e, "presence_watcher.xml")
	n, err := got.Wait(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	sub := n.Sender.(*core.IncomingSubscription)
	if d, _ := notification.Data[core.IncomingSubscriptionGotSubscribeData](n); d.Event != "presence" || d.Expires != 120*time.Second || d.From.URI.User != "watcher" {
		t.Fatalf("GotSubscribe %+v", d)
	}
	ended := e.center.Expect(core.IncomingSubscriptionDidEnd, sub)
	if _, err := first.Wait(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if subs := a.PresenceSubscriptions(); len(subs) != 1 || subs[0] != sub || sub.State() != core.SubscriptionActive {
		t.Fatalf("subscriptions %v (state %s), want the one active", subs, sub.State())
	}
	if err := a.SetOnlineStatus(OnlineStatus{Online: false, Activity: "busy", Note: "in a meeting"}); err != nil {
		t.Fatal(err)
	}
	waitWatcher(t, s)
	d := wait[core.IncomingSubscriptionDidEndData](t, ended)
	if d.Originator != "remote" || d.Reason != "timeout" {
		t.Fatalf("DidEnd %+v, want remote timeout (unsubscribed)", d)
	}
	if subs := a.PresenceSubscriptions(); len(subs) != 0 {
		t.Fatalf("%d subscriptions left", len(subs))
	}
	if err := a.SetOnlineStatus(OnlineStatus{Activity: "<bad>"}); err == nil {
		t.Fatal("an activity that is not an XML name was accepted")
	}
}

// SUBSCRIBEs for an unknown package, with an Accept without PIDF, for too
// short a time, or inside an unknown dialog are refused (489, 406, 423,
// 481) and leave no subscription behind.
func TestPresenceSubscriptionRefused(t *testing.T) {
	e := newEnv(t, nil)
	a := e.localAccount(t, "alice@example.test")
	s := runWatcher(t, e, "presence_errors.xml")
	waitWatcher(t, s)
	if subs := a.PresenceSubscriptions(); len(subs) != 0 {
		t.Fatalf("%d subscriptions left", len(subs))
	}
}

// A handler may reject a subscription, or accept it as pending and later
// as active; deleting the account ends its subscriptions (noresource).
type pendingHandler struct {
	DefaultHandler
	subs chan *core.IncomingSubscription
}

func (h pendingHandler) OnIncomingSubscription(a *Account, sub *core.IncomingSubscription) {
	if err := sub.AcceptPending(); err != nil {
		panic(err)
	}
	h.subs <- sub
}

func TestPresenceSubscriptionPendingThenActiveThenDeleted(t *testing.T) {
	e := newEnv(t, nil)
	a := e.localAccount(t, "alice@example.test")
	h := pendingHandler{subs: make(chan *core.IncomingSubscription, 1)}
	a.SetHandler(h)
	s := runWatcher(t, e, "presence_pending.xml")
	var sub *core.IncomingSubscription
	select {
	case sub = <-h.subs:
	case <-testContext(t).Done():
		t.Fatal("no subscription")
	}
	if sub.State() != core.SubscriptionPending {
		t.Fatalf("state %s, want pending", sub.State())
	}
	if err := sub.Reject(403, "Forbidden"); err == nil {
		t.Fatal("Reject after AcceptPending succeeded")
	}
	// The watcher checks the pending and active NOTIFYs, then waits for
	// the terminated one, which the deletion sends.
	active := e.center.ExpectMatch(core.IncomingSubscriptionSentNotify, sub, func(n notification.Notification) bool {
		d, _ := notification.Data[core.IncomingSubscriptionSentNotifyData](n)
		return d.State == "active"
	})
	if err := a.AcceptPresence(sub); err != nil {
		t.Fatal(err)
	}
	if err := a.AcceptPresence(sub); err == nil {
		t.Fatal("a second Accept succeeded")
	}
	wait[core.IncomingSubscriptionSentNotifyData](t, active)
	ended := e.center.Expect(core.IncomingSubscriptionDidEnd, sub)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if d := wait[core.IncomingSubscriptionDidEndData](t, ended); d.Originator != "local" || d.Reason != "noresource" {
		t.Fatalf("DidEnd %+v, want local noresource", d)
	}
	waitWatcher(t, s)
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// With presence.publish on, an account publishes its status when it
// activates, publishes each change, and removes the state when it
// deactivates (PJSUA publish_enabled), against a SIPp presence server.
func TestPresencePublish(t *testing.T) {
	s := interop.RunSIPp(t, interop.SIPpOptions{Scenario: "testdata/sipp/presence_server.xml", Calls: 1,
		Timeout: 20 * time.Second, TraceMessages: true})
	e := newEnv(t, staticResolver{{Address: interop.Loopback, Port: s.Port, Transport: "udp"}})
	a, err := e.mgr.NewAccount("alice@example.test")
	if err != nil {
		t.Fatal(err)
	}
	a.SIP.Register.Set(false)
	a.Presence.Publish.Set(true)
	a.Enabled.Set(true)
	published := e.center.Expect(core.PublicationDidSucceed, nil)
	if err := a.Save(); err != nil {
		t.Fatal(err)
	}
	n, err := published.Wait(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	pub := a.Publication()
	if pub == nil || n.Sender != pub || !pub.Published() || pub.ETag() != "a1" {
		t.Fatalf("publication %v (sender %v), etag %q", pub, n.Sender, pub.ETag())
	}
	again := e.center.Expect(core.PublicationDidSucceed, pub)
	if err := a.SetOnlineStatus(OnlineStatus{Online: false, Activity: "away"}); err != nil {
		t.Fatal(err)
	}
	wait[core.PublicationDidSucceedData](t, again)
	if pub.ETag() != "a2" {
		t.Fatalf("etag %q after the update, want a2", pub.ETag())
	}
	ended := e.center.Expect(core.PublicationDidEnd, pub)
	a.Enabled.Set(false)
	if err := a.Save(); err != nil {
		t.Fatal(err)
	}
	if d := wait[core.PublicationDidEndData](t, ended); d.Expired {
		t.Fatalf("DidEnd %+v, want removed", d)
	}
	if a.Publication() != nil {
		t.Fatal("a deactivated account still has a publication")
	}
	waitWatcher(t, s)
}

// Publishing to Kamailio's presence server: the PUBLISH is challenged
// (407) and answered with the account's credentials; a status change is
// published with SIP-If-Match; disabling the account removes the state.
func TestPresencePublishKamailio(t *testing.T) {
	k := interop.StartKamailio(t, interop.KamailioConfig{Users: map[string]string{"alice": "secret"}, DisableTLS: true,
		Presence: true, Children: 1})
	e := newEnv(t, staticResolver{kamailioRoute(k, "udp")})
	a := e.newAccount(t, "alice@"+k.Domain, "secret")
	a.SIP.Register.Set(false)
	a.Presence.Publish.Set(true)
	published := e.center.Expect(core.PublicationDidSucceed, nil)
	if err := a.Save(); err != nil {
		t.Fatal(err)
	}
	n, err := published.Wait(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	pub := n.Sender.(*core.Publication)
	first := pub.ETag()
	if first == "" || !pub.Published() {
		t.Fatalf("etag %q, published %v", first, pub.Published())
	}
	again := e.center.Expect(core.PublicationDidSucceed, pub)
	if err := a.SetOnlineStatus(OnlineStatus{Online: false, Note: "gone"}); err != nil {
		t.Fatal(err)
	}
	wait[core.PublicationDidSucceedData](t, again)
	if pub.ETag() == first || pub.ETag() == "" {
		t.Fatalf("etag %q after the update (was %q)", pub.ETag(), first)
	}
	ended := e.center.Expect(core.PublicationDidEnd, pub)
	a.Enabled.Set(false)
	if err := a.Save(); err != nil {
		t.Fatal(err)
	}
	if d := wait[core.PublicationDidEndData](t, ended); d.Expired {
		t.Fatalf("DidEnd %+v, want removed", d)
	}
}
