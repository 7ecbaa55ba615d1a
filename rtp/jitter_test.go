package rtp

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"
)

// --- through a Session, fed by a raw UDP socket ---

func TestJitterReorderDuplicateLoss(t *testing.T) {
	s := open(t, Config{MaxDelay: time.Second})
	peer := newRawPeer(t, s.LocalAddr())
	const ssrc = 0x1234
	// 6 is lost, 3 and 4 swapped, 5 duplicated.
	for _, seq := range []uint16{1, 2, 4, 3, 5, 5, 7, 8} {
		peer.send(0, seq, uint32(seq)*160, ssrc, false, frame(int(seq)))
	}
	var got []uint16
	for range 7 {
		r := read(t, s)
		if !bytes.Equal(r.Payload, frame(int(r.SequenceNumber))) {
			t.Fatalf("seq %d: wrong payload", r.SequenceNumber)
		}
		if r.Timestamp != uint32(r.SequenceNumber)*160 {
			t.Fatalf("seq %d: timestamp %d", r.SequenceNumber, r.Timestamp)
		}
		want := 0
		if r.SequenceNumber == 7 {
			want = 1
		}
		if r.LostBefore != want {
			t.Errorf("seq %d: LostBefore %d, want %d", r.SequenceNumber, r.LostBefore, want)
		}
		got = append(got, r.SequenceNumber)
	}
	if want := []uint16{1, 2, 3, 4, 5, 7, 8}; !equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	st := s.Stats()
	if st.PacketsDuplicate != 1 || st.PacketsLost != 0 || st.PacketsReceived != 8 {
		// A.3: expected 8, received 8 (the duplicate counts): lost 0.
		t.Errorf("duplicate %d lost %d received %d", st.PacketsDuplicate, st.PacketsLost, st.PacketsReceived)
	}

	// 6 arrives after 7 was played: too late. 9 follows, in order.
	peer.send(0, 6, 6*160, ssrc, false, frame(6))
	peer.send(0, 9, 9*160, ssrc, false, frame(9))
	if r := read(t, s); r.SequenceNumber != 9 || r.LostBefore != 0 {
		t.Fatalf("got seq %d lost %d, want 9 lost 0", r.SequenceNumber, r.LostBefore)
	}
	if st := s.Stats(); st.PacketsLate != 1 {
		t.Errorf("PacketsLate %d, want 1", st.PacketsLate)
	}
}

func TestJitterLossCounted(t *testing.T) {
	s := open(t, Config{MaxDelay: time.Second})
	peer := newRawPeer(t, s.LocalAddr())
	for _, seq := range []uint16{10, 11, 14, 15} { // 12, 13 lost
		peer.send(0, seq, uint32(seq)*160, 1, false, frame(int(seq)))
	}
	for _, want := range []struct {
		seq  uint16
		lost int
	}{{10, 0}, {11, 0}, {14, 2}, {15, 0}} {
		r := read(t, s)
		if r.SequenceNumber != want.seq || r.LostBefore != want.lost {
			t.Fatalf("got seq %d lost %d, want %d lost %d", r.SequenceNumber, r.LostBefore, want.seq, want.lost)
		}
	}
	if st := s.Stats(); st.PacketsLost != 2 {
		t.Errorf("PacketsLost %d, want 2", st.PacketsLost)
	}
}

func TestJitterSequenceWrap(t *testing.T) {
	s := open(t, Config{MaxDelay: time.Second})
	peer := newRawPeer(t, s.LocalAddr())
	seqs := []uint16{65532, 65533, 65535, 65534, 0, 2, 1, 3}
	ts := uint32(0xffffff00) // the timestamp wraps too
	for _, seq := range seqs {
		d := uint32(seq - 65532)
		peer.send(0, seq, ts+d*160, 77, false, frame(int(seq)))
	}
	want := []uint16{65532, 65533, 65534, 65535, 0, 1, 2, 3}
	for _, w := range want {
		r := read(t, s)
		if r.SequenceNumber != w || r.LostBefore != 0 {
			t.Fatalf("got seq %d lost %d, want %d", r.SequenceNumber, r.LostBefore, w)
		}
	}
	if st := s.Stats(); st.PacketsLost != 0 || st.PacketsReceived != 8 {
		t.Errorf("lost %d received %d", st.PacketsLost, st.PacketsReceived)
	}
}

