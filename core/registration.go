package core

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
)

// Notification names posted by a Registration (the sender).
const (
	RegistrationDidSucceed = "SIPRegistrationDidSucceed"
	RegistrationDidFail    = "SIPRegistrationDidFail"
	RegistrationWillExpire = "SIPRegistrationWillExpire"
	RegistrationDidEnd     = "SIPRegistrationDidEnd"
	RegistrationDidNotEnd  = "SIPRegistrationDidNotEnd"
)

// RegistrationDidSucceedData is the data of SIPRegistrationDidSucceed.
type RegistrationDidSucceedData struct {
	Code   int
	Reason string
	// ContactURI is our binding as the registrar returned it.
	ContactURI SIPURI
	// ContactURIList is every binding of the address of record.
	ContactURIList []NameAddr
	// Expires is the expiry the registrar granted.
	Expires time.Duration
	Route   Route
}

// RegistrationDidFailData is the data of SIPRegistrationDidFail. Code is
// 408 for a timeout and 0 for a local error (transport, bad challenge).
type RegistrationDidFailData struct {
	Code       int
	Reason     string
	Route      Route
	MinExpires time.Duration // from a 423, else 0
	Error      error
}

// RegistrationWillExpireData is the data of SIPRegistrationWillExpire,
// posted when the refresh starts.
type RegistrationWillExpireData struct {
	Expires time.Duration
}

// RegistrationDidEndData is the data of SIPRegistrationDidEnd.
type RegistrationDidEndData struct {
	Expired bool // the registration lapsed instead of being removed
}

// RegistrationDidNotEndData is the data of SIPRegistrationDidNotEnd: the
// unregistration failed (the binding will lapse at its expiry).
type RegistrationDidNotEndData struct {
	Code   int
	Reason string
}

// RegistrationConfig describes a registration.
type RegistrationConfig struct {
	// AOR is the address of record (From and To).
	AOR SIPURI
	// DisplayName goes into From and To.
	DisplayName string
	// Registrar is the Request-URI; the default is sip:<AOR host>.
	Registrar SIPURI
	// Contact is the URI to register. An empty host is filled with the
	// local address that reaches the route and the engine's port for the
	// route's transport.
	Contact SIPURI
	// ContactParams are Contact header parameters such as +sip.instance
	// and reg-id.
	ContactParams Parameters
	// Credentials answer digest challenges.
	Credentials Credentials
	// Expires is the requested expiry (default 300 s, PJSUA_REG_INTERVAL).
	Expires time.Duration
	// RouteSet becomes Route headers (for example an outbound proxy).
	RouteSet []SIPURI
	// ContactRewrite re-registers with the address the registrar saw
	// (Via received/rport) when it differs from the Contact (PJSUA's
	// allow_contact_rewrite).
	ContactRewrite bool
	// Timeout bounds one REGISTER transaction (default 10 s).
	Timeout time.Duration
	// Supported is the Supported header (default "path").
	Supported string
	// Limiter, when set, is shared with other registrations to cap the
	// REGISTER transactions in flight; waiting for a slot does not count
	// towards Timeout.
	Limiter *Limiter
}

// Registration registers one contact with a registrar and keeps it
// registered (python-sipsimple's core Registration). Register tries one
// route; the account layer chooses routes and retries. A Registration is an
// actor: its methods return at once and the outcome arrives as
// notifications.
type Registration struct {
	e   *Engine
	cfg RegistrationConfig

	cmds chan regCommand
	done chan struct{}

	mu          sync.Mutex
	registered  bool
	expires     time.Duration
	route       Route
	contact     SIPURI
	cancelTx    context.CancelFunc
	closed      bool
	callID      string
	fromTag     string
	cseq        uint32
	auth        *authorizer
	refresh     *time.Timer
	refreshGen  int
	lastContact SIPURI
	// rewritten is the contact the registrar saw through rewrittenRoute
	// (ContactRewrite); hasRewrite says whether it is set.
	rewritten      SIPURI
	rewrittenRoute Route
	hasRewrite     bool
}

type regCommand struct {
	kind  string // "register", "unregister", "refresh"
	route Route
	gen   int
}

