//go:build !malgo

package audio

import (
	"context"
	"time"
)

// SoundDevice is a sound card. This build has no sound card support (it was
// built without the malgo tag): [OpenDevice] always fails with
// [ErrNoSoundDevice] and a SoundDevice is never returned. The type exists,
// with the methods of the malgo build, so that callers compile either way;
// use [NullDevice] for headless audio.
type SoundDevice struct{}

var _ Device = (*SoundDevice)(nil)

// OpenDevice returns [ErrNoSoundDevice]: build with -tags malgo for sound
// card support.
func OpenDevice(cfg DeviceConfig) (*SoundDevice, error) { return nil, ErrNoSoundDevice }

// ListDevices returns [ErrNoSoundDevice]: build with -tags malgo for sound
// card support.
func ListDevices() ([]DeviceInfo, error) { return nil, ErrNoSoundDevice }

// SampleRate implements Port.
func (d *SoundDevice) SampleRate() int { return DefaultSampleRate }

// ReadFrame implements Source; it has nothing to give.
func (d *SoundDevice) ReadFrame(frame []int16) bool { return false }

// WriteFrame implements Sink; the frame is discarded.
func (d *SoundDevice) WriteFrame(frame []int16) {}

// Run implements Clock; it returns ErrNoSoundDevice.
func (d *SoundDevice) Run(ctx context.Context, period time.Duration, tick func()) error {
	return ErrNoSoundDevice
}

// Stats returns zero counters.
func (d *SoundDevice) Stats() DeviceStats { return DeviceStats{} }

// Close implements Device; it does nothing.
func (d *SoundDevice) Close() error { return nil }
