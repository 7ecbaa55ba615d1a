package lookup

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// silentServer is a UDP socket that reads queries and never answers. It
// returns the address and a channel that receives each query's arrival.
func silentServer(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{}, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			select {
			case got <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		<-done
	})
	return pc.LocalAddr().String(), got
}

func TestTimeout(t *testing.T) {
	addr, _ := silentServer(t)
	r := NewResolver(WithNameservers([]string{addr}), WithTimeout(50*time.Millisecond), WithAttempts(2))
	// The context's deadline is only a bound on the test: the resolver's
	// own timeout must end the lookup well before it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	routes, err := r.LookupSIPProxy(ctx, Target{Host: "example.test"}, allTransports)
	if err == nil {
		t.Fatalf("routes %q from a server that never answers", routeStrings(routes))
	}
	if ctx.Err() != nil {
		t.Fatalf("the lookup ran into the context deadline: %v", err)
	}
	var le *LookupError
	if !errors.As(err, &le) || !errors.Is(err, ErrTimeout) || !le.Timeout() || !le.Temporary() {
		t.Fatalf("error %v, want a timeout *LookupError", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v claims the context deadline passed", err)
	}
	if le.Name != "example.test" || le.Type != "A/AAAA" {
		t.Errorf("error names %s %q, want A/AAAA example.test", le.Type, le.Name)
	}
}

func TestContextDeadline(t *testing.T) {
	addr, _ := silentServer(t)
	r := NewResolver(WithNameservers([]string{addr}), WithTimeout(time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := r.LookupSIPProxy(ctx, Target{Host: "example.test"}, allTransports)
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want ErrTimeout and context.DeadlineExceeded", err)
	}
	var le *LookupError
	// The NAPTR query is in flight when the deadline passes (or, on a
	// machine slow enough, the lookup had not started: no query named).
	if !errors.As(err, &le) || (le.Type != "NAPTR" && le.Type != "") || le.Name != "example.test" {
		t.Errorf("error %v, want the NAPTR query of example.test named", err)
	}
}

func TestContextCancel(t *testing.T) {
	addr, got := silentServer(t)
	r := NewResolver(WithNameservers([]string{addr}), WithTimeout(time.Minute))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-got // cancel once the query is in flight
		cancel()
	}()
	start := time.Now()
	_, err := r.LookupSIPProxy(ctx, Target{Host: "example.test"}, allTransports)
	if !errors.Is(err, ErrCanceled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want ErrCanceled and context.Canceled", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("cancellation took %v", d)
	}

	// An already cancelled context makes no query.
	srv := newTestServer(t, testZone)
	r = newTestResolver(srv)
	if _, err := r.LookupSIPProxy(ctx, Target{Host: "example.test"}, allTransports); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v with a cancelled context", err)
	}
	if q := srv.queries(); len(q) > 0 {
		t.Errorf("queries %q with a cancelled context", q)
	}
}

// hookServer answers every query through hook; the zone is testZone.
func hookServer(t *testing.T, hook func(s *testServer, w dns.ResponseWriter, req *dns.Msg) bool) *testServer {
	srv := newTestServer(t, testZone)
	srv.setHook(func(w dns.ResponseWriter, req *dns.Msg) bool { return hook(srv, w, req) })
	return srv
}