func TestJitterSSRCChange(t *testing.T) {
	s := open(t, Config{MaxDelay: time.Second})
	peer := newRawPeer(t, s.LocalAddr())
	for i := range 3 {
		peer.send(0, uint16(100+i), uint32(1000+160*i), 0xaaaa, false, frame(i))
	}
	for i := range 3 {
		if r := read(t, s); r.SSRC != 0xaaaa || r.SequenceNumber != uint16(100+i) {
			t.Fatalf("got %x/%d", r.SSRC, r.SequenceNumber)
		}
	}
	// A new source with unrelated sequence and timestamp (a B2BUA switched
	// media). A single stray packet of another SSRC is held, not played.
	peer.send(0, 9000, 5, 0xcccc, false, frame(99))
	for i := range 3 {
		peer.send(0, uint16(40000+i), uint32(777777+160*i), 0xbbbb, false, frame(10+i))
	}
	for i := range 3 {
		r := read(t, s)
		if r.SSRC != 0xbbbb || r.SequenceNumber != uint16(40000+i) || r.LostBefore != 0 {
			t.Fatalf("got %x/%d lost %d", r.SSRC, r.SequenceNumber, r.LostBefore)
		}
	}
	ev := nextEvent[SSRCChanged](t, s)
	if ev.Old != 0xaaaa || ev.New != 0xbbbb {
		t.Errorf("SSRCChanged %x -> %x", ev.Old, ev.New)
	}
	st := s.Stats()
	if st.RemoteSSRC != 0xbbbb || st.PacketsLost != 0 {
		t.Errorf("RemoteSSRC %x lost %d", st.RemoteSSRC, st.PacketsLost)
	}
}

func TestJitterSequenceRestart(t *testing.T) {
	s := open(t, Config{MaxDelay: time.Second})
	peer := newRawPeer(t, s.LocalAddr())
	peer.send(0, 10, 1600, 5, false, frame(10))
	if r := read(t, s); r.SequenceNumber != 10 {
		t.Fatalf("got %d", r.SequenceNumber)
	}
	// Same SSRC, sequence jumps by 30000: RFC 3550 A.1 drops the first
	// packet and restarts on the second.
	for i := range 3 {
		peer.send(0, uint16(30010+i), uint32(3200+160*i), 5, false, frame(i))
	}
	for _, want := range []uint16{30011, 30012} {
		if r := read(t, s); r.SequenceNumber != want {
			t.Fatalf("got %d, want %d", r.SequenceNumber, want)
		}
	}
}

func TestDisableJitterBuffer(t *testing.T) {
	s := open(t, Config{DisableJitterBuffer: true})
	peer := newRawPeer(t, s.LocalAddr())
	for _, seq := range []uint16{1, 3, 2, 6} {
		peer.send(0, seq, uint32(seq)*160, 1, false, frame(int(seq)))
	}
	var got []uint16
	var lost []int
	for range 4 {
		r := read(t, s)
		got, lost = append(got, r.SequenceNumber), append(lost, r.LostBefore)
	}
	if !equal(got, []uint16{1, 3, 2, 6}) || lost[1] != 1 || lost[3] != 2 {
		t.Fatalf("arrival order %v lost %v", got, lost)
	}
	if d := s.Stats().PlayoutDelay; d != 0 {
		t.Errorf("PlayoutDelay %v with the buffer disabled", d)
	}
}

