package rtp

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/pion/rtcp"
)

// ntpEpochOffset is the number of seconds from 1900 (NTP) to 1970 (Unix).
const ntpEpochOffset = 2208988800

// ntpTime converts t to the 64-bit NTP format of sender reports.
func ntpTime(t time.Time) uint64 {
	secs := uint64(t.Unix() + ntpEpochOffset)
	frac := (uint64(t.Nanosecond()) << 32) / uint64(time.Second)
	return secs<<32 | frac
}

// ntpMiddle returns the middle 32 bits of the NTP time of t (the unit of
// LSR, DLSR and RTT arithmetic: 1/65536 s).
func ntpMiddle(t time.Time) uint32 { return uint32(ntpTime(t) >> 16) }

// randomCNAME returns a random canonical name (RFC 7022: 96 bits).
func randomCNAME() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// rtcpState is the RTCP bookkeeping, guarded by Session.rmu.
type rtcpState struct {
	lastSR     uint32    // middle bits of the last SR received
	lastSRAt   time.Time // when it arrived
	lastSRSSRC uint32
	sentPrev   [2]uint64 // RTP packets sent at the last two reports
}

// readRTCP is the receive goroutine of the RTCP socket.
func (s *Session) readRTCP() {
	defer s.readers.Done()
	if !s.waitReceive() {
		return
	}
	buf := make([]byte, recvBufSize)
	for {
		n, from, err := s.rtcpConn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.isClosed() {
				return
			}
			s.log.Debug("rtp: reading RTCP", "err", err)
			continue
		}
		s.handleRTCP(buf[:n], unmapAddrPort(from), time.Now(), false)
	}
}

// handleRTCP processes one compound RTCP packet; muxed is set when it came
// on the RTP socket.
func (s *Session) handleRTCP(pkt []byte, from netip.AddrPort, now time.Time, muxed bool) {
	if len(pkt) < 8 || pkt[0]>>6 != 2 {
		s.countInvalid()
		return
	}
	if cs := s.crypto.Load(); cs != nil {
		cs.rtcpIn.mu.Lock()
		out, err := cs.rtcpIn.ctx.DecryptRTCP(nil, pkt, nil)
		cs.rtcpIn.mu.Unlock()
		if err != nil {
			s.countDecryptError(err)
			return
		}
		pkt = out
	}
	pkts, err := rtcp.Unmarshal(pkt)
	if err != nil || len(pkts) == 0 {
		s.countInvalid()
		return
	}
	var evs []Event
	fromRemote := true
	s.rmu.Lock()
	s.rtcpReceived++
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			fromRemote = !s.haveSrc || p.SSRC == s.src.ssrc
			s.rtcp.lastSR, s.rtcp.lastSRAt, s.rtcp.lastSRSSRC = uint32(p.NTPTime>>16), now, p.SSRC
			s.processReports(p.Reports, now)
		case *rtcp.ReceiverReport:
			fromRemote = !s.haveSrc || p.SSRC == s.src.ssrc
			s.processReports(p.Reports, now)
		case *rtcp.SourceDescription:
			for _, c := range p.Chunks {
				if s.haveSrc && c.Source != s.src.ssrc {
					continue
				}
				for _, it := range c.Items {
					if it.Type == rtcp.SDESCNAME {
						s.remoteCNAME = it.Text
					}
				}
			}
		case *rtcp.Goodbye:
			if !s.haveSrc || slices.Contains(p.Sources, s.src.ssrc) {
				var ssrc uint32
				if len(p.Sources) > 0 {
					ssrc = p.Sources[0]
				}
				if s.haveSrc {
					ssrc = s.src.ssrc
				}
				evs = append(evs, ByeReceived{SSRC: ssrc, Reason: p.Reason, Time: now})
			}
		}
	}
	s.rmu.Unlock()
	if !muxed && fromRemote {
		if ev := s.noteRTCPSource(from, now); ev != nil {
			evs = append([]Event{*ev}, evs...)
		}
	}
	for _, ev := range evs {
		s.emit(ev)
	}
}

