package rtp

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestOpenAnyPortIsEven(t *testing.T) {
	for range 5 {
		s := open(t, Config{})
		la := s.LocalAddr()
		if la.Port()%2 != 0 {
			t.Fatalf("RTP port %d is odd", la.Port())
		}
		if la.Addr() != loopback4 {
			t.Fatalf("LocalAddr %v, want on %v", la, loopback4)
		}
		if got := s.LocalRTCPAddr().Port(); got != la.Port()+1 {
			t.Fatalf("RTCP port %d, want %d", got, la.Port()+1)
		}
	}
}

func TestOpenPortRangeSkipsPortsInUse(t *testing.T) {
	first := open(t, Config{})
	p := first.LocalAddr().Port()
	if p > 65530 {
		t.Skipf("port %d too close to the top", p)
	}
	// p and p+1 are taken: a range [p, p+3] must yield p+2.
	probe, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback4, p+2)))
	if err != nil {
		t.Skipf("port %d busy: %v", p+2, err)
	}
	probe.Close()
	s := open(t, Config{PortRange: PortRange{Min: p, Max: p + 3}})
	if got := s.LocalAddr().Port(); got != p+2 {
		t.Fatalf("port %d, want %d", got, p+2)
	}
	// Now the whole range is taken.
	_, err = Open(Config{LocalAddr: loopback4, PortRange: PortRange{Min: p, Max: p + 3}})
	if err == nil || !strings.Contains(err.Error(), PortRange{p, p + 3}.String()) {
		t.Fatalf("Open on a full range: err %v, want one naming the range", err)
	}
}

func TestOpenPortRangeOddBounds(t *testing.T) {
	first := open(t, Config{})
	p := first.LocalAddr().Port()
	first.Close()
	// [p-1, p+1]: the only even port with its RTCP port inside is p.
	s, err := Open(Config{LocalAddr: loopback4, PortRange: PortRange{Min: p - 1, Max: p + 1}})
	if err != nil {
		t.Skipf("port %d reused meanwhile: %v", p, err)
	}
	defer s.Close()
	if got := s.LocalAddr().Port(); got != p {
		t.Fatalf("port %d, want %d", got, p)
	}
}

func TestOpenInvalidConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{PortRange: PortRange{Min: 50010, Max: 50000}}, "50010-50000"},
		{Config{PortRange: PortRange{Min: 50001, Max: 50002}}, "50001-50002"},
		{Config{PortRange: PortRange{Min: 0, Max: 50}}, "0-50"},
		{Config{PayloadTypes: map[uint8]int{200: 8000}}, "payload type 200"},
		{Config{PayloadTypes: map[uint8]int{0: 0}}, "clock rate 0"},
		{Config{DTMFPayloadType: 130}, "DTMF payload type 130"},
		{Config{MinDelay: 300 * time.Millisecond, MaxDelay: 100 * time.Millisecond}, "300ms exceeds maximum 100ms"},
		{Config{PTime: -time.Millisecond}, "ptime -1ms"},
		{Config{SRTP: &SRTPConfig{Profile: "NOPE"}}, `"NOPE"`},
		{Config{SRTP: &SRTPConfig{LocalKey: make([]byte, 3)}}, "local key is 3 bytes"},
		{Config{LocalAddr: netip.MustParseAddr("192.0.2.1")}, "192.0.2.1"},
	} {
		if tc.cfg.LocalAddr == (netip.Addr{}) {
			tc.cfg.LocalAddr = loopback4
		}
		s, err := Open(tc.cfg)
		if err == nil {
			s.Close()
			t.Errorf("Open(%+v) succeeded", tc.cfg)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%+v): error %q does not name %q", tc.cfg, err, tc.want)
		}
	}
}

