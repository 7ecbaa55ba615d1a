package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BaresipConfig configures the baresip started by StartBaresip.
type BaresipConfig struct {
	// User is the user part of the default local account
	// "<sip:User@127.0.0.1>" (no registration); default "baresip".
	// Ignored when Accounts is set.
	User string
	// Accounts are account lines in the format of baresip's accounts
	// file, e.g. from Kamailio.BaresipAccount. They are added with the
	// "uanew" command once the control connection is up, so that their
	// events (REGISTER_OK, ...) can be waited for. Default: the local
	// account of User.
	Accounts []string
	// AnswerMode of the default account: "manual" (default), "early" or
	// "auto".
	AnswerMode string

	// AudioSource is baresip's audio_source; default "ausine,440" (a
	// 440 Hz tone, no sound card needed). "aufile,/path.wav" plays a
	// 16-bit PCM WAV file instead (see WriteToneWAV), which must have
	// SourceSampleRate and SourceChannels. baresip 1.0.0's aufile plays
	// the file once and then reports "end of file", upon which baresip
	// hangs the call up (CALL_CLOSED with param "end of file"): make the
	// file last longer than the calls.
	AudioSource string
	// SourceSampleRate and SourceChannels are baresip's ausrc_srate and
	// ausrc_channels, the format of the audio source; default 48000 and
	// 2, the only format ausine produces (baresip resamples for the
	// codec). An aufile source can use 8000 and 1 (a smaller file).
	SourceSampleRate int
	SourceChannels   int
	// RecordDir, if set, loads the sndfile module, which writes the
	// audio of each call (both directions) as WAV files into RecordDir.
	RecordDir string

	// Modules are extra modules to load ("module" lines), e.g. "opus.so".
	Modules []string
	// ExtraConfig is appended verbatim to the config file.
	ExtraConfig string

	// Quiet turns baresip's verbose (-v) log off.
	Quiet bool
	// StartTimeout bounds the start-up; default 20s.
	StartTimeout time.Duration
}

// Baresip is a running baresip user agent, controlled through its ctrl_tcp
// module (JSON in netstrings over TCP): commands go in, responses and
// events (CALL_INCOMING, CALL_ESTABLISHED, REGISTER_OK, ...) come out.
//
// Its SIP stack listens on 127.0.0.1: UDP and TCP on SIPPort and, because
// baresip 1.0.0 always adds a TLS transport one port up, TLS on SIPPort+1.
type Baresip struct {
	// SIPPort is the UDP and TCP SIP port on 127.0.0.1.
	SIPPort int
	// CtrlPort is the ctrl_tcp port on 127.0.0.1.
	CtrlPort int
	// User is the user of the default local account ("" with Accounts).
	User string
	// Dir is the configuration directory (-f).
	Dir string

	proc *process
	ctrl net.Conn

	cmdMu sync.Mutex // one command in flight at a time

	mu        sync.Mutex
	events    []BaresipEvent // not yet consumed by WaitEvent
	responses map[string]chan BaresipResponse
	changed   chan struct{}
	ctrlErr   error
}

// BaresipEvent is an event sent by ctrl_tcp, e.g. {"event":true,
// "type":"CALL_INCOMING","class":"call","accountaor":"sip:...",
// "direction":"incoming","peeruri":"sip:...","id":"..."}.
type BaresipEvent struct {
	Type       string `json:"type"`
	Class      string `json:"class"`
	AccountAOR string `json:"accountaor"`
	Direction  string `json:"direction"`
	PeerURI    string `json:"peeruri"`
	ID         string `json:"id"`
	Param      string `json:"param"`
	// Raw is the whole JSON object.
	Raw map[string]any `json:"-"`
}

// BaresipResponse is ctrl_tcp's answer to a command.
type BaresipResponse struct {
	OK    bool   `json:"ok"`
	Data  string `json:"data"`
	Token string `json:"token"`
}

