package account

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	cfg "github.com/sipsimple-go/sipsimple/configuration"
	"github.com/sipsimple-go/sipsimple/configuration/settings"
	"github.com/sipsimple-go/sipsimple/core"
	"github.com/sipsimple-go/sipsimple/notification"
)

// Resolver finds the routes to reach a SIP URI over the given transports,
// in the order to try them (RFC 3263).
type Resolver interface {
	Routes(ctx context.Context, target core.SIPURI, transports []string) ([]core.Route, error)
}

// ErrNoAccount is wrapped by errors about an account id that is not known.
var ErrNoAccount = errors.New("no such account")

// Manager is the account manager of an application (python-sipsimple's
// AccountManager with PJSUA's account model): it loads the accounts from
// the configuration, activates them while the engine runs, keeps the
// default account, and finds accounts for requests.
type Manager struct {
	center   *notification.Center
	config   *cfg.Manager
	global   *settings.SIPSimpleSettings
	resolver Resolver

	mu           sync.Mutex
	eng          *core.Engine
	started      bool
	accounts     map[string]*Account
	bonjour      *Account
	incomingHook IncomingHook
	localDefault *Account   // a local account made default (not persisted)
	sorted       []*Account // cached priority order, nil when stale (read-only)
	regLimiter   *core.Limiter
}

// Config holds what a Manager needs.
type Config struct {
	Center        *notification.Center
	Configuration *cfg.Manager
	Settings      *settings.SIPSimpleSettings
	// Engine is the running engine; accounts activate only with one.
	Engine *core.Engine
	// Resolver finds registration routes; nil means RFC 3263 lookups
	// (NewLookupResolver).
	Resolver Resolver
	// MaxRegistrationsInFlight caps the REGISTER transactions the
	// Manager's accounts have in flight at once (0 means
	// DefaultMaxRegistrationsInFlight): thousands of accounts registering
	// or unregistering together queue for a slot instead of overflowing
	// socket buffers and the registrar.
	MaxRegistrationsInFlight int
}

// DefaultMaxRegistrationsInFlight is the default cap on REGISTER
// transactions in flight per Manager.
const DefaultMaxRegistrationsInFlight = 200

// NewManager returns a stopped Manager.
func NewManager(c Config) *Manager {
	r := c.Resolver
	if r == nil {
		r = NewLookupResolver()
	}
	n := c.MaxRegistrationsInFlight
	if n <= 0 {
		n = DefaultMaxRegistrationsInFlight
	}
	lim, _ := core.NewLimiter(n) // n > 0
	return &Manager{center: c.Center, config: c.Configuration, global: c.Settings, eng: c.Engine,
		resolver: r, accounts: map[string]*Account{}, regLimiter: lim}
}

func (m *Manager) engine() *core.Engine {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.eng
}

// Start loads every stored account and the BonjourAccount and activates the
// enabled ones. SIPAccountManagerDidAddAccount is posted for each.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	if m.started {
		m.mu.Unlock()
		return errors.New("account manager is already started")
	}
	m.mu.Unlock()
	bonjour, err := m.load(BonjourID, true)
	if err != nil {
		return err
	}
	loaded := []*Account{bonjour}
	for _, id := range m.config.Names(Group) {
		if id == BonjourID {
			continue
		}
		a, err := m.load(id, false)
		if err != nil {
			return fmt.Errorf("loading account %s: %w", id, err)
		}
		loaded = append(loaded, a)
	}
	m.mu.Lock()
	m.bonjour = bonjour
	for _, a := range loaded {
		m.accounts[a.ID()] = a
	}
	m.sorted = nil
	m.started = true
	m.mu.Unlock()
	for _, a := range loaded {
		m.center.Post(ManagerDidAddAccount, m, AccountData{Account: a})
	}
	for _, a := range loaded {
		m.reconcile(a)
	}
	if e := m.engine(); e != nil {
		// Incoming calls and messages go to their account's handler (the
		// session manager takes INVITE over when it starts).
		e.Handle("INVITE", m.handleIncoming)
		e.Handle("MESSAGE", m.handleIncoming)
		e.Handle("SUBSCRIBE", m.handleSubscribe)
	}
	m.center.Post(ManagerDidStart, m, nil)
	return nil
}