func TestSetRemoteErrors(t *testing.T) {
	s := open(t, Config{})
	for _, tc := range []struct {
		rtp  netip.AddrPort
		want string
	}{
		{netip.AddrPort{}, "not valid"},
		{netip.MustParseAddrPort("127.0.0.1:0"), "port 0"},
		{netip.MustParseAddrPort("0.0.0.0:4000"), "unspecified"},
		{netip.MustParseAddrPort("[::1]:4000"), "IPv6 but the session is bound to IPv4"},
		{netip.MustParseAddrPort("127.0.0.1:65535"), "port+1"},
	} {
		err := s.SetRemote(tc.rtp, netip.AddrPort{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SetRemote(%v): %v, want error containing %q", tc.rtp, err, tc.want)
		}
	}
	if err := s.WritePayload(Payload{Data: []byte{1}}); !errors.Is(err, ErrNoRemote) {
		t.Errorf("WritePayload without remote: %v, want ErrNoRemote", err)
	}
	if err := s.WritePayload(Payload{PayloadType: 128}); err == nil || !strings.Contains(err.Error(), "128") {
		t.Errorf("WritePayload PT 128: %v", err)
	}
	if err := s.WritePayload(Payload{Data: make([]byte, MaxPayloadSize+1)}); err == nil ||
		!strings.Contains(err.Error(), "1401") {
		t.Errorf("WritePayload oversize: %v", err)
	}
	rtp, rtcp := netip.MustParseAddrPort("127.0.0.1:4000"), netip.MustParseAddrPort("127.0.0.1:5555")
	if err := s.SetRemote(rtp, rtcp); err != nil {
		t.Fatal(err)
	}
	if gr, gc := s.Remote(); gr != rtp || gc != rtcp {
		t.Errorf("Remote() = %v, %v", gr, gc)
	}
	if err := s.SetRemote(rtp, netip.AddrPort{}); err != nil {
		t.Fatal(err)
	}
	if _, gc := s.Remote(); gc.Port() != 4001 {
		t.Errorf("default RTCP port %d, want 4001", gc.Port())
	}
}

// exchange sends n frames each way and checks what arrives.
func exchange(t *testing.T, a, b *Session, n int) {
	t.Helper()
	for _, dir := range []struct {
		name     string
		from, to *Session
	}{{"a->b", a, b}, {"b->a", b, a}} {
		first := uint16(0)
		for i := range n {
			if err := dir.from.WritePayload(Payload{PayloadType: 0, Samples: 160, Marker: i == 0, Data: frame(i)}); err != nil {
				t.Fatalf("%s: WritePayload %d: %v", dir.name, i, err)
			}
		}
		for i := range n {
			r := read(t, dir.to)
			if i == 0 {
				first = r.SequenceNumber
				if !r.Marker {
					t.Errorf("%s: first packet without marker", dir.name)
				}
			}
			if r.SequenceNumber != first+uint16(i) || r.LostBefore != 0 || r.PayloadType != 0 ||
				r.SSRC != dir.from.SSRC() || !bytes.Equal(r.Payload, frame(i)) {
				t.Fatalf("%s: packet %d: seq %d (first %d) lost %d pt %d ssrc %x payload ok %v", dir.name, i,
					r.SequenceNumber, first, r.LostBefore, r.PayloadType, r.SSRC, bytes.Equal(r.Payload, frame(i)))
			}
		}
	}
}

func TestPlainExchange(t *testing.T) {
	// No jitter buffer: see TestSRTPExchange.
	a, b := pair(t, Config{DisableJitterBuffer: true}, Config{DisableJitterBuffer: true})
	exchange(t, a, b, 20)
	sa, sb := a.Stats(), b.Stats()
	if sa.PacketsSent != 20 || sa.BytesSent != 20*160 || sb.PacketsReceived != 20 || sb.BytesReceived != 20*160 {
		t.Errorf("counters: a sent %d/%d, b received %d/%d", sa.PacketsSent, sa.BytesSent, sb.PacketsReceived, sb.BytesReceived)
	}
	if sb.PacketsLost != 0 || sb.PacketsDuplicate != 0 || sb.PacketsLate != 0 || sb.AuthFailures != 0 {
		t.Errorf("b: %+v", sb)
	}
	if sb.RemoteSSRC != a.SSRC() || sa.RemoteSSRC != b.SSRC() {
		t.Errorf("RemoteSSRC %x/%x, want %x/%x", sb.RemoteSSRC, sa.RemoteSSRC, a.SSRC(), b.SSRC())
	}
	if sb.FirstReceived.IsZero() || sb.LastReceived.Before(sb.FirstReceived) {
		t.Errorf("FirstReceived %v LastReceived %v", sb.FirstReceived, sb.LastReceived)
	}
	if from, ok := b.ReceivedFrom(); !ok || from != a.LocalAddr() {
		t.Errorf("ReceivedFrom = %v, %v; want %v", from, ok, a.LocalAddr())
	}
	select {
	case <-b.FirstPacket():
	default:
		t.Error("FirstPacket not closed")
	}
	ev := nextEvent[FirstPacketReceived](t, b)
	if ev.From != a.LocalAddr() || ev.SSRC != a.SSRC() {
		t.Errorf("FirstPacketReceived %+v", ev)
	}
}

func TestIPv6(t *testing.T) {
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	c.Close()
	cfg := Config{LocalAddr: netip.IPv6Loopback(), MaxDelay: time.Second}
	a, b := pair(t, cfg, cfg)
	if !a.LocalAddr().Addr().Is6() {
		t.Fatalf("LocalAddr %v not IPv6", a.LocalAddr())
	}
	exchange(t, a, b, 10)
	if from, _ := b.ReceivedFrom(); from != a.LocalAddr() {
		t.Errorf("ReceivedFrom %v, want %v", from, a.LocalAddr())
	}
	if err := a.SetRemote(netip.MustParseAddrPort("127.0.0.1:4000"), netip.AddrPort{}); err == nil {
		t.Error("IPv4 remote accepted on an IPv6 session")
	}
}

func TestDualStackUnspecified(t *testing.T) {
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	c.Close()
	s := open(t, Config{LocalAddr: netip.IPv6Unspecified()})
	peer := newRawPeer(t, netip.AddrPortFrom(loopback4, s.LocalAddr().Port()))
	if err := s.SetRemote(peer.addr(), netip.AddrPort{}); err != nil {
		t.Fatal(err)
	}
	if err := s.WritePayload(Payload{Samples: 160, Data: frame(1)}); err != nil {
		t.Fatal(err)
	}
	if p := peer.recv(); !bytes.Equal(p.Payload, frame(1)) {
		t.Fatal("payload mismatch")
	}
}

func TestPayloadTypeFilter(t *testing.T) {
	s := open(t, Config{PayloadTypes: map[uint8]int{8: 8000}, MaxDelay: time.Second})
	peer := newRawPeer(t, s.LocalAddr())
	peer.send(0, 1, 0, 7, false, frame(1)) // PCMU: not accepted
	peer.sendRaw([]byte{1, 2, 3})          // garbage
	peer.sendRaw(make([]byte, 20))         // version 0
	peer.send(8, 2, 160, 7, false, frame(2))
	r := read(t, s)
	if r.PayloadType != 8 || r.SequenceNumber != 2 {
		t.Fatalf("got PT %d seq %d", r.PayloadType, r.SequenceNumber)
	}
	st := s.Stats()
	if st.PacketsIgnored != 1 || st.PacketsInvalid != 2 || st.PacketsReceived != 1 {
		t.Errorf("ignored %d invalid %d received %d", st.PacketsIgnored, st.PacketsInvalid, st.PacketsReceived)
	}
	// Accepting PCMU later (re-INVITE).
	if err := s.SetPayloadTypes(map[uint8]int{0: 8000, 8: 8000}); err != nil {
		t.Fatal(err)
	}
	peer.send(0, 3, 320, 7, false, frame(3))
	if r := read(t, s); r.PayloadType != 0 || r.SequenceNumber != 3 {
		t.Fatalf("got PT %d seq %d", r.PayloadType, r.SequenceNumber)
	}
	if err := s.SetPayloadTypes(map[uint8]int{0: -1}); err == nil || !strings.Contains(err.Error(), "clock rate -1") {
		t.Errorf("SetPayloadTypes invalid: %v", err)
	}
}

func TestPaddingRemoved(t *testing.T) {
	s := open(t, Config{})
	peer := newRawPeer(t, s.LocalAddr())
	// V=2 P=1, PT 0, seq 1, ts 0, SSRC 9, payload "abc" + 3 bytes padding.
	pkt := []byte{0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 'a', 'b', 'c', 0, 0, 3}
	peer.sendRaw(pkt)
	if r := read(t, s); string(r.Payload) != "abc" {
		t.Fatalf("payload %q, want abc", r.Payload)
	}
}

func TestCloseStopsEverything(t *testing.T) {
	a, b := pair(t, Config{}, Config{})
	done := make(chan error, 1)
	go func() {
		_, err := a.ReadPayload(ctxTimeout(t, testTimeout))
		done <- err
	}()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Errorf("ReadPayload after Close: %v, want ErrClosed", err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := a.WritePayload(Payload{Data: []byte{1}}); !errors.Is(err, ErrClosed) {
		t.Errorf("WritePayload after Close: %v", err)
	}
	if err := a.SendDTMF('1', 100*time.Millisecond, 101); !errors.Is(err, ErrClosed) {
		t.Errorf("SendDTMF after Close: %v", err)
	}
	for range a.Events() {
		// drained and closed
	}
	if _, ok := a.Pop(); ok {
		t.Error("Pop after Close returned a packet")
	}
	// b got a BYE from a's Close.
	ev := nextEvent[ByeReceived](t, b)
	if ev.SSRC != a.SSRC() {
		t.Errorf("BYE from %x, want %x", ev.SSRC, a.SSRC())
	}
}

func TestEventsBoundedWhenNotRead(t *testing.T) {
	s := open(t, Config{DTMFPayloadType: 101})
	peer := newRawPeer(t, s.LocalAddr())
	// 100 distinct events, never read: the channel fills, the rest are
	// dropped and counted, reception goes on.
	for i := range 100 {
		peer.send(101, uint16(i), uint32(i*800), 5, true, TelephoneEvent{Event: 1, Duration: 160}.AppendTo(nil))
	}
	peer.send(0, 100, 80000, 5, false, frame(0))
	eventually(t, "packets received", func() bool { return s.Stats().PacketsReceived == 101 })
	// 100 DTMF events, the first packet, and the comedia latch onto the
	// peer (s has no signalled remote).
	if st := s.Stats(); st.EventsDropped != 100+2-eventQueueSize {
		t.Errorf("EventsDropped %d", st.EventsDropped)
	}
}

// With DeferReceive nothing is read before StartReceiving; what arrived in
// between is then read in order, none of it lost.
func TestDeferReceive(t *testing.T) {
	a, b := pair(t, Config{MaxDelay: time.Second}, Config{MaxDelay: time.Second, DeferReceive: true})
	for i := range 5 {
		if err := a.WritePayload(Payload{PayloadType: 0, Samples: 160, Marker: i == 0, Data: frame(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if st := b.Stats(); st.PacketsReceived != 0 {
		t.Fatalf("received %d packets before StartReceiving", st.PacketsReceived)
	}
	b.StartReceiving()
	b.StartReceiving() // a second call does nothing
	var first uint16
	for i := range 5 {
		r := read(t, b)
		if i == 0 {
			first = r.SequenceNumber
		}
		if r.SequenceNumber != first+uint16(i) || r.LostBefore != 0 {
			t.Fatalf("packet %d: %+v", i, r)
		}
	}
	// A session closed before it received ends its goroutines (goleak).
	c := open(t, Config{DeferReceive: true})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}
