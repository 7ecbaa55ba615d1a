package core

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipsimple-go/sipsimple/internal/interop"
	"github.com/sipsimple-go/sipsimple/notification"
)

func kamailioRoute(t *testing.T, k *interop.Kamailio, transport string) Route {
	t.Helper()
	addr := k.UDPAddr()
	if transport == "tcp" {
		addr = k.TCPAddr()
	}
	host, port, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(port)
	return Route{Address: host, Port: n, Transport: transport}
}

func newTestRegistration(t *testing.T, e *Engine, k *interop.Kamailio, user, password string, expires time.Duration) *Registration {
	t.Helper()
	r, err := e.NewRegistration(RegistrationConfig{
		AOR:         MustParseSIPURI(k.AOR(user)),
		Contact:     SIPURI{Scheme: "sip", User: user + "-contact"},
		Credentials: Credentials{Username: user, Password: password},
		Expires:     expires,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

func waitNotification[T any](t *testing.T, w *notification.Waiter) (T, notification.Notification) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n, err := w.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := notification.Data[T](n)
	return d, n
}

func TestRegistrationWithKamailio(t *testing.T) {
	k := interop.StartKamailio(t, interop.KamailioConfig{Users: map[string]string{"alice": "secret"}, DisableTLS: true})
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			e, c := startEngine(t, EngineConfig{})
			// One observer sees the messages sent and the outcomes in post
			// order; any DidFail on the way fails the test.
			ev := recordRegistration(t, e, c)
			r := newTestRegistration(t, e, k, "alice", "secret", 120*time.Second)
			ev.r = r
			route := kamailioRoute(t, k, transport)
			if err := r.Register(route); err != nil {
				t.Fatal(err)
			}
			d, _ := notification.Data[RegistrationDidSucceedData](ev.next(RegistrationDidSucceed))
			if d.Code != 200 || d.Route != route || d.Expires != 120*time.Second {
				t.Fatalf("DidSucceed data %+v", d)
			}
			if d.ContactURI.User != "alice-contact" || d.ContactURI.Host != "127.0.0.1" || d.ContactURI.Transport() != map[string]string{"udp": "", "tcp": "tcp"}[transport] {
				t.Fatalf("contact %s", d.ContactURI)
			}
			if len(d.ContactURIList) == 0 {
				t.Fatal("empty contact list")
			}
			if !r.Registered() {
				t.Fatal("Registered() false after success")
			}
			if got := len(ev.sent); got != 2 {
				t.Errorf("%d REGISTERs sent, want 2 (challenge + answer)", got)
			}
			if err := r.Unregister(); err != nil {
				t.Fatal(err)
			}
			ev.next(RegistrationDidEnd)
			if r.Registered() {
				t.Fatal("still registered after DidEnd")
			}
		})
	}
}

func TestRegistrationWrongPassword(t *testing.T) {
	k := interop.StartKamailio(t, interop.KamailioConfig{Users: map[string]string{"bob": "right"}, DisableTLS: true})
	e, c := startEngine(t, EngineConfig{})
	ev := recordRegistration(t, e, c)
	r := newTestRegistration(t, e, k, "bob", "wrong", 60*time.Second)
	ev.r = r
	r.Register(kamailioRoute(t, k, "udp"))
	d, _ := notification.Data[RegistrationDidFailData](ev.next(RegistrationDidFail))
	if d.Code != 401 || !errors.Is(d.Error, ErrAuthRejected) {
		t.Fatalf("DidFail data %+v", d)
	}
	if got := len(ev.sent); got != 2 {
		t.Errorf("%d REGISTERs sent for a wrong password, want 2 (no retry storm)", got)
	}
	if r.Registered() {
		t.Fatal("registered with a wrong password")
	}
}

