package session

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sipsimple-go/sipsimple/audio"
	"github.com/sipsimple-go/sipsimple/audio/codec"
	"github.com/sipsimple-go/sipsimple/rtp"
	"github.com/sipsimple-go/sipsimple/sdp"
)

// srtpSuites are the SDES crypto suites we offer, in order (RFC 4568; the
// _80 one first, as every peer has it).
var srtpSuites = []string{string(rtp.ProfileAESCM128HMACSHA1_80), string(rtp.ProfileAESCM128HMACSHA1_32)}

// AudioStream is the audio stream of a Session: an RTP session (rtp
// package) negotiated by SDP offer/answer, and a port of the manager's
// mixer that decodes what arrives and encodes what the mixer gives it. By
// default the stream is connected both ways to the sound device (the null
// device when headless); AttachSource and AttachSink connect other ports.
//
// Its methods are safe for concurrent use. The session's audio_*
// attributes read it.
type AudioStream struct {
	sess *Session
	eng  *mediaEngine
	rtp  *rtp.Session
	mode string // SRTP policy: disabled, optional, mandatory
	addr netip.Addr

	mu           sync.Mutex
	started      bool
	closed       bool
	offerCrypto  []sdp.Crypto          // our a=crypto lines in offers (stable keys)
	answerKeys   map[string]sdp.Crypto // our answer key per suite (stable across re-INVITEs)
	codec        codec.Codec
	sendPT       uint8
	sendTE       int // remote telephone-event payload type, -1 when none
	remoteSDP    netip.AddrPort
	srtpActive   bool
	srtpKey      string // key material in use, to update SRTP only on change
	localHold    bool
	remoteHold   bool
	direction    sdp.Direction // the negotiated local direction
	port         *streamPort
	slot         audio.Slot
	devConnected bool
	attached     []attachment
	recName      string
	recorder     *audio.WAVRecorder
	noAudio      *time.Timer
	done         chan struct{}
	wg           sync.WaitGroup
}

type attachment struct {
	slot   audio.Slot
	source bool // connected source -> stream; else stream -> sink
}

func (e *mediaEngine) newAudioStream(s *Session, sipHost string) (*AudioStream, error) {
	addr := e.localAddress(sipHost)
	mode := "disabled"
	if s.account != nil {
		mode = s.account.RTP.SRTP.Get()
	}
	mode = e.srtpMode(mode)
	rs, err := rtp.Open(rtp.Config{
		LocalAddr: addr,
		PortRange: e.cfg.PortRange,
		MinDelay:  e.cfg.JitterMinDelay,
		MaxDelay:  e.cfg.JitterMaxDelay,
		Logger:    s.mgr.log,
		// Nothing is read before Apply has set the payload types and
		// keys: a peer that sends at once loses nothing.
		DeferReceive: true,
	})
	if err != nil {
		return nil, fmt.Errorf("audio stream: %w", err)
	}
	a := &AudioStream{sess: s, eng: e, rtp: rs, mode: mode, addr: addr, sendTE: -1,
		answerKeys: map[string]sdp.Crypto{}, done: make(chan struct{})}
	if mode != "disabled" {
		for i, suite := range srtpSuites {
			c, err := sdp.NewCrypto(i+1, suite)
			if err != nil {
				rs.Close()
				return nil, err
			}
			a.offerCrypto = append(a.offerCrypto, c)
		}
	}
	return a, nil
}

// Kind is "audio".
func (a *AudioStream) Kind() string { return "audio" }

// LocalAddress is the IP address of the stream's RTP socket, as put in SDP.
func (a *AudioStream) LocalAddress() string { return a.addr.String() }

// LocalRTPAddress is the local RTP address and port.
func (a *AudioStream) LocalRTPAddress() netip.AddrPort {
	return netip.AddrPortFrom(a.addr, a.rtp.LocalAddr().Port())
}

// supportedCodecs are our RTP formats: the codec list with static payload
// types, then telephone-event.
func (a *AudioStream) supportedCodecs() []sdp.Codec {
	out := make([]sdp.Codec, 0, len(a.eng.codecs)+1)
	next := 96
	for _, c := range a.eng.codecs {
		pt := c.PayloadType()
		if pt < 0 {
			pt = next
			next++
		}
		out = append(out, sdp.Codec{PayloadType: uint8(pt), Name: c.Name(), ClockRate: uint32(c.ClockRate()), Channels: 1})
	}
	return append(out, sdp.Codec{PayloadType: telephoneEventPT, Name: "telephone-event", ClockRate: 8000, Channels: 1, Fmtp: "0-16"})
}

