package core

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
)

// Notification names posted by a Publication (the sender), as in
// python-sipsimple.
const (
	PublicationDidSucceed = "SIPPublicationDidSucceed"
	PublicationDidFail    = "SIPPublicationDidFail"
	PublicationWillExpire = "SIPPublicationWillExpire"
	PublicationDidEnd     = "SIPPublicationDidEnd"
	PublicationDidNotEnd  = "SIPPublicationDidNotEnd"
)

// PublicationDidSucceedData is the data of SIPPublicationDidSucceed.
type PublicationDidSucceedData struct {
	Code    int
	Reason  string
	Expires time.Duration // granted by the server
	Route   Route
}

// PublicationDidFailData is the data of SIPPublicationDidFail. Code is 408
// for a timeout and 0 for a local error.
type PublicationDidFailData struct {
	Code   int
	Reason string
	Route  Route
	Error  error
}

// PublicationWillExpireData is the data of SIPPublicationWillExpire,
// posted when a refresh starts.
type PublicationWillExpireData struct {
	Expires time.Duration
}

// PublicationDidEndData is the data of SIPPublicationDidEnd.
type PublicationDidEndData struct {
	Expired bool // nothing was published, or it lapsed, rather than being removed
}

// PublicationDidNotEndData is the data of SIPPublicationDidNotEnd: the
// removal failed (the state lapses at its expiry).
type PublicationDidNotEndData struct {
	Code   int
	Reason string
}

// PublicationConfig describes a publication.
type PublicationConfig struct {
	// AOR is the address of record whose state is published: the
	// Request-URI, From and To.
	AOR         SIPURI
	DisplayName string
	// Event is the event package (default "presence").
	Event string
	// ContentType of the bodies (default application/pidf+xml).
	ContentType string
	Credentials Credentials
	// Expires is the requested lifetime (default 600 s, PJSUA's
	// publish expiration).
	Expires time.Duration
	// RouteSet becomes Route headers (an outbound proxy).
	RouteSet []SIPURI
	// Timeout bounds one PUBLISH transaction (default 10 s).
	Timeout time.Duration
}

// Publication publishes event state (RFC 3903): the first PUBLISH carries
// the body and gets an entity tag; refreshes carry only SIP-If-Match;
// modifications carry both; removal sends Expires: 0. A 412 (the server
// forgot the entity) makes it publish afresh, a 423 retries with the
// Min-Expires asked for. It is an actor: methods return at once and
// outcomes are notifications.
type Publication struct {
	e   *Engine
	cfg PublicationConfig

	cmds chan pubCommand
	done chan struct{}
	auth *authorizer

	mu         sync.Mutex
	closed     bool
	published  bool
	etag       string
	body       []byte
	route      Route
	expires    time.Duration
	cseq       uint32
	callID     string
	fromTag    string
	refresh    *time.Timer
	refreshGen int
	cancelTx   context.CancelFunc
}

type pubCommand struct {
	kind  string // "publish", "refresh", "unpublish"
	route Route
	body  []byte
	gen   int
}

// NewPublication creates a publication bound to the engine.
func (e *Engine) NewPublication(cfg PublicationConfig) (*Publication, error) {
	if cfg.AOR.Host == "" {
		return nil, errors.New("publication: the address of record has no host")
	}
	if cfg.Event == "" {
		cfg.Event = "presence"
	}
	if cfg.ContentType == "" {
		cfg.ContentType = "application/pidf+xml"
	}
	if cfg.Expires <= 0 {
		cfg.Expires = 600 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	p := &Publication{e: e, cfg: cfg, cmds: make(chan pubCommand, 16), done: make(chan struct{}),
		auth: newAuthorizer(cfg.Credentials), expires: cfg.Expires, callID: uuid.NewString(),
		fromTag: sip.GenerateTagN(16)}
	go p.run()
	return p, nil
}

// Publish sends body through route: the initial publication, or a
// modification of the published state.
func (p *Publication) Publish(route Route, body []byte) error {
	if len(body) == 0 {
		return errors.New("publication: empty body (a refresh happens by itself)")
	}
	return p.send(pubCommand{kind: "publish", route: route, body: append([]byte(nil), body...)})
}

// Unpublish removes the published state (PUBLISH with Expires: 0); DidEnd
// or DidNotEnd follows.
func (p *Publication) Unpublish() error { return p.send(pubCommand{kind: "unpublish"}) }

// Published reports whether state is currently published.
func (p *Publication) Published() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.published
}

