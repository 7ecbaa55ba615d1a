package application

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sipsimple-go/sipsimple/configuration"
	"github.com/sipsimple-go/sipsimple/configuration/settings"
	"github.com/sipsimple-go/sipsimple/internal/interop"
	"github.com/sipsimple-go/sipsimple/notification"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// recorder collects the names of the notifications an application posts.
type recorder struct {
	mu    sync.Mutex
	names []string
	ended chan struct{} // closed when SIPApplicationDidEnd arrives
}

func (r *recorder) HandleNotification(n notification.Notification) {
	r.mu.Lock()
	r.names = append(r.names, n.Name)
	r.mu.Unlock()
	if n.Name == DidEnd {
		close(r.ended)
	}
}

func (r *recorder) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.names...)
}

// fakeSubsystem records its calls in a shared log.
type fakeSubsystem struct {
	name     string
	startErr error
	log      *[]string
	mu       *sync.Mutex
}

func (f *fakeSubsystem) Name() string { return f.name }
func (f *fakeSubsystem) Start(context.Context) error {
	f.mu.Lock()
	*f.log = append(*f.log, "start "+f.name)
	f.mu.Unlock()
	return f.startErr
}
func (f *fakeSubsystem) Stop(context.Context) error {
	f.mu.Lock()
	*f.log = append(*f.log, "stop "+f.name)
	f.mu.Unlock()
	return nil
}

func TestLifecycle(t *testing.T) {
	ctx := ctxT(t)
	app := New()
	rec := &recorder{ended: make(chan struct{})}
	app.Notifications().AddObserver(rec, notification.Any, app)
	var mu sync.Mutex
	var log []string
	sub := &fakeSubsystem{name: "extra", log: &log, mu: &mu}

	didStart := app.Notifications().Expect(DidStart, app)
	if err := app.Start(ctx, Options{Listen: lo, ConfigDir: t.TempDir(), Subsystems: []Subsystem{sub}}); err != nil {
		t.Fatal(err)
	}
	if _, err := didStart.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if app.State() != StateStarted || app.Settings() == nil || app.Configuration() == nil {
		t.Fatalf("after Start: state %s, settings %v", app.State(), app.Settings())
	}
	if id := app.Settings().InstanceID.Get(); !strings.HasPrefix(id, "urn:uuid:") {
		t.Errorf("instance_id = %q, want a urn:uuid", id)
	}
	if err := app.Start(ctx, Options{}); !errors.Is(err, ErrWrongState) || !strings.Contains(err.Error(), "started") {
		t.Errorf("second Start: %v", err)
	}

	if err := app.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rec.ended:
	case <-ctx.Done():
		t.Fatal("SIPApplicationDidEnd not delivered")
	}
	want := []string{WillStart, DidStart, WillEnd, DidEnd}
	if got := rec.get(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("notifications %v, want %v", got, want)
	}
	if strings.Join(log, ",") != "start extra,stop extra" {
		t.Errorf("subsystem calls %v", log)
	}
	for _, err := range []error{app.Stop(ctx), app.Start(ctx, Options{})} {
		if !errors.Is(err, ErrWrongState) || !strings.Contains(err.Error(), "ended") {
			t.Errorf("use after Stop: %v, want a wrong-state error naming 'ended'", err)
		}
	}
	if err := app.Settings().Save(); !errors.Is(err, configuration.ErrNotStarted) {
		// Nothing changed, so Save has nothing to write; make a change.
		app.Settings().UserAgent.Set("after stop")
		if err := app.Settings().Save(); !errors.Is(err, configuration.ErrNotStarted) {
			t.Errorf("Save after Stop: %v, want ErrNotStarted", err)
		}
	}
	// rec stays registered on purpose: after Stop no goroutine may be left
	// even so (goleak.VerifyTestMain checks when the tests end).
	goleak.VerifyNone(t, goleak.IgnoreTopFunction("testing.(*T).Run"))
}

func TestStopBeforeStart(t *testing.T) {
	app := New()
	if err := app.Stop(ctxT(t)); !errors.Is(err, ErrWrongState) || !strings.Contains(err.Error(), "new") {
		t.Errorf("Stop before Start: %v", err)
	}
}

