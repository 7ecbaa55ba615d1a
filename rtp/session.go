package rtp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

var (
	// ErrClosed is returned by the methods of a closed Session.
	ErrClosed = errors.New("rtp: session closed")
	// ErrNoRemote is returned when sending before the remote address is
	// known (neither set by SetRemote nor learnt from received packets).
	ErrNoRemote = errors.New("rtp: no remote address: call SetRemote first")
)

// latchProbation is how many consecutive in-sequence packets a new source
// address must send before plain RTP latches onto it. Authenticated (SRTP)
// packets latch at once.
const latchProbation = 3

// Session is the RTP/RTCP transport of one audio stream: two UDP sockets
// (RTP on an even port, RTCP on the next one), an optional SRTP context,
// a jitter buffer for what arrives, and the RTCP reports. Its methods are
// safe for concurrent use.
type Session struct {
	cfg      Config
	log      *slog.Logger
	rtpConn  *net.UDPConn
	rtcpConn *net.UDPConn
	local    netip.AddrPort
	ssrc     uint32

	payloadTypes atomic.Pointer[map[uint8]int]
	dtmfPT       atomic.Uint32 // telephone-event payload type + 1, 0 when off
	crypto       atomic.Pointer[cryptoState]

	events        chan Event
	eventsDropped atomic.Uint64
	first         chan struct{} // closed on the first valid packet
	done          chan struct{} // closed by Close
	recvGate      chan struct{} // closed when the receive goroutines may read (Config.DeferReceive)
	gateOnce      sync.Once
	wake          chan struct{} // a packet was queued
	dtmfQ         chan dtmfRequest
	readers       sync.WaitGroup
	ctlDone       chan struct{}
	closeOnce     sync.Once
	closeErr      error

	// Send side, guarded by smu.
	smu sync.Mutex
	// closing is set as Close begins: the API sends nothing more, while
	// the control goroutine still sends the final DTMF packets and the
	// BYE. closed is set once those are out: nothing at all is sent.
	closing      bool
	closed       bool
	seq          uint16
	ts           uint32
	dtmfActive   bool
	sent         uint64
	sentOctets   uint64
	suppressed   uint64
	lastSentTS   uint32
	lastSentAt   time.Time
	lastSentRate int
	sentSince    bool // RTP sent since the last report
	sendBuf      []byte
	encBuf       []byte

	// Addresses, guarded by amu.
	amu         sync.Mutex
	remoteRTP   netip.AddrPort // signalled
	remoteRTCP  netip.AddrPort
	latchedRTP  netip.AddrPort // learnt (symmetric RTP)
	latchedRTCP netip.AddrPort
	recvFrom    netip.AddrPort
	candAddr    netip.AddrPort
	candSeq     uint16
	candN       int

	// Receive side, guarded by rmu.
	rmu           sync.Mutex
	jb            *jitterBuffer
	src           sourceState
	haveSrc       bool
	ssrcCand      *candidate
	lostBefore    int64 // loss of earlier sources
	epoch         time.Time
	received      uint64
	receivedBytes uint64
	ignored       uint64
	invalid       uint64
	authFailures  uint64
	firstAt       time.Time
	lastAt        time.Time
	dtmfIn        dtmfRecv
	rtcpSent      uint64
	rtcpReceived  uint64
	rtt           time.Duration
	remoteLost    int64
	remoteFrac    float64
	remoteJitter  time.Duration
	remoteCNAME   string
	rtcp          rtcpState
	sendRate      atomic.Int64 // clock rate of the audio we send
}

// candidate is the first packet of a new remote SSRC, held until a second
// in-sequence packet confirms the source (RFC 3550 section 6.2.1).
type candidate struct {
	ssrc uint32
	seq  uint16
	r    Received
	rate int
}