// Offer returns our m= line for an offer with direction d.
func (a *AudioStream) Offer(d sdp.Direction) (sdp.Media, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return sdp.Media{}, errors.New("audio stream is closed")
	}
	proto := "RTP/AVP"
	if a.mode == "mandatory" {
		proto = "RTP/SAVP"
	}
	m := sdp.Media{Type: "audio", Port: int(a.rtp.LocalAddr().Port()), Proto: proto,
		Codecs: a.supportedCodecs(), Address: a.addr.String(), Direction: d, Ptime: 20}
	if a.mode != "disabled" {
		m.Crypto = append([]sdp.Crypto(nil), a.offerCrypto...)
	}
	return m, nil
}

func isTelephoneEvent(c sdp.Codec) bool { return strings.EqualFold(c.Name, "telephone-event") }

// Answer returns our m= line answering the offered remote stream; an error
// means the stream cannot be accepted (no common codec, SRTP policy).
func (a *AudioStream) Answer(remote sdp.Media, d sdp.Direction) (sdp.Media, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return sdp.Media{}, errors.New("audio stream is closed")
	}
	if remote.Type != "audio" || !remote.IsRTP() {
		return sdp.Media{}, fmt.Errorf("not an RTP audio stream (%s %s)", remote.Type, remote.Proto)
	}
	savp := strings.Contains(strings.ToUpper(remote.Proto), "SAVP")
	if savp && a.mode == "disabled" {
		return sdp.Media{}, errors.New("the offer requires SRTP (RTP/SAVP) and SRTP is disabled")
	}
	local := a.supportedCodecs()
	codecs := sdp.NegotiateCodecs(remote.Codecs, local)
	// Our preference decides the order (python-sipsimple 5.5).
	ordered := make([]sdp.Codec, 0, len(codecs))
	for _, l := range local {
		for _, c := range codecs {
			if l.Matches(c) {
				ordered = append(ordered, c)
				break
			}
		}
	}
	audioCodec := false
	for _, c := range ordered {
		if !isTelephoneEvent(c) {
			audioCodec = true
		}
	}
	if !audioCodec {
		return sdp.Media{}, errors.New("no audio codec in common")
	}
	m := sdp.Media{Type: "audio", Port: int(a.rtp.LocalAddr().Port()), Proto: remote.Proto,
		Codecs: ordered, Address: a.addr.String(), Direction: sdp.AnswerDirection(remote.Direction, d), Ptime: 20}
	if a.mode != "disabled" || savp {
		for _, rc := range remote.Crypto {
			if !supportedSuite(rc.Suite) {
				continue
			}
			if _, _, err := rc.Key(); err != nil {
				continue
			}
			mine, ok := a.answerKeys[rc.Suite]
			if !ok {
				var err error
				if mine, err = sdp.NewCrypto(rc.Tag, rc.Suite); err != nil {
					return sdp.Media{}, err
				}
				a.answerKeys[rc.Suite] = mine
			}
			mine.Tag = rc.Tag
			m.Crypto = []sdp.Crypto{mine}
			break
		}
		if len(m.Crypto) == 0 && (savp || a.mode == "mandatory") {
			return sdp.Media{}, errors.New("no acceptable SRTP crypto suite offered")
		}
	}
	return m, nil
}

func supportedSuite(s string) bool {
	for _, x := range srtpSuites {
		if x == s {
			return true
		}
	}
	return false
}

