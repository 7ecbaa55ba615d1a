package core

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxSIPURILength is the longest input, in bytes, that ParseSIPURI and
// ParseNameAddr accept. It is the largest UDP payload; no real SIP URI comes
// near it, and the limit bounds the work done on hostile input.
const MaxSIPURILength = 65535

// ParseError reports input that ParseSIPURI, ParseNameAddr or ParseRoute
// rejected: what was being parsed, where the problem is and what it is.
type ParseError struct {
	// What names the kind of value being parsed, such as "SIP URI".
	What string
	// Input is the rejected input, shortened to at most 80 bytes.
	Input string
	// Offset is the byte offset in the original input where the problem was found.
	Offset int
	// Reason says what is wrong.
	Reason string
}

// Error returns a one-line description of the problem with its offset.
func (e *ParseError) Error() string {
	return fmt.Sprintf("core: invalid %s %q: %s at offset %d", e.What, e.Input, e.Reason, e.Offset)
}

func newParseError(what, input string, offset int, format string, args ...any) *ParseError {
	const maxQuoted = 80
	if len(input) > maxQuoted {
		input = input[:maxQuoted-3] + "..."
	}
	return &ParseError{What: what, Input: input, Offset: offset, Reason: fmt.Sprintf(format, args...)}
}

// Parameter is one parameter of a SIP URI (";transport=tcp") or of a header
// value (";tag=x"), or one URI header ("?subject=x"). An empty Value means the
// parameter has no value, as in ";lr"; URI headers always print an "=".
type Parameter struct {
	// Name is the parameter or header name, decoded.
	Name string
	// Value is the value, decoded; "" for none.
	Value string
}

// Parameters is an ordered list of parameters. Names are looked up without
// regard to (ASCII) case; the order is kept when the list is printed.
type Parameters []Parameter

// Get returns the value of the first parameter called name (compared without
// regard to case) and whether there is one.
func (ps Parameters) Get(name string) (string, bool) {
	if i := ps.index(name); i >= 0 {
		return ps[i].Value, true
	}
	return "", false
}

// Has reports whether there is a parameter called name (compared without
// regard to case).
func (ps Parameters) Has(name string) bool { return ps.index(name) >= 0 }

// Set sets the value of the first parameter called name, or appends the
// parameter when there is none. An empty value makes a parameter without a
// value.
func (ps *Parameters) Set(name, value string) {
	if i := ps.index(name); i >= 0 {
		(*ps)[i].Value = value
		return
	}
	*ps = append(*ps, Parameter{Name: name, Value: value})
}

// Del removes every parameter called name (compared without regard to case).
func (ps *Parameters) Del(name string) {
	out := (*ps)[:0]
	for _, p := range *ps {
		if !equalFoldASCII(p.Name, name) {
			out = append(out, p)
		}
	}
	clear((*ps)[len(out):])
	if len(out) == 0 {
		out = nil
	}
	*ps = out
}

// Clone returns a copy of the list that shares no memory with ps. The clone
// of an empty list is nil.
func (ps Parameters) Clone() Parameters {
	if len(ps) == 0 {
		return nil
	}
	return append(Parameters(nil), ps...)
}

func (ps Parameters) index(name string) int {
	for i := range ps {
		if equalFoldASCII(ps[i].Name, name) {
			return i
		}
	}
	return -1
}

// nameSet detects repeated parameter names while a list is built: it scans
// short lists and switches to a map for long ones, so that hostile input
// with thousands of parameters costs linear time.
type nameSet struct{ m map[string]struct{} }

// add reports whether name (compared without regard to ASCII case) is not
// yet in ps, the list built so far, and records it.
func (ns *nameSet) add(ps Parameters, name string) bool {
	if ns.m == nil {
		if len(ps) < 16 {
			return !ps.Has(name)
		}
		ns.m = make(map[string]struct{}, 2*len(ps))
		for _, p := range ps {
			ns.m[lowerASCII(p.Name)] = struct{}{}
		}
	}
	k := lowerASCII(name)
	if _, ok := ns.m[k]; ok {
		return false
	}
	ns.m[k] = struct{}{}
	return true
}

