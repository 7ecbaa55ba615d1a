package sdp

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Description is a session description: the o= and s= lines, the
// session-level connection address, bandwidth and attributes, and the media
// streams (m= sections) in their order.
//
// The zero value is an empty description; [Description.Marshal] always writes
// v=0 and t=0 0.
type Description struct {
	// Origin is the o= line.
	Origin Origin
	// Name is the s= line; Marshal writes "s= " when it is empty, as
	// RFC 4566 section 5.3 recommends.
	Name string
	// Address is the session-level c= address, "" when there is none. It
	// may be an IPv4 or IPv6 address or a host name, and keeps a multicast
	// "/ttl" suffix as it was written.
	Address string
	// Bandwidth holds the session-level b= lines.
	Bandwidth []Bandwidth
	// Attributes holds the session-level a= lines in order. Session-level
	// direction attributes are not kept here: Parse applies them to every
	// media stream without its own direction (see [Media.Direction]).
	Attributes []Attribute
	// Media holds the m= sections in order. Per RFC 3264 m= lines are never
	// removed from a dialog's descriptions: a removed stream keeps its slot
	// with port 0 (see [Description.RemoveMedia]).
	Media []Media
}

// Origin is the o= line (RFC 4566 section 5.2).
type Origin struct {
	// Username is the originator's login, "-" when there is none; Marshal
	// writes "-" for an empty Username.
	Username string
	// SessionID identifies the session; it stays the same for the whole
	// dialog.
	SessionID uint64
	// SessionVersion is incremented each time the description changes.
	SessionVersion uint64
	// Address is the originator's address (IPv4, IPv6 or host name). The
	// address type (IP4 or IP6) is derived from it when marshalling.
	Address string
}

// Bandwidth is a b= line (RFC 4566 section 5.8, RFC 3556): Type is "AS",
// "CT", "TIAS", "RS", "RR" or an extension ("X-..."); Value is in
// kilobits per second (bits per second for TIAS, RS and RR).
type Bandwidth struct {
	Type  string
	Value uint64
}

// String returns the b= value, e.g. "AS:64".
func (b Bandwidth) String() string {
	return b.Type + ":" + strconv.FormatUint(b.Value, 10)
}

// Attribute is an a= line: "a=Key:Value", or "a=Key" for a property
// attribute (Value "").
type Attribute struct {
	Key   string
	Value string
}

// String returns the a= value, e.g. "accept-types:text/plain" or
// "sendrecv".
func (a Attribute) String() string {
	if a.Value == "" {
		return a.Key
	}
	return a.Key + ":" + a.Value
}

// Media is one m= section: a stream the session offers or answers.
type Media struct {
	// Type is the media type: "audio", "video", "message", "image",
	// "application" or any other token.
	Type string
	// Port is the transport port; 0 means the stream is rejected or
	// removed (RFC 3264 sections 6 and 8.2).
	Port int
	// Proto is the transport protocol as written: "RTP/AVP", "RTP/SAVP",
	// "RTP/AVPF", "TCP/MSRP", "TCP/TLS/MSRP", "udptl", ...
	Proto string
	// Formats is the m= line's format list in order: payload type numbers
	// for RTP ("0", "8", "101"; written in canonical decimal, duplicates
	// removed), "*" for MSRP, anything else as written for other protocols.
	//
	// For RTP streams, Marshal takes the format list from Codecs when Codecs
	// is not empty, so that an answer built by replacing Codecs needs no
	// other change; Formats is then informational.
	Formats []string
	// Codecs holds, for RTP streams, one entry per payload type of the
	// format list, in order, resolved from a=rtpmap, a=fmtp and the static
	// table of RFC 3551. A dynamic payload type without a=rtpmap gets a
	// Codec with an empty Name. Codecs is nil for other protocols (and
	// Marshal ignores it there), and for an RTP m= line whose format list
	// is not made of payload type numbers (Formats then keeps it as
	// written).
	Codecs []Codec
	// Address is the stream's connection address: its own c= line, or the
	// session-level one when it has none. Marshal writes a media-level c=
	// only when Address differs from the session's.
	Address string
	// Direction is the stream's direction: its own direction attribute, or
	// the session-level one, or SendRecv when there is neither. Marshal
	// always writes it as a media-level attribute.
	Direction Direction
	// Ptime is a=ptime in milliseconds, 0 when absent.
	Ptime int
	// MaxPtime is a=maxptime in milliseconds, 0 when absent.
	MaxPtime int
	// Crypto holds the a=crypto lines (SDES, RFC 4568) in order.
	Crypto []Crypto
	// RTCPPort is the a=rtcp port (RFC 3605), 0 when absent.
	RTCPPort int
	// RTCPAddress is the address of a=rtcp when it carries one, else "".
	RTCPAddress string
	// Bandwidth holds the media-level b= lines.
	Bandwidth []Bandwidth
	// Attributes holds every other a= line of the section, in order: for
	// MSRP a=path, a=accept-types, a=accept-wrapped-types, a=setup, ...;
	// unknown attributes are kept as they are.
	Attributes []Attribute
}

