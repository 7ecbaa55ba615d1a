package rtp

import (
	"errors"
	"net"
	"net/netip"
	"time"

	pionrtp "github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// recvBufSize is the size of the receive buffers: larger than any packet
// this session sends (srtpMaxPacket), so a truncated datagram fails
// validation.
const recvBufSize = 2048

// Received is one entry handed out by the jitter buffer: a packet with its
// payload, and how many packets are missing just before it.
type Received struct {
	PayloadType    uint8
	SequenceNumber uint16
	Timestamp      uint32
	SSRC           uint32
	Marker         bool
	// Payload is the codec payload (padding removed); it belongs to the
	// caller.
	Payload []byte
	// LostBefore is the number of sequence numbers skipped just before
	// this packet: lost, or arrived too late for their playout time
	// (telephone-event packets excepted). The consumer conceals that many
	// frames if it did not already while Pop returned false.
	LostBefore int
	// Arrival is when the packet was received.
	Arrival time.Time
}

// readRTP is the receive goroutine of the RTP socket.
func (s *Session) readRTP() {
	defer s.readers.Done()
	if !s.waitReceive() {
		return
	}
	buf := make([]byte, recvBufSize)
	var h pionrtp.Header
	for {
		n, from, err := s.rtpConn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.isClosed() {
				return
			}
			s.log.Debug("rtp: reading RTP", "err", err)
			continue
		}
		s.handleRTP(buf[:n], unmapAddrPort(from), time.Now(), &h)
	}
}

// handleRTP processes one datagram of the RTP socket.
func (s *Session) handleRTP(pkt []byte, from netip.AddrPort, now time.Time, h *pionrtp.Header) {
	if len(pkt) < 12 || pkt[0]>>6 != 2 {
		s.countInvalid()
		return
	}
	if pkt[1] >= 192 && pkt[1] <= 223 {
		// RTCP multiplexed on the RTP port (RFC 5761 section 4).
		s.handleRTCP(pkt, from, now, true)
		return
	}
	authenticated := false
	if cs := s.crypto.Load(); cs != nil {
		out, err := cs.rtpIn.DecryptRTP(pkt, pkt, h)
		if err != nil {
			s.countDecryptError(err)
			return
		}
		pkt, authenticated = out, true
	}
	hlen, err := h.Unmarshal(pkt)
	if err != nil {
		s.countInvalid()
		return
	}
	payload := pkt[hlen:]
	if h.Padding {
		if len(payload) == 0 || int(payload[len(payload)-1]) == 0 || int(payload[len(payload)-1]) > len(payload) {
			s.countInvalid()
			return
		}
		payload = payload[:len(payload)-int(payload[len(payload)-1])]
	}
	event := s.isDTMF(h.PayloadType)
	var rate int
	if event {
		rate = s.clockRate(h.PayloadType)
	} else {
		var ok bool
		if rate, ok = s.accepts(h.PayloadType); !ok {
			s.rmu.Lock()
			s.ignored++
			s.rmu.Unlock()
			return
		}
	}
	latched := s.noteRTPSource(from, h.SequenceNumber, authenticated, now)

	var evs []Event
	if latched != nil {
		evs = append(evs, *latched)
	}
	s.rmu.Lock()
	s.received++
	s.receivedBytes += uint64(len(payload))
	s.lastAt = now
	if s.firstAt.IsZero() {
		s.firstAt = now
		close(s.first)
		evs = append(evs, FirstPacketReceived{From: from, SSRC: h.SSRC, Time: now})
	}
	var queued bool
	if event {
		queued, evs = s.receiveEvent(h, payload, rate, now, evs)
	} else {
		queued, evs = s.receiveAudio(h, payload, rate, now, evs)
	}
	s.rmu.Unlock()
	for _, ev := range evs {
		s.emit(ev)
	}
	if queued {
		s.signal()
	}
}

