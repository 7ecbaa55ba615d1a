package notification

import (
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

// counter counts notifications and signals when it has seen target.
type counter struct {
	n      int
	target int
	done   chan struct{}
}

func (c *counter) HandleNotification(Notification) {
	c.n++
	if c.n == c.target {
		close(c.done)
	}
}

// BenchmarkPostDeliver measures posting b.N notifications from one goroutine
// and delivering each of them to every observer, end to end.
func BenchmarkPostDeliver(b *testing.B) {
	for _, observers := range []int{1, 10} {
		b.Run(fmt.Sprintf("observers=%d", observers), func(b *testing.B) {
			// The queue must hold everything, so that nothing is
			// dropped whatever the relative speed of the goroutines.
			c := NewCenter(WithQueueLimit(b.N+1), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
			defer c.Close()
			counters := make([]*counter, observers)
			for i := range counters {
				counters[i] = &counter{target: b.N, done: make(chan struct{})}
				if err := c.AddObserver(counters[i], "SIPSessionDidStart", nil); err != nil {
					b.Fatal(err)
				}
			}
			sender := &struct{ id int }{}
			data := &struct{ n int }{}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				c.Post("SIPSessionDidStart", sender, data)
			}
			for _, ct := range counters {
				<-ct.done
			}
			elapsed := time.Since(start)
			b.StopTimer()
			for _, ct := range counters {
				if _, d, _ := c.Stats(ct); d != 0 {
					b.Fatalf("%d notifications dropped", d)
				}
			}
			b.ReportMetric(float64(b.N)*float64(observers)/elapsed.Seconds(), "notifications/s")
		})
	}
}

// BenchmarkPostNoObservers measures Post when nothing matches, with other
// registrations present.
func BenchmarkPostNoObservers(b *testing.B) {
	c := NewCenter()
	defer c.Close()
	var sink atomic.Int64
	for i := range 20 {
		o := &funcObserver{fn: func(Notification) { sink.Add(1) }}
		if err := c.AddObserver(o, fmt.Sprint("Other", i), &struct{ int }{i}); err != nil {
			b.Fatal(err)
		}
	}
	sender := &struct{ id int }{}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		c.Post("SIPSessionDidStart", sender, nil)
	}
	b.StopTimer()
	if sink.Load() != 0 {
		b.Fatal("unexpected delivery")
	}
}