// NewRegistration creates a registration bound to the engine.
func (e *Engine) NewRegistration(cfg RegistrationConfig) (*Registration, error) {
	if cfg.AOR.Host == "" {
		return nil, errors.New("registration: the address of record has no host")
	}
	if cfg.Registrar.Host == "" {
		cfg.Registrar = SIPURI{Scheme: cfg.AOR.Scheme, Host: cfg.AOR.Host, Port: cfg.AOR.Port}
	}
	if cfg.Expires <= 0 {
		cfg.Expires = 300 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Supported == "" {
		cfg.Supported = "path"
	}
	r := &Registration{e: e, cfg: cfg, cmds: make(chan regCommand, 16), done: make(chan struct{}),
		callID: uuid.NewString(), fromTag: uuid.NewString()[:8], auth: newAuthorizer(cfg.Credentials),
		expires: cfg.Expires}
	go r.run()
	return r, nil
}

// Register sends REGISTER through route (and keeps refreshing it there).
func (r *Registration) Register(route Route) error {
	return r.send(regCommand{kind: "register", route: route})
}

// Unregister removes the binding (Expires 0); SIPRegistrationDidEnd or
// SIPRegistrationDidNotEnd follows.
func (r *Registration) Unregister() error { return r.send(regCommand{kind: "unregister"}) }

// Close stops the registration without unregistering and waits for its
// goroutine to end.
func (r *Registration) Close() {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		if r.cancelTx != nil {
			r.cancelTx()
		}
		if r.refresh != nil {
			r.refresh.Stop()
		}
		close(r.cmds)
	}
	r.mu.Unlock()
	<-r.done
}

// Registered reports whether the binding is in place.
func (r *Registration) Registered() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.registered
}

// Contact returns the contact URI last registered.
func (r *Registration) Contact() SIPURI {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.contact
}

func (r *Registration) send(c regCommand) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errors.New("registration is closed")
	}
	if c.kind == "unregister" && r.cancelTx != nil {
		r.cancelTx() // abandon a REGISTER in progress
	}
	select {
	case r.cmds <- c:
		return nil
	default:
		return errors.New("registration: too many commands queued")
	}
}

func (r *Registration) run() {
	defer close(r.done)
	for c := range r.cmds {
		switch c.kind {
		case "register":
			r.register(c.route, false)
		case "refresh":
			r.mu.Lock()
			current := c.gen == r.refreshGen && r.registered
			route, exp := r.route, r.expires
			r.mu.Unlock()
			if current {
				r.e.center.Post(RegistrationWillExpire, r, RegistrationWillExpireData{Expires: exp})
				r.register(route, true)
			}
		case "unregister":
			r.unregister()
		}
	}
}

// register runs one REGISTER attempt on route, with authentication and
// 423 handling, and posts the outcome.
func (r *Registration) register(route Route, refresh bool) {
	fail := func(code int, reason string, minExp time.Duration, err error) {
		r.mu.Lock()
		r.registered = false
		r.mu.Unlock()
		r.e.center.Post(RegistrationDidFail, r, RegistrationDidFailData{Code: code, Reason: reason, Route: route, MinExpires: minExp, Error: err})
	}
	contact, err := r.contactFor(route)
	if err != nil {
		fail(0, err.Error(), 0, err)
		return
	}
	r.mu.Lock()
	expires := r.expires
	if !refresh {
		expires = r.cfg.Expires
	}
	old := r.lastContact
	r.mu.Unlock()
	var removeOld *SIPURI
	if old.Host != "" && !old.Equal(contact) {
		removeOld = &old // the contact changed: drop the old binding
	}
	var minExp time.Duration
	for round := 0; round < 6; round++ {
		res, err := r.transact(route, contact, expires, removeOld)
		if err != nil {
			code, reason := 0, err.Error()
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sip.ErrTransactionTimeout) {
				code, reason = 408, "Request Timeout"
			}
			if errors.Is(err, context.Canceled) {
				reason = "cancelled"
			}
			fail(code, reason, 0, err)
			return
		}
		switch {
		case res.StatusCode == 401 || res.StatusCode == 407:
			if err := r.auth.challenged(res); err != nil {
				fail(res.StatusCode, res.Reason, 0, err)
				return
			}
			continue
		case res.StatusCode == 423:
			if h := res.GetHeader("Min-Expires"); h != nil {
				if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 && time.Duration(n)*time.Second > expires {
					minExp = time.Duration(n) * time.Second
					expires = minExp
					r.mu.Lock()
					r.expires = expires
					r.mu.Unlock()
					continue
				}
			}
			fail(423, res.Reason, minExp, errors.New("423 without a usable Min-Expires"))
			return
		case res.StatusCode >= 200 && res.StatusCode < 300:
			r.auth.succeeded()
			if r.succeeded(res, route, contact, expires) {
				// The contact was rewritten: register the new one and
				// remove the old one in the same REGISTER. (The old one is
				// a copy: removeOld must not alias contact.)
				previous := contact
				removeOld = &previous
				if contact, err = r.contactFor(route); err != nil {
					fail(0, err.Error(), minExp, err)
					return
				}
				continue
			}
			return
		default:
			fail(res.StatusCode, res.Reason, 0, nil)
			return
		}
	}
	fail(0, "too many authentication or Min-Expires rounds", minExp, errors.New("registration loop"))
}

