package session_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipsimple-go/sipsimple/account"
	"github.com/sipsimple-go/sipsimple/application"
	"github.com/sipsimple-go/sipsimple/core"
	"github.com/sipsimple-go/sipsimple/internal/interop"
	"github.com/sipsimple-go/sipsimple/notification"
	"github.com/sipsimple-go/sipsimple/session"
)

// Interop tests of Session and Manager against SIPp (one scenario of
// testdata/sipp per test, one call each) on 127.0.0.1. SIPp sends no RTP,
// so SIPSessionGotNoAudio is disabled. Each test checks the session's
// notifications in order (trail) and SIPp checks what it receives: a test
// passes only if every check_it regexp of its scenario matched.

// HandleNotification makes a recorder an Observer, so that one recorder
// (one queue, post order kept) can observe several names.
func (r *recorder) HandleNotification(n notification.Notification) {
	r.mu.Lock()
	r.all = append(r.all, n)
	r.cond.Broadcast()
	r.mu.Unlock()
}

// sessionNotifications are the names a Session posts that the trails
// show; ChangedState appears as "PREV>STATE".
var sessionNotifications = []string{session.NewOutgoing, session.NewIncoming, session.GotRingIndication,
	session.WillStart, session.DidStart, session.DidFail, session.WillEnd, session.DidEnd, session.GotHoldRequest,
	session.GotUnholdRequest, session.ChangedState, session.GotNoAudio, session.GotStreamProposal,
	session.AcceptedStreamProposal, session.RejectedStreamProposal, session.GotStreamUpdate}

// trail returns what s posted, in order, without the "SIPSession" prefix;
// a state change is "PREV>STATE", a DidFail "DidFail(originator,code,reason)",
// a DidEnd, GotHoldRequest or GotUnholdRequest "Name(originator)".
func (r *recorder) trail(s *session.Session) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, n := range r.all {
		if n.Sender != s || !slices.Contains(sessionNotifications, n.Name) {
			continue
		}
		name := strings.TrimPrefix(n.Name, "SIPSession")
		switch n.Name {
		case session.ChangedState:
			d, _ := notification.Data[session.ChangedStateData](n)
			name = fmt.Sprintf("%s>%s", d.PrevState, d.State)
		case session.DidFail:
			d, _ := notification.Data[session.DidFailData](n)
			name = fmt.Sprintf("DidFail(%s,%d,%s)", d.Originator, d.Code, d.Reason)
		case session.DidEnd, session.GotHoldRequest, session.GotUnholdRequest:
			d, _ := notification.Data[session.OriginatorData](n)
			name = fmt.Sprintf("%s(%s)", name, d.Originator)
		}
		out = append(out, name)
	}
	return out
}

// checkTrail waits for s's DidEnd and compares s's trail with want.
func checkTrail(t *testing.T, r *recorder, s *session.Session, want ...string) {
	t.Helper()
	r.wait(t, session.DidEnd, s)
	if got := r.trail(s); !slices.Equal(got, want) {
		t.Errorf("notifications of the session:\n got  %s\n want %s", strings.Join(got, " "), strings.Join(want, " "))
	}
	if st := s.State(); st != session.StateTerminated {
		t.Errorf("state %s after DidEnd", st)
	}
	if s.StopTime().IsZero() {
		t.Errorf("no stop time after DidEnd")
	}
}