// processReports takes the report blocks about our stream; s.rmu is held.
func (s *Session) processReports(reports []rtcp.ReceptionReport, now time.Time) {
	for _, rr := range reports {
		if rr.SSRC != s.ssrc {
			continue
		}
		lost := int64(rr.TotalLost & 0xffffff)
		if lost&0x800000 != 0 {
			lost -= 1 << 24
		}
		s.remoteLost = lost
		s.remoteFrac = float64(rr.FractionLost) / 256
		rate := s.sendRate.Load()
		if rate == 0 {
			rate = DefaultClockRate
		}
		s.remoteJitter = time.Duration(uint64(rr.Jitter) * uint64(time.Second) / uint64(rate))
		if rr.LastSenderReport == 0 {
			continue
		}
		// RFC 3550 section 6.4.1: RTT = A - LSR - DLSR.
		rtt := int32(ntpMiddle(now) - rr.LastSenderReport - rr.Delay)
		if rtt < 0 {
			continue // clock stepped, or a bogus report
		}
		s.rtt = max(time.Duration(int64(rtt)*int64(time.Second)/65536),
			time.Second/65536) // below the resolution still means "measured"
	}
}

// sendRTCP sends a compound report (SR or RR, SDES CNAME, and BYE when
// bye) to the remote RTCP address, if known.
func (s *Session) sendRTCP(bye bool) {
	s.amu.Lock()
	dest := s.rtcpDestLocked()
	s.amu.Unlock()
	if !dest.IsValid() {
		return
	}
	now := time.Now()

	s.smu.Lock()
	sent, octets := s.sent, s.sentOctets
	rtpTime := s.ts
	if !s.lastSentAt.IsZero() {
		el := now.Sub(s.lastSentAt)
		rtpTime = s.lastSentTS + uint32(el.Seconds()*float64(s.lastSentRate))
	}
	s.smu.Unlock()

	s.rmu.Lock()
	// We are a sender if we sent RTP since the report before the last one
	// (RFC 3550 section 6.3.8).
	weSent := sent != s.rtcp.sentPrev[0]
	s.rtcp.sentPrev[0], s.rtcp.sentPrev[1] = s.rtcp.sentPrev[1], sent
	var reports []rtcp.ReceptionReport
	if s.haveSrc && s.src.receivedSince {
		s.src.receivedSince = false
		rr := rtcp.ReceptionReport{
			SSRC:               s.src.ssrc,
			FractionLost:       s.src.fraction(),
			TotalLost:          uint32(min(max(s.src.lost(), -(1<<23)), 1<<23-1)) & 0xffffff,
			LastSequenceNumber: uint32(s.src.extendedMax()),
			Jitter:             uint32(s.src.jitter),
		}
		if s.rtcp.lastSRSSRC == s.src.ssrc && !s.rtcp.lastSRAt.IsZero() {
			rr.LastSenderReport = s.rtcp.lastSR
			rr.Delay = uint32(now.Sub(s.rtcp.lastSRAt).Seconds() * 65536)
		}
		reports = append(reports, rr)
	}
	// Counted before it leaves (and uncounted if it does not): a peer's
	// answer to this report can never be seen before the count.
	s.rtcpSent++
	s.rmu.Unlock()

	pkts := make([]rtcp.Packet, 0, 3)
	if weSent {
		pkts = append(pkts, &rtcp.SenderReport{
			SSRC:        s.ssrc,
			NTPTime:     ntpTime(now),
			RTPTime:     rtpTime,
			PacketCount: uint32(sent),
			OctetCount:  uint32(octets),
			Reports:     reports,
		})
	} else {
		pkts = append(pkts, &rtcp.ReceiverReport{SSRC: s.ssrc, Reports: reports})
	}
	pkts = append(pkts, rtcp.NewCNAMESourceDescription(s.ssrc, s.cfg.CNAME))
	if bye {
		pkts = append(pkts, &rtcp.Goodbye{Sources: []uint32{s.ssrc}})
	}
	if err := s.writeRTCP(pkts, dest); err != nil {
		s.rmu.Lock()
		s.rtcpSent--
		s.rmu.Unlock()
	}
}

// writeRTCP marshals, encrypts (SRTCP) and sends a compound packet.
func (s *Session) writeRTCP(pkts []rtcp.Packet, dest netip.AddrPort) error {
	raw, err := rtcp.Marshal(pkts)
	if err != nil {
		s.log.Warn("rtp: marshalling RTCP", "err", err)
		return err
	}
	if cs := s.crypto.Load(); cs != nil {
		if raw, err = cs.rtcpOut.EncryptRTCP(nil, raw, nil); err != nil {
			s.log.Warn("rtp: SRTCP encrypting", "err", err)
			return err
		}
	}
	if _, err := s.rtcpConn.WriteToUDPAddrPort(raw, dest); err != nil {
		s.log.Debug("rtp: sending RTCP", "to", dest, "err", err)
		return err
	}
	return nil
}
