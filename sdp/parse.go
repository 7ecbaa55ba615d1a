package sdp

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"
)

// ErrInvalid is wrapped by every error [Parse] returns: the input is not a
// session description it can use.
var ErrInvalid = errors.New("sdp: invalid session description")

// line is one non-blank line of the input.
type line struct {
	num int    // 1-based line number in the input
	typ byte   // 'v', 'o', 'm', ...
	val string // what follows "x="
}

func (l line) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: line %d %q: %s", ErrInvalid, l.num, string(l.typ)+"="+l.val, fmt.Sprintf(format, args...))
}

// mediaHead is what Parse keeps of an m= section besides pion's result.
type mediaHead struct {
	typ, proto string
	bandwidth  []Bandwidth
}

// Parse parses a session description.
//
// It is tolerant of what real implementations send: CRLF, LF or CR line
// ends, blanks around lines, blank lines, a missing s= or t= line,
// session-level lines in any order (c= after t=), lower-case "in"/"ip4",
// "c=IN IP4 0.0.0.0", any media type and transport protocol. It rejects input
// that is not SDP (no v=0 or o= line, a line that is not "<letter>=...", a
// type letter RFC 4566 does not define, an m= line without port and
// protocol, an invalid o=, c= or t= line) with an error wrapping
// [ErrInvalid]. It never panics.
//
// The result's Media.Address is each stream's effective address and
// Media.Direction its effective direction (media-level attributes override
// session-level ones). Malformed b= lines are dropped; a=rtpmap, a=fmtp,
// a=ptime, a=maxptime, a=rtcp and a=crypto lines that do not parse, or that
// repeat one already taken, stay in Media.Attributes as they were.
func Parse(b []byte) (*Description, error) {
	lines, err := splitLines(b)
	if err != nil {
		return nil, err
	}

	// Split into the session section and the media sections.
	var sess []line
	var media [][]line
	for _, l := range lines {
		switch {
		case l.typ == 'm':
			media = append(media, []line{l})
		case len(media) == 0:
			sess = append(sess, l)
		default:
			media[len(media)-1] = append(media[len(media)-1], l)
		}
	}

	var d Description
	var text strings.Builder
	text.Grow(len(b) + 32)
	if err := normalizeSession(sess, &d, &text); err != nil {
		return nil, err
	}
	heads := make([]mediaHead, len(media))
	for i, sec := range media {
		if err := normalizeMedia(sec, &heads[i], &text); err != nil {
			return nil, err
		}
	}

	var pd psdp.SessionDescription
	if err := pd.UnmarshalString(text.String()); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, strings.TrimPrefix(err.Error(), "sdp: "))
	}
	if len(pd.MediaDescriptions) != len(heads) {
		return nil, fmt.Errorf("%w: %d m= lines read as %d", ErrInvalid, len(heads), len(pd.MediaDescriptions))
	}

	d.Origin = Origin{
		Username:       pd.Origin.Username,
		SessionID:      pd.Origin.SessionID,
		SessionVersion: pd.Origin.SessionVersion,
		Address:        pd.Origin.UnicastAddress,
	}
	d.Name = string(pd.SessionName)
	d.Address = connectionAddress(pd.ConnectionInformation)

	sessionDir, hasSessionDir := SendRecv, false
	for _, a := range pd.Attributes {
		a.Key, a.Value = normalizeAttribute(a.Key, a.Value)
		if isDirection(a.Key, a.Value) {
			// Session-level direction: the first one applies to every
			// stream without its own; all are folded into the streams.
			if !hasSessionDir {
				sessionDir, _ = ParseDirection(a.Key)
				hasSessionDir = true
			}
			continue
		}
		d.Attributes = append(d.Attributes, Attribute{Key: a.Key, Value: a.Value})
	}

	if len(pd.MediaDescriptions) > 0 {
		d.Media = make([]Media, len(pd.MediaDescriptions))
	}
	for i, md := range pd.MediaDescriptions {
		m := &d.Media[i]
		m.Type = heads[i].typ
		m.Proto = heads[i].proto
		m.Bandwidth = heads[i].bandwidth
		m.Port = md.MediaName.Port.Value
		m.Formats = md.MediaName.Formats
		m.Address = connectionAddress(md.ConnectionInformation)
		if m.Address == "" {
			m.Address = d.Address
		}
		m.Direction = sessionDir
		fillMedia(m, md.Attributes)
	}
	return &d, nil
}

