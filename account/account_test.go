package account

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	cfg "github.com/sipsimple-go/sipsimple/configuration"
	"github.com/sipsimple-go/sipsimple/configuration/settings"
	"github.com/sipsimple-go/sipsimple/core"
	"github.com/sipsimple-go/sipsimple/internal/interop"
	"github.com/sipsimple-go/sipsimple/notification"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type env struct {
	center *notification.Center
	config *cfg.Manager
	global *settings.SIPSimpleSettings
	engine *core.Engine
	mgr    *Manager
}

// staticResolver returns fixed routes.
type staticResolver []core.Route

func (s staticResolver) Routes(context.Context, core.SIPURI, []string) ([]core.Route, error) {
	return s, nil
}

func newEnv(t *testing.T, resolver Resolver) *env {
	t.Helper()
	ctx := context.Background()
	c := notification.NewCenter()
	t.Cleanup(c.Close)
	m := cfg.NewManager(cfg.NewMemoryBackend(nil), c, nil)
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	g, err := settings.New(m)
	if err != nil {
		t.Fatal(err)
	}
	g.InstanceID.Set("urn:uuid:00000000-0000-0000-0000-000000000001")
	e := core.NewEngine(c, core.EngineConfig{LocalIP: "127.0.0.1"})
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Stop(ctx) })
	mgr := NewManager(Config{Center: c, Configuration: m, Settings: g, Engine: e, Resolver: resolver})
	if err := mgr.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		mgr.Stop(sctx)
	})
	return &env{c, m, g, e, mgr}
}

func kamailioRoute(k *interop.Kamailio, transport string) core.Route {
	addr := k.UDPAddr()
	if transport == "tcp" {
		addr = k.TCPAddr()
	}
	host, port, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(port)
	return core.Route{Address: host, Port: n, Transport: transport}
}

func wait[T any](t *testing.T, w *notification.Waiter) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n, err := w.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := notification.Data[T](n)
	return d
}

// registerTrace sees, in one observer and so in post order, the REGISTER
// requests the engine sends (SIPEngineSIPTrace) and every other
// notification: when an outcome is read, every REGISTER that led to it
// has been read before it. posted counts the notifications read, by name.
type registerTrace struct {
	t        *testing.T
	ch       chan notification.Notification
	seen     map[string]bool
	contacts []string // Contact lines of the REGISTERs, in order
	sent     int      // REGISTERs, without UDP retransmissions
	posted   map[string]int
}

func traceRegisters(t *testing.T, e *env) *registerTrace {
	rt := &registerTrace{t: t, ch: make(chan notification.Notification, 4096), seen: map[string]bool{}, posted: map[string]int{}}
	e.engine.SetTrace(true)
	t.Cleanup(e.center.Observe(notification.Any, nil, func(n notification.Notification) {
		select {
		case rt.ch <- n:
		default:
			t.Error("the register trace dropped a notification")
		}
	}))
	return rt
}

// until reads notifications until one named name from sender and returns
// its data.
func until[T any](rt *registerTrace, name string, sender any) T {
	rt.t.Helper()
	deadline := time.NewTimer(20 * time.Second) // a failure bound only
	defer deadline.Stop()
	for {
		select {
		case n := <-rt.ch:
			if n.Name == core.EngineSIPTrace {
				rt.trace(n)
				continue
			}
			rt.posted[n.Name]++
			if n.Name == name && n.Sender == sender {
				d, _ := notification.Data[T](n)
				return d
			}
		case <-deadline.C:
			rt.t.Fatalf("no %s within 20s (%d REGISTERs sent)", name, rt.sent)
		}
	}
}

func (rt *registerTrace) trace(n notification.Notification) {
	d, _ := notification.Data[core.SIPTraceData](n)
	msg := string(d.Data)
	if d.Received || !strings.HasPrefix(msg, "REGISTER ") {
		return
	}
	var contacts []string
	key := ""
	for _, line := range strings.Split(msg, "\r\n") {
		switch {
		case strings.HasPrefix(line, "Contact:"):
			contacts = append(contacts, line)
		case strings.HasPrefix(line, "Via:"):
			key = line // the branch tells a retransmission
		}
	}
	if rt.seen[key] {
		return
	}
	rt.seen[key] = true
	rt.sent++
	rt.contacts = append(rt.contacts, contacts...)
}

