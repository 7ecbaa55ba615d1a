// Package bench measures the SDK at scale against real peers. It holds the
// registration-at-scale harness, RunRegistrationScale, shared by the CI
// test in account/scale_test.go (1,000 accounts) and the benchmark test in
// this directory (any number of accounts; README.md has the commands).
//
// It is test support: it needs a testing.TB and starts Kamailio through
// internal/interop, on 127.0.0.1 only.
package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sipsimple-go/sipsimple/account"
	cfg "github.com/sipsimple-go/sipsimple/configuration"
	"github.com/sipsimple-go/sipsimple/configuration/settings"
	"github.com/sipsimple-go/sipsimple/core"
	"github.com/sipsimple-go/sipsimple/internal/interop"
	"github.com/sipsimple-go/sipsimple/notification"
)

// ScaleConfig configures RunRegistrationScale.
type ScaleConfig struct {
	// Accounts is the number of accounts registered at once.
	Accounts int
	// Deadline bounds the registration of every account, and separately
	// their unregistration; default 60 s.
	Deadline time.Duration
	// KamailioChildren is the number of Kamailio UDP worker processes;
	// default 2.
	KamailioChildren int
	// KamailioSharedMemoryMB is Kamailio's shared memory; default 64
	// (enough for 10,000 registered users).
	KamailioSharedMemoryMB int
	// RegisterInterval is every account's sip.register_interval; default
	// one hour, so that no refresh happens during a run.
	RegisterInterval time.Duration
	// CountUnregisterFailures records the accounts whose unregistration
	// failed (SIPAccountRegistrationDidNotEnd, then DidEnd with a code
	// other than 200) in ScaleResult.UnregisterFailures instead of
	// failing the test.
	CountUnregisterFailures bool
	// MaxInFlight is the Manager's cap on REGISTERs in flight
	// (account.Config.MaxRegistrationsInFlight); 0 means its default.
	MaxInFlight int
	// HeapProfile, when set, is the file that receives a heap profile
	// (pprof) taken while every account is registered.
	HeapProfile string
}

// ScaleResult holds the measurements of one run.
type ScaleResult struct {
	Accounts         int
	KamailioChildren int
	KamailioShmMB    int

	// Registered is the time from calling Manager.Start to the timestamp
	// of the last SIPAccountRegistrationDidSucceed; RegisteredP50 and
	// RegisteredP90 are the times until half and 90% of the accounts had
	// registered; StartReturned is how long Manager.Start took to return.
	Registered, RegisteredP50, RegisteredP90, StartReturned time.Duration
	// Register is what the system counted during the registration.
	Register Phase

	// Unregistered is the time from calling Manager.Stop to the last
	// SIPAccountRegistrationDidEnd; StopReturned is when Stop returned.
	Unregistered, StopReturned time.Duration
	// Unregister is what the system counted from calling Manager.Stop
	// until the last SIPAccountRegistrationDidEnd.
	Unregister Phase
	// UnregisterFailures counts the accounts whose unregistration failed
	// (only with ScaleConfig.CountUnregisterFailures); UnregisterFailure
	// describes the first one.
	UnregisterFailures int
	UnregisterFailure  string

	// Memory after a forced GC, before the accounts were created and
	// while every account was registered.
	MemBefore, MemRegistered MemSample
}

// HeapPerAccount is the HeapAlloc growth per registered account, in bytes.
func (r ScaleResult) HeapPerAccount() float64 {
	return perAccount(r.MemRegistered.HeapAlloc, r.MemBefore.HeapAlloc, r.Accounts)
}

// HeapInusePerAccount is the HeapInuse growth per registered account.
func (r ScaleResult) HeapInusePerAccount() float64 {
	return perAccount(r.MemRegistered.HeapInuse, r.MemBefore.HeapInuse, r.Accounts)
}

// StackPerAccount is the goroutine stack growth per registered account.
func (r ScaleResult) StackPerAccount() float64 {
	return perAccount(r.MemRegistered.StackInuse, r.MemBefore.StackInuse, r.Accounts)
}

