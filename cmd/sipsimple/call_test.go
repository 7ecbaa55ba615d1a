package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sipsimple-go/sipsimple/audio"
	"github.com/sipsimple-go/sipsimple/internal/interop"
)

// procTimeout bounds every wait on a running sipsimple.
const procTimeout = 20 * time.Second

// proc is a sipsimple running in the background, its stdout read line by
// line so that tests can wait for a line.
type proc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr bytes.Buffer // read only after the process ended

	mu      sync.Mutex
	lines   []string
	changed chan struct{}
	read    chan struct{} // closed at EOF of stdout
	exited  chan struct{}
	code    int
}

func startCLI(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, changed: make(chan struct{}), read: make(chan struct{}), exited: make(chan struct{})}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Stderr = &p.stderr
	stdin, err := p.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdin = stdin
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.read)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			close(p.changed)
			p.changed = make(chan struct{})
			p.mu.Unlock()
		}
	}()
	go func() {
		<-p.read
		err := p.cmd.Wait()
		p.code = 0
		if ee, ok := err.(*exec.ExitError); ok {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			if t.Failed() {
				p.cmd.Process.Signal(syscall.SIGQUIT)
			} else {
				p.cmd.Process.Kill()
			}
			<-p.exited
		}
		if t.Failed() {
			t.Logf("%s stdout:\n%s\n%s stderr:\n%s", p.name, p.output(), p.name, p.stderr.String())
		}
	})
	return p
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// waitLine waits for a line of stdout matching re and returns its
// submatches.
func (p *proc) waitLine(re string) []string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.NewTimer(procTimeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		changed := p.changed
		for _, l := range p.lines {
			if m := rx.FindStringSubmatch(l); m != nil {
				p.mu.Unlock()
				return m
			}
		}
		p.mu.Unlock()
		select {
		case <-changed:
		case <-p.read:
			if m := rx.FindStringSubmatch(p.output()); m != nil {
				return m
			}
			p.t.Fatalf("%s ended without a line matching %q", p.name, re)
		case <-deadline.C:
			p.t.Fatalf("%s printed no line matching %q within %v", p.name, re, procTimeout)
		}
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait() int {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.code
	case <-time.After(procTimeout):
		p.t.Fatalf("%s did not exit within %v", p.name, procTimeout)
	}
	return -1
}

