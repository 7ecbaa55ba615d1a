package session_test

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipsimple-go/sipsimple/audio"
	"github.com/sipsimple-go/sipsimple/core"
	"github.com/sipsimple-go/sipsimple/internal/interop"
	"github.com/sipsimple-go/sipsimple/notification"
	"github.com/sipsimple-go/sipsimple/session"
)

// Interop with baresip 1.0.0, an independent user agent, on 127.0.0.1.
// baresip plays a 700 Hz tone from a WAV file (aufile) and records what it
// decodes (sndfile); we play a 1000 Hz tone and listen with a sink, so
// that the audio is checked in both directions, not only counted.

const (
	baresipToneHz = 700  // what baresip sends (its aufile source)
	ourToneHz     = 1000 // what we send (a ToneGenerator)
	toneRate      = 8000 // of the WAV file, the sink and the tone generator
)

// startToneBaresip starts baresip with a tone WAV as its audio source and
// its decoded audio recorded into the returned directory.
func startToneBaresip(t *testing.T, answerMode string, modules ...string) (*interop.Baresip, string) {
	t.Helper()
	dir := t.TempDir()
	wav := filepath.Join(dir, "tone.wav")
	// baresip 1.0.0 hangs the call up when aufile reaches the end of the
	// file: it lasts far longer than the tests (8 kHz mono: 16 kB/s).
	if err := interop.WriteToneWAV(wav, toneRate, 1, baresipToneHz, 0.5, 90*time.Second); err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(dir, "recordings")
	if err := os.Mkdir(rec, 0o755); err != nil {
		t.Fatal(err)
	}
	b := interop.StartBaresip(t, interop.BaresipConfig{User: "carol", AnswerMode: answerMode,
		AudioSource: "aufile," + wav, SourceSampleRate: toneRate, SourceChannels: 1, RecordDir: rec, Modules: modules})
	return b, rec
}

// baresipContext bounds the commands and waits of a test on baresip.
func baresipContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// waitBaresip waits for baresip's next event of type typ (with param, if
// not empty), failing the test after waitTimeout. Events are consumed in
// order: an event of another type stays queued for a later wait.
func waitBaresip(t *testing.T, b *interop.Baresip, typ, param string) interop.BaresipEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ev, err := b.WaitEvent(ctx, func(ev interop.BaresipEvent) bool {
		return ev.Type == typ && (param == "" || ev.Param == param)
	})
	if err != nil {
		t.Fatalf("baresip event %s %q: %v", typ, param, err)
	}
	return ev
}

// baresipAudio waits until baresip's audio stream satisfies cond.
func baresipAudio(t *testing.T, b *interop.Baresip, what string, cond func(interop.BaresipAudioStats) bool) interop.BaresipAudioStats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	st, err := b.WaitAudioStats(ctx, cond)
	if err != nil {
		t.Fatalf("baresip: %s: %v\n%s", what, err, st.Raw)
	}
	return st
}

// waitOriginator waits for a notification name of sender with the given
// originator (OriginatorData), the k-th such one.
func (r *recorder) waitOriginator(t testing.TB, name string, sender any, originator string, k int) {
	t.Helper()
	count := func(all []notification.Notification) int {
		c := 0
		for _, n := range all {
			if n.Name != name || n.Sender != sender {
				continue
			}
			if d, ok := notification.Data[session.OriginatorData](n); ok && d.Originator == originator {
				c++
			}
		}
		return c
	}
	if !r.waitFor(func(all []notification.Notification) bool { return count(all) >= k }) {
		t.Fatalf("no %s (originator %s) #%d within %v; got %v", name, originator, k, waitTimeout, r.names())
	}
}

// dtmfDigits returns the digits of sender's SIPSessionGotDTMF, in order.
func (r *recorder) dtmfDigits(sender any) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []rune
	for _, n := range r.all {
		if n.Name == session.GotDTMF && n.Sender == sender {
			d, _ := notification.Data[session.DTMFData](n)
			out = append(out, d.Digit)
		}
	}
	return string(out)
}

// toneSink is an audio.Sink keeping the non-silent audio it hears.
type toneSink struct {
	mu      sync.Mutex
	heard   []int16 // non-silent frames, the last maxHeard samples
	total   int     // non-silent samples ever heard
	changed chan struct{}
}

const maxHeard = 4 * toneRate

func newToneSink() *toneSink { return &toneSink{changed: make(chan struct{})} }

