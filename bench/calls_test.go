package bench

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipsimple-go/sipsimple/application"
	"github.com/sipsimple-go/sipsimple/configuration"
	"github.com/sipsimple-go/sipsimple/core"
	"github.com/sipsimple-go/sipsimple/internal/interop"
	"github.com/sipsimple-go/sipsimple/notification"
	"github.com/sipsimple-go/sipsimple/rtp"
	"github.com/sipsimple-go/sipsimple/session"
)

var (
	flagCalls       = flag.Int("calls", 0, "TestUASLoad: calls SIPp makes (0 skips)")
	flagRate        = flag.Float64("rate", 1000, "TestUASLoad: calls per second SIPp offers")
	flagLimit       = flag.Int("limit", 2000, "TestUASLoad: SIPp's limit of simultaneous calls")
	flagAudioCalls  = flag.Int("audiocalls", 0, "TestAudioCalls: concurrent G.711 calls with RTP both ways (0 skips)")
	flagAudioWindow = flag.Duration("audiowindow", 10*time.Second, "TestAudioCalls: measuring window")
	flagMixerRate   = flag.Int("mixerrate", 8000, "TestAudioCalls: the mixer's sample rate")
	flagSessions    = flag.Int("sessions", 0, "TestSessionMemory: established sessions (0 skips)")
)

// uasApp starts an Application answering every call with audio, and
// counts the sessions that started, failed and ended.
type uasApp struct {
	app                     *application.Application
	port                    int
	started, failed, ended  atomic.Int64
	acceptErrors            atomic.Int64
	sessions                chan *session.Session
	stopIncoming, stopCount []func()
}

func startUAS(t *testing.T, mixerRate int, keep bool) *uasApp {
	t.Helper()
	app := application.New()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	media := &session.MediaConfig{SampleRate: mixerRate, PortRange: rtp.PortRange{Min: 10000, Max: 60000},
		NoAudioTimeout: -1, Codecs: []string{"PCMU", "PCMA"}}
	if err := app.Start(ctx, application.Options{Listen: "127.0.0.1:0", Backend: configuration.NewMemoryBackend(nil), Media: media}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		app.Stop(ctx)
	})
	local, err := app.Accounts().AddLocal("udp")
	if err != nil {
		t.Fatal(err)
	}
	u := &uasApp{app: app, port: local.URI().Port, sessions: make(chan *session.Session, 100000)}
	c := app.Notifications()
	c.Observe(session.NewIncoming, nil, func(n notification.Notification) {
		s := n.Sender.(*session.Session)
		if err := s.Accept(true, false); err != nil {
			u.acceptErrors.Add(1)
		}
	})
	c.Observe(session.DidStart, nil, func(n notification.Notification) {
		u.started.Add(1)
		if keep {
			u.sessions <- n.Sender.(*session.Session)
		}
	})
	c.Observe(session.DidFail, nil, func(notification.Notification) { u.failed.Add(1) })
	c.Observe(session.DidEnd, nil, func(notification.Notification) { u.ended.Add(1) })
	return u
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// childrenCPU is the CPU time of the child processes that ended (SIPp).
func childrenCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestUASLoad measures the calls per second the SDK answers as a UAS
// (Session accepted with audio by an observer, RTP stream opened and
// started) while SIPp's built-in uac scenario (INVITE, ACK, BYE at once)
// calls it at -rate. See bench/README.md.
func TestUASLoad(t *testing.T) {
	if *flagCalls <= 0 {
		t.Skip("set -calls=N to run (see bench/README.md)")
	}
	u := startUAS(t, *flagMixerRate, false)
	cpu0, child0, t0 := selfCPU(), childrenCPU(), time.Now()
	s := interop.RunSIPp(t, interop.SIPpOptions{Builtin: "uac", Remote: "127.0.0.1:" + strconv.Itoa(u.port),
		Calls: *flagCalls, Rate: *flagRate, Limit: *flagLimit, Timeout: time.Duration(float64(*flagCalls) / *flagRate * 4 * float64(time.Second) + 30*float64(time.Second))})
	res, _ := s.Wait(context.Background())
	elapsed, cpu, sippCPU := time.Since(t0), selfCPU()-cpu0, childrenCPU()-child0
	t.Logf("SIPp: %s; SIPp's CPU %v (%.2f cores)", res, sippCPU.Round(time.Millisecond), sippCPU.Seconds()/elapsed.Seconds())
	t.Logf("%d calls offered at %.0f/s: %d successful, %d failed (SIPp); SDK: %d started, %d failed, %d ended, %d accept errors",
		*flagCalls, *flagRate, res.Successful, res.Failed, u.started.Load(), u.failed.Load(), u.ended.Load(), u.acceptErrors.Load())
	t.Logf("wall %v: %.0f calls/s; CPU of this process %v (%.2f cores, %.0f µs per call)", elapsed.Round(time.Millisecond),
		float64(res.Successful)/elapsed.Seconds(), cpu.Round(time.Millisecond), cpu.Seconds()/elapsed.Seconds(),
		float64(cpu.Microseconds())/float64(max(res.Successful, 1)))
	if !res.OK() || res.Failed != 0 {
		t.Errorf("SIPp reported failures: %s", res)
	}
}

