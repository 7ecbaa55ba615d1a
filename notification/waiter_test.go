package notification

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func registered(c *Center) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.observers)
}

func TestExpectBeforeAction(t *testing.T) {
	c, _ := newTestCenter(t)
	s := &testSender{"session"}
	w := c.Expect("SIPSessionDidEnd", s)
	c.Post("SIPSessionDidEnd", &testSender{"other"}, 0)
	c.Post("SIPSessionDidEnd", s, 1)
	c.Post("SIPSessionDidEnd", s, 2)
	// The match is delivered before Wait is called.
	<-w.settled
	n, err := w.Wait(testContext(t))
	if err != nil || n.Data != 1 || n.Sender != s {
		t.Fatalf("Wait = %v, %v", n, err)
	}
	if registered(c) != 0 {
		t.Fatal("Waiter still registered after its match")
	}
	// Wait again returns the same result; Cancel does not change it.
	w.Cancel()
	if n, err := w.Wait(testContext(t)); err != nil || n.Data != 1 {
		t.Fatalf("second Wait = %v, %v", n, err)
	}
}

func TestExpectMatch(t *testing.T) {
	c, _ := newTestCenter(t)
	w := c.ExpectMatch("N", nil, func(n Notification) bool { return n.Data == 2 })
	go func() {
		for i := range 4 {
			c.Post("N", nil, i)
		}
	}()
	n, err := w.Wait(testContext(t))
	if err != nil || n.Data != 2 {
		t.Fatalf("Wait = %v, %v", n, err)
	}
	if registered(c) != 0 {
		t.Fatal("Waiter still registered after its match")
	}
}

func TestWaitTimeout(t *testing.T) {
	c, _ := newTestCenter(t)
	s := &testSender{"session"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := c.WaitFor(ctx, "SIPSessionDidStart", s)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{`"SIPSessionDidStart"`, "*notification.testSender"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if registered(c) != 0 {
		t.Fatal("Waiter still registered after its context ended")
	}
}

func TestWaiterCancel(t *testing.T) {
	c, _ := newTestCenter(t)
	w := c.Expect("N", nil)
	if registered(c) != 1 {
		t.Fatal("Expect did not register")
	}
	w.Cancel()
	w.Cancel()
	if registered(c) != 0 {
		t.Fatal("Waiter still registered after Cancel")
	}
	c.Post("N", nil, nil)
	if _, err := w.Wait(testContext(t)); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), `"N"`) {
		t.Fatalf("Wait after Cancel = %v", err)
	}
}

func TestWaiterClosedWhileWaiting(t *testing.T) {
	c, _ := newTestCenter(t)
	w := c.Expect("N", nil)
	errc := make(chan error, 1)
	go func() {
		_, err := w.Wait(testContext(t))
		errc <- err
	}()
	c.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(failAfter):
		t.Fatal("Wait did not return on Close")
	}
}

func TestWaiterInvalidSender(t *testing.T) {
	c, _ := newTestCenter(t)
	_, err := c.Expect("N", []string{"x"}).Wait(testContext(t))
	if !errors.Is(err, ErrInvalidSender) || !strings.Contains(err.Error(), "[]string") {
		t.Fatalf("err = %v", err)
	}
}