func (k *toneSink) SampleRate() int { return toneRate }

func (k *toneSink) WriteFrame(frame []int16) {
	silent := true
	for _, s := range frame {
		if s > 64 || s < -64 {
			silent = false
			break
		}
	}
	if silent {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.heard = append(k.heard, frame...)
	if len(k.heard) > maxHeard {
		k.heard = append(k.heard[:0], k.heard[len(k.heard)-maxHeard:]...)
	}
	k.total += len(frame)
	close(k.changed)
	k.changed = make(chan struct{})
}

// heardTotal returns how many non-silent samples were heard so far.
func (k *toneSink) heardTotal() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.total
}

// waitHeard waits until at least n non-silent samples were heard in all,
// and returns the last n (n ≤ maxHeard).
func (k *toneSink) waitHeard(t testing.TB, what string, n int) []int16 {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		k.mu.Lock()
		total, ch := k.total, k.changed
		if total >= n {
			out := slices.Clone(k.heard[len(k.heard)-n:])
			k.mu.Unlock()
			return out
		}
		k.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			t.Fatalf("%s: heard %d non-silent samples within %v, want %d", what, total, waitTimeout, n)
		}
	}
}

// toneShare returns which share of the power of samples (at rate) is at
// freq (Goertzel): about 1 for a pure tone of freq, about 0 without it.
func toneShare(samples []int16, rate int, freq float64) float64 {
	if len(samples) == 0 {
		return 0
	}
	coeff := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2, energy float64
	for _, x := range samples {
		v := float64(x)
		s0 := v + coeff*s1 - s2
		s2, s1 = s1, s0
		energy += v * v
	}
	if energy == 0 {
		return 0
	}
	n := float64(len(samples))
	power := s1*s1 + s2*s2 - coeff*s1*s2 // |X(freq)|^2
	return (2 * power / (n * n)) / (energy / n)
}

// checkTone fails the test unless samples (at toneRate) are mostly a tone
// of freq.
func checkTone(t *testing.T, what string, samples []int16, freq float64) {
	t.Helper()
	checkToneAt(t, what, samples, toneRate, freq)
}

func checkToneAt(t *testing.T, what string, samples []int16, rate int, freq float64) {
	t.Helper()
	if share := toneShare(samples, rate, freq); share < 0.5 {
		other := ourToneHz
		if freq == ourToneHz {
			other = baresipToneHz
		}
		t.Errorf("%s: %.2f of the power of %d samples is at %v Hz (%.2f at %d Hz), want most of it",
			what, share, len(samples), freq, toneShare(samples, rate, float64(other)), other)
	}
}

