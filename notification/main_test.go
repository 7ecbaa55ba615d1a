package notification

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// failAfter bounds every wait in the tests; it is a failure timeout only.
const failAfter = 10 * time.Second

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), failAfter)
	t.Cleanup(cancel)
	return ctx
}

// newTestCenter returns a Center that is closed when the test ends, logging
// into the returned buffer.
func newTestCenter(t *testing.T, opts ...Option) (*Center, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	opts = append([]Option{WithLogger(slog.New(slog.NewTextHandler(logs, nil)))}, opts...)
	c := NewCenter(opts...)
	t.Cleanup(c.Close)
	return c, logs
}

// logBuffer is a goroutine-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// recorder is an Observer that forwards what it receives to a channel.
type recorder struct {
	ch chan Notification
}

func newRecorder() *recorder { return &recorder{ch: make(chan Notification, 1<<16)} }

func (r *recorder) HandleNotification(n Notification) { r.ch <- n }

// next returns the next notification received by r, failing the test if
// none arrives in time.
func (r *recorder) next(t *testing.T) Notification {
	t.Helper()
	select {
	case n := <-r.ch:
		return n
	case <-time.After(failAfter):
		t.Fatal("timed out waiting for a notification")
		return Notification{}
	}
}

const barrierName = "TestBarrier"

// barrier registers every recorder for barrierName, posts it, and returns for
// each recorder what it received before the barrier. Since delivery keeps
// post order per observer, this proves what was, and was not, delivered.
func barrier(t *testing.T, c *Center, recs ...*recorder) [][]Notification {
	t.Helper()
	for _, r := range recs {
		if err := c.AddObserver(r, barrierName, nil); err != nil {
			t.Fatal(err)
		}
	}
	c.Post(barrierName, nil, nil)
	out := make([][]Notification, len(recs))
	for i, r := range recs {
		for {
			n := r.next(t)
			if n.Name == barrierName {
				break
			}
			out[i] = append(out[i], n)
		}
		c.DiscardObserver(r, barrierName, nil)
	}
	return out
}

// label renders a notification as "name/sender" for comparisons.
func label(n Notification) string {
	s := "nil"
	if n.Sender != nil {
		s = fmt.Sprint(n.Sender)
	}
	return n.Name + "/" + s
}

func labels(ns []Notification) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = label(n)
	}
	return out
}

// testSender is a comparable sender with a readable name.
type testSender struct{ name string }

func (s *testSender) String() string { return s.name }