// Stop deactivates every account (unregistering, bounded by ctx).
func (m *Manager) Stop(ctx context.Context) error {
	m.mu.Lock()
	if !m.started {
		m.mu.Unlock()
		return errors.New("account manager is not started")
	}
	m.started = false
	accounts := m.sortedLocked()
	e := m.eng
	m.mu.Unlock()
	if e != nil {
		e.Handle("INVITE", nil)
		e.Handle("MESSAGE", nil)
		e.Handle("SUBSCRIBE", nil)
	}
	var wg sync.WaitGroup
	for _, a := range accounts {
		wg.Add(1)
		go func(a *Account) {
			defer wg.Done()
			a.deactivate(ctx)
		}(a)
	}
	wg.Wait()
	m.center.Post(ManagerDidEnd, m, nil)
	return nil
}

// load creates the Account object for id from the configuration.
func (m *Manager) load(id string, bonjour bool) (*Account, error) {
	addr, err := cfg.ParseSIPAddress(id)
	if err == nil {
		err = addr.Validate()
	}
	if err != nil {
		return nil, fmt.Errorf("account id %q: %w", id, err)
	}
	obj, err := m.config.NewObject([]string{Group, id})
	if err != nil {
		return nil, err
	}
	a := &Account{Object: obj, mgr: m, address: addr, uri: aorURI(addr), contactUser: newContactUser(), bonjour: bonjour}
	obj.SetOwner(a)
	a.Settings.define(obj, bonjour)
	return a, nil
}

// NewAccount returns a new account with id "user@domain". It joins the
// manager (SIPAccountManagerDidAddAccount) when it is first saved.
func (m *Manager) NewAccount(id string) (*Account, error) {
	m.mu.Lock()
	_, exists := m.accounts[id]
	m.mu.Unlock()
	if exists {
		return nil, fmt.Errorf("account %s already exists", id)
	}
	return m.load(id, false)
}

func (m *Manager) add(a *Account) {
	m.mu.Lock()
	m.accounts[a.ID()] = a
	m.sorted = nil
	m.mu.Unlock()
	m.center.Post(ManagerDidAddAccount, m, AccountData{Account: a})
}

func (m *Manager) remove(a *Account) {
	m.mu.Lock()
	delete(m.accounts, a.ID())
	m.sorted = nil
	m.mu.Unlock()
	m.center.Post(ManagerDidRemoveAccount, m, AccountData{Account: a})
	if def, ok := m.global.DefaultAccount.Get(); ok && def.String() == a.ID() {
		old := a
		next := m.firstEnabled()
		if next != nil {
			m.global.DefaultAccount.Set(next.address)
		} else {
			m.global.DefaultAccount.Clear()
		}
		m.global.Save()
		m.center.Post(ManagerDidChangeDefault, m, DefaultChangedData{OldAccount: old, Account: next})
	}
}

// reconcile activates or deactivates a, and re-registers it when a
// registration setting changed.
func (m *Manager) reconcile(a *Account) {
	m.invalidateOrder() // a saved priority may have changed
	m.mu.Lock()
	run := m.started && m.eng != nil
	m.mu.Unlock()
	want := run && a.Enabled.Get()
	key, pubKey := a.registrationKey(), a.publishKey()
	a.mu.Lock()
	active := a.active
	changed := a.lastKey != "" && a.lastKey != key
	pubChanged := a.lastPub != "" && a.lastPub != pubKey
	a.lastKey, a.lastPub = key, pubKey
	a.mu.Unlock()
	switch {
	case want && !active:
		a.activate()
	case !want && active:
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.deactivate(ctx)
	case want && active && changed:
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.deactivate(ctx)
		a.activate()
	case want && active && pubChanged:
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.restartPublisher(ctx)
	}
}

