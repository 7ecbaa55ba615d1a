package session_test

import (
	"context"
	"crypto/tls"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sipsimple-go/sipsimple/core"
	"github.com/sipsimple-go/sipsimple/internal/interop"
	"github.com/sipsimple-go/sipsimple/notification"
	"github.com/sipsimple-go/sipsimple/payloads"
	"github.com/sipsimple-go/sipsimple/sdp"
	"github.com/sipsimple-go/sipsimple/session"
)

// chatPair negotiates a chat stream between alice (offerer) and bob
// (answerer) over loopback, as the SDP of a session would, and waits for
// both to start.
func chatPair(t testing.TB, alice, bob *party) (a, b *session.MSRPChat) {
	t.Helper()
	a, err := alice.app.Sessions().NewChat("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.End)
	b, err = bob.app.Sessions().NewChat("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.End)
	a.SetParties(alice.local.URI(), bob.local.URI())
	b.SetParties(bob.local.URI(), alice.local.URI())
	offer := a.Offer()
	if offer.Type != "message" || !sdp.IsMSRP(offer.Proto) {
		t.Fatalf("offer %+v", offer)
	}
	answer, err := b.Answer(offer)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := answer.Attribute("setup"); v != sdp.SetupActive {
		t.Fatalf("answer to actpass has setup %q, want active", v)
	}
	if err := b.Apply(answer, offer); err != nil {
		t.Fatal(err)
	}
	if err := a.Apply(offer, answer); err != nil {
		t.Fatal(err)
	}
	alice.rec.wait(t, session.ChatDidInitialize, a)
	alice.rec.wait(t, session.ChatDidStart, a)
	bob.rec.wait(t, session.ChatDidStart, b)
	return a, b
}

// Messages both ways with CPIM, delivery from success reports, and
// is-composing; a message sent before the stream connected is queued and
// delivered.
func TestChatBetweenApplications(t *testing.T) {
	alice, bob := startParty(t, nil), startParty(t, nil)
	a, b := chatPair(t, alice, bob)

	id, err := a.SendMessage([]byte("hello bob"), "text/plain", nil, time.Time{})
	if err != nil || id == "" {
		t.Fatalf("SendMessage: %q %v", id, err)
	}
	n := bob.rec.wait(t, session.ChatGotMessage, b)
	d, _ := notification.Data[session.ChatMessageData](n)
	if string(d.Content) != "hello bob" || d.ContentType != "text/plain" || d.CPIM == nil ||
		d.CPIM.From.URI != alice.local.URI().String() || len(d.CPIM.To) != 1 || d.CPIM.To[0].URI != bob.local.URI().String() ||
		d.CPIM.DateTime.IsZero() {
		t.Fatalf("bob got %+v (CPIM %+v)", d, d.CPIM)
	}
	n = alice.rec.wait(t, session.ChatDidDeliverMessage, a)
	if dd, _ := notification.Data[session.ChatDeliveryData](n); dd.MessageID != id || dd.Code != 200 {
		t.Fatalf("delivery %+v, want %s 200", dd, id)
	}

	to := core.SIPURI{User: "someone", Host: "example.test"}
	dt := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	if _, err := b.SendMessage([]byte("<b>hi</b>"), "text/html", &to, dt); err != nil {
		t.Fatal(err)
	}
	n = alice.rec.wait(t, session.ChatGotMessage, a)
	d, _ = notification.Data[session.ChatMessageData](n)
	if string(d.Content) != "<b>hi</b>" || d.ContentType != "text/html" || d.CPIM.To[0].URI != to.String() ||
		!d.CPIM.DateTime.Equal(dt) {
		t.Fatalf("alice got %+v (CPIM %+v)", d, d.CPIM)
	}
	bob.rec.wait(t, session.ChatDidDeliverMessage, b)

	if err := a.SendComposingIndication(payloads.ComposingActive, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	n = bob.rec.wait(t, session.ChatGotComposingIndication, b)
	if c, _ := notification.Data[session.ChatComposingData](n); c.State != payloads.ComposingActive || c.Refresh != 30*time.Second {
		t.Fatalf("composing %+v", c)
	}

	a.End()
	alice.rec.wait(t, session.ChatWillEnd, a)
	alice.rec.wait(t, session.ChatDidEnd, a)
	if _, err := a.SendMessage([]byte("late"), "text/plain", nil, time.Time{}); err == nil {
		t.Error("SendMessage after End succeeded")
	}
}

// Every message SendMessage accepted is reported: queued on a stream that
// never connected, they are reported not delivered when it ends.
func TestChatUndeliveredReported(t *testing.T) {
	alice := startParty(t, nil)
	c, err := alice.app.Sessions().NewChat("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 3 {
		id, err := c.SendMessage([]byte("m"+strings.Repeat("x", i)), "text/plain", nil, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	c.End()
	alice.rec.waitCount(t, session.ChatDidNotDeliverMessage, c, len(ids))
	alice.rec.wait(t, session.ChatDidEnd, c)
	got := map[string]bool{}
	alice.rec.mu.Lock()
	defer alice.rec.mu.Unlock()
	for _, n := range alice.rec.all {
		if n.Name == session.ChatDidNotDeliverMessage && n.Sender == c {
			d, _ := notification.Data[session.ChatDeliveryData](n)
			got[d.MessageID] = true
		}
	}
	for _, id := range ids {
		if !got[id] {
			t.Errorf("message %s not reported", id)
		}
	}
}

// An offer that is not a chat we can take is refused.
func TestChatAnswerRefusesBadOffers(t *testing.T) {
	alice := startParty(t, nil)
	c, err := alice.app.Sessions().NewChat("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.End()
	for _, m := range []sdp.Media{
		{Type: "audio", Port: 4000, Proto: "RTP/AVP", Formats: []string{"0"}},
		sdp.MSRPMedia{AcceptTypes: []string{"text/plain"}}.Media(2855, "127.0.0.1", sdp.SendRecv), // no path
		sdp.MSRPMedia{Path: []string{"msrp://127.0.0.1:2855/abc;tcp"}, AcceptTypes: []string{"image/png"}}.Media(2855, "127.0.0.1", sdp.SendRecv),
		// A file transfer offer (RFC 5547) is not a chat, even with accept-types *.
		sdp.MSRPMedia{Path: []string{"msrp://127.0.0.1:2855/abc;tcp"}, AcceptTypes: []string{"*"},
			FileSelector: &sdp.FileSelector{Name: "a.txt", Size: 3}}.Media(2855, "127.0.0.1", sdp.SendOnly),
	} {
		if _, err := c.Answer(m); err == nil {
			t.Errorf("answer to %+v succeeded", m)
		}
	}
}

// BenchmarkChatMessages measures chat messages per second between two
// Applications over loopback: SendMessage (CPIM wrapping, MSRP with a
// success report) until MSRPChatDidDeliverMessage, up to 256 in flight.
func BenchmarkChatMessages(b *testing.B) {
	alice, bob := startParty(b, nil), startParty(b, nil)
	a, _ := chatPair(b, alice, bob)
	window := make(chan struct{}, 256)
	done := make(chan struct{})
	delivered := 0
	stop := alice.app.Notifications().Observe(session.ChatDidDeliverMessage, a, func(notification.Notification) {
		<-window
		delivered++
		if delivered == b.N {
			close(done)
		}
	})
	defer stop()
	body := []byte("Hey Bob, are you there?")
	b.ResetTimer()
	for range b.N {
		window <- struct{}{}
		if _, err := a.SendMessage(body, "text/plain", nil, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
	<-done
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// A session with audio and chat between two Applications: the chat
// stream is negotiated with the call, messages go both ways with
// session-level notifications, a hold (re-INVITE) leaves the chat as it
// was, and ending the call ends the chat.
func TestSessionWithChat(t *testing.T) {
	alice, bob := startParty(t, nil), startParty(t, nil)
	bob.app.Notifications().Observe(session.NewIncoming, nil, func(n notification.Notification) {
		if err := n.Sender.(*session.Session).Accept(true, true); err != nil {
			t.Errorf("accept: %v", err)
		}
	})
	dumpOnFailure(t, alice, bob)
	s, err := alice.app.Sessions().NewSession(alice.local)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendMessage("too early", "text/plain", nil, time.Time{}); !errors.Is(err, session.ErrNoChat) {
		t.Errorf("SendMessage without chat: %v", err)
	}
	if err := s.Connect(context.Background(), bob.local.URI(), nil, true, true); err != nil {
		t.Fatal(err)
	}
	in := bob.rec.wait(t, session.NewIncoming, nil)
	bs := in.Sender.(*session.Session)
	if d, _ := notification.Data[session.StreamsData](in); !slices.Equal(d.Streams, []string{"audio", "chat"}) {
		t.Errorf("NewIncoming streams %v", d.Streams)
	}
	alice.rec.wait(t, session.DidStart, s)
	bob.rec.wait(t, session.DidStart, bs)
	if !s.HasChat() || !bs.HasChat() || !s.HasAudio() {
		t.Fatalf("streams: alice chat %v audio %v, bob chat %v", s.HasChat(), s.HasAudio(), bs.HasChat())
	}
	alice.rec.wait(t, session.ChatDidStart, s.Chat())
	bob.rec.wait(t, session.ChatDidStart, bs.Chat())

	id, err := s.SendMessage("hello", "text/plain", nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	n := bob.rec.wait(t, session.GotMessage, bs)
	if d, _ := notification.Data[session.ChatMessageData](n); string(d.Content) != "hello" || d.CPIM == nil ||
		d.CPIM.From.URI != alice.local.URI().String() {
		t.Fatalf("bob got %+v", d)
	}
	n = alice.rec.wait(t, session.DidDeliverMessage, s)
	if d, _ := notification.Data[session.ChatDeliveryData](n); d.MessageID != id || d.Code != 200 {
		t.Fatalf("delivered %+v, want %s", d, id)
	}

	// Hold: the re-offer keeps the chat line; the chat goes on.
	if err := s.Hold(); err != nil {
		t.Fatal(err)
	}
	bob.rec.wait(t, session.GotHoldRequest, bs)
	if _, err := bs.SendMessage("still here", "text/plain", nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	n = alice.rec.wait(t, session.GotMessage, s)
	if d, _ := notification.Data[session.ChatMessageData](n); string(d.Content) != "still here" {
		t.Fatalf("alice got %+v", d)
	}

	if err := s.End(false); err != nil {
		t.Fatal(err)
	}
	alice.rec.wait(t, session.ChatDidEnd, s.Chat())
	bob.rec.wait(t, session.DidEnd, bs)
	bob.rec.wait(t, session.ChatDidEnd, bs.Chat())
	if _, err := s.SendMessage("gone", "text/plain", nil, time.Time{}); err == nil {
		t.Error("SendMessage after the end succeeded")
	}
}

// chatOnly makes alice call bob with chat only, bob accepting it, and
// returns both sessions and bob's NewIncoming.
func chatOnly(t *testing.T, alice, bob *party) (s, bs *session.Session, in notification.Notification) {
	t.Helper()
	bob.app.Notifications().Observe(session.NewIncoming, nil, func(n notification.Notification) {
		if err := n.Sender.(*session.Session).Accept(false, true); err != nil {
			t.Errorf("accept: %v", err)
		}
	})
	s, err := alice.app.Sessions().NewSession(alice.local)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(context.Background(), bob.local.URI(), nil, false, true); err != nil {
		t.Fatal(err)
	}
	in = bob.rec.wait(t, session.NewIncoming, nil)
	return s, in.Sender.(*session.Session), in
}

// A chat-only session: no audio stream at all.
func TestChatOnlySession(t *testing.T) {
	alice, bob := startParty(t, nil), startParty(t, nil)
	s, bs, in := chatOnly(t, alice, bob)
	if d, _ := notification.Data[session.StreamsData](in); !slices.Equal(d.Streams, []string{"chat"}) {
		t.Errorf("NewIncoming streams %v", d.Streams)
	}
	alice.rec.wait(t, session.DidStart, s)
	if s.HasAudio() || !s.HasChat() {
		t.Errorf("alice: audio %v chat %v", s.HasAudio(), s.HasChat())
	}
	if _, err := bs.SendMessage("hi alice", "text/plain", nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	alice.rec.wait(t, session.GotMessage, s)
	bob.rec.wait(t, session.DidDeliverMessage, bs)
	if err := bs.End(false); err != nil {
		t.Fatal(err)
	}
	alice.rec.wait(t, session.DidEnd, s)
	alice.rec.wait(t, session.ChatDidEnd, s.Chat())
}

// Chat added to an audio call and removed again (re-INVITEs): the
// proposal states and notifications on both sides, messages while the
// chat is there, and a refused proposal leaving the call as it was.
func TestAddAndRemoveChat(t *testing.T) {
	alice, bob := startParty(t, nil), startParty(t, nil)
	bob.autoAnswer(t)
	dumpOnFailure(t, alice, bob)
	answerProposals(t, bob, "chat", false, true) // the first is refused, the second accepted
	s, err := alice.app.Sessions().NewSession(alice.local)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(context.Background(), bob.local.URI(), nil, true, false); err != nil {
		t.Fatal(err)
	}
	alice.rec.wait(t, session.DidStart, s)
	in := bob.rec.wait(t, session.NewIncoming, nil)
	bs := in.Sender.(*session.Session)
	bob.rec.wait(t, session.DidStart, bs)
	if err := s.RemoveChat(); !errors.Is(err, session.ErrNoChat) {
		t.Errorf("RemoveChat without chat: %v", err)
	}

	// Refused: the call goes on without chat.
	if err := s.AddChat(); err != nil {
		t.Fatal(err)
	}
	alice.rec.wait(t, session.RejectedStreamProposal, s)
	if s.HasChat() || s.State() != session.StateEstablished || !s.HasAudio() {
		t.Fatalf("after a refused chat: chat %v state %s audio %v", s.HasChat(), s.State(), s.HasAudio())
	}

	// Accepted.
	if err := s.AddChat(); err != nil {
		t.Fatal(err)
	}
	alice.rec.wait(t, session.AcceptedStreamProposal, s)
	bob.rec.wait(t, session.AcceptedStreamProposal, bs)
	if !s.HasChat() || !bs.HasChat() {
		t.Fatalf("chat: alice %v bob %v", s.HasChat(), bs.HasChat())
	}
	alice.rec.wait(t, session.ChatDidStart, s.Chat())
	if _, err := bs.SendMessage("added", "text/plain", nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	n := alice.rec.wait(t, session.GotMessage, s)
	if d, _ := notification.Data[session.ChatMessageData](n); string(d.Content) != "added" {
		t.Fatalf("alice got %+v", d)
	}

	// Removed by alice: bob's chat ends too, the audio goes on.
	chatA, chatB := s.Chat(), bs.Chat()
	if err := s.RemoveChat(); err != nil {
		t.Fatal(err)
	}
	alice.rec.wait(t, session.ChatDidEnd, chatA)
	bob.rec.wait(t, session.ChatDidEnd, chatB)
	n = bob.rec.wait(t, session.GotStreamUpdate, bs)
	if d, _ := notification.Data[session.StreamsData](n); !slices.Equal(d.Streams, []string{"audio"}) {
		t.Errorf("bob's streams after the removal: %v", d.Streams)
	}
	if s.HasChat() || bs.HasChat() || !s.HasAudio() {
		t.Errorf("after removal: alice chat %v audio %v, bob chat %v", s.HasChat(), s.HasAudio(), bs.HasChat())
	}
	if err := s.End(false); err != nil {
		t.Fatal(err)
	}
	bob.rec.wait(t, session.DidEnd, bs)
}

// Audio added to a chat session and removed again (re-INVITEs): a refused
// proposal leaves the session as it was; an accepted one starts audio on
// both sides; the removal stops it and the chat goes on.
func TestAddAndRemoveAudio(t *testing.T) {
	alice, bob := startParty(t, nil), startParty(t, nil)
	dumpOnFailure(t, alice, bob)
	bob.app.Notifications().Observe(session.NewIncoming, nil, func(n notification.Notification) {
		if err := n.Sender.(*session.Session).Accept(false, true); err != nil {
			t.Errorf("accept: %v", err)
		}
	})
	answerProposals(t, bob, "audio", false, true)
	s, err := alice.app.Sessions().NewSession(alice.local)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(context.Background(), bob.local.URI(), nil, false, true); err != nil {
		t.Fatal(err)
	}
	alice.rec.wait(t, session.DidStart, s)
	bs := bob.rec.wait(t, session.NewIncoming, nil).Sender.(*session.Session)
	bob.rec.wait(t, session.DidStart, bs)
	if err := s.RemoveAudio(); err == nil {
		t.Error("RemoveAudio without audio succeeded")
	}

	if err := s.AddAudio(); err != nil {
		t.Fatal(err)
	}
	alice.rec.wait(t, session.RejectedStreamProposal, s)
	if s.HasAudio() || s.Audio() != nil || s.State() != session.StateEstablished {
		t.Fatalf("after a refused audio: audio %v state %s", s.HasAudio(), s.State())
	}

	if err := s.AddAudio(); err != nil {
		t.Fatal(err)
	}
	alice.rec.wait(t, session.AcceptedStreamProposal, s)
	bob.rec.wait(t, session.AcceptedStreamProposal, bs)
	if !s.HasAudio() || !bs.HasAudio() || s.AudioCodec() == "" {
		t.Fatalf("audio: alice %v (%q) bob %v", s.HasAudio(), s.AudioCodec(), bs.HasAudio())
	}

	if err := s.RemoveAudio(); err != nil {
		t.Fatal(err)
	}
	n := bob.rec.wait(t, session.GotStreamUpdate, bs)
	if d, _ := notification.Data[session.StreamsData](n); !slices.Equal(d.Streams, []string{"chat"}) {
		t.Errorf("bob's streams after the removal: %v", d.Streams)
	}
	if s.HasAudio() || bs.HasAudio() || !s.HasChat() {
		t.Errorf("after removal: alice audio %v chat %v, bob audio %v", s.HasAudio(), s.HasChat(), bs.HasAudio())
	}
	if _, err := s.SendMessage("audio gone, chat here", "text/plain", nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	bob.rec.wait(t, session.GotMessage, bs)
	if err := s.End(false); err != nil {
		t.Fatal(err)
	}
	bob.rec.wait(t, session.DidEnd, bs)
}

// answerProposals makes p answer the peer's stream proposals of kind
// ("audio" or "chat") in turn: accepted when the next decision is true,
// rejected otherwise.
func answerProposals(t *testing.T, p *party, kind string, decisions ...bool) {
	next := make(chan bool, len(decisions))
	for _, d := range decisions {
		next <- d
	}
	p.app.Notifications().Observe(session.GotStreamProposal, nil, func(n notification.Notification) {
		d, _ := notification.Data[session.ProposalData](n)
		if d.Proposer != "remote" {
			return
		}
		s := n.Sender.(*session.Session)
		if !slices.Equal(d.Streams, []string{kind}) {
			t.Errorf("proposal of %v, want %s", d.Streams, kind)
		}
		var accept bool
		select {
		case accept = <-next:
		default:
		}
		if !accept {
			if err := s.RejectProposal(); err != nil {
				t.Errorf("reject proposal: %v", err)
			}
			return
		}
		if err := s.AcceptProposal(kind == "audio", kind == "chat"); err != nil {
			t.Errorf("accept proposal: %v", err)
		}
	})
}

// Chat over TLS (msrps:) between two Applications whose MSRP
// configuration has a certificate.
func TestChatOverTLS(t *testing.T) {
	conf := selfSignedTLS(t)
	media := &session.MediaConfig{MSRP: session.MSRPConfig{TLS: conf}}
	alice, bob := startParty(t, media), startParty(t, media)
	a, b := chatPair(t, alice, bob)
	if !a.LocalURI().Secure || !b.LocalURI().Secure {
		t.Fatalf("local URIs %v %v, want msrps", a.LocalURI(), b.LocalURI())
	}
	if _, err := a.SendMessage([]byte("secret"), "text/plain", nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	n := bob.rec.wait(t, session.ChatGotMessage, b)
	if d, _ := notification.Data[session.ChatMessageData](n); string(d.Content) != "secret" {
		t.Fatalf("bob got %+v", d)
	}
	alice.rec.wait(t, session.ChatDidDeliverMessage, a)
}

// selfSignedTLS returns a TLS configuration with a fresh self-signed
// certificate for 127.0.0.1, not verifying peers (both ends use it).
func selfSignedTLS(t *testing.T) *tls.Config {
	t.Helper()
	cert, err := interop.GenerateTestCertificate(t, t.TempDir()).TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
}

// An account whose msrp.transport is tcp keeps its chat streams off TLS
// even where TLS is configured; the peer's stream stays msrps, and the
// chat works across (RFC 4975: each side's URI says how to reach it).
func TestChatAccountTransportTCP(t *testing.T) {
	conf := selfSignedTLS(t)
	media := &session.MediaConfig{MSRP: session.MSRPConfig{TLS: conf}}
	alice, bob := startParty(t, media), startParty(t, media)
	alice.local.MSRP.Transport.Set("tcp")
	s, bs, _ := chatOnly(t, alice, bob)
	alice.rec.wait(t, session.DidStart, s)
	bob.rec.wait(t, session.DidStart, bs)
	if s.Chat().LocalURI().Secure || !bs.Chat().LocalURI().Secure {
		t.Fatalf("chat URIs: alice %v (want msrp), bob %v (want msrps)", s.Chat().LocalURI(), bs.Chat().LocalURI())
	}
	if _, err := s.SendMessage("over tcp", "text/plain", nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	bob.rec.wait(t, session.GotMessage, bs)
	alice.rec.wait(t, session.DidDeliverMessage, s)
	if err := s.End(false); err != nil {
		t.Fatal(err)
	}
	bob.rec.wait(t, session.DidEnd, bs)
}

// A chat stream whose answer cannot be used (a=path not an MSRP URI)
// fails: MSRPChatDidFail, and the message queued before it is reported
// not delivered.
func TestChatApplyFailureReported(t *testing.T) {
	alice := startParty(t, nil)
	a, err := alice.app.Sessions().NewChat("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	defer a.End()
	a.SetParties(alice.local.URI(), alice.local.URI())
	id, err := a.SendMessage([]byte("queued"), "text/plain", nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	offer := a.Offer()
	answer := sdp.MSRPMedia{Path: []string{"msrp://"}, AcceptTypes: []string{"*"}}.Media(2855, "127.0.0.1", sdp.SendRecv)
	if err := a.Apply(offer, answer); err == nil {
		t.Fatal("Apply accepted an answer without a usable path")
	}
	alice.rec.wait(t, session.ChatDidFail, a)
	n := alice.rec.wait(t, session.ChatDidNotDeliverMessage, a)
	if d, _ := notification.Data[session.ChatDeliveryData](n); d.MessageID != id {
		t.Fatalf("not delivered: %+v, want message %s", d, id)
	}
}

// The peer accepts the re-INVITE that adds chat but refuses its line:
// the proposal is rejected, and the next re-offer (a hold) carries the
// chat line refused (port 0), not the MSRP path of the ended stream.
func TestAddChatLineRefused(t *testing.T) {
	alice, bob := startParty(t, nil), startParty(t, nil)
	bob.autoAnswer(t)
	dumpOnFailure(t, alice, bob)
	bob.app.Notifications().Observe(session.GotStreamProposal, nil, func(n notification.Notification) {
		if d, _ := notification.Data[session.ProposalData](n); d.Proposer == "remote" {
			// Accepts the re-INVITE, with no new stream: the chat line
			// is answered with port 0.
			if err := n.Sender.(*session.Session).AcceptProposal(false, false); err != nil {
				t.Errorf("accept proposal: %v", err)
			}
		}
	})
	s, err := alice.app.Sessions().NewSession(alice.local)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(context.Background(), bob.local.URI(), nil, true, false); err != nil {
		t.Fatal(err)
	}
	alice.rec.wait(t, session.DidStart, s)
	bs := bob.rec.wait(t, session.NewIncoming, nil).Sender.(*session.Session)
	bob.rec.wait(t, session.DidStart, bs)
	if err := s.AddChat(); err != nil {
		t.Fatal(err)
	}
	n := alice.rec.wait(t, session.RejectedStreamProposal, s)
	if d, _ := notification.Data[session.ProposalResultData](n); d.Reason != "chat stream refused" || s.HasChat() {
		t.Fatalf("rejected: %+v, chat %v", d, s.HasChat())
	}
	bob.app.Engine().SetTrace(true)
	if err := s.Hold(); err != nil {
		t.Fatal(err)
	}
	bob.rec.wait(t, session.GotHoldRequest, bs)
	var offer string
	bob.rec.waitFor(func(all []notification.Notification) bool {
		for _, n := range all {
			if d, ok := notification.Data[core.SIPTraceData](n); ok && d.Received && strings.HasPrefix(string(d.Data), "INVITE ") &&
				strings.Contains(string(d.Data), "a=sendonly") {
				offer = string(d.Data)
				return true
			}
		}
		return false
	})
	i := strings.Index(offer, "m=message ")
	if i < 0 {
		t.Fatalf("the hold re-offer has no chat line:\n%s", offer)
	}
	if !strings.HasPrefix(offer[i:], "m=message 0 ") {
		t.Errorf("the hold re-offer offers the refused chat again: %s", offer[i:min(len(offer), i+40)])
	}
}
