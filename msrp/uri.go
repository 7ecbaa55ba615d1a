package msrp

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// URI is an MSRP URI (RFC 4975 section 6):
//
//	msrp://[userinfo@]host[:port][/session-id];transport[;param[=value]]...
//
// with the scheme msrps when the hop is protected by TLS. The session-id
// is missing in relay URIs of RFC 4976 ("msrps://relay.example.com;tcp").
type URI struct {
	// Secure is true for the msrps scheme.
	Secure bool
	// User is the userinfo without the "@", as written (percent-encoding
	// kept). It plays no part in URI comparison.
	User string
	// Host is a host name, an IPv4 address, or an IPv6 address without
	// its brackets.
	Host string
	// Port is 1..65535, or 0 when the URI has no port.
	Port int
	// SessionID is the session-id path segment, "" when absent. It is
	// case-sensitive and may itself contain "/".
	SessionID string
	// Transport is the mandatory transport parameter, normally "tcp";
	// other values are kept as written.
	Transport string
	// Params are the URI parameters after the transport, in order.
	Params []URIParam
}

// URIParam is one ";name[=value]" URI parameter after the transport.
type URIParam struct {
	// Name is the parameter name (a token).
	Name string
	// Value is the token after "=", or "" when the parameter has none.
	Value string
}

// ParseURI parses an MSRP URI such as "msrp://host.example.com:7654/jshA7we;tcp".
// The scheme is case-insensitive; everything else is kept as written.
func ParseURI(s string) (URI, error) {
	var u URI
	rest, ok := cutPrefixFold(s, "msrp://")
	if !ok {
		if rest, ok = cutPrefixFold(s, "msrps://"); !ok {
			return URI{}, fmt.Errorf("msrp: URI %s: scheme is not msrp:// or msrps://", quoteTrunc(s))
		}
		u.Secure = true
	}
	// The authority ends at the first "/" or ";" after the userinfo. The
	// userinfo may contain ";" but never "/".
	scope := rest
	if slash := strings.IndexByte(rest, '/'); slash >= 0 {
		scope = rest[:slash]
	}
	hostStart := 0
	if at := strings.LastIndexByte(scope, '@'); at >= 0 {
		u.User = rest[:at]
		if !validUserinfo(u.User) {
			return URI{}, fmt.Errorf("msrp: URI %s: bad userinfo %s", quoteTrunc(s), quoteTrunc(u.User))
		}
		hostStart = at + 1
	}
	end := len(rest)
	if i := strings.IndexAny(rest[hostStart:], "/;"); i >= 0 {
		end = hostStart + i
	}
	if err := u.parseHostPort(rest[hostStart:end]); err != nil {
		return URI{}, fmt.Errorf("msrp: URI %s: %w", quoteTrunc(s), err)
	}
	rest = rest[end:]
	if strings.HasPrefix(rest, "/") {
		semi := strings.IndexByte(rest, ';')
		if semi < 0 {
			semi = len(rest)
		}
		u.SessionID = rest[1:semi]
		if !validSessionID(u.SessionID) {
			return URI{}, fmt.Errorf("msrp: URI %s: bad session-id %s", quoteTrunc(s), quoteTrunc(u.SessionID))
		}
		rest = rest[semi:]
	}
	if !strings.HasPrefix(rest, ";") {
		return URI{}, fmt.Errorf("msrp: URI %s: missing ;transport parameter", quoteTrunc(s))
	}
	params := strings.Split(rest[1:], ";")
	u.Transport = params[0]
	if !validTransport(u.Transport) {
		return URI{}, fmt.Errorf("msrp: URI %s: bad transport %s", quoteTrunc(s), quoteTrunc(u.Transport))
	}
	if len(params) > 1 {
		u.Params = make([]URIParam, 0, len(params)-1)
		for _, p := range params[1:] {
			name, value, hasValue := strings.Cut(p, "=")
			if !validToken(name) || hasValue && !validToken(value) {
				return URI{}, fmt.Errorf("msrp: URI %s: bad parameter %s", quoteTrunc(s), quoteTrunc(p))
			}
			u.Params = append(u.Params, URIParam{Name: name, Value: value})
		}
	}
	return u, nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// parseHostPort parses host[:port] of the authority.
func (u *URI) parseHostPort(hp string) error {
	host, port, hasPort := hp, "", false
	if strings.HasPrefix(hp, "[") {
		rb := strings.IndexByte(hp, ']')
		if rb < 0 {
			return fmt.Errorf("unterminated IPv6 literal %s", quoteTrunc(hp))
		}
		host = hp[1:rb]
		if !validIPv6(host) {
			return fmt.Errorf("bad IPv6 address %s", quoteTrunc(host))
		}
		if rest := hp[rb+1:]; rest != "" {
			if port, hasPort = strings.CutPrefix(rest, ":"); !hasPort {
				return fmt.Errorf("unexpected %s after IPv6 address", quoteTrunc(rest))
			}
		}
	} else {
		host, port, hasPort = strings.Cut(hp, ":")
		if !validRegName(host) {
			return fmt.Errorf("bad host %s", quoteTrunc(host))
		}
	}
	u.Host = host
	if !hasPort {
		return nil
	}
	n, ok := parsePort(port)
	if !ok {
		return fmt.Errorf("bad port %s", quoteTrunc(port))
	}
	u.Port = n
	return nil
}

func parsePort(s string) (int, bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n >= 1 && n <= 65535
}

func isUnreserved(c byte) bool {
	return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~'
}

func isSubDelim(c byte) bool {
	switch c {
	case '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=':
		return true
	}
	return false
}

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// validUserinfo: *( unreserved / pct-encoded / sub-delims / ":" ), RFC 3986.
func validUserinfo(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isUnreserved(c) || isSubDelim(c) || c == ':':
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			i += 2
		default:
			return false
		}
	}
	return true
}

