package interop

import (
	"context"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SIPpOptionsUAS is a SIPp scenario that answers each OPTIONS it receives
// with 200 OK (one call per OPTIONS); testdata/sipp/options_uas.xml.
//
//go:embed testdata/sipp/options_uas.xml
var SIPpOptionsUAS string

// SIPpOptionsUAC is a SIPp scenario that sends an OPTIONS for
// sip:[service]@remote and expects 200 OK (one call per OPTIONS);
// testdata/sipp/options_uac.xml.
//
//go:embed testdata/sipp/options_uac.xml
var SIPpOptionsUAC string

// SIPp exit codes (see the SIPp documentation).
const (
	SIPpExitAllCallsOK    = 0   // all calls were successful
	SIPpExitSomeCallsFail = 1   // at least one call failed
	SIPpExitInternalCmd   = 97  // exit on internal command
	SIPpExitNoCalls       = 99  // normal exit without calls processed
	SIPpExitFatal         = 255 // -1: fatal error
	SIPpExitBindFailed    = 254 // -2: fatal error binding a socket
)

// SIPpOptions configures RunSIPp.
type SIPpOptions struct {
	// Scenario is the path of a scenario XML file. Exactly one of
	// Scenario, ScenarioXML and Builtin must be set.
	Scenario string
	// ScenarioXML is the content of a scenario, written to the temporary
	// directory (e.g. SIPpOptionsUAS).
	ScenarioXML string
	// Builtin is the name of a scenario embedded in SIPp ("uac", "uas",
	// "regexp", ...), passed with -sn.
	Builtin string

	// Remote is the host:port SIPp sends to (client scenarios). Leave it
	// empty for a server (UAS) scenario.
	Remote string
	// LocalPort is SIPp's -p. Zero picks a free port on 127.0.0.1, and
	// RunSIPp retries with another one if SIPp cannot bind it.
	LocalPort int
	// Transport is SIPp's -t: "u1" (UDP, default), "un", "t1" (TCP),
	// "tn", "l1" (TLS), ...
	Transport string
	// Service is the user part of the Request-URI ([service], -s).
	Service string

	// Calls is -m, the number of calls after which SIPp exits; default 1.
	// Negative means no -m (run until stopped or Timeout).
	Calls int
	// Rate is -r in calls per RatePeriod (default SIPp's 10 per second).
	Rate float64
	// RatePeriod is -rp; zero keeps SIPp's default of one second.
	RatePeriod time.Duration
	// Limit is -l, the maximum number of simultaneous calls (0: SIPp's
	// default).
	Limit int

	// Timeout is SIPp's global -timeout, with -timeout_error so that it
	// counts as a failure; default 60s. It bounds every SIPp run.
	Timeout time.Duration

	// TraceMessages enables -trace_msg (all SIP messages logged to
	// messages.log, shown on test failure). Keep it off for load tests.
	TraceMessages bool

	// Args are extra command-line arguments, e.g. "-aa", "-inf", file.
	Args []string
}

// SIPp is a running SIPp process, managed by the test: it runs in the
// foreground (no -bg) and is killed by the test cleanup if still running.
type SIPp struct {
	// Port is SIPp's local port on 127.0.0.1 (-p).
	Port int
	// Dir is the temporary directory with the scenario and trace files.
	Dir string
	// ScenarioFile is the scenario passed with -sf ("" with Builtin).
	ScenarioFile string
	// StatFile (-trace_stat), ErrorFile (-trace_err), ScreenFile
	// (-trace_screen) and MessageFile (-trace_msg, if enabled) are the
	// trace files in Dir.
	StatFile, ErrorFile, ScreenFile, MessageFile string

	transport string
	proc      *process
}

// SIPpResult is the outcome of a SIPp run.
type SIPpResult struct {
	// ExitCode is SIPp's exit status (SIPpExit...).
	ExitCode int
	// Successful and Failed are the cumulative call counters of the last
	// statistics row (SuccessfulCall(C), FailedCall(C)); -1 if unknown.
	Successful, Failed int
	// Created is the cumulative number of calls created
	// (TotalCallCreated); -1 if unknown.
	Created int
	// Stats is the last row of the -trace_stat CSV, by column name.
	Stats map[string]string
	// Screen is the final statistics screen (-trace_screen).
	Screen string
}

// OK reports whether SIPp exited with 0 and counted no failed call.
func (r SIPpResult) OK() bool { return r.ExitCode == SIPpExitAllCallsOK && r.Failed <= 0 }

// String summarises the result.
func (r SIPpResult) String() string {
	return fmt.Sprintf("sipp exit %d: %d created, %d successful, %d failed", r.ExitCode, r.Created, r.Successful, r.Failed)
}

// RunSIPp starts SIPp on 127.0.0.1 with the given scenario in the
// foreground and returns once it runs: for a server scenario (no Remote)
// once its port is bound, so a client can send to s.Addr() right away.
// Wait collects the result; the test cleanup kills SIPp if it still runs
// and, if the test failed, logs its output, error log and message log.
//
// If sipp is not installed the test fails under CI=true and is skipped
// otherwise.
func RunSIPp(t testing.TB, opts SIPpOptions) *SIPp {
	t.Helper()
	bin := Require(t, "sipp")
	dir := t.TempDir()
	s := &SIPp{
		Dir:        dir,
		StatFile:   filepath.Join(dir, "stats.csv"),
		ErrorFile:  filepath.Join(dir, "errors.log"),
		ScreenFile: filepath.Join(dir, "screen.log"),
		transport:  opts.Transport,
	}
	if s.transport == "" {
		s.transport = "u1"
	}

	n := 0
	for _, set := range []bool{opts.Scenario != "", opts.ScenarioXML != "", opts.Builtin != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("interop: SIPpOptions: set exactly one of Scenario, ScenarioXML and Builtin")
	}
	switch {
	case opts.Scenario != "":
		p, err := filepath.Abs(opts.Scenario)
		if err != nil {
			t.Fatalf("interop: %v", err)
		}
		s.ScenarioFile = p
	case opts.ScenarioXML != "":
		s.ScenarioFile = filepath.Join(dir, "scenario.xml")
		if err := os.WriteFile(s.ScenarioFile, []byte(opts.ScenarioXML), 0o644); err != nil {
			t.Fatalf("interop: %v", err)
		}
	}

	args := []string{"-nostdin", "-i", Loopback, "-t", s.transport,
		"-trace_stat", "-stf", s.StatFile, "-fd", "1",
		"-trace_err", "-error_file", s.ErrorFile,
		"-trace_screen", "-screen_file", s.ScreenFile,
	}
	if s.ScenarioFile != "" {
		args = append(args, "-sf", s.ScenarioFile)
	} else {
		args = append(args, "-sn", opts.Builtin)
	}
	if opts.TraceMessages {
		s.MessageFile = filepath.Join(dir, "messages.log")
		args = append(args, "-trace_msg", "-message_file", s.MessageFile)
	}
	calls := opts.Calls
	if calls == 0 {
		calls = 1
	}
	if calls > 0 {
		args = append(args, "-m", strconv.Itoa(calls))
	}
	if opts.Rate > 0 {
		args = append(args, "-r", strconv.FormatFloat(opts.Rate, 'f', -1, 64))
	}
	if opts.RatePeriod > 0 {
		args = append(args, "-rp", fmt.Sprintf("%dms", opts.RatePeriod.Milliseconds()))
	}
	if opts.Limit > 0 {
		args = append(args, "-l", strconv.Itoa(opts.Limit))
	}
	if opts.Service != "" {
		args = append(args, "-s", opts.Service)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	args = append(args, "-timeout", fmt.Sprintf("%ds", int(math.Ceil(timeout.Seconds()))), "-timeout_error")
	args = append(args, opts.Args...)
	if opts.Remote != "" {
		args = append(args, opts.Remote)
	}

	network := "udp"
	if strings.HasPrefix(s.transport, "t") || strings.HasPrefix(s.transport, "l") {
		network = "tcp"
	}
	const attempts = 5
	for attempt := 1; ; attempt++ {
		s.Port = opts.LocalPort
		if s.Port == 0 {
			s.Port = FreePort(t, network)
		}
		out := newOutput()
		cmd := exec.Command(bin, append([]string{"-p", strconv.Itoa(s.Port)}, args...)...)
		cmd.Dir = dir
		proc, err := startProcess("sipp", cmd, out)
		if err != nil {
			t.Fatalf("interop: %v", err)
		}
		s.proc = proc
		t.Cleanup(func() {
			if err := proc.stop(); err != nil {
				t.Errorf("interop: %v", err)
			}
			if t.Failed() {
				t.Logf("---- sipp (port %d) output ----\n%s\n---- sipp error log ----\n%s\n---- sipp message log ----\n%s\n---- end of sipp logs ----",
					s.Port, out.Tail(32<<10), tailFile(s.ErrorFile, 32<<10), tailFile(s.MessageFile, 64<<10))
			}
		})
		if opts.Remote != "" && network == "tcp" {
			return s // a TCP client has no listening socket to wait for
		}
		err = s.waitBound(network, opts.Remote != "", 10*time.Second)
		if err == nil {
			return s
		}
		if code, exited := proc.exitCode(); exited && code == SIPpExitBindFailed && opts.LocalPort == 0 && attempt < attempts {
			t.Logf("interop: sipp could not bind port %d, retrying with another", s.Port)
			continue
		}
		t.Fatalf("interop: sipp did not start: %v", err)
	}
}

// waitBound waits until SIPp has bound its port on 127.0.0.1, as shown by
// /proc/net/udp or /proc/net/tcp (a listening socket), or until it exits.
// It polls every 10ms, without binding the port itself (which could make
// SIPp's own bind fail).
func (s *SIPp) waitBound(network string, client bool, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if code, exited := s.proc.exitCode(); exited {
			// A fast client may be done already; a server cannot be, and
			// SIPp also exits with 1 when it cannot load the scenario.
			if client && (code == SIPpExitAllCallsOK || code == SIPpExitSomeCallsFail) && fileExists(s.StatFile) {
				return nil
			}
			return fmt.Errorf("sipp exited with code %d", code)
		}
		bound, err := portBound(network, s.Port)
		if err != nil {
			return err
		}
		if bound {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sipp did not bind %s port %d within %v", network, s.Port, timeout)
		}
		select {
		case <-tick.C:
		case <-s.proc.done:
		}
	}
}

// portBound reports whether some socket is bound to port on 127.0.0.1 or
// 0.0.0.0 (for "tcp": listening), according to /proc/net/{udp,tcp}.
func portBound(network string, port int) (bool, error) {
	b, err := os.ReadFile("/proc/net/" + network)
	if err != nil {
		return false, fmt.Errorf("cannot tell whether port %d is bound: %w", port, err)
	}
	want := fmt.Sprintf(":%04X", port)
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		local, state := f[1], f[3]
		if !strings.HasSuffix(local, want) {
			continue
		}
		if ip := strings.TrimSuffix(local, want); ip != "0100007F" && ip != "00000000" {
			continue
		}
		if network == "tcp" && state != "0A" { // TCP_LISTEN
			continue
		}
		return true, nil
	}
	return false, nil
}

