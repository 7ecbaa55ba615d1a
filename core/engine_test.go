package core

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"go.uber.org/goleak"

	"github.com/sipsimple-go/sipsimple/notification"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startEngine starts an engine on 127.0.0.1 with the given config tweaks.
func startEngine(t *testing.T, cfg EngineConfig) (*Engine, *notification.Center) {
	t.Helper()
	c := notification.NewCenter()
	t.Cleanup(c.Close)
	if cfg.LocalIP == "" {
		cfg.LocalIP = "127.0.0.1"
	}
	e := NewEngine(c, cfg)
	started := c.Expect(EngineDidStart, e)
	if err := e.Start(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := started.Wait(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Stop(context.Background()); err != nil && !strings.Contains(err.Error(), "stopped") {
			t.Error(err)
		}
	})
	return e, c
}

const optionsTemplate = "OPTIONS sip:%s SIP/2.0\r\n" +
	"Via: SIP/2.0/%s %s;branch=z9hG4bK-%s\r\n" +
	"Max-Forwards: 70\r\n" +
	"From: <sip:tester@example.com>;tag=t1\r\n" +
	"To: <sip:%s>\r\n" +
	"Call-ID: %s@test\r\n" +
	"CSeq: 1 %s\r\n" +
	"Content-Length: 0\r\n\r\n"

func rawRequest(method, transport, target, local, id string) string {
	s := fmt.Sprintf(optionsTemplate, target, transport, local, id, target, id, method)
	return strings.Replace(s, "OPTIONS sip:", method+" sip:", 1)
}

// udpExchange sends a datagram and returns the first response.
func udpExchange(t *testing.T, to string, msg string) *sip.Response {
	t.Helper()
	conn, err := net.Dial("udp", to)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msg = strings.ReplaceAll(msg, "LOCAL", conn.LocalAddr().String())
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 65535)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("no response from %s: %v", to, err)
	}
	m, err := sip.ParseMessage(buf[:n])
	if err != nil {
		t.Fatalf("unparseable response %q: %v", buf[:n], err)
	}
	res, ok := m.(*sip.Response)
	if !ok {
		t.Fatalf("got a request back: %q", buf[:n])
	}
	return res
}

func TestEngineStartStopListeners(t *testing.T) {
	c := notification.NewCenter()
	defer c.Close()
	e := NewEngine(c, EngineConfig{LocalIP: "127.0.0.1"})
	ctx := testCtx(t)
	started := c.Expect(EngineDidStart, e)
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := started.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := notification.Data[EngineDidStartData](n)
	if len(d.Listeners) != 2 || d.Listeners[0].Transport != "udp" || d.Listeners[1].Transport != "tcp" {
		t.Fatalf("listeners = %v", d.Listeners)
	}
	for _, l := range d.Listeners {
		if l.Addr.Port() == 0 || l.Addr.Addr().String() != "127.0.0.1" {
			t.Errorf("listener %v not bound to 127.0.0.1 with a real port", l)
		}
	}
	if err := e.Start(ctx); err == nil {
		t.Error("second Start succeeded")
	}
	ended := c.Expect(EngineDidEnd, e)
	if err := e.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ended.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.Stop(ctx); err == nil {
		t.Error("second Stop succeeded")
	}
	// The ports are free again.
	for _, l := range d.Listeners {
		if l.Transport == "udp" {
			pc, err := net.ListenPacket("udp", l.Addr.String())
			if err != nil {
				t.Errorf("UDP port not released: %v", err)
			} else {
				pc.Close()
			}
		}
	}
}

func TestEngineStartFailure(t *testing.T) {
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.LocalAddr().(*net.UDPAddr).Port
	c := notification.NewCenter()
	defer c.Close()
	e := NewEngine(c, EngineConfig{LocalIP: "127.0.0.1", UDPPort: port})
	failed := c.Expect(EngineDidFail, e)
	err = e.Start(testCtx(t))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprint(port)) {
		t.Fatalf("Start on a busy port: %v", err)
	}
	n, werr := failed.Wait(testCtx(t))
	if werr != nil {
		t.Fatal(werr)
	}
	if d, _ := notification.Data[EngineDidFailData](n); d.Error == nil {
		t.Fatal("DidFail without error")
	}
}

