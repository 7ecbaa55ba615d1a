package session_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sipsimple-go/sipsimple/application"
	"github.com/sipsimple-go/sipsimple/configuration"
	"github.com/sipsimple-go/sipsimple/core"
	"github.com/sipsimple-go/sipsimple/notification"
	"github.com/sipsimple-go/sipsimple/session"
)

// ExampleSession_Connect is the seed's example program: start the
// configuration, the accounts and the engine (Application.Start), connect
// a session with audio, wait for SIPSessionDidEnd, stop the engine and
// wait for SIPEngineDidEnd. Here the callee is a second Application on
// loopback that answers every call; the caller hangs up once the call
// started.
func ExampleSession_Connect() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The callee: answers every call with audio.
	bob := startLoopbackApp(ctx)
	defer bob.Stop(ctx)
	bobAccount, _ := bob.Accounts().AddLocal("udp")
	bob.Notifications().Observe(session.NewIncoming, nil, func(n notification.Notification) {
		n.Sender.(*session.Session).Accept(true, false)
	})

	// The caller.
	alice := startLoopbackApp(ctx)
	account, _ := alice.Accounts().AddLocal("udp")
	s, err := alice.Sessions().NewSession(account)
	if err != nil {
		panic(err)
	}
	center := alice.Notifications()
	started := center.Expect(session.DidStart, s)
	ended := center.Expect(session.DidEnd, s)
	if err := s.Connect(ctx, bobAccount.URI(), nil, true, false); err != nil {
		panic(err)
	}
	if _, err := started.Wait(ctx); err == nil {
		fmt.Println("session started with audio:", s.HasAudio())
	}
	s.End(false)
	n, err := ended.Wait(ctx)
	if err != nil {
		panic(err)
	}
	d, _ := notification.Data[session.OriginatorData](n)
	fmt.Println("session ended by the", d.Originator, "party")

	engineEnded := center.Expect(core.EngineDidEnd, nil)
	alice.Stop(ctx)
	if _, err := engineEnded.Wait(ctx); err == nil {
		fmt.Println("engine stopped")
	}
	// Output:
	// session started with audio: true
	// session ended by the local party
	// engine stopped
}

// ExampleSession_SendMessage starts a chat-only session between two
// Applications on loopback and sends a message: the callee gets
// SIPSessionGotMessage with the content and its CPIM sender, the caller
// SIPSessionDidDeliverMessage with the message id SendMessage returned.
func ExampleSession_SendMessage() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bob := startLoopbackApp(ctx)
	defer bob.Stop(ctx)
	bobAccount, _ := bob.Accounts().AddLocal("udp")
	bob.Notifications().Observe(session.NewIncoming, nil, func(n notification.Notification) {
		n.Sender.(*session.Session).Accept(false, true) // chat only
	})
	got := bob.Notifications().Expect(session.GotMessage, nil)

	alice := startLoopbackApp(ctx)
	defer alice.Stop(ctx)
	account, _ := alice.Accounts().AddLocal("udp")
	s, _ := alice.Sessions().NewSession(account)
	delivered := alice.Notifications().Expect(session.DidDeliverMessage, s)
	if err := s.Connect(ctx, bobAccount.URI(), nil, false, true); err != nil {
		panic(err)
	}
	id, err := s.SendMessage("Hello Bob", "text/plain", nil, time.Time{})
	if err != nil {
		panic(err)
	}
	n, err := got.Wait(ctx)
	if err != nil {
		panic(err)
	}
	m, _ := notification.Data[session.ChatMessageData](n)
	fmt.Println("bob got:", string(m.Content), "from alice:", m.CPIM.From.URI == account.URI().String())
	n, err = delivered.Wait(ctx)
	if err != nil {
		panic(err)
	}
	d, _ := notification.Data[session.ChatDeliveryData](n)
	fmt.Println("delivered:", d.MessageID == id, d.Code)
	s.End(false)
	// Output:
	// bob got: Hello Bob from alice: true
	// delivered: true 200
}

// startLoopbackApp starts an Application on 127.0.0.1 with its
// configuration in memory.
func startLoopbackApp(ctx context.Context) *application.Application {
	app := application.New()
	if err := app.Start(ctx, application.Options{Listen: "127.0.0.1:0", Backend: configuration.NewMemoryBackend(nil)}); err != nil {
		panic(err)
	}
	return app
}