// equalFoldASCII reports whether a and b are equal under ASCII case folding
// (the case-insensitivity of RFC 3261).
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// lowerASCII returns s with ASCII upper-case letters made lower case.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// SIPURI is a SIP or SIPS URI (RFC 3261 section 19.1), the Go counterpart
// of python-sipsimple's sipsimple.core.SIPURI.
//
// The fields hold decoded values: ParseSIPURI undoes %HH escapes and String
// escapes whatever the grammar does not allow literally, so
// SIPURI{User: "alice smith"} prints as sip:alice%20smith@... . Host holds an
// IPv6 address without its brackets; ParseSIPURI keeps the host as written
// (case and IPv6 notation), and Equal compares hosts without regard to case
// and IP addresses as addresses. The zero value is not a valid URI; see
// Validate.
type SIPURI struct {
	// Scheme is "sip" or "sips" (ParseSIPURI lowercases it). An empty
	// Scheme is treated as "sip".
	Scheme string
	// User is the user part, empty when the URI has no userinfo.
	User string
	// Password is the password of the userinfo; it requires a User. An
	// empty password ("sip:alice:@host") is the same as none.
	Password string
	// Host is a host name, an IPv4 address or an IPv6 address without
	// brackets.
	Host string
	// Port is the port, 0 when the URI has none. A URI without a port is
	// not equal to one with port 5060.
	Port int
	// Parameters are the URI parameters (";transport=tcp;lr") in order.
	Parameters Parameters
	// Headers are the URI headers ("?subject=x&priority=urgent") in order.
	Headers Parameters
}

// Character classes of RFC 3261 section 25.1.
var (
	userChars     [256]bool // unreserved / user-unreserved
	passwordChars [256]bool // unreserved / "&" / "=" / "+" / "$" / ","
	paramChars    [256]bool // unreserved / param-unreserved
	headerChars   [256]bool // unreserved / hnv-unreserved
	tokenChars    [256]bool // token
)

func init() {
	set := func(t *[256]bool, chars string) {
		for i := 0; i < len(chars); i++ {
			t[chars[i]] = true
		}
	}
	const alphanum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	const mark = "-_.!~*'()"
	for _, t := range []*[256]bool{&userChars, &passwordChars, &paramChars, &headerChars} {
		set(t, alphanum+mark)
	}
	set(&userChars, "&=+$,;?/")
	set(&passwordChars, "&=+$,")
	set(&paramChars, "[]/:&+$")
	set(&headerChars, "[]/?:+$")
	set(&tokenChars, alphanum+"-.!%*_+`'~")
}

const whatURI = "SIP URI"

// ParseSIPURI parses a SIP or SIPS URI following the grammar of RFC 3261
// section 25.1 (SIP-URI and SIPS-URI). The scheme is matched without regard
// to case. %HH escapes are decoded in the user, password, parameters and
// headers. The host must be a host name, an IPv4 address or a bracketed IPv6
// reference; the port, when present, must be 1 to 65535. A parameter named
// twice is rejected.
//
// As RFC 5118 section 4.10 asks, an IPv6 reference written with the extra
// colon that the RFC 3261 grammar allowed by mistake, such as
// [2001:db8:::192.0.2.1], is accepted and stored as 2001:db8::192.0.2.1.
//
// Errors are of type *ParseError.
func ParseSIPURI(s string) (SIPURI, error) {
	var u SIPURI
	if len(s) > MaxSIPURILength {
		return u, newParseError(whatURI, s, MaxSIPURILength, "longer than %d bytes", MaxSIPURILength)
	}
	colon := strings.IndexByte(s, ':')
	if colon < 0 {
		return u, newParseError(whatURI, s, 0, "missing scheme")
	}
	switch {
	case strings.EqualFold(s[:colon], "sip"):
		u.Scheme = "sip"
	case strings.EqualFold(s[:colon], "sips"):
		u.Scheme = "sips"
	default:
		return u, newParseError(whatURI, s, 0, "unsupported scheme %q (want sip or sips)", truncate(s[:colon], 16))
	}
	pos := colon + 1

	// userinfo: an "@" cannot appear unescaped anywhere else in a SIP URI,
	// so the first one ends the userinfo.
	if at := strings.IndexByte(s[pos:], '@'); at >= 0 {
		userinfo := s[pos : pos+at]
		user, password, hasPassword := userinfo, "", false
		if c := strings.IndexByte(userinfo, ':'); c >= 0 {
			user, password, hasPassword = userinfo[:c], userinfo[c+1:], true
		}
		if user == "" {
			return u, newParseError(whatURI, s, pos, "empty user")
		}
		var err *ParseError
		if u.User, err = unescape(s, pos, user, &userChars, "user"); err != nil {
			return u, err
		}
		if hasPassword {
			if u.Password, err = unescape(s, pos+len(user)+1, password, &passwordChars, "password"); err != nil {
				return u, err
			}
		}
		pos += at + 1
	}

	// host
	hostStart := pos
	if pos < len(s) && s[pos] == '[' {
		end := strings.IndexByte(s[pos:], ']')
		if end < 0 {
			return u, newParseError(whatURI, s, pos, "IPv6 reference without closing \"]\"")
		}
		addr, off, reason := parseIPv6(s[pos+1 : pos+end])
		if reason != "" {
			return u, newParseError(whatURI, s, pos+1+off, "%s", reason)
		}
		u.Host = addr
		pos += end + 1
	} else {
		end := pos
		for end < len(s) && s[end] != ':' && s[end] != ';' && s[end] != '?' {
			end++
		}
		if off, reason := checkHost(s[pos:end]); reason != "" {
			if unbracketedIPv6(s[pos:]) {
				return u, newParseError(whatURI, s, pos, "IPv6 address not enclosed in \"[\" and \"]\"")
			}
			return u, newParseError(whatURI, s, pos+off, "%s", reason)
		}
		u.Host = s[pos:end]
		pos = end
	}

	// port
	if pos < len(s) && s[pos] == ':' {
		pos++
		end := pos
		for end < len(s) && s[end] != ';' && s[end] != '?' {
			end++
		}
		port, off, reason := parsePort(s[pos:end])
		if reason != "" {
			if unbracketedIPv6(s[hostStart:]) {
				return u, newParseError(whatURI, s, hostStart, "IPv6 address not enclosed in \"[\" and \"]\"")
			}
			return u, newParseError(whatURI, s, pos+off, "%s", reason)
		}
		u.Port = port
		pos = end
	}
	if pos < len(s) && s[pos] != ';' && s[pos] != '?' {
		return u, newParseError(whatURI, s, pos, "unexpected %s after host", describeByte(s, pos))
	}

	// uri-parameters
	rest := s[pos:]
	q := strings.IndexByte(rest, '?')
	if q < 0 {
		q = len(rest)
	}
	if n := strings.Count(rest[:q], ";"); n > 0 {
		u.Parameters = make(Parameters, 0, n)
	}
	if q < len(rest) {
		u.Headers = make(Parameters, 0, strings.Count(rest[q:], "&")+1)
	}
	var seen nameSet
	for pos < len(s) && s[pos] == ';' {
		pos++
		end := pos
		for end < len(s) && s[end] != ';' && s[end] != '?' {
			end++
		}
		p, err := parseURIParam(s, pos, end)
		if err != nil {
			return u, err
		}
		if !seen.add(u.Parameters, p.Name) {
			return u, newParseError(whatURI, s, pos, "duplicate parameter %q", truncate(p.Name, 32))
		}
		u.Parameters = append(u.Parameters, p)
		pos = end
	}

	// headers
	if pos < len(s) && s[pos] == '?' {
		for {
			pos++
			end := pos
			for end < len(s) && s[end] != '&' {
				end++
			}
			h, err := parseURIHeader(s, pos, end)
			if err != nil {
				return u, err
			}
			u.Headers = append(u.Headers, h)
			pos = end
			if pos == len(s) {
				break
			}
		}
	}
	return u, nil
}

