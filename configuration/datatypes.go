package configuration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// PortRange is an inclusive range of UDP or TCP ports, written "start-end".
type PortRange struct {
	Start, End int
}

// ParsePortRange parses "start-end".
func ParsePortRange(s string) (PortRange, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return PortRange{}, ruleError(`must be written "start-end"`)
	}
	start, err1 := strconv.Atoi(strings.TrimSpace(a))
	end, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return PortRange{}, ruleError(`must be written "start-end" with integer ports`)
	}
	return PortRange{start, end}, nil
}

// String returns "start-end".
func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.Start, r.End) }

// Validate checks 1 <= Start <= End <= 65535.
func (r PortRange) Validate() error {
	if r.Start < 1 || r.End > 65535 || r.Start > r.End {
		return ruleError("must satisfy 1 <= start <= end <= 65535")
	}
	return nil
}

// Size is the number of ports in the range.
func (r PortRange) Size() int { return r.End - r.Start + 1 }

// SIPAddress is a SIP address of record without scheme, "user@domain", as
// used for account ids.
type SIPAddress struct {
	Username string
	Domain   string
}

// ParseSIPAddress parses "user@domain". A leading "sip:" is accepted and
// removed. Every '@' but the last belongs to the user part; %40 in
// the user part stands for '@'.
func ParseSIPAddress(s string) (SIPAddress, error) {
	s = strings.TrimSpace(s)
	if low := strings.ToLower(s); strings.HasPrefix(low, "sip:") {
		s = s[4:]
	}
	i := strings.LastIndexByte(s, '@')
	if i < 0 {
		return SIPAddress{}, ruleError(`must be written "user@domain"`)
	}
	return SIPAddress{Username: strings.ReplaceAll(s[:i], "%40", "@"), Domain: s[i+1:]}, nil
}

// String returns "user@domain" with any '@' of the user part escaped as %40.
func (a SIPAddress) String() string {
	if a.Username == "" && a.Domain == "" {
		return ""
	}
	return strings.ReplaceAll(a.Username, "@", "%40") + "@" + a.Domain
}

// Validate checks that both parts are present, that the user part has no
// white space or control characters and that the domain is a host.
func (a SIPAddress) Validate() error {
	if a.Username == "" {
		return ruleError(`must have a user part ("user@domain")`)
	}
	for _, r := range a.Username {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(`<>"`, r) {
			return ruleError("must not have white space, control characters or <>\" in the user part")
		}
	}
	host, port := a.Domain, ""
	if h, p, ok := strings.Cut(a.Domain, ":"); ok && !strings.Contains(p, ":") {
		host, port = h, p
	}
	if !ValidHost(host) {
		return ruleError("must have a host name or IP address as domain")
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return ruleError("must have a port between 1 and 65535 if the domain has one")
		}
	}
	return nil
}

// ValidateSIPURI checks that s is a sip: or sips: URI with a host part,
// an optional port between 1 and 65535 and no white space.
func ValidateSIPURI(s string) error {
	low := strings.ToLower(s)
	var rest string
	switch {
	case strings.HasPrefix(low, "sip:"):
		rest = s[4:]
	case strings.HasPrefix(low, "sips:"):
		rest = s[5:]
	default:
		return ruleError(`must start with "sip:" or "sips:"`)
	}
	if strings.ContainsAny(rest, " \t\r\n<>\"") {
		return ruleError(`must not contain white space, <, > or "`)
	}
	hostport := rest
	if i := strings.IndexAny(hostport, ";?"); i >= 0 {
		hostport = hostport[:i]
	}
	if i := strings.LastIndexByte(hostport, '@'); i >= 0 {
		hostport = hostport[i+1:]
	}
	host, port := hostport, ""
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return ruleError("must close the IPv6 reference with ]")
		}
		host, port = hostport[1:end], strings.TrimPrefix(hostport[end+1:], ":")
		if strings.Contains(host, ":") == false {
			return ruleError("must have an IPv6 address between [ and ]")
		}
	} else if h, p, ok := strings.Cut(hostport, ":"); ok {
		host, port = h, p
	}
	if !ValidHost(host) {
		return ruleError("must have a host name or IP address")
	}
	if port != "" || strings.HasSuffix(hostport, ":") {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return ruleError("must have a port between 1 and 65535")
		}
	}
	return nil
}

// ExpandPath replaces a leading "~" with the user's home directory.
func ExpandPath(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}
