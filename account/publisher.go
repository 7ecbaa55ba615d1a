package account

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sipsimple-go/sipsimple/core"
	"github.com/sipsimple-go/sipsimple/notification"
)

// publisher keeps an account's online status published (PJSUA
// publish_enabled): it looks up the routes to the account's domain (or
// its outbound proxy), publishes through the first, moves to the next on
// failure, and after every route failed tries again after RetryInterval
// plus up to RetryRandomInterval, like the registrar.
type publisher struct {
	a *Account

	mu       sync.Mutex
	pub      *core.Publication
	routes   []core.Route
	idx      int
	timer    *time.Timer
	stopping bool
	gen      int
	ended    chan struct{} // closed on DidEnd/DidNotEnd after stop
}

func newPublisher(a *Account) *publisher { return &publisher{a: a, ended: make(chan struct{})} }

// start looks up the routes and publishes the current status.
func (p *publisher) start() {
	p.mu.Lock()
	if p.stopping {
		p.mu.Unlock()
		return
	}
	p.gen++
	gen := p.gen
	p.mu.Unlock()
	go p.lookupAndPublish(gen)
}

func (p *publisher) lookupAndPublish(gen int) {
	a := p.a
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, transports := a.mgr.registrationTarget(a)
	target := core.SIPURI{Scheme: "sip", Host: a.uri.Host, Port: a.uri.Port}
	if s, ok := a.SIP.OutboundProxy.Get(); ok {
		if u, err := core.ParseSIPURI(s); err == nil {
			target = u
		}
	}
	routes, err := a.mgr.resolver.Routes(ctx, target, transports)
	if err == nil && len(routes) == 0 {
		err = errors.New("no route")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopping || gen != p.gen {
		return
	}
	if err != nil {
		p.retryLocked()
		return
	}
	p.routes, p.idx = routes, 0
	if p.pub == nil {
		pub, err := a.mgr.newPublication(a)
		if err != nil {
			p.retryLocked()
			return
		}
		p.pub = pub
		a.mgr.center.AddObserver(p, notification.Any, pub)
	}
	p.publishLocked()
}

// publishLocked sends the account's current document through the current
// route.
func (p *publisher) publishLocked() {
	doc, err := p.a.presenceDocument()
	if err != nil || p.pub == nil || len(p.routes) == 0 {
		return
	}
	p.pub.Publish(p.routes[p.idx], doc)
}

// update publishes a changed status.
func (p *publisher) update() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stopping {
		p.publishLocked()
	}
}

// retryLocked schedules a new lookup after the retry interval.
func (p *publisher) retryLocked() {
	a := p.a
	delay := a.SIP.RetryInterval.Get() + jitter(a.SIP.RetryRandomInterval.Get())
	gen := p.gen
	p.timer = time.AfterFunc(delay, func() {
		p.mu.Lock()
		current := gen == p.gen
		p.mu.Unlock()
		if current {
			p.start()
		}
	})
}

// HandleNotification follows the core publication, in order.
func (p *publisher) HandleNotification(n notification.Notification) {
	switch n.Name {
	case core.PublicationDidFail:
		d, _ := notification.Data[core.PublicationDidFailData](n)
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.stopping {
			return
		}
		auth := d.Code == 401 || d.Code == 403 || d.Code == 407 || errors.Is(d.Error, core.ErrAuthRejected)
		if !auth && p.idx+1 < len(p.routes) {
			p.idx++
			p.publishLocked()
			return
		}
		p.retryLocked()
	case core.PublicationDidEnd, core.PublicationDidNotEnd:
		p.mu.Lock()
		stopping := p.stopping
		p.mu.Unlock()
		if stopping {
			p.finish()
		}
	}
}

// stop removes the published state and waits (bounded by ctx) for the
// outcome, then releases the publication.
func (p *publisher) stop(ctx context.Context) {
	p.mu.Lock()
	if p.stopping {
		p.mu.Unlock()
		return
	}
	p.stopping = true
	p.gen++
	if p.timer != nil {
		p.timer.Stop()
	}
	pub := p.pub
	p.mu.Unlock()
	if pub == nil || pub.Unpublish() != nil {
		p.finish()
	}
	select {
	case <-p.ended:
	case <-ctx.Done():
		p.finish()
	}
}

// finish releases the publication once.
func (p *publisher) finish() {
	p.mu.Lock()
	pub := p.pub
	p.pub = nil
	select {
	case <-p.ended:
		p.mu.Unlock()
		return
	default:
		close(p.ended)
	}
	p.mu.Unlock()
	if pub != nil {
		p.a.mgr.center.PurgeObserver(p)
		pub.Close()
	}
}
