package application

import (
	"context"
	"sync"
	"time"

	"github.com/sipsimple-go/sipsimple/account"
	"github.com/sipsimple-go/sipsimple/core/lookup"
	"github.com/sipsimple-go/sipsimple/msrp"
	"github.com/sipsimple-go/sipsimple/session"
)

// relayDiscoveryTimeout bounds the DNS discovery of an account's MSRP
// relay (python-sipsimple allows 15 s; a chat waiting that long for a
// relay that does not exist is worse than a direct connection).
const relayDiscoveryTimeout = 3 * time.Second

// msrpRelays chooses the MSRP relay (RFC 4976) of chat and file-transfer
// streams from the settings (seed 001's MSRPConfiguration) and the
// account's msrp.connection_model:
//
//   - Only accounts with a registrar domain use relays: the
//     BonjourAccount and local accounts connect directly, as in
//     python-sipsimple.
//   - msrp.connection_model "acm" means direct connections (RFC 6135).
//   - A stream we offer uses the relay when msrp.use_relay_outgoing is
//     on; one that answers when msrp.use_relay_incoming is on.
//   - The relay is msrp.relay_host:relay_port (msrps with
//     msrp.relay_use_tls) and must work; without a host it is looked up
//     in the account's domain (SRV _msrps._tcp or _msrp._tcp, else the
//     domain at port 2855), and a relay found that way and unreachable
//     leaves the stream with direct connections.
//   - AUTH uses the account's credentials.
type msrpRelays struct {
	app *Application

	mu       sync.Mutex
	resolver *lookup.Resolver
}

func (r *msrpRelays) lookup() *lookup.Resolver {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.resolver == nil {
		r.resolver = lookup.NewResolver(lookup.WithCache(true))
	}
	return r.resolver
}

// relay implements session.MSRPConfig.Relay.
func (r *msrpRelays) relay(ctx context.Context, acc *account.Account, outgoing bool) (*session.MSRPRelay, error) {
	if acc == nil || acc.IsBonjour() || acc.IsLocal() || acc.MSRP.ConnectionModel.Get() != "relay" {
		return nil, nil
	}
	st := r.app.Settings()
	use := st.MSRP.UseRelayIncoming.Get()
	if outgoing {
		use = st.MSRP.UseRelayOutgoing.Get()
	}
	if !use {
		return nil, nil
	}
	creds := acc.Credentials()
	out := &session.MSRPRelay{Relay: msrp.Relay{Username: creds.Username, Password: creds.Password}}
	secure := st.MSRP.RelayUseTLS.Get()
	if host, ok := st.MSRP.RelayHost.Get(); ok {
		out.URI = msrp.URI{Secure: secure, Host: host, Port: st.MSRP.RelayPort.Get(), Transport: "tcp"}
		return out, nil
	}
	domain := acc.Address().Domain
	dctx, cancel := context.WithTimeout(ctx, relayDiscoveryTimeout)
	defer cancel()
	routes, err := r.lookup().LookupMSRPRelay(dctx, domain, secure)
	if err != nil || len(routes) == 0 {
		r.app.Logger().Debug("no MSRP relay found, connecting directly", "domain", domain, "error", err)
		return nil, nil
	}
	out.URI = msrp.URI{Secure: secure, Host: routes[0].Address, Port: routes[0].Port, Transport: "tcp"}
	out.ServerName = routes[0].TLSName
	out.Optional = true
	return out, nil
}
