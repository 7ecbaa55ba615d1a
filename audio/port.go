package audio

import (
	"context"
	"sync/atomic"
	"time"
)

// Port is anything a [Mixer] can connect: a sound device, a WAV player or
// recorder, a tone generator, or the RTP stream of a call (which the session
// layer writes: it encodes the frames it is given and decodes the payloads it
// receives). A Port implements [Source], [Sink] or both; the mixer finds out
// which when the port is added.
//
// Port methods are called from the mixer's clock goroutine, one at a time.
// They must return quickly and never block (on I/O, a network write, a lock
// held for long, or a channel): one blocked port delays the whole mixer. The
// ports of this package keep any I/O on goroutines of their own behind
// bounded buffers, and drop (and count) audio rather than wait when their
// file cannot keep up. They must not panic, and must not keep the frame
// slices after returning.
type Port interface {
	// SampleRate returns the rate, in Hz, of the frames the port produces
	// and consumes. The mixer converts between it and its own rate. It must
	// not change while the port is in a mixer.
	SampleRate() int
}

// Source is a port that produces audio.
type Source interface {
	Port
	// ReadFrame fills frame (one frame at the port's rate) with the port's
	// next frame and reports true, or reports false when the port has
	// nothing to contribute this time (silence; frame's content is then
	// ignored).
	ReadFrame(frame []int16) bool
}

// Sink is a port that consumes audio.
type Sink interface {
	Port
	// WriteFrame gives the port the frame it hears: the sum of the sources
	// connected to it (silence when none is, or none had anything), at the
	// port's rate.
	WriteFrame(frame []int16)
}

// Clock drives a mixer in real time: it calls tick once per frame period.
// [RealTimeClock] does it with the system clock, a sound device with its
// hardware clock.
type Clock interface {
	// Run calls tick every period until ctx is done, then returns nil, or
	// returns the error that made it stop. It runs on the goroutine the
	// mixer starts for it.
	Run(ctx context.Context, period time.Duration, tick func()) error
}

// Device is a sound device: its capture side is a Source (the microphone),
// its playback side a Sink (the speaker), and its hardware clock is the
// mixer's clock, so that the mixer produces exactly what the device plays.
// [NullDevice] is the device of headless use. Real sound cards
// ([SoundDevice], [OpenDevice]) are behind the build tag malgo so that
// default builds need no cgo.
type Device interface {
	Source
	Sink
	Clock
	// Close releases the device.
	Close() error
}

// RealTimeClock is a [Clock] on the system's monotonic clock. Ticks are
// scheduled at absolute times (start + n × period), so they do not drift; a
// tick that starts late is followed by catch-up ticks, unless the clock has
// fallen more than MaxLag behind (a suspended process, a starved CPU), in
// which case the missed ticks are skipped, counted in Skipped, and the
// schedule restarts from now.
type RealTimeClock struct {
	// MaxLag is how far behind schedule the clock may fall before it skips
	// ticks; zero means 5 periods.
	MaxLag time.Duration

	skipped atomic.Int64
}

// Skipped returns the number of ticks skipped because the clock fell more
// than MaxLag behind.
func (c *RealTimeClock) Skipped() int64 { return c.skipped.Load() }

// Run implements Clock.
func (c *RealTimeClock) Run(ctx context.Context, period time.Duration, tick func()) error {
	return runRealTime(ctx, period, c.MaxLag, tick, &c.skipped)
}

// runRealTime is the scheduling loop of RealTimeClock and NullDevice.
func runRealTime(ctx context.Context, period, maxLag time.Duration, tick func(), skipped *atomic.Int64) error {
	if maxLag <= 0 {
		maxLag = 5 * period
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	next := time.Now()
	for {
		if ctx.Err() != nil {
			return nil
		}
		tick()
		next = next.Add(period)
		wait := time.Until(next)
		if wait < -maxLag {
			skipped.Add(int64(-wait / period))
			next = time.Now()
			continue
		}
		if wait <= 0 {
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
	}
}