// GoroutinesPerAccount is the goroutine count growth per registered account.
func (r ScaleResult) GoroutinesPerAccount() float64 {
	return float64(r.MemRegistered.Goroutines-r.MemBefore.Goroutines) / float64(r.Accounts)
}

func perAccount(after, before uint64, n int) float64 {
	return (float64(after) - float64(before)) / float64(n)
}

// String formats the result for a test log.
func (r ScaleResult) String() string {
	return fmt.Sprintf("%d accounts, Kamailio with %d UDP children and %d MB shm:\n"+
		"  registered in %v (50%% after %v, 90%% after %v; Manager.Start returned after %v); %v\n"+
		"  per account: heap %.1f KB (HeapAlloc; HeapInuse %.1f KB), goroutine stacks %.1f KB, %.2f goroutines\n"+
		"  unregistered in %v (Manager.Stop returned after %v; %d failed); %v",
		r.Accounts, r.KamailioChildren, r.KamailioShmMB,
		r.Registered.Round(time.Millisecond), r.RegisteredP50.Round(time.Millisecond), r.RegisteredP90.Round(time.Millisecond),
		r.StartReturned.Round(time.Millisecond), r.Register,
		r.HeapPerAccount()/1024, r.HeapInusePerAccount()/1024, r.StackPerAccount()/1024, r.GoroutinesPerAccount(),
		r.Unregistered.Round(time.Millisecond), r.StopReturned.Round(time.Millisecond), r.UnregisterFailures, r.Unregister)
}

// fixedRoute is a Resolver that sends every registration to one route.
type fixedRoute core.Route

func (f fixedRoute) Routes(context.Context, core.SIPURI, []string) ([]core.Route, error) {
	return []core.Route{core.Route(f)}, nil
}

// User returns the Kamailio user name of account i (0-based): u00000, ...
func User(i int) string { return fmt.Sprintf("u%05d", i) }

// Password returns the password of account i.
func Password(i int) string { return fmt.Sprintf("pw-%05d-secret", i) }

