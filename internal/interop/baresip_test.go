package interop

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBaresipAnswersOptions starts baresip and sends it an OPTIONS from a
// raw UDP socket; it also exercises the ctrl_tcp command channel.
func TestBaresipAnswersOptions(t *testing.T) {
	b := StartBaresip(t, BaresipConfig{User: "carol"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// baresip only answers requests for one of its accounts: 404 otherwise.
	code, raw, err := PingUDP(ctx, b.SIPAddr(), b.URI())
	if err != nil {
		t.Fatal(err)
	}
	if code != 200 || !strings.Contains(raw, "baresip") {
		t.Fatalf("OPTIONS %s: got %d, want baresip's 200:\n%s", b.URI(), code, raw)
	}

	resp, err := b.Command(ctx, "reginfo", "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(resp.Data, "sip:carol@127.0.0.1") {
		t.Fatalf("reginfo does not list the account:\n%s", resp.Data)
	}
}

// TestBaresipRegistersWithKamailio registers baresip at Kamailio and
// reaches it through the proxy with an OPTIONS from a raw UDP socket.
func TestBaresipRegistersWithKamailio(t *testing.T) {
	k := StartKamailio(t, KamailioConfig{Users: map[string]string{"alice": "s3cret"}, DisableTLS: true})
	b := StartBaresip(t, BaresipConfig{Accounts: []string{k.BaresipAccount("alice", "udp", 60)}})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := b.WaitEventType(ctx, "REGISTER_OK"); err != nil {
		t.Fatal(err)
	}

	// A request from a foreign domain to alice@example.test is delivered
	// to her registered contact, i.e. baresip.
	ep := newUDPEndpoint(t)
	ruri := k.AOR("alice")
	msg := request("OPTIONS", ruri, []string{
		fmt.Sprintf("Via: SIP/2.0/UDP %s;rport;branch=z9hG4bK%s", ep.addr(), randomToken()),
		"Max-Forwards: 70",
		fmt.Sprintf("From: <sip:probe@elsewhere.test>;tag=%s", randomToken()),
		"To: <" + ruri + ">",
		"Call-ID: " + randomToken(),
		"CSeq: 1 OPTIONS",
	}, "")
	resp := ep.transact(k.UDPAddr(), msg, "1 OPTIONS")
	if resp.status() != 200 || !strings.Contains(resp.get("Server"), "baresip") {
		t.Fatalf("OPTIONS %s via Kamailio: got %q (Server %q), want baresip's 200", ruri, resp.startLine, resp.get("Server"))
	}
}

// TestBaresipCallsBaresip exercises the call helpers between two baresips:
// an aufile source written by WriteToneWAV, Dial and auto-answer,
// AudioStats, SendDTMF, Hold and Resume, Hangup.
func TestBaresipCallsBaresip(t *testing.T) {
	wav := filepath.Join(t.TempDir(), "tone.wav")
	if err := WriteToneWAV(wav, 8000, 1, 700, 0.5, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	caller := StartBaresip(t, BaresipConfig{User: "alice", AudioSource: "aufile," + wav, SourceSampleRate: 8000, SourceChannels: 1})
	callee := StartBaresip(t, BaresipConfig{User: "bob", AnswerMode: "auto"})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()

	if err := caller.Dial(ctx, callee.URI()); err != nil {
		t.Fatal(err)
	}
	for _, b := range []*Baresip{caller, callee} {
		if _, err := b.WaitEventType(ctx, "CALL_ESTABLISHED"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.WaitEventType(ctx, "CALL_RTPESTAB"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.WaitAudioStats(ctx, func(st BaresipAudioStats) bool {
			return st.Direction == "sendrecv" && st.PacketsReceived > 0 && st.PacketsSent > 0
		}); err != nil {
			t.Fatalf("%s: %v", b.User, err)
		}
	}
	if st, _ := caller.AudioStats(ctx); !strings.Contains(st.Raw, "aufile,"+wav) {
		t.Errorf("the caller's source is not the WAV file:\n%s", st.Raw)
	}

	if err := caller.SendDTMF(ctx, "5#"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"5", "#"} {
		ev, err := callee.WaitEventType(ctx, "CALL_DTMF_START")
		if err != nil {
			t.Fatal(err)
		}
		if ev.Param != want {
			t.Errorf("DTMF %q, want %q", ev.Param, want)
		}
	}

	if err := caller.Hold(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := callee.WaitAudioStats(ctx, func(st BaresipAudioStats) bool { return st.Direction == "recvonly" }); err != nil {
		t.Fatal(err)
	}
	if err := caller.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := callee.WaitAudioStats(ctx, func(st BaresipAudioStats) bool { return st.Direction == "sendrecv" }); err != nil {
		t.Fatal(err)
	}

	if err := caller.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := callee.WaitEventType(ctx, "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
}