// receiveEvent handles a telephone-event packet; s.rmu is held.
func (s *Session) receiveEvent(h *pionrtp.Header, payload []byte, rate int, now time.Time, evs []Event) (bool, []Event) {
	te, err := ParseTelephoneEvent(payload)
	if err != nil {
		s.invalid++
		return false, evs
	}
	if s.dtmfIn.handle(h.SSRC, h.Timestamp, te) {
		evs = append(evs, DTMFReceived{
			Digit:     EventDigit(te.Event),
			Event:     te.Event,
			Volume:    te.Volume,
			Timestamp: h.Timestamp,
			SSRC:      h.SSRC,
			End:       te.End,
			Time:      now,
		})
	}
	// The event takes a sequence number of the audio stream: keep the
	// sequence bookkeeping, and a placeholder so the jitter buffer does
	// not take it for a loss. Events of another SSRC (some gateways) are
	// reported but leave the audio source alone.
	if !s.haveSrc || h.SSRC != s.src.ssrc {
		return false, evs
	}
	ok, restarted := s.src.update(h.SequenceNumber)
	if restarted {
		s.jb.reset()
	}
	if !ok {
		return false, evs
	}
	r := Received{PayloadType: h.PayloadType, SequenceNumber: h.SequenceNumber, Timestamp: h.Timestamp,
		SSRC: h.SSRC, Arrival: now}
	s.jb.push(r, s.src.extended(h.SequenceNumber), rate, true)
	return false, evs
}

// receiveAudio handles a packet for the jitter buffer; s.rmu is held.
func (s *Session) receiveAudio(h *pionrtp.Header, payload []byte, rate int, now time.Time, evs []Event) (bool, []Event) {
	r := Received{
		PayloadType:    h.PayloadType,
		SequenceNumber: h.SequenceNumber,
		Timestamp:      h.Timestamp,
		SSRC:           h.SSRC,
		Marker:         h.Marker,
		Payload:        append([]byte(nil), payload...),
		Arrival:        now,
	}
	switch {
	case !s.haveSrc:
		s.haveSrc = true
		s.src.init(h.SSRC, h.SequenceNumber)
	case h.SSRC != s.src.ssrc:
		c := s.ssrcCand
		if c == nil || c.ssrc != h.SSRC || h.SequenceNumber != c.seq+1 {
			// Hold the first packet of a new source until a second one
			// confirms it: a stray packet must not reset the stream.
			s.ssrcCand = &candidate{ssrc: h.SSRC, seq: h.SequenceNumber, r: r, rate: rate}
			return false, evs
		}
		old := s.src.ssrc
		s.lostBefore += s.src.lost()
		s.jb.reset()
		s.src.init(h.SSRC, c.seq)
		s.ssrcCand = nil
		s.queueAudio(c.r, c.rate)
		evs = append(evs, SSRCChanged{Old: old, New: h.SSRC, Time: now})
	}
	return s.queueAudio(r, rate), evs
}

// queueAudio updates the statistics of the current source with r and
// queues it; s.rmu is held.
func (s *Session) queueAudio(r Received, rate int) bool {
	ok, restarted := s.src.update(r.SequenceNumber)
	if restarted {
		s.jb.reset()
	}
	if !ok {
		return false
	}
	s.src.updateJitter(r.Arrival.Sub(s.epoch), r.Timestamp, rate)
	return s.jb.push(r, s.src.extended(r.SequenceNumber), rate, false) == pushQueued
}

func (s *Session) countInvalid() {
	s.rmu.Lock()
	s.invalid++
	s.rmu.Unlock()
}

// countDecryptError classifies an SRTP or SRTCP unprotect failure.
func (s *Session) countDecryptError(err error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	switch {
	case errors.Is(err, srtp.ErrFailedToVerifyAuthTag):
		s.authFailures++
	case isReplay(err):
		s.jb.duplicates++
	default:
		s.invalid++
	}
}