// ETag returns the entity tag of the published state ("" when none).
func (p *Publication) ETag() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.etag
}

// Close stops the publication without removing the state and waits for
// its goroutine.
func (p *Publication) Close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		if p.refresh != nil {
			p.refresh.Stop()
		}
		if p.cancelTx != nil {
			p.cancelTx()
		}
		close(p.cmds)
	}
	p.mu.Unlock()
	<-p.done
}

func (p *Publication) send(c pubCommand) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("publication: closed")
	}
	select {
	case p.cmds <- c:
		return nil
	default:
		return errors.New("publication: too many commands queued")
	}
}

func (p *Publication) run() {
	defer close(p.done)
	for c := range p.cmds {
		switch c.kind {
		case "publish":
			p.mu.Lock()
			p.route, p.body = c.route, c.body
			p.mu.Unlock()
			p.publish(c.body)
		case "refresh":
			p.mu.Lock()
			current := c.gen == p.refreshGen && p.published
			exp := p.expires
			p.mu.Unlock()
			if current {
				p.e.center.Post(PublicationWillExpire, p, PublicationWillExpireData{Expires: exp})
				p.publish(nil)
			}
		case "unpublish":
			p.unpublish()
		}
	}
}

// publish sends body (nil: a refresh), handling 401/407, 412 and 423.
func (p *Publication) publish(body []byte) {
	p.mu.Lock()
	route, expires := p.route, p.expires
	if body == nil {
		expires = p.expires
	} else if !p.published {
		expires = p.cfg.Expires
	}
	p.mu.Unlock()
	fail := func(code int, reason string, err error) {
		p.mu.Lock()
		p.published = false
		p.mu.Unlock()
		p.e.center.Post(PublicationDidFail, p, PublicationDidFailData{Code: code, Reason: reason, Route: route, Error: err})
	}
	fresh := false // a 412 was answered by publishing afresh
	for round := 0; round < 6; round++ {
		p.mu.Lock()
		etag := p.etag
		p.mu.Unlock()
		send := body
		if send == nil && etag == "" {
			send = p.lastBody() // nothing to refresh: publish the state again
		}
		res, err := p.transact(route, etag, send, expires)
		if err != nil {
			code, reason := 0, err.Error()
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sip.ErrTransactionTimeout) {
				code, reason = 408, "Request Timeout"
			}
			fail(code, reason, err)
			return
		}
		switch {
		case res.StatusCode == 401 || res.StatusCode == 407:
			if err := p.auth.challenged(res); err != nil {
				fail(res.StatusCode, res.Reason, err)
				return
			}
		case res.StatusCode == 412 && !fresh:
			// The server does not know our entity tag: publish the whole
			// state again (RFC 3903 6).
			fresh = true
			p.mu.Lock()
			p.etag = ""
			p.mu.Unlock()
			if body == nil {
				body = p.lastBody()
			}
		case res.StatusCode == 423:
			h := res.GetHeader("Min-Expires")
			n := 0
			if h != nil {
				n, _ = strconv.Atoi(strings.TrimSpace(h.Value()))
			}
			if n <= 0 || time.Duration(n)*time.Second <= expires {
				fail(423, res.Reason, errors.New("423 without a usable Min-Expires"))
				return
			}
			expires = time.Duration(n) * time.Second
		case res.IsSuccess():
			p.auth.succeeded()
			p.succeeded(res, route, expires)
			return
		default:
			fail(res.StatusCode, res.Reason, nil)
			return
		}
	}
	fail(0, "too many authentication, 412 or Min-Expires rounds", errors.New("publication loop"))
}

func (p *Publication) lastBody() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.body
}