// StartBaresip writes a configuration directory (config, accounts,
// contacts) into t.TempDir() and starts "baresip -f dir" in the
// foreground. No sound card is used: the audio source is the ausine
// module (or aufile), the player the aubridge module (a sink nobody
// reads). It returns once baresip is ready and its ctrl_tcp interface is
// connected. baresip is stopped by t.Cleanup; its log is appended to the
// test output if the test failed.
//
// If baresip is not installed the test fails under CI=true and is skipped
// otherwise.
func StartBaresip(t testing.TB, cfg BaresipConfig) *Baresip {
	t.Helper()
	bin := Require(t, "baresip")
	dir := t.TempDir()
	b := &Baresip{Dir: dir}

	accounts := cfg.Accounts
	if len(accounts) == 0 {
		b.User = cfg.User
		if b.User == "" {
			b.User = "baresip"
		}
		mode := cfg.AnswerMode
		if mode == "" {
			mode = "manual"
		}
		accounts = []string{fmt.Sprintf("<sip:%s@%s>;regint=0;answermode=%s", b.User, Loopback, mode)}
	}
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatalf("interop: %v", err)
		}
	}
	// The accounts file stays empty: the accounts are added with "uanew"
	// once ctrl_tcp is connected, so that no event (REGISTER_OK, ...) is
	// sent before anyone listens.
	write("accounts", "# Generated by internal/interop; accounts are added with uanew.\n")
	write("contacts", "# Generated by internal/interop.\n")

	timeout := cfg.StartTimeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	const attempts = 5
	for attempt := 1; ; attempt++ {
		var err error
		if b.SIPPort, err = freeBaresipSIPPort(); err != nil {
			t.Fatalf("interop: %v", err)
		}
		b.CtrlPort = FreePort(t, "tcp")
		write("config", baresipConfig(cfg, b.SIPPort, b.CtrlPort))

		args := []string{"-4", "-f", dir}
		if !cfg.Quiet {
			args = append(args, "-v")
		}
		out := newOutput()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		proc, err := startProcess("baresip", cmd, out)
		if err != nil {
			t.Fatalf("interop: %v", err)
		}
		b.proc = proc
		proc.registerCleanup(t)

		err = b.waitReady(timeout)
		if err == nil {
			t.Cleanup(func() { b.ctrl.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			for _, acc := range accounts {
				if _, err := b.Command(ctx, "uanew", acc); err != nil {
					cancel()
					t.Fatalf("interop: baresip: add account %q: %v", acc, err)
				}
			}
			cancel()
			t.Logf("interop: baresip up: SIP udp/tcp %s:%d, ctrl_tcp port %d (config %s)", Loopback, b.SIPPort, b.CtrlPort, dir)
			return b
		}
		_ = proc.stop()
		if attempt < attempts && strings.Contains(out.String(), "Address already in use") {
			t.Logf("interop: baresip ports %d/%d taken, retrying with new ports", b.SIPPort, b.CtrlPort)
			continue
		}
		t.Fatalf("interop: baresip did not start: %v (its output follows)", err)
	}
}

// freeBaresipSIPPort finds a port P free for UDP and TCP with P+1 free for
// TCP (baresip's TLS transport).
func freeBaresipSIPPort() (int, error) {
	for i := 0; i < 20; i++ {
		p, err := freeUDPTCPPort()
		if err != nil {
			return 0, err
		}
		l, err := net.Listen("tcp4", net.JoinHostPort(Loopback, strconv.Itoa(p+1)))
		if err != nil {
			continue
		}
		l.Close()
		return p, nil
	}
	return 0, errors.New("no free port pair for baresip")
}

func baresipConfig(cfg BaresipConfig, sipPort, ctrlPort int) string {
	source := cfg.AudioSource
	if source == "" {
		source = "ausine,440"
	}
	var c strings.Builder
	c.WriteString("# baresip configuration generated by internal/interop (test support).\n")
	fmt.Fprintf(&c, "poll_method\t\tepoll\n")
	fmt.Fprintf(&c, "net_interface\t\t%s\n", Loopback)
	fmt.Fprintf(&c, "sip_listen\t\t%s:%d\n", Loopback, sipPort)
	c.WriteString("call_local_timeout\t120\ncall_max_calls\t\t4\n")
	// No sound card: a generated (or file) source, and a sink nobody reads.
	fmt.Fprintf(&c, "audio_source\t\t%s\n", source)
	c.WriteString("audio_player\t\taubridge,interop-sink\n")
	c.WriteString("audio_alert\t\taubridge,interop-alert\n")
	// ausine only produces 48 kHz stereo; baresip resamples for the codec.
	srate, channels := cfg.SourceSampleRate, cfg.SourceChannels
	if srate <= 0 {
		srate = 48000
	}
	if channels <= 0 {
		channels = 2
	}
	fmt.Fprintf(&c, "ausrc_srate\t\t%d\nausrc_channels\t\t%d\n", srate, channels)
	c.WriteString("rtp_ports\t\t20000-40000\n")
	c.WriteString("module_path\t\t/usr/lib/baresip/modules\n")
	for _, m := range []string{"g711.so", "ausine.so", "aufile.so", "aubridge.so"} {
		fmt.Fprintf(&c, "module\t\t\t%s\n", m)
	}
	if cfg.RecordDir != "" {
		c.WriteString("module\t\t\tsndfile.so\n")
		fmt.Fprintf(&c, "snd_path\t\t%s\n", cfg.RecordDir)
	}
	for _, m := range cfg.Modules {
		fmt.Fprintf(&c, "module\t\t\t%s\n", m)
	}
	c.WriteString("module_tmp\t\tuuid.so\nmodule_tmp\t\taccount.so\n")
	c.WriteString("module_app\t\tcontact.so\nmodule_app\t\tmenu.so\nmodule_app\t\tctrl_tcp.so\n")
	fmt.Fprintf(&c, "ctrl_tcp_listen\t\t%s:%d\n", Loopback, ctrlPort)
	if cfg.ExtraConfig != "" {
		c.WriteString(cfg.ExtraConfig + "\n")
	}
	return c.String()
}

// waitReady waits for "baresip is ready.", checks that every listener
// could be bound, and connects to ctrl_tcp.
func (b *Baresip) waitReady(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	go func() {
		select {
		case <-b.proc.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := b.proc.out.WaitForString(ctx, "baresip is ready."); err != nil {
		if code, exited := b.proc.exitCode(); exited {
			return fmt.Errorf("baresip exited with code %d", code)
		}
		return fmt.Errorf("baresip not ready: %w", err)
	}
	if strings.Contains(b.proc.out.String(), "Address already in use") {
		return errors.New("baresip could not bind a port")
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp4", net.JoinHostPort(Loopback, strconv.Itoa(b.CtrlPort)))
	if err != nil {
		return fmt.Errorf("connect to ctrl_tcp: %w", err)
	}
	b.ctrl = conn
	b.responses = map[string]chan BaresipResponse{}
	b.changed = make(chan struct{})
	go b.readCtrl()
	return nil
}

// readCtrl reads netstring-framed JSON from ctrl_tcp until the connection
// closes.
func (b *Baresip) readCtrl() {
	r := bufio.NewReader(b.ctrl)
	for {
		msg, err := readNetstring(r)
		if err != nil {
			b.mu.Lock()
			b.ctrlErr = err
			b.notifyLocked()
			b.mu.Unlock()
			return
		}
		var raw map[string]any
		if err := json.Unmarshal(msg, &raw); err != nil {
			continue
		}
		b.mu.Lock()
		if raw["event"] == true {
			var ev BaresipEvent
			_ = json.Unmarshal(msg, &ev)
			ev.Raw = raw
			b.events = append(b.events, ev)
		} else if raw["response"] == true {
			var resp BaresipResponse
			_ = json.Unmarshal(msg, &resp)
			if ch, ok := b.responses[resp.Token]; ok {
				ch <- resp
				delete(b.responses, resp.Token)
			}
		}
		b.notifyLocked()
		b.mu.Unlock()
	}
}

func (b *Baresip) notifyLocked() {
	close(b.changed)
	b.changed = make(chan struct{})
}

func readNetstring(r *bufio.Reader) ([]byte, error) {
	lenStr, err := r.ReadString(':')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(lenStr, ":")))
	if err != nil || n < 0 || n > 1<<20 {
		return nil, fmt.Errorf("bad netstring length %q", lenStr)
	}
	buf := make([]byte, n+1)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	if buf[n] != ',' {
		return nil, errors.New("netstring not terminated by ','")
	}
	return buf[:n], nil
}

// Command sends a command to baresip through ctrl_tcp ("dial",
// "accept", "hangup", "reginfo", "quit", ...; see "help") and waits for
// its response.
func (b *Baresip) Command(ctx context.Context, command, params string) (BaresipResponse, error) {
	b.cmdMu.Lock()
	defer b.cmdMu.Unlock()
	token := randomToken()
	ch := make(chan BaresipResponse, 1)
	b.mu.Lock()
	if b.ctrlErr != nil {
		b.mu.Unlock()
		return BaresipResponse{}, fmt.Errorf("baresip ctrl_tcp: %w", b.ctrlErr)
	}
	b.responses[token] = ch
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.responses, token)
		b.mu.Unlock()
	}()

	msg, err := json.Marshal(map[string]string{"command": command, "params": params, "token": token})
	if err != nil {
		return BaresipResponse{}, err
	}
	if d, ok := ctx.Deadline(); ok {
		_ = b.ctrl.SetWriteDeadline(d)
	}
	if _, err := fmt.Fprintf(b.ctrl, "%d:%s,", len(msg), msg); err != nil {
		return BaresipResponse{}, fmt.Errorf("baresip ctrl_tcp: %w", err)
	}
	result := func(resp BaresipResponse) (BaresipResponse, error) {
		if !resp.OK {
			return resp, fmt.Errorf("baresip %s %s: %s", command, params, strings.TrimSpace(resp.Data))
		}
		return resp, nil
	}
	for {
		b.mu.Lock()
		changed, ctrlErr := b.changed, b.ctrlErr
		b.mu.Unlock()
		select {
		case resp := <-ch:
			return result(resp)
		default:
		}
		if ctrlErr != nil {
			return BaresipResponse{}, fmt.Errorf("baresip ctrl_tcp: %w", ctrlErr)
		}
		select {
		case resp := <-ch:
			return result(resp)
		case <-changed: // a message arrived or the connection failed
		case <-ctx.Done():
			return BaresipResponse{}, fmt.Errorf("baresip %s: %w", command, ctx.Err())
		}
	}
}

