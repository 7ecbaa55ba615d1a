// Package lookup locates SIP servers with DNS as RFC 3263 describes: it turns
// the host part of a SIP or SIPS URI into an ordered list of routes (IP
// address, port, transport and the name to verify for TLS) for the caller to
// try one after the other until one answers. It also finds a domain's MSRP
// relay (RFC 4976: SRV records of _msrps._tcp or _msrp._tcp, else the domain
// at port 2855), see [Resolver.LookupMSRPRelay].
//
// # Why the SDK has its own locator
//
// sipgo resolves destinations itself, but only partly as RFC 3263 asks: it
// makes no NAPTR queries at all (net.Resolver cannot), tries A/AAAA before SRV
// unless told otherwise, uses only the first SRV target and its first address
// (no failover to the next target or priority), and asks for
// "_sips._tls.<domain>" where RFC 3263 says "_sips._tcp.<domain>". The
// python-sipsimple ancestor did the full procedure, so this package does it:
// NAPTR, then SRV, then A/AAAA, with every address of every target returned
// in order. The caller hands the route it chooses to the transport layer.
//
// # The procedure
//
// LookupSIPProxy follows RFC 3263 section 4 and, where the RFC leaves a
// choice, python-sipsimple:
//
//   - An IP literal is used as is: no DNS query. The transport is the URI's
//     transport parameter, else "udp" for sip: and "tls" for sips: (or the
//     first supported transport that fits); the port is the URI's or the
//     transport's default.
//   - A URI with an explicit port is resolved with A/AAAA only.
//   - A URI with a transport parameter (and no port) is resolved with the
//     SRV record of that transport, then A/AAAA on the default port.
//   - Otherwise: NAPTR records of the domain (flag "S", services SIP+D2U,
//     SIP+D2T, SIPS+D2T, SIP+D2W, SIPS+D2W, only the supported transports,
//     only SIPS+ for sips:), ordered by order then preference, each
//     replacement followed to its SRV records. Only the records of the lowest
//     order that yields routes are used (RFC 3403: once a rule matched,
//     records with a different order are not considered). Without a usable
//     NAPTR record, the SRV records _sips._tcp (tls), _sip._tcp (tcp),
//     _sip._udp (udp), _sip._ws (ws) and _sips._ws (wss) are asked for the
//     supported transports, in the caller's order of preference. Without any
//     SRV record, the A/AAAA records of the domain are used with the default
//     port of each supported transport, again in the caller's order. (RFC
//     3263 and python-sipsimple use only udp, or tls for sips:, at this
//     step; here every supported transport is offered, in the caller's
//     order, as routes to try in turn.)
//
// SRV records are ordered by priority and, within one priority, in the
// weighted random order of RFC 2782; a target "." means the service is not
// offered. Each target is resolved with A and AAAA (addresses in the
// additional section of the SRV answer are used when present). IPv4
// addresses come before IPv6 ones unless WithAddressFamily says otherwise.
//
// The ws and wss SRV names are an extension: RFC 7118 defines the NAPTR
// services SIP+D2W and SIPS+D2W but no SRV owner name, so the names follow
// RFC 3263's pattern as other SIP stacks do. Their default ports are 80 and
// 443.
//
// # TLS names
//
// Route.TLSName is, for tls and wss routes, the host of the URI, never the
// NAPTR replacement or the SRV target. RFC 5922 section 4 requires the
// server identity to be checked against the domain the user asked for,
// because without DNSSEC the NAPTR and SRV answers are not trustworthy
// enough to move the identity to another name. For an IP literal it is the
// address itself. Callers with a configured TLS name (python-sipsimple's
// tls_name) overwrite the field.
//
// # Queries, errors, cancellation and caching
//
// Each query goes to the name servers in order (the list goes round
// WithAttempts times, each try bounded by WithTimeout), over UDP with EDNS0,
// again over TCP when the answer is truncated, and again without EDNS0 to a
// server that answers FORMERR. Queries that do not depend on each other (A
// and AAAA, the SRV names of several transports, several SRV targets) run
// in parallel, and one lookup asks for the addresses of a host only once
// even when it is the target of several SRV records.
//
// A failed lookup returns a *LookupError that names the DNS name and query
// type that failed and matches, with errors.Is, one of ErrNXDomain,
// ErrNoRecords, ErrTimeout, ErrServerFailure, ErrMalformed, ErrCanceled,
// ErrUnsupportedTransport or ErrInvalidTarget. NAPTR and SRV failures are
// not fatal: the lookup moves on to the next step (some resolvers do not
// answer NAPTR queries at all), so the error returned is that of the last
// step. Cancelling the context stops the lookup at once. Answers that do
// not parse, do not match the question or contain records of the wrong type
// or owner are rejected or ignored; they never cause a panic.
//
// A Resolver is safe for concurrent use. With WithCache it keeps answers,
// including negative answers that carry an SOA record (RFC 2308), for their
// TTL, in a bounded LRU cache.
//
// # What the package does not know
//
// Nothing about accounts, sessions, settings, the notification bus or the
// SIP stack: it takes a Target (host, port, transport parameter, sips or
// not) rather than the SDK's SIP URI type, and returns plain values. It does
// not open SIP connections or decide when to fail over; it only says where
// to try, in which order.
package lookup