// newKamailioAccount creates, configures and saves an enabled account.
func (e *env) newAccount(t *testing.T, id, password string) *Account {
	t.Helper()
	a, err := e.mgr.NewAccount(id)
	if err != nil {
		t.Fatal(err)
	}
	a.Auth.Password.Set(password)
	a.SIP.RegisterInterval.Set(60 * time.Second)
	a.SIP.RetryInterval.Set(time.Hour) // a retry must not happen during a test
	a.Enabled.Set(true)
	return a
}

func TestAccountRegistersWithKamailio(t *testing.T) {
	k := interop.StartKamailio(t, interop.KamailioConfig{Users: map[string]string{"alice": "secret"}, DisableTLS: true})
	e := newEnv(t, staticResolver{kamailioRoute(k, "udp")})
	a := e.newAccount(t, "alice@"+k.Domain, "secret")
	added := e.center.Expect(ManagerDidAddAccount, e.mgr)
	activated := e.center.Expect(DidActivate, a)
	ok := e.center.Expect(RegistrationDidSucceed, a)
	if err := a.Save(); err != nil {
		t.Fatal(err)
	}
	if d := wait[AccountData](t, added); d.Account != a {
		t.Fatalf("DidAddAccount for %v", d.Account)
	}
	wait[any](t, activated)
	d := wait[RegistrationDidSucceedData](t, ok)
	if d.Code != 200 || d.Reason != "OK" || d.Expires != 60*time.Second || d.Registration == nil {
		t.Fatalf("DidSucceed %+v", d)
	}
	if d.ContactURI.User != a.ContactUser() || len(a.ContactUser()) != 8 || strings.Trim(a.ContactUser(), "abcdefghijklmnopqrstuvwxyz") != "" {
		t.Fatalf("contact %s, contact user %q", d.ContactURI, a.ContactUser())
	}
	if len(d.ContactURIList) != 1 {
		t.Fatalf("contact list %v", d.ContactURIList)
	}
	if !a.Registered() || !a.Active() {
		t.Fatal("account not registered/active")
	}
	// Account.Contact indexes by transport.
	udp, err := a.Contact("udp")
	if err != nil || udp.User != a.ContactUser() || udp.Host != "127.0.0.1" || udp.Transport() != "" {
		t.Fatalf("Contact(udp) = %s, %v", udp, err)
	}
	tcp, err := a.Contact("tcp")
	if err != nil || tcp.Transport() != "tcp" {
		t.Fatalf("Contact(tcp) = %s, %v", tcp, err)
	}
	if _, err := a.Contact("tls"); err == nil {
		t.Fatal("Contact(tls) without a TLS listener succeeded")
	}

	// Disabling deactivates and unregisters.
	ended := e.center.Expect(RegistrationDidEnd, a)
	deactivated := e.center.Expect(DidDeactivate, a)
	a.Enabled.Set(false)
	if err := a.Save(); err != nil {
		t.Fatal(err)
	}
	if d := wait[RegistrationDidEndData](t, ended); d.Code != 200 {
		t.Fatalf("DidEnd %+v", d)
	}
	wait[any](t, deactivated)
	if a.Registered() || a.Active() {
		t.Fatal("still registered after disabling")
	}
}

func TestAccountWrongPasswordNoStorm(t *testing.T) {
	k := interop.StartKamailio(t, interop.KamailioConfig{Users: map[string]string{"bob": "right"}, DisableTLS: true})
	e := newEnv(t, staticResolver{kamailioRoute(k, "udp"), kamailioRoute(k, "tcp")})
	rt := traceRegisters(t, e)
	a := e.newAccount(t, "bob@"+k.Domain, "wrong")
	a.Save()
	d := until[RegistrationDidFailData](rt, RegistrationDidFail, a)
	if d.Code != 401 || d.NextRoute != nil || d.Delay < time.Hour {
		t.Fatalf("DidFail %+v (want 401, no next route: the password is wrong on every route)", d)
	}
	if n := rt.sent; n != 2 {
		t.Fatalf("%d REGISTERs for a wrong password, want 2", n)
	}
}

