package rtp

import (
	"fmt"
	"log/slog"
	"net/netip"
	"time"
)

// Defaults used when the matching Config field is zero.
const (
	// DefaultClockRate is the RTP clock rate assumed for a payload type
	// Config.PayloadTypes does not list (PCMU, PCMA, G.722 and their
	// telephone-event all use 8000 Hz).
	DefaultClockRate = 8000
	// DefaultPTime is the packetisation interval of DTMF updates.
	DefaultPTime = 20 * time.Millisecond
	// DefaultMinDelay and DefaultMaxDelay bound the adaptive playout delay
	// of the jitter buffer.
	DefaultMinDelay = 40 * time.Millisecond
	DefaultMaxDelay = 200 * time.Millisecond
	// DefaultRTCPInterval is the mean interval between RTCP reports
	// (RFC 3550 section 6.2: 5 seconds minimum).
	DefaultRTCPInterval = 5 * time.Second
	// MaxPayloadSize is the largest payload WritePayload sends; it keeps an
	// SRTP packet inside a 1500-byte Ethernet MTU.
	MaxPayloadSize = 1400
)

// PortRange is an inclusive range of UDP ports, like python-sipsimple's
// rtp.port_range setting (default 50000-50500). The zero value means any
// free port.
type PortRange struct {
	Min, Max uint16
}

// String returns the range as "min-max".
func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.Min, r.Max) }

// IsZero reports whether r is the zero range (any free port).
func (r PortRange) IsZero() bool { return r.Min == 0 && r.Max == 0 }

// validate checks that r holds at least one even RTP port followed by its
// RTCP port.
func (r PortRange) validate() error {
	if r.IsZero() {
		return nil
	}
	if r.Min == 0 || r.Min > r.Max {
		return fmt.Errorf("rtp: port range %s: want 1 <= min <= max", r)
	}
	first := int(r.Min) + int(r.Min)%2
	if first+1 > int(r.Max) {
		return fmt.Errorf("rtp: port range %s holds no even RTP port with its RTCP port (port+1)", r)
	}
	return nil
}

// SymmetricMode says whether the session sends its packets to the address
// the remote's packets really come from (symmetric RTP, RFC 4961; "comedia"
// latching). The zero value, SymmetricOn, is the default.
type SymmetricMode uint8

const (
	// SymmetricOn latches onto the source address of the remote's packets
	// once they arrive from somewhere other than the signalled address.
	SymmetricOn SymmetricMode = iota
	// SymmetricOff always sends to the address given to SetRemote.
	SymmetricOff
)

// String returns "on" or "off".
func (m SymmetricMode) String() string {
	switch m {
	case SymmetricOn:
		return "on"
	case SymmetricOff:
		return "off"
	}
	return fmt.Sprintf("SymmetricMode(%d)", uint8(m))
}

// Config is the configuration of one RTP session. The zero value is usable:
// it binds an even port on 0.0.0.0, accepts every payload type at 8000 Hz,
// latches onto the remote's real address, runs an adaptive jitter buffer
// between 40 and 200 ms, sends RTCP reports every 5 s on average, and uses
// no SRTP and no telephone-event.
type Config struct {
	// LocalAddr is the address the RTP and RTCP sockets bind to. The zero
	// value binds 0.0.0.0; an unspecified IPv6 address (::) binds both
	// families. A session layer normally gives the concrete address it puts
	// in its SDP c= line.
	LocalAddr netip.Addr
	// PortRange is where the even RTP port is chosen (RTCP takes port+1,
	// which must be inside the range too). Ports in use are skipped. The
	// zero value takes any free even port the system gives.
	PortRange PortRange
	// Symmetric selects symmetric RTP (default on).
	Symmetric SymmetricMode

	// PayloadTypes maps each payload type the session accepts to its RTP
	// clock rate in Hz (0: 8000, 8: 8000, 9: 8000 for G.722, 111: 48000 for
	// Opus...). Packets of payload types not in the map are dropped and
	// counted in Stats.PacketsIgnored. A nil map accepts every payload type
	// (Received.PayloadType tells the caller which) at DefaultClockRate.
	// The clock rate of the payload types the session sends is also taken
	// from here (for RTCP sender reports and DTMF durations).
	PayloadTypes map[uint8]int
	// DTMFPayloadType is the payload type of RFC 4733 telephone-event
	// packets to recognise on reception (the a=rtpmap:<pt> telephone-event
	// of the local SDP). Zero disables recognition: payload type 0 is PCMU,
	// never telephone-event.
	DTMFPayloadType uint8
	// DeferReceive makes the receive goroutines wait for StartReceiving
	// (or Close) before reading: what arrives in between waits in the
	// sockets' buffers, so a stream whose payload types and keys are not
	// known yet (an offer out, its answer not applied) loses nothing.
	DeferReceive bool
	// PTime is the interval between DTMF update packets (the a=ptime of
	// the stream); zero means 20 ms.
	PTime time.Duration

	// MinDelay and MaxDelay bound the playout delay of the jitter buffer;
	// zero means 40 ms and 200 ms.
	MinDelay, MaxDelay time.Duration
	// DisableJitterBuffer hands packets out in arrival order as soon as
	// they arrive, for a consumer that runs its own jitter buffer.
	DisableJitterBuffer bool

	// SRTP, when not nil, protects RTP and RTCP with SRTP and SRTCP
	// (RFC 3711) using SDES keys (RFC 4568).
	SRTP *SRTPConfig

	// RTCPInterval is the mean interval between RTCP reports; each actual
	// interval is randomised in [0.5, 1.5] times it (RFC 3550 section 6.3).
	// Zero means 5 s; a negative value sends no reports (received RTCP is
	// still processed, and a BYE is still sent on Close).
	RTCPInterval time.Duration
	// CNAME is the RTCP canonical name; empty means a random one
	// (RFC 7022).
	CNAME string

	// Logger receives debug and warning messages; nil discards them.
	Logger *slog.Logger
}

// normalized returns c with defaults filled in, or an error naming the
// first invalid field.
func (c Config) normalized() (Config, error) {
	if !c.LocalAddr.IsValid() {
		c.LocalAddr = netip.IPv4Unspecified()
	}
	c.LocalAddr = c.LocalAddr.Unmap()
	if c.LocalAddr.Zone() != "" && !c.LocalAddr.Is6() {
		return c, fmt.Errorf("rtp: local address %s has a zone but is not IPv6", c.LocalAddr)
	}
	if err := c.PortRange.validate(); err != nil {
		return c, err
	}
	if c.Symmetric > SymmetricOff {
		return c, fmt.Errorf("rtp: invalid symmetric mode %d", c.Symmetric)
	}
	pts, err := copyPayloadTypes(c.PayloadTypes)
	if err != nil {
		return c, err
	}
	c.PayloadTypes = pts
	if c.DTMFPayloadType > 127 {
		return c, fmt.Errorf("rtp: DTMF payload type %d out of range 0-127", c.DTMFPayloadType)
	}
	if c.PTime < 0 {
		return c, fmt.Errorf("rtp: ptime %v is negative", c.PTime)
	}
	if c.PTime == 0 {
		c.PTime = DefaultPTime
	}
	if c.PTime < time.Millisecond || c.PTime > time.Second {
		return c, fmt.Errorf("rtp: ptime %v out of range 1ms-1s", c.PTime)
	}
	if c.MinDelay < 0 || c.MaxDelay < 0 {
		return c, fmt.Errorf("rtp: jitter buffer delays %v-%v must not be negative", c.MinDelay, c.MaxDelay)
	}
	if c.MinDelay == 0 {
		c.MinDelay = DefaultMinDelay
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = max(DefaultMaxDelay, c.MinDelay)
	}
	if c.MinDelay > c.MaxDelay {
		return c, fmt.Errorf("rtp: jitter buffer minimum delay %v exceeds maximum %v", c.MinDelay, c.MaxDelay)
	}
	if c.MaxDelay > 10*time.Second {
		return c, fmt.Errorf("rtp: jitter buffer maximum delay %v exceeds 10s", c.MaxDelay)
	}
	if c.SRTP != nil {
		s := *c.SRTP
		if err := s.validate(); err != nil {
			return c, err
		}
		c.SRTP = s.clone()
	}
	if c.RTCPInterval == 0 {
		c.RTCPInterval = DefaultRTCPInterval
	}
	if c.CNAME == "" {
		c.CNAME = randomCNAME()
	}
	if len(c.CNAME) > 255 {
		return c, fmt.Errorf("rtp: CNAME of %d bytes exceeds 255", len(c.CNAME))
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// copyPayloadTypes validates m and returns a private copy (nil stays nil).
func copyPayloadTypes(m map[uint8]int) (map[uint8]int, error) {
	if m == nil {
		return nil, nil
	}
	out := make(map[uint8]int, len(m))
	for pt, rate := range m {
		if pt > 127 {
			return nil, fmt.Errorf("rtp: payload type %d out of range 0-127", pt)
		}
		if rate <= 0 || rate > 1_000_000 {
			return nil, fmt.Errorf("rtp: payload type %d: clock rate %d out of range 1-1000000", pt, rate)
		}
		out[pt] = rate
	}
	return out, nil
}