// validRegName accepts a host name or IPv4 address: unreserved and
// sub-delims other than ";" (which would end the authority in MSRP).
// Percent-encoded host names are refused.
func validRegName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isUnreserved(c) && (!isSubDelim(c) || c == ';') {
			return false
		}
	}
	return true
}

// validIPv6 accepts an IPv6 address without brackets and without zone.
func validIPv6(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6() && a.Zone() == ""
}

// validHost accepts what String writes back as a host.
func validHost(s string) bool {
	if strings.IndexByte(s, ':') >= 0 {
		return validIPv6(s)
	}
	return validRegName(s)
}

// validSessionID: 1*( unreserved / "+" / "=" / "/" ).
func validSessionID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isUnreserved(c) && c != '+' && c != '=' && c != '/' {
			return false
		}
	}
	return true
}

// validTransport: 1*ALPHANUM.
func validTransport(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

// Validate reports whether u can be written as an MSRP URI that parses
// back to the same value.
func (u URI) Validate() error {
	switch {
	case !validUserinfo(u.User):
		return fmt.Errorf("msrp: URI userinfo %s is not valid", quoteTrunc(u.User))
	case !validHost(u.Host):
		return fmt.Errorf("msrp: URI host %s is not valid", quoteTrunc(u.Host))
	case u.Port < 0 || u.Port > 65535:
		return fmt.Errorf("msrp: URI port %d is out of range", u.Port)
	case u.SessionID != "" && !validSessionID(u.SessionID):
		return fmt.Errorf("msrp: URI session-id %s is not valid", quoteTrunc(u.SessionID))
	case !validTransport(u.Transport):
		return fmt.Errorf("msrp: URI transport %s is not valid", quoteTrunc(u.Transport))
	}
	for _, p := range u.Params {
		if !validToken(p.Name) || p.Value != "" && !validToken(p.Value) {
			return fmt.Errorf("msrp: URI parameter %s=%s is not valid", quoteTrunc(p.Name), quoteTrunc(p.Value))
		}
	}
	return nil
}

// String returns the URI in its wire form. The scheme is written in lower
// case and an IPv6 host in brackets; everything else is written as held.
func (u URI) String() string {
	return string(u.appendTo(make([]byte, 0, 64)))
}

func (u URI) appendTo(b []byte) []byte {
	if u.Secure {
		b = append(b, "msrps://"...)
	} else {
		b = append(b, "msrp://"...)
	}
	if u.User != "" {
		b = append(b, u.User...)
		b = append(b, '@')
	}
	if strings.IndexByte(u.Host, ':') >= 0 {
		b = append(b, '[')
		b = append(b, u.Host...)
		b = append(b, ']')
	} else {
		b = append(b, u.Host...)
	}
	if u.Port != 0 {
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(u.Port), 10)
	}
	if u.SessionID != "" {
		b = append(b, '/')
		b = append(b, u.SessionID...)
	}
	b = append(b, ';')
	b = append(b, u.Transport...)
	for _, p := range u.Params {
		b = append(b, ';')
		b = append(b, p.Name...)
		if p.Value != "" {
			b = append(b, '=')
			b = append(b, p.Value...)
		}
	}
	return b
}

// Equal reports whether u and v designate the same MSRP resource by the
// rules of RFC 4975 section 6.1: same scheme; same host (IP addresses
// compared as addresses, names case-insensitively); same port, a URI with
// a port never equal to one without; session-id compared case-sensitively;
// transport case-insensitively. The userinfo and the other URI
// parameters are ignored.
func (u URI) Equal(v URI) bool {
	return u.Secure == v.Secure &&
		u.Port == v.Port &&
		u.SessionID == v.SessionID &&
		strings.EqualFold(u.Transport, v.Transport) &&
		equalHost(u.Host, v.Host)
}

func equalHost(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	x, err1 := netip.ParseAddr(a)
	y, err2 := netip.ParseAddr(b)
	return err1 == nil && err2 == nil && x == y
}

// ParsePath parses a space-separated list of MSRP URIs, the value of the
// To-Path, From-Path and Use-Path header fields. At least one URI is
// required.
func ParsePath(s string) ([]URI, error) {
	n := 0
	for range strings.FieldsSeq(s) {
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("msrp: empty path")
	}
	path := make([]URI, 0, n)
	for f := range strings.FieldsSeq(s) {
		u, err := ParseURI(f)
		if err != nil {
			return nil, err
		}
		path = append(path, u)
	}
	return path, nil
}

// FormatPath writes path as the value of a path header field: the URIs
// separated by single spaces.
func FormatPath(path []URI) string {
	return string(appendPath(nil, path))
}

func appendPath(b []byte, path []URI) []byte {
	for i, u := range path {
		if i > 0 {
			b = append(b, ' ')
		}
		b = u.appendTo(b)
	}
	return b
}