// TestPopClockedConsumer drives a Session with a 20 ms consumer clock, as
// the mixer does (one Pop per frame), while a raw peer sends a 20 ms
// packet at each tick.
func TestPopClockedConsumer(t *testing.T) {
	s := open(t, Config{})
	peer := newRawPeer(t, s.LocalAddr())
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	const n = 25
	var got []uint16
	accounted, sent, empty := 0, 0, 0
	deadline := time.After(testTimeout)
	for accounted < n {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("got %v", got)
		}
		if sent < n {
			peer.send(0, uint16(sent), uint32(sent)*160, 3, false, frame(sent))
			sent++
		}
		r, ok := s.Pop()
		if !ok {
			empty++
			continue
		}
		got = append(got, r.SequenceNumber)
		accounted += 1 + r.LostBefore
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("out of order: %v", got)
		}
	}
	// Scheduling hiccups (-race on a loaded machine) may cost a frame now
	// and then; a working buffer plays nearly everything.
	if len(got) < n-3 {
		t.Errorf("played %d of %d packets: %v", len(got), n, got)
	}
	// The empty frames are the playout delay at the start (40 ms = 2) plus
	// hiccups.
	if empty < 2 {
		t.Errorf("%d empty frames, want at least the 2 of the playout delay", empty)
	}
	if st := s.Stats(); st.PlayoutDelay < DefaultMinDelay || st.PlayoutDelay > DefaultMaxDelay {
		t.Errorf("PlayoutDelay %v", st.PlayoutDelay)
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// --- the jitter buffer alone, on a simulated clock ---

// sim feeds a jitter buffer with 20 ms PCMU packets on simulated time.
type sim struct {
	jb    *jitterBuffer
	t0    time.Time
	ssrc  uint32
	clock int
}

func newSim(minDelay, maxDelay time.Duration) *sim {
	return &sim{jb: newJitterBuffer(minDelay, maxDelay, 20*time.Millisecond, false),
		t0: time.Unix(1000, 0), clock: 8000}
}

func (s *sim) at(ms float64) time.Time {
	return s.t0.Add(time.Duration(ms * float64(time.Millisecond)))
}

// push delivers packet seq (media time seq*20 ms) at ms.
func (s *sim) push(seq int, ms float64) pushResult {
	r := Received{SequenceNumber: uint16(seq), Timestamp: uint32(seq * 160), Payload: []byte{byte(seq)},
		Arrival: s.at(ms)}
	return s.jb.push(r, uint64(seq), s.clock, false)
}

func TestJitterBufferStartsAfterMinDelay(t *testing.T) {
	s := newSim(40*time.Millisecond, 200*time.Millisecond)
	s.push(0, 0)
	if _, ok, wake := s.jb.pop(s.at(39), true); ok || !wake.Equal(s.at(40)) {
		t.Fatalf("popped before the delay, or wake %v", wake.Sub(s.t0))
	}
	r, ok, _ := s.jb.pop(s.at(40), true)
	if !ok || r.SequenceNumber != 0 {
		t.Fatal("packet not due at 40 ms")
	}
	if _, ok, wake := s.jb.pop(s.at(41), true); ok || !wake.IsZero() {
		t.Fatal("empty buffer returned something")
	}
}

func TestJitterBufferAdaptsToJitter(t *testing.T) {
	s := newSim(20*time.Millisecond, 200*time.Millisecond)
	rng := rand.New(rand.NewPCG(1, 2))
	// 500 packets with up to 60 ms of random extra delay, consumer every
	// 20 ms: after the first window the delay covers the jitter, so
	// nothing is lost or late.
	type arrival struct {
		seq int
		at  float64
	}
	var arrivals []arrival
	for i := range 500 {
		arrivals = append(arrivals, arrival{i, float64(i*20) + rng.Float64()*60})
	}
	// Sort by arrival time (reordering included).
	for i := 1; i < len(arrivals); i++ {
		for j := i; j > 0 && arrivals[j].at < arrivals[j-1].at; j-- {
			arrivals[j], arrivals[j-1] = arrivals[j-1], arrivals[j]
		}
	}
	var played []int
	lostLate := 0
	next := 0
	for tick := 0.0; tick < 500*20+400; tick += 20 {
		for next < len(arrivals) && arrivals[next].at <= tick {
			s.push(arrivals[next].seq, arrivals[next].at)
			next++
		}
		for {
			r, ok, _ := s.jb.pop(s.at(tick), true)
			if !ok {
				break
			}
			if len(played) > 100 {
				lostLate += r.LostBefore
			}
			played = append(played, int(r.SequenceNumber))
		}
	}
	for i := 1; i < len(played); i++ {
		if played[i] <= played[i-1] {
			t.Fatalf("out of order at %d: %v", i, played[i-1:i+1])
		}
	}
	if lostLate != 0 {
		t.Errorf("%d packets lost after the delay adapted", lostLate)
	}
	d := s.jb.currentDelay()
	if d < 50*time.Millisecond || d > 70*time.Millisecond {
		t.Errorf("delay %v, want about the 60 ms spread", d)
	}
}

func TestJitterBufferDelayShrinks(t *testing.T) {
	s := newSim(20*time.Millisecond, 200*time.Millisecond)
	// One 150 ms spike, then a steady stream.
	s.push(0, 0)
	s.push(1, 20+150)
	if d := s.jb.currentDelay(); d != 150*time.Millisecond {
		t.Fatalf("delay %v after the spike, want 150ms", d)
	}
	// The consumer takes one packet per 20 ms frame, as a mixer does.
	for i := 2; i < 1000; i++ {
		s.push(i, float64(i*20))
		s.jb.pop(s.at(float64(i*20)), true)
	}
	if d := s.jb.currentDelay(); d != 20*time.Millisecond {
		t.Errorf("delay %v after 20 s of steady packets, want back to 20ms", d)
	}
	if s.jb.late == 0 {
		t.Error("shrinking the delay dropped no packet")
	}
}

func TestJitterBufferClampsToMax(t *testing.T) {
	s := newSim(20*time.Millisecond, 100*time.Millisecond)
	s.push(0, 0)
	s.push(1, 20+500)
	if d := s.jb.currentDelay(); d != 100*time.Millisecond {
		t.Fatalf("delay %v, want the 100ms maximum", d)
	}
}

func TestJitterBufferLateConsumerSkips(t *testing.T) {
	s := newSim(20*time.Millisecond, 200*time.Millisecond)
	for i := range 10 {
		s.push(i, float64(i*20))
	}
	// A consumer that wakes 200 ms after the last packet was due gets the
	// newest due packet and skips the stale ones, reporting them as lost.
	r, ok, _ := s.jb.pop(s.at(9*20+20+200), true)
	if !ok || r.SequenceNumber != 9 || r.LostBefore != 9 {
		t.Fatalf("got seq %d lost %d", r.SequenceNumber, r.LostBefore)
	}
	if s.jb.late != 9 {
		t.Errorf("late %d, want 9", s.jb.late)
	}
}

// Without catch-up (ReadPayload's reader, which plays nothing out), a
// reader that wakes late gets every packet, in order, none counted lost.
func TestJitterBufferLateReaderGetsAll(t *testing.T) {
	s := newSim(20*time.Millisecond, 200*time.Millisecond)
	for i := range 10 {
		s.push(i, float64(i*20))
	}
	for i := range 10 {
		r, ok, _ := s.jb.pop(s.at(9*20+20+200), false)
		if !ok || int(r.SequenceNumber) != i || r.LostBefore != 0 {
			t.Fatalf("pop %d: ok %v seq %d lost %d", i, ok, r.SequenceNumber, r.LostBefore)
		}
	}
	if s.jb.late != 0 {
		t.Errorf("late %d, want 0", s.jb.late)
	}
}

func TestJitterBufferWaitsForGap(t *testing.T) {
	s := newSim(40*time.Millisecond, 200*time.Millisecond)
	s.push(0, 0)
	s.push(2, 40)
	if r, ok, _ := s.jb.pop(s.at(40), true); !ok || r.SequenceNumber != 0 {
		t.Fatal("0 not played")
	}
	// 1 is due at 60 ms; 2 at 80: until 80 the buffer waits for 1.
	_, ok, wake := s.jb.pop(s.at(60), true)
	if ok || !wake.Equal(s.at(80)) {
		t.Fatalf("pop at 60: ok %v wake %v", ok, wake.Sub(s.t0))
	}
	s.push(1, 70) // late for its slot but before 2 is due: played
	r, ok, _ := s.jb.pop(s.at(70), true)
	if !ok || r.SequenceNumber != 1 || r.LostBefore != 0 {
		t.Fatalf("got seq %d lost %d ok %v", r.SequenceNumber, r.LostBefore, ok)
	}
}

func TestJitterBufferPlaceholders(t *testing.T) {
	s := newSim(20*time.Millisecond, 200*time.Millisecond)
	s.push(0, 0)
	// 1-3 are telephone-event packets: not played, not lost.
	for seq := 1; seq <= 3; seq++ {
		s.jb.push(Received{SequenceNumber: uint16(seq), Arrival: s.at(float64(seq * 20))}, uint64(seq), 8000, true)
	}
	s.push(4, 80)
	var got []uint16
	for ms := 0.0; ms <= 200; ms += 20 {
		for {
			r, ok, _ := s.jb.pop(s.at(ms), true)
			if !ok {
				break
			}
			if r.LostBefore != 0 {
				t.Errorf("seq %d: LostBefore %d", r.SequenceNumber, r.LostBefore)
			}
			got = append(got, r.SequenceNumber)
		}
	}
	if !equal(got, []uint16{0, 4}) {
		t.Fatalf("played %v", got)
	}
}

func TestJitterBufferResyncOnJump(t *testing.T) {
	s := newSim(20*time.Millisecond, 200*time.Millisecond)
	s.push(0, 0)
	s.jb.pop(s.at(20), true)
	if res := s.push(5000, 40); res != pushQueued {
		t.Fatalf("push after a jump: %v", res)
	}
	r, ok, _ := s.jb.pop(s.at(100), true)
	if !ok || r.SequenceNumber != 5000 {
		t.Fatalf("got %d ok %v", r.SequenceNumber, ok)
	}
}

func TestJitterBufferClockRateChange(t *testing.T) {
	s := newSim(20*time.Millisecond, 200*time.Millisecond)
	s.push(0, 0)
	s.push(1, 20)
	s.clock = 48000 // the remote switched to Opus
	s.push(2, 40)
	if s.jb.discarded != 2 {
		t.Errorf("discarded %d, want the 2 packets of the old clock", s.jb.discarded)
	}
	if r, ok, _ := s.jb.pop(s.at(100), true); !ok || r.SequenceNumber != 2 {
		t.Fatalf("got %d ok %v", r.SequenceNumber, ok)
	}
}

func BenchmarkJitterBuffer(b *testing.B) {
	jb := newJitterBuffer(40*time.Millisecond, 200*time.Millisecond, 20*time.Millisecond, false)
	t0 := time.Now()
	payload := make([]byte, 160)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		now := t0.Add(time.Duration(i) * 20 * time.Millisecond)
		jb.push(Received{SequenceNumber: uint16(i), Timestamp: uint32(i * 160), Payload: payload, Arrival: now},
			uint64(i), 8000, false)
		jb.pop(now, true)
	}
}
