package lookup_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/sipsimple-go/sipsimple/core/lookup"
)

// exampleZone is what the loopback DNS server of the example serves: the
// NAPTR records prefer TLS, then UDP; each SRV name has a primary and a
// backup target.
const exampleZone = `
example.com. 3600 IN NAPTR 10 10 "s" "SIPS+D2T" "" _sips._tcp.example.com.
example.com. 3600 IN NAPTR 10 20 "s" "SIP+D2U" "" _sip._udp.example.com.
_sips._tcp.example.com. 3600 IN SRV 10 0 5061 sip1.example.com.
_sips._tcp.example.com. 3600 IN SRV 20 0 5061 sip2.example.com.
_sip._udp.example.com. 3600 IN SRV 10 0 5060 sip1.example.com.
_sip._udp.example.com. 3600 IN SRV 20 0 5060 sip2.example.com.
sip1.example.com. 3600 IN A 192.0.2.1
sip1.example.com. 3600 IN AAAA 2001:db8::1
sip2.example.com. 3600 IN A 198.51.100.2
_msrps._tcp.example.com. 3600 IN SRV 10 0 2855 relay.example.com.
relay.example.com. 3600 IN A 192.0.2.9
`

// startExampleServer serves exampleZone on a loopback UDP port and returns
// its address and a function that stops it.
func startExampleServer() (string, func()) {
	records := map[string][]dns.RR{}
	for _, line := range strings.Split(strings.TrimSpace(exampleZone), "\n") {
		rr, err := dns.NewRR(line)
		if err != nil {
			panic(err)
		}
		key := dns.CanonicalName(rr.Header().Name) + "/" + dns.TypeToString[rr.Header().Rrtype]
		records[key] = append(records[key], rr)
	}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		q := req.Question[0]
		m.Answer = records[dns.CanonicalName(q.Name)+"/"+dns.TypeToString[q.Qtype]]
		if len(m.Answer) == 0 {
			m.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	started := make(chan struct{})
	server := &dns.Server{PacketConn: pc, Handler: handler, NotifyStartedFunc: func() { close(started) }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = server.ActivateAndServe()
	}()
	<-started
	return pc.LocalAddr().String(), func() {
		_ = server.Shutdown()
		<-done
	}
}

func ExampleResolver_LookupSIPProxy() {
	addr, stop := startExampleServer()
	defer stop()

	resolver := lookup.NewResolver(
		lookup.WithNameservers([]string{addr}),
		lookup.WithTimeout(2*time.Second),
		lookup.WithCache(true),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// sip:alice@example.com, for a client that prefers TCP, then UDP, then
	// TLS. The domain's NAPTR records decide the order of transports.
	routes, err := resolver.LookupSIPProxy(ctx, lookup.Target{Host: "example.com"}, []string{"tcp", "udp", "tls"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range routes {
		fmt.Println(r) // transport:address:port (name to verify for TLS)
	}

	// sips:alice@example.com;transport=tcp: TLS only, the SRV record of
	// the transport, no NAPTR.
	routes, _ = resolver.LookupSIPProxy(ctx, lookup.Target{Host: "example.com", Transport: "tcp", Secure: true}, []string{"udp", "tls"})
	fmt.Println(routes[0])

	// A name that does not exist.
	_, err = resolver.LookupSIPProxy(ctx, lookup.Target{Host: "nowhere.example.com"}, []string{"udp"})
	fmt.Println(err)

	// Output:
	// tls:192.0.2.1:5061 (example.com)
	// tls:[2001:db8::1]:5061 (example.com)
	// tls:198.51.100.2:5061 (example.com)
	// udp:192.0.2.1:5060
	// udp:[2001:db8::1]:5060
	// udp:198.51.100.2:5060
	// tls:192.0.2.1:5061 (example.com)
	// lookup A/AAAA nowhere.example.com: no such domain
}

// The MSRP relay of a domain (RFC 4976): the SRV records of _msrps._tcp
// for TLS; a domain without them is tried at port 2855.
func ExampleResolver_LookupMSRPRelay() {
	addr, stop := startExampleServer()
	defer stop()
	resolver := lookup.NewResolver(lookup.WithNameservers([]string{addr}), lookup.WithTimeout(2*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	routes, err := resolver.LookupMSRPRelay(ctx, "example.com", true)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(routes[0])
	// Output:
	// tls:192.0.2.9:2855 (example.com)
}