func (p *proc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// listener starts `listen --local` with args and returns it with its UDP
// port (read from its CLIListening line).
func listener(t *testing.T, dir string, args ...string) (*proc, string) {
	t.Helper()
	all := append([]string{"--config-dir", dir, "--listen", "127.0.0.1:0", "listen", "--local"}, args...)
	p := startCLI(t, "listen", all...)
	m := p.waitLine(`CLIListening \[local-udp\] .*uri=sip:127\.0\.0\.1:(\d+)`)
	return p, m[1]
}

// writeTone writes a WAV file of a 1 kHz tone.
func writeTone(t *testing.T, path string, d time.Duration) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := audio.NewWAVWriter(f, 8000)
	if err != nil {
		t.Fatal(err)
	}
	samples := make([]int16, int(d.Seconds()*8000))
	for i := range samples {
		samples[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/8000))
	}
	if err := w.Write(samples); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// demo: every step happens, the summary is printed, the recording exists.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	r := runCLI(t, "--config-dir", filepath.Join(dir, "untouched"), "demo", "--record-dir", dir)
	if r.code != 0 {
		t.Fatalf("demo: %+v", r)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("demo took %v", d)
	}
	for _, want := range []string{
		"timeline (ms since the start):",
		"alice  SIPSessionNewOutgoing",
		"bob    SIPSessionNewIncoming",
		"bob    SIPSessionGotDTMF digit=#",
		"bob    SIPSessionGotHoldRequest originator=remote",
		"bob    SIPSessionGotMessage content=Hello Bob",
		"alice  SIPSessionDidDeliverMessage code=200",
		"summary:",
		"  codec          G722, 16000 Hz",
		"  SRTP           on",
		"  DTMF           alice sent 1234#, bob received 1234#",
		"  chat           2 of 2 messages delivered",
		"  file           " + filepath.Join(dir, "bob-inbox", "alice-photo.bin"),
		"  hold           seen by bob",
		"  recording      " + filepath.Join(dir, "bob-recording.wav") + " (",
		"  result         every step happened",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, r.stdout)
		}
	}
	if !regexp.MustCompile(`(?m)^  alice +sent [1-9]\d* RTP packets, received [1-9]\d*$`).MatchString(r.stdout) ||
		!regexp.MustCompile(`(?m)^  bob +sent [1-9]\d* RTP packets, received [1-9]\d*$`).MatchString(r.stdout) {
		t.Errorf("no packet counts in the summary:\n%s", r.stdout)
	}
	if st, err := os.Stat(filepath.Join(dir, "bob-recording.wav")); err != nil || st.Size() <= 44 {
		t.Errorf("recording: %v %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "untouched")); !os.IsNotExist(err) {
		t.Errorf("demo touched the configuration directory: %v", err)
	}

	// --json: one JSON object per line, the summary last; without SRTP.
	r = runCLI(t, "--json", "demo", "--record-dir", dir, "--srtp", "off", "--dtmf", "9*")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) < 20 {
		t.Fatalf("--json demo: %+v", r)
	}
	var summary struct {
		Name string         `json:"name"`
		Data map[string]any `json:"data"`
	}
	for _, l := range lines {
		if err := json.Unmarshal([]byte(l), &summary); err != nil {
			t.Fatalf("bad JSON line %q: %v", l, err)
		}
	}
	if summary.Name != "CLIDemoSummary" || summary.Data["ok"] != true || summary.Data["srtp"] != false ||
		summary.Data["dtmf_received"] != "9*" || summary.Data["bob_packets_received"].(float64) == 0 ||
		summary.Data["chat_delivered"] != float64(2) || summary.Data["file_received"] == "" {
		t.Errorf("--json summary: %+v", summary)
	}

	if r := runCLI(t, "demo", "--srtp", "sometimes"); r.code != 2 || !strings.Contains(r.stderr, "--srtp") {
		t.Errorf("demo --srtp sometimes: %+v", r)
	}
	// Steps that cannot happen in time: exit 1 naming the missing one,
	// after the summary.
	r = runCLI(t, "demo", "--record-dir", dir, "--step-timeout", "30ms")
	if r.code != 1 || !strings.Contains(r.stderr, "demo failed: missing step: ") || !strings.Contains(r.stdout, "  result         FAILED: missing step: ") {
		t.Errorf("demo --step-timeout 30ms: %+v", r)
	}
}