// RunRegistrationScale starts a Kamailio with c.Accounts users, one Engine
// (UDP only, 127.0.0.1) and an account Manager over a configuration memory
// backend holding c.Accounts enabled accounts (sip.register_interval
// c.RegisterInterval, sip.transport udp, routed to Kamailio's UDP port).
// It starts the Manager, which registers every account at once, and waits,
// bounded by c.Deadline, until every account has posted
// SIPAccountRegistrationDidSucceed (failing at the first
// SIPAccountRegistrationDidFail); measures the heap with every account
// registered; then stops the Manager and waits, again bounded, until every
// account has posted SIPAccountRegistrationDidEnd with code 200. Failures
// fail t. Everything it starts is stopped when it returns (Kamailio by t's
// cleanup).
func RunRegistrationScale(t testing.TB, c ScaleConfig) ScaleResult {
	t.Helper()
	if c.Accounts <= 0 {
		t.Fatalf("bench: %d accounts", c.Accounts)
	}
	if c.Deadline <= 0 {
		c.Deadline = 60 * time.Second
	}
	if c.KamailioChildren <= 0 {
		c.KamailioChildren = 2
	}
	if c.KamailioSharedMemoryMB <= 0 {
		c.KamailioSharedMemoryMB = 64
	}
	if c.RegisterInterval <= 0 {
		c.RegisterInterval = time.Hour
	}
	res := ScaleResult{Accounts: c.Accounts, KamailioChildren: c.KamailioChildren, KamailioShmMB: c.KamailioSharedMemoryMB}

	users := make(map[string]string, c.Accounts)
	for i := 0; i < c.Accounts; i++ {
		users[User(i)] = Password(i)
	}
	k := interop.StartKamailio(t, interop.KamailioConfig{
		Users:          users,
		UsersFile:      true, // one table file rather than a statement per user
		DisableTLS:     true,
		LogLevel:       "error", // no log line per request
		Children:       c.KamailioChildren,
		SharedMemoryMB: c.KamailioSharedMemoryMB,
	})
	host, port, _ := net.SplitHostPort(k.UDPAddr())
	kamailioPort, _ := strconv.Atoi(port)
	route := fixedRoute{Address: host, Port: kamailioPort, Transport: "udp"}

	ctx := context.Background()
	center := notification.NewCenter()
	defer center.Close()
	engine := core.NewEngine(center, core.EngineConfig{LocalIP: interop.Loopback, Transports: []string{"udp"}})
	if err := engine.Start(ctx); err != nil {
		t.Fatalf("bench: engine: %v", err)
	}
	defer engine.Stop(ctx)
	l, _ := engine.Listener("udp")
	enginePort := int(l.Addr.Port())

	ids := make(map[string]bool, c.Accounts)
	for i := 0; i < c.Accounts; i++ {
		ids[User(i)+"@"+k.Domain] = true
	}
	succeeded := newCollector(account.RegistrationDidSucceed, ids)
	failed := newCollector(account.RegistrationDidFail, ids)
	ended := newCollector(account.RegistrationDidEnd, ids)
	notEnded := newCollector(account.RegistrationDidNotEnd, ids)
	for _, col := range []*collector{succeeded, failed, ended, notEnded} {
		if err := center.AddObserver(col, col.name, nil); err != nil {
			t.Fatalf("bench: %v", err)
		}
	}

	res.MemBefore = sampleMemory()

	// The accounts as a configuration file would store them.
	stored := make(cfg.Tree, c.Accounts)
	interval := strconv.Itoa(int(c.RegisterInterval / time.Second))
	for i := 0; i < c.Accounts; i++ {
		stored[User(i)+"@"+k.Domain] = cfg.Tree{
			"enabled": "true",
			"auth":    cfg.Tree{"password": Password(i)},
			"sip": cfg.Tree{
				"register_interval": interval,
				"retry_interval":    "3600", // a failed account must not retry during the run
				"transport":         "udp",
			},
		}
	}
	config := cfg.NewManager(cfg.NewMemoryBackend(cfg.Tree{account.Group: stored}), center, nil)
	stored = nil // the backend holds its own copy
	if err := config.Start(); err != nil {
		t.Fatalf("bench: configuration: %v", err)
	}
	defer config.Stop()
	global, err := settings.New(config)
	if err != nil {
		t.Fatalf("bench: settings: %v", err)
	}
	mgr := account.NewManager(account.Config{Center: center, Configuration: config, Settings: global,
		Engine: engine, Resolver: route, MaxRegistrationsInFlight: c.MaxInFlight})

	regCtx, cancel := context.WithTimeout(ctx, c.Deadline)
	defer cancel()
	start := readCounters(kamailioPort, enginePort)
	t0 := time.Now()
	if err := mgr.Start(regCtx); err != nil {
		t.Fatalf("bench: Manager.Start: %v", err)
	}
	res.StartReturned = time.Since(t0)

	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		// Registered accounts post SIPAccountRegistrationDidEnd (all of
		// them unless the registration failed).
		registered := map[string]bool{}
		got, _, _, _ := succeeded.snapshot()
		for a := range got {
			registered[a.ID()] = true
		}
		allEnded := ended.doneFor(registered)
		sctx, scancel := context.WithTimeout(ctx, c.Deadline)
		defer scancel()
		start := readCounters(kamailioPort, enginePort)
		t1 := time.Now()
		if err := mgr.Stop(sctx); err != nil {
			t.Errorf("bench: Manager.Stop: %v", err)
		}
		res.StopReturned = time.Since(t1)
		select {
		case <-allEnded:
			_, _, _, last := ended.snapshot()
			res.Unregistered = last.Sub(t1)
		case <-sctx.Done():
			missing, n := ended.missingOf(registered, 5)
			t.Errorf("bench: %d of %d registered accounts did not post %s within %v after Manager.Stop (e.g. %v); %s",
				n, len(registered), account.RegistrationDidEnd, c.Deadline, missing, notEnded.describe(5))
		}
		res.Unregister = readCounters(kamailioPort, enginePort).since(start)
	}
	defer stop() // also when failing: unregister what is registered

	progress := func() string {
		_, _, _, last := succeeded.snapshot()
		return fmt.Sprintf("after %v: %d accounts registered, the last %v after the start; %v",
			time.Since(t0).Round(time.Millisecond), succeeded.count(), last.Sub(t0).Round(time.Millisecond),
			readCounters(kamailioPort, enginePort).since(start))
	}
	select {
	case <-succeeded.done:
	case <-failed.first:
		t.Fatalf("bench: registration failed: %s (%s)", failed.describe(5), progress())
	case <-regCtx.Done():
		missing, n := succeeded.missingOf(ids, 5)
		t.Fatalf("bench: %d of %d accounts did not post %s within %v (e.g. %v); %s (%s)",
			n, c.Accounts, account.RegistrationDidSucceed, c.Deadline, missing, failed.describe(5), progress())
	}
	res.Register = readCounters(kamailioPort, enginePort).since(start)
	got, dups, strangers, last := succeeded.snapshot()
	res.Registered = last.Sub(t0)
	times := make([]time.Duration, 0, len(got))
	for _, n := range got {
		times = append(times, n.Timestamp.Sub(t0))
	}
	slices.Sort(times)
	res.RegisteredP50, res.RegisteredP90 = times[len(times)/2], times[len(times)*9/10]

	res.MemRegistered = sampleMemory()
	if c.HeapProfile != "" {
		writeHeapProfile(t, c.HeapProfile)
	}
	t.Logf("bench: %d accounts registered in %v (50%% after %v, 90%% after %v); %v; per account: heap %.1f KB, stacks %.1f KB",
		c.Accounts, res.Registered.Round(time.Millisecond), res.RegisteredP50.Round(time.Millisecond),
		res.RegisteredP90.Round(time.Millisecond), res.Register, res.HeapPerAccount()/1024, res.StackPerAccount()/1024)

	if dups != 0 || len(strangers) != 0 {
		t.Errorf("bench: %d duplicate %s, from unexpected senders: %v", dups, account.RegistrationDidSucceed, strangers)
	}
	for a, n := range got {
		// Kamailio grants the interval asked for but reports the time
		// left, which is less when it answers a retransmission.
		d, ok := notification.Data[account.RegistrationDidSucceedData](n)
		if !ok || d.Code != 200 || d.Expires > c.RegisterInterval || d.Expires < c.RegisterInterval-c.Deadline || !a.Registered() {
			t.Fatalf("bench: %s: DidSucceed %+v, registered %v (want 200, expires %v)", a.ID(), n.Data, a.Registered(), c.RegisterInterval)
		}
	}

	stop()
	gotEnd, dups, strangers, _ := ended.snapshot()
	if dups != 0 || len(strangers) != 0 {
		t.Errorf("bench: %d duplicate %s, from unexpected senders: %v", dups, account.RegistrationDidEnd, strangers)
	}
	for a, n := range gotEnd {
		if d, ok := notification.Data[account.RegistrationDidEndData](n); !ok || d.Code != 200 || a.Registered() {
			msg := fmt.Sprintf("%s: DidEnd %+v, registered %v (want code 200: Kamailio removed the binding)", a.ID(), n.Data, a.Registered())
			if !c.CountUnregisterFailures {
				t.Errorf("bench: %s", msg)
				break
			}
			if res.UnregisterFailures == 0 {
				res.UnregisterFailure = msg
			}
			res.UnregisterFailures++
		}
	}
	if notEnded.count() != 0 && !c.CountUnregisterFailures {
		t.Errorf("bench: %s", notEnded.describe(5))
	}
	if failed.count() != 0 {
		t.Errorf("bench: %s", failed.describe(5))
	}
	return res
}

func writeHeapProfile(t testing.TB, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		t.Fatalf("bench: heap profile: %v", err)
	}
}
