package rtp

import (
	"github.com/sipsimple-go/sipsimple/internal/corpus"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pionrtp "github.com/pion/rtp"
)

const tePT = 101

func TestDTMFRoundTrip(t *testing.T) {
	cfg := Config{DTMFPayloadType: tePT, MaxDelay: time.Second}
	a, b := pair(t, cfg, cfg)
	const digits = "0123456789*#ABCD"
	start := time.Now()
	for _, d := range digits {
		if err := a.SendDTMF(d, 40*time.Millisecond, tePT); err != nil {
			t.Fatal(err)
		}
	}
	// Sending them takes 16 × 80 ms; queueing must not.
	if el := time.Since(start); el > time.Second {
		t.Errorf("queueing 16 digits took %v: SendDTMF blocks", el)
	}
	var lastTS uint32
	for i, want := range digits {
		ev := nextEvent[DTMFReceived](t, b)
		code, _ := DigitEvent(want)
		if ev.Digit != want || ev.Event != code || ev.SSRC != a.SSRC() || ev.End || ev.Volume != dtmfVolume {
			t.Fatalf("event %d: %+v, want digit %q", i, ev, want)
		}
		if i > 0 && int32(ev.Timestamp-lastTS) < 320 {
			t.Errorf("event %d: timestamp %d not after the previous event (%d) and its duration", i, ev.Timestamp, lastTS)
		}
		lastTS = ev.Timestamp
	}
	// 40 ms at 20 ms ptime: durations 160, 320 (E) and two more E packets.
	const perDigit = 4
	eventually(t, "all DTMF packets", func() bool {
		return b.Stats().PacketsReceived == perDigit*uint64(len(digits))
	})
	// Each digit exactly once.
	for {
		select {
		case ev := <-b.Events():
			if d, ok := ev.(DTMFReceived); ok {
				t.Fatalf("digit %q reported again", d.Digit)
			}
			continue
		default:
		}
		break
	}
	// Audio after the events: timestamp past the last event, and the
	// events' sequence numbers are not taken for losses.
	if err := a.WritePayload(Payload{Samples: 160, Data: frame(1)}); err != nil {
		t.Fatal(err)
	}
	r := read(t, b)
	if r.LostBefore != 0 || r.PayloadType != 0 {
		t.Errorf("audio after DTMF: PT %d LostBefore %d", r.PayloadType, r.LostBefore)
	}
	if int32(r.Timestamp-lastTS) < 4*160 {
		t.Errorf("audio timestamp %d overlaps the last event at %d", r.Timestamp, lastTS)
	}
	if st := b.Stats(); st.PacketsLost != 0 || st.Jitter > 10*time.Millisecond {
		t.Errorf("lost %d jitter %v", st.PacketsLost, st.Jitter)
	}
}

