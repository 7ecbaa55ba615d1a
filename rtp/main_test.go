package rtp

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	pionrtp "github.com/pion/rtp"
	"go.uber.org/goleak"
)

// TestMain fails the run if any test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testTimeout = 5 * time.Second

var loopback4 = netip.MustParseAddr("127.0.0.1")

// open opens a session on loopback and closes it at the end of the test.
func open(t testing.TB, cfg Config) *Session {
	t.Helper()
	if !cfg.LocalAddr.IsValid() {
		cfg.LocalAddr = loopback4
	}
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// pair opens two sessions sending to each other.
func pair(t testing.TB, ca, cb Config) (a, b *Session) {
	t.Helper()
	a, b = open(t, ca), open(t, cb)
	if err := a.SetRemote(b.LocalAddr(), netip.AddrPort{}); err != nil {
		t.Fatal(err)
	}
	if err := b.SetRemote(a.LocalAddr(), netip.AddrPort{}); err != nil {
		t.Fatal(err)
	}
	return a, b
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// read reads one payload with the test deadline.
func read(t testing.TB, s *Session) Received {
	t.Helper()
	r, err := s.ReadPayload(ctxTimeout(t, testTimeout))
	if err != nil {
		t.Fatalf("ReadPayload: %v", err)
	}
	return r
}

// eventually waits until cond holds, failing the test at the deadline.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(testTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// nextEvent returns the next event of type T, skipping others.
func nextEvent[T Event](t testing.TB, s *Session) T {
	t.Helper()
	deadline := time.NewTimer(testTimeout)
	defer deadline.Stop()
	for {
		select {
		case ev, ok := <-s.Events():
			if !ok {
				t.Fatal("events channel closed")
			}
			if e, ok := ev.(T); ok {
				return e
			}
		case <-deadline.C:
			var zero T
			t.Fatalf("timed out waiting for %T", zero)
		}
	}
}

// rawPeer is a plain UDP socket playing the remote side.
type rawPeer struct {
	t    testing.TB
	conn *net.UDPConn
	to   netip.AddrPort
}

func newRawPeer(t testing.TB, to netip.AddrPort) *rawPeer {
	t.Helper()
	network := "udp4"
	if to.Addr().Is6() {
		network = "udp6"
	}
	c, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(to.Addr(), 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawPeer{t: t, conn: c, to: to}
}

func (p *rawPeer) addr() netip.AddrPort {
	ap := p.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// send marshals and sends an RTP packet.
func (p *rawPeer) send(pt uint8, seq uint16, ts, ssrc uint32, marker bool, payload []byte) {
	p.t.Helper()
	pkt := pionrtp.Packet{
		Header: pionrtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts,
			SSRC: ssrc, Marker: marker},
		Payload: payload,
	}
	b, err := pkt.Marshal()
	if err != nil {
		p.t.Fatal(err)
	}
	p.sendRaw(b)
}

func (p *rawPeer) sendRaw(b []byte) {
	p.t.Helper()
	if _, err := p.conn.WriteToUDPAddrPort(b, p.to); err != nil {
		p.t.Fatal(err)
	}
}

// recv reads one RTP packet with the test deadline.
func (p *rawPeer) recv() *pionrtp.Packet {
	p.t.Helper()
	buf := make([]byte, 2048)
	p.conn.SetReadDeadline(time.Now().Add(testTimeout))
	n, _, err := p.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		p.t.Fatalf("raw peer read: %v", err)
	}
	var pkt pionrtp.Packet
	if err := pkt.Unmarshal(buf[:n]); err != nil {
		p.t.Fatalf("raw peer unmarshal: %v", err)
	}
	return &pkt
}

// frame returns a recognisable 160-byte payload.
func frame(i int) []byte {
	b := make([]byte, 160)
	for j := range b {
		b[j] = byte(i + j)
	}
	return b
}

// rtcpSink returns the address of a socket nobody reads, to send RTCP to
// when a raw peer only wants RTP.
func rtcpSink(t testing.TB) netip.AddrPort {
	return newRawPeer(t, netip.AddrPortFrom(loopback4, 9)).addr()
}
