package notification_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sipsimple-go/sipsimple/notification"
)

// Session stands for any object that posts notifications.
type Session struct{ ID string }

// SessionDidEndData is the typed data of a "SIPSessionDidEnd" notification.
type SessionDidEndData struct {
	Originator string
	Reason     string
}

func ExampleCenter_Observe() {
	c := notification.NewCenter()
	defer c.Close()

	done := make(chan struct{})
	cancel := c.Observe("SIPSessionDidStart", nil, func(n notification.Notification) {
		// Runs on the observer's own goroutine, never on the poster's.
		fmt.Println("received", n.Name, "from", n.Sender.(*Session).ID)
		close(done)
	})
	defer cancel()

	c.Post("SIPSessionDidStart", &Session{ID: "call-1"}, nil)
	<-done
	// Output: received SIPSessionDidStart from call-1
}

func ExampleCenter_Expect() {
	c := notification.NewCenter()
	defer c.Close()
	session := &Session{ID: "call-2"}

	// Register before triggering the action, so the notification cannot
	// be missed however fast it comes.
	w := c.Expect("SIPSessionDidEnd", session)
	go c.Post("SIPSessionDidEnd", session, SessionDidEndData{Originator: "remote", Reason: "BYE"})

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := w.Wait(ctx)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(n.Name, n.Sender == session)

	// Waiting for something that does not come fails with the context's
	// error, naming what was waited for.
	ctx, cancel = context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	_, err = c.WaitFor(ctx, "SIPSessionDidFail", session)
	fmt.Println(err != nil)
	// Output:
	// SIPSessionDidEnd true
	// true
}

func ExampleData() {
	n := notification.Notification{
		Name: "SIPSessionDidEnd",
		Data: SessionDidEndData{Originator: "local", Reason: "Call completed"},
	}
	if d, ok := notification.Data[SessionDidEndData](n); ok {
		fmt.Println(d.Originator, d.Reason)
	}
	_, ok := notification.Data[*SessionDidEndData](n)
	fmt.Println(ok)
	// Output:
	// local Call completed
	// false
}
