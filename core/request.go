package core

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// maxUDPRequest is the size above which a request goes over TCP rather
// than UDP when the path MTU is unknown (RFC 3261 18.1.1).
const maxUDPRequest = 1300

// maxAuthRounds bounds the challenge/answer rounds of one request.
const maxAuthRounds = 3

// SendRequest sends an out-of-dialog request (OPTIONS, MESSAGE, ...)
// through route and returns its final response. Digest challenges (401,
// 407) are answered with creds when given; a rejected password is not
// retried. The request needs From, To, Call-ID, CSeq and Max-Forwards; Via,
// the destination and the transport are set here. Provisional responses
// are skipped. The context bounds the whole exchange.
func (e *Engine) SendRequest(ctx context.Context, req *sip.Request, route Route, creds *Credentials) (*sip.Response, error) {
	var auth *authorizer
	if creds != nil {
		auth = newAuthorizer(*creds)
	}
	res, err := e.sendAuthorized(ctx, req, route, auth)
	if err != nil && res != nil {
		return res, fmt.Errorf("%s %s: %w", req.Method, req.Recipient.String(), err)
	}
	return res, err
}

// sendAuthorized sends req through route, answering digest challenges with
// auth when it is not nil (each answer takes the next CSeq), and returns
// the final response. A rejected password returns the response and an
// error.
func (e *Engine) sendAuthorized(ctx context.Context, req *sip.Request, route Route, auth *authorizer) (*sip.Response, error) {
	for round := 0; ; round++ {
		if err := e.prepareRequest(req, route); err != nil {
			return nil, err
		}
		if auth != nil {
			if err := auth.authorize(req); err != nil {
				return nil, err
			}
		}
		res, err := e.transactOnce(ctx, req)
		if err != nil {
			return nil, err
		}
		if (res.StatusCode != 401 && res.StatusCode != 407) || auth == nil || round == maxAuthRounds {
			return res, nil
		}
		if err := auth.challenged(res); err != nil {
			return res, err
		}
		if cseq := req.CSeq(); cseq != nil {
			cseq.SeqNo++
		}
	}
}

// prepareRequest sets the destination, transport and a new top Via (with
// rport) advertising the engine's listening address for the route.
func (e *Engine) prepareRequest(req *sip.Request, route Route) error {
	if route.Port == 0 {
		route.Port = 5060
		if route.Transport == "tls" {
			route.Port = 5061
		}
	}
	if route.Transport == "" {
		route.Transport = "udp"
	}
	host, port, err := e.localHostPort(route)
	if err != nil {
		return err
	}
	req.SetTransport(strings.ToUpper(route.Transport))
	req.SetDestination(net.JoinHostPort(route.Address, strconv.Itoa(route.Port)))
	req.RemoveHeader("Via")
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: strings.ToUpper(route.Transport),
		Host: host, Port: port, Params: sip.NewParams()}
	via.Params.Add("branch", sip.GenerateBranch())
	via.Params.Add("rport", "")
	req.PrependHeader(via)
	if route.Transport == "udp" {
		if a := e.udpLocalAddr(); a != nil {
			req.Laddr = sip.Addr{IP: a.IP, Port: a.Port}
		}
	}
	if req.GetHeader("User-Agent") == nil {
		req.AppendHeader(sip.NewHeader("User-Agent", e.UserAgent()))
	}
	return nil
}

// transactOnce runs one client transaction and returns its final response.
//
// A request for UDP longer than maxUDPRequest goes over TCP to the same
// address and port when the engine listens on TCP (RFC 3261 18.1.1), and
// back over UDP if no TCP connection can be made.
func (e *Engine) transactOnce(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	return e.transactSent(ctx, req, nil)
}

// transactSent is transactOnce calling sent once the transaction has
// started: from then on sipgo no longer writes req, so it may be read (to
// build a CANCEL).
func (e *Engine) transactSent(ctx context.Context, req *sip.Request, sent func()) (*sip.Response, error) {
	client := e.Client()
	if client == nil || e.stopping.Load() {
		return nil, ErrEngineNotRunning
	}
	var udpRoute *Route
	if strings.EqualFold(req.Transport(), "udp") && len(req.String()) > maxUDPRequest {
		if _, ok := e.Listener("tcp"); ok {
			host, port, err := net.SplitHostPort(req.Destination())
			n, _ := strconv.Atoi(port)
			if err == nil && n > 0 {
				udpRoute = &Route{Address: host, Port: n, Transport: "udp"}
				if err := e.prepareRequest(req, Route{Address: host, Port: n, Transport: "tcp"}); err != nil {
					return nil, err
				}
			}
		}
	}
	tx, err := client.TransactionRequest(ctx, req, sipgo.ClientRequestBuild)
	if err != nil && udpRoute != nil && ctx.Err() == nil {
		e.log.Debug("no TCP connection for a long request, sending it over UDP", "to", req.Destination(), "error", err)
		if perr := e.prepareRequest(req, *udpRoute); perr != nil {
			return nil, perr
		}
		tx, err = client.TransactionRequest(ctx, req, sipgo.ClientRequestBuild)
	}
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	e.traceOutgoing(req)
	if sent != nil {
		sent()
	}
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return res, nil
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, err
			}
			return nil, errors.New("transaction ended without a final response")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// NewRequest builds an out-of-dialog request from one party to another with
// a new Call-ID, a From tag, CSeq 1 and Max-Forwards 70. contact, when not
// zero, becomes the Contact header; routeSet becomes Route headers.
func NewRequest(method string, target SIPURI, from NameAddr, to NameAddr, contact SIPURI, routeSet []SIPURI) (*sip.Request, error) {
	var ruri sip.Uri
	if err := sip.ParseUri(target.String(), &ruri); err != nil {
		return nil, fmt.Errorf("request URI %s: %w", target, err)
	}
	req := sip.NewRequest(sip.RequestMethod(strings.ToUpper(method)), ruri)
	var fromURI, toURI sip.Uri
	if err := sip.ParseUri(from.URI.String(), &fromURI); err != nil {
		return nil, fmt.Errorf("From %s: %w", from.URI, err)
	}
	if err := sip.ParseUri(to.URI.String(), &toURI); err != nil {
		return nil, fmt.Errorf("To %s: %w", to.URI, err)
	}
	fh := &sip.FromHeader{DisplayName: from.DisplayName, Address: fromURI, Params: sip.NewParams()}
	fh.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(fh)
	req.AppendHeader(&sip.ToHeader{DisplayName: to.DisplayName, Address: toURI, Params: sip.NewParams()})
	callID := sip.CallIDHeader(sip.GenerateTagN(24))
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: req.Method})
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	for _, r := range routeSet {
		req.AppendHeader(sip.NewHeader("Route", "<"+r.String()+">"))
	}
	if contact.Host != "" {
		req.AppendHeader(sip.NewHeader("Contact", "<"+contact.String()+">"))
	}
	return req, nil
}
