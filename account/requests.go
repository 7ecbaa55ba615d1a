package account

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/sipsimple-go/sipsimple/core"
)

// CreateRequest builds an out-of-dialog request of this account to target
// (PJSUA pjsua_acc_create_request): From is the account (display name,
// address of record, a new tag), To the target, Contact the account's UAC
// contact for the transport the target will be reached with, and the
// outbound proxy, when set, the Route. Send it with SendRequest.
func (a *Account) CreateRequest(method, target string) (*sip.Request, error) {
	if strings.TrimSpace(method) == "" {
		return nil, errors.New("create request: empty method")
	}
	to, err := core.ParseSIPURI(target)
	if err != nil {
		return nil, fmt.Errorf("create request: target: %w", err)
	}
	contact, err := a.UACContact(to)
	if err != nil {
		return nil, err
	}
	routeSet, err := a.RouteSet()
	if err != nil {
		return nil, err
	}
	name, _ := a.DisplayName.Get()
	return core.NewRequest(method, to, core.NameAddr{DisplayName: name, URI: a.URI()}, core.NameAddr{URI: to}, contact, routeSet)
}

// transportFor returns the transport to reach target with: its transport
// parameter, the account's bound transport, or udp (tls for sips).
func (a *Account) transportFor(target core.SIPURI) string {
	if t := target.Transport(); t != "" {
		return t
	}
	if t, ok := a.SIP.Transport.Get(); ok {
		return t
	}
	if target.IsSecure() {
		return "tls"
	}
	return "udp"
}

// UACContact returns the Contact for requests this account sends to target
// (PJSUA pjsua_acc_create_uac_contact).
func (a *Account) UACContact(target core.SIPURI) (core.SIPURI, error) {
	return a.Contact(a.transportFor(target))
}

// UASContact returns the Contact for answering req (PJSUA
// pjsua_acc_create_uas_contact): the transport the request came in on.
func (a *Account) UASContact(req *sip.Request) (core.SIPURI, error) {
	t := strings.ToLower(req.Transport())
	if t == "" {
		t = "udp"
	}
	return a.Contact(t)
}

// SendRequest sends req (from CreateRequest) and returns the final
// response: through the outbound proxy when set, else to the routes of the
// Request-URI (RFC 3263), each tried in order until one answers; digest
// challenges are answered with the account's credentials.
func (a *Account) SendRequest(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	e := a.mgr.engine()
	if e == nil {
		return nil, fmt.Errorf("account %s: send %s: %w", a.ID(), req.Method, core.ErrEngineNotRunning)
	}
	target, err := core.ParseSIPURI(req.Recipient.String())
	if err != nil {
		return nil, fmt.Errorf("send %s: Request-URI: %w", req.Method, err)
	}
	routes, err := a.Routes(ctx, target)
	if err != nil {
		return nil, fmt.Errorf("send %s: %w", req.Method, err)
	}
	creds := a.Credentials()
	var lastErr error
	for _, route := range routes {
		res, err := e.SendRequest(ctx, req, route, &creds)
		if err == nil || res != nil {
			return res, err
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	if lastErr == nil {
		lastErr = errors.New("no route")
	}
	return nil, fmt.Errorf("send %s to %s: %w", req.Method, target, lastErr)
}

// RouteSet returns the preloaded route of the account's requests: its
// outbound proxy (with lr), or nothing.
func (a *Account) RouteSet() ([]core.SIPURI, error) {
	s, ok := a.SIP.OutboundProxy.Get()
	if !ok {
		return nil, nil
	}
	proxy, err := core.ParseSIPURI(s)
	if err != nil {
		return nil, fmt.Errorf("setting sip.outbound_proxy: %w", err)
	}
	proxy.Parameters.Set("lr", "")
	return []core.SIPURI{proxy}, nil
}

// Routes returns the routes, in the order to try them, for a request of
// this account to target: those of the outbound proxy when set, else those
// of target (RFC 3263), for the transport the account uses to reach it.
func (a *Account) Routes(ctx context.Context, target core.SIPURI) ([]core.Route, error) {
	next := target
	if s, ok := a.SIP.OutboundProxy.Get(); ok {
		u, err := core.ParseSIPURI(s)
		if err != nil {
			return nil, fmt.Errorf("setting sip.outbound_proxy: %w", err)
		}
		next = u
	}
	routes, err := a.mgr.resolver.Routes(ctx, next, []string{a.transportFor(next)})
	if err != nil {
		return nil, fmt.Errorf("routes to %s: %w", next, err)
	}
	if len(routes) == 0 {
		return nil, fmt.Errorf("routes to %s: none found", next)
	}
	return routes, nil
}