// Apply starts the stream, or updates it, with the negotiated pair of m=
// lines.
func (a *AudioStream) Apply(local, remote sdp.Media) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return errors.New("audio stream is closed")
	}
	// What we send: the first codec of the remote's list that we have.
	var send codec.Codec
	var sendPT uint8
	sendTE := -1
	for _, c := range remote.Codecs {
		if isTelephoneEvent(c) {
			if c.ClockRate == 8000 && sendTE < 0 {
				sendTE = int(c.PayloadType)
			}
			continue
		}
		if send != nil {
			continue
		}
		if cd, ok := codec.Lookup(c.Name, int(c.ClockRate)); ok && a.hasCodec(cd) {
			send, sendPT = cd, c.PayloadType
		}
	}
	if send == nil {
		return errors.New("audio: no codec in common with the remote")
	}
	// What we receive: our payload types.
	pts := map[uint8]int{}
	decoders := map[uint8]codec.Codec{}
	var recvTE uint8
	for _, c := range local.Codecs {
		if isTelephoneEvent(c) {
			recvTE = c.PayloadType
			pts[c.PayloadType] = int(c.ClockRate)
			continue
		}
		if cd, ok := codec.Lookup(c.Name, int(c.ClockRate)); ok {
			pts[c.PayloadType] = cd.ClockRate()
			decoders[c.PayloadType] = cd
		}
	}
	if err := a.rtp.SetPayloadTypes(pts); err != nil {
		return err
	}
	if recvTE != 0 {
		a.rtp.SetDTMFPayloadType(recvTE)
	}
	// SRTP.
	if err := a.applySRTPLocked(local, remote); err != nil {
		return err
	}
	// Where to send.
	raddr, err := netip.ParseAddr(remote.Address)
	nullAddr := err != nil || raddr.IsUnspecified() // c=0.0.0.0: an old-style hold
	if remote.Port > 65535 || remote.RTCPPort > 65535 || remote.Port < 0 {
		return fmt.Errorf("audio: remote port %d / RTCP port %d out of range", remote.Port, remote.RTCPPort)
	}
	if !nullAddr && remote.Port > 0 {
		rtpAddr := netip.AddrPortFrom(raddr.Unmap(), uint16(remote.Port))
		rtcpPort := remote.Port + 1
		if rtcpPort > 65535 {
			rtcpPort = remote.Port // no room for port+1: assume RTCP multiplexing
		}
		if remote.RTCPPort > 0 {
			rtcpPort = remote.RTCPPort
		}
		rtcpIP := raddr.Unmap()
		if remote.RTCPAddress != "" {
			if ra, err := netip.ParseAddr(remote.RTCPAddress); err == nil {
				rtcpIP = ra.Unmap()
			}
		}
		if rtpAddr != a.remoteSDP {
			if err := a.rtp.SetRemote(rtpAddr, netip.AddrPortFrom(rtcpIP, uint16(rtcpPort))); err != nil {
				return err
			}
			a.remoteSDP = rtpAddr
		}
	}
	a.direction = local.Direction
	if nullAddr {
		a.direction = sdp.RecvOnly
		if !local.Direction.Receives() {
			a.direction = sdp.Inactive
		}
	}
	a.remoteHold = remote.Hold() || nullAddr
	// The mixer port, new when the codec changed.
	if a.port == nil || a.codec != send || a.sendPT != sendPT {
		if err := a.replacePortLocked(send, sendPT, decoders, uint8(recvTE)); err != nil {
			return err
		}
	} else {
		a.port.setDecoders(decoders, recvTE)
	}
	a.codec, a.sendPT, a.sendTE = send, sendPT, sendTE
	a.updateFlowLocked()
	a.rtp.StartReceiving()
	if !a.started {
		a.started = true
		a.wg.Add(1)
		go a.events()
		if d := a.eng.cfg.NoAudioTimeout; d > 0 {
			a.noAudio = time.AfterFunc(d, a.checkNoAudio)
		}
	}
	return nil
}

func (a *AudioStream) hasCodec(c codec.Codec) bool {
	for _, x := range a.eng.codecs {
		if x == c {
			return true
		}
	}
	return false
}

func (a *AudioStream) applySRTPLocked(local, remote sdp.Media) error {
	var lc, rc *sdp.Crypto
	for i := range remote.Crypto {
		for j := range local.Crypto {
			if remote.Crypto[i].Tag == local.Crypto[j].Tag && remote.Crypto[i].Suite == local.Crypto[j].Suite {
				lc, rc = &local.Crypto[j], &remote.Crypto[i]
				break
			}
		}
		if lc != nil {
			break
		}
	}
	if lc == nil {
		if a.mode == "mandatory" || strings.Contains(strings.ToUpper(local.Proto), "SAVP") {
			return errors.New("audio: SRTP is mandatory and no crypto suite was agreed")
		}
		if a.srtpActive {
			if err := a.rtp.UpdateSRTP(nil); err != nil {
				return err
			}
			a.srtpActive, a.srtpKey = false, ""
		}
		return nil
	}
	lk, ls, err := lc.Key()
	if err != nil {
		return fmt.Errorf("audio: local SRTP key: %w", err)
	}
	rk, rs, err := rc.Key()
	if err != nil {
		return fmt.Errorf("audio: remote SRTP key: %w", err)
	}
	id := lc.Suite + "|" + lc.KeyParams + "|" + rc.KeyParams
	if id == a.srtpKey {
		return nil
	}
	if err := a.rtp.UpdateSRTP(&rtp.SRTPConfig{Profile: rtp.Profile(lc.Suite), LocalKey: lk, LocalSalt: ls, RemoteKey: rk, RemoteSalt: rs}); err != nil {
		return fmt.Errorf("audio: SRTP: %w", err)
	}
	a.srtpActive, a.srtpKey = true, id
	return nil
}

