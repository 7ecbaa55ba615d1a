package lookup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Defaults used when neither an option nor /etc/resolv.conf says otherwise.
const (
	DefaultTimeout  = 3 * time.Second // per query, per server, per attempt
	DefaultAttempts = 2
	// ednsUDPSize is the UDP payload size advertised with EDNS0 (the DNS
	// flag day 2020 value, which avoids IP fragmentation).
	ednsUDPSize = 1232
	// maxCNAMEs bounds the CNAME chain followed inside one answer.
	maxCNAMEs = 8
)

// AddressFamily says which address records are asked for and in which
// order their addresses are returned.
type AddressFamily int

const (
	// IPv4First asks for A and AAAA and lists IPv4 addresses first.
	IPv4First AddressFamily = iota
	// IPv6First asks for A and AAAA and lists IPv6 addresses first.
	IPv6First
	// IPv4Only asks for A records only.
	IPv4Only
	// IPv6Only asks for AAAA records only.
	IPv6Only
)

// Resolver makes the DNS queries of a SIP server lookup. Create it with
// NewResolver; it is safe for concurrent use.
type Resolver struct {
	servers  []string
	timeout  time.Duration
	attempts int
	family   AddressFamily
	log      *slog.Logger
	now      func() time.Time
	cache    *cache // nil when caching is off

	rngMu sync.Mutex
	rng   *rand.Rand // nil: the global, concurrency-safe source

	// set by options, resolved in NewResolver
	resolvConf   string
	cacheOn      bool
	cacheSize    int
	timeoutSet   bool
	attemptsSet  bool
	serversGiven bool
}

// Option configures a Resolver.
type Option func(*Resolver)

// WithNameservers sets the servers to ask, in order, as "host:port" or just
// "host" (port 53), for example "127.0.0.1:5353" or "[2001:db8::53]:53".
// Without it the servers of /etc/resolv.conf are used.
func WithNameservers(servers []string) Option {
	return func(r *Resolver) {
		r.servers = nil
		for _, s := range servers {
			if s = strings.TrimSpace(s); s != "" {
				r.servers = append(r.servers, normalizeServer(s))
			}
		}
		r.serversGiven = len(r.servers) > 0
	}
}

// WithTimeout sets how long one query waits for one server's answer
// (default: resolv.conf's timeout, else DefaultTimeout). The total time of a
// lookup is bounded by the context.
func WithTimeout(d time.Duration) Option {
	return func(r *Resolver) {
		if d > 0 {
			r.timeout, r.timeoutSet = d, true
		}
	}
}

// WithAttempts sets how many times each query goes round the list of
// servers (default: resolv.conf's attempts, else DefaultAttempts).
func WithAttempts(n int) Option {
	return func(r *Resolver) {
		if n > 0 {
			r.attempts, r.attemptsSet = n, true
		}
	}
}

// WithCache turns the answer cache on or off (default off).
func WithCache(enabled bool) Option {
	return func(r *Resolver) { r.cacheOn = enabled }
}

// WithCacheSize turns the cache on and bounds it to n answers (default
// DefaultCacheSize).
func WithCacheSize(n int) Option {
	return func(r *Resolver) {
		if n > 0 {
			r.cacheOn, r.cacheSize = true, n
		}
	}
}

// WithLogger sets the logger for debug traces of queries (default: none).
func WithLogger(l *slog.Logger) Option {
	return func(r *Resolver) {
		if l != nil {
			r.log = l
		}
	}
}

// WithRandSource sets the random source of the RFC 2782 weighted ordering
// of SRV records, for reproducible orders (default: the global source). The
// source is used under a lock and need not be safe for concurrent use.
func WithRandSource(src rand.Source) Option {
	return func(r *Resolver) {
		if src != nil {
			r.rng = rand.New(src)
		}
	}
}

// WithClock sets the clock the cache uses to expire answers (default
// time.Now).
func WithClock(now func() time.Time) Option {
	return func(r *Resolver) {
		if now != nil {
			r.now = now
		}
	}
}

// WithAddressFamily sets which address records are asked for and their
// order (default IPv4First).
func WithAddressFamily(f AddressFamily) Option {
	return func(r *Resolver) { r.family = f }
}

// WithResolvConf sets the file the default servers, timeout and attempts
// are read from (default /etc/resolv.conf). It has no effect on the servers
// when WithNameservers is given.
func WithResolvConf(path string) Option {
	return func(r *Resolver) { r.resolvConf = path }
}

