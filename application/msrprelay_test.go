package application

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/sipsimple-go/sipsimple/account"
	"github.com/sipsimple-go/sipsimple/configuration"
	"github.com/sipsimple-go/sipsimple/core/lookup"
)

// The relay a stream uses follows seed 001's MSRPConfiguration and the
// account's msrp.connection_model: direct for local accounts and acm, by
// direction (use_relay_incoming on, use_relay_outgoing off by default),
// relay_host when set (required), else discovered in the account's
// domain (optional: unreachable means direct).
func TestMSRPRelayChoice(t *testing.T) {
	app := New()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := app.Start(ctx, Options{Listen: "127.0.0.1:0", Backend: configuration.NewMemoryBackend(nil)}); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(ctx)
	acc, err := app.Accounts().NewAccount("alice@127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	acc.Auth.Password.Set("secret")
	local, err := app.Accounts().AddLocal("udp")
	if err != nil {
		t.Fatal(err)
	}
	r := &msrpRelays{app: app}

	if got, err := r.relay(ctx, local, false); got != nil || err != nil {
		t.Errorf("local account: %+v, %v; want a direct connection", got, err)
	}
	if got, err := r.relay(ctx, acc, true); got != nil || err != nil {
		t.Errorf("outgoing with use_relay_outgoing off: %+v, %v", got, err)
	}
	// Incoming, no relay_host: the domain (an IP literal here) at 2855,
	// msrps, optional.
	got, err := r.relay(ctx, acc, false)
	if err != nil || got == nil {
		t.Fatalf("incoming: %+v, %v", got, err)
	}
	if got.URI.String() != "msrps://127.0.0.1:2855;tcp" || !got.Optional || got.Username != "alice" || got.Password != "secret" {
		t.Errorf("incoming: relay %s optional %v user %q password %q", got.URI, got.Optional, got.Username, got.Password)
	}

	st := app.Settings()
	st.MSRP.RelayHost.Set("relay.example.org")
	st.MSRP.RelayPort.Set(9000)
	st.MSRP.RelayUseTLS.Set(false)
	st.MSRP.UseRelayOutgoing.Set(true)
	got, err = r.relay(ctx, acc, true)
	if err != nil || got == nil || got.URI.String() != "msrp://relay.example.org:9000;tcp" || got.Optional {
		t.Errorf("relay_host: %+v, %v", got, err)
	}

	acc.MSRP.ConnectionModel.Set("acm")
	if got, err := r.relay(ctx, acc, true); got != nil || err != nil {
		t.Errorf("connection_model acm: %+v, %v", got, err)
	}
}

// An injected account.LookupResolver (Options.Resolver) also finds the
// MSRP relay: its name servers answer the SRV query (a DNS server on
// loopback here), not the system's.
func TestMSRPRelayDiscoveryUsesInjectedResolver(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		qq := q.Question[0]
		switch {
		case qq.Qtype == dns.TypeSRV && qq.Name == "_msrps._tcp.example.test.":
			m.Answer = append(m.Answer, &dns.SRV{Hdr: dns.RR_Header{Name: qq.Name, Rrtype: dns.TypeSRV, Class: dns.ClassINET, Ttl: 60},
				Priority: 1, Weight: 1, Port: 4000, Target: "relay.example.test."})
		case qq.Qtype == dns.TypeA && qq.Name == "relay.example.test.":
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: qq.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
				A: net.IPv4(127, 0, 0, 5)})
		}
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	defer srv.Shutdown()

	app := New()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resolver := &account.LookupResolver{R: lookup.NewResolver(lookup.WithNameservers([]string{pc.LocalAddr().String()}))}
	if err := app.Start(ctx, Options{Listen: "127.0.0.1:0", Backend: configuration.NewMemoryBackend(nil), Resolver: resolver}); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(ctx)
	acc, err := app.Accounts().NewAccount("alice@example.test")
	if err != nil {
		t.Fatal(err)
	}
	sub := &sessionsSubsystem{app: app, resolver: resolver}
	got, err := sub.mediaConfig().MSRP.Relay(ctx, acc, false)
	if err != nil || got == nil {
		t.Fatalf("relay: %+v, %v", got, err)
	}
	if got.URI.String() != "msrps://127.0.0.5:4000;tcp" || got.ServerName != "example.test" || !got.Optional {
		t.Errorf("relay %s (server name %q, optional %v), want msrps://127.0.0.5:4000;tcp from SRV", got.URI, got.ServerName, got.Optional)
	}
}