// MustParseSIPURI is like ParseSIPURI but panics when s is not a valid SIP
// URI. It is meant for constants in programs and tests.
func MustParseSIPURI(s string) SIPURI {
	u, err := ParseSIPURI(s)
	if err != nil {
		panic(err)
	}
	return u
}

func parseURIParam(s string, start, end int) (Parameter, *ParseError) {
	raw := s[start:end]
	name, value, hasValue := raw, "", false
	if eq := strings.IndexByte(raw, '='); eq >= 0 {
		name, value, hasValue = raw[:eq], raw[eq+1:], true
	}
	if name == "" {
		return Parameter{}, newParseError(whatURI, s, start, "empty parameter name")
	}
	if hasValue && value == "" {
		return Parameter{}, newParseError(whatURI, s, start+len(name)+1, "empty value of parameter %q", truncate(name, 32))
	}
	var p Parameter
	var err *ParseError
	if p.Name, err = unescape(s, start, name, &paramChars, "parameter name"); err != nil {
		return p, err
	}
	if hasValue {
		if p.Value, err = unescape(s, start+len(name)+1, value, &paramChars, "parameter value"); err != nil {
			return p, err
		}
	}
	return p, nil
}

func parseURIHeader(s string, start, end int) (Parameter, *ParseError) {
	raw := s[start:end]
	eq := strings.IndexByte(raw, '=')
	if eq < 0 {
		return Parameter{}, newParseError(whatURI, s, start, "header without \"=\"")
	}
	if eq == 0 {
		return Parameter{}, newParseError(whatURI, s, start, "empty header name")
	}
	var h Parameter
	var err *ParseError
	if h.Name, err = unescape(s, start, raw[:eq], &headerChars, "header name"); err != nil {
		return h, err
	}
	if h.Value, err = unescape(s, start+eq+1, raw[eq+1:], &headerChars, "header value"); err != nil {
		return h, err
	}
	return h, nil
}

