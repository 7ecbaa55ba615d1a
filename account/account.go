// Package account provides Account, BonjourAccount and the account Manager
// (python-sipsimple's AccountManager together with PJSUA's account model):
// accounts are settings objects that, once the engine runs, register and
// keep their registration alive.
//
// It knows the configuration framework, the global settings and the core
// Engine; it knows nothing of sessions, which find their account through
// the Manager.
package account

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"time"

	cfg "github.com/sipsimple-go/sipsimple/configuration"
	"github.com/sipsimple-go/sipsimple/core"
)

// Notification names posted by accounts (the sender is the account).
const (
	DidActivate             = "SIPAccountDidActivate"
	DidDeactivate           = "SIPAccountDidDeactivate"
	RegistrationDidSucceed  = "SIPAccountRegistrationDidSucceed"
	RegistrationDidFail     = "SIPAccountRegistrationDidFail"
	RegistrationDidEnd      = "SIPAccountRegistrationDidEnd"
	RegistrationWillRefresh = "SIPAccountRegistrationWillRefresh"
	RegistrationDidNotEnd   = "SIPAccountRegistrationDidNotEnd"
	ManagerDidAddAccount    = "SIPAccountManagerDidAddAccount"
	ManagerDidRemoveAccount = "SIPAccountManagerDidRemoveAccount"
	ManagerDidChangeDefault = "SIPAccountManagerDidChangeDefaultAccount"
	ManagerDidStart         = "SIPAccountManagerDidStart"
	ManagerDidEnd           = "SIPAccountManagerDidEnd"
)

// RegistrationDidSucceedData is the data of SIPAccountRegistrationDidSucceed
// (seed 000: code, reason, contact_uri, contact_uri_list, expires,
// registration).
type RegistrationDidSucceedData struct {
	Code           int
	Reason         string
	ContactURI     core.SIPURI
	ContactURIList []core.NameAddr
	Expires        time.Duration
	Registration   *core.Registration
}

// RegistrationDidFailData is the data of SIPAccountRegistrationDidFail
// (seed 000: code, reason, registration, next_route, delay). NextRoute is
// nil when every route failed; Delay is the wait before the next attempt.
type RegistrationDidFailData struct {
	Code         int
	Reason       string
	Registration *core.Registration
	NextRoute    *core.Route
	Delay        time.Duration
}

// RegistrationDidEndData is the data of SIPAccountRegistrationDidEnd (seed
// 000: code, reason, registration).
type RegistrationDidEndData struct {
	Code         int
	Reason       string
	Registration *core.Registration
}

// AccountData is the data of the Manager's add, remove notifications.
type AccountData struct {
	Account *Account
}

// DefaultChangedData is the data of SIPAccountManagerDidChangeDefaultAccount.
type DefaultChangedData struct {
	OldAccount, Account *Account
}

// Account is a SIP account: a settings object (stored under
// Accounts/<id>) and the registration and other per-account functions that
// run while it is active. Change settings with the Settings fields and
// make them effective with Save.
type Account struct {
	*cfg.Object
	Settings

	mgr         *Manager
	address     cfg.SIPAddress
	contactUser string
	bonjour     bool
	local       *core.SIPURI // the URI of a local (userless) account
	localID     string
	uri         core.SIPURI // the address of record, fixed at creation (read-only)

	mu        sync.Mutex
	active    bool
	registrar *registrar
	publisher *publisher
	deleted   bool
	lastKey   string // registrationKey when last reconciled
	lastPub   string // publishKey when last reconciled
	handler   Handler
	events    events // runs handler calls in order
	presence  presence
}

func newContactUser() string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 8)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(letters))))
		b[i] = letters[n.Int64()]
	}
	return string(b)
}

// Address returns the account id as a SIP address (Username, Domain).
func (a *Account) Address() cfg.SIPAddress { return a.address }

// URI returns the account's address of record, sip:user@domain.
func (a *Account) URI() core.SIPURI { return a.uri.Clone() }

// aorURI builds the address of record from an account id.
func aorURI(addr cfg.SIPAddress) core.SIPURI {
	host, port := addr.Domain, 0
	if h, p, ok := strings.Cut(host, ":"); ok {
		if n, err := strconv.Atoi(p); err == nil {
			host, port = h, n
		}
	}
	return core.SIPURI{Scheme: "sip", User: addr.Username, Host: host, Port: port}
}

// IsBonjour reports whether this is the BonjourAccount.
func (a *Account) IsBonjour() bool { return a.bonjour }

// ContactUser is the random 8-lowercase-letter user part of the account's
// Contact URIs.
func (a *Account) ContactUser() string { return a.contactUser }

// Contact returns the Contact URI for a transport ("udp", "tcp" or
// "tls"): the random user part, the engine's listening address and port
// for that transport and a transport parameter except for UDP.
func (a *Account) Contact(transport string) (core.SIPURI, error) {
	e := a.mgr.engine()
	if e == nil {
		return core.SIPURI{}, fmt.Errorf("account %s: contact: %w", a.ID(), core.ErrEngineNotRunning)
	}
	l, ok := e.Listener(strings.ToLower(transport))
	if !ok {
		return core.SIPURI{}, fmt.Errorf("account %s: the engine has no %s listener", a.ID(), transport)
	}
	u := core.SIPURI{Scheme: "sip", User: a.contactUser, Host: l.Addr.Addr().String(), Port: int(l.Addr.Port())}
	if l.Addr.Addr().IsUnspecified() {
		if ip := a.mgr.defaultIP(); ip != "" {
			u.Host = ip
		}
	}
	if t := strings.ToLower(transport); t != "udp" {
		u.Parameters.Set("transport", t)
	}
	return u, nil
}

