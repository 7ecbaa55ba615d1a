package bench

import (
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"go.uber.org/goleak"
)

var (
	flagAccounts    = flag.Int("accounts", 0, "accounts to register at once (0 skips TestRegistrationScale)")
	flagChildren    = flag.Int("children", 2, "Kamailio UDP worker processes")
	flagShm         = flag.Int("shm", 0, "Kamailio shared memory in MB (0: 64)")
	flagRuns        = flag.Int("runs", 1, "runs, each with a fresh Kamailio, Engine and Manager")
	flagDeadline    = flag.Duration("deadline", 60*time.Second, "bound for registering, and for unregistering, every account")
	flagStrict      = flag.Bool("strict", false, "fail on a failed unregistration instead of counting it")
	flagJSON        = flag.String("json", "", "append one JSON line per run to this file")
	flagHeapProfile = flag.String("heapprofile", "", "write a heap profile taken while every account is registered (of the last run)")
)

// lateResponses counts sipgo's "Unhandled sip response" log lines: responses
// whose client transaction was gone, i.e. answers to retransmissions.
var lateResponses atomic.Int64

// countingHandler counts sipgo's unhandled-response lines and passes the
// rest on at warning level and above.
type countingHandler struct{ slog.Handler }

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "Unhandled sip response") {
		lateResponses.Add(1)
		return nil
	}
	if r.Level < slog.LevelWarn {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func TestMain(m *testing.M) {
	// Set before sipgo runs anything (sip.SetDefaultLogger is not safe
	// to call later).
	sip.SetDefaultLogger(slog.New(countingHandler{slog.Default().Handler()}))
	flag.Parse()
	if *flagHeapProfile != "" {
		runtime.MemProfileRate = 4096 // fine-grained, for a per-account breakdown
	}
	goleak.VerifyTestMain(m)
}

// TestRegistrationScale registers -accounts accounts at once against
// Kamailio, -runs times, and logs the times and the memory per account.
// README.md has the commands behind docs/benchmarks.md.
func TestRegistrationScale(t *testing.T) {
	if *flagAccounts <= 0 {
		t.Skip("set -accounts=N to run (see bench/README.md)")
	}
	for run := 1; run <= *flagRuns; run++ {
		var res ScaleResult
		late := lateResponses.Load()
		ok := t.Run("", func(t *testing.T) {
			c := ScaleConfig{Accounts: *flagAccounts, Deadline: *flagDeadline, KamailioChildren: *flagChildren,
				KamailioSharedMemoryMB: *flagShm, CountUnregisterFailures: !*flagStrict}
			if run == *flagRuns {
				c.HeapProfile = *flagHeapProfile
			}
			res = RunRegistrationScale(t, c)
		})
		if !ok {
			return
		}
		late = lateResponses.Load() - late
		t.Logf("run %d: %v\n  %d responses to retransmissions (sipgo: unhandled response)", run, res, late)
		if res.UnregisterFailures > 0 {
			t.Logf("run %d: %d unregistrations failed, e.g. %s", run, res.UnregisterFailures, res.UnregisterFailure)
		}
		if *flagJSON != "" {
			appendJSON(t, *flagJSON, res, late)
		}
	}
}

func appendJSON(t *testing.T, path string, r ScaleResult, late int64) {
	phase := func(p Phase) map[string]any {
		return map[string]any{"udp_datagrams": p.Datagrams, "udp_drops": p.Drops, "udp_drops_kamailio": p.KamailioDrops,
			"udp_drops_engine": p.EngineDrops, "cpu_self_s": p.SelfCPU.Seconds(), "cpu_kamailio_s": p.KamailioCPU.Seconds(),
			"cpu_other_s": p.OtherCPU.Seconds()}
	}
	line, err := json.Marshal(map[string]any{
		"time": time.Now().UTC().Format(time.RFC3339), "accounts": r.Accounts,
		"kamailio_children": r.KamailioChildren, "kamailio_shm_mb": r.KamailioShmMB,
		"registered_s": r.Registered.Seconds(), "registered_p50_s": r.RegisteredP50.Seconds(),
		"registered_p90_s": r.RegisteredP90.Seconds(), "start_returned_s": r.StartReturned.Seconds(),
		"register":                  phase(r.Register),
		"heap_alloc_kb_per_account": r.HeapPerAccount() / 1024, "heap_inuse_kb_per_account": r.HeapInusePerAccount() / 1024,
		"stack_kb_per_account": r.StackPerAccount() / 1024, "goroutines_per_account": r.GoroutinesPerAccount(),
		"unregistered_s": r.Unregistered.Seconds(), "stop_returned_s": r.StopReturned.Seconds(),
		"unregister_failures": r.UnregisterFailures, "unregister": phase(r.Unregister),
		"late_responses": late,
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(append(line, '\n')); err != nil {
		t.Fatal(err)
	}
}