// A subsystem that fails to start: the ones before it are stopped again in
// reverse order, the ones after it never start, SIPApplicationDidFail
// carries the error, and the application can be started again.
func TestStartFailureRollsBack(t *testing.T) {
	ctx := ctxT(t)
	app := New()
	var mu sync.Mutex
	var log []string
	boom := errors.New("boom")
	subs := []Subsystem{
		&fakeSubsystem{name: "one", log: &log, mu: &mu},
		&fakeSubsystem{name: "two", log: &log, mu: &mu},
		&fakeSubsystem{name: "bad", startErr: boom, log: &log, mu: &mu},
		&fakeSubsystem{name: "never", log: &log, mu: &mu},
	}
	failed := app.Notifications().Expect(DidFail, app)
	err := app.Start(ctx, Options{Listen: lo, Backend: configuration.NewMemoryBackend(nil), Subsystems: subs})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "start bad") {
		t.Fatalf("Start error = %v", err)
	}
	n, err := failed.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := notification.Data[DidFailData](n)
	if !ok || d.Subsystem != "bad" || !errors.Is(d.Error, boom) {
		t.Fatalf("DidFail data = %#v", n.Data)
	}
	mu.Lock()
	got := strings.Join(log, ",")
	mu.Unlock()
	if got != "start one,start two,start bad,stop two,stop one" {
		t.Fatalf("calls = %s", got)
	}
	if app.State() != StateNew {
		t.Fatalf("state after failed start = %s", app.State())
	}
	// The configuration manager was stopped too: the application can start again.
	if err := app.Start(ctx, Options{Listen: lo, Backend: configuration.NewMemoryBackend(nil)}); err != nil {
		t.Fatalf("Start after a failed start: %v", err)
	}
	if err := app.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

// A corrupt configuration file makes Start fail with the file's path and
// line, and leaves the file alone.
func TestStartWithCorruptConfig(t *testing.T) {
	ctx := ctxT(t)
	backend := configuration.NewFileBackend(t.TempDir() + "/config")
	app := New()
	if err := backend.Save(configuration.Tree{"SIPSimpleSettings": configuration.Tree{"sip": configuration.Tree{"udp_port": "abc"}}}); err != nil {
		t.Fatal(err)
	}
	// A bad value is not a corrupt file: it is reported and the default used.
	loadFailed := app.Notifications().Expect(configuration.ManagerLoadFailed, nil)
	if err := app.Start(ctx, Options{Listen: lo, Backend: backend}); err != nil {
		t.Fatal(err)
	}
	if _, err := loadFailed.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if app.Settings().SIP.UDPPort.Get() != 0 {
		t.Fatal("an unloadable value must leave the default")
	}
	app.Stop(ctx)
}

// Two applications run side by side with separate settings.
func TestTwoApplications(t *testing.T) {
	ctx := ctxT(t)
	alice, bob := New(), New()
	dirA, dirB := t.TempDir(), t.TempDir()
	if err := alice.Start(ctx, Options{Listen: lo, ConfigDir: dirA}); err != nil {
		t.Fatal(err)
	}
	if err := bob.Start(ctx, Options{Listen: lo, ConfigDir: dirB}); err != nil {
		t.Fatal(err)
	}
	alice.Settings().SIP.UDPPort.Set(5070)
	if err := alice.Settings().Save(); err != nil {
		t.Fatal(err)
	}
	if bob.Settings().SIP.UDPPort.Get() != 0 {
		t.Fatal("bob sees alice's setting")
	}
	if alice.Settings().InstanceID.Get() == bob.Settings().InstanceID.Get() {
		t.Fatal("two applications share an instance id")
	}
	aliceID := alice.Settings().InstanceID.Get()
	if err := alice.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := bob.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// The instance id and the port persist.
	again := New()
	if err := again.Start(ctx, Options{Listen: lo, ConfigDir: dirA}); err != nil {
		t.Fatal(err)
	}
	if again.Settings().InstanceID.Get() != aliceID || again.Settings().SIP.UDPPort.Get() != 5070 {
		t.Errorf("reloaded: instance %q port %d", again.Settings().InstanceID.Get(), again.Settings().SIP.UDPPort.Get())
	}
	again.Stop(ctx)
}