// Credentials returns the account's digest credentials: the auth user name
// (or the id's user part), the password and the display name.
//
// The BonjourAccount has no password; its user name is its contact user
// (seed 000: credentials built from the contact and the display name).
func (a *Account) Credentials() core.Credentials {
	name, _ := a.DisplayName.Get()
	if a.bonjour {
		return core.Credentials{DisplayName: name, Username: a.contactUser}
	}
	user, ok := a.Auth.Username.Get()
	if !ok {
		user = a.address.Username
	}
	return core.Credentials{DisplayName: name, Username: user, Password: a.Auth.Password.Get()}
}

// Active reports whether the account is active (enabled, manager started,
// engine running).
func (a *Account) Active() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.active
}

// Registered reports whether the account's registration is in place.
func (a *Account) Registered() bool {
	a.mu.Lock()
	r := a.registrar
	a.mu.Unlock()
	return r != nil && r.registered()
}

// registrationKey is the text of every setting whose change requires a new
// registration.
func (a *Account) registrationKey() string {
	var b strings.Builder
	for _, n := range []cfg.Node{a.Enabled.Node(), a.Auth.Username.Node(), a.Auth.Password.Node(),
		a.SIP.Register.Node(), a.SIP.Registrar.Node(), a.SIP.OutboundProxy.Node(), a.SIP.RegisterInterval.Node(),
		a.SIP.Transport.Node(), a.SIP.Outbound.Node(), a.DisplayName.Node()} {
		b.WriteString(n.Text())
		b.WriteByte(0)
	}
	return b.String()
}

// publishKey is the text of the presence settings whose change requires a
// new publication (the registration settings restart everything anyway).
func (a *Account) publishKey() string {
	return a.Presence.Publish.Node().Text() + "\x00" + a.Presence.PublishInterval.Node().Text()
}

// restartPublisher stops the publication and starts a new one if
// publishing is (still) enabled.
func (a *Account) restartPublisher(ctx context.Context) {
	a.mu.Lock()
	old := a.publisher
	a.publisher = nil
	var p *publisher
	if a.active && a.Presence.Publish.Get() && !a.bonjour && a.local == nil {
		p = newPublisher(a)
		a.publisher = p
	}
	a.mu.Unlock()
	if old != nil {
		old.stop(ctx)
	}
	if p != nil {
		p.start()
	}
}

// Save validates and persists the settings (see configuration.Object.Save).
// The first save adds the account to the manager
// (SIPAccountManagerDidAddAccount); enabling or disabling it activates or
// deactivates it, and changing a registration setting re-registers.
func (a *Account) Save() error {
	a.mu.Lock()
	deleted := a.deleted
	a.mu.Unlock()
	if deleted {
		return fmt.Errorf("account %s was deleted", a.ID())
	}
	if a.local != nil {
		a.mgr.reconcile(a) // local accounts live in memory only
		return nil
	}
	wasNew := a.IsNew()
	if err := a.Object.Save(); err != nil {
		return err
	}
	if wasNew && !a.bonjour {
		a.mgr.add(a)
	}
	a.mgr.reconcile(a)
	return nil
}

// Delete unregisters the account, ends its subscriptions, removes it from
// the manager (SIPAccountManagerDidRemoveAccount) and deletes its settings.
func (a *Account) Delete(ctx context.Context) error {
	if a.bonjour {
		return errors.New("the BonjourAccount cannot be deleted")
	}
	a.endSubscriptions(ctx, "noresource")
	a.deactivate(ctx)
	a.mu.Lock()
	a.deleted = true
	a.mu.Unlock()
	a.mgr.remove(a)
	return a.Object.Delete()
}

// SetRegistration refreshes the registration now (renew) or removes it
// (PJSUA pjsua_acc_set_registration).
func (a *Account) SetRegistration(renew bool) error {
	a.mu.Lock()
	r, active := a.registrar, a.active
	a.mu.Unlock()
	if !active || r == nil {
		return fmt.Errorf("account %s: registration: the account is not active with registration enabled", a.ID())
	}
	if renew {
		r.start()
		return nil
	}
	r.stop(false)
	return nil
}

// activate starts the per-account functions.
func (a *Account) activate() {
	a.mu.Lock()
	if a.active || a.deleted {
		a.mu.Unlock()
		return
	}
	a.active = true
	var r *registrar
	if a.SIP.Register.Get() && !a.bonjour {
		r = newRegistrar(a)
		a.registrar = r
	}
	var p *publisher
	if a.Presence.Publish.Get() && !a.bonjour && a.local == nil {
		p = newPublisher(a)
		a.publisher = p
	}
	a.mu.Unlock()
	a.mgr.center.Post(DidActivate, a, nil)
	if r != nil {
		r.start()
	}
	if p != nil {
		p.start()
	}
}

// deactivate unregisters (waiting for the outcome, bounded by ctx) and
// stops the per-account functions.
func (a *Account) deactivate(ctx context.Context) {
	a.mu.Lock()
	if !a.active {
		a.mu.Unlock()
		return
	}
	a.active = false
	r, p := a.registrar, a.publisher
	a.registrar, a.publisher = nil, nil
	a.mu.Unlock()
	a.endSubscriptions(ctx, "deactivated")
	if p != nil {
		p.stop(ctx)
	}
	if r != nil {
		r.stop(true)
		r.wait(ctx)
	}
	a.mgr.center.Post(DidDeactivate, a, nil)
}

// notify posts a notification from the account.
func (a *Account) notify(name string, data any) { a.mgr.center.Post(name, a, data) }
