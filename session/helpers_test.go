package session_test

import (
	"context"
	"fmt"
	"github.com/sipsimple-go/sipsimple/core"
	"sync"
	"testing"
	"time"

	"github.com/sipsimple-go/sipsimple/account"
	"github.com/sipsimple-go/sipsimple/application"
	"github.com/sipsimple-go/sipsimple/configuration"
	"github.com/sipsimple-go/sipsimple/notification"
	"github.com/sipsimple-go/sipsimple/session"
)

// waitTimeout bounds every wait on a notification.
const waitTimeout = 20 * time.Second

// recorder keeps every notification a Center posts, for tests to wait on.
type recorder struct {
	mu   sync.Mutex
	cond *sync.Cond
	all  []notification.Notification
}

func record(c *notification.Center) *recorder {
	r := &recorder{}
	r.cond = sync.NewCond(&r.mu)
	c.Observe(notification.Any, nil, func(n notification.Notification) {
		r.mu.Lock()
		r.all = append(r.all, n)
		r.cond.Broadcast()
		r.mu.Unlock()
	})
	return r
}

// wait returns the first notification named name from sender (nil: any),
// failing the test after waitTimeout.
func (r *recorder) wait(t testing.TB, name string, sender any) notification.Notification {
	t.Helper()
	var found notification.Notification
	ok := r.waitFor(func(all []notification.Notification) bool {
		for _, n := range all {
			if n.Name == name && (sender == nil || n.Sender == sender) {
				found = n
				return true
			}
		}
		return false
	})
	if !ok {
		t.Fatalf("no %s within %v; got %v", name, waitTimeout, r.names())
	}
	return found
}

// waitCount waits until sender posted name at least k times.
func (r *recorder) waitCount(t testing.TB, name string, sender any, k int) {
	t.Helper()
	if !r.waitFor(func([]notification.Notification) bool { return r.countLocked(name, sender) >= k }) {
		t.Fatalf("%s posted %d times, want %d, within %v", name, r.count(name, sender), k, waitTimeout)
	}
}

// waitFor waits, for at most waitTimeout, until cond holds on what was
// posted (cond runs with r.mu held).
func (r *recorder) waitFor(cond func([]notification.Notification) bool) bool {
	deadline := time.Now().Add(waitTimeout)
	timer := time.AfterFunc(waitTimeout, func() {
		r.mu.Lock()
		r.cond.Broadcast()
		r.mu.Unlock()
	})
	defer timer.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for !cond(r.all) {
		if !time.Now().Before(deadline) {
			return false
		}
		r.cond.Wait()
	}
	return true
}

// count returns how many notifications named name sender posted.
func (r *recorder) count(name string, sender any) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.countLocked(name, sender)
}

func (r *recorder) countLocked(name string, sender any) int {
	c := 0
	for _, n := range r.all {
		if n.Name == name && (sender == nil || n.Sender == sender) {
			c++
		}
	}
	return c
}

// names lists what was posted, for failure messages.
func (r *recorder) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.all))
	for _, n := range r.all {
		out = append(out, n.Name)
	}
	return out
}

// states returns the sequence of SIPSessionChangedState states of sender.
func (r *recorder) states(sender any) []session.State {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []session.State
	for _, n := range r.all {
		if n.Name == session.ChangedState && n.Sender == sender {
			d, _ := notification.Data[session.ChangedStateData](n)
			out = append(out, d.State)
		}
	}
	return out
}

// party is one Application with a userless UDP account on loopback.
type party struct {
	app   *application.Application
	rec   *recorder
	local *account.Account
}

func startParty(t testing.TB, media *session.MediaConfig) *party {
	t.Helper()
	app := application.New()
	rec := record(app.Notifications())
	local := startLocal(t, app, media)
	return &party{app: app, rec: rec, local: local}
}

// startLocal starts app on 127.0.0.1 with media (nil: the defaults),
// stopped by the test's cleanup, and returns its userless UDP account.
func startLocal(t testing.TB, app *application.Application, media *session.MediaConfig) *account.Account {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if media == nil {
		media = &session.MediaConfig{}
	}
	if err := app.Start(ctx, application.Options{Listen: "127.0.0.1:0", Backend: configuration.NewMemoryBackend(nil),
		Media: media}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		app.Stop(ctx)
	})
	local, err := app.Accounts().AddLocal("udp")
	if err != nil {
		t.Fatal(err)
	}
	return local
}

// dumpOnFailure logs what the parties posted when the test fails: one
// party is "sipsimple" (against another program), two are alice and bob.
func dumpOnFailure(t testing.TB, parties ...*party) {
	names := []string{"alice", "bob"}
	if len(parties) == 1 {
		names = []string{"sipsimple"}
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i, p := range parties {
				p.rec.dump(t, names[min(i, len(names)-1)])
			}
		}
	})
}

func (p *party) autoAnswer(t testing.TB) {
	p.app.Notifications().Observe(session.NewIncoming, nil, func(n notification.Notification) {
		s := n.Sender.(*session.Session)
		if err := s.Accept(true, false); err != nil {
			t.Errorf("accept: %v", err)
		}
	})
}

// waitClosed fails the test unless ch closes within waitTimeout.
func waitClosed(t testing.TB, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(waitTimeout):
		t.Fatalf("%s: not within %v", what, waitTimeout)
	}
}

// dump logs every notification with its data, for debugging failures.
func (r *recorder) dump(t testing.TB, who string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.all {
		if n.Name == "SIPEngineSIPTrace" || n.Name == "SIPEngineLog" {
			continue
		}
		data := fmt.Sprintf("%+v", n.Data)
		if d, ok := notification.Data[core.InvitationChangedStateData](n); ok {
			data = fmt.Sprintf("%s/%s <- %s/%s code %d %s method %s", d.State, d.SubState, d.PrevState, d.PrevSubState, d.Code, d.Reason, d.Method)
		}
		if len(data) > 200 {
			data = data[:200]
		}
		t.Logf("%s %s %s %s", who, n.Timestamp.Format("15:04:05.000"), n.Name, data)
	}
}
