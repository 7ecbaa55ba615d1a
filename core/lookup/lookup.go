package lookup

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Transport names, as in SIP's transport URI parameter.
const (
	UDP = "udp"
	TCP = "tcp"
	TLS = "tls"
	WS  = "ws"
	WSS = "wss"
)

// Bounds on what one answer may make the resolver do.
const (
	maxSRVInput   = 256 // SRV records considered per SRV name
	maxSRVRecords = 32  // SRV records used per SRV name, after ordering
	maxNAPTRs     = 16  // usable NAPTR records considered
	maxParallel   = 8   // concurrent target resolutions per SRV name
)

type transportInfo struct {
	service     string // NAPTR service field
	srvPrefix   string // SRV owner name prefix
	defaultPort int
	secure      bool
}

var transports = map[string]transportInfo{
	UDP: {"SIP+D2U", "_sip._udp.", 5060, false},
	TCP: {"SIP+D2T", "_sip._tcp.", 5060, false},
	TLS: {"SIPS+D2T", "_sips._tcp.", 5061, true},
	WS:  {"SIP+D2W", "_sip._ws.", 80, false},
	WSS: {"SIPS+D2W", "_sips._ws.", 443, true},
}

// naptrServices maps an upper-case NAPTR service field to a transport.
var naptrServices = func() map[string]string {
	m := make(map[string]string, len(transports))
	for name, t := range transports {
		m[t.service] = name
	}
	return m
}()

// DefaultPort returns the port used for a transport when neither the URI
// nor an SRV record gives one: 5060 for udp and tcp, 5061 for tls, 80 for
// ws, 443 for wss, 0 for an unknown transport.
func DefaultPort(transport string) int {
	return transports[strings.ToLower(transport)].defaultPort
}

// Target is what LookupSIPProxy resolves: the parts of a SIP or SIPS URI
// that matter to RFC 3263.
type Target struct {
	// Host is a domain name or an IP literal (IPv6 with or without
	// brackets).
	Host string
	// Port is the URI's port, 0 when absent.
	Port int
	// Transport is the URI's transport parameter, "" when absent.
	Transport string
	// Secure is true for a sips: URI.
	Secure bool
}

// Route is one place to send a request to.
type Route struct {
	// Address is an IP literal (IPv6 without brackets).
	Address string
	Port    int
	// Transport is "udp", "tcp", "tls", "ws" or "wss".
	Transport string
	// TLSName is the name to verify the server certificate against, set
	// for tls and wss routes: the URI's host (RFC 5922), see the package
	// documentation.
	TLSName string
}

// HostPort returns the address and port joined for net.Dial.
func (r Route) HostPort() string {
	return net.JoinHostPort(r.Address, strconv.Itoa(r.Port))
}

func (r Route) String() string {
	s := r.Transport + ":" + r.HostPort()
	if r.TLSName != "" {
		s += " (" + r.TLSName + ")"
	}
	return s
}

// lookupCtx holds what one LookupSIPProxy call needs everywhere.
type lookupCtx struct {
	host      string   // the URI's host, lower case, without a trailing dot
	supported []string // normalised, in preference order
	addrs     *addrMemo
}

// addrMemo shares the address lookups of one LookupSIPProxy call, so that a
// host that is the SRV target of several transports is asked for once,
// even when the cache is off.
type addrMemo struct {
	mu sync.Mutex
	m  map[string]*addrCall
}

type addrCall struct {
	done  chan struct{}
	addrs []netip.Addr
	err   error
}

// lookupAddrs is Resolver.lookupAddrs, once per name per lookup.
func (lc lookupCtx) lookupAddrs(ctx context.Context, r *Resolver, name string) ([]netip.Addr, error) {
	key := canonical(name)
	lc.addrs.mu.Lock()
	if c, ok := lc.addrs.m[key]; ok {
		lc.addrs.mu.Unlock()
		<-c.done // the first caller honours ctx, so this ends
		return c.addrs, c.err
	}
	c := &addrCall{done: make(chan struct{})}
	if lc.addrs.m == nil {
		lc.addrs.m = make(map[string]*addrCall)
	}
	lc.addrs.m[key] = c
	lc.addrs.mu.Unlock()
	c.addrs, c.err = r.lookupAddrs(ctx, name)
	close(c.done)
	return c.addrs, c.err
}