// The first route is dead (TCP connection refused): the next one is tried
// and succeeds.
func TestAccountRouteFailover(t *testing.T) {
	k := interop.StartKamailio(t, interop.KamailioConfig{Users: map[string]string{"carol": "pw"}, DisableTLS: true})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadPort := l.Addr().(*net.TCPAddr).Port
	l.Close() // now refused
	dead := core.Route{Address: "127.0.0.1", Port: deadPort, Transport: "tcp"}
	live := kamailioRoute(k, "udp")
	e := newEnv(t, staticResolver{dead, live})
	a := e.newAccount(t, "carol@"+k.Domain, "pw")
	failed := e.center.Expect(RegistrationDidFail, a)
	ok := e.center.Expect(RegistrationDidSucceed, a)
	a.Save()
	d := wait[RegistrationDidFailData](t, failed)
	if d.NextRoute == nil || *d.NextRoute != live {
		t.Fatalf("DidFail %+v, want next route %v", d, live)
	}
	if s := wait[RegistrationDidSucceedData](t, ok); s.Code != 200 {
		t.Fatalf("DidSucceed %+v", s)
	}
}

func TestManagerBookkeeping(t *testing.T) {
	e := newEnv(t, staticResolver{})
	if e.mgr.Bonjour() == nil || !e.mgr.HasAccount(BonjourID) {
		t.Fatal("no BonjourAccount")
	}
	if b := e.mgr.Bonjour(); !b.IsBonjour() || b.Address().Domain != "local" || b.Credentials().Password != "" {
		t.Fatalf("bonjour account %v", b.ID())
	}
	if _, err := e.mgr.Account("nobody@example.test"); !errors.Is(err, ErrNoAccount) {
		t.Fatalf("Account(absent) = %v", err)
	}
	var accounts []*Account
	for i, p := range []int{0, 5, 0} {
		a, err := e.mgr.NewAccount(fmt.Sprintf("user%d@example.test", i))
		if err != nil {
			t.Fatal(err)
		}
		a.Priority.Set(p)
		a.SIP.Register.Set(false)
		a.Enabled.Set(true)
		if err := a.Save(); err != nil {
			t.Fatal(err)
		}
		accounts = append(accounts, a)
	}
	if _, err := e.mgr.NewAccount("user0@example.test"); err == nil {
		t.Fatal("duplicate account created")
	}
	ids := []string{}
	for _, a := range e.mgr.Accounts() {
		ids = append(ids, a.ID())
	}
	if strings.Join(ids, ",") != "user1@example.test,bonjour@local,user0@example.test,user2@example.test" {
		t.Fatalf("Accounts() order %v (priority, then id)", ids)
	}
	changed := e.center.Expect(ManagerDidChangeDefault, e.mgr)
	if err := e.mgr.SetDefaultAccount(accounts[2]); err != nil {
		t.Fatal(err)
	}
	if d := wait[DefaultChangedData](t, changed); d.Account != accounts[2] {
		t.Fatalf("DidChangeDefault %+v", d)
	}
	if e.mgr.DefaultAccount() != accounts[2] {
		t.Fatal("DefaultAccount not updated")
	}
	accounts[0].Enabled.Set(false)
	accounts[0].Save()
	if err := e.mgr.SetDefaultAccount(accounts[0]); err == nil || !strings.Contains(err.Error(), "disabled") {
		t.Fatalf("SetDefaultAccount(disabled) = %v", err)
	}
	// FindAccount: contact user, then id, enabled only.
	if got := e.mgr.FindAccount(core.SIPURI{Scheme: "sip", User: accounts[1].ContactUser(), Host: "10.0.0.1"}); got != accounts[1] {
		t.Fatalf("FindAccount(contact user) = %v", got)
	}
	if got := e.mgr.FindAccount(core.MustParseSIPURI("sip:user2@example.test")); got != accounts[2] {
		t.Fatalf("FindAccount(id) = %v", got)
	}
	if got := e.mgr.FindAccount(core.MustParseSIPURI("sip:user0@example.test")); got != nil {
		t.Fatalf("FindAccount found a disabled account: %v", got.ID())
	}
	// Deleting the default account moves the default.
	removed := e.center.Expect(ManagerDidRemoveAccount, e.mgr)
	if err := accounts[2].Delete(context.Background()); err != nil {
		t.Fatal(err)
	}
	wait[AccountData](t, removed)
	if e.mgr.HasAccount("user2@example.test") {
		t.Fatal("deleted account still present")
	}
	if def := e.mgr.DefaultAccount(); def != accounts[1] {
		t.Fatalf("default after delete = %v", def)
	}
	if names := e.config.Names(Group); strings.Contains(strings.Join(names, ","), "user2") {
		t.Fatalf("deleted account still stored: %v", names)
	}
}