// call to `listen --local --auto-answer --max-calls 1`: both exit 0; the
// listener sees the DTMF, records the call and prints it in JSON.
func TestCallAndListen(t *testing.T) {
	dir := t.TempDir()
	recordings := filepath.Join(dir, "recordings")
	if r := runCLI(t, "--config-dir", filepath.Join(dir, "bob"), "settings", "set", "audio.recordings_directory", recordings); r.code != 0 {
		t.Fatalf("settings set: %+v", r)
	}
	bob := startCLI(t, "listen", "--json", "--config-dir", filepath.Join(dir, "bob"), "--listen", "127.0.0.1:0",
		"listen", "--local", "--auto-answer", "--record", "--max-calls", "1")
	m := bob.waitLine(`"transport":"udp","uri":"sip:127\.0\.0\.1:(\d+)"`)
	port := m[1]
	tone := filepath.Join(dir, "tone.wav")
	writeTone(t, tone, 2*time.Second)

	r := runCLI(t, "--config-dir", filepath.Join(dir, "alice"), "--listen", "127.0.0.1:0",
		"call", "sip:127.0.0.1:"+port, "--duration", "1s", "--dtmf", "12", "--play", tone)
	if r.code != 0 {
		t.Fatalf("call: %+v", r)
	}
	for _, want := range []string{"SIPSessionNewOutgoing [call-1] callee=sip:127.0.0.1:" + port, "SIPSessionDidStart [call-1] codec=",
		"SIPSessionDidEnd [call-1] duration=", "originator=local"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("call output lacks %q:\n%s", want, r.stdout)
		}
	}
	if code := bob.wait(); code != 0 {
		t.Fatalf("listen exit %d", code)
	}
	var digits, names []string
	var recording string
	var size float64
	for _, l := range strings.Split(bob.output(), "\n") {
		var v struct {
			Name   string         `json:"name"`
			Sender string         `json:"sender"`
			Data   map[string]any `json:"data"`
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("listen --json: bad line %q: %v", l, err)
		}
		names = append(names, v.Name)
		switch v.Name {
		case "SIPSessionNewIncoming":
			if v.Sender != "call-1" || v.Data["caller"] == nil || v.Data["streams"].([]any)[0] != "audio" {
				t.Errorf("NewIncoming: %+v", v)
			}
		case "SIPSessionGotDTMF":
			digits = append(digits, v.Data["digit"].(string))
		case "SIPSessionDidEnd":
			if v.Data["originator"] != "remote" {
				t.Errorf("DidEnd: %+v", v)
			}
		case "CLIRecordingSaved":
			recording, _ = v.Data["file_name"].(string)
			size, _ = v.Data["size"].(float64)
		}
	}
	if strings.Join(digits, "") != "12" {
		t.Errorf("listener got DTMF %v, want 1 2 (notifications %v)", digits, names)
	}
	if !strings.HasPrefix(recording, recordings) || size <= 44 {
		t.Errorf("recording %q of %v bytes", recording, size)
	}
	if strings.Contains(recording, string(filepath.Separator)+"@") {
		t.Errorf("recording %q: the local account's folder starts with '@'", recording)
	}
	if st, err := os.Stat(recording); err != nil || st.Size() <= 44 {
		t.Errorf("recording file: %v %v", st, err)
	}
}

// A listener that does not answer lets the SDK decline with 480: call
// exits 1 with the code and reason.
func TestCallRejected(t *testing.T) {
	dir := t.TempDir()
	bob, port := listener(t, filepath.Join(dir, "bob"), "--max-calls", "1")
	r := runCLI(t, "--config-dir", filepath.Join(dir, "alice"), "--listen", "127.0.0.1:0", "call", "sip:127.0.0.1:"+port)
	if r.code != 1 || !strings.Contains(r.stderr, "480 Temporarily Unavailable") ||
		!strings.Contains(r.stdout, "SIPSessionDidFail [call-1]") || !strings.Contains(r.stdout, "code=480") {
		t.Fatalf("call to a listener that does not answer: %+v", r)
	}
	if code := bob.wait(); code != 0 {
		t.Fatalf("listen exit %d", code)
	}
	bob.waitLine(`CLIIncomingCallDeclined \[call-1\] .*caller=sip:127\.0\.0\.1:\d+ code=480 reason=Temporarily Unavailable`)
}

// Nobody answers: call gives up after --timeout and exits 1.
func TestCallNoAnswer(t *testing.T) {
	dead, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	start := time.Now()
	r := runCLI(t, "--config-dir", t.TempDir(), "--listen", "127.0.0.1:0", "call", "sip:bob@"+dead.LocalAddr().String(), "--timeout", "1s")
	if r.code != 1 || !strings.Contains(r.stderr, "no answer within 1s") {
		t.Fatalf("call to a silent port: %+v", r)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("giving up took %v", d)
	}
}

