package interop

import (
	"context"
	"fmt"
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
