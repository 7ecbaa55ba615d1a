package core

import (
	"fmt"
	"net/netip"
	"strings"
)

// Route is the next hop of outgoing requests, typically the outbound proxy:
// an address, a port and a transport, like python-sipsimple's
// sipsimple.core.Route.
type Route struct {
	// Address is a host name, an IPv4 address or an IPv6 address without
	// brackets.
	Address string
	// Port is the destination port, 1 to 65535.
	Port int
	// Transport is one of "udp", "tcp", "tls", "ws" and "wss", in lower
	// case.
	Transport string
	// TLSName is the name the server's certificate must carry when the
	// transport is tls or wss; "" means Address. It is configuration
	// only: String and URI leave it out.
	TLSName string
}

// routeTransports are the transports a Route may use.
var routeTransports = [...]string{"udp", "tcp", "tls", "ws", "wss"}

// defaultPort returns the port used with transport when none is given: 5060
// for udp and tcp, 5061 for tls, 80 for ws and 443 for wss (RFC 3261 section
// 19.1.2, RFC 7118).
func defaultPort(transport string) int {
	switch transport {
	case "tls":
		return 5061
	case "ws":
		return 80
	case "wss":
		return 443
	default:
		return 5060
	}
}

const whatRoute = "route"

// ParseRoute parses a route written either as host[:port][;transport=t],
// such as "proxy.example.com:5070;transport=tcp" or "[2001:db8::1]", or as
// a SIP URI, such as "sip:proxy.example.com;transport=tls;lr".
//
// The transport defaults to udp, or to tls for a sips URI (which allows only
// tls and wss; following RFC 5630, transport=tcp in a sips URI means tls).
// The port defaults to that of the transport: 5060 for udp and tcp, 5061 for
// tls, 80 for ws and 443 for wss. The URI may carry the lr parameter, which
// is ignored, but no user, no other parameters and no headers. The result
// is validated with Validate. Syntax errors are of type *ParseError.
func ParseRoute(s string) (Route, error) {
	text := s
	isURI := hasURIScheme(s)
	if !isURI {
		text = "sip:" + s
	}
	u, err := ParseSIPURI(text)
	if err != nil {
		if pe, ok := err.(*ParseError); ok {
			off := pe.Offset
			if !isURI {
				off = max(off-len("sip:"), 0)
			}
			return Route{}, newParseError(whatRoute, s, off, "%s", pe.Reason)
		}
		return Route{}, err
	}
	if u.User != "" {
		return Route{}, newParseError(whatRoute, s, 0, "a route has no user part")
	}
	if len(u.Headers) > 0 {
		return Route{}, newParseError(whatRoute, s, strings.IndexByte(s, '?'), "a route has no headers")
	}
	for _, p := range u.Parameters {
		switch {
		case equalFoldASCII(p.Name, "transport"):
			if p.Value == "" {
				return Route{}, newParseError(whatRoute, s, strings.IndexByte(s, ';'), "transport parameter without value")
			}
		case !equalFoldASCII(p.Name, "lr"):
			return Route{}, newParseError(whatRoute, s, strings.IndexByte(s, ';'),
				"unsupported parameter %q (only transport and lr)", truncate(p.Name, 32))
		}
	}
	r := Route{Address: u.Host, Port: u.Port, Transport: u.Transport()}
	if u.IsSecure() {
		switch r.Transport {
		case "", "tcp", "tls":
			r.Transport = "tls"
		case "ws", "wss":
			r.Transport = "wss"
		default:
			return Route{}, newParseError(whatRoute, s, strings.IndexByte(s, ';'),
				"transport %q cannot be used with a sips URI", r.Transport)
		}
	} else if r.Transport == "" {
		r.Transport = "udp"
	}
	if r.Port == 0 {
		r.Port = defaultPort(r.Transport)
	}
	if err := r.Validate(); err != nil {
		return Route{}, err
	}
	return r, nil
}

