package lookup

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// DefaultMSRPRelayPort is the port of an MSRP relay found without SRV
// records (RFC 4976 section 6 registers 2855 for msrp and msrps).
const DefaultMSRPRelayPort = 2855

// LookupMSRPRelay finds the MSRP relay (RFC 4976) of domain: the SRV
// records of _msrps._tcp.<domain> (secure, routes of transport "tls") or
// _msrp._tcp.<domain> ("tcp"), in RFC 2782 order; when the domain has no
// such records, the domain's own addresses at port 2855, as
// python-sipsimple's msrplib does. An IP literal is returned as it is, at
// port 2855. Routes of transport "tls" carry TLSName, the domain, to
// verify the relay's certificate against.
func (r *Resolver) LookupMSRPRelay(ctx context.Context, domain string, secure bool) ([]Route, error) {
	host := strings.TrimSpace(domain)
	if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "" {
		return nil, &LookupError{Kind: ErrInvalidTarget, Err: errors.New("empty MSRP relay domain")}
	}
	transport, service := TCP, "_msrp._tcp."
	if secure {
		transport, service = TLS, "_msrps._tcp."
	}
	lc := lookupCtx{host: host, supported: []string{transport}, addrs: &addrMemo{}}
	if err := ctxDone(ctx); err != nil {
		return nil, contextError(host, 0, err)
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		addr = addr.Unmap()
		lc.host = addr.String()
		return []Route{lc.route(addr, DefaultMSRPRelayPort, transport)}, nil
	}
	if !validHostname(host) {
		return nil, &LookupError{Name: host, Kind: ErrInvalidTarget, Err: fmt.Errorf("%q is not a domain name", domain)}
	}
	routes, found, err := r.srvRoutes(ctx, lc, []srvJob{{name: service + host, transport: transport}})
	if len(routes) > 0 {
		return routes, nil
	}
	if found || (err != nil && isContextError(err)) {
		return nil, err
	}
	// No SRV records: the domain itself, at the default port.
	addrs, aerr := lc.lookupAddrs(ctx, r, host)
	if aerr != nil {
		return nil, aerr
	}
	out := make([]Route, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, lc.route(a, DefaultMSRPRelayPort, transport))
	}
	return out, nil
}
