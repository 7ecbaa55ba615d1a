package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipsimple-go/sipsimple/account"
	"github.com/sipsimple-go/sipsimple/application"
	"github.com/sipsimple-go/sipsimple/audio"
	"github.com/sipsimple-go/sipsimple/configuration"
	"github.com/sipsimple-go/sipsimple/notification"
	"github.com/sipsimple-go/sipsimple/rtp"
	"github.com/sipsimple-go/sipsimple/session"
)

func newDemoCommand(g *globals) *cobra.Command {
	var recordDir, srtp, digits string
	var stepTimeout time.Duration
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a call between two in-process parties on loopback and check every step (exit 0 when all happened)",
		Long: `Run alice and bob, two applications in this process, on 127.0.0.1 with
userless accounts and in-memory configurations (the configuration directory
is not touched; --config-dir and --listen are ignored). Alice calls bob, bob
answers, each sends a tone (alice 440 Hz, bob 660 Hz), bob records the call,
alice sends DTMF digits, holds and unholds, and hangs up.

It prints the timeline (milliseconds since the start, who, what) and a
summary: codec, sample rate, SRTP, packets sent and received on each side,
the DTMF digits bob received, the recording and its length. Exit 0 when every
step happened; 1 naming the first step that did not (each waits at most
--step-timeout).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rc, err := parseSRTP(srtp)
			if err != nil {
				return err
			}
			if digits == "" {
				return usageError(errors.New("--dtmf: give at least one digit"))
			}
			for _, d := range digits {
				if !isDTMF(d) {
					return usageError(fmt.Errorf("--dtmf %q: %q is not a DTMF digit (0-9 * # A-D)", digits, d))
				}
			}
			if stepTimeout <= 0 {
				return usageError(fmt.Errorf("--step-timeout %v: must be positive", stepTimeout))
			}
			if recordDir != "" {
				if st, err := os.Stat(recordDir); err != nil || !st.IsDir() {
					return usageError(fmt.Errorf("--record-dir %s: not a directory", recordDir))
				}
			}
			d := &demo{out: cmd.OutOrStdout(), errOut: cmd.ErrOrStderr(), pr: &printer{out: cmd.OutOrStdout(), json: g.json},
				json: g.json, rtpConf: rc, srtp: srtp, digits: digits, recordDir: recordDir, stepTimeout: stepTimeout,
				log: newDemoLog()}
			return d.run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&recordDir, "record-dir", "", "directory of bob's recording (default: a new temporary directory, kept)")
	f.StringVar(&srtp, "srtp", "", "SRTP: off, optional or mandatory (default: the accounts' default, optional)")
	f.StringVar(&digits, "dtmf", "1234#", "DTMF digits alice sends")
	f.DurationVar(&stepTimeout, "step-timeout", 5*time.Second, "how long each step may take")
	return cmd
}

// demoEntry is one line of the timeline: a notification with the party as
// sender and its data made readable, and the session that posted it.
type demoEntry struct {
	n   notification.Notification
	raw notification.Notification // as posted
	s   *session.Session
}

// demoLog keeps the notifications of both parties, for the steps to wait
// on and for the timeline.
type demoLog struct {
	mu      sync.Mutex
	entries []demoEntry
	changed chan struct{} // closed and replaced at each addition
}

func newDemoLog() *demoLog { return &demoLog{changed: make(chan struct{})} }

func (l *demoLog) add(e demoEntry) {
	l.mu.Lock()
	l.entries = append(l.entries, e)
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

// find returns the notifications named name party posted that match.
func (l *demoLog) find(party, name string, match func(demoEntry) bool) []demoEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []demoEntry
	for _, e := range l.entries {
		if e.n.Sender == party && e.n.Name == name && (match == nil || match(e)) {
			out = append(out, e)
		}
	}
	return out
}

// wait waits until party posted k notifications named name (that match),
// and returns the k-th.
func (l *demoLog) wait(party, name string, k int, match func(demoEntry) bool, timeout time.Duration) (demoEntry, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		changed := l.changed
		l.mu.Unlock()
		if found := l.find(party, name, match); len(found) >= k {
			return found[k-1], nil
		}
		select {
		case <-changed:
		case <-deadline.C:
			n := len(l.find(party, name, match))
			if k == 1 {
				return demoEntry{}, fmt.Errorf("no %s at %s within %v", name, party, timeout)
			}
			return demoEntry{}, fmt.Errorf("%s posted %d times at %s within %v, want %d", name, n, party, timeout, k)
		}
	}
}

func (l *demoLog) sorted() []demoEntry {
	l.mu.Lock()
	out := append([]demoEntry(nil), l.entries...)
	l.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].n.Timestamp.Before(out[j].n.Timestamp) })
	return out
}

// demoParty is one side of the demo: an application with a userless
// account.
type demoParty struct {
	name string
	app  *application.Application
	acct *account.Account
	tone float64
}

type demo struct {
	out, errOut io.Writer
	pr          *printer
	json        bool
	rtpConf     session.RTPConfiguration
	srtp        string
	digits      string
	recordDir   string
	stepTimeout time.Duration
	log         *demoLog
	start       time.Time

	alice, bob *demoParty
	as, bs     *session.Session // alice's and bob's session
	missing    string           // the first step that did not happen

	// The summary's facts.
	codec         string
	sampleRate    int
	srtpOn        bool
	aliceStats    rtp.Stats
	bobStats      rtp.Stats
	gotDigits     string
	chatDelivered int
	dir           string // where the recording and the transferred file go
	fileReceived  string // where bob saved alice's file
	holdSeen      bool
	recording     string
	recordingSize int64
	recordingDur  time.Duration
	recordingRate int
}

// step runs f unless a step already failed, and notes the outcome in the
// timeline.
func (d *demo) step(what string, f func() (detail string, err error)) {
	if d.missing != "" {
		return
	}
	detail, err := f()
	data := map[string]any{"step": what, "ok": err == nil}
	if err != nil {
		d.missing = what + ": " + err.Error()
		data["error"] = err.Error()
	} else if detail != "" {
		data["detail"] = detail
	}
	d.log.add(demoEntry{n: notification.Notification{Name: "CLIDemoStep", Sender: "demo", Timestamp: time.Now(), Data: data}})
}

func (d *demo) run(ctx context.Context) error {
	d.start = time.Now()
	// Warnings and errors only: the SIP stack logs routine events (a
	// retransmitted response...) at the info level through the default
	// logger, which would clutter the timeline.
	logger := slog.New(slog.NewTextHandler(d.errOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
	prev := slog.Default()
	slog.SetDefault(logger)
	defer slog.SetDefault(prev)
	d.alice = &demoParty{name: "alice", tone: 440}
	d.bob = &demoParty{name: "bob", tone: 660}
	defer d.cleanup()

	for _, p := range []*demoParty{d.alice, d.bob} {
		d.step(p.name+" starts on 127.0.0.1", func() (string, error) { return d.startParty(ctx, p, logger) })
	}
	d.step("alice calls bob, bob answers", d.connect)
	d.step("audio flows both ways", func() (string, error) { return d.audioFlows(25) })
	d.step("bob records the call", d.startRecording)
	d.step("bob receives alice's DTMF digits", d.sendDTMF)
	d.step("alice and bob chat over MSRP", d.chat)
	d.step("alice holds, bob sees the hold", d.hold)
	d.step("alice unholds, audio resumes", d.unhold)
	d.step("bob stops recording", d.stopRecording)
	d.step("alice hangs up", d.hangUp)
	d.step("alice sends bob a file over MSRP", d.sendFile)
	d.cleanup()

	d.printTimeline()
	d.printSummary()
	if d.missing != "" {
		return failure(fmt.Errorf("demo failed: missing step: %s", d.missing))
	}
	return nil
}

func (d *demo) elapsed(t time.Time) int64 { return t.Sub(d.start).Milliseconds() }

func (d *demo) startParty(ctx context.Context, p *demoParty, logger *slog.Logger) (string, error) {
	app := application.New()
	app.Notifications().Observe(notification.Any, nil, func(n notification.Notification) {
		s, ok := n.Sender.(*session.Session)
		if !ok || !strings.HasPrefix(n.Name, "SIPSession") {
			return
		}
		shown := n
		shown.Sender = p.name
		shown.Data = sessionData(s, n)
		d.log.add(demoEntry{n: shown, raw: n, s: s})
		if n.Name == session.NewIncoming && p == d.bob {
			var err error
			if in, _ := notification.Data[session.StreamsData](n); slices.Contains(in.Streams, "file-transfer") {
				err = s.AcceptFileTransfer(filepath.Join(d.dir, "bob-inbox"))
			} else {
				err = s.Accept(true, true)
			}
			if err != nil {
				fmt.Fprintf(d.errOut, "bob: accept: %v\n", err)
			}
		}
	})
	sctx, cancel := context.WithTimeout(ctx, d.stepTimeout)
	defer cancel()
	err := app.Start(sctx, application.Options{Listen: "127.0.0.1:0", Backend: configuration.NewMemoryBackend(nil),
		Media: &session.MediaConfig{RTP: d.rtpConf}, Logger: logger})
	if err != nil {
		return "", err
	}
	p.app = app
	if p.acct, err = app.Accounts().AddLocal("udp"); err != nil {
		return "", err
	}
	if d.srtp == "off" {
		if _, err := disableSRTP(p.acct); err != nil { // a memory configuration: nothing to restore
			return "", err
		}
	}
	return p.name + " is " + p.acct.URI().String(), nil
}

func (d *demo) connect() (string, error) {
	s, err := d.alice.app.Sessions().NewSession(d.alice.acct)
	if err != nil {
		return "", err
	}
	d.as = s
	if err := s.Connect(context.Background(), d.bob.acct.URI(), nil, true, true); err != nil {
		return "", err
	}
	in, err := d.log.wait("bob", session.NewIncoming, 1, nil, d.stepTimeout)
	if err != nil {
		return "", err
	}
	d.bs = in.s
	for _, party := range []string{"alice", "bob"} {
		if _, err := d.log.wait(party, session.DidStart, 1, nil, d.stepTimeout); err != nil {
			if f := d.log.find(party, session.DidFail, nil); len(f) > 0 {
				return "", fmt.Errorf("%s: the call failed:%s", party, fields(plain(reflect.ValueOf(f[0].n.Data), 0)))
			}
			return "", err
		}
	}
	d.codec, d.sampleRate, d.srtpOn = s.AudioCodec(), s.AudioSampleRate(), s.AudioSRTPActive()
	// The tones: each party sends its own frequency.
	for _, x := range []struct {
		p *demoParty
		s *session.Session
	}{{d.alice, d.as}, {d.bob, d.bs}} {
		g, err := audio.NewToneGenerator(x.p.app.Sessions().Mixer().Format().SampleRate)
		if err != nil {
			return "", err
		}
		if _, err := g.PlayTone(x.p.tone, 0, 0); err != nil {
			return "", err
		}
		if _, err := x.s.Audio().AttachSource(g); err != nil {
			return "", fmt.Errorf("%s's tone: %w", x.p.name, err)
		}
	}
	return fmt.Sprintf("%s at %d Hz, SRTP %s; tones: alice %g Hz, bob %g Hz", d.codec, d.sampleRate, onOff(d.srtpOn),
		d.alice.tone, d.bob.tone), nil
}

// packets waits until s has received at least n RTP packets.
func (d *demo) packets(who string, s *session.Session, n uint64) (uint64, error) {
	a := s.Audio()
	if a == nil {
		return 0, fmt.Errorf("%s has no audio stream", who)
	}
	deadline := time.NewTimer(d.stepTimeout)
	defer deadline.Stop()
	select {
	case <-a.Received():
	case <-deadline.C:
		return 0, fmt.Errorf("%s received no audio within %v", who, d.stepTimeout)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if got := a.Stats().PacketsReceived; got >= n {
			return got, nil
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return 0, fmt.Errorf("%s received %d RTP packets within %v, want %d", who, a.Stats().PacketsReceived, d.stepTimeout, n)
		}
	}
}

func (d *demo) audioFlows(n uint64) (string, error) {
	ga, err := d.packets("alice", d.as, n)
	if err != nil {
		return "", err
	}
	gb, err := d.packets("bob", d.bs, n)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("alice received %d packets, bob %d", ga, gb), nil
}

func (d *demo) startRecording() (string, error) {
	dir := d.recordDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "sipsimple-demo-"); err != nil {
			return "", err
		}
	}
	d.dir = dir
	file := filepath.Join(dir, "bob-recording.wav")
	if err := d.bs.StartRecordingAudio(file); err != nil {
		return "", err
	}
	if _, err := d.log.wait("bob", session.DidStartRecordingAudio, 1, nil, d.stepTimeout); err != nil {
		return "", err
	}
	d.recording = file
	return file, nil
}

func (d *demo) sendDTMF() (string, error) {
	for _, digit := range d.digits {
		if err := d.as.SendDTMF(digit); err != nil {
			return "", fmt.Errorf("alice sends %q: %w", digit, err)
		}
	}
	// Digits take 100 ms each, plus their end packets.
	timeout := d.stepTimeout + time.Duration(len(d.digits))*200*time.Millisecond
	_, err := d.log.wait("bob", session.GotDTMF, len(d.digits), nil, timeout)
	var got strings.Builder
	for _, e := range d.log.find("bob", session.GotDTMF, nil) {
		dd, _ := notification.Data[session.DTMFData](e.raw)
		got.WriteRune(dd.Digit)
	}
	d.gotDigits = got.String()
	if err != nil {
		return "", fmt.Errorf("bob received %q of %q", d.gotDigits, d.digits)
	}
	if d.gotDigits != d.digits {
		return "", fmt.Errorf("bob received %q, alice sent %q", d.gotDigits, d.digits)
	}
	return "bob received " + d.gotDigits, nil
}

// chat sends a message each way on the call's chat stream and waits for
// both to be received and reported delivered.
func (d *demo) chat() (string, error) {
	for _, x := range []struct {
		from, to string
		s        *session.Session
		text     string
	}{{"alice", "bob", d.as, "Hello Bob, can you hear the tone?"}, {"bob", "alice", d.bs, "Loud and clear, Alice."}} {
		if _, err := x.s.SendMessage(x.text, "text/plain", nil, time.Time{}); err != nil {
			return "", fmt.Errorf("%s sends: %w", x.from, err)
		}
		got, err := d.log.wait(x.to, session.GotMessage, 1, nil, d.stepTimeout)
		if err != nil {
			return "", err
		}
		if m, _ := notification.Data[session.ChatMessageData](got.raw); string(m.Content) != x.text {
			return "", fmt.Errorf("%s received %q, %s sent %q", x.to, m.Content, x.from, x.text)
		}
		if _, err := d.log.wait(x.from, session.DidDeliverMessage, 1, nil, d.stepTimeout); err != nil {
			return "", err
		}
		d.chatDelivered++
	}
	return "2 messages, both delivered (MSRP success reports)", nil
}

// sendFile sends a generated file from alice to bob in a session of its
// own (RFC 5547) and checks that bob saved the same bytes.
func (d *demo) sendFile() (string, error) {
	if d.dir == "" {
		dir, err := os.MkdirTemp("", "sipsimple-demo-")
		if err != nil {
			return "", err
		}
		d.dir = dir
	}
	src := filepath.Join(d.dir, "alice-photo.bin")
	data := make([]byte, 256<<10)
	for i := range data {
		data[i] = byte(i*7 + i>>8)
	}
	if err := os.WriteFile(src, data, 0o600); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.stepTimeout)
	defer cancel()
	got := d.bob.app.Notifications().Expect(session.FileTransferGotFile, nil)
	delivered := d.alice.app.Notifications().Expect(session.FileTransferDidDeliverFile, nil)
	s, err := d.alice.app.Sessions().NewSession(d.alice.acct)
	if err != nil {
		return "", err
	}
	if err := s.SendFile(ctx, d.bob.acct.URI(), nil, src); err != nil {
		return "", err
	}
	n, err := got.Wait(ctx)
	if err != nil {
		return "", fmt.Errorf("bob got no file: %w", err)
	}
	if _, err := delivered.Wait(ctx); err != nil {
		return "", fmt.Errorf("alice's file not reported delivered: %w", err)
	}
	f, _ := notification.Data[session.FileData](n)
	saved, err := os.ReadFile(f.FileName)
	if err != nil || !bytes.Equal(saved, data) {
		return "", fmt.Errorf("bob's copy %s differs from alice's file", f.FileName)
	}
	d.fileReceived = f.FileName
	return fmt.Sprintf("%d KiB, SHA-1 checked, saved as %s", len(data)>>10, f.FileName), nil
}

func remoteOriginator(e demoEntry) bool {
	d, _ := notification.Data[session.OriginatorData](e.raw)
	return d.Originator == "remote"
}

func (d *demo) hold() (string, error) {
	if err := d.as.Hold(); err != nil {
		return "", err
	}
	if _, err := d.log.wait("bob", session.GotHoldRequest, 1, remoteOriginator, d.stepTimeout); err != nil {
		return "", err
	}
	if !d.bs.OnHoldByRemote() || !d.as.OnHoldByLocal() {
		return "", fmt.Errorf("hold flags: alice on hold by local %v, bob on hold by remote %v", d.as.OnHoldByLocal(), d.bs.OnHoldByRemote())
	}
	d.holdSeen = true
	return "bob is on hold by remote", nil
}

func (d *demo) unhold() (string, error) {
	if err := d.as.Unhold(); err != nil {
		return "", err
	}
	if _, err := d.log.wait("bob", session.GotUnholdRequest, 1, remoteOriginator, d.stepTimeout); err != nil {
		return "", err
	}
	// Audio again both ways: ten more packets each.
	before := map[string]uint64{"alice": d.as.Audio().Stats().PacketsReceived, "bob": d.bs.Audio().Stats().PacketsReceived}
	ga, err := d.packets("alice", d.as, before["alice"]+10)
	if err != nil {
		return "", err
	}
	gb, err := d.packets("bob", d.bs, before["bob"]+10)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("alice received %d packets, bob %d", ga, gb), nil
}

func (d *demo) stopRecording() (string, error) {
	if err := d.bs.StopRecordingAudio(); err != nil {
		return "", err
	}
	if _, err := d.log.wait("bob", session.DidStopRecordingAudio, 1, nil, d.stepTimeout); err != nil {
		return "", err
	}
	st, err := os.Stat(d.recording)
	if err != nil {
		return "", err
	}
	d.recordingSize = st.Size()
	f, err := os.Open(d.recording)
	if err != nil {
		return "", err
	}
	defer f.Close()
	r, err := audio.NewWAVReader(f)
	if err != nil {
		return "", fmt.Errorf("recording %s: %w", d.recording, err)
	}
	d.recordingRate = r.SampleRate()
	if n := r.Len(); n > 0 && d.recordingRate > 0 {
		d.recordingDur = time.Duration(n) * time.Second / time.Duration(d.recordingRate)
	}
	if d.recordingDur <= 0 {
		return "", fmt.Errorf("recording %s is empty (%d bytes)", d.recording, d.recordingSize)
	}
	return fmt.Sprintf("%s: %d bytes, %v", d.recording, d.recordingSize, d.recordingDur.Round(time.Millisecond)), nil
}

func (d *demo) hangUp() (string, error) {
	d.aliceStats, d.bobStats = d.as.Audio().Stats(), d.bs.Audio().Stats()
	if err := d.as.End(false); err != nil {
		return "", err
	}
	if _, err := d.log.wait("alice", session.DidEnd, 1, nil, d.stepTimeout); err != nil {
		return "", err
	}
	if _, err := d.log.wait("bob", session.DidEnd, 1, remoteOriginator, d.stepTimeout); err != nil {
		return "", err
	}
	return "the call ended at both sides", nil
}

// cleanup ends the call if a step failed in the middle and stops both
// applications; it may run twice.
func (d *demo) cleanup() {
	if d.as != nil {
		if st := d.as.State(); st != session.StateNull && st != session.StateTerminating && st != session.StateTerminated {
			if d.aliceStats.PacketsSent == 0 && d.as.Audio() != nil {
				d.aliceStats = d.as.Audio().Stats()
			}
			if d.bs != nil && d.bobStats.PacketsSent == 0 && d.bs.Audio() != nil {
				d.bobStats = d.bs.Audio().Stats()
			}
			d.as.End(false)
			d.log.wait("alice", session.DidEnd, 1, nil, d.stepTimeout)
		}
	}
	for _, p := range []*demoParty{d.alice, d.bob} {
		if p == nil || p.app == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), endTimeout)
		p.app.Stop(ctx)
		cancel()
		p.app = nil
	}
}

func (d *demo) printTimeline() {
	entries := d.log.sorted()
	if d.json {
		for _, e := range entries {
			d.pr.print(e.n)
		}
		return
	}
	fmt.Fprintln(d.out, "timeline (ms since the start):")
	for _, e := range entries {
		ms := d.elapsed(e.n.Timestamp)
		if e.n.Name == "CLIDemoStep" {
			m := e.n.Data.(map[string]any)
			line := fmt.Sprintf("%6d  demo   ok      %s", ms, m["step"])
			if m["ok"] != true {
				line = fmt.Sprintf("%6d  demo   FAILED  %s: %s", ms, m["step"], m["error"])
			} else if m["detail"] != nil {
				line += " (" + m["detail"].(string) + ")"
			}
			fmt.Fprintln(d.out, line)
			continue
		}
		fmt.Fprintf(d.out, "%6d  %-5s  %s%s\n", ms, e.n.Sender, e.n.Name, fields(plain(reflect.ValueOf(e.n.Data), 0)))
	}
}

func (d *demo) printSummary() {
	result := "every step happened"
	if d.missing != "" {
		result = "FAILED: missing step: " + d.missing
	}
	if d.json {
		d.pr.print(notification.Notification{Name: "CLIDemoSummary", Sender: "demo", Timestamp: time.Now(), Data: map[string]any{
			"codec": d.codec, "sample_rate": d.sampleRate, "srtp": d.srtpOn,
			"alice_packets_sent": d.aliceStats.PacketsSent, "alice_packets_received": d.aliceStats.PacketsReceived,
			"bob_packets_sent": d.bobStats.PacketsSent, "bob_packets_received": d.bobStats.PacketsReceived,
			"dtmf_sent": d.digits, "dtmf_received": d.gotDigits, "chat_delivered": d.chatDelivered, "hold_seen": d.holdSeen,
			"file_received": d.fileReceived,
			"recording":     d.recording, "recording_size": d.recordingSize, "recording_duration": d.recordingDur.Seconds(),
			"ok": d.missing == "", "missing": d.missing,
		}})
		return
	}
	w := d.out
	fmt.Fprintln(w, "summary:")
	fmt.Fprintf(w, "  codec          %s, %d Hz\n", noneIfEmpty(d.codec), d.sampleRate)
	fmt.Fprintf(w, "  SRTP           %s\n", onOff(d.srtpOn))
	fmt.Fprintf(w, "  alice          sent %d RTP packets, received %d\n", d.aliceStats.PacketsSent, d.aliceStats.PacketsReceived)
	fmt.Fprintf(w, "  bob            sent %d RTP packets, received %d\n", d.bobStats.PacketsSent, d.bobStats.PacketsReceived)
	fmt.Fprintf(w, "  DTMF           alice sent %s, bob received %s\n", d.digits, noneIfEmpty(d.gotDigits))
	fmt.Fprintf(w, "  chat           %d of 2 messages delivered\n", d.chatDelivered)
	fmt.Fprintf(w, "  file           %s\n", noneIfEmpty(d.fileReceived))
	fmt.Fprintf(w, "  hold           %s\n", map[bool]string{true: "seen by bob", false: "not seen"}[d.holdSeen])
	if d.recording != "" && d.recordingDur > 0 {
		fmt.Fprintf(w, "  recording      %s (%d bytes, %.2f s at %d Hz)\n", d.recording, d.recordingSize, d.recordingDur.Seconds(), d.recordingRate)
	} else {
		fmt.Fprintf(w, "  recording      %s\n", noneIfEmpty(d.recording))
	}
	fmt.Fprintf(w, "  result         %s (%d ms)\n", result, d.elapsed(time.Now()))
}

func noneIfEmpty(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