func TestMalformedAnswers(t *testing.T) {
	tests := []struct {
		name string
		hook func(s *testServer, w dns.ResponseWriter, req *dns.Msg) bool
		// want is the expected routes, or nil for an error of kind kind.
		want []string
		kind error
	}{
		{
			name: "answer cut in the middle of a record",
			hook: func(s *testServer, w dns.ResponseWriter, req *dns.Msg) bool {
				m := s.answer(req)
				m.Answer = append(m.Answer, m.Answer...) // make sure there is a record to cut
				b, err := m.Pack()
				if err != nil {
					return false
				}
				_, _ = w.Write(b[:len(b)-3])
				return true
			},
			kind: ErrMalformed,
		},
		{
			name: "shorter than a header",
			hook: func(s *testServer, w dns.ResponseWriter, req *dns.Msg) bool {
				_, _ = w.Write([]byte{byte(req.Id >> 8), byte(req.Id), 0x81})
				return true
			},
			kind: ErrMalformed,
		},
		{
			name: "header claiming records that are not there",
			hook: func(s *testServer, w dns.ResponseWriter, req *dns.Msg) bool {
				b := []byte{byte(req.Id >> 8), byte(req.Id), 0x81, 0x80, 0, 0, 0, 200, 0, 0, 0, 0}
				_, _ = w.Write(b)
				return true
			},
			kind: ErrMalformed,
		},
		{
			name: "answer to another question",
			hook: func(s *testServer, w dns.ResponseWriter, req *dns.Msg) bool {
				m := s.answer(req)
				m.Question[0].Name = "evil.test."
				_ = w.WriteMsg(m)
				return true
			},
			kind: ErrMalformed,
		},
		{
			name: "not a response",
			hook: func(s *testServer, w dns.ResponseWriter, req *dns.Msg) bool {
				m := s.answer(req)
				m.Response = false
				_ = w.WriteMsg(m)
				return true
			},
			kind: ErrMalformed,
		},
		{
			name: "SERVFAIL",
			hook: func(s *testServer, w dns.ResponseWriter, req *dns.Msg) bool {
				m := new(dns.Msg)
				m.SetRcode(req, dns.RcodeServerFailure)
				_ = w.WriteMsg(m)
				return true
			},
			kind: ErrServerFailure,
		},
		{
			name: "records of the wrong type or owner are ignored",
			hook: func(s *testServer, w dns.ResponseWriter, req *dns.Msg) bool {
				if req.Question[0].Qtype == dns.TypeA || req.Question[0].Qtype == dns.TypeAAAA {
					return false
				}
				m := new(dns.Msg)
				m.SetReply(req)
				a, _ := dns.NewRR(req.Question[0].Name + " 60 IN A 192.0.2.66")
				other, _ := dns.NewRR("_sip._udp.elsewhere.test. 60 IN SRV 0 0 5060 elsewhere.test.")
				naptr, _ := dns.NewRR(`elsewhere.test. 60 IN NAPTR 10 10 "s" "SIP+D2U" "" _sip._udp.elsewhere.test.`)
				m.Answer = []dns.RR{a, other, naptr}
				_ = w.WriteMsg(m)
				return true
			},
			want: []string{"udp:192.0.2.70:5060", "udp:[2001:db8::70]:5060"},
		},
		{
			name: "FORMERR to EDNS0: asked again without it",
			hook: func(s *testServer, w dns.ResponseWriter, req *dns.Msg) bool {
				if req.IsEdns0() == nil {
					return false
				}
				m := new(dns.Msg)
				m.SetRcode(req, dns.RcodeFormatError)
				_ = w.WriteMsg(m)
				return true
			},
			want: []string{"udp:192.0.2.70:5060", "udp:[2001:db8::70]:5060"},
		},
		{
			name: "truncated UDP answer is asked again over TCP",
			hook: func(s *testServer, w dns.ResponseWriter, req *dns.Msg) bool {
				if w.RemoteAddr().Network() != "udp" {
					return false
				}
				m := new(dns.Msg)
				m.SetReply(req)
				m.Truncated = true
				_ = w.WriteMsg(m)
				return true
			},
			want: []string{"udp:192.0.2.70:5060", "udp:[2001:db8::70]:5060"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := hookServer(t, tc.hook)
			r := newTestResolver(srv, WithAttempts(2))
			routes, err := r.LookupSIPProxy(context.Background(), Target{Host: "plain.test"}, []string{"udp"})
			if tc.want != nil {
				if err != nil {
					t.Fatal(err)
				}
				if got := routeStrings(routes); !slices.Equal(got, tc.want) {
					t.Errorf("routes %q, want %q", got, tc.want)
				}
				return
			}
			if !errors.Is(err, tc.kind) {
				t.Fatalf("error %v, want %v", err, tc.kind)
			}
			if !strings.Contains(err.Error(), "plain.test") {
				t.Errorf("error %q does not name the host", err)
			}
		})
	}
}

