package account

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/sipsimple-go/sipsimple/core"
)

func incoming(t *testing.T, transport, ruri, to string) *sip.Request {
	t.Helper()
	raw := fmt.Sprintf("MESSAGE %s SIP/2.0\r\nVia: SIP/2.0/%s 10.0.0.9:5060;branch=z9hG4bK-1\r\n"+
		"From: <sip:x@remote.test>;tag=1\r\nTo: <%s>\r\nCall-ID: c1\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		ruri, strings.ToUpper(transport), to)
	m, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	req := m.(*sip.Request)
	req.SetTransport(strings.ToUpper(transport))
	return req
}

func TestMatching(t *testing.T) {
	e := newEnv(t, staticResolver{})
	mk := func(id string, prio int, proxy string, transport string) *Account {
		a, err := e.mgr.NewAccount(id)
		if err != nil {
			t.Fatal(err)
		}
		a.SIP.Register.Set(false)
		a.Priority.Set(prio)
		if proxy != "" {
			a.SIP.OutboundProxy.Set(proxy)
		}
		if transport != "" {
			a.SIP.Transport.Set(transport)
		}
		a.Enabled.Set(true)
		if err := a.Save(); err != nil {
			t.Fatal(err)
		}
		return a
	}
	alice := mk("alice@example.test", 0, "", "")
	alicePort := mk("alice2@example.test", 0, "", "")
	alicePort.SIP.Registrar.Set("sip:example.test:5070")
	alicePort.Save()
	bobTCP := mk("bob@other.test", 0, "sip:proxy.other.test", "tcp")
	carol := mk("carol@example.test", 10, "", "")
	e.mgr.Bonjour().Enabled.Set(false)
	e.mgr.Bonjour().Save()
	if err := e.mgr.SetDefaultAccount(alice); err != nil {
		t.Fatal(err)
	}

	localUDP, err := e.mgr.AddLocal("udp")
	if err != nil {
		t.Fatal(err)
	}
	udp, _ := e.engine.Listener("udp")
	if got := localUDP.URI().String(); got != "sip:"+udp.Addr.String() || !localUDP.IsLocal() || localUDP.Priority.Get() != -1 {
		t.Fatalf("local udp account URI %s prio %d", got, localUDP.Priority.Get())
	}
	localTCP, _ := e.mgr.AddLocal("tcp")
	if !strings.HasSuffix(localTCP.URI().String(), ";transport=tcp") {
		t.Fatalf("local tcp account URI %s", localTCP.URI())
	}
	if again, _ := e.mgr.AddLocal("udp"); again != localUDP {
		t.Fatal("AddLocal twice made two accounts")
	}
	if _, err := e.mgr.AddLocal("tls"); err == nil {
		t.Fatal("AddLocal(tls) without a TLS listener succeeded")
	}

	t.Run("outgoing", func(t *testing.T) {
		cases := []struct {
			target string
			want   *Account
		}{
			{"sip:someone@example.test:5070", alicePort},      // domain and port
			{"sip:someone@example.test", carol},               // domain only: highest priority first
			{"sip:someone@EXAMPLE.test;transport=tcp", carol}, // case-insensitive
			{"sip:someone@nowhere.test", alice},               // default
			{"tel:+15551234", bobTCP},                         // non-SIP: first account with a route set
			{"sip:" + udp.Addr.String(), localUDP},            // a local account by IP and port
		}
		for _, c := range cases {
			if got := e.mgr.FindForOutgoing(c.target); got != c.want {
				t.Errorf("FindForOutgoing(%s) = %v, want %v", c.target, id(got), id(c.want))
			}
		}
	})
	t.Run("incoming", func(t *testing.T) {
		cases := []struct {
			name                string
			transport, ruri, to string
			want                *Account
		}{
			{"domain+To user", "udp", "sip:alice@example.test", "sip:alice@example.test", alice},
			{"To user beats RURI user", "udp", "sip:carol@example.test", "sip:alice@example.test", alice},
			{"domain only: priority", "udp", "sip:zed@example.test", "sip:zed@example.test", carol},
			{"transport-bound account on its transport", "tcp", "sip:bob@other.test", "sip:bob@other.test", bobTCP},
			{"contact user in RURI", "udp", "sip:" + alice.ContactUser() + "@10.1.1.1", "sip:whoever@elsewhere.test", alice},
			{"local account by IP", "udp", "sip:" + udp.Addr.String(), "sip:" + udp.Addr.String(), localUDP},
			{"nothing matches: default", "udp", "sip:x@nowhere.test", "sip:x@nowhere.test", alice},
		}
		for _, c := range cases {
			if got := e.mgr.FindForIncoming(incoming(t, c.transport, c.ruri, c.to)); got != c.want {
				t.Errorf("%s: FindForIncoming = %v, want %v", c.name, id(got), id(c.want))
			}
		}
		// bob is bound to TCP: over UDP the transport does not score, so an
		// unbound account with the same domain would win; none exists, so
		// bob still matches on domain and user.
		if got := e.mgr.FindForIncoming(incoming(t, "udp", "sip:bob@other.test", "sip:bob@other.test")); got != bobTCP {
			t.Errorf("bob over UDP = %v", id(got))
		}
		// The hook overrides; an unknown account falls back to the default.
		e.mgr.SetIncomingHook(func(req *sip.Request, chosen *Account) *Account { return carol })
		if got := e.mgr.FindForIncoming(incoming(t, "udp", "sip:alice@example.test", "sip:alice@example.test")); got != carol {
			t.Errorf("hook ignored: %v", id(got))
		}
		e.mgr.SetIncomingHook(func(*sip.Request, *Account) *Account { return &Account{} })
		if got := e.mgr.FindForIncoming(incoming(t, "udp", "sip:carol@example.test", "sip:carol@example.test")); got != alice {
			t.Errorf("invalid hook result: %v, want the default", id(got))
		}
		e.mgr.SetIncomingHook(nil)
	})
	t.Run("local default", func(t *testing.T) {
		if err := e.mgr.SetDefaultAccount(localTCP); err != nil {
			t.Fatal(err)
		}
		if e.mgr.DefaultAccount() != localTCP {
			t.Fatal("local default not kept")
		}
		if got := e.mgr.FindForOutgoing("sip:x@nowhere.test"); got != localTCP {
			t.Fatalf("outgoing default = %v", id(got))
		}
	})
	_ = core.SIPURI{}
}

func id(a *Account) string {
	if a == nil {
		return "<nil>"
	}
	return a.ID()
}

// The default resolver resolves an IP literal without DNS.
func TestLookupResolverIPLiteral(t *testing.T) {
	routes, err := NewLookupResolver().Routes(context.Background(), core.MustParseSIPURI("sip:127.0.0.1:5070"), []string{"udp", "tcp"})
	if err != nil || len(routes) == 0 || routes[0] != (core.Route{Address: "127.0.0.1", Port: 5070, Transport: "udp"}) {
		t.Fatalf("routes %v, %v", routes, err)
	}
}