// replacePortLocked puts a new mixer port for codec c in place of the old
// one, keeping the stream's connections.
func (a *AudioStream) replacePortLocked(c codec.Codec, pt uint8, decoders map[uint8]codec.Codec, recvTE uint8) error {
	mixer := a.eng.mixer
	p := newStreamPort(a.rtp, c, pt, mixer.Format().FrameDuration)
	p.setDecoders(decoders, recvTE)
	if a.recorder != nil {
		p.recorder.Store(a.recorder)
	}
	slot, err := mixer.Add(p)
	if err != nil {
		return err
	}
	if a.port != nil {
		mixer.Remove(a.slot)
	}
	a.port, a.slot = p, slot
	a.devConnected = false // updateFlowLocked connects it unless on hold
	for _, at := range a.attached {
		if at.source {
			mixer.Connect(at.slot, slot)
		} else {
			mixer.Connect(slot, at.slot)
		}
	}
	return nil
}

// updateFlowLocked derives what the port may do from hold and direction.
func (a *AudioStream) updateFlowLocked() {
	if a.port == nil {
		return
	}
	send := a.direction.Sends() && !a.localHold && !a.remoteHold
	if a.localHold {
		// We hold: we offered sendonly; we keep quiet, the remote hears
		// its own music on hold, if any.
		send = false
	}
	a.port.sending.Store(send)
	a.port.receiving.Store(a.direction.Receives() && !a.localHold)
	a.port.held.Store(a.localHold || a.remoteHold)
	// The device hears the stream only while it is not on hold.
	mixer := a.eng.mixer
	if held := a.localHold || a.remoteHold; held && a.devConnected {
		mixer.Disconnect(a.slot, a.eng.devSlot)
		mixer.Disconnect(a.eng.devSlot, a.slot)
		a.devConnected = false
	} else if !held && !a.devConnected {
		mixer.Connect(a.slot, a.eng.devSlot)
		mixer.Connect(a.eng.devSlot, a.slot)
		a.devConnected = true
	}
}

// SetLocalHold records that we put the stream on hold.
func (a *AudioStream) SetLocalHold(hold bool) {
	a.mu.Lock()
	a.localHold = hold
	a.updateFlowLocked()
	a.mu.Unlock()
}

// SetRemoteHold records that the remote put the stream on hold.
func (a *AudioStream) SetRemoteHold(hold bool) {
	a.mu.Lock()
	a.remoteHold = hold
	a.updateFlowLocked()
	a.mu.Unlock()
}

// Started reports whether the stream was started (Apply) and not closed.
func (a *AudioStream) Started() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.started && !a.closed
}

// Codec is the name of the codec we send ("" before the stream started).
func (a *AudioStream) Codec() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.codec == nil {
		return ""
	}
	return a.codec.Name()
}

// SampleRate is the negotiated codec's sample rate (0 before the start).
func (a *AudioStream) SampleRate() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.codec == nil {
		return 0
	}
	return a.codec.SampleRate()
}

// SRTPActive reports whether SRTP protects the stream.
func (a *AudioStream) SRTPActive() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.srtpActive
}

// RemoteRTPAddressSDP is where the remote's SDP asks us to send.
func (a *AudioStream) RemoteRTPAddressSDP() netip.AddrPort {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.remoteSDP
}

// RemoteRTPAddressReceived is where the remote's audio really comes from
// (invalid until a packet arrived).
func (a *AudioStream) RemoteRTPAddressReceived() netip.AddrPort {
	ap, _ := a.rtp.ReceivedFrom()
	return ap
}

// WasReceived reports whether any audio arrived.
func (a *AudioStream) WasReceived() bool { return !a.rtp.Stats().FirstReceived.IsZero() }

// Received is closed when the first audio packet arrives.
func (a *AudioStream) Received() <-chan struct{} { return a.rtp.FirstPacket() }

// Stats returns the RTP statistics.
func (a *AudioStream) Stats() rtp.Stats { return a.rtp.Stats() }