// listen --interactive: 'a' answers a call, 'b' declines one as busy (the
// caller exits 1 with 486).
func TestListenInteractive(t *testing.T) {
	dir := t.TempDir()
	bob, port := listener(t, filepath.Join(dir, "bob"), "--interactive", "--max-calls", "2")
	alice := startCLI(t, "call", "--config-dir", filepath.Join(dir, "alice"), "--listen", "127.0.0.1:0",
		"call", "sip:127.0.0.1:"+port, "--duration", "200ms")
	bob.waitLine(`SIPSessionNewIncoming \[call-1\] .*streams=\[audio\]`)
	io.WriteString(bob.stdin, "a\n")
	if code := alice.wait(); code != 0 {
		t.Fatalf("call answered with 'a': exit %d", code)
	}
	bob.waitLine(`SIPSessionDidEnd \[call-1\] .*originator=remote`)
	alice = startCLI(t, "call", "--config-dir", filepath.Join(dir, "alice"), "--listen", "127.0.0.1:0",
		"call", "sip:127.0.0.1:"+port)
	bob.waitLine(`SIPSessionNewIncoming \[call-2\]`)
	io.WriteString(bob.stdin, "b\n")
	if code := alice.wait(); code != 1 || !strings.Contains(alice.stderr.String(), "486 Busy Here") {
		t.Fatalf("call declined with 'b': exit %d, %s", code, alice.stderr.String())
	}
	if code := bob.wait(); code != 0 {
		t.Fatalf("listen --max-calls 2: exit %d", code)
	}
}

// Interactive commands from stdin (hold, DTMF) and SIGINT hanging up
// (exit 0, the listener sees the BYE); SIGTERM stops the listener.
func TestCallInteractiveAndSignals(t *testing.T) {
	dir := t.TempDir()
	for _, who := range []string{"alice", "bob"} {
		runCLI(t, "--config-dir", filepath.Join(dir, who), "settings", "set", "logs.trace_sip", "true")
	}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := exec.Command("sh", "-c", "for f in $(find "+dir+" -name sip_trace.txt); do echo == $f; cat $f; done").CombinedOutput()
			t.Logf("TRACES\n%s", out)
		}
	})
	bob, port := listener(t, filepath.Join(dir, "bob"), "--auto-answer")
	alice := startCLI(t, "call", "--config-dir", filepath.Join(dir, "alice"), "--listen", "127.0.0.1:0",
		"call", "sip:127.0.0.1:"+port, "--interactive", "--srtp", "mandatory")
	alice.waitLine(`SIPSessionDidStart \[call-1\] .*srtp=true`)
	io.WriteString(alice.stdin, "h\n")
	alice.waitLine(`SIPSessionGotHoldRequest \[call-1\] originator=local`)
	bob.waitLine(`SIPSessionGotHoldRequest \[call-1\] originator=remote`)
	io.WriteString(alice.stdin, "h\n")
	bob.waitLine(`SIPSessionGotUnholdRequest \[call-1\] originator=remote`)
	io.WriteString(alice.stdin, "5\n")
	bob.waitLine(`SIPSessionGotDTMF \[call-1\] digit=5`)
	alice.signal(os.Interrupt)
	if code := alice.wait(); code != 0 {
		t.Fatalf("call after SIGINT: exit %d", code)
	}
	alice.waitLine(`SIPSessionDidEnd \[call-1\] .*originator=local`)
	bob.waitLine(`SIPSessionDidEnd \[call-1\] .*originator=remote`)
	bob.signal(syscall.SIGTERM)
	if code := bob.wait(); code != 0 {
		t.Fatalf("listen after SIGTERM: exit %d", code)
	}
}

// SIGTERM to a listener during a call hangs it up with BYE: the caller
// ends normally (exit 0).
func TestListenHangsUpOnSignal(t *testing.T) {
	dir := t.TempDir()
	bob, port := listener(t, filepath.Join(dir, "bob"), "--auto-answer")
	alice := startCLI(t, "call", "--config-dir", filepath.Join(dir, "alice"), "--listen", "127.0.0.1:0",
		"call", "sip:127.0.0.1:"+port, "--srtp", "off")
	bob.waitLine(`SIPSessionDidStart \[call-1\]`)
	alice.waitLine(`SIPSessionDidStart \[call-1\] .*srtp=false`)
	bob.signal(syscall.SIGTERM)
	if code := bob.wait(); code != 0 {
		t.Fatalf("listen after SIGTERM: exit %d", code)
	}
	bob.waitLine(`SIPSessionDidEnd \[call-1\] .*originator=local`)
	if code := alice.wait(); code != 0 {
		t.Fatalf("call hung up by the remote: exit %d", code)
	}
	alice.waitLine(`SIPSessionDidEnd \[call-1\] .*originator=remote`)
}