// Dial calls uri ("dial" command). The URI needs a user part
// ("sip:x@127.0.0.1:5070"): baresip 1.0.0 appends "@" and its account's
// domain to a URI without one, so "sip:127.0.0.1:5070" would become
// "sip:127.0.0.1:5070@127.0.0.1".
func (b *Baresip) Dial(ctx context.Context, uri string) error {
	_, err := b.Command(ctx, "dial", uri)
	return err
}

// Accept answers the incoming call ("accept" command).
func (b *Baresip) Accept(ctx context.Context) error {
	_, err := b.Command(ctx, "accept", "")
	return err
}

// Hangup ends the current call ("hangup" command).
func (b *Baresip) Hangup(ctx context.Context) error {
	_, err := b.Command(ctx, "hangup", "")
	return err
}

// Hold puts the current call on hold ("hold" command: a re-INVITE with
// the audio stream sendonly).
func (b *Baresip) Hold(ctx context.Context) error {
	_, err := b.Command(ctx, "hold", "")
	return err
}

// Resume takes the current call off hold ("resume" command: a re-INVITE
// with the audio stream sendrecv).
func (b *Baresip) Resume(ctx context.Context) error {
	_, err := b.Command(ctx, "resume", "")
	return err
}

// SendDTMF sends digits (0-9, *, #, A-D) on the current call as RFC 4733
// telephone-events ("sndcode" command).
func (b *Baresip) SendDTMF(ctx context.Context, digits string) error {
	_, err := b.Command(ctx, "sndcode", digits)
	return err
}

