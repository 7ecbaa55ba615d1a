package audio

import (
	"context"
	"sync/atomic"
	"time"
)

// NullDevice is the sound device of headless use (PJSUA's null sound device):
// its microphone produces silence, its speaker discards what it is given, and
// its clock is the system clock ([RealTimeClock]'s scheduling), so that a
// mixer started on it runs in real time exactly as with a sound card. It is
// the default device when there is no sound card.
type NullDevice struct {
	rate    int
	maxLag  time.Duration
	played  atomic.Int64
	skipped atomic.Int64
}

var _ Device = (*NullDevice)(nil)

// NewNullDevice returns a null device at sampleRate (usually the mixer's).
func NewNullDevice(sampleRate int) (*NullDevice, error) {
	if err := CheckSampleRate(sampleRate); err != nil {
		return nil, err
	}
	return &NullDevice{rate: sampleRate}, nil
}

// SampleRate implements Port.
func (d *NullDevice) SampleRate() int { return d.rate }

// ReadFrame implements Source: the null microphone is silent, so it has
// nothing to contribute.
func (d *NullDevice) ReadFrame(frame []int16) bool { return false }

// WriteFrame implements Sink: the frame is discarded and counted.
func (d *NullDevice) WriteFrame(frame []int16) { d.played.Add(1) }

// Run implements Clock with the system clock; see RealTimeClock.
func (d *NullDevice) Run(ctx context.Context, period time.Duration, tick func()) error {
	return runRealTime(ctx, period, d.maxLag, tick, &d.skipped)
}

// Played returns the number of frames the device has been given.
func (d *NullDevice) Played() int64 { return d.played.Load() }

// Skipped returns the number of ticks skipped because the process fell too
// far behind real time.
func (d *NullDevice) Skipped() int64 { return d.skipped.Load() }

// Close implements Device; it does nothing.
func (d *NullDevice) Close() error { return nil }