// Start and Stop may be called from inside a notification handler.
func TestStopFromHandler(t *testing.T) {
	ctx := ctxT(t)
	app := New()
	stopped := make(chan error, 1)
	cancel := app.Notifications().Observe(DidStart, app, func(notification.Notification) {
		stopped <- app.Stop(ctx)
	})
	defer cancel()
	if err := app.Start(ctx, Options{Listen: lo, Backend: configuration.NewMemoryBackend(nil)}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("Stop from a handler did not return")
	}
	if app.State() != StateEnded {
		t.Fatalf("state %s", app.State())
	}
}

// lo keeps the tests' SIP engines on loopback.
const lo = "127.0.0.1:0"

// The engine starts with the application, on the listen override, and
// stops with it; its notifications come from app.Engine().
func TestEngineSubsystem(t *testing.T) {
	ctx := ctxT(t)
	app := New()
	if err := app.Start(ctx, Options{Listen: lo, Backend: configuration.NewMemoryBackend(nil)}); err != nil {
		t.Fatal(err)
	}
	e := app.Engine()
	udp, ok := e.Listener("udp")
	if !ok || udp.Addr.Addr().String() != "127.0.0.1" || udp.Addr.Port() == 0 {
		t.Fatalf("engine listeners %v", e.Listeners())
	}
	if e.UserAgent() != app.Settings().UserAgent.Get() {
		t.Errorf("engine user agent %q", e.UserAgent())
	}
	ended := app.Notifications().Expect("SIPEngineDidEnd", e)
	if err := app.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ended.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

// A bad listen address or an unusable TLS certificate fails the start,
// naming the value, and the configuration is stopped again.
func TestEngineStartFailures(t *testing.T) {
	ctx := ctxT(t)
	app := New()
	err := app.Start(ctx, Options{Listen: "127.0.0.1:http", Backend: configuration.NewMemoryBackend(nil)})
	if err == nil || !strings.Contains(err.Error(), `"127.0.0.1:http"`) || !strings.Contains(err.Error(), "start engine") {
		t.Fatalf("bad listen: %v", err)
	}
	backend := configuration.NewMemoryBackend(configuration.Tree{"SIPSimpleSettings": configuration.Tree{
		"tls": configuration.Tree{"certificate": "/nonexistent/cert.pem"}}})
	err = app.Start(ctx, Options{Listen: lo, Backend: backend})
	if err == nil || !strings.Contains(err.Error(), "tls.certificate") {
		t.Fatalf("bad certificate: %v", err)
	}
	if app.State() != StateNew {
		t.Fatalf("state %s", app.State())
	}
}

// msrp.local_use_tls with a certificate in tls.certificate makes chat
// streams listen with TLS (msrps: URIs); msrp.local_use_tls off keeps TCP.
func TestMSRPTLSFromSettings(t *testing.T) {
	pemFile := filepath.Join(t.TempDir(), "cert.pem")
	writeSelfSignedPEM(t, pemFile)
	for _, useTLS := range []bool{true, false} {
		tree := configuration.Tree{settings.ID: configuration.Tree{
			"tls":  configuration.Tree{"certificate": pemFile},
			"msrp": configuration.Tree{"local_use_tls": strconv.FormatBool(useTLS)},
		}}
		app := New()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := app.Start(ctx, Options{Listen: "127.0.0.1:0", Backend: configuration.NewMemoryBackend(tree)}); err != nil {
			cancel()
			t.Fatal(err)
		}
		c, err := app.Sessions().NewChat("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if got := c.LocalURI().Secure; got != useTLS {
			t.Errorf("local_use_tls %v: chat URI %v", useTLS, c.LocalURI())
		}
		c.End()
		app.Stop(ctx)
		cancel()
	}
}

// writeSelfSignedPEM writes a self-signed certificate for 127.0.0.1 and
// its key to path, the format tls.certificate takes.
func writeSelfSignedPEM(t *testing.T, path string) {
	t.Helper()
	c := interop.GenerateTestCertificate(t, t.TempDir())
	if err := os.WriteFile(path, append(append([]byte(nil), c.CertPEM...), c.KeyPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
}
