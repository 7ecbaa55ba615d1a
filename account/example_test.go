package account_test

import (
	"context"
	"fmt"

	"github.com/sipsimple-go/sipsimple/account"
	"github.com/sipsimple-go/sipsimple/configuration"
	"github.com/sipsimple-go/sipsimple/configuration/settings"
	"github.com/sipsimple-go/sipsimple/notification"
)

// Example creates two accounts (without an engine they do not activate),
// makes one the default and lets the manager pick the account for an
// outgoing request, PJSUA-style.
func Example() {
	ctx := context.Background()
	center := notification.NewCenter()
	defer center.Close()
	config := configuration.NewManager(configuration.NewMemoryBackend(nil), center, nil)
	config.Start()
	global, _ := settings.New(config)
	mgr := account.NewManager(account.Config{Center: center, Configuration: config, Settings: global})
	mgr.Start(ctx)
	defer mgr.Stop(ctx)

	for _, id := range []string{"alice@example.com", "alice@example.org"} {
		a, _ := mgr.NewAccount(id)
		a.Auth.Password.Set("secret")
		a.Enabled.Set(true)
		if err := a.Save(); err != nil { // creating an account = saving its settings
			fmt.Println(err)
		}
	}
	org, _ := mgr.Account("alice@example.org")
	mgr.SetDefaultAccount(org)

	fmt.Println(mgr.FindForOutgoing("sip:bob@example.com").ID())
	fmt.Println(mgr.FindForOutgoing("sip:carol@elsewhere.net").ID())
	fmt.Println(org.Credentials())
	// Output:
	// alice@example.com
	// alice@example.org
	// Credentials(username="alice", realm="*", password=***)
}