// NewResolver returns a Resolver. Without WithNameservers it reads the
// servers (and the timeout and attempts, unless set by options) from
// /etc/resolv.conf; if that fails it uses 127.0.0.1:53 and [::1]:53, as the
// C library does.
func NewResolver(opts ...Option) *Resolver {
	r := &Resolver{
		resolvConf: "/etc/resolv.conf",
		log:        slog.New(slog.DiscardHandler),
		now:        time.Now,
	}
	for _, o := range opts {
		o(r)
	}
	if !r.serversGiven || !r.timeoutSet || !r.attemptsSet {
		if cfg, err := dns.ClientConfigFromFile(r.resolvConf); err == nil {
			if !r.serversGiven {
				for _, s := range cfg.Servers {
					r.servers = append(r.servers, net.JoinHostPort(s, cfg.Port))
				}
			}
			if !r.timeoutSet && cfg.Timeout > 0 {
				r.timeout = time.Duration(cfg.Timeout) * time.Second
			}
			if !r.attemptsSet && cfg.Attempts > 0 {
				r.attempts = cfg.Attempts
			}
		} else if !r.serversGiven {
			r.log.Debug("lookup: cannot read resolver configuration", "file", r.resolvConf, "error", err)
		}
	}
	if len(r.servers) == 0 {
		r.servers = []string{"127.0.0.1:53", "[::1]:53"}
	}
	if r.timeout <= 0 {
		r.timeout = DefaultTimeout
	}
	if r.attempts <= 0 {
		r.attempts = DefaultAttempts
	}
	if r.cacheOn {
		r.cache = newCache(r.cacheSize)
	}
	return r
}

// Nameservers returns the servers the Resolver asks, in order.
func (r *Resolver) Nameservers() []string {
	return append([]string(nil), r.servers...)
}

// ClearCache drops every cached answer, for example after a change of
// network. It does nothing when caching is off.
func (r *Resolver) ClearCache() {
	if r.cache != nil {
		r.cache.clear()
	}
}

func normalizeServer(s string) string {
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s
	}
	return net.JoinHostPort(strings.Trim(s, "[]"), "53")
}

// intn returns a random int in [0, n).
func (r *Resolver) intn(n int) int {
	if r.rng == nil {
		return rand.IntN(n)
	}
	r.rngMu.Lock()
	defer r.rngMu.Unlock()
	return r.rng.IntN(n)
}

// query asks for the records of type qtype at name, from the cache or the
// servers. It returns the records (following a CNAME chain inside the
// answer) or a *LookupError.
func (r *Resolver) query(ctx context.Context, name string, qtype uint16) (rrset, error) {
	if set, ok, err := r.cached(name, qtype); ok {
		return set, err
	}
	qname := canonical(name)
	key := cacheKey{qname, qtype}
	msg, err := r.exchange(ctx, qname, qtype)
	if err != nil {
		return rrset{}, err
	}
	set, ttl, kind, detail := parseAnswer(msg, qname, qtype)
	if r.cache != nil && ttl > 0 {
		limit := maxPositiveTTL
		if kind != nil {
			limit = maxNegativeTTL
		}
		r.cache.put(&cacheEntry{
			key: key, set: set, kind: kind, detail: detail,
			expires: r.now().Add(min(time.Duration(ttl)*time.Second, limit)),
		})
	}
	if kind != nil {
		return rrset{}, newError(qname, qtype, kind, detail)
	}
	return set, nil
}

// canonical returns name in lower case and fully qualified, without
// allocating when it already is.
func canonical(name string) string {
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' {
			return dns.CanonicalName(name)
		}
	}
	return dns.Fqdn(name)
}

// cached returns the cached answer for name and qtype, if any: the records
// or the *LookupError of a cached negative answer.
func (r *Resolver) cached(name string, qtype uint16) (rrset, bool, error) {
	if r.cache == nil {
		return rrset{}, false, nil
	}
	qname := canonical(name)
	e, ok := r.cache.get(cacheKey{qname, qtype}, r.now())
	if !ok {
		return rrset{}, false, nil
	}
	if e.kind != nil {
		return rrset{}, true, newError(qname, qtype, e.kind, e.detail)
	}
	return e.set, true, nil
}