// splitLines splits the input into lines at CRLF, LF or CR, trims blanks
// around each line, drops blank lines and checks that each line is
// "<letter>=...".
func splitLines(b []byte) ([]line, error) {
	s := string(b)
	var lines []line
	num := 0
	for len(s) > 0 {
		num++
		i := strings.IndexAny(s, "\r\n")
		var raw string
		if i < 0 {
			raw, s = s, ""
		} else {
			raw = s[:i]
			if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
				s = s[i+2:]
			} else {
				s = s[i+1:]
			}
		}
		raw = strings.Trim(raw, " \t")
		if raw == "" {
			continue
		}
		if len(raw) < 2 || raw[1] != '=' || raw[0] < 'a' || raw[0] > 'z' {
			return nil, fmt.Errorf("%w: line %d %q: not a \"<type>=<value>\" line", ErrInvalid, num, raw)
		}
		lines = append(lines, line{num: num, typ: raw[0], val: raw[2:]})
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrInvalid)
	}
	return lines, nil
}

// sessionRank orders the session-level lines the way RFC 4566 (and pion)
// want them; lines Parse drops have no rank.
var sessionRank = map[byte]int{'v': 0, 'o': 1, 's': 2, 'c': 3, 't': 4, 'a': 5}

// normalizeSession checks the session-level lines and writes them to text in
// RFC 4566 order, adding a missing s= or t= line. b= lines go to d.
func normalizeSession(sess []line, d *Description, text *strings.Builder) error {
	var out []line
	count := map[byte]int{}
	for _, l := range sess {
		switch l.typ {
		case 'v':
			if l.val != "0" {
				return l.errorf("unsupported protocol version")
			}
		case 'o':
			v, err := normalizeOrigin(l)
			if err != nil {
				return err
			}
			l.val = v
		case 's', 'a':
		case 'c':
			v, err := normalizeConnection(l)
			if err != nil {
				return err
			}
			l.val = v
		case 't':
			f := strings.Fields(l.val)
			if len(f) != 2 || !isUint64(f[0]) || !isUint64(f[1]) {
				return l.errorf("want \"t=<start> <stop>\"")
			}
		case 'b':
			if bw, ok := parseBandwidth(l.val); ok {
				d.Bandwidth = append(d.Bandwidth, bw)
			}
			continue
		case 'i', 'u', 'e', 'p', 'r', 'z', 'k':
			continue // accepted, not kept
		default:
			return l.errorf("unknown line type %q", string(l.typ))
		}
		count[l.typ]++
		out = append(out, l)
	}
	for _, t := range []byte{'v', 'o', 's', 'c'} {
		if count[t] > 1 {
			return fmt.Errorf("%w: more than one session-level %c= line", ErrInvalid, t)
		}
	}
	if count['v'] == 0 {
		return fmt.Errorf("%w: no v= line", ErrInvalid)
	}
	if count['o'] == 0 {
		return fmt.Errorf("%w: no o= line", ErrInvalid)
	}
	if count['s'] == 0 {
		out = append(out, line{typ: 's'})
	}
	if count['t'] == 0 {
		out = append(out, line{typ: 't', val: "0 0"})
	}
	slices.SortStableFunc(out, func(a, b line) int { return sessionRank[a.typ] - sessionRank[b.typ] })
	for _, l := range out {
		writeLine(text, l.typ, l.val)
	}
	return nil
}

// normalizeMedia checks an m= section and writes it to text; the media type,
// protocol and b= lines go to head.
func normalizeMedia(sec []line, head *mediaHead, text *strings.Builder) error {
	ml := sec[0]
	f := strings.Fields(ml.val)
	if len(f) < 3 {
		return ml.errorf("want \"m=<media> <port> <proto> <fmt> ...\"")
	}
	if !isToken(f[0]) {
		return ml.errorf("invalid media type %q", f[0])
	}
	if !isPortSpec(f[1]) {
		return ml.errorf("invalid port %q", f[1])
	}
	for p := range strings.SplitSeq(f[2], "/") {
		if !isToken(p) {
			return ml.errorf("invalid transport protocol %q", f[2])
		}
	}
	head.typ, head.proto = f[0], f[2]
	// pion only knows the IANA media types and a fixed list of protocol
	// names: hand it stand-ins for the others, the real ones are in head.
	if !slices.Contains(pionMedia, f[0]) {
		f[0] = "application"
	}
	for p := range strings.SplitSeq(f[2], "/") {
		if !slices.Contains(pionProtos, p) {
			f[2] = "UDP"
			break
		}
	}
	writeLine(text, 'm', strings.Join(f, " "))

	for _, l := range sec[1:] {
		switch l.typ {
		case 'a':
		case 'c':
			v, err := normalizeConnection(l)
			if err != nil {
				return err
			}
			l.val = v
		case 'b':
			if bw, ok := parseBandwidth(l.val); ok {
				head.bandwidth = append(head.bandwidth, bw)
			}
			continue
		case 'i', 'k':
			continue // accepted, not kept
		default:
			return l.errorf("%c= line not allowed in a media section", l.typ)
		}
		writeLine(text, l.typ, l.val)
	}
	return nil
}

