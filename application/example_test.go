package application_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sipsimple-go/sipsimple/application"
	"github.com/sipsimple-go/sipsimple/configuration"
)

// Example starts an application with its settings in memory, reads a
// setting and stops it.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	app := application.New()
	ended := app.Notifications().Expect(application.DidEnd, app)
	if err := app.Start(ctx, application.Options{Listen: "127.0.0.1:0", Backend: configuration.NewMemoryBackend(nil)}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("RTP ports:", app.Settings().RTP.PortRange.Get())
	if err := app.Stop(ctx); err != nil {
		fmt.Println(err)
	}
	n, _ := ended.Wait(ctx)
	fmt.Println(n.Name, app.State())
	// Output:
	// RTP ports: 50000-50500
	// SIPApplicationDidEnd ended
}