// Usage errors exit 2 and name the bad argument.
func TestCallUsageErrors(t *testing.T) {
	dir := t.TempDir()
	cd := []string{"--config-dir", dir, "--listen", "127.0.0.1:0"}
	notWAV := filepath.Join(dir, "not.wav")
	os.WriteFile(notWAV, []byte("hello"), 0o600)
	srtpDir := filepath.Join(dir, "srtp")
	runCLI(t, "--config-dir", srtpDir, "settings", "set", "rtp.use_srtp", "true")
	if r := runCLI(t, "--config-dir", srtpDir, "--listen", "127.0.0.1:0", "call", "sip:127.0.0.1:5999", "--srtp", "off"); r.code != 2 ||
		!strings.Contains(r.stderr, "rtp.use_srtp") {
		t.Errorf("--srtp off with rtp.use_srtp true: %+v", r)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"call", "http://example.test"}, "URI"},
		{[]string{"call"}, "accepts 1 arg"},
		{[]string{"call", "sip:127.0.0.1:5999", "--srtp", "sometimes"}, "--srtp"},
		{[]string{"call", "sip:127.0.0.1:5999", "--dtmf", "12x"}, "--dtmf"},
		{[]string{"call", "sip:127.0.0.1:5999", "--play", filepath.Join(dir, "missing.wav")}, "--play"},
		{[]string{"call", "sip:127.0.0.1:5999", "--play", notWAV}, "--play"},
		{[]string{"call", "sip:127.0.0.1:5999", "--route", "sip:proxy;foo=bar"}, "--route"},
		{[]string{"call", "sip:127.0.0.1:5999", "--duration", "-1s"}, "--duration"},
		{[]string{"call", "sip:127.0.0.1:5999", "--timeout", "-1s"}, "--timeout"},
		{[]string{"call", "sip:127.0.0.1:5999", "--account", "nobody@example.test"}, "nobody@example.test"},
		{[]string{"listen", "--local", "--account", "nobody@example.test"}, "--local"},
		{[]string{"listen", "--max-calls", "-1"}, "--max-calls"},
		{[]string{"listen", "--account", "nobody@example.test"}, "nobody@example.test"},
		{[]string{"listen", "extra"}, "unknown command"},
	} {
		r := runCLI(t, append(cd, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, r.code, r.stderr, c.want)
		}
	}
}

// listen with a registered account takes the calls a proxy routes to it;
// it unregisters when it stops.
func TestListenRegistered(t *testing.T) {
	k := interop.StartKamailio(t, interop.KamailioConfig{Users: map[string]string{"bob": "secret"}, DisableTLS: true, SkipProxyAuth: true})
	dir := t.TempDir()
	bobDir := []string{"--config-dir", filepath.Join(dir, "bob"), "--listen", "127.0.0.1:0"}
	if r := runCLI(t, append(bobDir, "account", "add", "bob@"+k.Domain, "--password", "secret", "--registrar", "sip:"+k.UDPAddr(), "--default")...); r.code != 0 {
		t.Fatalf("account add: %+v", r)
	}
	runCLI(t, append(bobDir, "settings", "set", "sip.transport_list", "udp")...)
	bob := startCLI(t, "listen", append(bobDir, "listen", "--auto-answer", "--max-calls", "1")...)
	bob.waitLine(`SIPAccountRegistrationDidSucceed \[bob@` + regexp.QuoteMeta(k.Domain) + `\] .*code=200`)
	bob.waitLine(`CLIListening \[bob@` + regexp.QuoteMeta(k.Domain) + `\] uri=sip:bob@`)
	r := runCLI(t, "--config-dir", filepath.Join(dir, "alice"), "--listen", "127.0.0.1:0",
		"call", "sip:bob@"+k.Domain, "--route", "sip:"+k.UDPAddr(), "--duration", "300ms", "--dtmf", "7")
	if r.code != 0 || !strings.Contains(r.stdout, "SIPSessionDidStart [call-1]") {
		t.Fatalf("call through the proxy: %+v", r)
	}
	if code := bob.wait(); code != 0 {
		t.Fatalf("listen: exit %d", code)
	}
	bob.waitLine(`SIPSessionGotDTMF \[call-1\] digit=7`)
	bob.waitLine(`SIPAccountRegistrationDidEnd \[bob@`)

	// A registration refused: exit 1.
	runCLI(t, append(bobDir, "account", "set", "bob@"+k.Domain, "auth.password", "wrong")...)
	if r := runCLI(t, append(bobDir, "listen", "--duration", "10s")...); r.code != 1 || !strings.Contains(r.stderr, "registration of bob@") {
		t.Fatalf("listen with a wrong password: %+v", r)
	}
}