// BaresipAudioStats is what baresip's "audio_debug" command reports about
// the audio stream of the current call.
type BaresipAudioStats struct {
	// Direction is the stream's negotiated local direction ("sendrecv",
	// "sendonly", "recvonly", "inactive"): what baresip does.
	Direction string
	// PacketsReceived is the number of RTP packets received from the peer
	// (the RTCP member's "rcvd"), PacketsSent the number sent ("TX:
	// packets").
	PacketsReceived, PacketsSent int
	// Raw is the whole audio_debug output.
	Raw string
}

var (
	baresipDirRE  = regexp.MustCompile(`audio dir=(\w+)`)
	baresipRcvdRE = regexp.MustCompile(`rcvd=(\d+)`)
	baresipSentRE = regexp.MustCompile(`TX: packets=(\d+)`)
)

// AudioStats runs "audio_debug" and parses its output. It fails when there
// is no call or the output lacks the direction.
func (b *Baresip) AudioStats(ctx context.Context) (BaresipAudioStats, error) {
	resp, err := b.Command(ctx, "audio_debug", "")
	if err != nil {
		return BaresipAudioStats{}, err
	}
	st := BaresipAudioStats{Raw: resp.Data}
	m := baresipDirRE.FindStringSubmatch(resp.Data)
	if m == nil {
		return st, fmt.Errorf("baresip audio_debug: no audio stream in %q", resp.Data)
	}
	st.Direction = m[1]
	// One member per remote source; the counts add up.
	for _, m := range baresipRcvdRE.FindAllStringSubmatch(resp.Data, -1) {
		n, _ := strconv.Atoi(m[1])
		st.PacketsReceived += n
	}
	if m := baresipSentRE.FindStringSubmatch(resp.Data); m != nil {
		st.PacketsSent, _ = strconv.Atoi(m[1])
	}
	return st, nil
}