// Addr returns SIPp's local address, "127.0.0.1:port".
func (s *SIPp) Addr() string { return net.JoinHostPort(Loopback, strconv.Itoa(s.Port)) }

// Output returns SIPp's standard output and error (its screens).
func (s *SIPp) Output() *Output { return s.proc.out }

// Stop kills SIPp now (SIGTERM, then SIGKILL); see also Wait.
func (s *SIPp) Stop() error { return s.proc.stop() }

// Wait waits until SIPp exits or ctx is done, and returns its exit status
// and statistics. If ctx is done first, SIPp is stopped and ctx.Err() is
// returned together with whatever statistics it had written.
func (s *SIPp) Wait(ctx context.Context) (SIPpResult, error) {
	var ctxErr error
	select {
	case <-s.proc.done:
	case <-ctx.Done():
		ctxErr = ctx.Err()
		// SIGUSR1 asks SIPp to quit softly and dump its statistics.
		s.proc.signal(syscall.SIGUSR1)
		select {
		case <-s.proc.done:
		case <-time.After(2 * time.Second):
		}
		_ = s.proc.stop()
	}
	r := SIPpResult{Successful: -1, Failed: -1, Created: -1}
	r.ExitCode, _ = s.proc.exitCode()
	if err := s.proc.waitErr(); err != nil && ctxErr == nil {
		ctxErr = err
	}
	r.Screen = readFileString(s.ScreenFile)
	if stats, err := lastStatsRow(s.StatFile); err == nil {
		r.Stats = stats
		r.Successful = atoiOr(stats["SuccessfulCall(C)"], -1)
		r.Failed = atoiOr(stats["FailedCall(C)"], -1)
		r.Created = atoiOr(stats["TotalCallCreated"], -1)
	}
	if r.Successful < 0 {
		// Fall back on the final screen.
		r.Successful = screenCounter(r.Screen, "Successful call")
		r.Failed = screenCounter(r.Screen, "Failed call")
		r.Created = screenCounter(r.Screen, "Total Calls created")
	}
	return r, ctxErr
}

