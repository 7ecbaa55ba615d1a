package session_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sipsimple-go/sipsimple/audio"
	"github.com/sipsimple-go/sipsimple/notification"
	"github.com/sipsimple-go/sipsimple/session"
)

// TestCallBetweenApplications: alice calls bob on loopback (userless
// accounts), bob answers, audio flows both ways, DTMF, hold and unhold,
// recording, and alice hangs up.
func TestCallBetweenApplications(t *testing.T) {
	alice, bob := startParty(t, nil), startParty(t, nil)
	bob.autoAnswer(t)
	ctx := context.Background()
	dumpOnFailure(t, alice, bob)

	s, err := alice.app.Sessions().NewSession(alice.local)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SendDTMF('1'); !errors.Is(err, session.ErrState) {
		t.Errorf("SendDTMF in NULL: %v, want ErrState", err)
	}
	if err := s.Connect(ctx, bob.local.URI(), nil, true, false); err != nil {
		t.Fatal(err)
	}
	alice.rec.wait(t, session.DidStart, s)
	in := bob.rec.wait(t, session.NewIncoming, nil)
	bs := in.Sender.(*session.Session)
	if d, _ := notification.Data[session.StreamsData](in); !slices.Equal(d.Streams, []string{"audio"}) {
		t.Errorf("NewIncoming streams %v", d.Streams)
	}
	bob.rec.wait(t, session.DidStart, bs)

	// Tones both ways, so that audio is really received.
	for _, sess := range []*session.Session{s, bs} {
		g, _ := audio.NewToneGenerator(8000)
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
	for name, sess := range map[string]*session.Session{"alice": s, "bob": bs} {
		if !sess.AudioWasReceived() || !sess.HasAudio() || sess.AudioCodec() == "" || sess.AudioSampleRate() == 0 ||
			sess.AudioLocalRTPPort() == 0 || sess.AudioRemoteRTPPortSDP() == 0 || sess.AudioRemoteRTPPortReceived() == 0 ||
			sess.AudioLocalRTPAddress() != "127.0.0.1" {
			t.Errorf("%s: audio attributes: received %v codec %q rate %d local %s:%d sdp %s:%d received %s:%d", name,
				sess.AudioWasReceived(), sess.AudioCodec(), sess.AudioSampleRate(), sess.AudioLocalRTPAddress(), sess.AudioLocalRTPPort(),
				sess.AudioRemoteRTPAddressSDP(), sess.AudioRemoteRTPPortSDP(), sess.AudioRemoteRTPAddressReceived(), sess.AudioRemoteRTPPortReceived())
		}
	}
	if s.Direction() != "outgoing" || bs.Direction() != "incoming" || s.CalleeURI().String() != bob.local.URI().String() ||
		bs.CallerURI().String() != alice.local.URI().String() {
		t.Errorf("directions %s/%s callee %s caller %s", s.Direction(), bs.Direction(), s.CalleeURI(), bs.CallerURI())
	}
	if s.StartTime().IsZero() || s.Route() == nil || bs.Route() != nil {
		t.Errorf("start time %v, routes %v %v", s.StartTime(), s.Route(), bs.Route())
	}
	if s.RemoteUserAgent() == "" {
		t.Errorf("no remote user agent")
	}

	// Recording on bob.
	file := filepath.Join(t.TempDir(), "bob.wav")
	if err := bs.StartRecordingAudio(file); err != nil {
		t.Fatal(err)
	}
	bob.rec.wait(t, session.DidStartRecordingAudio, bs)
	if bs.AudioRecordingFileName() != file {
		t.Errorf("recording file %q", bs.AudioRecordingFileName())
	}

	// DTMF (while recording: digits take 100 ms each).
	if err := s.SendDTMF('x'); err == nil {
		t.Errorf("SendDTMF('x') accepted")
	}
	for _, d := range "5#" {
		if err := s.SendDTMF(d); err != nil {
			t.Fatal(err)
		}
	}
	bob.rec.waitCount(t, session.GotDTMF, bs, 2)

	// Hold and unhold from alice.
	if err := s.Hold(); err != nil {
		t.Fatal(err)
	}
	hold := bob.rec.wait(t, session.GotHoldRequest, bs)
	if d, _ := notification.Data[session.OriginatorData](hold); d.Originator != "remote" {
		t.Errorf("bob's hold originator %q", d.Originator)
	}
	if d, _ := notification.Data[session.OriginatorData](alice.rec.wait(t, session.GotHoldRequest, s)); d.Originator != "local" {
		t.Errorf("alice's hold originator %q", d.Originator)
	}
	alice.rec.waitCount(t, session.ChangedState, s, 2) // CALLING, ESTABLISHED at least
	if !s.OnHoldByLocal() || !s.OnHold() || !bs.OnHoldByRemote() {
		t.Errorf("hold flags: alice local %v, bob remote %v", s.OnHoldByLocal(), bs.OnHoldByRemote())
	}
	if err := s.Unhold(); err != nil {
		t.Fatal(err)
	}
	bob.rec.wait(t, session.GotUnholdRequest, bs)
	// Hold from bob's side too.
	if err := bs.Hold(); err != nil {
		t.Fatal(err)
	}
	alice.rec.waitCount(t, session.GotHoldRequest, s, 2)
	if err := bs.Unhold(); err != nil {
		t.Fatal(err)
	}
	alice.rec.waitCount(t, session.GotUnholdRequest, s, 2)

	if err := bs.StopRecordingAudio(); err != nil {
		t.Fatal(err)
	}
	bob.rec.wait(t, session.DidStopRecordingAudio, bs)
	if st, err := os.Stat(file); err != nil || st.Size() <= 44 {
		t.Errorf("recording %s: %v %v", file, st, err)
	}

	// Alice hangs up.
	if err := s.End(false); err != nil {
		t.Fatal(err)
	}
	end := bob.rec.wait(t, session.DidEnd, bs)
	if d, _ := notification.Data[session.OriginatorData](end); d.Originator != "remote" {
		t.Errorf("bob's DidEnd originator %q", d.Originator)
	}
	if d, _ := notification.Data[session.OriginatorData](alice.rec.wait(t, session.DidEnd, s)); d.Originator != "local" {
		t.Errorf("alice's DidEnd originator %q", d.Originator)
	}
	want := []session.State{session.StateCalling, session.StateEstablished, session.StateTerminating, session.StateTerminated}
	if got := alice.rec.states(s); !slices.Equal(got, want) {
		t.Errorf("alice's states %v, want %v", got, want)
	}
	wantBob := []session.State{session.StateIncoming, session.StateAccepting, session.StateEstablished, session.StateTerminating, session.StateTerminated}
	if got := bob.rec.states(bs); !slices.Equal(got, wantBob) {
		t.Errorf("bob's states %v, want %v", got, wantBob)
	}
	if alice.rec.count(session.DidFail, s) != 0 || len(alice.app.Sessions().Sessions()) != 0 {
		t.Errorf("DidFail %d, sessions %v", alice.rec.count(session.DidFail, s), alice.app.Sessions().Sessions())
	}
}

// TestSRTPCall: mandatory SRTP (RTPConfiguration use_srtp + srtp_forced)
// towards a peer whose account offers it optionally: SRTP is active both
// ways and audio flows; towards a peer with SRTP disabled the call fails
// with 488.
func TestSRTPCall(t *testing.T) {
	alice := startParty(t, &session.MediaConfig{RTP: session.RTPConfiguration{UseSRTP: true, SRTPForced: true}})
	bob := startParty(t, nil) // the account's rtp.srtp: optional (default)
	bob.autoAnswer(t)
	s, _ := alice.app.Sessions().NewSession(alice.local)
	if err := s.Connect(context.Background(), bob.local.URI(), nil, true, false); err != nil {
		t.Fatal(err)
	}
	alice.rec.wait(t, session.DidStart, s)
	bs := bob.rec.wait(t, session.DidStart, nil).Sender.(*session.Session)
	for _, x := range []*session.Session{s, bs} {
		g, _ := audio.NewToneGenerator(8000)
		g.PlayTone(600, 0, 0)
		detach, err := x.Audio().AttachSource(g)
		if err != nil {
			t.Fatal(err)
		}
		defer detach()
	}
	waitClosed(t, s.Audio().Received(), "alice receives SRTP audio")
	waitClosed(t, bs.Audio().Received(), "bob receives SRTP audio")
	if !s.AudioSRTPActive() || !bs.AudioSRTPActive() {
		t.Errorf("SRTP active: alice %v, bob %v", s.AudioSRTPActive(), bs.AudioSRTPActive())
	}
	if st := s.Audio().Stats(); st.AuthFailures != 0 {
		t.Errorf("SRTP authentication failures: %d", st.AuthFailures)
	}
	s.End(false)
	bob.rec.wait(t, session.DidEnd, bs)

	// Mandatory SRTP towards a peer that refuses SRTP: 488.
	carol := startParty(t, nil)
	carol.local.RTP.SRTP.Set("disabled")
	carol.autoAnswer(t)
	s2, _ := alice.app.Sessions().NewSession(alice.local)
	if err := s2.Connect(context.Background(), carol.local.URI(), nil, true, false); err != nil {
		t.Fatal(err)
	}
	fail := alice.rec.wait(t, session.DidFail, s2)
	if d, _ := notification.Data[session.DidFailData](fail); d.Code != 488 || d.Originator != "remote" {
		t.Errorf("DidFail %+v, want 488 from the remote", d)
	}
	alice.rec.wait(t, session.DidEnd, s2)
}

// TestRingtones: the default inbound ringtone plays through the mixer
// while an incoming session rings, and stops when it is answered.
func TestRingtones(t *testing.T) {
	alice, bob := startParty(t, nil), startParty(t, nil)
	tone := filepath.Join(t.TempDir(), "ring.wav")
	rec, err := audio.CreateWAVRecorder(tone, 8000, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec.WriteFrame(make([]int16, 8000))
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	bob.app.Sessions().Ringtones().SetDefaultInboundRingtone(tone)
	if got := bob.app.Sessions().Ringtones().RingtoneForSIPURI(alice.local.URI()); got != tone {
		t.Fatalf("ringtone for alice %q", got)
	}
	players := func() int {
		m := bob.app.Sessions().Mixer()
		n := 0
		for _, sl := range m.Slots() {
			if _, ok := m.Port(sl).(*audio.WAVPlayer); ok {
				n++
			}
		}
		return n
	}
	ringing := make(chan int, 1)
	bob.app.Notifications().Observe(session.NewIncoming, nil, func(n notification.Notification) {
		ringing <- players()
		n.Sender.(*session.Session).Accept(true, false)
	})
	s, _ := alice.app.Sessions().NewSession(alice.local)
	if err := s.Connect(context.Background(), bob.local.URI(), nil, true, false); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-ringing:
		if n != 1 {
			t.Errorf("%d ringtone players while ringing, want 1", n)
		}
	case <-time.After(waitTimeout):
		t.Fatal("no incoming session")
	}
	bob.rec.wait(t, session.DidStart, nil)
	if n := players(); n != 0 {
		t.Errorf("%d ringtone players after the answer, want 0", n)
	}
	s.End(false)
	alice.rec.wait(t, session.DidEnd, s)
}
