package application

import (
	"context"
	"testing"
	"time"

	"github.com/sipsimple-go/sipsimple/configuration"
)

// The relay a stream uses follows seed 001's MSRPConfiguration and the
// account's msrp.connection_model: direct for local accounts and acm, by
// direction (use_relay_incoming on, use_relay_outgoing off by default),
// relay_host when set (required), else discovered in the account's
// domain (optional: unreachable means direct).
func TestMSRPRelayChoice(t *testing.T) {
	app := New()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := app.Start(ctx, Options{Listen: "127.0.0.1:0", Backend: configuration.NewMemoryBackend(nil)}); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(ctx)
	acc, err := app.Accounts().NewAccount("alice@127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	acc.Auth.Password.Set("secret")
	local, err := app.Accounts().AddLocal("udp")
	if err != nil {
		t.Fatal(err)
	}
	r := &msrpRelays{app: app}

	if got, err := r.relay(ctx, local, false); got != nil || err != nil {
		t.Errorf("local account: %+v, %v; want a direct connection", got, err)
	}
	if got, err := r.relay(ctx, acc, true); got != nil || err != nil {
		t.Errorf("outgoing with use_relay_outgoing off: %+v, %v", got, err)
	}
	// Incoming, no relay_host: the domain (an IP literal here) at 2855,
	// msrps, optional.
	got, err := r.relay(ctx, acc, false)
	if err != nil || got == nil {
		t.Fatalf("incoming: %+v, %v", got, err)
	}
	if got.URI.String() != "msrps://127.0.0.1:2855;tcp" || !got.Optional || got.Username != "alice" || got.Password != "secret" {
		t.Errorf("incoming: relay %s optional %v user %q password %q", got.URI, got.Optional, got.Username, got.Password)
	}

	st := app.Settings()
	st.MSRP.RelayHost.Set("relay.example.org")
	st.MSRP.RelayPort.Set(9000)
	st.MSRP.RelayUseTLS.Set(false)
	st.MSRP.UseRelayOutgoing.Set(true)
	got, err = r.relay(ctx, acc, true)
	if err != nil || got == nil || got.URI.String() != "msrp://relay.example.org:9000;tcp" || got.Optional {
		t.Errorf("relay_host: %+v, %v", got, err)
	}

	acc.MSRP.ConnectionModel.Set("acm")
	if got, err := r.relay(ctx, acc, true); got != nil || err != nil {
		t.Errorf("connection_model acm: %+v, %v", got, err)
	}
}