// chat --message: a chat-only session with a listener that answers,
// the message delivered (exit 0) and printed by the listener; then an
// interactive chat whose lines reach the listener and whose end ("/quit")
// ends the session.
func TestChatCommand(t *testing.T) {
	dir := t.TempDir()
	bob, port := listener(t, filepath.Join(dir, "bob"), "--auto-answer", "--max-calls", "2")
	r := runCLI(t, "--config-dir", filepath.Join(dir, "alice"), "--listen", "127.0.0.1:0", "chat", "sip:127.0.0.1:"+port,
		"--message", "hello over MSRP")
	if r.code != 0 || !strings.Contains(r.stdout, "SIPSessionDidDeliverMessage [call-1]") {
		t.Fatalf("chat --message: %+v", r)
	}
	bob.waitLine(`SIPSessionNewIncoming \[call-1\] .*streams=\[chat\]`)
	bob.waitLine(`SIPSessionGotMessage \[call-1\] .*content=hello over MSRP`)
	bob.waitLine(`SIPSessionDidEnd \[call-1\]`)

	alice := startCLI(t, "chat", "--config-dir", filepath.Join(dir, "alice"), "--listen", "127.0.0.1:0",
		"chat", "sip:127.0.0.1:"+port)
	alice.waitLine(`SIPSessionDidStart \[call-1\]`)
	io.WriteString(alice.stdin, "first line\n\nsecond line\n")
	bob.waitLine(`SIPSessionGotMessage \[call-2\] .*content=first line`)
	bob.waitLine(`SIPSessionGotMessage \[call-2\] .*content=second line`)
	alice.waitLine(`SIPSessionDidDeliverMessage \[call-1\]`)
	io.WriteString(alice.stdin, "/quit\n")
	if code := alice.wait(); code != 0 {
		t.Fatalf("interactive chat exit %d", code)
	}
	if code := bob.wait(); code != 0 {
		t.Fatalf("listen exit %d", code)
	}
}

// send-file to a listener with --accept-files: the file arrives whole
// under its name in the directory, the sender exits 0.
func TestSendFileCommand(t *testing.T) {
	dir := t.TempDir()
	inbox := filepath.Join(dir, "inbox")
	bob, port := listener(t, filepath.Join(dir, "bob"), "--accept-files", inbox, "--max-calls", "1")
	src := filepath.Join(dir, "report.pdf")
	data := bytes.Repeat([]byte("sipsimple-go file transfer "), 40000) // about 1 MB
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "--config-dir", filepath.Join(dir, "alice"), "--listen", "127.0.0.1:0", "send-file", "sip:127.0.0.1:"+port, src)
	if r.code != 0 || !strings.Contains(r.stdout, "MSRPFileTransferDidDeliverFile") {
		t.Fatalf("send-file: %+v", r)
	}
	bob.waitLine(`SIPSessionNewIncoming \[call-1\] .*streams=\[file-transfer\]`)
	bob.waitLine(`MSRPFileTransferGotFile \[file\] .*report\.pdf`)
	if code := bob.wait(); code != 0 {
		t.Fatalf("listen exit %d", code)
	}
	got, err := os.ReadFile(filepath.Join(inbox, "report.pdf"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("received file: %d bytes, %v", len(got), err)
	}
	if r := runCLI(t, "send-file", "sip:127.0.0.1:"+port, filepath.Join(dir, "missing")); r.code != 2 {
		t.Errorf("send-file of a missing file: %+v", r)
	}
}
