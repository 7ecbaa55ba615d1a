package rtp

import (
	"fmt"
	"time"

	pionrtp "github.com/pion/rtp"
)

// Payload is one encoded frame to send.
type Payload struct {
	// PayloadType is the RTP payload type (0-127) of the negotiated codec.
	PayloadType uint8
	// Samples is the duration of Data in RTP clock units: how far the
	// session's timestamp advances after this packet (160 for 20 ms of
	// PCMU, PCMA or G.722, whose RTP clock is 8000 Hz; 960 for 20 ms of
	// Opus at 48000 Hz).
	Samples uint32
	// Marker is the RTP marker bit (the first packet of a talkspurt).
	Marker bool
	// Data is the codec payload; it is copied before WritePayload returns.
	Data []byte
}

func (p *Payload) validate() error {
	if p.PayloadType > 127 {
		return fmt.Errorf("rtp: payload type %d out of range 0-127", p.PayloadType)
	}
	if len(p.Data) > MaxPayloadSize {
		return fmt.Errorf("rtp: payload of %d bytes exceeds %d", len(p.Data), MaxPayloadSize)
	}
	return nil
}

// WritePayload sends p in one RTP packet with the session's SSRC, the next
// sequence number and the running timestamp, then advances the timestamp
// by p.Samples. SSRC, first sequence number and first timestamp are random
// (RFC 3550 section 5.1). While a DTMF event is being sent the audio is
// suppressed: WritePayload advances the timestamp and returns nil without
// sending.
func (s *Session) WritePayload(p Payload) error {
	if err := p.validate(); err != nil {
		return err
	}
	s.smu.Lock()
	defer s.smu.Unlock()
	if s.closing {
		return ErrClosed
	}
	ts := s.ts
	s.ts += p.Samples
	if s.dtmfActive {
		s.suppressed++
		return nil
	}
	if err := s.sendLocked(p.PayloadType, ts, p.Marker, p.Data); err != nil {
		return err
	}
	// The sampling instant of the running timestamp, for sender reports.
	s.lastSentTS, s.lastSentAt, s.lastSentRate = ts, time.Now(), s.clockRate(p.PayloadType)
	s.sendRate.Store(int64(s.lastSentRate))
	return nil
}

// WritePayloadAt sends p with the given RTP timestamp instead of the
// running one, which it leaves alone (p.Samples is ignored): the packets of
// one telephone-event share the timestamp of the event's start. It is not
// suppressed by SendDTMF.
func (s *Session) WritePayloadAt(p Payload, timestamp uint32) error {
	if err := p.validate(); err != nil {
		return err
	}
	s.smu.Lock()
	defer s.smu.Unlock()
	if s.closing {
		return ErrClosed
	}
	return s.sendLocked(p.PayloadType, timestamp, p.Marker, p.Data)
}

// Timestamp returns the RTP timestamp the next WritePayload will use.
func (s *Session) Timestamp() uint32 {
	s.smu.Lock()
	defer s.smu.Unlock()
	return s.ts
}

// sendLocked builds, protects and sends one RTP packet; s.smu is held.
func (s *Session) sendLocked(pt uint8, ts uint32, marker bool, data []byte) error {
	if s.closed {
		return ErrClosed
	}
	dest, err := s.destination()
	if err != nil {
		return err
	}
	h := pionrtp.Header{
		Version:        2,
		Marker:         marker,
		PayloadType:    pt,
		SequenceNumber: s.seq,
		Timestamp:      ts,
		SSRC:           s.ssrc,
	}
	n, err := h.MarshalTo(s.sendBuf)
	if err != nil {
		return fmt.Errorf("rtp: marshalling header: %w", err)
	}
	n += copy(s.sendBuf[n:], data)
	pkt := s.sendBuf[:n]
	if cs := s.crypto.Load(); cs != nil {
		if s.encBuf == nil {
			s.encBuf = make([]byte, srtpMaxPacket)
		}
		if pkt, err = cs.rtpOut.EncryptRTP(s.encBuf[:cap(s.encBuf)], pkt, &h); err != nil {
			return fmt.Errorf("rtp: SRTP encrypting packet %d: %w", s.seq, err)
		}
	}
	s.seq++
	if _, err := s.rtpConn.WriteToUDPAddrPort(pkt, dest); err != nil {
		return fmt.Errorf("rtp: sending to %v: %w", dest, err)
	}
	s.sent++
	s.sentOctets += uint64(len(data))
	s.sentSince = true
	return nil
}