// Slot is the stream's slot in the manager's mixer; false before the
// stream started or after it ended.
func (a *AudioStream) Slot() (audio.Slot, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.slot, a.port != nil && !a.closed
}

// AttachSource adds src to the mixer and connects it to the stream, so
// the remote hears it (a WAV player, a tone generator). The returned
// function disconnects and removes it. Ports stay attached across codec
// changes.
func (a *AudioStream) AttachSource(src audio.Source) (detach func(), err error) {
	return a.attach(src, true)
}

// AttachSink adds sink to the mixer and connects the stream to it, so it
// hears the remote's audio.
func (a *AudioStream) AttachSink(sink audio.Sink) (detach func(), err error) {
	return a.attach(sink, false)
}

func (a *AudioStream) attach(p audio.Port, source bool) (func(), error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, errors.New("audio stream is closed")
	}
	mixer := a.eng.mixer
	slot, err := mixer.Add(p)
	if err != nil {
		return nil, err
	}
	a.attached = append(a.attached, attachment{slot: slot, source: source})
	if a.port != nil {
		if source {
			mixer.Connect(slot, a.slot)
		} else {
			mixer.Connect(a.slot, slot)
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			a.mu.Lock()
			for i, at := range a.attached {
				if at.slot == slot {
					a.attached = append(a.attached[:i], a.attached[i+1:]...)
					break
				}
			}
			a.mu.Unlock()
			mixer.Remove(slot)
		})
	}, nil
}

// SendDTMF sends digit as an RFC 4733 telephone-event (100 ms).
func (a *AudioStream) SendDTMF(digit rune) error {
	a.mu.Lock()
	te := a.sendTE
	a.mu.Unlock()
	if te < 0 {
		return errors.New("send DTMF: the remote did not accept telephone-event")
	}
	return a.rtp.SendDTMF(digit, 100*time.Millisecond, uint8(te))
}

// StartRecording records the mix of both directions to path (a .wav file
// at the codec's sample rate); nothing is written while on hold.
func (a *AudioStream) StartRecording(path string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed || a.port == nil {
		return errors.New("start recording: the audio stream is not active")
	}
	if a.recorder != nil {
		return fmt.Errorf("start recording: already recording to %s", a.recName)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("start recording: %w", err)
		}
	}
	r, err := audio.CreateWAVRecorder(path, a.codec.SampleRate(), nil)
	if err != nil {
		return fmt.Errorf("start recording: %w", err)
	}
	a.recorder, a.recName = r, path
	a.port.recorder.Store(r)
	return nil
}

// StopRecording stops and finishes the recording.
func (a *AudioStream) StopRecording() error {
	a.mu.Lock()
	r := a.recorder
	a.recorder, a.recName = nil, ""
	if a.port != nil {
		a.port.recorder.Store(nil)
	}
	a.mu.Unlock()
	if r == nil {
		return errors.New("stop recording: nothing is being recorded")
	}
	return r.Close()
}

// RecordingFileName is the file being recorded to ("" when none).
func (a *AudioStream) RecordingFileName() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.recName
}

// Close stops the stream: it leaves the mixer, stops a recording and
// closes the RTP session (sending an RTCP BYE).
func (a *AudioStream) Close() {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.closed = true
	if a.noAudio != nil {
		a.noAudio.Stop()
	}
	slots := []audio.Slot{}
	if a.port != nil {
		slots = append(slots, a.slot)
		a.port.recorder.Store(nil)
	}
	for _, at := range a.attached {
		slots = append(slots, at.slot)
	}
	a.attached = nil
	r := a.recorder
	a.recorder = nil
	close(a.done)
	a.mu.Unlock()
	for _, s := range slots {
		a.eng.mixer.Remove(s)
	}
	if r != nil {
		r.Close()
	}
	a.rtp.Close()
	a.wg.Wait()
}

// events turns RTP events into session notifications.
func (a *AudioStream) events() {
	defer a.wg.Done()
	for {
		select {
		case <-a.done:
			return
		case ev, ok := <-a.rtp.Events():
			if !ok {
				return
			}
			if d, ok := ev.(rtp.DTMFReceived); ok && d.Digit != 0 {
				a.sess.center().Post(GotDTMF, a.sess, DTMFData{Timestamp: now(), Digit: d.Digit})
			}
		}
	}
}

func (a *AudioStream) checkNoAudio() {
	a.mu.Lock()
	closed := a.closed
	a.mu.Unlock()
	if closed || a.WasReceived() {
		return
	}
	a.sess.center().Post(GotNoAudio, a.sess, TimestampData{Timestamp: now()})
}