// hasURIScheme reports whether s starts with a URI scheme rather than with
// host:port: a scheme name and a colon not followed by a digit (so
// "proxy:5060" is a host and a port, "tel:+1" and "sip:proxy" are URIs).
func hasURIScheme(s string) bool {
	lower := strings.ToLower(s)
	if strings.HasPrefix(lower, "sip:") || strings.HasPrefix(lower, "sips:") {
		return true
	}
	colon := strings.IndexByte(s, ':')
	if colon <= 0 || !isAlpha(s[0]) || colon+1 < len(s) && isDigit(s[colon+1]) {
		return false
	}
	for i := 1; i < colon; i++ {
		if c := s[i]; !isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	// An IPv6 address without brackets, such as fe80::1, is no scheme.
	rest := s
	if i := strings.IndexAny(rest, ";?"); i >= 0 {
		rest = rest[:i]
	}
	_, err := netip.ParseAddr(rest)
	return err != nil
}

// Validate reports whether r is usable: Address is an IP address (without
// brackets or zone) or a host name, Port is 1 to 65535, Transport is one of
// udp, tcp, tls, ws and wss in lower case, and TLSName, when set, is a host
// name or IP address.
func (r Route) Validate() error {
	if err := checkRouteHost(r.Address); err != nil {
		return fmt.Errorf("core: invalid Route: address %q: %w", r.Address, err)
	}
	if r.Port < 1 || r.Port > 65535 {
		return fmt.Errorf("core: invalid Route: port %d out of range 1-65535", r.Port)
	}
	ok := false
	for _, t := range routeTransports {
		ok = ok || r.Transport == t
	}
	if !ok {
		return fmt.Errorf("core: invalid Route: transport %q (want one of udp, tcp, tls, ws, wss)", r.Transport)
	}
	if r.TLSName != "" {
		if err := checkRouteHost(r.TLSName); err != nil {
			return fmt.Errorf("core: invalid Route: TLS name %q: %w", r.TLSName, err)
		}
	}
	return nil
}

func checkRouteHost(h string) error {
	if strings.IndexByte(h, ':') >= 0 {
		a, err := netip.ParseAddr(h)
		switch {
		case err != nil || !a.Is6():
			return fmt.Errorf("not a valid IPv6 address")
		case a.Zone() != "":
			return fmt.Errorf("IPv6 zone not allowed")
		}
		return nil
	}
	if _, reason := checkHost(h); reason != "" {
		return fmt.Errorf("%s", reason)
	}
	return nil
}

// String returns the route as host:port;transport=t, with an IPv6 address
// in brackets, the form ParseRoute reads. A zero Port or an empty Transport
// is left out.
func (r Route) String() string {
	b := appendHostPort(make([]byte, 0, len(r.Address)+24), r.Address, r.Port)
	if r.Transport != "" {
		b = append(b, ";transport="...)
		b = append(b, strings.ToLower(r.Transport)...)
	}
	return string(b)
}

// URI returns the route as a loose-routing SIP URI (RFC 3261 section
// 16.12), sip:address:port;transport=t;lr, suitable for a Route header. The
// scheme is always sip, also for tls and wss: the transport parameter asks
// for TLS to this hop only, which is what an outbound proxy setting means,
// while sips would ask for TLS on every hop to the destination.
func (r Route) URI() SIPURI {
	u := SIPURI{Scheme: "sip", Host: r.Address, Port: r.Port}
	if r.Transport != "" {
		u.Parameters = append(u.Parameters, Parameter{Name: "transport", Value: strings.ToLower(r.Transport)})
	}
	u.Parameters = append(u.Parameters, Parameter{Name: "lr"})
	return u
}

// HostPort returns the address and port joined as for net.Dial, with an
// IPv6 address in brackets.
func (r Route) HostPort() string {
	return string(appendHostPort(nil, r.Address, r.Port))
}