// startInteropParty starts an Application on 127.0.0.1 with a userless UDP
// account. With observeAll its recorder observes every notification, as
// startParty's; without, it observes SIPInvitationChangedState and what a
// Session posts but SIPSessionNewIncoming, which nobody observes then.
func startInteropParty(t *testing.T, observeAll bool) *party {
	t.Helper()
	app := application.New()
	var rec *recorder
	if observeAll {
		rec = record(app.Notifications())
	} else {
		rec = &recorder{}
		rec.cond = sync.NewCond(&rec.mu)
		for _, name := range append([]string{core.InvitationChangedState}, sessionNotifications...) {
			if name != session.NewIncoming {
				if err := app.Notifications().AddObserver(rec, name, nil); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// SIPp sends no RTP: no SIPSessionGotNoAudio.
	local := startLocal(t, app, &session.MediaConfig{NoAudioTimeout: -1})
	p := &party{app: app, rec: rec, local: local}
	t.Cleanup(func() {
		if t.Failed() {
			rec.dump(t, "app")
		}
	})
	return p
}

// sipAddr returns the party's UDP SIP address.
func (p *party) sipAddr(t *testing.T) string {
	t.Helper()
	l, ok := p.app.Engine().Listener("udp")
	if !ok {
		t.Fatal("no UDP listener")
	}
	return l.Addr.String()
}

// runSIPpUAS starts SIPp as the called party with scenario.
func runSIPpUAS(t *testing.T, scenario string) *interop.SIPp {
	t.Helper()
	return interop.RunSIPp(t, interop.SIPpOptions{Scenario: "testdata/sipp/" + scenario, Calls: 1,
		Timeout: 20 * time.Second, TraceMessages: true})
}

// runSIPpUAC starts SIPp calling sip:bob@ the party with scenario.
func runSIPpUAC(t *testing.T, p *party, scenario string) *interop.SIPp {
	t.Helper()
	return interop.RunSIPp(t, interop.SIPpOptions{Scenario: "testdata/sipp/" + scenario, Remote: p.sipAddr(t),
		Service: "bob", Calls: 1, Timeout: 20 * time.Second, TraceMessages: true})
}

// callSIPp has acct (default: the party's local account) call sip:bob@
// SIPp through SIPp.
func callSIPp(t *testing.T, p *party, acct *account.Account, s *interop.SIPp) *session.Session {
	t.Helper()
	if acct == nil {
		acct = p.local
	}
	sess, err := p.app.Sessions().NewSession(acct)
	if err != nil {
		t.Fatal(err)
	}
	callee := core.SIPURI{Scheme: "sip", User: "bob", Host: interop.Loopback, Port: s.Port}
	route := core.Route{Address: interop.Loopback, Port: s.Port, Transport: "udp"}
	if err := sess.Connect(context.Background(), callee, []core.Route{route}, true, false); err != nil {
		t.Fatal(err)
	}
	if sess.Direction() != "outgoing" || sess.RemoteURI().String() != callee.String() || sess.CalleeURI().String() != callee.String() ||
		sess.LocalURI().String() != acct.URI().String() || sess.Route() == nil || *sess.Route() != route {
		t.Errorf("outgoing session: direction %q remote %s callee %s local %s route %v", sess.Direction(), sess.RemoteURI(),
			sess.CalleeURI(), sess.LocalURI(), sess.Route())
	}
	return sess
}

// goAhead lets SIPp, waiting at <recv request="INFO"/> in the call of
// p's only invitation, go on: the test sends it an INFO with the call's
// Call-ID from a socket of its own (SIPp does not answer it).
func goAhead(t *testing.T, p *party, sp *interop.SIPp) {
	t.Helper()
	n := p.rec.wait(t, core.InvitationChangedState, nil)
	inv := n.Sender.(*core.Invitation)
	conn, err := net.Dial("udp", sp.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	msg := "INFO sip:sipp@" + sp.Addr() + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-go-ahead\r\n" +
		"From: <sip:test@" + local + ">;tag=go-ahead\r\n" +
		"To: <sip:sipp@" + sp.Addr() + ">\r\n" +
		"Call-ID: " + inv.CallID() + "\r\n" +
		"CSeq: 1 INFO\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
}

// incoming waits for SIPSessionNewIncoming and returns its session, which
// must offer audio.
func (p *party) incoming(t *testing.T) *session.Session {
	t.Helper()
	n := p.rec.wait(t, session.NewIncoming, nil)
	s := n.Sender.(*session.Session)
	if d, _ := notification.Data[session.StreamsData](n); !slices.Equal(d.Streams, []string{"audio"}) {
		t.Errorf("NewIncoming streams %v", d.Streams)
	}
	if s.Direction() != "incoming" || s.Route() != nil ||
		!strings.HasPrefix(s.RemoteURI().String(), "sip:sipp@127.0.0.1:") || s.CallerURI().String() != s.RemoteURI().String() {
		t.Errorf("incoming session: direction %q route %v remote %s caller %s", s.Direction(), s.Route(),
			s.RemoteURI(), s.CallerURI())
	}
	if ua := s.RemoteUserAgent(); ua != "SIPp-caller" {
		t.Errorf("remote user agent %q", ua)
	}
	return s
}

// noSessionsLeft checks the manager forgot every session.
func (p *party) noSessionsLeft(t *testing.T) {
	t.Helper()
	if live := p.app.Sessions().Sessions(); len(live) != 0 {
		t.Errorf("sessions left: %v", live)
	}
}

// --- outgoing calls (SIPp answers) ---

// 100, 180 then 200: ring indication, WillStart, ESTABLISHED, DidStart,
// the negotiated audio (PCMU towards SIPp's port 6000), SIPp's Server
// header as the remote user agent; End sends BYE: WillEnd and DidEnd
// (local), no DidFail.
func TestSIPpOutgoingRingThenAnswer(t *testing.T) {
	p := startInteropParty(t, true)
	sp := runSIPpUAS(t, "uas_ring_answer.xml")
	s := callSIPp(t, p, nil, sp)
	if d, _ := notification.Data[session.StreamsData](p.rec.wait(t, session.NewOutgoing, s)); !slices.Equal(d.Streams, []string{"audio"}) {
		t.Errorf("NewOutgoing streams %v", d.Streams)
	}
	p.rec.wait(t, session.GotRingIndication, s)
	goAhead(t, p, sp)
	p.rec.wait(t, session.DidStart, s)
	if s.State() != session.StateEstablished || s.StartTime().IsZero() || !s.HasAudio() {
		t.Errorf("established: state %s start %v audio %v", s.State(), s.StartTime(), s.HasAudio())
	}
	if ua := s.RemoteUserAgent(); ua != "SIPp-session" {
		t.Errorf("remote user agent %q", ua)
	}
	if s.AudioCodec() != "PCMU" || s.AudioSampleRate() != 8000 || s.AudioRemoteRTPAddressSDP() != "127.0.0.1" ||
		s.AudioRemoteRTPPortSDP() != 6000 || s.AudioLocalRTPAddress() != "127.0.0.1" || s.AudioLocalRTPPort() == 0 {
		t.Errorf("audio: codec %q rate %d remote %s:%d local %s:%d", s.AudioCodec(), s.AudioSampleRate(),
			s.AudioRemoteRTPAddressSDP(), s.AudioRemoteRTPPortSDP(), s.AudioLocalRTPAddress(), s.AudioLocalRTPPort())
	}
	if s.OnHold() {
		t.Errorf("on hold")
	}
	if err := s.End(false); err != nil {
		t.Fatal(err)
	}
	checkTrail(t, p.rec, s, "NewOutgoing", "NULL>CALLING", "GotRingIndication", "WillStart", "CALLING>ESTABLISHED",
		"DidStart", "WillEnd", "ESTABLISHED>TERMINATING", "TERMINATING>TERMINATED", "DidEnd(local)")
	sp.WaitOK(t)
	p.noSessionsLeft(t)
}

// 183 Session Progress with SDP (early media) is a ring indication too;
// the 200 establishes the call; SIPp's BYE ends it: WillEnd, DidEnd
// (remote), no DidFail.
func TestSIPpOutgoingEarlyMediaRemoteBye(t *testing.T) {
	p := startInteropParty(t, true)
	sp := runSIPpUAS(t, "uas_early_media_bye.xml")
	s := callSIPp(t, p, nil, sp)
	p.rec.wait(t, session.GotRingIndication, s)
	goAhead(t, p, sp)
	checkTrail(t, p.rec, s, "NewOutgoing", "NULL>CALLING", "GotRingIndication", "WillStart", "CALLING>ESTABLISHED",
		"DidStart", "WillEnd", "ESTABLISHED>TERMINATING", "TERMINATING>TERMINATED", "DidEnd(remote)")
	if ua := s.RemoteUserAgent(); ua != "SIPp-early" {
		t.Errorf("remote user agent %q", ua)
	}
	if s.StartTime().IsZero() || s.StopTime().Before(s.StartTime()) {
		t.Errorf("start %v stop %v", s.StartTime(), s.StopTime())
	}
	sp.WaitOK(t)
	p.noSessionsLeft(t)
}

// 486 Busy Here: DidFail (remote, 486, Busy Here) then DidEnd (remote);
// never started, so no WillStart and no WillEnd.
func TestSIPpOutgoingBusy(t *testing.T) {
	p := startInteropParty(t, true)
	sp := runSIPpUAS(t, "uas_busy.xml")
	s := callSIPp(t, p, nil, sp)
	checkTrail(t, p.rec, s, "NewOutgoing", "NULL>CALLING", "CALLING>TERMINATING", "DidFail(remote,486,Busy Here)",
		"TERMINATING>TERMINATED", "DidEnd(remote)")
	if ua := s.RemoteUserAgent(); ua != "SIPp-busy" {
		t.Errorf("remote user agent %q", ua)
	}
	if !s.StartTime().IsZero() {
		t.Errorf("start time %v", s.StartTime())
	}
	sp.WaitOK(t)
	p.noSessionsLeft(t)
}

// End while ringing sends CANCEL: the 487 ends the session as the local
// party's doing: WillEnd, DidFail (local, 487), DidEnd (local).
func TestSIPpOutgoingCancel(t *testing.T) {
	p := startInteropParty(t, true)
	sp := runSIPpUAS(t, "uas_cancel.xml")
	s := callSIPp(t, p, nil, sp)
	p.rec.wait(t, session.GotRingIndication, s)
	if err := s.End(false); err != nil {
		t.Fatal(err)
	}
	checkTrail(t, p.rec, s, "NewOutgoing", "NULL>CALLING", "GotRingIndication", "WillEnd", "CALLING>TERMINATING",
		"DidFail(local,487,Request Terminated)", "TERMINATING>TERMINATED", "DidEnd(local)")
	sp.WaitOK(t)
	p.noSessionsLeft(t)
}

// newAuthAccount adds a regular account alice@example.test with password
// (no registration) to p.
func newAuthAccount(t *testing.T, p *party, password string) *account.Account {
	t.Helper()
	a, err := p.app.Accounts().NewAccount("alice@example.test")
	if err != nil {
		t.Fatal(err)
	}
	a.Auth.Password.Set(password)
	a.SIP.Register.Set(false)
	a.Enabled.Set(true)
	if err := a.Save(); err != nil {
		t.Fatal(err)
	}
	return a
}

// A 401 to the INVITE is answered with the account's credentials (SIPp
// verifies them); the session sees none of it: it starts as usual.
func TestSIPpOutgoingAuth(t *testing.T) {
	p := startInteropParty(t, true)
	a := newAuthAccount(t, p, "secret")
	sp := runSIPpUAS(t, "uas_auth.xml")
	s := callSIPp(t, p, a, sp)
	p.rec.wait(t, session.DidStart, s)
	if err := s.End(false); err != nil {
		t.Fatal(err)
	}
	checkTrail(t, p.rec, s, "NewOutgoing", "NULL>CALLING", "WillStart", "CALLING>ESTABLISHED", "DidStart", "WillEnd",
		"ESTABLISHED>TERMINATING", "TERMINATING>TERMINATED", "DidEnd(local)")
	sp.WaitOK(t)
}

// A wrong password: the second 401 (same nonce, not stale) is not
// answered again: DidFail (remote, 401, Unauthorized), DidEnd (remote).
func TestSIPpOutgoingAuthRejected(t *testing.T) {
	p := startInteropParty(t, true)
	a := newAuthAccount(t, p, "wrong")
	sp := runSIPpUAS(t, "uas_auth_rejected.xml")
	s := callSIPp(t, p, a, sp)
	checkTrail(t, p.rec, s, "NewOutgoing", "NULL>CALLING", "CALLING>TERMINATING", "DidFail(remote,401,Unauthorized)",
		"TERMINATING>TERMINATED", "DidEnd(remote)")
	sp.WaitOK(t)
}

// The remote puts the call on hold with a re-INVITE (a=sendonly, answered
// a=recvonly): GotHoldRequest (remote), OnHoldByRemote. While held the
// local party holds too (GotHoldRequest local; SIPp waits for that
// re-INVITE before going on, so the remote hold state is stable when the
// test looks at it). The remote's unhold (a=sendrecv) is answered
// a=sendonly, since the local hold remains: GotUnholdRequest (remote).
// Then the remote hangs up.
func TestSIPpRemoteHold(t *testing.T) {
	p := startInteropParty(t, true)
	sp := runSIPpUAS(t, "uas_remote_hold.xml")
	s := callSIPp(t, p, nil, sp)
	p.rec.wait(t, session.GotHoldRequest, s)
	if !s.OnHoldByRemote() || s.OnHoldByLocal() || !s.OnHold() || s.State() != session.StateEstablished {
		t.Errorf("after the remote hold: by remote %v, by local %v, on hold %v, state %s", s.OnHoldByRemote(), s.OnHoldByLocal(),
			s.OnHold(), s.State())
	}
	if err := s.Hold(); err != nil {
		t.Fatal(err)
	}
	p.rec.wait(t, session.GotUnholdRequest, s)
	if s.OnHoldByRemote() || !s.OnHoldByLocal() || !s.OnHold() {
		t.Errorf("after the remote unhold: by remote %v, by local %v, on hold %v", s.OnHoldByRemote(), s.OnHoldByLocal(), s.OnHold())
	}
	checkTrail(t, p.rec, s, "NewOutgoing", "NULL>CALLING", "WillStart", "CALLING>ESTABLISHED", "DidStart",
		"GotHoldRequest(remote)", "GotHoldRequest(local)", "GotUnholdRequest(remote)", "WillEnd", "ESTABLISHED>TERMINATING",
		"TERMINATING>TERMINATED", "DidEnd(remote)")
	if ua := s.RemoteUserAgent(); ua != "SIPp-remote" {
		t.Errorf("remote user agent %q (the re-INVITE's User-Agent)", ua)
	}
	sp.WaitOK(t)
}

// Glare: the remote's re-INVITE arrives while our hold re-INVITE is
// unanswered and gets 491 (SIPp checks); ours is then answered and the
// session never sees the remote's: only GotHoldRequest (local), then the
// remote hangs up.
func TestSIPpGlare(t *testing.T) {
	p := startInteropParty(t, true)
	sp := runSIPpUAS(t, "uas_glare.xml")
	s := callSIPp(t, p, nil, sp)
	p.rec.wait(t, session.DidStart, s)
	if err := s.Hold(); err != nil {
		t.Fatal(err)
	}
	checkTrail(t, p.rec, s, "NewOutgoing", "NULL>CALLING", "WillStart", "CALLING>ESTABLISHED", "DidStart",
		"GotHoldRequest(local)", "WillEnd", "ESTABLISHED>TERMINATING", "TERMINATING>TERMINATED", "DidEnd(remote)")
	if s.OnHoldByRemote() || !s.OnHoldByLocal() {
		t.Errorf("hold: by remote %v, by local %v", s.OnHoldByRemote(), s.OnHoldByLocal())
	}
	sp.WaitOK(t)
}

// --- incoming calls (SIPp calls) ---

// SIPp calls: 180 at once, SIPSessionNewIncoming with audio; Accept
// answers 200 with PCMU (SIPp checks); the ACK establishes the session;
// End sends BYE to SIPp.
func TestSIPpIncomingAccept(t *testing.T) {
	p := startInteropParty(t, true)
	sp := runSIPpUAC(t, p, "uac_accept.xml")
	s := p.incoming(t)
	if st := s.State(); st != session.StateIncoming {
		t.Errorf("state %s", st)
	}
	if err := s.Accept(true, false); err != nil {
		t.Fatal(err)
	}
	p.rec.wait(t, session.DidStart, s)
	if s.AudioCodec() != "PCMU" || s.AudioRemoteRTPPortSDP() != 6000 || !s.HasAudio() || s.StartTime().IsZero() {
		t.Errorf("audio: codec %q remote port %d has audio %v start %v", s.AudioCodec(), s.AudioRemoteRTPPortSDP(), s.HasAudio(),
			s.StartTime())
	}
	if err := s.Accept(true, false); err == nil {
		t.Errorf("a second Accept succeeded")
	}
	if err := s.End(false); err != nil {
		t.Fatal(err)
	}
	checkTrail(t, p.rec, s, "NewIncoming", "NULL>INCOMING", "INCOMING>ACCEPTING", "WillStart", "ACCEPTING>ESTABLISHED",
		"DidStart", "WillEnd", "ESTABLISHED>TERMINATING", "TERMINATING>TERMINATED", "DidEnd(local)")
	sp.WaitOK(t)
	p.noSessionsLeft(t)
}

// An INVITE without SDP (a late offer): Accept answers 200 with our offer
// and the ACK brings the answer; the session starts on it with the
// answer's codec and address.
func TestSIPpIncomingLateOffer(t *testing.T) {
	p := startInteropParty(t, true)
	sp := runSIPpUAC(t, p, "uac_late_offer.xml")
	s := p.incoming(t)
	if err := s.Accept(false, false); err == nil {
		t.Errorf("accepting a late offer without audio succeeded")
	}
	if err := s.Accept(true, false); err != nil {
		t.Fatal(err)
	}
	p.rec.wait(t, session.DidStart, s)
	if s.AudioCodec() != "PCMU" || s.AudioRemoteRTPPortSDP() != 6000 {
		t.Errorf("audio: codec %q remote port %d", s.AudioCodec(), s.AudioRemoteRTPPortSDP())
	}
	if err := s.End(false); err != nil {
		t.Fatal(err)
	}
	checkTrail(t, p.rec, s, "NewIncoming", "NULL>INCOMING", "INCOMING>ACCEPTING", "WillStart", "ACCEPTING>ESTABLISHED",
		"DidStart", "WillEnd", "ESTABLISHED>TERMINATING", "TERMINATING>TERMINATED", "DidEnd(local)")
	sp.WaitOK(t)
	p.noSessionsLeft(t)
}

// A late offer whose ACK brings no answer: the session fails (DidFail,
// then DidEnd) and ends the call with BYE.
func TestSIPpIncomingLateOfferNoAnswer(t *testing.T) {
	p := startInteropParty(t, true)
	sp := runSIPpUAC(t, p, "uac_late_offer_no_answer.xml")
	s := p.incoming(t)
	if err := s.Accept(true, false); err != nil {
		t.Fatal(err)
	}
	p.rec.wait(t, session.DidFail, s)
	p.rec.wait(t, session.DidEnd, s)
	if n := p.rec.count(session.DidStart, s); n != 0 {
		t.Errorf("DidStart posted %d times", n)
	}
	sp.WaitOK(t)
	p.noSessionsLeft(t)
}

// Reject(true) answers 486 Busy Here, Reject(false) 603 Decline (SIPp
// expects them): WillEnd, DidFail (local, code), DidEnd (local).
func TestSIPpIncomingReject(t *testing.T) {
	for _, tc := range []struct {
		busy     bool
		scenario string
		fail     string
	}{
		{true, "uac_reject_busy.xml", "DidFail(local,486,Busy Here)"},
		{false, "uac_reject_decline.xml", "DidFail(local,603,Decline)"},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			p := startInteropParty(t, true)
			sp := runSIPpUAC(t, p, tc.scenario)
			s := p.incoming(t)
			if err := s.Reject(tc.busy); err != nil {
				t.Fatal(err)
			}
			checkTrail(t, p.rec, s, "NewIncoming", "NULL>INCOMING", "WillEnd", "INCOMING>TERMINATING", tc.fail,
				"TERMINATING>TERMINATED", "DidEnd(local)")
			if err := s.Reject(tc.busy); err == nil {
				t.Errorf("a second Reject succeeded")
			}
			sp.WaitOK(t)
			p.noSessionsLeft(t)
		})
	}
}

// SIPp cancels while we ring: DidFail (remote, 487), DidEnd (remote); a
// late Accept fails.
func TestSIPpIncomingCancel(t *testing.T) {
	p := startInteropParty(t, true)
	sp := runSIPpUAC(t, p, "uac_cancel.xml")
	s := p.incoming(t)
	checkTrail(t, p.rec, s, "NewIncoming", "NULL>INCOMING", "INCOMING>TERMINATING", "DidFail(remote,487,Request Terminated)",
		"TERMINATING>TERMINATED", "DidEnd(remote)")
	if err := s.Accept(true, false); err == nil {
		t.Errorf("Accept after the CANCEL succeeded")
	}
	sp.WaitOK(t)
	p.noSessionsLeft(t)
}

// INVITEs the manager refuses by itself, before any session exists: no
// SDP (488), only video (488), a body that is not SDP (415 with Accept).
func TestSIPpIncomingRefused(t *testing.T) {
	for _, scenario := range []string{"uac_video_only.xml", "uac_bad_content_type.xml"} {
		t.Run(scenario, func(t *testing.T) {
			p := startInteropParty(t, true)
			sp := runSIPpUAC(t, p, scenario)
			sp.WaitOK(t)
			if n := p.rec.count(session.NewIncoming, nil); n != 0 {
				t.Errorf("SIPSessionNewIncoming posted %d times", n)
			}
			p.noSessionsLeft(t)
		})
	}
}

// Nobody observes SIPSessionNewIncoming: the call is rejected at once
// with 480 Temporarily Unavailable, as PJSUA's default does, and the
// session, never announced, posts nothing.
func TestSIPpIncomingNobodyListens(t *testing.T) {
	p := startInteropParty(t, false)
	sp := runSIPpUAC(t, p, "uac_unanswered.xml")
	ok := p.rec.waitFor(func(all []notification.Notification) bool {
		for _, n := range all {
			if d, _ := notification.Data[core.InvitationChangedStateData](n); n.Name == core.InvitationChangedState &&
				d.State == core.InvitationDisconnected && d.Code == 480 && d.Originator == "local" {
				return true
			}
		}
		return false
	})
	if !ok {
		t.Fatalf("the invitation did not end with 480; got %v", p.rec.names())
	}
	sp.WaitOK(t)
	for _, name := range sessionNotifications {
		if n := p.rec.count(name, nil); n != 0 {
			t.Errorf("%s posted %d times", name, n)
		}
	}
	p.noSessionsLeft(t)
}

// TestSIPpHoldTimeout: our hold re-INVITE gets nothing but 100 Trying;
// after the 5 s re-INVITE timeout it is cancelled (SIPp checks the CANCEL
// and answers 487), the session stays established, and SIPp's BYE ends it.
func TestSIPpHoldTimeout(t *testing.T) {
	p := startInteropParty(t, true)
	sp := runSIPpUAS(t, "uas_hold_timeout.xml")
	s := callSIPp(t, p, nil, sp)
	p.rec.wait(t, session.DidStart, s)
	if err := s.Hold(); err != nil {
		t.Fatal(err)
	}
	checkTrail(t, p.rec, s, "NewOutgoing", "NULL>CALLING", "WillStart", "CALLING>ESTABLISHED", "DidStart",
		"GotHoldRequest(local)", "WillEnd", "ESTABLISHED>TERMINATING", "TERMINATING>TERMINATED", "DidEnd(remote)")
	sp.WaitOK(t)
	p.noSessionsLeft(t)
}