// succeeded handles a 2xx. It returns true when the contact must be
// rewritten and registered again.
func (r *Registration) succeeded(res *sip.Response, route Route, contact SIPURI, requested time.Duration) bool {
	var list []NameAddr
	for _, h := range res.GetHeaders("Contact") {
		for _, v := range splitHeaderList(h.Value()) {
			if na, err := ParseNameAddr(v); err == nil {
				list = append(list, na)
			}
		}
	}
	expires := requested
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n >= 0 {
			expires = time.Duration(n) * time.Second
		}
	}
	mine := contact
	found := false
	for _, na := range list {
		if na.URI.Equal(contact) {
			mine, found = na.URI, true
			if v, ok := na.Params.Get("expires"); ok {
				if n, err := strconv.Atoi(v); err == nil && n >= 0 {
					expires = time.Duration(n) * time.Second
				}
			}
		}
	}
	if !found && len(list) > 0 {
		// The registrar did not list our contact; trust the Expires header.
		mine = contact
	}
	if r.cfg.ContactRewrite {
		if via := res.Via(); via != nil {
			recv, _ := via.Params.Get("received")
			rport, _ := via.Params.Get("rport")
			if n, err := strconv.Atoi(rport); err == nil && n > 0 && recv != "" && (recv != contact.Host || n != contact.Port) {
				// Keep the parameters of the contact registered (its
				// transport in particular); only the address changes.
				rewritten := contact.Clone()
				rewritten.Host, rewritten.Port = recv, n
				r.mu.Lock()
				r.rewritten, r.rewrittenRoute, r.hasRewrite = rewritten, route, true
				r.lastContact = contact
				r.mu.Unlock()
				return true
			}
		}
	}
	r.mu.Lock()
	r.registered = expires > 0
	r.expires, r.route, r.contact, r.lastContact = expires, route, mine, contact
	r.refreshGen++
	gen := r.refreshGen
	if r.refresh != nil {
		r.refresh.Stop()
	}
	if expires > 0 && !r.closed {
		r.refresh = time.AfterFunc(refreshDelay(expires), func() { r.send(regCommand{kind: "refresh", gen: gen}) })
	}
	r.mu.Unlock()
	r.e.center.Post(RegistrationDidSucceed, r, RegistrationDidSucceedData{Code: res.StatusCode, Reason: res.Reason,
		ContactURI: mine, ContactURIList: list, Expires: expires, Route: route})
	return false
}

// refreshDelay is python-sipsimple's refresh time: max(1 s, expires-30 s,
// expires/2).
func refreshDelay(exp time.Duration) time.Duration {
	d := max(exp-30*time.Second, exp/2)
	return max(d, time.Second)
}

// unregister sends Expires 0 for the registered contact.
func (r *Registration) unregister() {
	r.mu.Lock()
	registered, route, contact := r.registered, r.route, r.lastContact
	r.registered = false
	r.refreshGen++
	if r.refresh != nil {
		r.refresh.Stop()
	}
	r.mu.Unlock()
	if !registered {
		r.e.center.Post(RegistrationDidEnd, r, RegistrationDidEndData{})
		return
	}
	for round := 0; round < 4; round++ {
		res, err := r.transact(route, contact, 0, nil)
		if err != nil {
			r.e.center.Post(RegistrationDidNotEnd, r, RegistrationDidNotEndData{Code: 408, Reason: err.Error()})
			return
		}
		if res.StatusCode == 401 || res.StatusCode == 407 {
			if err := r.auth.challenged(res); err == nil {
				continue
			}
		}
		if res.StatusCode >= 200 && res.StatusCode < 300 {
			r.auth.succeeded()
			r.e.center.Post(RegistrationDidEnd, r, RegistrationDidEndData{})
		} else {
			r.e.center.Post(RegistrationDidNotEnd, r, RegistrationDidNotEndData{Code: res.StatusCode, Reason: res.Reason})
		}
		return
	}
	r.e.center.Post(RegistrationDidNotEnd, r, RegistrationDidNotEndData{Code: 0, Reason: "too many authentication rounds"})
}

// contactFor completes the contact URI for route.
//
// A contact rewritten from what the registrar saw applies only to the route
// it was learned on; through any other route the configured contact is
// used again (the NAT binding differs per destination), as PJSUA does.
func (r *Registration) contactFor(route Route) (SIPURI, error) {
	r.mu.Lock()
	if r.hasRewrite && r.rewrittenRoute == route {
		c := r.rewritten.Clone()
		r.mu.Unlock()
		return c, nil
	}
	r.hasRewrite = false
	c := r.cfg.Contact.Clone()
	r.mu.Unlock()
	if c.Scheme == "" {
		c.Scheme = "sip"
	}
	if c.Host != "" {
		return c, nil
	}
	host, port, err := r.e.localHostPort(route)
	if err != nil {
		return c, err
	}
	c.Host, c.Port = host, port
	if route.Transport != "udp" {
		c.Parameters.Set("transport", route.Transport)
	}
	return c, nil
}

