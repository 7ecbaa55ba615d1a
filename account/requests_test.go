package account

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipsimple-go/sipsimple/internal/interop"
)

// recordingHandler answers messages with a fixed code (0: leave to the
// default) and records what it saw.
type recordingHandler struct {
	DefaultHandler
	code  int
	mu    sync.Mutex
	got   []string
	regs  []RegistrationState
	event chan struct{}
}

func (h *recordingHandler) OnIncomingMessage(a *Account, in *Incoming) {
	h.mu.Lock()
	h.got = append(h.got, string(in.Request.Body()))
	h.mu.Unlock()
	if h.code != 0 {
		in.Respond(h.code, "Handled")
	}
	h.event <- struct{}{}
}

func (h *recordingHandler) OnRegistrationState(a *Account, st RegistrationState) {
	h.mu.Lock()
	h.regs = append(h.regs, st)
	h.mu.Unlock()
	h.event <- struct{}{}
}

func (h *recordingHandler) wait(t *testing.T) {
	t.Helper()
	select {
	case <-h.event:
	case <-time.After(10 * time.Second):
		t.Fatal("handler not called")
	}
}

// messages waits until the handler saw n messages (other callbacks, such
// as a registration refresh, may come first) and returns them.
func (h *recordingHandler) messages(t *testing.T, n int) []string {
	t.Helper()
	for {
		h.mu.Lock()
		got := slices.Clone(h.got)
		h.mu.Unlock()
		if len(got) >= n {
			return got
		}
		h.wait(t)
	}
}

// localAccount creates an enabled account that does not register.
func (e *env) localAccount(t *testing.T, id string) *Account {
	t.Helper()
	a, err := e.mgr.NewAccount(id)
	if err != nil {
		t.Fatal(err)
	}
	a.SIP.Register.Set(false)
	a.Enabled.Set(true)
	if err := a.Save(); err != nil {
		t.Fatal(err)
	}
	return a
}

func sendMessage(t *testing.T, from *Account, target, text string) int {
	t.Helper()
	req, err := from.CreateRequest("MESSAGE", target)
	if err != nil {
		t.Fatal(err)
	}
	req.AppendHeader(sipHeader("Content-Type", "text/plain"))
	req.SetBody([]byte(text))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := from.SendRequest(ctx, req)
	if err != nil {
		t.Fatalf("MESSAGE to %s: %v", target, err)
	}
	return res.StatusCode
}

func TestRequestsBetweenTwoApplications(t *testing.T) {
	alice := newEnv(t, nil)
	bob := newEnv(t, nil)
	a := alice.localAccount(t, "alice@example.test")
	b := bob.localAccount(t, "bob@example.test")
	bobUDP, _ := bob.engine.Listener("udp")
	target := "sip:bob@" + bobUDP.Addr.String()

	// CreateRequest fills From, To, Contact; OPTIONS is answered by the engine.
	req, err := a.CreateRequest("OPTIONS", target)
	if err != nil {
		t.Fatal(err)
	}
	if from := req.From(); from == nil || from.Address.User != "alice" || from.Params == nil {
		t.Fatalf("From %v", req.From())
	}
	if c := req.GetHeader("Contact"); c == nil || !strings.Contains(c.Value(), a.ContactUser()) {
		t.Fatalf("Contact %v", c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := a.SendRequest(ctx, req)
	if err != nil || res.StatusCode != 200 || res.GetHeader("Allow") == nil || !strings.Contains(res.GetHeader("Allow").Value(), "MESSAGE") {
		t.Fatalf("OPTIONS: %v %v", res, err)
	}

	// MESSAGE: the handler answers; without handler the default 200; the
	// 480 setting; INVITE without handler is rejected 480.
	h := &recordingHandler{code: 202, event: make(chan struct{}, 4)}
	b.SetHandler(h)
	if code := sendMessage(t, a, target, "hello"); code != 202 {
		t.Fatalf("MESSAGE with handler: %d", code)
	}
	if got := h.messages(t, 1); got[0] != "hello" {
		t.Fatalf("handler got %q", got)
	}
	b.SetHandler(nil)
	if code := sendMessage(t, a, target, "to nobody"); code != 200 {
		t.Fatalf("MESSAGE default: %d", code)
	}
	b.SIP.UnknownMessageResponse.Set(480)
	b.Save()
	if code := sendMessage(t, a, target, "to nobody"); code != 480 {
		t.Fatalf("MESSAGE with unknown_message_response 480: %d", code)
	}
	inv, _ := a.CreateRequest("INVITE", target)
	res, err = a.SendRequest(ctx, inv)
	if err != nil || res.StatusCode != 480 {
		t.Fatalf("INVITE without handler: %v %v", res, err)
	}
	// UAS contact follows the request's transport.
	if c, err := b.UASContact(inv); err != nil || c.User != b.ContactUser() {
		t.Fatalf("UASContact: %v %v", c, err)
	}
}

// alice and bob register with Kamailio; alice's MESSAGE to bob's address of
// record goes through the proxy (answering its 407 challenge) to bob's
// engine, where bob's handler answers it.
func TestMessageThroughKamailio(t *testing.T) {
	k := interop.StartKamailio(t, interop.KamailioConfig{Users: map[string]string{"alice": "pa", "bob": "pb"}, DisableTLS: true})
	route := staticResolver{kamailioRoute(k, "udp")}
	ea, eb := newEnv(t, route), newEnv(t, route)
	proxy := "sip:" + k.UDPAddr()
	register := func(e *env, user, pw string) *Account {
		a := e.newAccount(t, user+"@"+k.Domain, pw)
		a.SIP.OutboundProxy.Set(proxy)
		ok := e.center.Expect(RegistrationDidSucceed, a)
		if err := a.Save(); err != nil {
			t.Fatal(err)
		}
		wait[RegistrationDidSucceedData](t, ok)
		return a
	}
	h := &recordingHandler{code: 200, event: make(chan struct{}, 4)}
	bob := register(eb, "bob", "pb")
	bob.SetHandler(h)
	alice := register(ea, "alice", "pa")
	if code := sendMessage(t, alice, "sip:bob@"+k.Domain, "via kamailio"); code != 200 {
		t.Fatalf("MESSAGE through Kamailio: %d", code)
	}
	if got := h.messages(t, 1); len(got) != 1 || got[0] != "via kamailio" {
		t.Fatalf("bob got %q", got)
	}
}

func sipHeader(name, value string) sip.Header { return sip.NewHeader(name, value) }