// succeeded records the entity tag and expiry of a 2xx and schedules the
// refresh.
func (p *Publication) succeeded(res *sip.Response, route Route, requested time.Duration) {
	expires := requested
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n >= 0 {
			expires = time.Duration(n) * time.Second
		}
	}
	p.mu.Lock()
	if h := res.GetHeader("SIP-ETag"); h != nil {
		p.etag = strings.TrimSpace(h.Value())
	}
	p.published = expires > 0 && p.etag != ""
	p.expires = expires
	p.refreshGen++
	gen := p.refreshGen
	if p.refresh != nil {
		p.refresh.Stop()
	}
	if p.published && !p.closed {
		p.refresh = time.AfterFunc(refreshDelay(expires), func() { p.send(pubCommand{kind: "refresh", gen: gen}) })
	}
	p.mu.Unlock()
	p.e.center.Post(PublicationDidSucceed, p, PublicationDidSucceedData{Code: res.StatusCode, Reason: res.Reason,
		Expires: expires, Route: route})
}

// unpublish removes the state.
func (p *Publication) unpublish() {
	p.mu.Lock()
	published, etag, route := p.published, p.etag, p.route
	p.published = false
	p.refreshGen++
	if p.refresh != nil {
		p.refresh.Stop()
	}
	p.mu.Unlock()
	if !published || etag == "" {
		p.e.center.Post(PublicationDidEnd, p, PublicationDidEndData{Expired: true})
		return
	}
	for round := 0; round < 4; round++ {
		res, err := p.transact(route, etag, nil, 0)
		if err != nil {
			p.e.center.Post(PublicationDidNotEnd, p, PublicationDidNotEndData{Code: 408, Reason: err.Error()})
			return
		}
		switch {
		case res.StatusCode == 401 || res.StatusCode == 407:
			if err := p.auth.challenged(res); err != nil {
				p.e.center.Post(PublicationDidNotEnd, p, PublicationDidNotEndData{Code: res.StatusCode, Reason: res.Reason})
				return
			}
			continue
		case res.IsSuccess(), res.StatusCode == 412:
			// 412: the server no longer has the state; it is gone either way.
			p.mu.Lock()
			p.etag = ""
			p.mu.Unlock()
			p.e.center.Post(PublicationDidEnd, p, PublicationDidEndData{Expired: res.StatusCode == 412})
			return
		default:
			p.e.center.Post(PublicationDidNotEnd, p, PublicationDidNotEndData{Code: res.StatusCode, Reason: res.Reason})
			return
		}
	}
	p.e.center.Post(PublicationDidNotEnd, p, PublicationDidNotEndData{Code: 0, Reason: "too many authentication rounds"})
}

// transact sends one PUBLISH and returns its final response.
func (p *Publication) transact(route Route, etag string, body []byte, expires time.Duration) (*sip.Response, error) {
	req, err := p.build(route, etag, body, expires)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.Timeout)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		cancel()
		return nil, context.Canceled
	}
	p.cancelTx = cancel
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.cancelTx = nil
		p.mu.Unlock()
		cancel()
	}()
	return p.e.transactOnce(ctx, req)
}

// build creates a PUBLISH with the next CSeq.
func (p *Publication) build(route Route, etag string, body []byte, expires time.Duration) (*sip.Request, error) {
	aor := NameAddr{DisplayName: p.cfg.DisplayName, URI: p.cfg.AOR}
	req, err := NewRequest("PUBLISH", p.cfg.AOR, aor, aor, SIPURI{}, p.cfg.RouteSet)
	if err != nil {
		return nil, fmt.Errorf("publication: %w", err)
	}
	p.mu.Lock()
	p.cseq++
	seq := p.cseq
	p.mu.Unlock()
	req.From().Params.Add("tag", p.fromTag)
	req.ReplaceHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: "PUBLISH"})
	callID := sip.CallIDHeader(p.callID)
	req.ReplaceHeader(&callID)
	req.AppendHeader(sip.NewHeader("Event", p.cfg.Event))
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expires/time.Second))))
	if etag != "" {
		req.AppendHeader(sip.NewHeader("SIP-If-Match", etag))
	}
	if len(body) > 0 {
		req.AppendHeader(sip.NewHeader("Content-Type", p.cfg.ContentType))
		req.SetBody(body)
	}
	if err := p.e.prepareRequest(req, route); err != nil {
		return nil, err
	}
	if err := p.auth.authorize(req); err != nil {
		return nil, err
	}
	return req, nil
}
