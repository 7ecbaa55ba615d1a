package account

import (
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/sipsimple-go/sipsimple/core"
)

// IncomingHook may override the account chosen for an incoming request
// (PJSUA's on_acc_find_for_incoming). It gets the request and the chosen
// account (nil when none matched) and returns the account to use; an
// account the manager does not know falls back to the default account.
type IncomingHook func(req *sip.Request, chosen *Account) *Account

// SetIncomingHook installs (or, with nil, removes) the incoming hook.
func (m *Manager) SetIncomingHook(h IncomingHook) {
	m.mu.Lock()
	m.incomingHook = h
	m.mu.Unlock()
}

// AddLocal adds the userless (local) account of an engine transport
// (PJSUA pjsua_acc_add_local): its URI is sip:IP:port, with
// ;transport=tcp or tls for those transports, it is bound to the
// transport, never registers, and its priority is one below the default
// so that a real account with the same score wins. It is kept in memory
// only. There is one per transport; adding it again returns it.
func (m *Manager) AddLocal(transport string) (*Account, error) {
	transport = strings.ToLower(transport)
	e := m.engine()
	if e == nil {
		return nil, fmt.Errorf("local account for %s: %w", transport, core.ErrEngineNotRunning)
	}
	l, ok := e.Listener(transport)
	if !ok {
		return nil, fmt.Errorf("local account: the engine has no %s listener", transport)
	}
	host := l.Addr.Addr().String()
	if l.Addr.Addr().IsUnspecified() {
		host = m.defaultIP()
	}
	uri := core.SIPURI{Scheme: "sip", Host: host, Port: int(l.Addr.Port())}
	if transport != "udp" {
		uri.Parameters.Set("transport", transport)
	}
	id := "local-" + transport
	m.mu.Lock()
	if a, ok := m.accounts[id]; ok {
		m.mu.Unlock()
		return a, nil
	}
	m.mu.Unlock()
	obj, err := m.config.NewObject([]string{"LocalAccounts", id})
	if err != nil {
		return nil, err
	}
	a := &Account{Object: obj, mgr: m, contactUser: newContactUser(), local: &uri, localID: id, uri: uri}
	a.address.Domain = uri.HostPort()
	obj.SetOwner(a)
	a.Settings.define(obj, true)
	a.SIP.Register.Set(false)
	a.SIP.Transport.Set(transport)
	a.Priority.Set(-1)
	m.add(a)
	m.reconcile(a)
	return a, nil
}

// IsLocal reports whether the account is a userless local account.
func (a *Account) IsLocal() bool { return a.local != nil }

// FindForOutgoing returns the account to send a request to target with
// (PJSUA pjsua_acc_find_for_outgoing): for a URI that is not sip: or
// sips: (tel:, for example), the first enabled account with an outbound
// proxy; for a SIP URI, the first enabled account (in priority order)
// whose domain and port equal the target's, then the first whose domain
// equals it; else the default account. It returns nil when nothing
// matches and there is no default account.
func (m *Manager) FindForOutgoing(target string) *Account {
	accounts := m.enabled()
	u, err := core.ParseSIPURI(target)
	if err != nil {
		for _, a := range accounts {
			if _, ok := a.SIP.OutboundProxy.Get(); ok {
				return a
			}
		}
		return m.DefaultAccount()
	}
	for _, a := range accounts {
		host, port := a.serverHostPort()
		if strings.EqualFold(host, u.Host) && port == u.Port {
			return a
		}
	}
	for _, a := range accounts {
		if strings.EqualFold(a.uri.Host, u.Host) {
			return a
		}
	}
	return m.DefaultAccount()
}

// FindForIncoming returns the account an incoming request is for (PJSUA
// pjsua_acc_find_for_incoming). Each enabled account scores: 8 when it is
// bound to the transport the request came in on (or to none), 4 when its
// domain equals the target host (the To URI, or the Request-URI when To is
// not SIP), 2 when its user equals the To user, 1 when its user (or contact
// user) equals the Request-URI user. The highest score wins, ties going to
// the higher priority; an account must score on domain or user to be
// chosen. Without one the default account is used. Finally the incoming
// hook may override the choice.
func (m *Manager) FindForIncoming(req *sip.Request) *Account {
	transport := strings.ToLower(req.Transport())
	var toUser, host string
	if to := req.To(); to != nil && (to.Address.Scheme == "sip" || to.Address.Scheme == "sips" || to.Address.Scheme == "") {
		toUser, host = to.Address.User, to.Address.Host
	} else {
		host = req.Recipient.Host
	}
	ruriUser := req.Recipient.User
	var best *Account
	bestScore := 0
	for _, a := range m.enabled() {
		score := 0
		if t, bound := a.SIP.Transport.Get(); !bound || t == transport {
			score += 8
		}
		au := a.uri
		if strings.EqualFold(au.Host, host) || (a.IsLocal() && strings.EqualFold(au.Host, req.Recipient.Host)) {
			score += 4
		}
		if au.User != "" && au.User == toUser {
			score += 2
		}
		if ruriUser != "" && (au.User == ruriUser || a.contactUser == ruriUser) {
			score += 1
		}
		if score&7 == 0 {
			continue // transport alone is no match
		}
		if score > bestScore {
			best, bestScore = a, score
		}
	}
	if best == nil {
		best = m.DefaultAccount()
	}
	m.mu.Lock()
	hook := m.incomingHook
	m.mu.Unlock()
	if hook != nil {
		chosen := hook(req, best)
		if m.known(chosen) {
			return chosen
		}
		return m.DefaultAccount()
	}
	return best
}

// serverHostPort is the account's domain and port as PJSUA's matching sees
// them: the id's domain, with the port of the registrar URI when that
// names the same host.
func (a *Account) serverHostPort() (string, int) {
	u := a.uri
	if s, ok := a.SIP.Registrar.Get(); ok {
		if r, err := core.ParseSIPURI(s); err == nil && strings.EqualFold(r.Host, u.Host) {
			return u.Host, r.Port
		}
	}
	return u.Host, u.Port
}

// known reports whether a is one of the manager's accounts (by identity,
// so that a zero or foreign *Account from a hook is refused, not used).
func (m *Manager) known(a *Account) bool {
	if a == nil {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range m.accounts {
		if x == a {
			return true
		}
	}
	return false
}

// enabled returns the enabled accounts in priority order.
func (m *Manager) enabled() []*Account {
	m.mu.Lock()
	all := m.sortedLocked()
	m.mu.Unlock()
	var out []*Account
	for _, a := range all {
		if a.Enabled.Get() {
			out = append(out, a)
		}
	}
	return out
}