// attachTone makes s send our tone and returns a sink hearing the remote.
func attachTone(t *testing.T, s *session.Session) *toneSink {
	t.Helper()
	a := s.Audio()
	if a == nil {
		t.Fatal("the session has no audio stream")
	}
	g, err := audio.NewToneGenerator(toneRate)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.PlayTone(ourToneHz, 0, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AttachSource(g); err != nil {
		t.Fatal(err)
	}
	sink := newToneSink()
	if _, err := a.AttachSink(sink); err != nil {
		t.Fatal(err)
	}
	return sink // both go with the stream when the session ends
}

// checkAudioReceived checks that our side received baresip's audio
// (audio_was_received, RTP counters) and the stream's attributes: codec
// at rate.
func checkAudioReceived(t *testing.T, s *session.Session, codec string, rate int) {
	t.Helper()
	waitClosed(t, s.Audio().Received(), "audio from baresip")
	st := s.Audio().Stats()
	if !s.AudioWasReceived() || st.PacketsReceived == 0 || st.BytesReceived == 0 || st.PacketsSent == 0 {
		t.Errorf("our audio: was received %v, stats %+v", s.AudioWasReceived(), st)
	}
	if !s.HasAudio() || s.AudioCodec() != codec || s.AudioSampleRate() != rate || s.AudioSRTPActive() ||
		s.AudioLocalRTPAddress() != "127.0.0.1" || s.AudioRemoteRTPAddressSDP() != "127.0.0.1" ||
		s.AudioRemoteRTPPortSDP() == 0 || s.AudioRemoteRTPPortReceived() != s.AudioRemoteRTPPortSDP() {
		t.Errorf("audio attributes: codec %q rate %d srtp %v local %s:%d sdp %s:%d received %s:%d",
			s.AudioCodec(), s.AudioSampleRate(), s.AudioSRTPActive(), s.AudioLocalRTPAddress(), s.AudioLocalRTPPort(),
			s.AudioRemoteRTPAddressSDP(), s.AudioRemoteRTPPortSDP(), s.AudioRemoteRTPAddressReceived(), s.AudioRemoteRTPPortReceived())
	}
	if ua := s.RemoteUserAgent(); !strings.Contains(ua, "baresip") {
		t.Errorf("remote user agent %q, want baresip's", ua)
	}
}

// TestBaresipOutgoingCall: we call baresip, which answers by itself; audio
// flows both ways (checked on both sides), DTMF both ways, hold and unhold
// initiated by each side and by both at once, and we hang up.
func TestBaresipOutgoingCall(t *testing.T) {
	b, _ := startToneBaresip(t, "auto")
	p := startParty(t, nil)
	dumpOnFailure(t, p)
	ctx := baresipContext(t)

	s, err := p.app.Sessions().NewSession(p.local)
	if err != nil {
		t.Fatal(err)
	}
	callee, err := core.ParseSIPURI(b.URI())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(ctx, callee, nil, true, false); err != nil {
		t.Fatal(err)
	}
	sink := attachTone(t, s)
	p.rec.wait(t, session.DidStart, s)
	// baresip's view: our offer, the call, and our RTP arriving.
	waitBaresip(t, b, "CALL_REMOTE_SDP", "offer")
	if ev := waitBaresip(t, b, "CALL_ESTABLISHED", ""); ev.Direction != "incoming" {
		t.Errorf("baresip's call direction %q, want incoming", ev.Direction)
	}
	waitBaresip(t, b, "CALL_RTPESTAB", "audio")
	if s.Direction() != "outgoing" || !s.CalleeURI().Equal(callee) || s.Route() == nil || s.StartTime().IsZero() {
		t.Errorf("direction %q, callee %s, route %v, start %v", s.Direction(), s.CalleeURI(), s.Route(), s.StartTime())
	}

	// Audio, both ways.
	checkAudioReceived(t, s, "PCMU", 8000) // baresip's g711 module only
	checkTone(t, "what we hear from baresip", sink.waitHeard(t, "baresip's tone", toneRate/2), baresipToneHz)
	bst := baresipAudio(t, b, "receives our RTP", func(st interop.BaresipAudioStats) bool {
		return st.Direction == "sendrecv" && st.PacketsReceived > 0 && st.PacketsSent > 0
	})
	t.Logf("baresip: %d RTP packets received, %d sent", bst.PacketsReceived, bst.PacketsSent)

	// DTMF to baresip: RFC 4733 events, reported as CALL_DTMF_START.
	const digits = "1*9#"
	for _, d := range digits {
		if err := s.SendDTMF(d); err != nil {
			t.Fatal(err)
		}
	}
	var got string
	for range digits {
		got += waitBaresip(t, b, "CALL_DTMF_START", "").Param
	}
	if got != digits {
		t.Errorf("baresip got DTMF %q, want %q", got, digits)
	}
	// And from baresip to us.
	if err := b.SendDTMF(ctx, "47"); err != nil {
		t.Fatal(err)
	}
	p.rec.waitCount(t, session.GotDTMF, s, 2)
	if got := p.rec.dtmfDigits(s); got != "47" {
		t.Errorf("we got DTMF %q, want \"47\"", got)
	}

	// We hold: our re-INVITE makes our audio sendonly, baresip's recvonly.
	if err := s.Hold(); err != nil {
		t.Fatal(err)
	}
	p.rec.waitOriginator(t, session.GotHoldRequest, s, "local", 1)
	if !s.OnHoldByLocal() || s.OnHoldByRemote() || !s.OnHold() {
		t.Errorf("after Hold: on hold by local %v, by remote %v", s.OnHoldByLocal(), s.OnHoldByRemote())
	}
	waitBaresip(t, b, "CALL_REMOTE_SDP", "offer")
	held := baresipAudio(t, b, "held by us", func(st interop.BaresipAudioStats) bool { return st.Direction == "recvonly" })
	if err := s.Unhold(); err != nil {
		t.Fatal(err)
	}
	p.rec.waitOriginator(t, session.GotUnholdRequest, s, "local", 1)
	if s.OnHold() {
		t.Errorf("after Unhold: still on hold (local %v, remote %v)", s.OnHoldByLocal(), s.OnHoldByRemote())
	}
	waitBaresip(t, b, "CALL_REMOTE_SDP", "offer")
	// Audio flows again both ways.
	baresipAudio(t, b, "receives our RTP after the unhold", func(st interop.BaresipAudioStats) bool {
		return st.Direction == "sendrecv" && st.PacketsReceived > held.PacketsReceived
	})
	sink.waitHeard(t, "baresip's tone after the unhold", sink.heardTotal()+toneRate/10)

	// baresip holds: its re-INVITE offers sendonly, we answer recvonly.
	if err := b.Hold(ctx); err != nil {
		t.Fatal(err)
	}
	p.rec.waitOriginator(t, session.GotHoldRequest, s, "remote", 1)
	if !s.OnHoldByRemote() || s.OnHoldByLocal() || !s.OnHold() {
		t.Errorf("after baresip's hold: on hold by local %v, by remote %v", s.OnHoldByLocal(), s.OnHoldByRemote())
	}
	waitBaresip(t, b, "CALL_REMOTE_SDP", "answer")
	baresipAudio(t, b, "holding us", func(st interop.BaresipAudioStats) bool { return st.Direction == "sendonly" })
	// Both hold: we answered recvonly, now we offer sendonly; baresip, on
	// hold itself, answers inactive.
	if err := s.Hold(); err != nil {
		t.Fatal(err)
	}
	p.rec.waitOriginator(t, session.GotHoldRequest, s, "local", 2)
	waitBaresip(t, b, "CALL_REMOTE_SDP", "offer")
	baresipAudio(t, b, "both on hold", func(st interop.BaresipAudioStats) bool { return st.Direction == "inactive" })
	if !s.OnHoldByRemote() || !s.OnHoldByLocal() {
		t.Errorf("both on hold: on hold by local %v, by remote %v", s.OnHoldByLocal(), s.OnHoldByRemote())
	}
	// baresip resumes (we stay on hold: we answer sendonly), then we do.
	if err := b.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	p.rec.waitOriginator(t, session.GotUnholdRequest, s, "remote", 1)
	if s.OnHoldByRemote() || !s.OnHoldByLocal() {
		t.Errorf("after baresip's resume: on hold by local %v, by remote %v", s.OnHoldByLocal(), s.OnHoldByRemote())
	}
	waitBaresip(t, b, "CALL_REMOTE_SDP", "answer")
	baresipAudio(t, b, "resumed, still held by us", func(st interop.BaresipAudioStats) bool { return st.Direction == "recvonly" })
	if err := s.Unhold(); err != nil {
		t.Fatal(err)
	}
	p.rec.waitOriginator(t, session.GotUnholdRequest, s, "local", 2)
	if s.OnHold() {
		t.Errorf("after both resumed: still on hold (local %v, remote %v)", s.OnHoldByLocal(), s.OnHoldByRemote())
	}
	waitBaresip(t, b, "CALL_REMOTE_SDP", "offer")
	resumed := baresipAudio(t, b, "both resumed", func(st interop.BaresipAudioStats) bool { return st.Direction == "sendrecv" })
	baresipAudio(t, b, "receives our RTP after both resumed", func(st interop.BaresipAudioStats) bool {
		return st.PacketsReceived > resumed.PacketsReceived
	})
	sink.waitHeard(t, "baresip's tone after both resumed", sink.heardTotal()+toneRate/10)
	if n := p.rec.count(session.GotHoldRequest, s) + p.rec.count(session.GotUnholdRequest, s); n != 6 {
		t.Errorf("%d hold/unhold notifications, want 6", n)
	}

	// We hang up.
	if err := s.End(false); err != nil {
		t.Fatal(err)
	}
	waitBaresip(t, b, "CALL_CLOSED", "")
	if d, _ := notification.Data[session.OriginatorData](p.rec.wait(t, session.DidEnd, s)); d.Originator != "local" {
		t.Errorf("DidEnd originator %q, want local", d.Originator)
	}
	want := []session.State{session.StateCalling, session.StateEstablished, session.StateTerminating, session.StateTerminated}
	if got := p.rec.states(s); !slices.Equal(got, want) {
		t.Errorf("states %v, want %v", got, want)
	}
	if n := p.rec.count(session.DidFail, s); n != 0 || len(p.app.Sessions().Sessions()) != 0 {
		t.Errorf("DidFail %d, sessions %v", n, p.app.Sessions().Sessions())
	}
}

// TestBaresipIncomingCall: baresip calls our userless account, we accept;
// audio flows both ways (what baresip decoded is checked in its recording)
// and baresip hangs up.
func TestBaresipIncomingCall(t *testing.T) {
	b, recDir := startToneBaresip(t, "manual")
	p := startParty(t, nil)
	dumpOnFailure(t, p)
	ctx := baresipContext(t)

	incoming := make(chan *session.Session, 1)
	p.app.Notifications().Observe(session.NewIncoming, nil, func(n notification.Notification) {
		incoming <- n.Sender.(*session.Session)
	})

	// baresip 1.0.0 needs a user part; our userless account takes any
	// request for its address.
	target := p.local.URI()
	target.User = "sipsimple"
	if err := b.Dial(ctx, target.String()); err != nil {
		t.Fatal(err)
	}
	var s *session.Session
	select {
	case s = <-incoming:
	case <-time.After(waitTimeout):
		t.Fatalf("no incoming session within %v; got %v", waitTimeout, p.rec.names())
	}
	sink := attachTone(t, s) // before Accept: our tone from the first packet
	in := p.rec.wait(t, session.NewIncoming, s)
	if d, _ := notification.Data[session.StreamsData](in); !slices.Equal(d.Streams, []string{"audio"}) {
		t.Errorf("NewIncoming streams %v, want [audio]", d.Streams)
	}
	if s.Direction() != "incoming" || s.CallerURI().User != "carol" || s.CallerURI().Host != "127.0.0.1" || s.Route() != nil {
		t.Errorf("direction %q, caller %s, route %v", s.Direction(), s.CallerURI(), s.Route())
	}
	waitBaresip(t, b, "CALL_RINGING", "")

	if err := s.Accept(true, false); err != nil {
		t.Fatal(err)
	}
	p.rec.wait(t, session.DidStart, s)
	if ev := waitBaresip(t, b, "CALL_ESTABLISHED", ""); ev.Direction != "outgoing" {
		t.Errorf("baresip's call direction %q, want outgoing", ev.Direction)
	}
	waitBaresip(t, b, "CALL_RTPESTAB", "audio")

	// Audio, both ways.
	checkAudioReceived(t, s, "PCMU", 8000) // baresip's g711 module only
	checkTone(t, "what we hear from baresip", sink.waitHeard(t, "baresip's tone", toneRate/2), baresipToneHz)
	// A second of our audio at baresip, for the check of its recording.
	bst := baresipAudio(t, b, "receives our RTP", func(st interop.BaresipAudioStats) bool {
		return st.Direction == "sendrecv" && st.PacketsReceived >= 50
	})
	t.Logf("baresip: %d RTP packets received, %d sent", bst.PacketsReceived, bst.PacketsSent)

	// baresip hangs up.
	if err := b.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if d, _ := notification.Data[session.OriginatorData](p.rec.wait(t, session.DidEnd, s)); d.Originator != "remote" {
		t.Errorf("DidEnd originator %q, want remote", d.Originator)
	}
	waitBaresip(t, b, "CALL_CLOSED", "")
	want := []session.State{session.StateIncoming, session.StateAccepting, session.StateEstablished, session.StateTerminating, session.StateTerminated}
	if got := p.rec.states(s); !slices.Equal(got, want) {
		t.Errorf("states %v, want %v", got, want)
	}
	if n := p.rec.count(session.DidFail, s); n != 0 || len(p.app.Sessions().Sessions()) != 0 {
		t.Errorf("DidFail %d, sessions %v", n, p.app.Sessions().Sessions())
	}

	checkBaresipRecording(t, b, recDir, 8000)
}

// TestBaresipCancelsIncomingCall: baresip calls us and hangs up while we
// ring (CANCEL): the session fails with 487, originator remote.
func TestBaresipCancelsIncomingCall(t *testing.T) {
	b, _ := startToneBaresip(t, "manual")
	p := startParty(t, nil)
	dumpOnFailure(t, p)
	ctx := baresipContext(t)
	p.app.Notifications().Observe(session.NewIncoming, nil, func(notification.Notification) {}) // ring, don't answer

	target := p.local.URI()
	target.User = "sipsimple"
	if err := b.Dial(ctx, target.String()); err != nil {
		t.Fatal(err)
	}
	s := p.rec.wait(t, session.NewIncoming, nil).Sender.(*session.Session)
	waitBaresip(t, b, "CALL_RINGING", "")
	if err := b.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	fail := p.rec.wait(t, session.DidFail, s)
	if d, _ := notification.Data[session.DidFailData](fail); d.Originator != "remote" || d.Code != 487 {
		t.Errorf("DidFail %+v, want originator remote, code 487", d)
	}
	if d, _ := notification.Data[session.OriginatorData](p.rec.wait(t, session.DidEnd, s)); d.Originator != "remote" {
		t.Errorf("DidEnd originator %q, want remote", d.Originator)
	}
	waitBaresip(t, b, "CALL_CLOSED", "")
	want := []session.State{session.StateIncoming, session.StateTerminating, session.StateTerminated}
	if got := p.rec.states(s); !slices.Equal(got, want) {
		t.Errorf("states %v, want %v", got, want)
	}
	if err := s.Accept(true, false); !errors.Is(err, session.ErrState) {
		t.Errorf("Accept after the CANCEL: %v, want ErrState", err)
	}
}

// TestBaresipWideband: we call baresip, which rings and is told to answer
// through ctrl_tcp; with its g722 module the call is G.722 (16 kHz) both
// ways; we hang up.
func TestBaresipWideband(t *testing.T) {
	b, recDir := startToneBaresip(t, "manual", "g722.so")
	p := startParty(t, nil)
	dumpOnFailure(t, p)
	ctx := baresipContext(t)

	s, err := p.app.Sessions().NewSession(p.local)
	if err != nil {
		t.Fatal(err)
	}
	callee, err := core.ParseSIPURI(b.URI())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(ctx, callee, nil, true, false); err != nil {
		t.Fatal(err)
	}
	sink := attachTone(t, s)
	if ev := waitBaresip(t, b, "CALL_INCOMING", ""); ev.PeerURI != p.local.URI().String() {
		t.Errorf("baresip's incoming call from %q, want %q", ev.PeerURI, p.local.URI())
	}
	p.rec.wait(t, session.GotRingIndication, s)
	if st := s.State(); st != session.StateCalling {
		t.Errorf("state %s while baresip rings, want CALLING", st)
	}
	if err := b.Accept(ctx); err != nil {
		t.Fatal(err)
	}
	p.rec.wait(t, session.DidStart, s)
	waitBaresip(t, b, "CALL_RTPESTAB", "audio")
	checkAudioReceived(t, s, "G722", 16000) // our first codec, which baresip accepts
	checkTone(t, "what we hear from baresip", sink.waitHeard(t, "baresip's tone", toneRate/2), baresipToneHz)
	st := baresipAudio(t, b, "receives our RTP", func(st interop.BaresipAudioStats) bool {
		return st.Direction == "sendrecv" && st.PacketsReceived >= 50
	})
	if !strings.Contains(st.Raw, "decode: G722") || !strings.Contains(st.Raw, "encode: G722") {
		t.Errorf("baresip's audio stream is not G.722 both ways:\n%s", st.Raw)
	}
	if err := s.End(false); err != nil {
		t.Fatal(err)
	}
	waitBaresip(t, b, "CALL_CLOSED", "")
	if d, _ := notification.Data[session.OriginatorData](p.rec.wait(t, session.DidEnd, s)); d.Originator != "local" {
		t.Errorf("DidEnd originator %q, want local", d.Originator)
	}
	checkBaresipRecording(t, b, recDir, 16000)
}

// readWAV reads the samples of a WAV file as mono, with its rate.
func readWAV(t *testing.T, path string) ([]int16, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := audio.NewWAVReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []int16
	buf := make([]int16, 1024)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out, r.SampleRate()
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
}

// checkBaresipRecording stops baresip (its recordings are complete once it
// has exited) and checks that what it decoded from us, at least a quarter
// of a second of it, is our tone at rate.
func checkBaresipRecording(t *testing.T, b *interop.Baresip, recDir string, rate int) {
	t.Helper()
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(recDir, "*-dec.wav"))
	if len(files) != 1 {
		t.Fatalf("baresip's recordings of the decoded audio: %v, want one", files)
	}
	samples, r := readWAV(t, files[0])
	if r != rate {
		t.Errorf("baresip decoded at %d Hz, want %d", r, rate)
	}
	if len(samples) < r/4 {
		t.Fatalf("baresip decoded %d samples at %d Hz, want at least %d", len(samples), r, r/4)
	}
	// The first quarter may hold the jitter buffer's start.
	checkToneAt(t, "what baresip decoded from us", samples[len(samples)/4:], r, ourToneHz)
}