// parseAnswer extracts the records of a NOERROR or NXDOMAIN answer. ttl is
// how long the result may be cached (0: not at all); kind is nil,
// ErrNXDomain or ErrNoRecords.
func parseAnswer(msg *dns.Msg, qname string, qtype uint16) (set rrset, ttl uint32, kind, detail error) {
	if msg.Rcode == dns.RcodeNameError {
		return rrset{}, negativeTTL(msg), ErrNXDomain, nil
	}
	// Follow the CNAME chain from qname inside the answer section.
	owners := map[string]bool{qname: true}
	ttl = ^uint32(0)
	current := qname
	for range maxCNAMEs {
		next := ""
		for _, rr := range msg.Answer {
			if c, ok := rr.(*dns.CNAME); ok && canonical(c.Hdr.Name) == current {
				next = canonical(c.Target)
				ttl = min(ttl, c.Hdr.Ttl)
				break
			}
		}
		if next == "" || owners[next] {
			break
		}
		owners[next] = true
		current = next
	}
	ignored := 0
	for _, rr := range msg.Answer {
		h := rr.Header()
		if h.Rrtype != qtype || h.Class != dns.ClassINET || !owners[canonical(h.Name)] || !wellTyped(rr, qtype) {
			if h.Rrtype != dns.TypeCNAME && h.Rrtype != dns.TypeRRSIG {
				ignored++
			}
			continue
		}
		set.rrs = append(set.rrs, rr)
		ttl = min(ttl, h.Ttl)
	}
	if len(set.rrs) == 0 {
		if ignored > 0 {
			detail = fmt.Errorf("%d unusable record(s) in the answer ignored", ignored)
		}
		return rrset{}, negativeTTL(msg), ErrNoRecords, detail
	}
	if qtype == dns.TypeSRV {
		for _, rr := range msg.Extra {
			switch rr.(type) {
			case *dns.A, *dns.AAAA:
				if rr.Header().Class == dns.ClassINET {
					set.extra = append(set.extra, rr)
					ttl = min(ttl, rr.Header().Ttl)
				}
			}
		}
	}
	return set, ttl, nil, nil
}

// wellTyped checks that a record's Go type matches its header type, so that
// later type assertions cannot fail.
func wellTyped(rr dns.RR, qtype uint16) bool {
	switch qtype {
	case dns.TypeA:
		a, ok := rr.(*dns.A)
		return ok && a.A != nil
	case dns.TypeAAAA:
		a, ok := rr.(*dns.AAAA)
		return ok && a.AAAA != nil
	case dns.TypeSRV:
		_, ok := rr.(*dns.SRV)
		return ok
	case dns.TypeNAPTR:
		_, ok := rr.(*dns.NAPTR)
		return ok
	}
	return false
}

// negativeTTL is the time a negative answer may be cached (RFC 2308 section
// 5): the smaller of the SOA record's TTL and its MINIMUM field, or 0
// without an SOA record.
func negativeTTL(msg *dns.Msg) uint32 {
	for _, rr := range msg.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return min(soa.Hdr.Ttl, soa.Minttl)
		}
	}
	return 0
}

// exchange sends the query to the servers in order, going round the list
// r.attempts times, until one gives a usable answer (NOERROR or NXDOMAIN).
// A truncated UDP answer is asked again over TCP.
func (r *Resolver) exchange(ctx context.Context, qname string, qtype uint16) (*dns.Msg, error) {
	var last error
	for range r.attempts {
		for _, server := range r.servers {
			if err := ctxDone(ctx); err != nil {
				return nil, contextError(qname, qtype, err)
			}
			m := new(dns.Msg)
			m.SetQuestion(qname, qtype)
			m.SetEdns0(ednsUDPSize, false)
			start := time.Now()
			resp, err := r.ask(ctx, m, server)
			if err == nil && resp.Rcode == dns.RcodeFormatError {
				// A server that does not know EDNS0 (RFC 6891 section 7):
				// ask again without it.
				r.log.Debug("lookup: FORMERR, retrying without EDNS0", "name", qname, "type", dns.TypeToString[qtype], "server", server)
				m = new(dns.Msg)
				m.SetQuestion(qname, qtype)
				resp, err = r.ask(ctx, m, server)
			}
			if err != nil {
				if cerr := ctxDone(ctx); cerr != nil {
					return nil, contextError(qname, qtype, cerr)
				}
				last = classify(qname, qtype, server, err)
				r.log.Debug("lookup: query failed", "name", qname, "type", dns.TypeToString[qtype], "server", server, "error", err)
				continue
			}
			if err := checkAnswer(resp, m); err != nil {
				last = newError(qname, qtype, ErrMalformed, fmt.Errorf("server %s: %w", server, err))
				r.log.Debug("lookup: bad answer", "name", qname, "type", dns.TypeToString[qtype], "server", server, "error", err)
				continue
			}
			r.log.Debug("lookup: answer", "name", qname, "type", dns.TypeToString[qtype], "server", server,
				"rcode", dns.RcodeToString[resp.Rcode], "answers", len(resp.Answer), "rtt", time.Since(start))
			switch resp.Rcode {
			case dns.RcodeSuccess, dns.RcodeNameError:
				return resp, nil
			default:
				last = newError(qname, qtype, ErrServerFailure, fmt.Errorf("server %s: %s", server, rcodeString(resp.Rcode)))
			}
		}
	}
	if last == nil {
		last = newError(qname, qtype, ErrServerFailure, errors.New("no nameserver"))
	}
	return nil, last
}

