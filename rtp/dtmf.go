package rtp

import (
	"encoding/binary"
	"fmt"
	"time"
)

const (
	// dtmfQueueSize bounds the digits SendDTMF queues (PJSIP keeps 32).
	dtmfQueueSize = 32
	// dtmfVolume is the power level of sent events, in -dBm0.
	dtmfVolume = 10
	// dtmfEndPackets is how often the final packet of an event is sent
	// (RFC 4733 section 2.5.1.4).
	dtmfEndPackets = 3
	// dtmfRecent is how many reported events are remembered to ignore
	// late retransmissions.
	dtmfRecent = 8
)

// TelephoneEvent is the 4-octet payload of an RFC 4733 telephone-event
// packet (section 2.3).
type TelephoneEvent struct {
	// Event is the event code: 0-9, 10 '*', 11 '#', 12-15 'A'-'D' for DTMF.
	Event uint8
	// End is the E bit: the event has ended.
	End bool
	// Volume is the power level in -dBm0, 0-63.
	Volume uint8
	// Duration is the duration of the event so far, in RTP clock units.
	Duration uint16
}

// ParseTelephoneEvent decodes the first event block of a telephone-event
// payload.
func ParseTelephoneEvent(b []byte) (TelephoneEvent, error) {
	if len(b) < 4 {
		return TelephoneEvent{}, fmt.Errorf("rtp: telephone-event payload of %d bytes, want 4", len(b))
	}
	return TelephoneEvent{
		Event:    b[0],
		End:      b[1]&0x80 != 0,
		Volume:   b[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(b[2:4]),
	}, nil
}

// AppendTo appends the 4-octet encoding of e to b (the R bit is zero; a
// volume above 63 is clamped).
func (e TelephoneEvent) AppendTo(b []byte) []byte {
	flags := min(e.Volume, 63)
	if e.End {
		flags |= 0x80
	}
	return append(b, e.Event, flags, byte(e.Duration>>8), byte(e.Duration))
}

// DigitEvent returns the RFC 4733 event code of a DTMF digit: '0'-'9',
// '*', '#', 'A'-'D' (lower case accepted).
func DigitEvent(digit rune) (uint8, bool) {
	switch {
	case digit >= '0' && digit <= '9':
		return uint8(digit - '0'), true
	case digit == '*':
		return 10, true
	case digit == '#':
		return 11, true
	case digit >= 'A' && digit <= 'D':
		return uint8(digit-'A') + 12, true
	case digit >= 'a' && digit <= 'd':
		return uint8(digit-'a') + 12, true
	}
	return 0, false
}

// EventDigit returns the DTMF digit of an event code, or 0 for codes above
// 15.
func EventDigit(event uint8) rune {
	switch {
	case event <= 9:
		return rune('0' + event)
	case event == 10:
		return '*'
	case event == 11:
		return '#'
	case event <= 15:
		return rune('A' + event - 12)
	}
	return 0
}

// dtmfRequest is a digit waiting to be sent.
type dtmfRequest struct {
	event   uint8
	pt      uint8
	samples uint32 // total duration in clock units
	frame   uint32 // clock units per ptime
}

// dtmfTx is the digit being sent by the control goroutine.
type dtmfTx struct {
	req   dtmfRequest
	ts    uint32
	start time.Time
	dur   uint32
	sent  int
	ends  int
}

// SendDTMF sends digit ('0'-'9', '*', '#', 'A'-'D') as an RFC 4733
// telephone-event of the given duration with payload type pt (the
// negotiated telephone-event format).
//
// SendDTMF does not block: it validates its arguments, queues the digit
// (up to 32) and returns. Queued digits are sent one after another by the
// session's goroutine, paced by a timer: a start packet with the marker
// bit, an update every ptime (Config.PTime) with a growing duration, then
// the final packet with the E bit three times, one ptime apart, all with
// the event's timestamp. While an event is being sent, WritePayload
// suppresses the audio (as PJSIP does), advancing the timestamp so the
// audio resumes in time. Close sends the end packets of an event in
// progress at once and drops queued digits.
func (s *Session) SendDTMF(digit rune, duration time.Duration, pt uint8) error {
	ev, ok := DigitEvent(digit)
	if !ok {
		return fmt.Errorf("rtp: invalid DTMF digit %q: want 0-9, *, #, A-D", digit)
	}
	if pt > 127 {
		return fmt.Errorf("rtp: DTMF payload type %d out of range 0-127", pt)
	}
	if duration <= 0 {
		return fmt.Errorf("rtp: DTMF duration %v must be positive", duration)
	}
	clock := s.clockRate(pt)
	samples := uint64(duration) * uint64(clock) / uint64(time.Second)
	if samples > 0xffff {
		return fmt.Errorf("rtp: DTMF duration %v exceeds the %d-sample limit of one event at %d Hz",
			duration, 0xffff, clock)
	}
	frame := uint32(uint64(s.cfg.PTime) * uint64(clock) / uint64(time.Second))
	req := dtmfRequest{event: ev, pt: pt, samples: max(uint32(samples), 1), frame: max(frame, 1)}
	s.smu.Lock()
	defer s.smu.Unlock()
	if s.closing {
		return ErrClosed
	}
	if _, err := s.destination(); err != nil {
		return err
	}
	select {
	case s.dtmfQ <- req:
		return nil
	default:
		return fmt.Errorf("rtp: DTMF queue full (%d digits pending), digit %q not sent", dtmfQueueSize, digit)
	}
}

// startDTMF begins sending req; called by the control goroutine.
func (s *Session) startDTMF(req dtmfRequest, now time.Time) *dtmfTx {
	s.smu.Lock()
	tx := &dtmfTx{req: req, ts: s.ts, start: now}
	s.dtmfActive = true
	s.smu.Unlock()
	s.stepDTMF(tx, false)
	return tx
}

// stepDTMF sends the next packet of tx (all remaining end packets when
// final) and reports whether the event is complete.
func (s *Session) stepDTMF(tx *dtmfTx, final bool) bool {
	for {
		if tx.ends == 0 && !final {
			tx.dur = min(tx.dur+tx.req.frame, tx.req.samples)
		}
		end := final || tx.dur >= tx.req.samples
		payload := TelephoneEvent{Event: tx.req.event, End: end, Volume: dtmfVolume, Duration: uint16(tx.dur)}
		var buf [4]byte
		s.smu.Lock()
		err := s.sendLocked(tx.req.pt, tx.ts, tx.sent == 0, payload.AppendTo(buf[:0]))
		tx.sent++
		if end {
			tx.ends++
		}
		done := tx.ends >= dtmfEndPackets
		if done {
			// Audio resumes under the same lock as the last end packet:
			// a WritePayload that follows it on the wire is never
			// suppressed.
			s.finishDTMFLocked(tx)
		}
		s.smu.Unlock()
		if err != nil {
			s.log.Debug("rtp: sending DTMF", "err", err)
		}
		if done {
			return true
		}
		if !final {
			return false
		}
	}
}

// finishDTMFLocked resumes audio after tx, making sure the running
// timestamp has moved past the time the event occupied. s.smu is held.
func (s *Session) finishDTMFLocked(tx *dtmfTx) {
	s.dtmfActive = false
	end := tx.ts + uint32(tx.sent)*tx.req.frame
	if int32(end-s.ts) > 0 {
		s.ts = end
	}
}

// nextDTMFTime is when packet number tx.sent is due.
func (s *Session) nextDTMFTime(tx *dtmfTx) time.Time {
	return tx.start.Add(time.Duration(tx.sent) * s.cfg.PTime)
}

// dtmfRecv deduplicates received telephone-events.
type dtmfRecv struct {
	have   bool
	ssrc   uint32
	ts     uint32
	event  uint8
	ended  bool
	dur    uint16
	recent [dtmfRecent][2]uint32 // (ssrc, ts) of reported events
	n      int
}

// handle records one telephone-event packet and reports whether it starts
// a new event.
func (d *dtmfRecv) handle(ssrc, ts uint32, ev TelephoneEvent) bool {
	if d.have && ssrc == d.ssrc {
		if ts == d.ts {
			d.ended = d.ended || ev.End
			d.dur = max(d.dur, ev.Duration)
			return false
		}
		if int32(ts-d.ts) < 0 {
			return false // a late packet of an earlier event
		}
		if !d.ended && ev.Event == d.event && ts == d.ts+uint32(d.dur) {
			// The next segment of a long event (RFC 4733 section 2.5.1.3).
			d.ts, d.dur, d.ended = ts, ev.Duration, ev.End
			return false
		}
	}
	for i := 0; i < min(d.n, dtmfRecent); i++ {
		if d.recent[i] == [2]uint32{ssrc, ts} {
			return false
		}
	}
	d.recent[d.n%dtmfRecent] = [2]uint32{ssrc, ts}
	d.n++
	d.have, d.ssrc, d.ts, d.event, d.ended, d.dur = true, ssrc, ts, ev.Event, ev.End, ev.Duration
	return true
}
