package interop

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSIPpUAS runs SIPp as UAS with the shipped scenario file and sends it
// an OPTIONS from a raw UDP socket.
func TestSIPpUAS(t *testing.T) {
	s := RunSIPp(t, SIPpOptions{Scenario: "testdata/sipp/options_uas.xml", Calls: 1, Timeout: 20 * time.Second})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code, raw, err := PingUDP(ctx, s.Addr(), "sip:interop@"+s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if code != 200 || !strings.Contains(raw, "SIPpTag01") {
		t.Fatalf("OPTIONS to SIPp: got %d, want SIPp's 200:\n%s", code, raw)
	}

	res, err := s.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Successful != 1 {
		t.Fatalf("%v, want exit 0 with 1 successful call\n%s", res, res.Screen)
	}
	if res.Stats["IncomingCall(C)"] != "1" {
		t.Errorf("IncomingCall(C) = %q, want 1", res.Stats["IncomingCall(C)"])
	}
}

// optionsResponder is a raw Go UAS answering every OPTIONS with status.
func optionsResponder(t *testing.T, status string) (addr string, received func() int) {
	ep := newUDPEndpoint(t)
	var mu sync.Mutex
	callIDs := map[string]bool{}
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := ep.conn.ReadFromUDP(buf)
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("responder: %v", err)
				}
				return
			}
			m, err := parseSIP(string(buf[:n]))
			if err != nil || m.isResponse() || m.method() != "OPTIONS" {
				continue
			}
			mu.Lock()
			callIDs[m.get("Call-ID")] = true
			mu.Unlock()
			_, _ = ep.conn.WriteToUDP([]byte(response(m, status)), from)
		}
	}()
	return ep.addr(), func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(callIDs)
	}
}

// TestSIPpUAC runs SIPp as UAC sending OPTIONS to a raw Go UDP responder.
func TestSIPpUAC(t *testing.T) {
	addr, received := optionsResponder(t, "200 OK")
	s := RunSIPp(t, SIPpOptions{
		ScenarioXML:   SIPpOptionsUAC,
		Remote:        addr,
		Service:       "responder",
		Calls:         3,
		Rate:          50,
		Timeout:       20 * time.Second,
		TraceMessages: true,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Successful != 3 || res.Created != 3 {
		t.Fatalf("%v, want exit 0 with 3 successful calls\n%s", res, res.Screen)
	}
	if got := received(); got != 3 {
		t.Errorf("responder saw %d OPTIONS transactions, want 3", got)
	}
	if msgs := readFileString(s.MessageFile); !strings.Contains(msgs, "OPTIONS sip:responder@"+addr) {
		t.Errorf("message log lacks the OPTIONS:\n%s", msgs)
	}
}

// TestSIPpUACFailure checks that failed calls are reported: the responder
// answers 486, which the scenario does not expect.
func TestSIPpUACFailure(t *testing.T) {
	addr, _ := optionsResponder(t, "486 Busy Here")
	s := RunSIPp(t, SIPpOptions{ScenarioXML: SIPpOptionsUAC, Remote: addr, Calls: 1, Timeout: 20 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() || res.ExitCode != SIPpExitSomeCallsFail || res.Failed != 1 {
		t.Fatalf("%v, want exit 1 with 1 failed call", res)
	}
	if !strings.Contains(readFileString(s.ErrorFile), "486") {
		t.Errorf("error log does not mention the unexpected 486:\n%s", readFileString(s.ErrorFile))
	}
}

// TestSIPpOverTCP runs a SIPp UAC against a SIPp UAS over TCP.
func TestSIPpOverTCP(t *testing.T) {
	uas := RunSIPp(t, SIPpOptions{ScenarioXML: SIPpOptionsUAS, Transport: "t1", Calls: 2, Timeout: 20 * time.Second})
	uac := RunSIPp(t, SIPpOptions{ScenarioXML: SIPpOptionsUAC, Transport: "t1", Remote: uas.Addr(), Calls: 2, Rate: 20, Timeout: 20 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for name, s := range map[string]*SIPp{"uac": uac, "uas": uas} {
		res, err := s.Wait(ctx)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !res.OK() || res.Successful != 2 {
			t.Fatalf("%s: %v, want exit 0 with 2 successful calls\n%s", name, res, res.Screen)
		}
	}
}

// TestSIPpBadScenario checks that a scenario SIPp cannot load fails
// RunSIPp instead of leaving the test waiting for a server that never
// listens.
func TestSIPpBadScenario(t *testing.T) {
	r := &recordingTB{TB: t}
	r.run(func(tb testing.TB) {
		RunSIPp(tb, SIPpOptions{ScenarioXML: "<scenario><oops></scenario>", Calls: 1})
	})
	if !strings.Contains(r.fatal, "sipp did not start") {
		t.Fatalf("RunSIPp with a broken scenario: fatal %q", r.fatal)
	}
}
