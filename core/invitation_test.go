package core

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipsimple-go/sipsimple/internal/interop"
	"github.com/sipsimple-go/sipsimple/notification"
)

const testOffer = "v=0\r\no=go 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

// invitationEvents records an invitation's state changes in order.
type invitationEvents struct {
	t  *testing.T
	ch chan InvitationChangedStateData
}

func watchInvitation(t *testing.T, c *notification.Center, inv *Invitation) *invitationEvents {
	ev := &invitationEvents{t: t, ch: make(chan InvitationChangedStateData, 64)}
	cancel := c.Observe(InvitationChangedState, inv, func(n notification.Notification) {
		d, _ := notification.Data[InvitationChangedStateData](n)
		ev.ch <- d
	})
	t.Cleanup(cancel)
	return ev
}

// until returns the first change to state (and sub-state, when given),
// failing on a disconnection that was not asked for.
func (ev *invitationEvents) until(state string, sub ...string) InvitationChangedStateData {
	ev.t.Helper()
	for {
		select {
		case d := <-ev.ch:
			if d.State == state && (len(sub) == 0 || d.SubState == sub[0]) {
				return d
			}
			if d.State == InvitationDisconnected {
				ev.t.Fatalf("disconnected (%d %s, %s) while waiting for %s", d.Code, d.Reason, d.DisconnectReason, state)
			}
		case <-testCtx(ev.t).Done():
			ev.t.Fatalf("no state %s", state)
		}
	}
}

func sippUAS(t *testing.T, scenario string) (*interop.SIPp, Route) {
	return runRegistrar(t, scenario)
}