func (a *AudioStream) String() string {
	return "audio " + a.addr.String() + ":" + strconv.Itoa(int(a.rtp.LocalAddr().Port()))
}

// streamPort is the mixer's view of a stream for one codec: as a Source it
// yields the decoded remote audio, as a Sink it encodes and sends what it
// is given. Its methods run on the mixer's clock and never block: sending
// is a non-blocking UDP write.
type streamPort struct {
	rtp    *rtp.Session
	codec  codec.Codec
	pt     uint8
	rate   int
	clock  int
	frame  int // samples per frame at rate
	enc    codec.Encoder
	decMu  sync.Mutex            // guards decoders (set from Apply, read on the clock)
	codecs map[uint8]codec.Codec // what each payload type decodes with
	decs   map[uint8]codec.Decoder
	recvTE uint8

	sending, receiving, held atomic.Bool
	recorder                 atomic.Pointer[audio.WAVRecorder]

	payload []byte
	pcm     []int16
	rx      []int16
	rxValid bool
	mix     []int16
}

func newStreamPort(rs *rtp.Session, c codec.Codec, pt uint8, frameDur time.Duration) *streamPort {
	rate := c.SampleRate()
	n := audio.SamplesPerFrame(rate, frameDur)
	return &streamPort{rtp: rs, codec: c, pt: pt, rate: rate, clock: c.ClockRate(), frame: n,
		enc: c.NewEncoder(), decs: map[uint8]codec.Decoder{},
		payload: make([]byte, 0, 512), pcm: make([]int16, 0, 4*n), rx: make([]int16, n), mix: make([]int16, n)}
}

func (p *streamPort) setDecoders(m map[uint8]codec.Codec, recvTE uint8) {
	p.decMu.Lock()
	defer p.decMu.Unlock()
	codecs := make(map[uint8]codec.Codec, len(m))
	for pt, c := range m {
		if c.SampleRate() == p.rate {
			codecs[pt] = c
		}
	}
	for pt := range p.decs {
		if c, ok := codecs[pt]; !ok || c != p.codecs[pt] {
			delete(p.decs, pt)
		}
	}
	p.codecs, p.recvTE = codecs, recvTE
}

// decoder returns the decoder of payload type pt, made on its first
// packet (most calls only ever receive one of the codecs offered); decMu
// is held.
func (p *streamPort) decoder(pt uint8) codec.Decoder {
	if d, ok := p.decs[pt]; ok {
		return d
	}
	c, ok := p.codecs[pt]
	if !ok {
		return nil
	}
	d := c.NewDecoder()
	p.decs[pt] = d
	return d
}

// SampleRate implements audio.Port.
func (p *streamPort) SampleRate() int { return p.rate }

// ReadFrame implements audio.Source: the remote's audio for this tick.
func (p *streamPort) ReadFrame(frame []int16) bool {
	p.rxValid = false
	got := 0
	p.decMu.Lock()
	defer p.decMu.Unlock()
	for got < len(frame) {
		r, ok := p.rtp.Pop()
		if !ok {
			break
		}
		if p.recvTE != 0 && r.PayloadType == p.recvTE {
			continue // DTMF arrives as events
		}
		dec := p.decoder(r.PayloadType)
		if dec == nil {
			continue
		}
		out, err := dec.Decode(p.pcm[:0], r.Payload)
		if err != nil {
			continue
		}
		p.pcm = out
		got += copy(frame[got:], out)
	}
	if got == 0 || !p.receiving.Load() {
		return false
	}
	clear(frame[got:])
	copy(p.rx, frame)
	p.rxValid = true
	return true
}

// WriteFrame implements audio.Sink: encode and send what the mixer gives.
func (p *streamPort) WriteFrame(frame []int16) {
	if r := p.recorder.Load(); r != nil && !p.held.Load() {
		if p.rxValid {
			for i, s := range frame {
				p.mix[i] = audio.Saturate(int32(s) + int32(p.rx[i]))
			}
			r.WriteFrame(p.mix)
		} else {
			r.WriteFrame(frame)
		}
	}
	if !p.sending.Load() {
		return
	}
	var err error
	p.payload, err = p.enc.Encode(p.payload[:0], frame)
	if err != nil {
		return
	}
	samples := uint32(len(frame) * p.clock / p.rate)
	p.rtp.WritePayload(rtp.Payload{PayloadType: p.pt, Samples: samples, Data: p.payload})
}