// unescape checks that part (found at offset base of s) has only characters
// of the class allowed or %HH escapes, and returns it decoded.
func unescape(s string, base int, part string, allowed *[256]bool, what string) (string, *ParseError) {
	n := 0 // number of escapes
	for i := 0; i < len(part); i++ {
		c := part[i]
		switch {
		case c == '%':
			if i+2 >= len(part) || !isHex(part[i+1]) || !isHex(part[i+2]) {
				return "", newParseError(whatURI, s, base+i, "bad escape in %s (want %%HH)", what)
			}
			n++
			i += 2
		case !allowed[c]:
			return "", newParseError(whatURI, s, base+i, "%s not allowed in %s", describeByte(part, i), what)
		}
	}
	if n == 0 {
		return part, nil
	}
	b := make([]byte, 0, len(part)-2*n)
	for i := 0; i < len(part); i++ {
		if part[i] == '%' {
			b = append(b, unhex(part[i+1])<<4|unhex(part[i+2]))
			i += 2
			continue
		}
		b = append(b, part[i])
	}
	return string(b), nil
}

// appendEscaped appends s to b, escaping every byte outside allowed.
func appendEscaped(b []byte, s string, allowed *[256]bool) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if allowed[c] {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	return b
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// describeByte names the character at s[i] for an error message.
func describeByte(s string, i int) string {
	c := s[i]
	switch {
	case c < 0x20 || c == 0x7f:
		return fmt.Sprintf("control character 0x%02X", c)
	case c >= 0x80:
		if r, _ := utf8.DecodeRuneInString(s[i:]); r != utf8.RuneError {
			return fmt.Sprintf("non-ASCII character %q", r)
		}
		return fmt.Sprintf("byte 0x%02X", c)
	default:
		return fmt.Sprintf("character %q", rune(c))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// unbracketedIPv6 reports whether s, up to the first ";" or "?", is an IPv6
// address, to explain why "sip:2001:db8::1" is rejected.
func unbracketedIPv6(s string) bool {
	if i := strings.IndexAny(s, ";?"); i >= 0 {
		s = s[:i]
	}
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6()
}

// parsePort parses a port of 1 to 65535 written as digits (leading zeros
// allowed, as the grammar's 1*DIGIT allows them). It returns the offset of
// the problem and a reason when s is not one.
func parsePort(s string) (port, off int, reason string) {
	if s == "" {
		return 0, 0, "empty port"
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, i, describeByte(s, i) + " in port"
		}
		if port = port*10 + int(s[i]-'0'); port > 65535 {
			return 0, 0, "port out of range 1-65535"
		}
	}
	if port == 0 {
		return 0, 0, "port 0 (must be 1-65535)"
	}
	return port, 0, ""
}

// checkHost reports whether h is a host name or an IPv4 address (RFC 3261:
// hostname / IPv4address). It returns the offset of the problem and a reason
// when it is not. Host names are limited to 253 characters and labels to 63
// as in DNS. IPv4 addresses must have four decimal octets of 0-255 without
// leading zeros.
func checkHost(h string) (int, string) {
	if h == "" {
		return 0, "empty host"
	}
	if len(h) > 254 || len(h) == 254 && h[253] != '.' {
		return 0, "host name longer than 253 characters"
	}
	allNumeric := true
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !isDigit(c) && c != '.' {
			allNumeric = false
		}
		if !isDigit(c) && !isAlpha(c) && c != '.' && c != '-' {
			return i, describeByte(h, i) + " in host"
		}
	}
	if allNumeric && !strings.HasSuffix(h, ".") {
		if !isIPv4(h) {
			return 0, "invalid IPv4 address"
		}
		return 0, ""
	}
	name := strings.TrimSuffix(h, ".")
	start := 0
	for start <= len(name) {
		end := strings.IndexByte(name[start:], '.')
		if end < 0 {
			end = len(name)
		} else {
			end += start
		}
		label := name[start:end]
		switch {
		case label == "":
			return start, "empty label in host name"
		case len(label) > 63:
			return start, "host name label longer than 63 characters"
		case label[0] == '-' || label[len(label)-1] == '-':
			return start, "host name label starts or ends with \"-\""
		case end == len(name) && !isAlpha(label[0]):
			return start, "top-level label of host name does not start with a letter"
		}
		start = end + 1
	}
	return 0, ""
}

// isIPv4 reports whether s is a dotted-quad IPv4 address with octets 0-255
// and no leading zeros.
func isIPv4(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4()
}

// parseIPv6 checks the text between the brackets of an IPv6 reference and
// returns the address as it is to be stored, or the offset of the problem
// and a reason.
func parseIPv6(s string) (string, int, string) {
	if s == "" {
		return "", 0, "empty IPv6 reference"
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isHex(c) && c != ':' && c != '.' {
			return "", i, describeByte(s, i) + " in IPv6 reference"
		}
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Is6() {
		return s, 0, ""
	}
	// RFC 5118 section 4.10: tolerate hexpart "::" followed by ":" IPv4address.
	if i := strings.Index(s, ":::"); i >= 0 && !strings.Contains(s[:i], "::") && isIPv4(s[i+3:]) {
		fixed := s[:i+2] + s[i+3:]
		if a, err := netip.ParseAddr(fixed); err == nil && a.Is6() {
			return fixed, 0, ""
		}
	}
	return "", 0, "invalid IPv6 address"
}

// String returns the URI in its canonical text form: the scheme in lower
// case, the IPv6 address in brackets, and every character the grammar does
// not allow literally in a component escaped as %HH. The user is omitted when
// empty, and so is the password. ParseSIPURI(u.String()) gives back u for
// every valid u.
func (u SIPURI) String() string {
	return string(u.appendTo(make([]byte, 0, u.sizeHint())))
}

func (u SIPURI) sizeHint() int {
	n := 16 + len(u.User) + len(u.Password) + len(u.Host)
	for _, p := range u.Parameters {
		n += 2 + len(p.Name) + len(p.Value)
	}
	for _, h := range u.Headers {
		n += 2 + len(h.Name) + len(h.Value)
	}
	return n
}

func (u SIPURI) appendTo(b []byte) []byte {
	b = append(b, u.scheme()...)
	b = append(b, ':')
	if u.User != "" {
		b = appendEscaped(b, u.User, &userChars)
		if u.Password != "" {
			b = append(b, ':')
			b = appendEscaped(b, u.Password, &passwordChars)
		}
		b = append(b, '@')
	}
	b = appendHostPort(b, u.Host, u.Port)
	for _, p := range u.Parameters {
		b = append(b, ';')
		b = appendEscaped(b, p.Name, &paramChars)
		if p.Value != "" {
			b = append(b, '=')
			b = appendEscaped(b, p.Value, &paramChars)
		}
	}
	for i, h := range u.Headers {
		if i == 0 {
			b = append(b, '?')
		} else {
			b = append(b, '&')
		}
		b = appendEscaped(b, h.Name, &headerChars)
		b = append(b, '=')
		b = appendEscaped(b, h.Value, &headerChars)
	}
	return b
}

func appendHostPort(b []byte, host string, port int) []byte {
	if strings.IndexByte(host, ':') >= 0 && !strings.HasPrefix(host, "[") {
		b = append(b, '[')
		b = append(b, host...)
		b = append(b, ']')
	} else {
		b = append(b, host...)
	}
	if port > 0 {
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(port), 10)
	}
	return b
}

func (u SIPURI) scheme() string {
	if u.Scheme == "" {
		return "sip"
	}
	return strings.ToLower(u.Scheme)
}

// Validate reports whether u is a URI that String prints faithfully: the
// scheme is sip or sips, the host is a valid host name or IP address, the
// port is 0 (none) to 65535, a password comes with a user, and parameters and
// headers have names, with no parameter named twice.
func (u SIPURI) Validate() error {
	if s := u.scheme(); s != "sip" && s != "sips" {
		return fmt.Errorf("core: invalid SIPURI: unsupported scheme %q (want sip or sips)", u.Scheme)
	}
	if u.Port < 0 || u.Port > 65535 {
		return fmt.Errorf("core: invalid SIPURI: port %d out of range 1-65535", u.Port)
	}
	if u.Password != "" && u.User == "" {
		return fmt.Errorf("core: invalid SIPURI: password without user")
	}
	host := u.Host
	if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' && strings.IndexByte(host, ':') >= 0 {
		host = host[1 : len(host)-1]
	}
	if strings.IndexByte(host, ':') >= 0 {
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() || a.Zone() != "" {
			return fmt.Errorf("core: invalid SIPURI: host %q is not a valid IPv6 address", u.Host)
		}
	} else if _, reason := checkHost(host); reason != "" {
		return fmt.Errorf("core: invalid SIPURI: host %q: %s", u.Host, reason)
	}
	var seen nameSet
	for i, p := range u.Parameters {
		if p.Name == "" {
			return fmt.Errorf("core: invalid SIPURI: parameter %d has no name", i)
		}
		if !seen.add(u.Parameters[:i], p.Name) {
			return fmt.Errorf("core: invalid SIPURI: duplicate parameter %q", p.Name)
		}
	}
	for i, h := range u.Headers {
		if h.Name == "" {
			return fmt.Errorf("core: invalid SIPURI: header %d has no name", i)
		}
	}
	return nil
}

