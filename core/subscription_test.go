package core

import (
	"errors"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipsimple-go/sipsimple/internal/interop"
	"github.com/sipsimple-go/sipsimple/notification"
)

// subscriptionPeer starts an engine whose SUBSCRIBE handler creates an
// IncomingSubscription with cfg and passes it to accept, and a SIPp
// subscriber running scenario against it. It returns the first
// subscription.
func subscriptionPeer(t *testing.T, scenario string, cfg IncomingSubscriptionConfig, accept func(*IncomingSubscription)) (*Engine, *notification.Center, *interop.SIPp, *IncomingSubscription) {
	t.Helper()
	e, c := startEngine(t, EngineConfig{})
	udp, _ := e.Listener("udp")
	cfg.Contact = SIPURI{Scheme: "sip", User: "notifier", Host: "127.0.0.1", Port: int(udp.Addr.Port())}
	subs := make(chan *IncomingSubscription, 1)
	e.Handle("SUBSCRIBE", func(req *sip.Request, tx sip.ServerTransaction) {
		s, err := e.NewIncomingSubscription(req, tx, cfg)
		if err != nil {
			return
		}
		accept(s)
		subs <- s
	})
	s := interop.RunSIPp(t, interop.SIPpOptions{Scenario: "testdata/sipp/" + scenario, Remote: udp.Addr.String(),
		Service: "alice", Calls: 1, Timeout: 20 * time.Second, TraceMessages: true})
	select {
	case sub := <-subs:
		return e, c, s, sub
	case <-testCtx(t).Done():
		t.Fatal("no SUBSCRIBE")
	}
	return nil, nil, nil, nil
}

func acceptHello(s *IncomingSubscription) {
	if err := s.Accept("text/plain", []byte("hello")); err != nil {
		panic(err)
	}
}

// A subscription that is not refreshed expires: NOTIFY
// terminated;reason=timeout, DidTimeout, DidEnd (remote, timeout). Before
// that, a refresh shorter than the minimum gets 423 with Min-Expires and
// one reusing a CSeq gets 500 (RFC 3261 12.2.2).
func TestIncomingSubscriptionExpires(t *testing.T) {
	timedOut := make(chan struct{})
	_, c, s, sub := subscriptionPeer(t, "subscribe_expire.xml", IncomingSubscriptionConfig{MinExpires: 2 * time.Second},
		func(s *IncomingSubscription) { acceptHello(s) })
	if sub.Expires() != 2*time.Second || sub.Event() != "presence" || sub.Subscriber().URI.User != "watcher" {
		t.Fatalf("expires %v, event %q, subscriber %v", sub.Expires(), sub.Event(), sub.Subscriber())
	}
	c.Observe(IncomingSubscriptionDidTimeout, sub, func(notification.Notification) { close(timedOut) })
	ended := c.Expect(IncomingSubscriptionDidEnd, sub)
	waitSIPp(t, s)
	n, err := ended.Wait(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := notification.Data[IncomingSubscriptionDidEndData](n); d.Originator != "remote" || d.Reason != "timeout" {
		t.Fatalf("DidEnd %+v", d)
	}
	select {
	case <-timedOut:
	case <-testCtx(t).Done():
		t.Fatal("no DidTimeout")
	}
	<-sub.Done()
	if sub.State() != SubscriptionTerminated {
		t.Fatalf("state %s", sub.State())
	}
}

// A NOTIFY answered 481 ends the subscription (RFC 6665 4.2.2): NotifyDidFail
// with the code, DidEnd with the local originator, and the dialog is gone.
func TestIncomingSubscriptionNotifyRejected(t *testing.T) {
	e, c, s, sub := subscriptionPeer(t, "subscribe_notify481.xml", IncomingSubscriptionConfig{}, func(*IncomingSubscription) {})
	failed := c.Expect(IncomingSubscriptionNotifyDidFail, sub)
	ended := c.Expect(IncomingSubscriptionDidEnd, sub)
	acceptHello(sub)
	waitSIPp(t, s)
	n, err := failed.Wait(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := notification.Data[IncomingSubscriptionResponseData](n); d.Code != 481 {
		t.Fatalf("NotifyDidFail %+v", d)
	}
	n, err = ended.Wait(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := notification.Data[IncomingSubscriptionDidEndData](n); d.Originator != "local" {
		t.Fatalf("DidEnd %+v", d)
	}
	if err := sub.PushContent("text/plain", []byte("x")); !errors.Is(err, ErrSubscriptionState) {
		t.Fatalf("PushContent after the end: %v", err)
	}
	e.dialogs.mu.Lock()
	left := len(e.dialogs.m)
	e.dialogs.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d dialogs still registered", left)
	}
}

// A fetch (Expires: 0) gets 200 and one terminated NOTIFY with the state.
func TestIncomingSubscriptionFetch(t *testing.T) {
	_, c, s, sub := subscriptionPeer(t, "subscribe_fetch.xml", IncomingSubscriptionConfig{}, func(*IncomingSubscription) {})
	ended := c.Expect(IncomingSubscriptionDidEnd, sub)
	acceptHello(sub)
	waitSIPp(t, s)
	if _, err := ended.Wait(testCtx(t)); err != nil {
		t.Fatal(err)
	}
}

// Misuse returns errors naming the state or value.
func TestIncomingSubscriptionMisuse(t *testing.T) {
	_, c, s, sub := subscriptionPeer(t, "subscribe_notify481.xml", IncomingSubscriptionConfig{}, func(*IncomingSubscription) {})
	if err := sub.Reject(200, "OK"); err == nil {
		t.Fatal("Reject(200) accepted")
	}
	if err := sub.PushContent("text/plain", []byte("early")); err != nil {
		t.Fatalf("PushContent before the answer: %v", err) // stored for Accept
	}
	ended := c.Expect(IncomingSubscriptionDidEnd, sub)
	acceptHello(sub)
	if err := sub.Reject(403, "Forbidden"); !errors.Is(err, ErrSubscriptionState) {
		t.Fatalf("Reject when active: %v", err)
	}
	if err := sub.AcceptPending(); !errors.Is(err, ErrSubscriptionState) {
		t.Fatalf("AcceptPending when active: %v", err)
	}
	waitSIPp(t, s)
	if _, err := ended.Wait(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err := sub.End(""); !errors.Is(err, ErrSubscriptionState) {
		t.Fatalf("End after the end: %v", err)
	}
}
