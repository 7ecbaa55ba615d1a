package rtp

import (
	"bytes"
	"net/netip"
	"testing"
)

// TestSymmetricRTPLatches: the remote is signalled at one port (a decoy),
// its packets really come from another; after three in-sequence packets
// the replies go to the real one.
func TestSymmetricRTPLatches(t *testing.T) {
	s := open(t, Config{})
	decoy := newRawPeer(t, s.LocalAddr())
	real := newRawPeer(t, s.LocalAddr())
	if err := s.SetRemote(decoy.addr(), rtcpSink(t)); err != nil {
		t.Fatal(err)
	}
	if err := s.WritePayload(Payload{Samples: 160, Data: frame(0)}); err != nil {
		t.Fatal(err)
	}
	if p := decoy.recv(); !bytes.Equal(p.Payload, frame(0)) {
		t.Fatal("first packet did not go to the signalled address")
	}

	for i := range 3 {
		real.send(0, uint16(10+i), uint32(160*i), 42, false, frame(i))
	}
	ev := nextEvent[RemoteSourceChanged](t, s)
	if ev.From != decoy.addr() || ev.To != real.addr() || ev.RTCP {
		t.Fatalf("RemoteSourceChanged %+v, want %v -> %v", ev, decoy.addr(), real.addr())
	}
	if from, ok := s.ReceivedFrom(); !ok || from != real.addr() {
		t.Fatalf("ReceivedFrom %v %v, want %v", from, ok, real.addr())
	}
	if rtp, _ := s.Remote(); rtp != real.addr() {
		t.Fatalf("Remote() %v, want %v", rtp, real.addr())
	}
	if err := s.WritePayload(Payload{Samples: 160, Data: frame(1)}); err != nil {
		t.Fatal(err)
	}
	if p := real.recv(); !bytes.Equal(p.Payload, frame(1)) {
		t.Fatal("reply did not go to the real source")
	}

	// A single stray packet from a third address does not hijack the stream.
	stray := newRawPeer(t, s.LocalAddr())
	stray.send(0, 500, 99999, 42, false, frame(9))
	before := s.Stats().PacketsReceived
	real.send(0, 13, 3*160, 42, false, frame(3))
	eventually(t, "both packets received", func() bool { return s.Stats().PacketsReceived >= before+1 })
	if rtp, _ := s.Remote(); rtp != real.addr() {
		t.Fatalf("a stray packet moved the destination to %v", rtp)
	}

	// A new SetRemote (re-INVITE) forgets the latch.
	if err := s.SetRemote(decoy.addr(), netip.AddrPort{}); err != nil {
		t.Fatal(err)
	}
	if rtp, _ := s.Remote(); rtp != decoy.addr() {
		t.Fatalf("after SetRemote, Remote() %v", rtp)
	}
}

func TestSymmetricOff(t *testing.T) {
	s := open(t, Config{Symmetric: SymmetricOff})
	decoy := newRawPeer(t, s.LocalAddr())
	real := newRawPeer(t, s.LocalAddr())
	if err := s.SetRemote(decoy.addr(), rtcpSink(t)); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		real.send(0, uint16(i), uint32(160*i), 42, false, frame(i))
	}
	eventually(t, "packets received", func() bool { return s.Stats().PacketsReceived == 5 })
	if from, _ := s.ReceivedFrom(); from != real.addr() {
		t.Errorf("ReceivedFrom %v, want %v", from, real.addr())
	}
	if err := s.WritePayload(Payload{Samples: 160, Data: frame(7)}); err != nil {
		t.Fatal(err)
	}
	if p := decoy.recv(); !bytes.Equal(p.Payload, frame(7)) {
		t.Fatal("packet did not go to the signalled address")
	}
}

// TestSymmetricSRTPLatchesAtOnce: an authenticated packet is proof enough.
func TestSymmetricSRTPLatchesAtOnce(t *testing.T) {
	ca, cb := srtpPair(ProfileAESCM128HMACSHA1_80)
	a, b := open(t, Config{SRTP: ca}), open(t, Config{SRTP: cb})
	decoy := newRawPeer(t, b.LocalAddr())
	if err := a.SetRemote(b.LocalAddr(), netip.AddrPort{}); err != nil {
		t.Fatal(err)
	}
	if err := b.SetRemote(decoy.addr(), rtcpSink(t)); err != nil {
		t.Fatal(err)
	}
	if err := a.WritePayload(Payload{Samples: 160, Data: frame(0)}); err != nil {
		t.Fatal(err)
	}
	ev := nextEvent[RemoteSourceChanged](t, b)
	if ev.To != a.LocalAddr() {
		t.Fatalf("latched to %v, want %v", ev.To, a.LocalAddr())
	}
	if err := b.WritePayload(Payload{Samples: 160, Data: frame(1)}); err != nil {
		t.Fatal(err)
	}
	if r := read(t, a); !bytes.Equal(r.Payload, frame(1)) {
		t.Fatal("payload mismatch")
	}
}

// TestComedia: a session with no signalled remote answers whoever sends.
func TestComedia(t *testing.T) {
	s := open(t, Config{})
	peer := newRawPeer(t, s.LocalAddr())
	peer.send(0, 1, 0, 5, false, frame(0))
	<-s.FirstPacket()
	if err := s.WritePayload(Payload{Samples: 160, Data: frame(2)}); err != nil {
		t.Fatal(err)
	}
	if p := peer.recv(); !bytes.Equal(p.Payload, frame(2)) {
		t.Fatal("payload mismatch")
	}
}

// TestSymmetricRTCP: the RTCP destination follows the remote's RTCP.
func TestSymmetricRTCP(t *testing.T) {
	a, b := open(t, Config{RTCPInterval: 20 * 1e6}), open(t, Config{})
	if err := a.SetRemote(b.LocalAddr(), netip.AddrPort{}); err != nil {
		t.Fatal(err)
	}
	sink := rtcpSink(t)
	if err := b.SetRemote(a.LocalAddr(), sink); err != nil {
		t.Fatal(err)
	}
	ev := nextEvent[RemoteSourceChanged](t, b)
	if !ev.RTCP || ev.From != sink || ev.To != a.LocalRTCPAddr() {
		t.Fatalf("RemoteSourceChanged %+v, want RTCP %v -> %v", ev, sink, a.LocalRTCPAddr())
	}
	if _, rtcp := b.Remote(); rtcp != a.LocalRTCPAddr() {
		t.Fatalf("RTCP destination %v", rtcp)
	}
}
