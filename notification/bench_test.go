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

// BenchmarkAddRemoveManySenders measures adding and removing one
// registration for a specific sender while many other observers are
// registered, each for its own sender, under the same name: the pattern of
// many accounts each observing its own registrar.
func BenchmarkAddRemoveManySenders(b *testing.B) {
	for _, senders := range []int{100, 10000} {
		b.Run(fmt.Sprintf("senders=%d", senders), func(b *testing.B) {
			c := NewCenter()
			defer c.Close()
			const name = "SIPRegistrationDidSucceed"
			for i := range senders {
				o := &funcObserver{fn: func(Notification) {}}
				if err := c.AddObserver(o, name, &struct{ id int }{i}); err != nil {
					b.Fatal(err)
				}
			}
			o := &funcObserver{fn: func(Notification) {}}
			sender := &struct{ id int }{-1}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := c.AddObserver(o, name, sender); err != nil {
					b.Fatal(err)
				}
				if err := c.RemoveObserver(o, name, sender); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPostManySenders measures posting b.N notifications from one
// sender and delivering them, end to end, to the one observer registered for
// that sender, while many other observers are registered under the same name,
// each for its own sender.
func BenchmarkPostManySenders(b *testing.B) {
	const name = "SIPRegistrationDidSucceed"
	c := NewCenter(WithQueueLimit(b.N+1), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer c.Close()
	for i := range 10000 {
		o := &funcObserver{fn: func(Notification) {}}
		if err := c.AddObserver(o, name, &struct{ id int }{i}); err != nil {
			b.Fatal(err)
		}
	}
	sender := &struct{ id int }{-1}
	ct := &counter{target: b.N, done: make(chan struct{})}
	if err := c.AddObserver(ct, name, sender); err != nil {
		b.Fatal(err)
	}
	data := &struct{ n int }{}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		c.Post(name, sender, data)
	}
	<-ct.done
	elapsed := time.Since(start)
	b.StopTimer()
	if _, d, _ := c.Stats(ct); d != 0 {
		b.Fatalf("%d notifications dropped", d)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "notifications/s")
}

// BenchmarkPostUnmatchedSender measures the lookup of Post alone: the name
// has many registrations, each for its own sender, but none for the sender
// posting.
func BenchmarkPostUnmatchedSender(b *testing.B) {
	const name = "SIPRegistrationDidSucceed"
	c := NewCenter()
	defer c.Close()
	var sink atomic.Int64
	for i := range 10000 {
		o := &funcObserver{fn: func(Notification) { sink.Add(1) }}
		if err := c.AddObserver(o, name, &struct{ id int }{i}); err != nil {
			b.Fatal(err)
		}
	}
	sender := &struct{ id int }{-1}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		c.Post(name, sender, nil)
	}
	b.StopTimer()
	if sink.Load() != 0 {
		b.Fatal("unexpected delivery")
	}
}