var (
	pionMedia  = []string{"audio", "video", "text", "application", "message"}
	pionProtos = []string{
		"UDP", "RTP", "AVP", "SAVP", "SAVPF", "TLS", "DTLS", "SCTP", "AVPF", "TCP",
		"MSRP", "BFCP", "UDT", "IX", "MRCPv2", "FEC",
	}
)

// normalizeOrigin checks an o= line and returns it with canonical "IN" and
// address type.
func normalizeOrigin(l line) (string, error) {
	f := strings.Fields(l.val)
	if len(f) != 6 && len(f) != 4 && len(f) != 5 {
		return "", l.errorf("want \"o=<username> <sess-id> <sess-version> IN <IP4|IP6> <address>\"")
	}
	if !isUint64(f[1]) {
		return "", l.errorf("invalid session id %q", f[1])
	}
	if !isUint64(f[2]) {
		return "", l.errorf("invalid session version %q", f[2])
	}
	if !strings.EqualFold(f[3], "IN") {
		return "", l.errorf("unknown network type %q", f[3])
	}
	f[3] = "IN"
	if len(f) > 4 {
		t, ok := addrType(f[4])
		if !ok {
			return "", l.errorf("unknown address type %q", f[4])
		}
		f[4] = t
	}
	return strings.Join(f, " "), nil
}

// normalizeConnection checks a c= line and returns it with canonical "IN"
// and address type.
func normalizeConnection(l line) (string, error) {
	f := strings.Fields(l.val)
	if len(f) < 2 || len(f) > 3 {
		return "", l.errorf("want \"c=IN <IP4|IP6> <address>\"")
	}
	if !strings.EqualFold(f[0], "IN") {
		return "", l.errorf("unknown network type %q", f[0])
	}
	t, ok := addrType(f[1])
	if !ok {
		return "", l.errorf("unknown address type %q", f[1])
	}
	f[0], f[1] = "IN", t
	return strings.Join(f, " "), nil
}

func addrType(s string) (string, bool) {
	switch {
	case strings.EqualFold(s, "IP4"):
		return "IP4", true
	case strings.EqualFold(s, "IP6"):
		return "IP6", true
	}
	return "", false
}

func connectionAddress(c *psdp.ConnectionInformation) string {
	if c == nil || c.Address == nil {
		return ""
	}
	return c.Address.Address
}

func writeLine(b *strings.Builder, typ byte, val string) {
	b.WriteByte(typ)
	b.WriteByte('=')
	b.WriteString(val)
	b.WriteString("\r\n")
}

// parseBandwidth parses a b= value "<type>:<value>".
func parseBandwidth(v string) (Bandwidth, bool) {
	t, n, ok := strings.Cut(v, ":")
	if !ok || !isToken(t) {
		return Bandwidth{}, false
	}
	val, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		return Bandwidth{}, false
	}
	return Bandwidth{Type: t, Value: val}, true
}

func isUint64(s string) bool {
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// isPortSpec reports whether s is "<port>" or "<port>/<count>".
func isPortSpec(s string) bool {
	p, n, hasCount := strings.Cut(s, "/")
	if v, err := strconv.ParseUint(p, 10, 16); err != nil || v > 65535 {
		return false
	}
	if hasCount {
		if v, err := strconv.ParseUint(n, 10, 16); err != nil || v == 0 {
			return false
		}
	}
	return true
}

// isToken reports whether s is an RFC 4566 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '!', c >= '#' && c <= '\'', c == '*', c == '+', c == '-', c == '.',
			c >= '0' && c <= '9', c >= 'A' && c <= 'Z', c >= '^' && c <= '~':
		default:
			return false
		}
	}
	return true
}