// Open binds the RTP and RTCP sockets and starts the session's
// goroutines: one receive goroutine per socket and one control goroutine
// (RTCP reports, DTMF pacing). The caller must Close the session.
func Open(cfg Config) (*Session, error) {
	cfg, err := cfg.normalized()
	if err != nil {
		return nil, err
	}
	var cs *cryptoState
	if cfg.SRTP != nil {
		if cs, err = newCryptoState(cfg.SRTP, nil); err != nil {
			return nil, err
		}
	}
	rtpConn, rtcpConn, err := listenPair(cfg.LocalAddr, cfg.PortRange)
	if err != nil {
		return nil, err
	}
	local := rtpConn.LocalAddr().(*net.UDPAddr).AddrPort()
	s := &Session{
		cfg:      cfg,
		log:      cfg.Logger,
		rtpConn:  rtpConn,
		rtcpConn: rtcpConn,
		local:    netip.AddrPortFrom(local.Addr().Unmap(), local.Port()),
		ssrc:     rand.Uint32(),
		seq:      uint16(rand.Uint32()),
		ts:       rand.Uint32(),
		events:   make(chan Event, eventQueueSize),
		first:    make(chan struct{}),
		done:     make(chan struct{}),
		recvGate: make(chan struct{}),
		wake:     make(chan struct{}, 1),
		dtmfQ:    make(chan dtmfRequest, dtmfQueueSize),
		ctlDone:  make(chan struct{}),
		sendBuf:  make([]byte, srtpMaxPacket),
		jb:       newJitterBuffer(cfg.MinDelay, cfg.MaxDelay, cfg.PTime, cfg.DisableJitterBuffer),
		epoch:    time.Now(),
	}
	if cfg.PayloadTypes != nil {
		s.payloadTypes.Store(&cfg.PayloadTypes)
	}
	if cfg.DTMFPayloadType != 0 {
		s.dtmfPT.Store(uint32(cfg.DTMFPayloadType) + 1)
	}
	if cs != nil {
		s.crypto.Store(cs)
	}
	if !cfg.DeferReceive {
		close(s.recvGate)
	}
	s.readers.Add(2)
	go s.readRTP()
	go s.readRTCP()
	go s.control()
	return s, nil
}

// LocalAddr returns the address and even port of the RTP socket; RTCP is
// on the next port.
func (s *Session) LocalAddr() netip.AddrPort { return s.local }

// LocalRTCPAddr returns the address and port of the RTCP socket.
func (s *Session) LocalRTCPAddr() netip.AddrPort {
	return netip.AddrPortFrom(s.local.Addr(), s.local.Port()+1)
}

// SSRC returns our synchronisation source identifier (random).
func (s *Session) SSRC() uint32 { return s.ssrc }

// CNAME returns our RTCP canonical name.
func (s *Session) CNAME() string { return s.cfg.CNAME }

// Events returns the channel of session events (DTMFReceived,
// FirstPacketReceived, RemoteSourceChanged, SSRCChanged, ByeReceived), in
// the order they happened. It holds 64 events; when the consumer falls
// behind, further events are dropped and counted in Stats.EventsDropped, so
// a slow consumer never stalls reception. The channel is closed by Close.
func (s *Session) Events() <-chan Event { return s.events }

// FirstPacket returns a channel that is closed when the first valid RTP
// packet arrives (never, if none does).
func (s *Session) FirstPacket() <-chan struct{} { return s.first }

// Done returns a channel that is closed when Close is called.
func (s *Session) Done() <-chan struct{} { return s.done }

// SetRemote sets the signalled remote RTP and RTCP addresses (from the
// peer's SDP c= and m= lines and a=rtcp). A zero rtcp means the RTP port
// plus one. Setting the remote again (a re-INVITE moving the stream)
// forgets what symmetric RTP had learnt, keeping the SRTP keys.
func (s *Session) SetRemote(rtp, rtcp netip.AddrPort) error {
	rtp = unmapAddrPort(rtp)
	if err := s.checkRemote("RTP", rtp); err != nil {
		return err
	}
	if !rtcp.IsValid() {
		if rtp.Port() == 65535 {
			return fmt.Errorf("rtp: remote RTP port %d has no port+1 for RTCP", rtp.Port())
		}
		rtcp = netip.AddrPortFrom(rtp.Addr(), rtp.Port()+1)
	}
	rtcp = unmapAddrPort(rtcp)
	if err := s.checkRemote("RTCP", rtcp); err != nil {
		return err
	}
	s.smu.Lock()
	closed := s.closing
	s.smu.Unlock()
	if closed {
		return ErrClosed
	}
	s.amu.Lock()
	s.remoteRTP, s.remoteRTCP = rtp, rtcp
	s.latchedRTP, s.latchedRTCP = netip.AddrPort{}, netip.AddrPort{}
	s.candAddr, s.candN = netip.AddrPort{}, 0
	s.amu.Unlock()
	return nil
}