// MarshalText implements encoding.TextMarshaler. It returns String, or an
// empty text for the zero SIPURI, and fails when Validate fails.
func (u SIPURI) MarshalText() ([]byte, error) {
	if u.isZero() {
		return []byte{}, nil
	}
	if err := u.Validate(); err != nil {
		return nil, err
	}
	return u.appendTo(make([]byte, 0, u.sizeHint())), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseSIPURI. An
// empty text gives the zero SIPURI.
func (u *SIPURI) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*u = SIPURI{}
		return nil
	}
	v, err := ParseSIPURI(string(text))
	if err != nil {
		return err
	}
	*u = v
	return nil
}

func (u SIPURI) isZero() bool {
	return u.Scheme == "" && u.User == "" && u.Password == "" && u.Host == "" && u.Port == 0 &&
		len(u.Parameters) == 0 && len(u.Headers) == 0
}

// Transport returns the value of the transport parameter in lower case, or
// "" when there is none.
func (u SIPURI) Transport() string {
	t, _ := u.Parameters.Get("transport")
	return strings.ToLower(t)
}

// IsSecure reports whether u is a SIPS URI. A sip: URI with transport=tls is
// not secure in this sense: only sips: asks for TLS on every hop.
func (u SIPURI) IsSecure() bool { return u.scheme() == "sips" }

