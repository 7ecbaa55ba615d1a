package account

import (
	"context"
	"crypto/rand"
	"errors"
	"math/big"
	"sync"
	"time"

	"github.com/sipsimple-go/sipsimple/core"
	"github.com/sipsimple-go/sipsimple/notification"
)

// registrar keeps one account registered: it looks up the routes, tries
// them in order, and after every route failed waits RetryInterval plus up
// to RetryRandomInterval (PJSUA: 300 s + 10 s) before a new lookup. An
// authentication failure is not retried on the next route (the password is
// the same everywhere): it waits for the retry interval, so a wrong
// password never becomes a request storm.
type registrar struct {
	a *Account

	mu         sync.Mutex
	reg        *core.Registration
	routes     []core.Route
	idx        int
	timer      *time.Timer
	stopping   bool
	isReg      bool
	generation int
	done       chan struct{} // closed when the registrar has finished stopping
	closeOnce  sync.Once
}

func newRegistrar(a *Account) *registrar {
	return &registrar{a: a, done: make(chan struct{})}
}

func (r *registrar) registered() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.isReg
}

// start looks up the routes and registers through the first one. It runs
// the lookup in its own goroutine.
func (r *registrar) start() {
	r.mu.Lock()
	if r.stopping {
		r.mu.Unlock()
		return
	}
	r.generation++
	gen := r.generation
	if r.timer != nil {
		r.timer.Stop()
	}
	r.mu.Unlock()
	go r.lookupAndRegister(gen)
}

func (r *registrar) lookupAndRegister(gen int) {
	a := r.a
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	target, transports := a.mgr.registrationTarget(a)
	routes, err := a.mgr.resolver.Routes(ctx, target, transports)
	if err == nil && len(routes) == 0 {
		err = errors.New("no route")
	}
	r.mu.Lock()
	if r.stopping || gen != r.generation {
		r.mu.Unlock()
		return
	}
	if err != nil {
		r.mu.Unlock()
		r.failAll(0, "DNS lookup for "+target.String()+" failed: "+err.Error())
		return
	}
	r.routes, r.idx = routes, 0
	if r.reg == nil {
		reg, err := a.mgr.newRegistration(a)
		if err != nil {
			r.mu.Unlock()
			r.failAll(0, err.Error())
			return
		}
		r.reg = reg
		a.mgr.center.AddObserver(r, notification.Any, reg)
	}
	reg, route := r.reg, routes[0]
	r.mu.Unlock()
	reg.Register(route)
}

// failAll reports that every route failed and schedules a new attempt.
func (r *registrar) failAll(code int, reason string) {
	a := r.a
	delay := a.SIP.RetryInterval.Get() + jitter(a.SIP.RetryRandomInterval.Get())
	r.mu.Lock()
	r.isReg = false
	reg := r.reg
	if !r.stopping {
		gen := r.generation
		r.timer = time.AfterFunc(delay, func() {
			r.mu.Lock()
			current := gen == r.generation
			r.mu.Unlock()
			if current {
				r.start()
			}
		})
	}
	r.mu.Unlock()
	a.notify(RegistrationDidFail, RegistrationDidFailData{Code: code, Reason: reason, Registration: reg, Delay: delay})
	a.reportRegistration(RegistrationState{Code: code, Reason: reason})
}

func jitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	n, _ := rand.Int(rand.Reader, big.NewInt(int64(max)))
	return time.Duration(n.Int64())
}

// HandleNotification receives the core Registration's notifications, in
// order, on the registrar's own observer queue.
func (r *registrar) HandleNotification(n notification.Notification) {
	a := r.a
	switch n.Name {
	case core.RegistrationDidSucceed:
		d, _ := notification.Data[core.RegistrationDidSucceedData](n)
		r.mu.Lock()
		r.isReg = true
		stopping := r.stopping
		r.mu.Unlock()
		if !stopping {
			a.notify(RegistrationDidSucceed, RegistrationDidSucceedData{Code: d.Code, Reason: d.Reason,
				ContactURI: d.ContactURI, ContactURIList: d.ContactURIList, Expires: d.Expires, Registration: r.reg})
			a.reportRegistration(RegistrationState{Registered: true, Code: d.Code, Reason: d.Reason, Expires: d.Expires})
		}
	case core.RegistrationWillExpire:
		a.notify(RegistrationWillRefresh, nil)
	case core.RegistrationDidFail:
		d, _ := notification.Data[core.RegistrationDidFailData](n)
		r.mu.Lock()
		r.isReg = false
		if r.stopping {
			r.mu.Unlock()
			return
		}
		auth := d.Code == 401 || d.Code == 403 || d.Code == 407 || errors.Is(d.Error, core.ErrAuthRejected)
		if !auth && r.idx+1 < len(r.routes) {
			r.idx++
			next := r.routes[r.idx]
			reg := r.reg
			r.mu.Unlock()
			a.notify(RegistrationDidFail, RegistrationDidFailData{Code: d.Code, Reason: d.Reason, Registration: reg, NextRoute: &next})
			reg.Register(next)
			return
		}
		r.mu.Unlock()
		r.failAll(d.Code, d.Reason)
	case core.RegistrationDidEnd:
		a.notify(RegistrationDidEnd, RegistrationDidEndData{Code: 200, Reason: "OK", Registration: r.reg})
		r.finish()
	case core.RegistrationDidNotEnd:
		d, _ := notification.Data[core.RegistrationDidNotEndData](n)
		a.notify(RegistrationDidNotEnd, RegistrationDidEndData{Code: d.Code, Reason: d.Reason, Registration: r.reg})
		a.notify(RegistrationDidEnd, RegistrationDidEndData{Code: d.Code, Reason: d.Reason, Registration: r.reg})
		r.finish()
	}
}

// stop stops retrying and, when unregister is set and a binding exists,
// removes it; otherwise it finishes at once.
func (r *registrar) stop(unregister bool) {
	r.mu.Lock()
	if r.stopping && unregister {
		r.mu.Unlock()
		return
	}
	r.generation++
	if r.timer != nil {
		r.timer.Stop()
	}
	reg, isReg := r.reg, r.isReg
	if unregister {
		r.stopping = true
	}
	r.mu.Unlock()
	if reg != nil && isReg {
		reg.Unregister() // DidEnd or DidNotEnd follows, then finish
		return
	}
	if unregister {
		r.finish()
	}
}

// finish releases the registration once stopping.
func (r *registrar) finish() {
	r.mu.Lock()
	stopping := r.stopping
	reg := r.reg
	r.isReg = false
	r.mu.Unlock()
	if !stopping {
		return // an unregistration by hand (SetRegistration(false))
	}
	r.closeOnce.Do(func() {
		if reg != nil {
			r.a.mgr.center.PurgeObserver(r)
			reg.Close() // safe here: the registration never waits for observers
		}
		close(r.done)
	})
}

// wait waits until the registrar has stopped, or ctx is done.
func (r *registrar) wait(ctx context.Context) {
	select {
	case <-r.done:
	case <-ctx.Done():
		r.mu.Lock()
		reg := r.reg
		r.mu.Unlock()
		r.closeOnce.Do(func() {
			r.a.mgr.center.PurgeObserver(r)
			if reg != nil {
				reg.Close()
			}
			close(r.done)
		})
	}
}