func (s *Session) checkRemote(what string, ap netip.AddrPort) error {
	switch {
	case !ap.IsValid():
		return fmt.Errorf("rtp: remote %s address %v is not valid", what, ap)
	case ap.Port() == 0:
		return fmt.Errorf("rtp: remote %s address %v has port 0", what, ap)
	case ap.Addr().IsUnspecified():
		return fmt.Errorf("rtp: remote %s address %v is unspecified (hold is the session layer's business)", what, ap)
	case s.local.Addr().Is4() && !ap.Addr().Is4():
		return fmt.Errorf("rtp: remote %s address %v is IPv6 but the session is bound to IPv4 %v", what, ap, s.local.Addr())
	case s.local.Addr().Is6() && !s.local.Addr().IsUnspecified() && !ap.Addr().Is6():
		return fmt.Errorf("rtp: remote %s address %v is IPv4 but the session is bound to IPv6 %v", what, ap, s.local.Addr())
	}
	return nil
}

// Remote returns the addresses packets are sent to: the signalled ones,
// or those symmetric RTP learnt.
func (s *Session) Remote() (rtp, rtcp netip.AddrPort) {
	s.amu.Lock()
	defer s.amu.Unlock()
	return s.rtpDestLocked(), s.rtcpDestLocked()
}

// ReceivedFrom returns the source address of the last valid RTP packet,
// where the remote's audio really comes from; false when nothing arrived.
func (s *Session) ReceivedFrom() (netip.AddrPort, bool) {
	s.amu.Lock()
	defer s.amu.Unlock()
	return s.recvFrom, s.recvFrom.IsValid()
}

func (s *Session) rtpDestLocked() netip.AddrPort {
	if s.latchedRTP.IsValid() {
		return s.latchedRTP
	}
	return s.remoteRTP
}

func (s *Session) rtcpDestLocked() netip.AddrPort {
	switch {
	case s.latchedRTCP.IsValid():
		return s.latchedRTCP
	case s.latchedRTP.IsValid() && s.latchedRTP.Port() < 65535:
		// Learnt RTP but no RTCP yet: guess port+1 behind the same NAT.
		return netip.AddrPortFrom(s.latchedRTP.Addr(), s.latchedRTP.Port()+1)
	}
	return s.remoteRTCP
}

// destination returns where RTP goes, or ErrNoRemote.
func (s *Session) destination() (netip.AddrPort, error) {
	s.amu.Lock()
	d := s.rtpDestLocked()
	s.amu.Unlock()
	if !d.IsValid() {
		return d, ErrNoRemote
	}
	return d, nil
}

// noteRTPSource records the source of a valid RTP packet and latches onto
// it when symmetric RTP is on. It returns the latching event, if any.
func (s *Session) noteRTPSource(from netip.AddrPort, seq uint16, authenticated bool, now time.Time) *RemoteSourceChanged {
	s.amu.Lock()
	defer s.amu.Unlock()
	s.recvFrom = from
	if s.cfg.Symmetric == SymmetricOff {
		return nil
	}
	dest := s.rtpDestLocked()
	if from == dest {
		s.candN = 0
		return nil
	}
	if from == s.candAddr && seq == s.candSeq+1 {
		s.candN++
	} else {
		s.candAddr, s.candN = from, 1
	}
	s.candSeq = seq
	need := latchProbation
	if authenticated || !dest.IsValid() {
		need = 1
	}
	if s.candN < need {
		return nil
	}
	s.latchedRTP, s.candAddr, s.candN = from, netip.AddrPort{}, 0
	s.log.Debug("rtp: symmetric RTP latched", "from", dest, "to", from)
	return &RemoteSourceChanged{From: dest, To: from, Time: now}
}

// noteRTCPSource latches the RTCP destination onto the source of a valid
// RTCP packet of the remote source.
func (s *Session) noteRTCPSource(from netip.AddrPort, now time.Time) *RemoteSourceChanged {
	if s.cfg.Symmetric == SymmetricOff {
		return nil
	}
	s.amu.Lock()
	defer s.amu.Unlock()
	dest := s.rtcpDestLocked()
	if from == dest {
		return nil
	}
	s.latchedRTCP = from
	return &RemoteSourceChanged{From: dest, To: from, RTCP: true, Time: now}
}

// SetPayloadTypes replaces the accepted payload types and their clock
// rates (see Config.PayloadTypes), for a re-INVITE changing the codecs.
func (s *Session) SetPayloadTypes(m map[uint8]int) error {
	m, err := copyPayloadTypes(m)
	if err != nil {
		return err
	}
	if m == nil {
		s.payloadTypes.Store(nil)
	} else {
		s.payloadTypes.Store(&m)
	}
	return nil
}