// HostPort returns the host, in brackets when it is an IPv6 address,
// followed by ":" and the port when there is one.
func (u SIPURI) HostPort() string {
	return string(appendHostPort(make([]byte, 0, len(u.Host)+8), u.Host, u.Port))
}

// WithPort returns a copy of u with the port set to port (0 removes it).
func (u SIPURI) WithPort(port int) SIPURI {
	c := u.Clone()
	c.Port = port
	return c
}

// Clone returns a copy of u that shares no memory with it.
func (u SIPURI) Clone() SIPURI {
	u.Parameters = u.Parameters.Clone()
	u.Headers = u.Headers.Clone()
	return u
}

// Equal reports whether u and o are equivalent under the rules of RFC 3261
// section 19.1.4:
//
//   - the schemes must be the same;
//   - the user and password, decoded, must be the same, compared with case;
//     a URI with a user does not match one without;
//   - the hosts must be the same without regard to case (IP addresses are
//     compared as addresses, so [2001:DB8::1] matches [2001:db8:0::1], but a
//     host name never matches an IP address);
//   - the ports must be the same, and no port does not match port 5060;
//   - a transport, user, ttl, method or maddr parameter present in one URI
//     must be present in the other with the same value;
//   - any other parameter present in both must have the same value, and one
//     present in only one URI is ignored;
//   - the headers must be the same: each name (without regard to case) must
//     carry the same values, in the same order, in both.
//
// Parameter names and values are compared without regard to case, except the
// method parameter, since method names are case-sensitive (section 7.1);
// maddr values are compared as hosts. Header values are compared with case.
//
// Escapes are decoded before comparison, so sip:%61lice@atlanta.com matches
// sip:alice@atlanta.com. Unlike RFC 3261, which keeps an escaped reserved
// character (such as %3B for ";") distinct from the literal one, Equal
// compares decoded values throughout, as PJSIP (and so python-sipsimple)
// does. Equal is not transitive, as section 19.1.4 notes.
func (u SIPURI) Equal(o SIPURI) bool {
	if u.scheme() != o.scheme() || u.User != o.User || u.Password != o.Password ||
		u.Port != o.Port || !hostEqual(u.Host, o.Host) {
		return false
	}
	for _, name := range [...]string{"transport", "user", "ttl", "method", "maddr"} {
		a, inU := u.Parameters.Get(name)
		b, inO := o.Parameters.Get(name)
		if inU != inO {
			return false
		}
		if inU && !paramValueEqual(name, a, b) {
			return false
		}
	}
	return commonParamsAgree(u.Parameters, o.Parameters) && headersEqual(u.Headers, o.Headers)
}

// commonParamsAgree reports whether every parameter of a that is also in b
// has the same value in both.
func commonParamsAgree(a, b Parameters) bool {
	if len(a)*len(b) <= 256 {
		for _, p := range a {
			if v, ok := b.Get(p.Name); ok && !paramValueEqual(p.Name, p.Value, v) {
				return false
			}
		}
		return true
	}
	m := make(map[string]string, len(b))
	for _, p := range b {
		k := lowerASCII(p.Name)
		if _, ok := m[k]; !ok {
			m[k] = p.Value
		}
	}
	for _, p := range a {
		if v, ok := m[lowerASCII(p.Name)]; ok && !paramValueEqual(p.Name, p.Value, v) {
			return false
		}
	}
	return true
}

func paramValueEqual(name, a, b string) bool {
	switch {
	case equalFoldASCII(name, "method"):
		return a == b
	case equalFoldASCII(name, "maddr"):
		return hostEqual(a, b)
	default:
		return equalFoldASCII(a, b)
	}
}

// hostEqual compares hosts without regard to case, and IP addresses as
// addresses.
func hostEqual(a, b string) bool {
	if equalFoldASCII(a, b) {
		return true
	}
	strip := func(s string) string {
		if len(s) > 1 && s[0] == '[' && s[len(s)-1] == ']' {
			return s[1 : len(s)-1]
		}
		return s
	}
	x, err1 := netip.ParseAddr(strip(a))
	y, err2 := netip.ParseAddr(strip(b))
	return err1 == nil && err2 == nil && x == y
}

