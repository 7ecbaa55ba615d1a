package sdp

import (
	"strconv"
	"strings"
)

// Codec is an RTP payload format of a stream: a payload type number with the
// a=rtpmap and a=fmtp it carries (RFC 4566 section 6, RFC 3551).
type Codec struct {
	// PayloadType is the RTP payload type, 0-127.
	PayloadType uint8
	// Name is the encoding name ("PCMU", "opus", "telephone-event"), "" for
	// a dynamic payload type the description does not map.
	Name string
	// ClockRate is the RTP clock rate in Hz. For G722 it is 8000 although
	// the codec samples at 16 kHz (RFC 3551 section 4.5.2).
	ClockRate uint32
	// Channels is the number of audio channels; 1 when the rtpmap has no
	// encoding parameters. 0 is read as 1.
	Channels uint16
	// Fmtp is the a=fmtp format-specific parameters ("0-16", "useinbandfec=1"),
	// "" when there is none.
	Fmtp string
}

// String returns the rtpmap encoding, e.g. "PCMU/8000" or "opus/48000/2".
func (c Codec) String() string {
	s := c.Name + "/" + strconv.FormatUint(uint64(c.ClockRate), 10)
	if c.Channels > 1 {
		s += "/" + strconv.FormatUint(uint64(c.Channels), 10)
	}
	return s
}

func (c Codec) channels() uint16 {
	if c.Channels == 0 {
		return 1
	}
	return c.Channels
}

// Matches reports whether c and other are the same payload format: same
// encoding name (case-insensitive, RFC 4566 section 6), clock rate and
// channel count. Payload type numbers and fmtp are not compared. A codec
// without a name matches nothing.
func (c Codec) Matches(other Codec) bool {
	return c.Name != "" && strings.EqualFold(c.Name, other.Name) &&
		c.ClockRate == other.ClockRate && c.channels() == other.channels()
}

// staticCodecs is the RFC 3551 table of static payload types (sections 6,
// tables 4 and 5).
var staticCodecs = map[uint8]Codec{
	0:  {PayloadType: 0, Name: "PCMU", ClockRate: 8000, Channels: 1},
	3:  {PayloadType: 3, Name: "GSM", ClockRate: 8000, Channels: 1},
	4:  {PayloadType: 4, Name: "G723", ClockRate: 8000, Channels: 1},
	5:  {PayloadType: 5, Name: "DVI4", ClockRate: 8000, Channels: 1},
	6:  {PayloadType: 6, Name: "DVI4", ClockRate: 16000, Channels: 1},
	7:  {PayloadType: 7, Name: "LPC", ClockRate: 8000, Channels: 1},
	8:  {PayloadType: 8, Name: "PCMA", ClockRate: 8000, Channels: 1},
	9:  {PayloadType: 9, Name: "G722", ClockRate: 8000, Channels: 1},
	10: {PayloadType: 10, Name: "L16", ClockRate: 44100, Channels: 2},
	11: {PayloadType: 11, Name: "L16", ClockRate: 44100, Channels: 1},
	12: {PayloadType: 12, Name: "QCELP", ClockRate: 8000, Channels: 1},
	13: {PayloadType: 13, Name: "CN", ClockRate: 8000, Channels: 1},
	14: {PayloadType: 14, Name: "MPA", ClockRate: 90000, Channels: 1},
	15: {PayloadType: 15, Name: "G728", ClockRate: 8000, Channels: 1},
	16: {PayloadType: 16, Name: "DVI4", ClockRate: 11025, Channels: 1},
	17: {PayloadType: 17, Name: "DVI4", ClockRate: 22050, Channels: 1},
	18: {PayloadType: 18, Name: "G729", ClockRate: 8000, Channels: 1},
	25: {PayloadType: 25, Name: "CelB", ClockRate: 90000, Channels: 1},
	26: {PayloadType: 26, Name: "JPEG", ClockRate: 90000, Channels: 1},
	28: {PayloadType: 28, Name: "nv", ClockRate: 90000, Channels: 1},
	31: {PayloadType: 31, Name: "H261", ClockRate: 90000, Channels: 1},
	32: {PayloadType: 32, Name: "MPV", ClockRate: 90000, Channels: 1},
	33: {PayloadType: 33, Name: "MP2T", ClockRate: 90000, Channels: 1},
	34: {PayloadType: 34, Name: "H263", ClockRate: 90000, Channels: 1},
}

// StaticCodec returns the codec RFC 3551 assigns to the static payload type
// pt (0 PCMU/8000, 8 PCMA/8000, 9 G722/8000, 18 G729/8000, 13 CN/8000, ...).
func StaticCodec(pt uint8) (Codec, bool) {
	c, ok := staticCodecs[pt]
	return c, ok
}

// NegotiateCodecs returns the offered codecs that the local side supports,
// for the answer to an RTP stream (RFC 3264 section 6.1). A codec is
// supported when one of supported [Codec.Matches] it (name compared
// case-insensitively, clock rate, channels); telephone-event is matched the
// same way, so telephone-event/8000 in the offer needs telephone-event/8000
// in supported.
//
// The result keeps the offer's order and the offer's payload type numbers:
// the answer must use the offerer's numbers even for dynamic types. Its Fmtp
// is the supported codec's when that is not empty (the fmtp of an answer
// describes what the answerer receives), else the offered one. An empty
// result means there is no codec in common and the stream has to be
// rejected ([RejectMedia]).
func NegotiateCodecs(offered, supported []Codec) []Codec {
	var out []Codec
	for _, o := range offered {
		for _, s := range supported {
			if o.Matches(s) {
				c := o
				if s.Fmtp != "" {
					c.Fmtp = s.Fmtp
				}
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// parsePayloadType parses a payload type number, 0-127.
func parsePayloadType(s string) (uint8, bool) {
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil || n > 127 {
		return 0, false
	}
	return uint8(n), true
}

// parseRtpmap parses an a=rtpmap value: "<pt> <name>/<rate>[/<channels>]".
func parseRtpmap(v string) (Codec, bool) {
	ptStr, rest, ok := cutField(v)
	if !ok {
		return Codec{}, false
	}
	pt, ok := parsePayloadType(ptStr)
	if !ok || strings.ContainsAny(rest, " \t") {
		return Codec{}, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
		return Codec{}, false
	}
	rate, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil || rate == 0 {
		return Codec{}, false
	}
	c := Codec{PayloadType: pt, Name: parts[0], ClockRate: uint32(rate), Channels: 1}
	if len(parts) == 3 {
		ch, err := strconv.ParseUint(parts[2], 10, 16)
		if err != nil {
			return Codec{}, false
		}
		if ch > 1 {
			c.Channels = uint16(ch)
		}
	}
	return c, true
}

// parseFmtp parses an a=fmtp value: "<pt> <parameters>".
func parseFmtp(v string) (pt uint8, params string, ok bool) {
	ptStr, rest, ok := cutField(v)
	if !ok {
		return 0, "", false
	}
	pt, ok = parsePayloadType(ptStr)
	return pt, rest, ok
}

// cutField splits "first rest" at the first run of blanks; both parts must be
// non-empty.
func cutField(v string) (first, rest string, ok bool) {
	i := strings.IndexAny(v, " \t")
	if i <= 0 {
		return "", "", false
	}
	first, rest = v[:i], strings.Trim(v[i:], " \t")
	return first, rest, rest != ""
}