func TestEngineAnswersOptions(t *testing.T) {
	e, _ := startEngine(t, EngineConfig{UserAgent: "test-agent/1"})
	udp, _ := e.Listener("udp")
	res := udpExchange(t, udp.Addr.String(), rawRequest("OPTIONS", "UDP", udp.Addr.String(), "LOCAL", "opt1"))
	if res.StatusCode != 200 {
		t.Fatalf("OPTIONS: %d %s", res.StatusCode, res.Reason)
	}
	for name, want := range map[string]string{"Allow": "OPTIONS", "Accept": "application/sdp", "Supported": "", "Server": "test-agent/1"} {
		h := res.GetHeader(name)
		if h == nil || !strings.Contains(h.Value(), want) {
			t.Errorf("OPTIONS response header %s = %v, want %q", name, h, want)
		}
	}

	// Over TCP too.
	tcp, _ := e.Listener("tcp")
	conn, err := net.Dial("tcp", tcp.Addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, rawRequest("OPTIONS", "TCP", tcp.Addr.String(), conn.LocalAddr().String(), "opt2"))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "SIP/2.0 200") {
		t.Fatalf("TCP OPTIONS status %q, %v", status, err)
	}
}

func TestEngineUnknownMethod405AndHandlers(t *testing.T) {
	e, _ := startEngine(t, EngineConfig{})
	udp, _ := e.Listener("udp")
	res := udpExchange(t, udp.Addr.String(), rawRequest("PUBLISH", "UDP", udp.Addr.String(), "LOCAL", "pub1"))
	if res.StatusCode != 405 || res.GetHeader("Allow") == nil {
		t.Fatalf("PUBLISH without handler: %d, Allow %v", res.StatusCode, res.GetHeader("Allow"))
	}
	got := make(chan string, 1)
	e.Handle("MESSAGE", func(req *sip.Request, tx sip.ServerTransaction) {
		got <- req.CallID().Value()
		e.Respond(tx, sip.NewResponseFromRequest(req, 202, "Accepted", nil))
	})
	res = udpExchange(t, udp.Addr.String(), rawRequest("MESSAGE", "UDP", udp.Addr.String(), "LOCAL", "msg1"))
	if res.StatusCode != 202 || <-got != "msg1@test" {
		t.Fatalf("MESSAGE handler: %d", res.StatusCode)
	}
	if allow := strings.Join(e.Allowed(), ","); allow != "MESSAGE,OPTIONS" {
		t.Errorf("Allowed() = %s", allow)
	}
}

func TestEngineTrace(t *testing.T) {
	e, c := startEngine(t, EngineConfig{Trace: true})
	udp, _ := e.Listener("udp")
	traces := make(chan SIPTraceData, 16)
	cancel := c.Observe(EngineSIPTrace, e, func(n notification.Notification) {
		d, _ := notification.Data[SIPTraceData](n)
		traces <- d
	})
	defer cancel()
	udpExchange(t, udp.Addr.String(), rawRequest("OPTIONS", "UDP", udp.Addr.String(), "LOCAL", "tr1"))
	var in, out SIPTraceData
	for in.Data == nil || out.Data == nil {
		select {
		case d := <-traces:
			if d.Received {
				in = d
			} else {
				out = d
			}
		case <-time.After(5 * time.Second):
			t.Fatal("trace notifications missing")
		}
	}
	if !strings.HasPrefix(string(in.Data), "OPTIONS sip:") || in.DestinationPort != int(udp.Addr.Port()) || in.Transport != "udp" {
		t.Errorf("received trace = %+v", in)
	}
	if !strings.HasPrefix(string(out.Data), "SIP/2.0 200") || out.SourcePort != int(udp.Addr.Port()) {
		t.Errorf("sent trace = %+v", out)
	}
}

// Two engines run side by side in one process.
func TestTwoEngines(t *testing.T) {
	a, _ := startEngine(t, EngineConfig{})
	b, _ := startEngine(t, EngineConfig{})
	la, _ := a.Listener("udp")
	lb, _ := b.Listener("udp")
	if la.Addr == lb.Addr {
		t.Fatal("two engines share a port")
	}
	for _, l := range []Listener{la, lb} {
		if res := udpExchange(t, l.Addr.String(), rawRequest("OPTIONS", "UDP", l.Addr.String(), "LOCAL", "two"+l.Addr.String())); res.StatusCode != 200 {
			t.Fatalf("engine at %v: %d", l.Addr, res.StatusCode)
		}
	}
}