// WaitAudioStats polls AudioStats (every 50ms: baresip sends no event per
// packet) until cond holds, and returns the stats that satisfied it; it
// fails with the last stats when ctx is done first.
func (b *Baresip) WaitAudioStats(ctx context.Context, cond func(BaresipAudioStats) bool) (BaresipAudioStats, error) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := b.AudioStats(ctx)
		if err == nil && cond(st) {
			return st, nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			if err != nil {
				return st, fmt.Errorf("baresip audio stats: %w (last error: %v)", ctx.Err(), err)
			}
			return st, fmt.Errorf("baresip audio stats: %w (last: direction %s, %d packets received, %d sent)",
				ctx.Err(), st.Direction, st.PacketsReceived, st.PacketsSent)
		}
	}
}

// WaitEvent waits for the first event (oldest first, among those not yet
// returned) for which match returns true, removes it from the queue and
// returns it. A nil match accepts any event.
func (b *Baresip) WaitEvent(ctx context.Context, match func(BaresipEvent) bool) (BaresipEvent, error) {
	for {
		b.mu.Lock()
		for i, ev := range b.events {
			if match == nil || match(ev) {
				b.events = append(b.events[:i:i], b.events[i+1:]...)
				b.mu.Unlock()
				return ev, nil
			}
		}
		changed, ctrlErr := b.changed, b.ctrlErr
		b.mu.Unlock()
		if ctrlErr != nil {
			return BaresipEvent{}, fmt.Errorf("baresip ctrl_tcp: %w", ctrlErr)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return BaresipEvent{}, fmt.Errorf("waiting for a baresip event: %w", ctx.Err())
		}
	}
}

// WaitEventType waits for the next event of type typ (e.g.
// "CALL_INCOMING", "CALL_ESTABLISHED", "CALL_CLOSED", "REGISTER_OK").
func (b *Baresip) WaitEventType(ctx context.Context, typ string) (BaresipEvent, error) {
	return b.WaitEvent(ctx, func(ev BaresipEvent) bool { return ev.Type == typ })
}

// URI returns the SIP URI of the default local account over UDP,
// "sip:user@127.0.0.1:port".
func (b *Baresip) URI() string {
	return fmt.Sprintf("sip:%s@%s", b.User, b.SIPAddr())
}

// SIPAddr returns baresip's SIP address (UDP and TCP), "127.0.0.1:port".
func (b *Baresip) SIPAddr() string { return net.JoinHostPort(Loopback, strconv.Itoa(b.SIPPort)) }

// Output returns the collector of baresip's output (its log), e.g. to wait
// for a log line with WaitForString.
func (b *Baresip) Output() *Output { return b.proc.out }

// Log returns baresip's log so far.
func (b *Baresip) Log() string { return b.proc.out.String() }

// Stop stops baresip now (SIGTERM, then SIGKILL). The test cleanup does it
// anyway; calling it twice is harmless.
func (b *Baresip) Stop() error { return b.proc.stop() }

// BaresipAccount returns a baresip accounts line for user registering at
// this Kamailio over transport ("udp", "tcp" or "tls"), with the user's
// password, Kamailio as outbound proxy and the given registration
// interval in seconds, answering calls manually.
func (k *Kamailio) BaresipAccount(user, transport string, regint int) string {
	if transport == "" {
		transport = "udp"
	}
	return fmt.Sprintf(`<sip:%s@%s;transport=%s>;auth_pass=%s;outbound="%s";regint=%d;answermode=manual`,
		user, k.Domain, transport, k.Users[user], k.ServerURI(transport), regint)
}