// IsRTP reports whether the stream's transport is RTP: Proto has an "RTP"
// component ("RTP/AVP", "RTP/SAVP", "RTP/AVPF", "UDP/TLS/RTP/SAVPF", ...).
func (m Media) IsRTP() bool {
	for p := range strings.SplitSeq(m.Proto, "/") {
		if strings.EqualFold(p, "RTP") {
			return true
		}
	}
	return false
}

// Rejected reports whether the stream is rejected or removed: its port is 0
// (RFC 3264 sections 6 and 8.2).
func (m Media) Rejected() bool {
	return m.Port == 0
}

// Hold reports whether the party that sent this m= section put the stream
// on hold: its direction is sendonly or inactive, or its connection address
// is 0.0.0.0 (the RFC 2543 way, RFC 3264 section 8.4; "::" counts as well).
// A rejected stream (port 0) is not on hold.
func (m Media) Hold() bool {
	if m.Rejected() {
		return false
	}
	if m.Direction == SendOnly || m.Direction == Inactive {
		return true
	}
	return isUnspecified(m.Address)
}

// isUnspecified reports whether addr is 0.0.0.0 or :: (ignoring a "/ttl"
// suffix).
func isUnspecified(addr string) bool {
	if i := strings.IndexByte(addr, '/'); i >= 0 {
		addr = addr[:i]
	}
	ip, err := netip.ParseAddr(addr)
	return err == nil && ip.IsUnspecified()
}

// Codec returns the codec with payload type pt.
func (m Media) Codec(pt uint8) (Codec, bool) {
	for _, c := range m.Codecs {
		if c.PayloadType == pt {
			return c, true
		}
	}
	return Codec{}, false
}

// Attribute returns the value of the first attribute named key (compared
// case-sensitively) among the stream's other attributes.
func (m Media) Attribute(key string) (value string, ok bool) {
	return findAttribute(m.Attributes, key)
}

// Attribute returns the value of the first session-level attribute named key
// (compared case-sensitively).
func (d *Description) Attribute(key string) (value string, ok bool) {
	return findAttribute(d.Attributes, key)
}

func findAttribute(attrs []Attribute, key string) (string, bool) {
	for _, a := range attrs {
		if a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

// Clone returns a deep copy of d; changing the copy leaves d untouched.
func (d *Description) Clone() *Description {
	if d == nil {
		return nil
	}
	c := *d
	c.Bandwidth = slices.Clone(d.Bandwidth)
	c.Attributes = slices.Clone(d.Attributes)
	if d.Media != nil {
		c.Media = make([]Media, len(d.Media))
		for i := range d.Media {
			c.Media[i] = d.Media[i].Clone()
		}
	}
	return &c
}

// Clone returns a deep copy of m.
func (m Media) Clone() Media {
	m.Formats = slices.Clone(m.Formats)
	m.Codecs = slices.Clone(m.Codecs)
	m.Bandwidth = slices.Clone(m.Bandwidth)
	m.Attributes = slices.Clone(m.Attributes)
	if m.Crypto != nil {
		cs := make([]Crypto, len(m.Crypto))
		for i, c := range m.Crypto {
			c.SessionParams = slices.Clone(c.SessionParams)
			cs[i] = c
		}
		m.Crypto = cs
	}
	return m
}

// formatList returns the m= line's format list per the rule documented on
// Media.Formats.
func (m Media) formatList() []string {
	if len(m.Codecs) == 0 || !m.IsRTP() {
		return m.Formats
	}
	out := make([]string, 0, len(m.Codecs))
	for i, c := range m.Codecs {
		dup := false
		for _, p := range m.Codecs[:i] {
			if p.PayloadType == c.PayloadType {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, strconv.Itoa(int(c.PayloadType)))
		}
	}
	return out
}