// startEngineSamePort starts an engine whose UDP and TCP listeners share
// one port (as a default 5060 setup does), retrying on a port taken
// meanwhile.
func startEngineSamePort(t *testing.T) (*Engine, *notification.Center) {
	t.Helper()
	for i := 0; i < 20; i++ {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		pc.Close()
		c := notification.NewCenter()
		e := NewEngine(c, EngineConfig{LocalIP: "127.0.0.1", UDPPort: port, TCPPort: port, Transports: []string{"udp", "tcp"}})
		if err := e.Start(testCtx(t)); err != nil {
			c.Close()
			continue
		}
		t.Cleanup(func() { e.Stop(context.Background()); c.Close() })
		return e, c
	}
	t.Fatal("no free port for UDP and TCP")
	return nil, nil
}

// A request longer than 1300 bytes for a UDP route goes over TCP to the
// same address and port (RFC 3261 18.1.1); when the peer does not listen
// on TCP it goes over UDP after all.
func TestLongRequestSwitchesToTCP(t *testing.T) {
	body := []byte(strings.Repeat("x", 2000))
	for _, peerTCP := range []bool{true, false} {
		a, _ := startEngine(t, EngineConfig{})
		var b *Engine
		if peerTCP {
			b, _ = startEngineSamePort(t)
		} else {
			b, _ = startEngine(t, EngineConfig{Transports: []string{"udp"}})
		}
		got := make(chan string, 1)
		b.Handle("MESSAGE", func(req *sip.Request, tx sip.ServerTransaction) {
			got <- req.Transport()
			b.Respond(tx, sip.NewResponseFromRequest(req, 200, "OK", nil))
		})
		lb, _ := b.Listener("udp")
		target := SIPURI{Scheme: "sip", User: "bob", Host: "127.0.0.1", Port: int(lb.Addr.Port())}
		me := NameAddr{URI: MustParseSIPURI("sip:alice@127.0.0.1")}
		req, err := NewRequest("MESSAGE", target, me, NameAddr{URI: target}, SIPURI{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.AppendHeader(sip.NewHeader("Content-Type", "text/plain"))
		req.SetBody(body)
		res, err := a.SendRequest(testCtx(t), req, Route{Address: "127.0.0.1", Port: int(lb.Addr.Port()), Transport: "udp"}, nil)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("peer TCP %v: %v %v", peerTCP, res, err)
		}
		want := "UDP"
		if peerTCP {
			want = "TCP"
		}
		if tr := <-got; !strings.EqualFold(tr, want) {
			t.Fatalf("peer TCP %v: the request came over %s, want %s", peerTCP, tr, want)
		}
	}
}

// A handler may answer after it has returned, from another goroutine (a
// call rings until the user answers): the request is answered once and
// handled once (no retransmission reaches a second handler call).
func TestHandlerAnswersLater(t *testing.T) {
	a, _ := startEngine(t, EngineConfig{})
	b, _ := startEngine(t, EngineConfig{})
	var calls atomic.Int32
	b.Handle("MESSAGE", func(req *sip.Request, tx sip.ServerTransaction) {
		calls.Add(1)
		returned := make(chan struct{})
		defer close(returned)
		go func() {
			<-returned
			b.Respond(tx, sip.NewResponseFromRequest(req, 202, "Accepted", nil))
		}()
	})
	lb, _ := b.Listener("udp")
	target := SIPURI{Scheme: "sip", User: "bob", Host: "127.0.0.1", Port: int(lb.Addr.Port())}
	req, _ := NewRequest("MESSAGE", target, NameAddr{URI: MustParseSIPURI("sip:alice@127.0.0.1")}, NameAddr{URI: target}, SIPURI{}, nil)
	res, err := a.SendRequest(testCtx(t), req, Route{Address: "127.0.0.1", Port: int(lb.Addr.Port()), Transport: "udp"}, nil)
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("%v %v", res, err)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("handler called %d times", n)
	}
}