func TestTruncatedRetriesOverTCP(t *testing.T) {
	srv := hookServer(t, func(s *testServer, w dns.ResponseWriter, req *dns.Msg) bool {
		if w.RemoteAddr().Network() != "udp" || req.Question[0].Qtype != dns.TypeNAPTR {
			return false
		}
		m := new(dns.Msg)
		m.SetReply(req)
		m.Truncated = true
		_ = w.WriteMsg(m)
		return true
	})
	var logs syncBuffer
	r := newTestResolver(srv, WithAddressFamily(IPv4Only),
		WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	routes, err := r.LookupSIPProxy(context.Background(), Target{Host: "example.test"}, []string{"tcp"})
	if err != nil {
		t.Fatal(err)
	}
	if got := routeStrings(routes); !slices.Equal(got, []string{"tcp:192.0.2.20:5060"}) {
		t.Errorf("routes %q", got)
	}
	q := srv.queries()
	if len(q) < 2 || q[0] != "NAPTR example.test" || q[1] != "NAPTR example.test tcp" {
		t.Errorf("queries %q: want the NAPTR query over UDP then TCP", q)
	}
	if !strings.Contains(logs.String(), "truncated answer, retrying over TCP") {
		t.Errorf("no debug trace of the TCP retry in %q", logs.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestNextNameserver(t *testing.T) {
	failing := hookServer(t, func(s *testServer, w dns.ResponseWriter, req *dns.Msg) bool {
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeRefused)
		_ = w.WriteMsg(m)
		return true
	})
	silent, _ := silentServer(t)
	good := newTestServer(t, testZone)
	r := NewResolver(WithNameservers([]string{failing.addr, silent, good.addr}),
		WithTimeout(50*time.Millisecond), WithAttempts(1))
	routes, err := r.LookupSIPProxy(context.Background(), Target{Host: "example.test", Port: 5060}, []string{"udp"})
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) != 2 {
		t.Errorf("routes %q", routeStrings(routes))
	}
	if len(failing.queries()) == 0 || len(good.queries()) == 0 {
		t.Error("the servers were not asked in turn")
	}
}

func TestUnreachableNameserver(t *testing.T) {
	// A closed UDP port on loopback answers with ICMP port unreachable.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	r := NewResolver(WithNameservers([]string{addr}), WithTimeout(200*time.Millisecond), WithAttempts(1))
	_, err = r.LookupSIPProxy(context.Background(), Target{Host: "example.test", Port: 5060}, []string{"udp"})
	if !errors.Is(err, ErrServerFailure) && !errors.Is(err, ErrTimeout) {
		t.Fatalf("error %v, want a server failure or timeout", err)
	}
}

func TestParseAnswerCNAME(t *testing.T) {
	m := new(dns.Msg)
	m.SetQuestion("alias.test.", dns.TypeA)
	m.Response = true
	for _, s := range []string{
		"alias.test. 100 IN CNAME mid.test.",
		"mid.test. 50 IN CNAME real.test.",
		"real.test. 200 IN A 192.0.2.1",
		"unrelated.test. 10 IN A 192.0.2.2",
		"real.test. 200 IN AAAA 2001:db8::1",
	} {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		m.Answer = append(m.Answer, rr)
	}
	set, ttl, kind, _ := parseAnswer(m, "alias.test.", dns.TypeA)
	if kind != nil || len(set.rrs) != 1 || set.rrs[0].(*dns.A).A.String() != "192.0.2.1" || ttl != 50 {
		t.Errorf("got %v ttl %d kind %v", set.rrs, ttl, kind)
	}

	// A CNAME loop ends.
	loop := new(dns.Msg)
	loop.SetQuestion("a.test.", dns.TypeA)
	for _, s := range []string{"a.test. 1 IN CNAME b.test.", "b.test. 1 IN CNAME a.test."} {
		rr, _ := dns.NewRR(s)
		loop.Answer = append(loop.Answer, rr)
	}
	if _, _, kind, _ := parseAnswer(loop, "a.test.", dns.TypeA); kind != ErrNoRecords {
		t.Errorf("CNAME loop: kind %v", kind)
	}
}

func TestNewResolverConfiguration(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(conf, []byte("nameserver 192.0.2.53\nnameserver 2001:db8::53\noptions timeout:1 attempts:3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := NewResolver(WithResolvConf(conf))
	if got, want := r.Nameservers(), []string{"192.0.2.53:53", "[2001:db8::53]:53"}; !slices.Equal(got, want) {
		t.Errorf("servers %q, want %q", got, want)
	}
	if r.timeout != time.Second || r.attempts != 3 {
		t.Errorf("timeout %v attempts %d, want 1s and 3", r.timeout, r.attempts)
	}

	r = NewResolver(WithResolvConf(conf), WithNameservers([]string{"127.0.0.1", "::1", "127.0.0.1:5353", " "}), WithTimeout(time.Minute))
	if got, want := r.Nameservers(), []string{"127.0.0.1:53", "[::1]:53", "127.0.0.1:5353"}; !slices.Equal(got, want) {
		t.Errorf("servers %q, want %q", got, want)
	}
	if r.timeout != time.Minute || r.attempts != 3 {
		t.Errorf("timeout %v attempts %d, want 1m and 3", r.timeout, r.attempts)
	}
	if r.cache != nil {
		t.Error("cache on by default")
	}

	r = NewResolver(WithResolvConf(filepath.Join(dir, "missing")))
	if got, want := r.Nameservers(), []string{"127.0.0.1:53", "[::1]:53"}; !slices.Equal(got, want) {
		t.Errorf("servers %q, want %q", got, want)
	}
	if r.timeout != DefaultTimeout || r.attempts != DefaultAttempts {
		t.Errorf("timeout %v attempts %d", r.timeout, r.attempts)
	}
}