func TestRegistrationRejected403(t *testing.T) {
	k := interop.StartKamailio(t, interop.KamailioConfig{Users: map[string]string{"bob": "right"}, RejectWrongPassword: true, DisableTLS: true})
	e, c := startEngine(t, EngineConfig{})
	r := newTestRegistration(t, e, k, "bob", "wrong", 60*time.Second)
	failed := c.Expect(RegistrationDidFail, r)
	r.Register(kamailioRoute(t, k, "udp"))
	if d, _ := waitNotification[RegistrationDidFailData](t, failed); d.Code != 403 {
		t.Fatalf("DidFail data %+v", d)
	}
}

// A short expiry is refreshed before it lapses (SIPRegistrationWillExpire,
// then a new DidSucceed), reusing the cached challenge.
func TestRegistrationRefresh(t *testing.T) {
	k := interop.StartKamailio(t, interop.KamailioConfig{Users: map[string]string{"carol": "pw"}, DisableTLS: true})
	e, c := startEngine(t, EngineConfig{})
	r := newTestRegistration(t, e, k, "carol", "pw", 2*time.Second)
	first := c.Expect(RegistrationDidSucceed, r)
	r.Register(kamailioRoute(t, k, "udp"))
	waitNotification[RegistrationDidSucceedData](t, first)
	will := c.Expect(RegistrationWillExpire, r)
	again := c.Expect(RegistrationDidSucceed, r)
	if d, _ := waitNotification[RegistrationWillExpireData](t, will); d.Expires != 2*time.Second {
		t.Fatalf("WillExpire %+v", d)
	}
	if d, _ := waitNotification[RegistrationDidSucceedData](t, again); d.Code != 200 {
		t.Fatalf("refresh %+v", d)
	}
}

// 423 Interval Too Brief: the registration retries with Min-Expires.
func TestRegistrationMinExpires(t *testing.T) {
	k := interop.StartKamailio(t, interop.KamailioConfig{Users: map[string]string{"dave": "pw"}, MinExpires: 90, RejectBriefExpires: true, DisableTLS: true})
	e, c := startEngine(t, EngineConfig{})
	r := newTestRegistration(t, e, k, "dave", "pw", 30*time.Second)
	ok := c.Expect(RegistrationDidSucceed, r)
	r.Register(kamailioRoute(t, k, "udp"))
	if d, _ := waitNotification[RegistrationDidSucceedData](t, ok); d.Expires < 90*time.Second {
		t.Fatalf("expires %v after a 423 with Min-Expires 90", d.Expires)
	}
}

// A dead route fails with 408 within the configured timeout.
func TestRegistrationDeadRoute(t *testing.T) {
	dead, err := net.ListenPacket("udp", "127.0.0.1:0") // bound, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	e, c := startEngine(t, EngineConfig{})
	r, _ := e.NewRegistration(RegistrationConfig{AOR: MustParseSIPURI("sip:eve@example.test"),
		Credentials: Credentials{Username: "eve"}, Timeout: 500 * time.Millisecond})
	defer r.Close()
	failed := c.Expect(RegistrationDidFail, r)
	port := dead.LocalAddr().(*net.UDPAddr).Port
	r.Register(Route{Address: "127.0.0.1", Port: port, Transport: "udp"})
	if d, _ := waitNotification[RegistrationDidFailData](t, failed); d.Code != 408 || d.Route.Port != port {
		t.Fatalf("DidFail %+v", d)
	}
}

func TestRefreshDelay(t *testing.T) {
	for exp, want := range map[time.Duration]time.Duration{
		3600 * time.Second: 3570 * time.Second, 60 * time.Second: 30 * time.Second,
		2 * time.Second: time.Second, time.Second: time.Second, 0: time.Second,
	} {
		if got := refreshDelay(exp); got != want {
			t.Errorf("refreshDelay(%v) = %v, want %v", exp, got, want)
		}
	}
}

func TestSplitHeaderList(t *testing.T) {
	got := splitHeaderList(`<sip:a@x>;expires=1, "B, b" <sip:b@y;p=1,2>;q=0.5 ,sip:c@z`)
	want := []string{`<sip:a@x>;expires=1`, `"B, b" <sip:b@y;p=1,2>;q=0.5`, `sip:c@z`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q", got)
	}
}
