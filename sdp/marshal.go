package sdp

import (
	"strconv"
	"strings"
)

// Marshal returns the description as SDP text with CRLF line ends:
//
//	v=0
//	o=<username> <session id> <version> IN IP4|IP6 <address>
//	s=<name>
//	c=IN IP4|IP6 <address>      (when Address is set)
//	b=...                       (session bandwidth)
//	t=0 0
//	a=...                       (session attributes)
//
// then for each stream:
//
//	m=<type> <port> <proto> <formats>
//	c=IN IP4|IP6 <address>      (when it differs from the session's)
//	b=...
//	a=rtpmap:... / a=fmtp:...   (each codec with a name, static ones too)
//	a=ptime, a=maxptime         (when not 0)
//	a=sendrecv|sendonly|recvonly|inactive
//	a=crypto:...
//	a=rtcp:...                  (when RTCPPort is not 0)
//	a=...                       (the other attributes, in order)
//
// The address type (IP4 or IP6) is derived from the address. Marshal does
// not validate: values are written as they are, except that CR and LF,
// which would break the line structure, are replaced by spaces.
// Parse(d.Marshal()) gives back a description equal to d for any d that
// Parse returned.
func (d *Description) Marshal() []byte {
	b := make([]byte, 0, 256+192*len(d.Media))
	b = append(b, "v=0\r\n"...)

	user := d.Origin.Username
	if user == "" {
		user = "-"
	}
	oaddr := d.Origin.Address
	if oaddr == "" {
		oaddr = "0.0.0.0"
	}
	b = append(b, "o="...)
	b = appendText(b, user)
	b = append(b, ' ')
	b = strconv.AppendUint(b, d.Origin.SessionID, 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, d.Origin.SessionVersion, 10)
	b = appendAddress(append(b, ' '), oaddr)
	b = append(b, "\r\n"...)

	b = append(b, "s="...)
	if d.Name == "" {
		b = append(b, ' ')
	} else {
		b = appendText(b, d.Name)
	}
	b = append(b, "\r\n"...)

	if d.Address != "" {
		b = appendConnection(b, d.Address)
	}
	b = appendBandwidth(b, d.Bandwidth)
	b = append(b, "t=0 0\r\n"...)
	for _, a := range d.Attributes {
		b = appendAttribute(b, a.Key, a.Value)
	}

	for i := range d.Media {
		b = d.Media[i].appendTo(b, d.Address)
	}
	return b
}

// String returns the description as text, as Marshal does.
func (d *Description) String() string {
	return string(d.Marshal())
}

func (m *Media) appendTo(b []byte, sessionAddr string) []byte {
	b = append(b, "m="...)
	b = appendText(b, m.Type)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(m.Port), 10)
	b = append(b, ' ')
	b = appendText(b, m.Proto)
	for _, f := range m.formatList() {
		b = append(b, ' ')
		b = appendText(b, f)
	}
	b = append(b, "\r\n"...)

	if m.Address != "" && m.Address != sessionAddr {
		b = appendConnection(b, m.Address)
	}
	b = appendBandwidth(b, m.Bandwidth)

	if m.IsRTP() {
		for i, c := range m.Codecs {
			if firstWithPT(m.Codecs[:i], c.PayloadType) {
				continue // one rtpmap/fmtp per payload type
			}
			if c.Name != "" {
				b = append(b, "a=rtpmap:"...)
				b = strconv.AppendUint(b, uint64(c.PayloadType), 10)
				b = append(b, ' ')
				b = appendText(b, c.String())
				b = append(b, "\r\n"...)
			}
			if c.Fmtp != "" {
				b = append(b, "a=fmtp:"...)
				b = strconv.AppendUint(b, uint64(c.PayloadType), 10)
				b = append(b, ' ')
				b = appendText(b, c.Fmtp)
				b = append(b, "\r\n"...)
			}
		}
	}
	if m.Ptime != 0 {
		b = appendAttribute(b, "ptime", strconv.Itoa(m.Ptime))
	}
	if m.MaxPtime != 0 {
		b = appendAttribute(b, "maxptime", strconv.Itoa(m.MaxPtime))
	}
	b = appendAttribute(b, m.Direction.String(), "")
	for _, c := range m.Crypto {
		b = appendAttribute(b, "crypto", c.String())
	}
	if m.RTCPPort != 0 {
		v := strconv.Itoa(m.RTCPPort)
		if m.RTCPAddress != "" {
			v = string(appendAddress([]byte(v+" "), m.RTCPAddress))
		}
		b = appendAttribute(b, "rtcp", v)
	}
	for _, a := range m.Attributes {
		b = appendAttribute(b, a.Key, a.Value)
	}
	return b
}

// firstWithPT reports whether one of cs has payload type pt.
func firstWithPT(cs []Codec, pt uint8) bool {
	for _, c := range cs {
		if c.PayloadType == pt {
			return true
		}
	}
	return false
}

func appendAttribute(b []byte, key, value string) []byte {
	b = append(b, "a="...)
	b = appendText(b, key)
	if value != "" {
		b = append(b, ':')
		b = appendText(b, value)
	}
	return append(b, "\r\n"...)
}

func appendBandwidth(b []byte, bws []Bandwidth) []byte {
	for _, bw := range bws {
		b = append(b, "b="...)
		b = appendText(b, bw.Type)
		b = append(b, ':')
		b = strconv.AppendUint(b, bw.Value, 10)
		b = append(b, "\r\n"...)
	}
	return b
}

func appendConnection(b []byte, addr string) []byte {
	b = appendAddress(append(b, "c="...), addr)
	return append(b, "\r\n"...)
}

// appendAddress appends "IN IP4 <addr>" or "IN IP6 <addr>".
func appendAddress(b []byte, addr string) []byte {
	if strings.Contains(addr, ":") {
		b = append(b, "IN IP6 "...)
	} else {
		b = append(b, "IN IP4 "...)
	}
	return appendText(b, addr)
}

// appendText appends s with CR and LF replaced by spaces.
func appendText(b []byte, s string) []byte {
	if !strings.ContainsAny(s, "\r\n") {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		b = append(b, c)
	}
	return b
}
