package main

import (
	"sync"

	"github.com/sipsimple-go/sipsimple/account"
	"github.com/sipsimple-go/sipsimple/notification"
)

// maxEarlyRegistrations bounds the registration notifications kept for
// accounts nobody watches yet.
const maxEarlyRegistrations = 256

// registrations receives the accounts' registration notifications from
// before the application starts: the accounts register as it starts,
// before a command knows which account to watch, and an outcome posted in
// between (a quick 401 with a wrong password) must not be missed. A
// watcher gets what its account posted before it subscribed, then the
// rest, each once and in order.
type registrations struct {
	mu   sync.Mutex
	past []notification.Notification
	subs map[*account.Account]func(notification.Notification)
}

// registrationNames are the notifications collected. Only these are
// observed: an observer of every name would count as one of
// SIPSessionNewIncoming, and calls nobody takes would ring instead of
// being declined.
var registrationNames = []string{account.RegistrationDidSucceed, account.RegistrationDidFail,
	account.RegistrationDidEnd, account.RegistrationWillRefresh, account.RegistrationDidNotEnd}

// observe starts collecting on center (before the application starts).
// One observer for all the names keeps them in post order.
func (r *registrations) observe(center *notification.Center) error {
	for _, name := range registrationNames {
		if err := center.AddObserver(r, name, nil); err != nil {
			return err
		}
	}
	return nil
}

// HandleNotification implements notification.Observer.
func (r *registrations) HandleNotification(n notification.Notification) {
	a, _ := n.Sender.(*account.Account)
	r.mu.Lock()
	defer r.mu.Unlock()
	if f := r.subs[a]; f != nil {
		f(n)
		return
	}
	if len(r.past) < maxEarlyRegistrations {
		r.past = append(r.past, n)
	}
}

// subscribe sends a's registration notifications to f (which must not
// block): first those already posted, then each new one; cancel stops.
func (r *registrations) subscribe(a *account.Account, f func(notification.Notification)) (cancel func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	kept := r.past[:0]
	for _, n := range r.past {
		if n.Sender == any(a) {
			f(n)
		} else {
			kept = append(kept, n)
		}
	}
	r.past = kept
	if r.subs == nil {
		r.subs = map[*account.Account]func(notification.Notification){}
	}
	r.subs[a] = f
	return func() {
		r.mu.Lock()
		delete(r.subs, a)
		r.mu.Unlock()
	}
}
