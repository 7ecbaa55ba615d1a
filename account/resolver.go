package account

import (
	"context"

	"github.com/sipsimple-go/sipsimple/core"
	"github.com/sipsimple-go/sipsimple/core/lookup"
)

// LookupResolver is the default Resolver: RFC 3263 (NAPTR, SRV, A/AAAA)
// through core/lookup.
type LookupResolver struct {
	R *lookup.Resolver
}

// NewLookupResolver returns a LookupResolver with the system's name
// servers and a cache.
func NewLookupResolver() *LookupResolver {
	return &LookupResolver{R: lookup.NewResolver(lookup.WithCache(true))}
}

// Routes implements Resolver.
func (l *LookupResolver) Routes(ctx context.Context, target core.SIPURI, transports []string) ([]core.Route, error) {
	routes, err := l.R.LookupSIPProxy(ctx, lookup.Target{Host: target.Host, Port: target.Port,
		Transport: target.Transport(), Secure: target.IsSecure()}, transports)
	if err != nil {
		return nil, err
	}
	out := make([]core.Route, len(routes))
	for i, r := range routes {
		out[i] = core.Route{Address: r.Address, Port: r.Port, Transport: r.Transport, TLSName: r.TLSName}
	}
	return out, nil
}