func headersEqual(a, b Parameters) bool {
	if len(a) != len(b) {
		return false
	}
	same := true
	for i := range a {
		if !equalFoldASCII(a[i].Name, b[i].Name) || a[i].Value != b[i].Value {
			same = false
			break
		}
	}
	if same {
		return true
	}
	// Same headers in another order: compare the values of each name,
	// whose order matters (as for Route).
	group := func(ps Parameters) map[string][]string {
		m := make(map[string][]string)
		for _, p := range ps {
			k := lowerASCII(p.Name)
			m[k] = append(m[k], p.Value)
		}
		return m
	}
	ga, gb := group(a), group(b)
	if len(ga) != len(gb) {
		return false
	}
	for k, va := range ga {
		if !slices.Equal(va, gb[k]) {
			return false
		}
	}
	return true
}

// NameAddr is a header value made of an optional display name, a SIP URI
// and header parameters, as in From, To and Contact:
//
//	"Alice" <sip:alice@example.com>;tag=1928301774
type NameAddr struct {
	// DisplayName is the display name, unquoted and unescaped; "" for none.
	DisplayName string
	// URI is the address.
	URI SIPURI
	// Params are the header parameters that follow the address, such as
	// tag or expires. Values are kept as written: a quoted-string value
	// keeps its quotes.
	Params Parameters
}

const whatNameAddr = "name-addr"

// ParseNameAddr parses a header value of the form
// [display-name] <SIP-URI> *(;generic-param) or SIP-URI *(;generic-param)
// (RFC 3261 section 20.10 and 25.1). The display name may be a quoted string
// or a sequence of tokens (whose runs of whitespace become one space). In
// the second form, without angle brackets, any parameters belong to the
// header, not to the URI, and the URI may not contain ";", "?" or ",".
//
// The value must be unfolded: CR and LF are rejected. Only sip and sips URIs
// are supported; the Contact wildcard "*" is not. A header parameter named
// twice is rejected. Errors are of type *ParseError.
func ParseNameAddr(s string) (NameAddr, error) {
	var na NameAddr
	if len(s) > MaxSIPURILength {
		return na, newParseError(whatNameAddr, s, MaxSIPURILength, "longer than %d bytes", MaxSIPURILength)
	}
	pos := skipWS(s, 0)
	var uriEnd int
	switch {
	case pos < len(s) && s[pos] == '"':
		name, end, err := parseQuoted(s, pos)
		if err != nil {
			return na, err
		}
		na.DisplayName = name
		pos = skipWS(s, end)
		if pos >= len(s) || s[pos] != '<' {
			return na, newParseError(whatNameAddr, s, pos, "missing \"<\" after display name")
		}
		fallthrough
	case pos < len(s) && s[pos] == '<':
		pos++
		end := strings.IndexByte(s[pos:], '>')
		if end < 0 {
			return na, newParseError(whatNameAddr, s, pos-1, "missing \">\"")
		}
		u, err := ParseSIPURI(s[pos : pos+end])
		if err != nil {
			return na, shiftError(err, s, pos)
		}
		na.URI = u
		uriEnd = pos + end + 1
	default:
		lt := strings.IndexByte(s[pos:], '<')
		if lt >= 0 {
			// display-name as *(token LWS)
			for i := pos; i < pos+lt; i++ {
				if c := s[i]; !tokenChars[c] && c != ' ' && c != '\t' {
					return na, newParseError(whatNameAddr, s, i, "%s in display name (quote it)", describeByte(s, i))
				}
			}
			na.DisplayName = strings.Join(strings.Fields(s[pos:pos+lt]), " ")
			pos += lt
			end := strings.IndexByte(s[pos:], '>')
			if end < 0 {
				return na, newParseError(whatNameAddr, s, pos, "missing \">\"")
			}
			u, err := ParseSIPURI(s[pos+1 : pos+end])
			if err != nil {
				return na, shiftError(err, s, pos+1)
			}
			na.URI = u
			uriEnd = pos + end + 1
			break
		}
		// addr-spec: the URI ends at the first ";" or whitespace.
		end := pos
		for end < len(s) && s[end] != ';' && s[end] != ' ' && s[end] != '\t' {
			end++
		}
		spec := s[pos:end]
		if i := strings.IndexAny(spec, "?,"); i >= 0 {
			return na, newParseError(whatNameAddr, s, pos+i, "%s in a URI without angle brackets", describeByte(spec, i))
		}
		if spec == "" {
			return na, newParseError(whatNameAddr, s, pos, "missing URI")
		}
		u, err := ParseSIPURI(spec)
		if err != nil {
			return na, shiftError(err, s, pos)
		}
		na.URI = u
		uriEnd = end
	}
	params, err := parseGenericParams(s, uriEnd)
	if err != nil {
		return na, err
	}
	na.Params = params
	return na, nil
}

// shiftError turns an error of ParseSIPURI on a part of s starting at base
// into an error about s.
func shiftError(err error, s string, base int) error {
	pe, ok := err.(*ParseError)
	if !ok {
		return err
	}
	return newParseError(whatNameAddr, s, base+pe.Offset, "URI: %s", pe.Reason)
}

func skipWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// parseQuoted parses the quoted-string starting at s[start] (a '"') and
// returns its unescaped content and the offset after the closing quote.
func parseQuoted(s string, start int) (string, int, *ParseError) {
	var b []byte
	for i := start + 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			if b == nil {
				return s[start+1 : i], i + 1, nil
			}
			return string(b), i + 1, nil
		case c == '\\':
			if i+1 >= len(s) || s[i+1] == '\r' || s[i+1] == '\n' || s[i+1] >= 0x80 {
				return "", 0, newParseError(whatNameAddr, s, i, "bad quoted-pair")
			}
			if b == nil {
				b = append([]byte(nil), s[start+1:i]...)
			}
			b = append(b, s[i+1])
			i++
		case c == '\r' || c == '\n' || (c < 0x20 && c != '\t') || c == 0x7f:
			return "", 0, newParseError(whatNameAddr, s, i, "%s in quoted string", describeByte(s, i))
		case c >= 0x80:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size <= 1 {
				return "", 0, newParseError(whatNameAddr, s, i, "invalid UTF-8 in quoted string")
			}
			if b != nil {
				b = append(b, s[i:i+size]...)
			}
			i += size - 1
		default:
			if b != nil {
				b = append(b, c)
			}
		}
	}
	return "", 0, newParseError(whatNameAddr, s, start, "unterminated quoted string")
}

// parseGenericParams parses *( SEMI generic-param ) from s[pos:] to the end.
func parseGenericParams(s string, pos int) (Parameters, *ParseError) {
	var ps Parameters
	var seen nameSet
	for {
		pos = skipWS(s, pos)
		if pos == len(s) {
			return ps, nil
		}
		if s[pos] != ';' {
			return nil, newParseError(whatNameAddr, s, pos, "unexpected %s (want \";\")", describeByte(s, pos))
		}
		pos = skipWS(s, pos+1)
		start := pos
		for pos < len(s) && tokenChars[s[pos]] {
			pos++
		}
		if pos == start {
			return nil, newParseError(whatNameAddr, s, pos, "empty parameter name")
		}
		p := Parameter{Name: s[start:pos]}
		if !seen.add(ps, p.Name) {
			return nil, newParseError(whatNameAddr, s, start, "duplicate parameter %q", truncate(p.Name, 32))
		}
		pos = skipWS(s, pos)
		if pos < len(s) && s[pos] == '=' {
			pos = skipWS(s, pos+1)
			vstart := pos
			switch {
			case pos < len(s) && s[pos] == '"':
				_, end, err := parseQuoted(s, pos)
				if err != nil {
					return nil, err
				}
				pos = end
			case pos < len(s) && s[pos] == '[':
				end := strings.IndexByte(s[pos:], ']')
				if end < 0 {
					return nil, newParseError(whatNameAddr, s, pos, "IPv6 reference without closing \"]\"")
				}
				if _, off, reason := parseIPv6(s[pos+1 : pos+end]); reason != "" {
					return nil, newParseError(whatNameAddr, s, pos+1+off, "%s", reason)
				}
				pos += end + 1
			default:
				for pos < len(s) && tokenChars[s[pos]] {
					pos++
				}
			}
			if pos == vstart {
				return nil, newParseError(whatNameAddr, s, pos, "empty value of parameter %q", truncate(p.Name, 32))
			}
			p.Value = s[vstart:pos]
		}
		ps = append(ps, p)
	}
}

// String returns the header value with the display name quoted (when there
// is one) and the URI in angle brackets:
// "Alice" <sip:alice@example.com>;tag=x. CR and LF in the display name,
// which no quoted string can hold, print as spaces, and invalid UTF-8 as
// U+FFFD.
func (na NameAddr) String() string {
	var b strings.Builder
	if na.DisplayName != "" {
		b.WriteByte('"')
		for _, r := range strings.ToValidUTF8(na.DisplayName, "\uFFFD") {
			switch {
			case r == '\r' || r == '\n':
				b.WriteByte(' ')
			case r == '"' || r == '\\' || r < 0x20 && r != '\t' || r == 0x7f:
				b.WriteByte('\\')
				b.WriteRune(r)
			default:
				b.WriteRune(r)
			}
		}
		b.WriteString(`" `)
	}
	b.WriteByte('<')
	b.Write(na.URI.appendTo(make([]byte, 0, na.URI.sizeHint())))
	b.WriteByte('>')
	for _, p := range na.Params {
		b.WriteByte(';')
		b.WriteString(p.Name)
		if p.Value != "" {
			b.WriteByte('=')
			b.WriteString(p.Value)
		}
	}
	return b.String()
}

// Clone returns a copy of na that shares no memory with it.
func (na NameAddr) Clone() NameAddr {
	na.URI = na.URI.Clone()
	na.Params = na.Params.Clone()
	return na
}