// fillMedia sorts a media section's attributes into the fields of m.
func fillMedia(m *Media, attrs []psdp.Attribute) {
	rtp := m.IsRTP()
	var pts []uint8
	if rtp {
		pts = payloadTypes(m.Formats)
		if pts == nil {
			rtp = false // not a list of payload types: keep it opaque
		} else if len(pts) > 0 {
			m.Formats = make([]string, len(pts))
			for i, pt := range pts {
				m.Formats[i] = strconv.Itoa(int(pt))
			}
		}
	}

	var rtpmaps, fmtps map[uint8]int // payload type -> index in attrs
	var hasDir, hasPtime, hasMaxPtime, hasRTCP bool
	taken := make([]bool, len(attrs))
	for i := range attrs {
		attrs[i].Key, attrs[i].Value = normalizeAttribute(attrs[i].Key, attrs[i].Value)
	}
	for i, a := range attrs {
		key, val := a.Key, a.Value
		switch {
		case rtp && strings.EqualFold(key, "rtpmap"):
			if c, ok := parseRtpmap(val); ok && slices.Contains(pts, c.PayloadType) {
				if _, dup := rtpmaps[c.PayloadType]; !dup {
					if rtpmaps == nil {
						rtpmaps = map[uint8]int{}
					}
					rtpmaps[c.PayloadType] = i
					taken[i] = true
				}
			}
		case rtp && strings.EqualFold(key, "fmtp"):
			if pt, _, ok := parseFmtp(val); ok && slices.Contains(pts, pt) {
				if _, dup := fmtps[pt]; !dup {
					if fmtps == nil {
						fmtps = map[uint8]int{}
					}
					fmtps[pt] = i
					taken[i] = true
				}
			}
		case isDirection(key, val):
			if !hasDir {
				m.Direction, _ = ParseDirection(key)
				hasDir, taken[i] = true, true
			}
		case strings.EqualFold(key, "ptime") && !hasPtime:
			if n, ok := parseMillis(val); ok {
				m.Ptime, hasPtime, taken[i] = n, true, true
			}
		case strings.EqualFold(key, "maxptime") && !hasMaxPtime:
			if n, ok := parseMillis(val); ok {
				m.MaxPtime, hasMaxPtime, taken[i] = n, true, true
			}
		case strings.EqualFold(key, "rtcp") && !hasRTCP:
			if port, addr, ok := parseRTCP(val); ok {
				m.RTCPPort, m.RTCPAddress, hasRTCP, taken[i] = port, addr, true, true
			}
		case strings.EqualFold(key, "crypto"):
			if c, err := ParseCrypto(val); err == nil {
				m.Crypto = append(m.Crypto, c)
				taken[i] = true
			}
		}
	}

	if rtp && len(pts) > 0 {
		m.Codecs = make([]Codec, len(pts))
		for i, pt := range pts {
			c, ok := staticCodecs[pt]
			if j, has := rtpmaps[pt]; has {
				c, _ = parseRtpmap(attrs[j].Value)
			} else if !ok {
				c = Codec{PayloadType: pt}
			}
			if j, has := fmtps[pt]; has {
				_, c.Fmtp, _ = parseFmtp(attrs[j].Value)
			}
			m.Codecs[i] = c
		}
	}

	for i, a := range attrs {
		if !taken[i] {
			m.Attributes = append(m.Attributes, Attribute{Key: a.Key, Value: a.Value})
		}
	}
}

// normalizeAttribute trims blanks around an attribute name, so that
// "a=foo :bar" and "a=foo :" read as they will be written back. A name that
// is only blanks is not one: "a= :x" reads as "a=:x" does (name ":x").
func normalizeAttribute(key, value string) (string, string) {
	k := strings.Trim(key, " \t")
	if k == "" && value != "" {
		return ":" + value, ""
	}
	return k, value
}

// isDirection reports whether an attribute is a direction attribute.
func isDirection(key, value string) bool {
	_, ok := ParseDirection(key)
	return ok && value == ""
}

// payloadTypes parses an RTP format list, dropping duplicates; nil if an
// entry is not a payload type number.
func payloadTypes(formats []string) []uint8 {
	pts := make([]uint8, 0, len(formats))
	for _, f := range formats {
		pt, ok := parsePayloadType(f)
		if !ok {
			return nil
		}
		if !slices.Contains(pts, pt) {
			pts = append(pts, pt)
		}
	}
	return pts
}

// parseMillis parses a positive ptime or maxptime value.
func parseMillis(v string) (int, bool) {
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 31)
	if err != nil || n == 0 {
		return 0, false
	}
	return int(n), true
}

// parseRTCP parses an a=rtcp value: "<port> [IN <IP4|IP6> <address>]"
// (RFC 3605).
func parseRTCP(v string) (port int, addr string, ok bool) {
	f := strings.Fields(v)
	if len(f) != 1 && len(f) != 4 {
		return 0, "", false
	}
	p, err := strconv.ParseUint(f[0], 10, 16)
	if err != nil || p == 0 {
		return 0, "", false
	}
	if len(f) == 4 {
		if _, ok := addrType(f[2]); !ok || !strings.EqualFold(f[1], "IN") {
			return 0, "", false
		}
		addr = f[3]
	}
	return int(p), addr, true
}
