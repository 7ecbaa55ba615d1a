package lookup

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testSOA is returned in the authority section of negative answers, so
// that they can be cached (RFC 2308); its MINIMUM is 30 s.
const testSOA = "test. 60 IN SOA ns.test. admin.test. 1 3600 600 86400 30"

// testServer is an authoritative DNS server on loopback (UDP and TCP on the
// same port) serving a zone given as text, recording every query it gets.
type testServer struct {
	addr string

	mu      sync.Mutex
	records map[cacheKey][]dns.RR
	names   map[string]bool
	extra   bool // add the A/AAAA records of SRV targets to SRV answers
	noSOA   bool // negative answers without SOA (not cacheable)
	hook    func(w dns.ResponseWriter, req *dns.Msg) bool
	log     []string
}

// newTestServer starts a server for zone: one resource record per line in
// master file syntax; blank lines and lines starting with ';' are skipped.
func newTestServer(t testing.TB, zone string) *testServer {
	t.Helper()
	s := &testServer{records: make(map[cacheKey][]dns.RR), names: make(map[string]bool)}
	s.load(t, zone)

	var pc net.PacketConn
	var ln net.Listener
	for try := 0; ln == nil; try++ {
		var err error
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err = net.Listen("tcp", pc.LocalAddr().String())
		if err != nil {
			pc.Close()
			if try == 10 {
				t.Fatal(err)
			}
		}
	}
	s.addr = pc.LocalAddr().String()
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: s}, {Listener: ln, Handler: s}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = srv.ActivateAndServe()
		}()
		<-started
		t.Cleanup(func() {
			_ = srv.Shutdown()
			<-done
		})
	}
	return s
}

func (s *testServer) load(t testing.TB, zone string) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(zone))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatalf("zone line %q: %v", line, err)
		}
		h := rr.Header()
		key := cacheKey{dns.CanonicalName(h.Name), h.Rrtype}
		s.records[key] = append(s.records[key], rr)
		s.names[key.name] = true
	}
}

func (s *testServer) setHook(h func(w dns.ResponseWriter, req *dns.Msg) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = h
}

// queries returns the queries received, as "NAPTR example.test" (with
// " tcp" appended for TCP), and forgets them.
func (s *testServer) queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.log
	s.log = nil
	return q
}

func (s *testServer) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	if len(req.Question) != 1 {
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeFormatError)
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	entry := dns.TypeToString[q.Qtype] + " " + strings.TrimSuffix(q.Name, ".")
	if w.RemoteAddr().Network() == "tcp" {
		entry += " tcp"
	}
	s.mu.Lock()
	s.log = append(s.log, entry)
	hook := s.hook
	s.mu.Unlock()
	if hook != nil && hook(w, req) {
		return
	}
	_ = w.WriteMsg(s.answer(req))
}

// answer builds the authoritative answer to req from the zone.
func (s *testServer) answer(req *dns.Msg) *dns.Msg {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := req.Question[0]
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	name := dns.CanonicalName(q.Name)
	m.Answer = append(m.Answer, s.records[cacheKey{name, q.Qtype}]...)
	if len(m.Answer) == 0 {
		if !s.names[name] {
			m.Rcode = dns.RcodeNameError
		}
		if !s.noSOA {
			soa, _ := dns.NewRR(testSOA)
			m.Ns = []dns.RR{soa}
		}
	}
	if s.extra && q.Qtype == dns.TypeSRV {
		for _, rr := range m.Answer {
			target := dns.CanonicalName(rr.(*dns.SRV).Target)
			m.Extra = append(m.Extra, s.records[cacheKey{target, dns.TypeA}]...)
			m.Extra = append(m.Extra, s.records[cacheKey{target, dns.TypeAAAA}]...)
		}
	}
	return m
}

// fakeClock is a manually advanced clock for cache expiry tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newTestResolver returns a resolver asking only s, without reading
// resolv.conf.
func newTestResolver(s *testServer, opts ...Option) *Resolver {
	base := []Option{
		WithNameservers([]string{s.addr}),
		WithTimeout(5 * time.Second),
		WithAttempts(1),
		WithResolvConf("/nonexistent/resolv.conf"),
	}
	return NewResolver(append(base, opts...)...)
}

// routeStrings formats routes for comparison.
func routeStrings(routes []Route) []string {
	out := make([]string, len(routes))
	for i, r := range routes {
		out[i] = r.String()
	}
	return out
}
