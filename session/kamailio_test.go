package session_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sipsimple-go/sipsimple/account"
	"github.com/sipsimple-go/sipsimple/audio"
	"github.com/sipsimple-go/sipsimple/core"
	"github.com/sipsimple-go/sipsimple/internal/interop"
	"github.com/sipsimple-go/sipsimple/notification"
	"github.com/sipsimple-go/sipsimple/session"
)

// registerAt adds the account user@domain with password to p, with k as
// its outbound proxy, and waits until it is registered.
func registerAt(t *testing.T, p *party, k *interop.Kamailio, user, password string) *account.Account {
	t.Helper()
	a, err := p.app.Accounts().NewAccount(user + "@" + k.Domain)
	if err != nil {
		t.Fatal(err)
	}
	a.Auth.Password.Set(password)
	a.SIP.OutboundProxy.Set("sip:" + k.UDPAddr())
	a.SIP.Transport.Set("udp")
	a.SIP.RegisterInterval.Set(60 * time.Second)
	a.SIP.RetryInterval.Set(time.Hour) // a retry must not happen during the test
	a.Enabled.Set(true)
	if err := a.Save(); err != nil {
		t.Fatal(err)
	}
	p.rec.wait(t, account.RegistrationDidSucceed, a)
	return a
}

// alice and bob, each an Application with an account registered at one
// Kamailio (which challenges the INVITE with 407 and record-routes): alice
// calls bob's address of record, bob's 180 rings at alice, bob accepts,
// audio flows both ways through the RTP the SDP negotiated, alice hangs
// up.
func TestCallThroughKamailio(t *testing.T) {
	k := interop.StartKamailio(t, interop.KamailioConfig{Users: map[string]string{"alice": "pa", "bob": "pb"}, DisableTLS: true})
	alice, bob := startInteropParty(t, true), startInteropParty(t, true)
	aa := registerAt(t, alice, k, "alice", "pa")
	ba := registerAt(t, bob, k, "bob", "pb")

	s, err := alice.app.Sessions().NewSession(aa)
	if err != nil {
		t.Fatal(err)
	}
	callee, err := core.ParseSIPURI(k.AOR("bob"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(context.Background(), callee, nil, true, false); err != nil {
		t.Fatal(err)
	}
	in := bob.rec.wait(t, session.NewIncoming, nil)
	bs := in.Sender.(*session.Session)
	// Bob answers once alice has seen his 180: Kamailio's workers could
	// otherwise relay the 200 first.
	alice.rec.wait(t, session.GotRingIndication, s)
	if err := bs.Accept(true, false); err != nil {
		t.Fatal(err)
	}
	alice.rec.wait(t, session.DidStart, s)
	bob.rec.wait(t, session.DidStart, bs)
	if bs.Account() != ba || bs.RemoteURI().String() != aa.URI().String() || s.RemoteURI().String() != k.AOR("bob") {
		t.Errorf("bob's session: account %v, remote %s; alice's remote %s", bs.Account(), bs.RemoteURI(), s.RemoteURI())
	}
	if r := s.Route(); r == nil || r.Port != k.UDPPort || r.Transport != "udp" {
		t.Errorf("alice's route %v, want Kamailio's", r)
	}
	if s.RemoteUserAgent() == "" || bs.RemoteUserAgent() == "" {
		t.Errorf("remote user agents %q %q", s.RemoteUserAgent(), bs.RemoteUserAgent())
	}

	for _, sess := range []*session.Session{s, bs} {
		g, err := audio.NewToneGenerator(8000)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := g.PlayTone(440, 0, 0); err != nil {
			t.Fatal(err)
		}
		detach, err := sess.Audio().AttachSource(g)
		if err != nil {
			t.Fatal(err)
		}
		defer detach()
	}
	waitClosed(t, s.Audio().Received(), "alice receives audio")
	waitClosed(t, bs.Audio().Received(), "bob receives audio")
	if !s.AudioWasReceived() || !bs.AudioWasReceived() || s.AudioCodec() == "" || s.AudioCodec() != bs.AudioCodec() {
		t.Errorf("audio: received %v/%v, codecs %q/%q", s.AudioWasReceived(), bs.AudioWasReceived(), s.AudioCodec(), bs.AudioCodec())
	}

	if err := s.End(false); err != nil {
		t.Fatal(err)
	}
	checkTrail(t, alice.rec, s, "NewOutgoing", "NULL>CALLING", "GotRingIndication", "WillStart", "CALLING>ESTABLISHED",
		"DidStart", "WillEnd", "ESTABLISHED>TERMINATING", "TERMINATING>TERMINATED", "DidEnd(local)")
	checkTrail(t, bob.rec, bs, "NewIncoming", "NULL>INCOMING", "INCOMING>ACCEPTING", "WillStart", "ACCEPTING>ESTABLISHED",
		"DidStart", "WillEnd", "ESTABLISHED>TERMINATING", "TERMINATING>TERMINATED", "DidEnd(remote)")
	if d, _ := notification.Data[session.StreamsData](in); !slices.Equal(d.Streams, []string{"audio"}) {
		t.Errorf("NewIncoming streams %v", d.Streams)
	}
	alice.noSessionsLeft(t)
	bob.noSessionsLeft(t)
}

// relayVia points p's settings at k's MSRP relay (msrp.relay_host,
// relay_port, relay_use_tls) for the streams p offers and answers.
func relayVia(t *testing.T, p *party, k *interop.Kamailio) {
	t.Helper()
	st := p.app.Settings()
	st.MSRP.RelayHost.Set("127.0.0.1")
	st.MSRP.RelayPort.Set(k.MSRPPort)
	st.MSRP.RelayUseTLS.Set(false)
	st.MSRP.UseRelayOutgoing.Set(true)
	st.MSRP.UseRelayIncoming.Set(true)
	if err := st.Save(); err != nil {
		t.Fatal(err)
	}
}

// Chat and file transfer through Kamailio's msrp module as the MSRP relay
// (RFC 4976) of both parties: each stream reserves its session with AUTH
// (the account's credentials), advertises the relay's path in its SDP,
// and every MSRP request goes alice -> relay -> relay -> bob.
func TestChatAndFileThroughMSRPRelay(t *testing.T) {
	k := interop.StartKamailio(t, interop.KamailioConfig{Users: map[string]string{"alice": "pa", "bob": "pb"},
		DisableTLS: true, MSRPRelay: true})
	alice, bob := startInteropParty(t, true), startInteropParty(t, true)
	aa := registerAt(t, alice, k, "alice", "pa")
	registerAt(t, bob, k, "bob", "pb")
	relayVia(t, alice, k)
	relayVia(t, bob, k)
	dir := t.TempDir()
	bob.app.Notifications().Observe(session.NewIncoming, nil, func(n notification.Notification) {
		s := n.Sender.(*session.Session)
		var err error
		if d, _ := notification.Data[session.StreamsData](n); slices.Contains(d.Streams, "file-transfer") {
			err = s.AcceptFileTransfer(dir)
		} else {
			err = s.Accept(false, true)
		}
		if err != nil {
			t.Errorf("bob: accept: %v", err)
		}
	})
	callee, err := core.ParseSIPURI(k.AOR("bob"))
	if err != nil {
		t.Fatal(err)
	}

	s, err := alice.app.Sessions().NewSession(aa)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(context.Background(), callee, nil, false, true); err != nil {
		t.Fatal(err)
	}
	bs := bob.rec.wait(t, session.NewIncoming, nil).Sender.(*session.Session)
	alice.rec.wait(t, session.DidStart, s)
	bob.rec.wait(t, session.DidStart, bs)
	if !s.Chat().Relayed() || !bs.Chat().Relayed() {
		t.Fatalf("chat streams relayed: alice %v, bob %v", s.Chat().Relayed(), bs.Chat().Relayed())
	}
	if _, err := s.SendMessage("hello via the relay", "text/plain", nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	got := bob.rec.wait(t, session.GotMessage, bs)
	if d, _ := notification.Data[session.ChatMessageData](got); string(d.Content) != "hello via the relay" {
		t.Errorf("bob got %q", d.Content)
	}
	alice.rec.wait(t, session.DidDeliverMessage, s)
	if _, err := bs.SendMessage("and back", "text/plain", nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	alice.rec.wait(t, session.GotMessage, s)
	bob.rec.wait(t, session.DidDeliverMessage, bs)
	if err := s.End(false); err != nil {
		t.Fatal(err)
	}
	bob.rec.wait(t, session.DidEnd, bs)

	// A file, in chunks the relay forwards (msrp.RelayChunkSize).
	src := filepath.Join(t.TempDir(), "relayed.bin")
	sum := writeRandomFile(t, src, 1<<20, 7)
	fs, err := alice.app.Sessions().NewSession(aa)
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.SendFile(context.Background(), callee, nil, src); err != nil {
		t.Fatal(err)
	}
	n := bob.rec.wait(t, session.FileTransferGotFile, nil)
	d, _ := notification.Data[session.FileData](n)
	if d.FileName != filepath.Join(dir, "relayed.bin") || string(fileSHA1(t, d.FileName)) != string(sum) {
		t.Fatalf("bob got %+v", d)
	}
	if !fs.FileTransfer().Relayed() {
		t.Error("the file transfer did not go through the relay")
	}
	alice.rec.wait(t, session.FileTransferDidDeliverFile, fs.FileTransfer())
	alice.rec.wait(t, session.DidEnd, fs)
}