// Changing a registration setting re-registers; the outbound setting adds
// +sip.instance and reg-id to the Contact; Delete unregisters first.
func TestAccountReRegisterAndDelete(t *testing.T) {
	k := interop.StartKamailio(t, interop.KamailioConfig{Users: map[string]string{"dave": "pw"}, DisableTLS: true})
	e := newEnv(t, staticResolver{kamailioRoute(k, "udp")})
	rt := traceRegisters(t, e)
	a := e.newAccount(t, "dave@"+k.Domain, "pw")
	a.Save()
	first := until[RegistrationDidSucceedData](rt, RegistrationDidSucceed, a)

	a.SIP.Outbound.Set(true)
	if err := a.Save(); err != nil {
		t.Fatal(err)
	}
	until[RegistrationDidEndData](rt, RegistrationDidEnd, a) // the old registration is removed
	second := until[RegistrationDidSucceedData](rt, RegistrationDidSucceed, a)
	if second.Registration == first.Registration {
		t.Fatal("not re-registered with a new registration")
	}
	if len(rt.contacts) == 0 {
		t.Fatal("no Contact in the REGISTERs")
	}
	last := rt.contacts[len(rt.contacts)-1]
	if !strings.Contains(last, `+sip.instance="<urn:uuid:00000000-0000-0000-0000-000000000001>"`) || !strings.Contains(last, "reg-id=1") {
		t.Fatalf("outbound contact %q", last)
	}

	// A change that does not touch registration does not re-register.
	succeeded := rt.posted[RegistrationDidSucceed]
	a.Presence.PublishInterval.Set(900 * time.Second)
	a.Save()

	if err := a.Delete(context.Background()); err != nil {
		t.Fatal(err)
	}
	until[RegistrationDidEndData](rt, RegistrationDidEnd, a)
	until[AccountData](rt, ManagerDidRemoveAccount, e.mgr)
	if rt.posted[RegistrationDidSucceed] != succeeded {
		t.Fatal("a non-registration change re-registered")
	}
	if err := a.Save(); err == nil {
		t.Fatal("Save after Delete succeeded")
	}
}

func TestBonjourCredentials(t *testing.T) {
	e := newEnv(t, staticResolver{})
	b := e.mgr.Bonjour()
	b.DisplayName.Set("Alice")
	c := b.Credentials()
	if c.Username != b.ContactUser() || c.Password != "" || c.DisplayName != "Alice" {
		t.Fatalf("bonjour credentials %+v", c)
	}
}

// Seed 001's MSRP choices per account: TLS and a relay by default (as
// python-sipsimple); other values than tls/tcp and relay/acm are refused.
func TestAccountMSRPSettings(t *testing.T) {
	e := newEnv(t, staticResolver{})
	b := e.mgr.Bonjour()
	if b.MSRP.Transport.Get() != "tls" || b.MSRP.ConnectionModel.Get() != "relay" {
		t.Fatalf("msrp defaults %q %q", b.MSRP.Transport.Get(), b.MSRP.ConnectionModel.Get())
	}
	if err := b.MSRP.Transport.Set("udp"); err == nil {
		t.Error("msrp.transport udp accepted")
	}
	if err := b.MSRP.ConnectionModel.Set("acm"); err != nil || b.MSRP.ConnectionModel.Get() != "acm" {
		t.Errorf("msrp.connection_model acm: %v", err)
	}
}