// TestSendDTMFPackets checks the packets of one event on the wire.
func TestSendDTMFPackets(t *testing.T) {
	s := open(t, Config{PayloadTypes: map[uint8]int{0: 8000, tePT: 8000}})
	peer := newRawPeer(t, s.LocalAddr())
	if err := s.SetRemote(peer.addr(), rtcpSink(t)); err != nil {
		t.Fatal(err)
	}
	// Some audio first.
	if err := s.WritePayload(Payload{Samples: 160, Data: frame(0)}); err != nil {
		t.Fatal(err)
	}
	audio := peer.recv()
	sentAt := time.Now()
	if err := s.SendDTMF('5', 100*time.Millisecond, tePT); err != nil {
		t.Fatal(err)
	}
	var pkts []*pionrtp.Packet
	for range 7 {
		pkts = append(pkts, peer.recv())
		if len(pkts) == 1 {
			// While the event is being sent, audio is suppressed.
			if err := s.WritePayload(Payload{Samples: 160, Data: frame(1)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	wantDur := []uint16{160, 320, 480, 640, 800, 800, 800}
	for i, p := range pkts {
		te, err := ParseTelephoneEvent(p.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if p.PayloadType != tePT || p.SSRC != audio.SSRC || p.SequenceNumber != audio.SequenceNumber+1+uint16(i) ||
			p.Timestamp != audio.Timestamp+160 || p.Marker != (i == 0) {
			t.Errorf("packet %d: %v", i, p.Header)
		}
		if te.Event != 5 || te.Volume != dtmfVolume || te.Duration != wantDur[i] || te.End != (i >= 4) {
			t.Errorf("packet %d: %+v, want duration %d end %v", i, te, wantDur[i], i >= 4)
		}
	}
	// Paced every 20 ms: the seventh packet leaves 120 ms after the first
	// at the earliest (timers never fire early; a late one only delays).
	if el := time.Since(sentAt); el < 120*time.Millisecond {
		t.Errorf("7 packets in %v: not paced every 20 ms", el)
	}
	// Audio resumes after the event, its timestamp past the event.
	if err := s.WritePayload(Payload{Samples: 160, Data: frame(2)}); err != nil {
		t.Fatal(err)
	}
	next := peer.recv()
	if next.PayloadType != 0 || int32(next.Timestamp-pkts[0].Timestamp) < 800 {
		t.Errorf("audio after DTMF: PT %d ts %d (event at %d)", next.PayloadType, next.Timestamp, pkts[0].Timestamp)
	}
	if st := s.Stats(); st.PacketsSuppressed != 1 {
		t.Errorf("PacketsSuppressed %d, want 1", st.PacketsSuppressed)
	}
}

func TestDTMFReceiveDedupe(t *testing.T) {
	s := open(t, Config{DTMFPayloadType: tePT})
	peer := newRawPeer(t, s.LocalAddr())
	const ssrc = 0xd7
	seq := uint16(1)
	send := func(ts uint32, ev uint8, end bool, dur uint16, marker bool) {
		peer.send(tePT, seq, ts, ssrc, marker, TelephoneEvent{Event: ev, End: end, Volume: 10, Duration: dur}.AppendTo(nil))
		seq++
	}
	// '1': start, updates (one retransmitted), three end packets.
	send(1000, 1, false, 160, true)
	send(1000, 1, false, 320, false)
	send(1000, 1, false, 320, false)
	send(1000, 1, true, 480, false)
	send(1000, 1, true, 480, false)
	send(1000, 1, true, 480, false)
	// '#': start and end.
	send(2000, 11, false, 160, true)
	send(2000, 11, true, 320, false)
	// A late retransmission of the end of '1'.
	send(1000, 1, true, 480, false)
	send(2000, 11, true, 320, false)
	// '9' whose start packets were lost: first seen with the E bit.
	send(3000, 9, true, 800, false)
	send(3000, 9, true, 800, false)
	// Flash (event 16) is reported with its code.
	send(4000, 16, false, 160, true)

	want := []struct {
		digit rune
		event uint8
		end   bool
		ts    uint32
	}{{'1', 1, false, 1000}, {'#', 11, false, 2000}, {'9', 9, true, 3000}, {0, 16, false, 4000}}
	for _, w := range want {
		ev := nextEvent[DTMFReceived](t, s)
		if ev.Digit != w.digit || ev.Event != w.event || ev.End != w.end || ev.Timestamp != w.ts || ev.SSRC != ssrc {
			t.Fatalf("got %+v, want %+v", ev, w)
		}
	}
	eventually(t, "all packets", func() bool { return s.Stats().PacketsReceived == uint64(seq-1) })
	select {
	case ev := <-s.Events():
		t.Fatalf("extra event %+v", ev)
	default:
	}
	// Telephone-event packets are not audio.
	peer.send(0, seq, 5000, ssrc, false, frame(0))
	if r := read(t, s); r.PayloadType != 0 || r.SequenceNumber != seq {
		t.Fatalf("got PT %d seq %d", r.PayloadType, r.SequenceNumber)
	}
}

func TestSetDTMFPayloadType(t *testing.T) {
	s := open(t, Config{})
	peer := newRawPeer(t, s.LocalAddr())
	ev := TelephoneEvent{Event: 3, Duration: 160}.AppendTo(nil)
	// Without a telephone-event type and with every PT accepted, the
	// packet is handed out as a payload.
	peer.send(tePT, 1, 100, 1, true, ev)
	if r := read(t, s); r.PayloadType != tePT {
		t.Fatalf("PT %d", r.PayloadType)
	}
	if err := s.SetDTMFPayloadType(tePT); err != nil {
		t.Fatal(err)
	}
	peer.send(tePT, 2, 500, 1, true, ev)
	if d := nextEvent[DTMFReceived](t, s); d.Digit != '3' {
		t.Fatalf("digit %q", d.Digit)
	}
	if err := s.SetDTMFPayloadType(128); err == nil || !strings.Contains(err.Error(), "128") {
		t.Errorf("SetDTMFPayloadType(128): %v", err)
	}
}

func TestSendDTMFInvalid(t *testing.T) {
	s := open(t, Config{})
	if err := s.SetRemote(rtcpSink(t), rtcpSink(t)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		digit rune
		dur   time.Duration
		pt    uint8
		want  string
	}{
		{'X', 100 * time.Millisecond, tePT, `'X'`},
		{'E', 100 * time.Millisecond, tePT, `'E'`},
		{'!', 100 * time.Millisecond, tePT, `'!'`},
		{'1', 0, tePT, "duration 0s"},
		{'1', -time.Second, tePT, "duration -1s"},
		{'1', 9 * time.Second, tePT, "duration 9s exceeds"},
		{'1', time.Second, 200, "payload type 200"},
	} {
		err := s.SendDTMF(tc.digit, tc.dur, tc.pt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SendDTMF(%q, %v, %d): %v, want error containing %s", tc.digit, tc.dur, tc.pt, err, tc.want)
		}
	}
	for _, d := range "0123456789*#ABCDabcd" {
		if _, ok := DigitEvent(d); !ok {
			t.Errorf("digit %q refused", d)
		}
	}
}

func TestDTMFQueueAndCloseMidEvent(t *testing.T) {
	s, err := Open(Config{LocalAddr: loopback4})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	peer := newRawPeer(t, s.LocalAddr())
	if err := s.SetRemote(peer.addr(), rtcpSink(t)); err != nil {
		t.Fatal(err)
	}
	var full error
	for range dtmfQueueSize + 5 {
		if err := s.SendDTMF('7', time.Second, tePT); err != nil {
			full = err
			break
		}
	}
	if full == nil || !strings.Contains(full.Error(), "queue full") {
		t.Fatalf("queueing %d digits: %v", dtmfQueueSize+5, full)
	}
	first := peer.recv()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Close ended the event in progress with three end packets.
	ends := 0
	for ends < dtmfEndPackets {
		p := peer.recv()
		te, err := ParseTelephoneEvent(p.Payload)
		if err != nil || p.Timestamp != first.Timestamp {
			t.Fatalf("packet %v %+v: %v", p.Header, te, err)
		}
		if te.End {
			ends++
		} else if ends > 0 {
			t.Fatal("update after an end packet")
		}
	}
}

// TestRFC4733Corpus parses the telephone-event packet of RFC 4733
// Figure 3 and receives it.
func TestRFC4733Corpus(t *testing.T) {
	dir := corpus.Dir(t, "rtp")
	b, err := os.ReadFile(filepath.Join(dir, "rfc4733-fig3-event-packet.bin"))
	if err != nil {
		t.Fatal(err)
	}
	var p pionrtp.Packet
	if err := p.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	if p.PayloadType != 100 || p.SequenceNumber != 18 || p.Timestamp != 11200 || p.SSRC != 0x5234a8 || p.Marker {
		t.Fatalf("header %v", p.Header)
	}
	te, err := ParseTelephoneEvent(p.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if want := (TelephoneEvent{Event: 1, End: true, Volume: 20, Duration: 1760}); te != want {
		t.Fatalf("event %+v, want %+v", te, want)
	}
	if got := te.AppendTo(nil); string(got) != string(p.Payload) {
		t.Errorf("re-encoded % x, want % x", got, p.Payload)
	}

	s := open(t, Config{DTMFPayloadType: 100})
	newRawPeer(t, s.LocalAddr()).sendRaw(b)
	ev := nextEvent[DTMFReceived](t, s)
	if ev.Digit != '1' || !ev.End || ev.Volume != 20 || ev.Timestamp != 11200 || ev.SSRC != 0x5234a8 {
		t.Errorf("received %+v", ev)
	}
}

func TestTelephoneEventParse(t *testing.T) {
	if _, err := ParseTelephoneEvent([]byte{1, 2, 3}); err == nil || !strings.Contains(err.Error(), "3 bytes") {
		t.Errorf("short payload: %v", err)
	}
	for code := range uint8(16) {
		d := EventDigit(code)
		if c, ok := DigitEvent(d); !ok || c != code {
			t.Errorf("event %d -> %q -> %d", code, d, c)
		}
	}
	if EventDigit(16) != 0 {
		t.Error("event 16 has a digit")
	}
}
