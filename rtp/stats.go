package rtp

import (
	"time"
)

// Stats is a snapshot of a session's counters. Packet and byte counts are
// cumulative over the whole session (across remote SSRC changes); the
// reception quality fields describe the current remote source.
type Stats struct {
	// SSRC is our synchronisation source; RemoteSSRC the remote's current
	// one (zero until a packet arrived).
	SSRC, RemoteSSRC uint32

	// PacketsSent and BytesSent count RTP packets sent and their payload
	// octets (the RTCP sender report's counts), telephone-event included.
	PacketsSent, BytesSent uint64
	// PacketsSuppressed counts WritePayload calls whose audio was not sent
	// because a DTMF event was being sent.
	PacketsSuppressed uint64

	// PacketsReceived and BytesReceived count valid RTP packets received
	// (authenticated, of an accepted payload type) and their payload octets.
	PacketsReceived, BytesReceived uint64
	// PacketsLost is the cumulative number of packets lost (RFC 3550
	// appendix A.3: expected minus received, so duplicates can make it
	// negative).
	PacketsLost int64
	// Jitter is the interarrival jitter of RFC 3550 appendix A.8 (audio
	// packets only; telephone-event packets keep their timestamp and would
	// distort it).
	Jitter time.Duration
	// PacketsDuplicate counts packets received twice; PacketsLate those
	// that arrived after their playout time; PacketsDiscarded those the
	// jitter buffer threw away (SSRC change, sequence restart, overflow).
	PacketsDuplicate, PacketsLate, PacketsDiscarded uint64
	// PacketsIgnored counts packets of payload types the session does not
	// accept; PacketsInvalid malformed packets (and SRTP replays).
	PacketsIgnored, PacketsInvalid uint64
	// AuthFailures counts SRTP and SRTCP packets that failed
	// authentication (wrong key or forged); they are dropped.
	AuthFailures uint64
	// PlayoutDelay is the current delay of the jitter buffer.
	PlayoutDelay time.Duration

	// RTCPSent and RTCPReceived count RTCP compound packets.
	RTCPSent, RTCPReceived uint64
	// RTT is the round-trip time from the last report block about our
	// stream (RFC 3550 section 6.4.1); zero until measured. Its resolution
	// is 1/65536 s.
	RTT time.Duration
	// RemotePacketsLost, RemoteFractionLost and RemoteJitter are what the
	// remote reported about our stream in its last report block.
	RemotePacketsLost  int64
	RemoteFractionLost float64
	RemoteJitter       time.Duration
	// RemoteCNAME is the remote's RTCP canonical name, when it sent one.
	RemoteCNAME string

	// FirstReceived is when the first valid RTP packet arrived (zero if
	// none yet: python-sipsimple's audio_was_received is
	// !FirstReceived.IsZero()); LastReceived when the latest one did,
	// for a "no audio for N seconds" timer.
	FirstReceived, LastReceived time.Time

	// EventsDropped counts events lost because the Events channel was
	// full.
	EventsDropped uint64
}

const (
	maxDropout  = 3000
	maxMisorder = 100
	seqMod      = 1 << 16
)

// sourceState is the per-source reception state of RFC 3550 appendix A.1
// (sequence validation, with no probation), A.3 (loss) and A.8 (jitter).
type sourceState struct {
	ssrc          uint32
	maxSeq        uint16
	cycles        uint64
	baseSeq       uint64
	badSeq        uint32
	received      uint64
	expectedPrior uint64
	receivedPrior uint64
	haveTransit   bool
	transit       int32
	jitter        float64 // in timestamp units
	jitterClock   int
	receivedSince bool  // a packet arrived since the last report
	lostPrior     int64 // loss before a sequence restart
}

func (s *sourceState) init(ssrc uint32, seq uint16) {
	*s = sourceState{ssrc: ssrc, maxSeq: seq, baseSeq: uint64(seq), badSeq: seqMod + 1}
}

// update applies RFC 3550 A.1 update_seq. It returns false when the packet
// must be dropped (first packet after a large jump) and restarted=true
// when the sequence was re-initialised (second packet after the jump).
func (s *sourceState) update(seq uint16) (ok, restarted bool) {
	udelta := seq - s.maxSeq
	switch {
	case udelta < maxDropout:
		if seq < s.maxSeq {
			s.cycles += seqMod
		}
		s.maxSeq = seq
	case udelta <= seqMod-maxMisorder:
		if uint32(seq) == s.badSeq {
			// Two sequential packets after a jump: the sender restarted.
			lost := s.lost()
			s.init(s.ssrc, seq)
			s.lostPrior = lost
			restarted = true
		} else {
			s.badSeq = (uint32(seq) + 1) & (seqMod - 1)
			return false, false
		}
	default:
		// duplicate or reordered packet
	}
	s.received++
	s.receivedSince = true
	return true, restarted
}

// extended returns the extended sequence number of seq relative to the
// highest one seen (so a late packet from before a wrap gets the old cycle).
func (s *sourceState) extended(seq uint16) uint64 {
	maxExt := s.cycles + uint64(s.maxSeq)
	ext := int64(maxExt) + int64(int16(seq-s.maxSeq))
	if ext < 0 {
		ext = 0
	}
	return uint64(ext)
}

func (s *sourceState) extendedMax() uint64 { return s.cycles + uint64(s.maxSeq) }

// lost returns the cumulative loss of A.3.
func (s *sourceState) lost() int64 {
	expected := s.extendedMax() - s.baseSeq + 1
	return s.lostPrior + int64(expected) - int64(s.received)
}

// fraction computes the fraction lost since the previous call (A.3) as the
// 8-bit fixed-point value of a report block.
func (s *sourceState) fraction() uint8 {
	expected := s.extendedMax() - s.baseSeq + 1
	expInterval := int64(expected - s.expectedPrior)
	s.expectedPrior = expected
	recInterval := int64(s.received - s.receivedPrior)
	s.receivedPrior = s.received
	lostInterval := expInterval - recInterval
	if expInterval == 0 || lostInterval <= 0 {
		return 0
	}
	return uint8(min((lostInterval<<8)/expInterval, 255))
}

// updateJitter applies A.8 with the arrival time in timestamp units.
func (s *sourceState) updateJitter(arrival time.Duration, ts uint32, clock int) {
	if clock != s.jitterClock {
		s.jitterClock, s.haveTransit, s.jitter = clock, false, 0
	}
	secs, frac := uint64(arrival/time.Second), uint64(arrival%time.Second)
	arr := uint32(secs*uint64(clock) + frac*uint64(clock)/uint64(time.Second))
	transit := int32(arr - ts)
	if s.haveTransit {
		d := transit - s.transit
		if d < 0 {
			d = -d
		}
		s.jitter += (float64(d) - s.jitter) / 16
	}
	s.transit, s.haveTransit = transit, true
}

func (s *sourceState) jitterDuration() time.Duration {
	if s.jitterClock == 0 {
		return 0
	}
	return time.Duration(s.jitter * float64(time.Second) / float64(s.jitterClock))
}
