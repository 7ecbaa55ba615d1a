package core

import (
	"fmt"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// DialogID identifies a dialog from this side (RFC 3261 12): the Call-ID,
// our tag and the peer's tag.
type DialogID struct {
	CallID    string
	LocalTag  string
	RemoteTag string
}

// dialogs routes in-dialog requests (those whose To carries a tag) to the
// dialog usage that owns them.
type dialogs struct {
	mu sync.Mutex
	m  map[DialogID]RequestHandler
}

// RegisterDialog routes the requests of dialog id to h until release is
// called. It returns an error if the dialog is already registered.
func (e *Engine) RegisterDialog(id DialogID, h RequestHandler) (release func(), err error) {
	e.dialogs.mu.Lock()
	defer e.dialogs.mu.Unlock()
	if e.dialogs.m == nil {
		e.dialogs.m = map[DialogID]RequestHandler{}
	}
	if _, ok := e.dialogs.m[id]; ok {
		return nil, fmt.Errorf("dialog %s/%s/%s is already registered", id.CallID, id.LocalTag, id.RemoteTag)
	}
	e.dialogs.m[id] = h
	var once sync.Once
	return func() {
		once.Do(func() {
			e.dialogs.mu.Lock()
			delete(e.dialogs.m, id)
			e.dialogs.mu.Unlock()
		})
	}, nil
}

// dialogHandler returns the handler of the dialog req belongs to, if any.
func (e *Engine) dialogHandler(req *sip.Request) RequestHandler {
	to, from, callID := req.To(), req.From(), req.CallID()
	if to == nil || from == nil || callID == nil {
		return nil
	}
	local, ok := to.Params.Get("tag")
	if !ok || local == "" {
		return nil
	}
	remote, _ := from.Params.Get("tag")
	e.dialogs.mu.Lock()
	defer e.dialogs.mu.Unlock()
	return e.dialogs.m[DialogID{CallID: callID.Value(), LocalTag: local, RemoteTag: remote}]
}

// dialog is the state RFC 3261 12 keeps for a dialog, as needed to send
// requests inside it. It is not safe for concurrent use: its owner (an
// actor) serialises access.
type dialog struct {
	id           DialogID
	local        NameAddr // our party: From of our requests (without tag)
	remote       NameAddr // the peer: To of our requests (without tag)
	remoteTarget SIPURI   // the peer's Contact
	routeSet     []SIPURI // in the order our requests carry them
	localCSeq    uint32
	remoteCSeq   uint32
	contact      SIPURI // our Contact
}

// newUASDialog builds the dialog a UAS establishes by answering req with
// localTag (RFC 3261 12.1.1): the route set is the Record-Route list in
// order, the remote target the request's Contact.
func newUASDialog(req *sip.Request, localTag string, contact SIPURI) (*dialog, error) {
	from, to, callID, cseq := req.From(), req.To(), req.CallID(), req.CSeq()
	if from == nil || to == nil || callID == nil || cseq == nil {
		return nil, fmt.Errorf("%s lacks From, To, Call-ID or CSeq", req.Method)
	}
	remoteTag, _ := from.Params.Get("tag")
	d := &dialog{id: DialogID{CallID: callID.Value(), LocalTag: localTag, RemoteTag: remoteTag},
		remoteCSeq: cseq.SeqNo, localCSeq: 1, contact: contact}
	var err error
	if d.local, err = nameAddrOf(to.DisplayName, to.Address); err != nil {
		return nil, fmt.Errorf("To: %w", err)
	}
	if d.remote, err = nameAddrOf(from.DisplayName, from.Address); err != nil {
		return nil, fmt.Errorf("From: %w", err)
	}
	c := req.Contact()
	if c == nil {
		return nil, fmt.Errorf("%s has no Contact", req.Method)
	}
	if d.remoteTarget, err = ParseSIPURI(c.Address.String()); err != nil {
		return nil, fmt.Errorf("Contact: %w", err)
	}
	for _, h := range req.GetHeaders("Record-Route") {
		for _, v := range splitHeaderList(h.Value()) {
			na, err := ParseNameAddr(v)
			if err != nil {
				return nil, fmt.Errorf("Record-Route %q: %w", v, err)
			}
			d.routeSet = append(d.routeSet, na.URI)
		}
	}
	return d, nil
}

// newUACDialog builds the dialog a UAC establishes from its INVITE and a
// response carrying the peer's tag (RFC 3261 12.1.2): the route set is the
// response's Record-Route list in reverse, the remote target its Contact.
func newUACDialog(req *sip.Request, res *sip.Response, contact SIPURI) (*dialog, error) {
	from, to, callID, cseq := req.From(), res.To(), req.CallID(), req.CSeq()
	if from == nil || to == nil || callID == nil || cseq == nil {
		return nil, fmt.Errorf("%s lacks From, To, Call-ID or CSeq", req.Method)
	}
	localTag, _ := from.Params.Get("tag")
	remoteTag, _ := to.Params.Get("tag")
	d := &dialog{id: DialogID{CallID: callID.Value(), LocalTag: localTag, RemoteTag: remoteTag},
		localCSeq: cseq.SeqNo, contact: contact}
	var err error
	if d.local, err = nameAddrOf(from.DisplayName, from.Address); err != nil {
		return nil, fmt.Errorf("From: %w", err)
	}
	if d.remote, err = nameAddrOf(to.DisplayName, to.Address); err != nil {
		return nil, fmt.Errorf("To: %w", err)
	}
	c := res.Contact()
	if c == nil {
		// No Contact (a broken peer): keep sending to the Request-URI.
		if d.remoteTarget, err = ParseSIPURI(req.Recipient.String()); err != nil {
			return nil, fmt.Errorf("Request-URI: %w", err)
		}
	} else if d.remoteTarget, err = ParseSIPURI(c.Address.String()); err != nil {
		return nil, fmt.Errorf("Contact: %w", err)
	}
	var rr []SIPURI
	for _, h := range res.GetHeaders("Record-Route") {
		for _, v := range splitHeaderList(h.Value()) {
			na, err := ParseNameAddr(v)
			if err != nil {
				return nil, fmt.Errorf("Record-Route %q: %w", v, err)
			}
			rr = append(rr, na.URI)
		}
	}
	for i := len(rr) - 1; i >= 0; i-- {
		d.routeSet = append(d.routeSet, rr[i])
	}
	return d, nil
}

func nameAddrOf(display string, u sip.Uri) (NameAddr, error) {
	uri, err := ParseSIPURI(u.String())
	if err != nil {
		return NameAddr{}, err
	}
	return NameAddr{DisplayName: display, URI: uri}, nil
}

// checkRemoteCSeq applies RFC 3261 12.2.2: a request with a CSeq lower than
// or equal to the last one is out of order. It records the new CSeq.
func (d *dialog) checkRemoteCSeq(req *sip.Request) bool {
	cseq := req.CSeq()
	if cseq == nil || cseq.SeqNo <= d.remoteCSeq {
		return false
	}
	d.remoteCSeq = cseq.SeqNo
	return true
}

// newRequest builds a request inside the dialog (RFC 3261 12.2.1.1) and
// returns the route to send it through: the first loose route, or the
// remote target when the route set is empty. A strict first route
// (without lr) becomes the Request-URI, the remote target the last Route.
func (d *dialog) newRequest(method string) (*sip.Request, Route, error) {
	d.localCSeq++
	return d.newRequestCSeq(method, d.localCSeq)
}

// newRequestCSeq builds a request inside the dialog with the given CSeq
// number (an ACK takes its INVITE's; a CANCEL is not built here).
func (d *dialog) newRequestCSeq(method string, seq uint32) (*sip.Request, Route, error) {
	target := d.remoteTarget
	routes := d.routeSet
	if len(routes) > 0 && !routes[0].Parameters.Has("lr") {
		target = routes[0].Clone()
		target.Headers = nil
		routes = append(append([]SIPURI(nil), routes[1:]...), d.remoteTarget)
	}
	var ruri sip.Uri
	if err := sip.ParseUri(target.String(), &ruri); err != nil {
		return nil, Route{}, fmt.Errorf("request URI %s: %w", target, err)
	}
	req := sip.NewRequest(sip.RequestMethod(method), ruri)
	var fromURI, toURI sip.Uri
	if err := sip.ParseUri(d.local.URI.String(), &fromURI); err != nil {
		return nil, Route{}, err
	}
	if err := sip.ParseUri(d.remote.URI.String(), &toURI); err != nil {
		return nil, Route{}, err
	}
	fh := &sip.FromHeader{DisplayName: d.local.DisplayName, Address: fromURI, Params: sip.NewParams()}
	fh.Params.Add("tag", d.id.LocalTag)
	th := &sip.ToHeader{DisplayName: d.remote.DisplayName, Address: toURI, Params: sip.NewParams()}
	if d.id.RemoteTag != "" {
		th.Params.Add("tag", d.id.RemoteTag)
	}
	req.AppendHeader(fh)
	req.AppendHeader(th)
	callID := sip.CallIDHeader(d.id.CallID)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: req.Method})
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	for _, r := range routes {
		req.AppendHeader(sip.NewHeader("Route", "<"+r.String()+">"))
	}
	if d.contact.Host != "" {
		req.AppendHeader(sip.NewHeader("Contact", "<"+d.contact.String()+">"))
	}
	next := d.remoteTarget
	if len(routes) > 0 {
		next = routes[0]
	}
	if len(d.routeSet) > 0 && !d.routeSet[0].Parameters.Has("lr") {
		next = d.routeSet[0]
	}
	return req, routeFor(next), nil
}

// routeFor is the route to the host of u: its transport parameter (tls
// for sips), its port or the transport's default. A host name is left for
// the transport layer to resolve (A/AAAA).
func routeFor(u SIPURI) Route {
	t := strings.ToLower(u.Transport())
	if t == "" {
		t = "udp"
		if u.IsSecure() {
			t = "tls"
		}
	}
	port := u.Port
	if port == 0 {
		port = defaultPort(t)
	}
	host := strings.TrimSuffix(strings.TrimPrefix(u.Host, "["), "]")
	return Route{Address: host, Port: port, Transport: t}
}