// LookupSIPProxy returns the routes to try, in order, to reach the SIP
// server of target, using only transports in supportedTransports (given in
// the caller's order of preference). See the package documentation for the
// procedure. On failure the error is a *LookupError.
func (r *Resolver) LookupSIPProxy(ctx context.Context, target Target, supportedTransports []string) ([]Route, error) {
	host := strings.TrimSpace(target.Host)
	if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	lc := lookupCtx{host: host, addrs: &addrMemo{}}

	if host == "" {
		return nil, &LookupError{Kind: ErrInvalidTarget, Err: errors.New("empty host")}
	}
	if target.Port < 0 || target.Port > 65535 {
		return nil, &LookupError{Name: host, Kind: ErrInvalidTarget, Err: fmt.Errorf("port %d out of range", target.Port)}
	}
	if err := ctxDone(ctx); err != nil {
		le := contextError(host, 0, err)
		le.Type = ""
		return nil, le
	}
	lc.supported = filterSupported(supportedTransports, target.Secure)
	if len(lc.supported) == 0 {
		return nil, &LookupError{Name: host, Kind: ErrUnsupportedTransport,
			Err: fmt.Errorf("none of %q fits a %s URI", supportedTransports, scheme(target.Secure))}
	}

	transport := ""
	if target.Transport != "" {
		t, err := paramTransport(target.Transport, target.Secure)
		if err == nil && !slices.Contains(lc.supported, t) {
			err = fmt.Errorf("transport %q is not among %q", t, lc.supported)
		}
		if err != nil {
			return nil, &LookupError{Name: host, Kind: ErrUnsupportedTransport, Err: err}
		}
		transport = t
	}

	// IP literal: no DNS at all.
	if addr, err := netip.ParseAddr(host); err == nil {
		addr = addr.Unmap()
		lc.host = addr.String()
		if transport == "" {
			transport = lc.defaultTransport(target.Secure)
		}
		port := target.Port
		if port == 0 {
			port = transports[transport].defaultPort
		}
		return []Route{lc.route(addr, port, transport)}, nil
	}
	if !validHostname(host) {
		return nil, &LookupError{Name: host, Kind: ErrInvalidTarget, Err: errors.New("not a domain name or IP address")}
	}

	// Explicit port: A/AAAA only.
	if target.Port != 0 {
		if transport == "" {
			transport = lc.defaultTransport(target.Secure)
		}
		addrs, err := r.lookupAddrs(ctx, host)
		if err != nil {
			return nil, err
		}
		var routes routeList
		for _, a := range addrs {
			routes.add(lc.route(a, target.Port, transport))
		}
		return routes.list, nil
	}

	var transportsToTry []string
	if transport != "" {
		// Transport parameter: SRV of that transport, then A/AAAA.
		transportsToTry = []string{transport}
	} else {
		routes, err := r.naptrRoutes(ctx, lc)
		if len(routes) > 0 || isContextError(err) {
			return routes, err
		}
		transportsToTry = lc.supported
	}

	jobs := make([]srvJob, len(transportsToTry))
	for i, t := range transportsToTry {
		jobs[i] = srvJob{name: transports[t].srvPrefix + host, transport: t}
	}
	routes, found, err := r.srvRoutes(ctx, lc, jobs)
	if found || isContextError(err) {
		if len(routes) == 0 && err == nil {
			err = &LookupError{Name: host, Type: "SRV", Kind: ErrNoRecords, Err: errors.New("no usable SRV target")}
		}
		if len(routes) > 0 {
			err = nil
		}
		return routes, err
	}

	// No SRV record at all: A/AAAA with the default ports.
	addrs, err := r.lookupAddrs(ctx, host)
	if err != nil {
		return nil, err
	}
	var list routeList
	for _, t := range transportsToTry {
		for _, a := range addrs {
			list.add(lc.route(a, transports[t].defaultPort, t))
		}
	}
	return list.list, nil
}

func scheme(secure bool) string {
	if secure {
		return "sips"
	}
	return "sip"
}