// WaitOK waits (up to 20 s) for SIPp to end a one-call scenario and fails
// the test unless it exited 0 with that call successful, i.e. every
// check_it regexp matched. The screen and message log go into the failure.
func (s *SIPp) WaitOK(t testing.TB) SIPpResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := s.Wait(ctx)
	if err != nil {
		t.Fatalf("sipp: %v", err)
	}
	if !res.OK() || res.Successful != 1 {
		t.Fatalf("sipp: %v, want exit 0 with 1 successful call\n%s", res, res.Screen)
	}
	return res
}

// lastStatsRow parses SIPp's -trace_stat file (";"-separated, header row
// first) and returns its last row by column name.
func lastStatsRow(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = ';'
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	var header, last []string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if header == nil {
			header = rec
			continue
		}
		last = rec
	}
	if last == nil {
		return nil, fmt.Errorf("%s: no statistics row", path)
	}
	m := make(map[string]string, len(header))
	for i, name := range header {
		if i < len(last) && name != "" {
			m[name] = strings.TrimSpace(last[i])
		}
	}
	return m, nil
}

// screenCounter reads the cumulative value of a counter line of SIPp's
// statistics screen, e.g. "  Successful call        |   0   |   1".
func screenCounter(screen, name string) int {
	v := -1
	for _, line := range strings.Split(screen, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), name) {
			continue
		}
		cols := strings.Split(line, "|")
		if len(cols) == 3 {
			v = atoiOr(strings.Fields(cols[2] + " x")[0], v)
		}
	}
	return v
}

func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return def
	}
	return n
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func readFileString(path string) string {
	if path == "" {
		return ""
	}
	b, _ := os.ReadFile(path)
	return string(b)
}

func tailFile(path string, n int) string {
	s := readFileString(path)
	if len(s) > n {
		return "[...]" + s[len(s)-n:]
	}
	return s
}