// localHostPort returns the local address and listening port to advertise
// (Via sent-by, Contact) for requests sent through route.
func (e *Engine) localHostPort(route Route) (string, int, error) {
	l, ok := e.Listener(route.Transport)
	if !ok {
		return "", 0, fmt.Errorf("no %s listener for route %s", route.Transport, route)
	}
	if ip := l.Addr.Addr(); !ip.IsUnspecified() {
		return ip.String(), int(l.Addr.Port()), nil
	}
	local, err := localAddressFor(route)
	return local, int(l.Addr.Port()), err
}

// localAddressFor returns the local IP the system would use to reach route.
func localAddressFor(route Route) (string, error) {
	conn, err := net.Dial("udp", net.JoinHostPort(route.Address, strconv.Itoa(route.Port)))
	if err != nil {
		return "", fmt.Errorf("no local address reaches %s: %w", route.Address, err)
	}
	defer conn.Close()
	host, _, _ := net.SplitHostPort(conn.LocalAddr().String())
	return host, nil
}

// transact sends one REGISTER and returns its final response.
func (r *Registration) transact(route Route, contact SIPURI, expires time.Duration, removeOld *SIPURI) (*sip.Response, error) {
	req, err := r.build(route, contact, expires, removeOld)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		cancel()
		return nil, context.Canceled
	}
	r.cancelTx = cancel
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.cancelTx = nil
		r.mu.Unlock()
		cancel()
	}()
	if err := r.cfg.Limiter.Acquire(ctx); err != nil {
		return nil, err
	}
	defer r.cfg.Limiter.Release()
	txCtx, txCancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer txCancel()
	return r.e.transactOnce(txCtx, req)
}

// build creates a REGISTER with the next CSeq.
func (r *Registration) build(route Route, contact SIPURI, expires time.Duration, removeOld *SIPURI) (*sip.Request, error) {
	var ruri sip.Uri
	if err := sip.ParseUri(r.cfg.Registrar.String(), &ruri); err != nil {
		return nil, fmt.Errorf("registrar URI %s: %w", r.cfg.Registrar, err)
	}
	var aor sip.Uri
	if err := sip.ParseUri(r.cfg.AOR.String(), &aor); err != nil {
		return nil, fmt.Errorf("address of record %s: %w", r.cfg.AOR, err)
	}
	req := sip.NewRequest(sip.REGISTER, ruri)
	from := &sip.FromHeader{DisplayName: r.cfg.DisplayName, Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", r.fromTag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{DisplayName: r.cfg.DisplayName, Address: aor, Params: sip.NewParams()})
	callID := sip.CallIDHeader(r.callID)
	req.AppendHeader(&callID)
	r.mu.Lock()
	r.cseq++
	seq := r.cseq
	r.mu.Unlock()
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: sip.REGISTER})
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	for _, rt := range r.cfg.RouteSet {
		req.AppendHeader(sip.NewHeader("Route", "<"+rt.String()+">"))
	}
	params := ""
	for _, p := range r.cfg.ContactParams {
		params += ";" + p.Name
		if p.Value != "" {
			params += "=" + p.Value
		}
	}
	req.AppendHeader(sip.NewHeader("Contact", "<"+contact.String()+">"+params))
	if removeOld != nil {
		req.AppendHeader(sip.NewHeader("Contact", "<"+removeOld.String()+">;expires=0"))
	}
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expires/time.Second))))
	req.AppendHeader(sip.NewHeader("Supported", r.cfg.Supported))
	req.AppendHeader(sip.NewHeader("User-Agent", r.e.UserAgent()))
	req.AppendHeader(sip.NewHeader("Allow", strings.Join(r.e.allowedMethods(), ", ")))
	if err := r.e.prepareRequest(req, route); err != nil {
		return nil, err
	}
	if err := r.auth.authorize(req); err != nil {
		return nil, err
	}
	return req, nil
}

// splitHeaderList splits a header value at commas outside quotes and angle
// brackets.
func splitHeaderList(v string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == '<' && !quoted:
			depth++
		case c == '>' && !quoted && depth > 0:
			depth--
		case c == ',' && !quoted && depth == 0:
			out = append(out, strings.TrimSpace(v[start:i]))
			start = i + 1
		}
	}
	if s := strings.TrimSpace(v[start:]); s != "" {
		out = append(out, s)
	}
	return out
}