// SetDTMFPayloadType changes the payload type recognised as
// telephone-event on reception; 0 disables recognition.
func (s *Session) SetDTMFPayloadType(pt uint8) error {
	if pt > 127 {
		return fmt.Errorf("rtp: DTMF payload type %d out of range 0-127", pt)
	}
	if pt == 0 {
		s.dtmfPT.Store(0)
	} else {
		s.dtmfPT.Store(uint32(pt) + 1)
	}
	return nil
}

// accepts reports whether payload type pt is accepted, with its clock rate.
func (s *Session) accepts(pt uint8) (int, bool) {
	m := s.payloadTypes.Load()
	if m == nil {
		return DefaultClockRate, true
	}
	rate, ok := (*m)[pt]
	return rate, ok
}

// clockRate returns the clock rate of pt (DefaultClockRate when unknown).
func (s *Session) clockRate(pt uint8) int {
	if m := s.payloadTypes.Load(); m != nil {
		if rate, ok := (*m)[pt]; ok {
			return rate
		}
	}
	return DefaultClockRate
}

// isDTMF reports whether pt is the telephone-event payload type.
func (s *Session) isDTMF(pt uint8) bool {
	v := s.dtmfPT.Load()
	return v != 0 && uint8(v-1) == pt
}

// UpdateSRTP changes the SRTP keys (a re-INVITE with new a=crypto lines);
// nil turns SRTP off. Contexts whose keys did not change are kept, with
// their rollover counters.
func (s *Session) UpdateSRTP(cfg *SRTPConfig) error {
	if cfg == nil {
		s.smu.Lock()
		s.crypto.Store(nil)
		s.smu.Unlock()
		return nil
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	c := cfg.clone()
	s.smu.Lock()
	defer s.smu.Unlock()
	cs, err := newCryptoState(c, s.crypto.Load())
	if err != nil {
		return err
	}
	s.crypto.Store(cs)
	return nil
}

// Stats returns a snapshot of the session's counters.
func (s *Session) Stats() Stats {
	var st Stats
	st.SSRC = s.ssrc
	s.smu.Lock()
	st.PacketsSent, st.BytesSent, st.PacketsSuppressed = s.sent, s.sentOctets, s.suppressed
	s.smu.Unlock()
	s.rmu.Lock()
	if s.haveSrc {
		st.RemoteSSRC = s.src.ssrc
		st.PacketsLost = s.lostBefore + s.src.lost()
		st.Jitter = s.src.jitterDuration()
	} else {
		st.PacketsLost = s.lostBefore
	}
	st.PacketsReceived, st.BytesReceived = s.received, s.receivedBytes
	st.PacketsDuplicate, st.PacketsLate, st.PacketsDiscarded = s.jb.duplicates, s.jb.late, s.jb.discarded
	st.PacketsIgnored, st.PacketsInvalid, st.AuthFailures = s.ignored, s.invalid, s.authFailures
	st.PlayoutDelay = s.jb.currentDelay()
	st.RTCPSent, st.RTCPReceived = s.rtcpSent, s.rtcpReceived
	st.RTT = s.rtt
	st.RemotePacketsLost, st.RemoteFractionLost, st.RemoteJitter = s.remoteLost, s.remoteFrac, s.remoteJitter
	st.RemoteCNAME = s.remoteCNAME
	st.FirstReceived, st.LastReceived = s.firstAt, s.lastAt
	s.rmu.Unlock()
	st.EventsDropped = s.eventsDropped.Load()
	return st
}

// Close sends the end packets of a DTMF event in progress and an RTCP BYE
// (when the remote is known), closes the sockets and stops every goroutine
// of the session before it returns. The Events channel is closed; blocked
// ReadPayload calls return ErrClosed. Close is idempotent.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		s.smu.Lock()
		s.closing = true // no RTP from the API after the BYE
		s.smu.Unlock()
		close(s.done)
		<-s.ctlDone // the control goroutine sends the final packets
		s.smu.Lock()
		s.closed = true
		s.smu.Unlock()
		err1 := s.rtpConn.Close()
		err2 := s.rtcpConn.Close()
		s.readers.Wait()
		close(s.events)
		if err := errors.Join(err1, err2); err != nil {
			s.closeErr = fmt.Errorf("rtp: closing %v: %w", s.local, err)
		}
	})
	return s.closeErr
}

