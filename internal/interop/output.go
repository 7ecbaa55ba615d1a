package interop

import (
	"bytes"
	"context"
	"strings"
	"sync"
)

// maxOutput bounds the output kept per process; older output is dropped
// (and marked) once the limit is reached.
const maxOutput = 8 << 20

// Output collects the output of a peer process. It is safe for concurrent
// use and lets callers wait until some text appears.
type Output struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	dropped int
	changed chan struct{} // closed and replaced on every write
}

func newOutput() *Output {
	return &Output{changed: make(chan struct{})}
}

// Write appends p; it implements io.Writer.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	if o.buf.Len() > maxOutput {
		n := o.buf.Len() - maxOutput/2
		o.buf.Next(n)
		o.dropped += n
	}
	close(o.changed)
	o.changed = make(chan struct{})
	return len(p), nil
}

// String returns the output collected so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dropped > 0 {
		return "[... " + itoa(o.dropped) + " bytes dropped ...]\n" + o.buf.String()
	}
	return o.buf.String()
}

// Tail returns at most the last n bytes of the output.
func (o *Output) Tail(n int) string {
	s := o.String()
	if len(s) <= n {
		return s
	}
	return "[...]" + s[len(s)-n:]
}

// WaitFor waits until the output satisfies match (called with the whole
// output so far) or ctx is done; it returns ctx.Err() in the latter case.
func (o *Output) WaitFor(ctx context.Context, match func(string) bool) error {
	for {
		o.mu.Lock()
		s, ch := o.buf.String(), o.changed
		o.mu.Unlock()
		if match(s) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitForString waits until the output contains substr.
func (o *Output) WaitForString(ctx context.Context, substr string) error {
	return o.WaitFor(ctx, func(s string) bool { return strings.Contains(s, substr) })
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