// HasAccount reports whether an account with id exists.
func (m *Manager) HasAccount(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.accounts[id]
	return ok
}

// Account returns the account with id, or an error wrapping ErrNoAccount.
func (m *Manager) Account(id string) (*Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a, ok := m.accounts[id]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("account %q: %w", id, ErrNoAccount)
}

// Accounts returns every account, BonjourAccount included, sorted by
// priority (highest first) and then id.
func (m *Manager) Accounts() []*Account {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*Account(nil), m.sortedLocked()...)
}

// sortedLocked returns the cached priority order (rebuilt after an account
// is added, removed or saved); callers must not modify it. m.mu must be held.
func (m *Manager) sortedLocked() []*Account {
	if m.sorted != nil {
		return m.sorted
	}
	out := make([]*Account, 0, len(m.accounts))
	for _, a := range m.accounts {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		pi, pj := out[i].Priority.Get(), out[j].Priority.Get()
		if pi != pj {
			return pi > pj
		}
		return out[i].ID() < out[j].ID()
	})
	m.sorted = out
	return out
}

// invalidateOrder drops the cached priority order.
func (m *Manager) invalidateOrder() {
	m.mu.Lock()
	m.sorted = nil
	m.mu.Unlock()
}

// Bonjour returns the BonjourAccount.
func (m *Manager) Bonjour() *Account {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bonjour
}

func (m *Manager) firstEnabled() *Account {
	for _, a := range m.Accounts() {
		if a.Enabled.Get() && !a.bonjour {
			return a
		}
	}
	return nil
}

// DefaultAccount returns the default account (setting default_account),
// or nil when it is not set or names no enabled account.
func (m *Manager) DefaultAccount() *Account {
	m.mu.Lock()
	local := m.localDefault
	m.mu.Unlock()
	if local != nil && m.HasAccount(local.ID()) {
		return local
	}
	id, ok := m.global.DefaultAccount.Get()
	if !ok {
		return nil
	}
	a, err := m.Account(id.String())
	if err != nil || !a.Enabled.Get() {
		return nil
	}
	return a
}

// SetDefaultAccount makes a (which must be enabled) the default account,
// saves the setting and posts SIPAccountManagerDidChangeDefaultAccount.
func (m *Manager) SetDefaultAccount(a *Account) error {
	if a == nil {
		return errors.New("set default account: nil account")
	}
	if !m.known(a) {
		return fmt.Errorf("set default account: %w (not an account of this manager)", ErrNoAccount)
	}
	if !a.Enabled.Get() {
		return fmt.Errorf("set default account: account %s is disabled", a.ID())
	}
	old := m.DefaultAccount()
	if old == a {
		return nil
	}
	m.mu.Lock()
	m.localDefault = nil
	if a.IsLocal() {
		m.localDefault = a // runtime only: local accounts are not stored
	}
	m.mu.Unlock()
	if !a.IsLocal() {
		if err := m.global.DefaultAccount.Set(a.address); err != nil {
			return err
		}
		if err := m.global.Save(); err != nil {
			return err
		}
	}
	m.center.Post(ManagerDidChangeDefault, m, DefaultChangedData{OldAccount: old, Account: a})
	return nil
}

// FindAccount returns the enabled account a request for uri is meant for:
// first one whose contact user or id matches uri's user and host, then
// one with the same user name (python-sipsimple's find_account); nil when
// none matches.
func (m *Manager) FindAccount(uri core.SIPURI) *Account {
	accounts := m.Accounts()
	for _, a := range accounts {
		if !a.Enabled.Get() {
			continue
		}
		if uri.User == a.contactUser || (uri.User == a.address.Username && strings.EqualFold(uri.Host, a.uri.Host)) {
			return a
		}
	}
	for _, a := range accounts {
		if a.Enabled.Get() && uri.User != "" && uri.User == a.address.Username {
			return a
		}
	}
	return nil
}