// echoScenario is a SIPp UAC that calls, holds the call for pause ms
// while SIPp's -rtp_echo returns every RTP packet to its sender, and
// hangs up.
const echoScenario = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="audio echo">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <pause/>
  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true"/>
</scenario>
`

// TestAudioCalls keeps -audiocalls G.711 calls established with RTP both
// ways (our streams send 50 packets/s each to SIPp, which echoes them
// back) and measures the CPU this process uses per call during
// -audiowindow.
func TestAudioCalls(t *testing.T) {
	n := *flagAudioCalls
	if n <= 0 {
		t.Skip("set -audiocalls=N to run (see bench/README.md)")
	}
	u := startUAS(t, *flagMixerRate, true)
	rate := 100.0
	setup := time.Duration(float64(n)/rate*float64(time.Second)) + 5*time.Second
	hold := setup + *flagAudioWindow + 5*time.Second
	mediaPort := interop.FreePort(t, "udp")
	s := interop.RunSIPp(t, interop.SIPpOptions{ScenarioXML: echoScenario, Remote: "127.0.0.1:" + strconv.Itoa(u.port),
		Calls: n, Rate: rate, Limit: n, Timeout: hold + 60*time.Second,
		Args: []string{"-rtp_echo", "-mp", strconv.Itoa(mediaPort), "-d", strconv.Itoa(int(hold.Milliseconds()))}})
	var sessions []*session.Session
	deadline := time.After(setup + 20*time.Second)
	for len(sessions) < n {
		select {
		case x := <-u.sessions:
			sessions = append(sessions, x)
		case <-deadline:
			t.Fatalf("%d of %d calls established", len(sessions), n)
		}
	}
	for _, x := range sessions {
		select {
		case <-x.Audio().Received():
		case <-time.After(10 * time.Second):
			t.Fatalf("no echoed audio on %s", x.Audio())
		}
	}
	stats := func() (sent, recv uint64) {
		for _, x := range sessions {
			st := x.Audio().Stats()
			sent += st.PacketsSent
			recv += st.PacketsReceived
		}
		return
	}
	sent0, recv0 := stats()
	cpu0, t0 := selfCPU(), time.Now()
	mixer0 := u.app.Sessions().Mixer().Stats()
	<-time.After(*flagAudioWindow) // the measuring window itself, not a synchronisation
	cpu, wall := selfCPU()-cpu0, time.Since(t0)
	sent1, recv1 := stats()
	mixer1 := u.app.Sessions().Mixer().Stats()
	perCall := time.Duration(float64(cpu) / wall.Seconds() / float64(n))
	t.Logf("%d calls, window %v: RTP sent %d (%.1f/s per call), received %d (%.1f/s per call)", n, wall.Round(time.Millisecond),
		sent1-sent0, float64(sent1-sent0)/wall.Seconds()/float64(n), recv1-recv0, float64(recv1-recv0)/wall.Seconds()/float64(n))
	t.Logf("CPU of this process %v = %.2f cores; %v of CPU per second per call (%.3f%% of a core); mixer %+v -> %+v",
		cpu.Round(time.Millisecond), cpu.Seconds()/wall.Seconds(), perCall, perCall.Seconds()*100, mixer0, mixer1)
	res, _ := s.Wait(context.Background())
	if !res.OK() {
		t.Errorf("SIPp: %s", res)
	}
}

// TestSessionMemory measures the heap per established session: with audio
// (session.Session with its RTP stream, -sessions calls from SIPp held
// open) and without (the signalling alone: core.Invitation dialogs
// answered with a fixed SDP and no media).
func TestSessionMemory(t *testing.T) {
	n := *flagSessions
	if n <= 0 {
		t.Skip("set -sessions=N to run (see bench/README.md)")
	}
	t.Run("audio", func(t *testing.T) {
		before := sampleMemory()
		u := startUAS(t, 8000, true)
		base := sampleMemory()
		hold := time.Duration(float64(n)/200*float64(time.Second)) + 20*time.Second
		s := interop.RunSIPp(t, interop.SIPpOptions{ScenarioXML: echoScenario, Remote: "127.0.0.1:" + strconv.Itoa(u.port),
			Calls: n, Rate: 200, Limit: n, Timeout: hold + 60*time.Second, Args: []string{"-d", strconv.Itoa(int(hold.Milliseconds()))}})
		waitCount(t, &u.started, int64(n), hold)
		m := sampleMemory()
		t.Logf("application %s; %d sessions with audio: heap %+d B (%.1f KB per session), stack %+d B (%.1f KB per session), goroutines %d -> %d",
			fmtBytes(base.HeapAlloc-before.HeapAlloc), n, int64(m.HeapAlloc-base.HeapAlloc), float64(m.HeapAlloc-base.HeapAlloc)/1024/float64(n),
			int64(m.StackInuse-base.StackInuse), float64(m.StackInuse-base.StackInuse)/1024/float64(n), base.Goroutines, m.Goroutines)
		s.Wait(context.Background())
	})
	t.Run("signalling", func(t *testing.T) {
		c := notification.NewCenter()
		defer c.Close()
		e := core.NewEngine(c, core.EngineConfig{LocalIP: "127.0.0.1"})
		ctx := context.Background()
		if err := e.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer e.Stop(ctx)
		var established atomic.Int64
		sdp := []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
		var invs atomic.Pointer[[]*core.Invitation]
		list := []*core.Invitation{}
		invs.Store(&list)
		e.Handle("INVITE", func(req *sip.Request, tx sip.ServerTransaction) {
			l, _ := e.Listener("udp")
			contact := core.SIPURI{Host: "127.0.0.1", Port: int(l.Addr.Port())}
			inv, err := e.NewIncomingInvitation(req, tx, core.InvitationConfig{Contact: contact})
			if err != nil {
				return
			}
			c.Observe(core.InvitationChangedState, inv, func(n notification.Notification) {
				if d, _ := notification.Data[core.InvitationChangedStateData](n); d.State == core.InvitationConnected && d.PrevState != core.InvitationConnected {
					established.Add(1)
				}
			})
			inv.SendResponse(200, "OK", "application/sdp", sdp)
		})
		l, _ := e.Listener("udp")
		base := sampleMemory()
		hold := time.Duration(float64(n)/200*float64(time.Second)) + 20*time.Second
		s := interop.RunSIPp(t, interop.SIPpOptions{ScenarioXML: echoScenario, Remote: "127.0.0.1:" + strconv.Itoa(int(l.Addr.Port())),
			Calls: n, Rate: 200, Limit: n, Timeout: hold + 60*time.Second, Args: []string{"-d", strconv.Itoa(int(hold.Milliseconds()))}})
		waitCount(t, &established, int64(n), hold)
		m := sampleMemory()
		t.Logf("%d dialogs without media: heap %+d B (%.1f KB per dialog), stack %+d B (%.1f KB per dialog)", n,
			int64(m.HeapAlloc-base.HeapAlloc), float64(m.HeapAlloc-base.HeapAlloc)/1024/float64(n),
			int64(m.StackInuse-base.StackInuse), float64(m.StackInuse-base.StackInuse)/1024/float64(n))
		s.Wait(context.Background())
	})
}

// waitCount waits until c reaches n (a bounded poll: the counters are
// updated by observers on their own goroutines).
func waitCount(t *testing.T, c *atomic.Int64, n int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for c.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d within %v", c.Load(), n, within)
		}
		<-tick.C
	}
}

func fmtBytes(b uint64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }
