package rtp

import (
	"net/netip"
	"time"
)

// eventQueueSize bounds the Events channel.
const eventQueueSize = 64

// Event is something that happened on a session, delivered on the channel
// returned by Session.Events. The concrete types are DTMFReceived,
// FirstPacketReceived, RemoteSourceChanged, SSRCChanged and ByeReceived.
type Event interface {
	// EventTime is when the session noticed the event.
	EventTime() time.Time
}

// DTMFReceived reports one RFC 4733 telephone-event, once, when its first
// packet arrives (retransmissions and the update and end packets of the
// same event are not reported again).
type DTMFReceived struct {
	// Digit is '0'-'9', '*', '#' or 'A'-'D'; 0 for events 16-255
	// (flash and other RFC 4734 events, given in Event).
	Digit rune
	// Event is the event code (0-9 digits, 10 '*', 11 '#', 12-15 'A'-'D').
	Event uint8
	// Volume is the power level in -dBm0 (0-63) of the first packet seen.
	Volume uint8
	// Timestamp is the RTP timestamp of the event (the start of the tone).
	Timestamp uint32
	// SSRC identifies the sender.
	SSRC uint32
	// End is set when the first packet seen was already an end packet (the
	// start was lost).
	End bool
	// Time is when the packet arrived.
	Time time.Time
}

// FirstPacketReceived reports the first valid RTP packet of the session
// (what python-sipsimple calls audio_was_received). It comes once; the
// channel of Session.FirstPacket is closed at the same moment.
type FirstPacketReceived struct {
	From netip.AddrPort
	SSRC uint32
	Time time.Time
}

// RemoteSourceChanged reports that symmetric RTP latched: packets now go
// to To, where the remote's packets really come from, instead of From.
type RemoteSourceChanged struct {
	From, To netip.AddrPort
	// RTCP is set when the RTCP destination changed, not the RTP one.
	RTCP bool
	Time time.Time
}

// SSRCChanged reports that the remote switched to a new synchronisation
// source: the jitter buffer and the reception statistics restarted.
type SSRCChanged struct {
	Old, New uint32
	Time     time.Time
}

// ByeReceived reports an RTCP BYE from the remote source.
type ByeReceived struct {
	SSRC   uint32
	Reason string
	Time   time.Time
}

// EventTime returns e.Time.
func (e DTMFReceived) EventTime() time.Time { return e.Time }

// EventTime returns e.Time.
func (e FirstPacketReceived) EventTime() time.Time { return e.Time }

// EventTime returns e.Time.
func (e RemoteSourceChanged) EventTime() time.Time { return e.Time }

// EventTime returns e.Time.
func (e SSRCChanged) EventTime() time.Time { return e.Time }

// EventTime returns e.Time.
func (e ByeReceived) EventTime() time.Time { return e.Time }

// emit queues ev without blocking; when the consumer is too slow the event
// is dropped, counted in Stats.EventsDropped and logged. It is only called
// by the receive goroutines, which Close waits for before closing the
// channel.
func (s *Session) emit(ev Event) {
	select {
	case s.events <- ev:
	default:
		if s.eventsDropped.Add(1) == 1 {
			s.log.Warn("rtp: event queue full, dropping events", "capacity", eventQueueSize, "event", ev)
		}
	}
}