// registrationTarget returns the URI whose routes a registration uses (the
// outbound proxy, else the registrar, else the domain) and the transports
// allowed.
func (m *Manager) registrationTarget(a *Account) (core.SIPURI, []string) {
	target := core.SIPURI{Scheme: "sip", Host: a.uri.Host, Port: a.uri.Port}
	if s, ok := a.SIP.Registrar.Get(); ok {
		if u, err := core.ParseSIPURI(s); err == nil {
			target = u
		}
	}
	if s, ok := a.SIP.OutboundProxy.Get(); ok {
		if u, err := core.ParseSIPURI(s); err == nil {
			target = u
		}
	}
	var transports []string
	if t, ok := a.SIP.Transport.Get(); ok {
		transports = []string{t}
	} else if e := m.engine(); e != nil {
		for _, t := range m.global.SIP.TransportList.Get() {
			if _, ok := e.Listener(t); ok {
				transports = append(transports, t)
			}
		}
	}
	return target, transports
}

// newPublication creates the core publication of an account's presence.
func (m *Manager) newPublication(a *Account) (*core.Publication, error) {
	e := m.engine()
	if e == nil {
		return nil, core.ErrEngineNotRunning
	}
	c := core.PublicationConfig{AOR: a.URI(), Credentials: a.Credentials(), Expires: a.Presence.PublishInterval.Get()}
	c.DisplayName, _ = a.DisplayName.Get()
	if s, ok := a.SIP.OutboundProxy.Get(); ok {
		u, err := core.ParseSIPURI(s)
		if err != nil {
			return nil, fmt.Errorf("setting sip.outbound_proxy: %w", err)
		}
		u.Parameters.Set("lr", "")
		c.RouteSet = []core.SIPURI{u}
	}
	return e.NewPublication(c)
}

// newRegistration creates the core registration of an account.
func (m *Manager) newRegistration(a *Account) (*core.Registration, error) {
	e := m.engine()
	if e == nil {
		return nil, core.ErrEngineNotRunning
	}
	expires, ok := a.SIP.RegisterInterval.Get()
	if !ok {
		expires = m.global.SIP.RegisterInterval.Get()
	}
	c := core.RegistrationConfig{
		AOR:            a.URI(),
		Contact:        core.SIPURI{Scheme: "sip", User: a.contactUser},
		Credentials:    a.Credentials(),
		Expires:        expires,
		ContactRewrite: a.SIP.ContactRewrite.Get(),
		Limiter:        m.regLimiter,
	}
	c.DisplayName, _ = a.DisplayName.Get()
	if s, ok := a.SIP.Registrar.Get(); ok {
		u, err := core.ParseSIPURI(s)
		if err != nil {
			return nil, fmt.Errorf("setting sip.registrar: %w", err)
		}
		c.Registrar = u
	}
	if s, ok := a.SIP.OutboundProxy.Get(); ok {
		u, err := core.ParseSIPURI(s)
		if err != nil {
			return nil, fmt.Errorf("setting sip.outbound_proxy: %w", err)
		}
		u.Parameters.Set("lr", "")
		c.RouteSet = []core.SIPURI{u}
	}
	if a.SIP.Outbound.Get() {
		c.ContactParams.Set("+sip.instance", `"<`+m.global.InstanceID.Get()+`>"`)
		c.ContactParams.Set("reg-id", "1")
		c.Supported = "path, outbound"
	}
	return e.NewRegistration(c)
}

// defaultIP returns the local address used to reach the outside, for
// contacts of engines listening on every interface.
func (m *Manager) defaultIP() string {
	if ip, ok := m.global.SIP.LocalIP.Get(); ok {
		return ip
	}
	conn, err := net.Dial("udp", "192.0.2.1:9") // no packet is sent
	if err != nil {
		return "127.0.0.1"
	}
	defer conn.Close()
	h, _, _ := net.SplitHostPort(conn.LocalAddr().String())
	return h
}