// StartReceiving lets the receive goroutines of a session opened with
// Config.DeferReceive read; it does nothing after the first call or
// without DeferReceive.
func (s *Session) StartReceiving() {
	s.gateOnce.Do(func() {
		select {
		case <-s.recvGate:
		default:
			close(s.recvGate)
		}
	})
}

// waitReceive blocks a receive goroutine until StartReceiving; false when
// the session closed first.
func (s *Session) waitReceive() bool {
	select {
	case <-s.recvGate:
		return true
	case <-s.done:
		return false
	}
}

// isClosed reports whether Close was called.
func (s *Session) isClosed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// control is the session's timer goroutine: RTCP reports and DTMF pacing.
func (s *Session) control() {
	defer close(s.ctlDone)
	var report *time.Timer
	if s.cfg.RTCPInterval > 0 {
		// The first report comes after half an interval (RFC 3550 6.2).
		report = time.NewTimer(s.rtcpInterval() / 2)
		defer report.Stop()
	}
	s.controlLoop(report)
}

func (s *Session) controlLoop(report *time.Timer) {
	var reportC <-chan time.Time
	if report != nil {
		reportC = report.C
	}
	dtmfTimer := time.NewTimer(time.Hour)
	dtmfTimer.Stop()
	defer dtmfTimer.Stop()
	var tx *dtmfTx
	for {
		var queue <-chan dtmfRequest
		var dtmfC <-chan time.Time
		if tx == nil {
			queue = s.dtmfQ
		} else {
			dtmfC = dtmfTimer.C
		}
		select {
		case <-s.done:
			if tx != nil {
				s.stepDTMF(tx, true)
			}
			s.sendRTCP(true)
			return
		case req := <-queue:
			now := time.Now()
			if tx = s.startDTMF(req, now); tx != nil {
				dtmfTimer.Reset(time.Until(s.nextDTMFTime(tx)))
			}
		case <-dtmfC:
			if s.stepDTMF(tx, false) {
				tx = nil
			} else {
				dtmfTimer.Reset(time.Until(s.nextDTMFTime(tx)))
			}
		case <-reportC:
			s.sendRTCP(false)
			report.Reset(s.rtcpInterval())
		}
	}
}

// rtcpInterval returns a randomised report interval in [0.5, 1.5] times
// the configured one (RFC 3550 section 6.3.1).
func (s *Session) rtcpInterval() time.Duration {
	i := s.cfg.RTCPInterval
	return i/2 + time.Duration(rand.Int64N(int64(i)+1))
}

// signal wakes a blocked ReadPayload.
func (s *Session) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// ReadPayload returns the next packet from the jitter buffer, blocking
// until one reaches its playout time, ctx is done or the session is
// closed. It suits a consumer without a clock of its own (tests, a
// recorder, a relay): unlike Pop it never drops a packet for being read
// late, a reader that stalls gets what it missed in order. Only one
// goroutine should read at a time.
func (s *Session) ReadPayload(ctx context.Context) (Received, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if s.isClosed() {
			return Received{}, ErrClosed
		}
		s.rmu.Lock()
		r, ok, wake := s.jb.pop(time.Now(), false)
		more := ok && s.jb.pending()
		s.rmu.Unlock()
		if ok {
			if more {
				s.signal() // let another reader, or the next call, go on
			}
			return r, nil
		}
		var timeC <-chan time.Time
		if !wake.IsZero() {
			d := max(time.Until(wake), 0)
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			timeC = timer.C
		}
		select {
		case <-ctx.Done():
			return Received{}, ctx.Err()
		case <-s.done:
			return Received{}, ErrClosed
		case <-s.wake:
		case <-timeC:
		}
	}
}

// Pop returns the oldest packet due for playout now, for a consumer
// clocked by its own timer: a mixer calls it every 20 ms frame, once per
// frame's worth of audio it needs (once for 20 ms packets, twice for 10 ms
// ones). False means nothing is due (still buffering, a late packet being
// waited for, silence): the mixer conceals or plays silence for that
// frame. A packet more than one and a half frames behind its playout time
// is dropped when a newer one is due too, so a consumer that fell behind
// catches up. Pop never blocks.
func (s *Session) Pop() (Received, bool) {
	if s.isClosed() {
		return Received{}, false
	}
	s.rmu.Lock()
	r, ok, _ := s.jb.pop(time.Now(), true)
	s.rmu.Unlock()
	return r, ok
}

func unmapAddrPort(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