// ask sends m to server over UDP, and again over TCP if the answer is
// truncated.
func (r *Resolver) ask(ctx context.Context, m *dns.Msg, server string) (*dns.Msg, error) {
	resp, err := r.exchangeOne(ctx, m, server, "udp")
	if err == nil && resp.Truncated {
		r.log.Debug("lookup: truncated answer, retrying over TCP", "name", m.Question[0].Name,
			"type", dns.TypeToString[m.Question[0].Qtype], "server", server)
		m.Id = dns.Id()
		resp, err = r.exchangeOne(ctx, m, server, "tcp")
	}
	return resp, err
}

// exchangeOne makes one query to one server over network ("udp" or "tcp"),
// within r.timeout and the context (whose cancellation interrupts the read
// at once).
func (r *Resolver) exchangeOne(ctx context.Context, m *dns.Msg, server, network string) (*dns.Msg, error) {
	actx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	c := &dns.Client{Net: network, Timeout: r.timeout, UDPSize: ednsUDPSize}
	conn, err := c.DialContext(actx, server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// Closing the connection interrupts a pending read at once; the client
	// itself only applies the context's deadline, not its cancellation.
	stop := context.AfterFunc(actx, func() { _ = conn.Close() })
	defer stop()
	resp, _, err := c.ExchangeWithConnContext(actx, m, conn)
	if err != nil {
		if ctxDone(actx) != nil && ctxDone(ctx) == nil {
			return nil, timeoutError{r.timeout}
		}
		return nil, err
	}
	if resp == nil {
		return nil, errors.New("empty answer")
	}
	return resp, nil
}

// timeoutError says that one server did not answer within the per-query
// timeout. It is a net.Error.
type timeoutError struct{ d time.Duration }

func (e timeoutError) Error() string   { return "no answer within " + e.d.String() }
func (e timeoutError) Timeout() bool   { return true }
func (e timeoutError) Temporary() bool { return true }

// checkAnswer rejects answers that do not answer the question asked.
func checkAnswer(resp, req *dns.Msg) error {
	if !resp.Response {
		return errors.New("answer is not a response")
	}
	if len(resp.Question) != 1 {
		return fmt.Errorf("answer has %d questions", len(resp.Question))
	}
	q, want := resp.Question[0], req.Question[0]
	if q.Qtype != want.Qtype || q.Qclass != want.Qclass || !strings.EqualFold(q.Name, want.Name) {
		return fmt.Errorf("answer is for %s %s", q.Name, dns.TypeToString[q.Qtype])
	}
	return nil
}

// classify turns a transport or parsing error into a *LookupError.
func classify(qname string, qtype uint16, server string, err error) error {
	cause := fmt.Errorf("server %s: %w", server, err)
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return newError(qname, qtype, ErrTimeout, cause)
	case errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		return newError(qname, qtype, ErrServerFailure, cause)
	default:
		// miekg/dns reports unpacking failures as its own error values.
		return newError(qname, qtype, ErrMalformed, cause)
	}
}

// ctxDone is ctx.Err(), but also reports a deadline that has passed before
// the context's timer fired (a socket deadline set from it can expire
// first).
func ctxDone(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

func contextError(qname string, qtype uint16, err error) *LookupError {
	kind := ErrCanceled
	if errors.Is(err, context.DeadlineExceeded) {
		kind = ErrTimeout
	}
	return newError(qname, qtype, kind, err)
}

func newError(qname string, qtype uint16, kind, cause error) *LookupError {
	return &LookupError{Name: strings.TrimSuffix(qname, "."), Type: typeString(qtype), Kind: kind, Err: cause}
}

func typeString(qtype uint16) string {
	if s, ok := dns.TypeToString[qtype]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(qtype))
}

func rcodeString(rcode int) string {
	if s, ok := dns.RcodeToString[rcode]; ok {
		return s
	}
	return "RCODE" + strconv.Itoa(rcode)
}