// filterSupported lower-cases the supported transports, drops unknown ones
// and duplicates, and for a sips: URI keeps only the secure ones.
func filterSupported(in []string, secure bool) []string {
	var out []string
	for _, t := range in {
		t = strings.ToLower(strings.TrimSpace(t))
		info, ok := transports[t]
		if !ok || (secure && !info.secure) || slices.Contains(out, t) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// paramTransport maps a transport URI parameter to a transport. For a sips:
// URI, "tcp" means TLS and "ws" means secure WebSocket; "udp" is refused.
func paramTransport(p string, secure bool) (string, error) {
	p = strings.ToLower(strings.TrimSpace(p))
	if _, ok := transports[p]; !ok {
		return "", fmt.Errorf("unknown transport %q", p)
	}
	if !secure {
		return p, nil
	}
	switch p {
	case TCP, TLS:
		return TLS, nil
	case WS, WSS:
		return WSS, nil
	}
	return "", fmt.Errorf("transport %q cannot carry a sips URI", p)
}

// defaultTransport is the transport of an IP literal or of a URI with an
// explicit port (RFC 3263 section 4.1): udp for sip:, tls for sips:, or the
// first supported transport when that one is not supported.
func (lc lookupCtx) defaultTransport(secure bool) string {
	want := UDP
	if secure {
		want = TLS
	}
	if slices.Contains(lc.supported, want) {
		return want
	}
	return lc.supported[0]
}

func (lc lookupCtx) route(a netip.Addr, port int, transport string) Route {
	rt := Route{Address: a.String(), Port: port, Transport: transport}
	if transports[transport].secure {
		rt.TLSName = lc.host
	}
	return rt
}

// validHostname accepts what DNS can look up and rejects what is clearly
// something else (a host:port, a URL, white space).
func validHostname(h string) bool {
	if strings.ContainsAny(h, ":/@[] \t\r\n\\") {
		return false
	}
	_, ok := dns.IsDomainName(h)
	return ok
}

func isContextError(err error) bool {
	k := kindOf(err)
	return (k == ErrCanceled || k == ErrTimeout) && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

// routeList is an ordered list of routes without duplicates.
type routeList struct {
	list []Route
	seen map[Route]bool
}

func (l *routeList) add(rt Route) {
	if l.seen == nil {
		l.seen = make(map[Route]bool)
	}
	if !l.seen[rt] {
		l.seen[rt] = true
		l.list = append(l.list, rt)
	}
}

// naptrRoutes does the NAPTR step. It returns no routes (and the error, if
// any) when the domain has no usable NAPTR record.
func (r *Resolver) naptrRoutes(ctx context.Context, lc lookupCtx) ([]Route, error) {
	set, err := r.query(ctx, lc.host, dns.TypeNAPTR)
	if err != nil {
		return nil, err
	}
	var usable []*dns.NAPTR
	for _, rr := range set.rrs {
		n := rr.(*dns.NAPTR)
		t, ok := naptrServices[strings.ToUpper(n.Service)]
		if !ok || !strings.EqualFold(n.Flags, "s") || n.Regexp != "" ||
			n.Replacement == "" || n.Replacement == "." || !slices.Contains(lc.supported, t) {
			continue
		}
		usable = append(usable, n)
	}
	if len(usable) == 0 {
		return nil, nil
	}
	slices.SortStableFunc(usable, func(a, b *dns.NAPTR) int {
		return cmp.Or(cmp.Compare(a.Order, b.Order), cmp.Compare(a.Preference, b.Preference))
	})
	if len(usable) > maxNAPTRs {
		usable = usable[:maxNAPTRs]
	}
	// RFC 3403: once records of one order matched, records of another order
	// are not considered. A group none of whose replacements leads to an
	// address has not matched, so the next order is tried.
	var firstErr error
	for len(usable) > 0 {
		n := 1
		for n < len(usable) && usable[n].Order == usable[0].Order {
			n++
		}
		var jobs []srvJob
		for _, rec := range usable[:n] {
			jobs = append(jobs, srvJob{name: rec.Replacement, transport: naptrServices[strings.ToUpper(rec.Service)]})
		}
		usable = usable[n:]
		routes, _, err := r.srvRoutes(ctx, lc, jobs)
		if len(routes) > 0 {
			return routes, nil
		}
		if isContextError(err) {
			return nil, err
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

type srvJob struct {
	name      string
	transport string
}

type srvResult struct {
	routes []Route
	found  bool // the name has SRV records (even if "." or unresolvable)
	err    error
}

// srvRoutes resolves several SRV names at once and concatenates their
// routes in the order of jobs. found is true if any name had SRV records.
// err is the first error met, preferring errors from names that had
// records.
func (r *Resolver) srvRoutes(ctx context.Context, lc lookupCtx, jobs []srvJob) (routes []Route, found bool, err error) {
	results := make([]srvResult, len(jobs))
	runAll(len(jobs), len(jobs), func(i int) {
		results[i] = r.srvRoute(ctx, lc, jobs[i])
	})
	var list routeList
	var foundErr, otherErr error
	for _, res := range results {
		for _, rt := range res.routes {
			list.add(rt)
		}
		found = found || res.found
		if res.err != nil {
			if isContextError(res.err) {
				return nil, found, res.err
			}
			if res.found && foundErr == nil {
				foundErr = res.err
			} else if otherErr == nil {
				otherErr = res.err
			}
		}
	}
	return list.list, found, cmp.Or(foundErr, otherErr)
}

// srvRoute resolves one SRV name and its targets.
func (r *Resolver) srvRoute(ctx context.Context, lc lookupCtx, job srvJob) srvResult {
	set, err := r.query(ctx, job.name, dns.TypeSRV)
	if err != nil {
		return srvResult{err: err}
	}
	var recs []*dns.SRV
	for _, rr := range set.rrs {
		s := rr.(*dns.SRV)
		if s.Target == "." || s.Target == "" || s.Port == 0 {
			continue // "." : the service is decidedly not available here
		}
		recs = append(recs, s)
	}
	if len(recs) == 0 {
		return srvResult{found: true, err: newError(dns.Fqdn(job.name), dns.TypeSRV, ErrNoRecords,
			errors.New("service not available (no usable target)"))}
	}
	if len(recs) > maxSRVInput {
		recs = recs[:maxSRVInput]
	}
	recs = orderSRV(recs, r.intn)
	if len(recs) > maxSRVRecords {
		recs = recs[:maxSRVRecords]
	}

	// Targets whose addresses are in the additional section are not looked
	// up; the others are, in parallel.
	addrs := make([][]netip.Addr, len(recs))
	errs := make([]error, len(recs))
	var pending []int
	for i, rec := range recs {
		if a := r.addrsFromExtra(set.extra, rec.Target); len(a) > 0 {
			addrs[i] = a
		} else {
			pending = append(pending, i)
		}
	}
	runAll(len(pending), maxParallel, func(j int) {
		i := pending[j]
		addrs[i], errs[i] = lc.lookupAddrs(ctx, r, recs[i].Target)
	})
	var list routeList
	var firstErr error
	for i, rec := range recs {
		if errs[i] != nil {
			if isContextError(errs[i]) {
				return srvResult{found: true, err: errs[i]}
			}
			if firstErr == nil {
				firstErr = errs[i]
			}
			continue
		}
		for _, a := range addrs[i] {
			list.add(lc.route(a, int(rec.Port), job.transport))
		}
	}
	if len(list.list) > 0 {
		firstErr = nil
	}
	return srvResult{routes: list.list, found: true, err: firstErr}
}

// orderSRV sorts SRV records by priority and, within a priority, in the
// weighted random order of RFC 2782: records of weight 0 first, then
// repeatedly a random number in [0, sum of weights] picks the first record
// whose running sum of weights reaches it. intn(n) returns a random int in
// [0, n).
func orderSRV(recs []*dns.SRV, intn func(int) int) []*dns.SRV {
	sorted := slices.Clone(recs)
	slices.SortStableFunc(sorted, func(a, b *dns.SRV) int {
		if c := cmp.Compare(a.Priority, b.Priority); c != 0 {
			return c
		}
		// weight 0 first within a priority, otherwise keep the order
		return cmp.Compare(min(a.Weight, 1), min(b.Weight, 1))
	})
	out := make([]*dns.SRV, 0, len(sorted))
	for start := 0; start < len(sorted); {
		end := start + 1
		for end < len(sorted) && sorted[end].Priority == sorted[start].Priority {
			end++
		}
		group := sorted[start:end]
		for len(group) > 0 {
			sum := 0
			for _, s := range group {
				sum += int(s.Weight)
			}
			pick := intn(sum + 1)
			i, running := 0, 0
			for ; i < len(group)-1; i++ {
				running += int(group[i].Weight)
				if running >= pick {
					break
				}
			}
			out = append(out, group[i])
			group = slices.Delete(group, i, i+1)
		}
		start = end
	}
	return out
}

// addrsFromExtra returns the addresses of target found in the additional
// section of an SRV answer, in the resolver's family order.
func (r *Resolver) addrsFromExtra(extra []dns.RR, target string) []netip.Addr {
	if len(extra) == 0 {
		return nil
	}
	target = canonical(target)
	var v4, v6 []netip.Addr
	for _, rr := range extra {
		if canonical(rr.Header().Name) != target {
			continue
		}
		switch a := rr.(type) {
		case *dns.A:
			if ip, ok := netip.AddrFromSlice(a.A); ok {
				v4 = append(v4, ip.Unmap())
			}
		case *dns.AAAA:
			if ip, ok := netip.AddrFromSlice(a.AAAA); ok {
				v6 = append(v6, ip)
			}
		}
	}
	return r.mergeFamilies(v4, v6)
}

func (r *Resolver) mergeFamilies(v4, v6 []netip.Addr) []netip.Addr {
	var out []netip.Addr
	switch r.family {
	case IPv4Only:
		out = v4
	case IPv6Only:
		out = v6
	case IPv6First:
		out = append(v6, v4...)
	default:
		out = append(v4, v6...)
	}
	var dedup []netip.Addr
	for _, a := range out {
		if !slices.Contains(dedup, a) {
			dedup = append(dedup, a)
		}
	}
	return dedup
}

// lookupAddrs returns the addresses of name, asking for A and AAAA at once
// (or only one of them, depending on the address family).
func (r *Resolver) lookupAddrs(ctx context.Context, name string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(strings.TrimSuffix(name, ".")); err == nil {
		// An SRV target should be a name, but some zones hold an address.
		return []netip.Addr{a.Unmap()}, nil
	}
	var v4, v6 []netip.Addr
	var err4, err6 error
	do4 := func(set rrset, err error) {
		err4 = err
		for _, rr := range set.rrs {
			if ip, ok := netip.AddrFromSlice(rr.(*dns.A).A); ok {
				v4 = append(v4, ip.Unmap())
			}
		}
	}
	do6 := func(set rrset, err error) {
		err6 = err
		for _, rr := range set.rrs {
			if ip, ok := netip.AddrFromSlice(rr.(*dns.AAAA).AAAA); ok {
				v6 = append(v6, ip)
			}
		}
	}
	// Answers in the cache are taken at once; only the others are asked
	// for, A and AAAA in parallel.
	var ask []uint16
	if r.family != IPv6Only {
		if set, ok, err := r.cached(name, dns.TypeA); ok {
			do4(set, err)
		} else {
			ask = append(ask, dns.TypeA)
		}
	}
	if r.family != IPv4Only {
		if set, ok, err := r.cached(name, dns.TypeAAAA); ok {
			do6(set, err)
		} else {
			ask = append(ask, dns.TypeAAAA)
		}
	}
	answers := make([]rrset, len(ask))
	errs := make([]error, len(ask))
	runAll(len(ask), len(ask), func(i int) { answers[i], errs[i] = r.query(ctx, name, ask[i]) })
	for i, qtype := range ask {
		if qtype == dns.TypeA {
			do4(answers[i], errs[i])
		} else {
			do6(answers[i], errs[i])
		}
	}
	if addrs := r.mergeFamilies(v4, v6); len(addrs) > 0 {
		return addrs, nil
	}
	switch {
	case r.family == IPv6Only:
		return nil, cmp.Or(err6, error(newError(dns.Fqdn(name), dns.TypeAAAA, ErrNoRecords, nil)))
	case r.family == IPv4Only || err6 == nil:
		return nil, cmp.Or(err4, error(newError(dns.Fqdn(name), dns.TypeA, ErrNoRecords, nil)))
	case err4 == nil:
		return nil, err6
	}
	if errRank(err6) > errRank(err4) {
		return nil, err6
	}
	var le4, le6 *LookupError
	if errors.As(err4, &le4) && errors.As(err6, &le6) && le4.Kind == le6.Kind {
		merged := *le4
		merged.Type = "A/AAAA"
		return nil, &merged
	}
	return nil, err4
}

// runAll calls f(0) ... f(n-1), at most limit at a time, and waits.
func runAll(n, limit int, f func(int)) {
	if n <= 1 {
		if n == 1 {
			f(0)
		}
		return
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(limit, 1))
	wg.Add(n)
	for i := range n {
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}()
	}
	wg.Wait()
}