func newCall(t *testing.T, e *Engine, route Route, creds *Credentials) *Invitation {
	t.Helper()
	l, _ := e.Listener("udp")
	to := NameAddr{URI: SIPURI{Scheme: "sip", User: "bob", Host: route.Address, Port: route.Port}}
	inv, err := e.NewOutgoingInvitation(InvitationConfig{From: NameAddr{DisplayName: "Alice", URI: MustParseSIPURI("sip:alice@example.test")},
		To: to, Contact: SIPURI{Scheme: "sip", User: "alice", Host: "127.0.0.1", Port: int(l.Addr.Port())}, Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// An outgoing call answered after ringing: outgoing, early (180),
// connecting and connected (200, ACK through the Record-Route), the remote
// Server header kept, then End sends BYE and the call is disconnected.
// Forking (RFC 3261 13.2.2.4): the first 2xx establishes the call; a 2xx
// from another fork, arriving after the INVITE transaction ended, is ACKed
// and ended with BYE; the established call goes on until fork A hangs up.
func TestInvitationForked2xx(t *testing.T) {
	s, route := sippUAS(t, "uas_fork.xml")
	e, c := startEngine(t, EngineConfig{})
	inv := newCall(t, e, route, nil)
	ev := watchInvitation(t, c, inv)
	if err := inv.Send([]Route{route}, "application/sdp", []byte(testOffer)); err != nil {
		t.Fatal(err)
	}
	if d := ev.until(InvitationConnecting); !strings.Contains(string(d.Body), "m=audio 6000") {
		t.Fatalf("connecting with %q, want fork A's answer", d.Body)
	}
	ev.until(InvitationConnected, InvitationNormal)
	d := ev.until(InvitationDisconnected)
	if d.Originator != "remote" || d.Method != "BYE" {
		t.Fatalf("disconnected %+v, want fork A's BYE", d)
	}
	waitSIPp(t, s)
}

func TestInvitationOutgoingAnswered(t *testing.T) {
	s, route := sippUAS(t, "uas_answer.xml")
	e, c := startEngine(t, EngineConfig{})
	inv := newCall(t, e, route, nil)
	ev := watchInvitation(t, c, inv)
	if err := inv.Send([]Route{route}, "application/sdp", []byte(testOffer)); err != nil {
		t.Fatal(err)
	}
	if err := inv.Send([]Route{route}, "application/sdp", []byte(testOffer)); err == nil {
		t.Fatal("a second Send succeeded")
	}
	if d := ev.until(InvitationEarly); d.Code != 180 {
		t.Fatalf("early with %d", d.Code)
	}
	if d := ev.until(InvitationConnecting); d.Code != 200 || !strings.Contains(string(d.Body), "m=audio 6000") {
		t.Fatalf("connecting with %d, body %q", d.Code, d.Body)
	}
	ev.until(InvitationConnected, InvitationNormal)
	if ua := inv.RemoteUserAgent(); ua != "SIPp-test" {
		t.Fatalf("remote user agent %q", ua)
	}
	if err := inv.End(); err != nil {
		t.Fatal(err)
	}
	d := ev.until(InvitationDisconnected)
	if d.Code != 200 || d.Originator != "local" || d.DisconnectReason != "user request" {
		t.Fatalf("disconnected %+v", d)
	}
	<-inv.Done()
	waitSIPp(t, s)
}

// A busy callee: disconnected with 486 from the remote side; the 486 is
// ACKed (by the transaction).
func TestInvitationOutgoingBusy(t *testing.T) {
	s, route := sippUAS(t, "uas_busy.xml")
	e, c := startEngine(t, EngineConfig{})
	inv := newCall(t, e, route, nil)
	ev := watchInvitation(t, c, inv)
	inv.Send([]Route{route}, "application/sdp", []byte(testOffer))
	d := ev.until(InvitationDisconnected)
	if d.Code != 486 || d.Originator != "remote" {
		t.Fatalf("disconnected %+v", d)
	}
	waitSIPp(t, s)
}

// End while ringing sends CANCEL; the 487 ends the call as a local
// decision.
func TestInvitationOutgoingCancelled(t *testing.T) {
	s, route := sippUAS(t, "uas_cancel.xml")
	e, c := startEngine(t, EngineConfig{})
	inv := newCall(t, e, route, nil)
	ev := watchInvitation(t, c, inv)
	inv.Send([]Route{route}, "application/sdp", []byte(testOffer))
	ev.until(InvitationEarly)
	if err := inv.End(); err != nil {
		t.Fatal(err)
	}
	if err := inv.End(); err == nil {
		t.Fatal("a second End succeeded")
	}
	d := ev.until(InvitationDisconnected)
	if d.Code != 487 || d.Originator != "local" || d.DisconnectReason != "user request" {
		t.Fatalf("disconnected %+v", d)
	}
	waitSIPp(t, s)
}

// A 401 to the INVITE is answered with credentials (SIPp verifies them);
// the call is established and ended.
func TestInvitationOutgoingAuth(t *testing.T) {
	s, route := sippUAS(t, "uas_auth.xml")
	e, c := startEngine(t, EngineConfig{})
	inv := newCall(t, e, route, &Credentials{Username: "alice", Password: "secret"})
	ev := watchInvitation(t, c, inv)
	inv.Send([]Route{route}, "application/sdp", []byte(testOffer))
	ev.until(InvitationConnected)
	inv.End()
	ev.until(InvitationDisconnected)
	waitSIPp(t, s)
}

// Route failover: the first route is dead (nothing listens), the INVITE
// goes through the second after the transaction times out... too slow
// with sipgo's 32 s Timer B; the failover on a 503 is tested instead.

// The remote puts the call on hold with a re-INVITE: received_proposal
// with its offer, AcceptProposal answers 200 (SIPp checks a=recvonly and
// ACKs), then the remote hangs up.
func TestInvitationRemoteReinviteAndBye(t *testing.T) {
	s, route := sippUAS(t, "uas_remote_hold.xml")
	e, c := startEngine(t, EngineConfig{})
	inv := newCall(t, e, route, nil)
	ev := watchInvitation(t, c, inv)
	inv.Send([]Route{route}, "application/sdp", []byte(testOffer))
	ev.until(InvitationConnected, InvitationNormal)
	d := ev.until(InvitationConnected, InvitationReceivedProposal)
	if !strings.Contains(string(d.Body), "a=sendonly") || d.Method != "INVITE" {
		t.Fatalf("proposal %+v", d)
	}
	if err := inv.SendReinvite("application/sdp", []byte(testOffer)); err == nil {
		t.Fatal("re-INVITE while a proposal is pending succeeded")
	}
	if err := inv.AcceptProposal("application/sdp", []byte(testOffer+"a=recvonly\r\n")); err != nil {
		t.Fatal(err)
	}
	ev.until(InvitationConnected, InvitationNormal)
	d = ev.until(InvitationDisconnected)
	if d.Originator != "remote" || d.Method != "BYE" {
		t.Fatalf("disconnected %+v", d)
	}
	if inv.RemoteUserAgent() != "SIPp-remote" {
		t.Fatalf("remote user agent %q", inv.RemoteUserAgent())
	}
	waitSIPp(t, s)
}

// incomingPeer starts an engine that turns each INVITE into an incoming
// Invitation handed to the test, and a SIPp caller running scenario.
func incomingPeer(t *testing.T, scenario string) (*notification.Center, *interop.SIPp, *Invitation) {
	t.Helper()
	e, c := startEngine(t, EngineConfig{})
	l, _ := e.Listener("udp")
	invs := make(chan *Invitation, 1)
	e.Handle("INVITE", func(req *sip.Request, tx sip.ServerTransaction) {
		inv, err := e.NewIncomingInvitation(req, tx, InvitationConfig{Contact: SIPURI{Scheme: "sip", User: "bob", Host: "127.0.0.1", Port: int(l.Addr.Port())}})
		if err == nil {
			invs <- inv
		}
	})
	s := interop.RunSIPp(t, interop.SIPpOptions{Scenario: "testdata/sipp/" + scenario, Remote: l.Addr.String(),
		Service: "bob", Calls: 1, Timeout: 20 * time.Second, TraceMessages: true})
	select {
	case inv := <-invs:
		return c, s, inv
	case <-testCtx(t).Done():
		t.Fatal("no INVITE")
	}
	return nil, nil, nil
}

// An incoming call: incoming with the offer, 180 (early), 200 with the
// answer (connecting, connected on the ACK), then the caller's BYE.
func TestInvitationIncomingAnswered(t *testing.T) {
	c, s, inv := incomingPeer(t, "uac_call.xml")
	ev := watchInvitation(t, c, inv)
	if st, _ := inv.State(); st != InvitationIncoming {
		t.Fatalf("state %s", st)
	}
	if inv.RemoteUserAgent() != "SIPp-caller" {
		t.Fatalf("remote user agent %q", inv.RemoteUserAgent())
	}
	if err := inv.SendResponse(180, "", "", nil); err != nil {
		t.Fatal(err)
	}
	if err := inv.SendResponse(200, "", "application/sdp", []byte(testOffer)); err != nil {
		t.Fatal(err)
	}
	if err := inv.SendResponse(200, "", "", nil); err == nil {
		t.Fatal("a second final answer succeeded")
	}
	ev.until(InvitationConnected, InvitationNormal)
	d := ev.until(InvitationDisconnected)
	if d.Originator != "remote" || d.Method != "BYE" {
		t.Fatalf("disconnected %+v", d)
	}
	waitSIPp(t, s)
}

// The caller's BYE overtakes its ACK: the BYE proves the caller had our
// 2xx, so the invitation reports connected before disconnected.
func TestInvitationByeBeforeAck(t *testing.T) {
	c, s, inv := incomingPeer(t, "uac_bye_before_ack.xml")
	ev := watchInvitation(t, c, inv)
	if err := inv.SendResponse(180, "", "", nil); err != nil {
		t.Fatal(err)
	}
	if err := inv.SendResponse(200, "", "application/sdp", []byte(testOffer)); err != nil {
		t.Fatal(err)
	}
	if d := ev.until(InvitationConnected, InvitationNormal); d.Method != "BYE" {
		t.Fatalf("connected %+v", d)
	}
	d := ev.until(InvitationDisconnected)
	if d.Originator != "remote" || d.Method != "BYE" {
		t.Fatalf("disconnected %+v", d)
	}
	waitSIPp(t, s)
}

// The caller's re-INVITE overtakes its ACK: the re-INVITE proves the
// caller had our 2xx, so the invitation connects and takes the proposal
// (no 500), and the late ACK changes nothing.
func TestInvitationReinviteBeforeAck(t *testing.T) {
	c, s, inv := incomingPeer(t, "uac_reinvite_before_ack.xml")
	ev := watchInvitation(t, c, inv)
	if err := inv.SendResponse(180, "", "", nil); err != nil {
		t.Fatal(err)
	}
	if err := inv.SendResponse(200, "", "application/sdp", []byte(testOffer)); err != nil {
		t.Fatal(err)
	}
	if d := ev.until(InvitationConnected, InvitationNormal); d.Method != "INVITE" {
		t.Fatalf("connected %+v", d)
	}
	d := ev.until(InvitationConnected, InvitationReceivedProposal)
	if !strings.Contains(string(d.Body), "a=sendonly") {
		t.Fatalf("proposal %q", d.Body)
	}
	if err := inv.AcceptProposal("application/sdp", []byte(strings.Replace(testOffer, "o=go 1 1", "o=go 1 2", 1)+"a=recvonly\r\n")); err != nil {
		t.Fatal(err)
	}
	ev.until(InvitationConnected, InvitationNormal)
	if d := ev.until(InvitationDisconnected); d.Originator != "remote" || d.Method != "BYE" {
		t.Fatalf("disconnected %+v", d)
	}
	waitSIPp(t, s)
}

// The caller cancels while we ring: disconnected, remote, 487.
func TestInvitationIncomingCancelled(t *testing.T) {
	c, s, inv := incomingPeer(t, "uac_cancel.xml")
	ev := watchInvitation(t, c, inv)
	inv.SendResponse(180, "", "", nil)
	d := ev.until(InvitationDisconnected)
	if d.Originator != "remote" || d.Code != 487 {
		t.Fatalf("disconnected %+v", d)
	}
	if err := inv.SendResponse(200, "", "", nil); err == nil {
		t.Fatal("answering a cancelled call succeeded")
	}
	waitSIPp(t, s)
}

// Glare (RFC 3261 14.2): the peer's re-INVITE arrives while ours is
// unanswered and gets 491; ours then succeeds.
func TestInvitationGlareAnswered491(t *testing.T) {
	s, route := sippUAS(t, "uas_glare_491.xml")
	e, c := startEngine(t, EngineConfig{})
	inv := newCall(t, e, route, nil)
	ev := watchInvitation(t, c, inv)
	inv.Send([]Route{route}, "application/sdp", []byte(testOffer))
	ev.until(InvitationConnected, InvitationNormal)
	if err := inv.SendReinvite("application/sdp", []byte(testOffer+"a=sendonly\r\n")); err != nil {
		t.Fatal(err)
	}
	ev.until(InvitationConnected, InvitationSentProposal)
	if d := ev.until(InvitationConnected, InvitationNormal); d.Code != 200 {
		t.Fatalf("proposal answered %d %s", d.Code, d.Reason)
	}
	inv.End()
	ev.until(InvitationDisconnected)
	waitSIPp(t, s)
}

// Glare the other way: our re-INVITE gets 491; the peer's own re-INVITE
// comes first and is accepted (ours is reported refused with 491); our
// next proposal succeeds.
func TestInvitationGlareGot491(t *testing.T) {
	s, route := sippUAS(t, "uas_glare_retry.xml")
	e, c := startEngine(t, EngineConfig{})
	inv := newCall(t, e, route, nil)
	ev := watchInvitation(t, c, inv)
	inv.Send([]Route{route}, "application/sdp", []byte(testOffer))
	ev.until(InvitationConnected, InvitationNormal)
	inv.SendReinvite("application/sdp", []byte(testOffer+"a=sendonly\r\n"))
	ev.until(InvitationConnected, InvitationSentProposal)
	if d := ev.until(InvitationConnected, InvitationNormal); d.Code != 491 {
		t.Fatalf("proposal ended with %d, want 491", d.Code)
	}
	ev.until(InvitationConnected, InvitationReceivedProposal)
	if err := inv.AcceptProposal("application/sdp", []byte(testOffer+"a=recvonly\r\n")); err != nil {
		t.Fatal(err)
	}
	ev.until(InvitationConnected, InvitationNormal)
	if err := inv.SendReinvite("application/sdp", []byte(testOffer)); err != nil {
		t.Fatal(err)
	}
	if d := ev.until(InvitationConnected, InvitationNormal); d.Code != 200 {
		t.Fatalf("second proposal answered %d", d.Code)
	}
	inv.End()
	ev.until(InvitationDisconnected)
	waitSIPp(t, s)
}

// A peer that never answers: the INVITE timeout ends the call with 408
// (local) without waiting for the transaction's 32 s, and End before any
// response ends it with 487 the same way.
func TestInvitationUnansweredTimeoutAndEnd(t *testing.T) {
	silent, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	port := silent.LocalAddr().(*net.UDPAddr).Port
	route := Route{Address: "127.0.0.1", Port: port, Transport: "udp"}
	e, c := startEngine(t, EngineConfig{})

	l, _ := e.Listener("udp")
	inv, err := e.NewOutgoingInvitation(InvitationConfig{From: NameAddr{URI: MustParseSIPURI("sip:alice@example.test")},
		To:      NameAddr{URI: SIPURI{Scheme: "sip", User: "bob", Host: "127.0.0.1", Port: port}},
		Contact: SIPURI{Scheme: "sip", User: "alice", Host: "127.0.0.1", Port: int(l.Addr.Port())}, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ev := watchInvitation(t, c, inv)
	inv.Send([]Route{route}, "application/sdp", []byte(testOffer))
	if d := ev.until(InvitationDisconnected); d.Code != 408 || d.Originator != "local" {
		t.Errorf("timeout: disconnected %+v, want 408 local", d)
	}

	inv2 := newCall(t, e, route, nil)
	ev2 := watchInvitation(t, c, inv2)
	inv2.Send([]Route{route}, "application/sdp", []byte(testOffer))
	ev2.until(InvitationOutgoing)
	if err := inv2.End(); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case d := <-ev2.ch:
			if d.State != InvitationDisconnected {
				continue
			}
			if d.Code != 487 || d.Originator != "local" {
				t.Errorf("end: disconnected %+v, want 487 local", d)
			}
			return
		case <-testCtx(t).Done():
			t.Fatal("End before any response: not disconnected")
		}
	}
}
