package audio

import (
	"errors"
	"fmt"
	"time"
)

// Sample rates the mixer, the devices and the generators work at.
const (
	Rate8000  = 8000  // narrowband telephony (G.711)
	Rate16000 = 16000 // wideband (G.722)
	Rate32000 = 32000 // python-sipsimple's default mixer rate
	Rate48000 = 48000 // sound cards, Opus
)

// DefaultSampleRate is the mixer's rate when none is configured (PJSUA's
// conference bridge default).
const DefaultSampleRate = Rate16000

// DefaultFrameDuration is the duration of one frame: the packetisation time of
// RTP audio in SIP calls.
const DefaultFrameDuration = 20 * time.Millisecond

// Frame durations outside these bounds are refused.
const (
	MinFrameDuration = 5 * time.Millisecond
	MaxFrameDuration = 100 * time.Millisecond
)

// ErrSampleRate is wrapped by the errors that report an unsupported sample
// rate.
var ErrSampleRate = errors.New("unsupported sample rate")

// ErrFrameDuration is wrapped by the errors that report an unsupported frame
// duration.
var ErrFrameDuration = errors.New("unsupported frame duration")

// SampleRates lists the supported PCM sample rates, lowest first.
func SampleRates() []int { return []int{Rate8000, Rate16000, Rate32000, Rate48000} }

// CheckSampleRate reports whether rate is one of [SampleRates]; the error
// names the rate and wraps [ErrSampleRate].
func CheckSampleRate(rate int) error {
	switch rate {
	case Rate8000, Rate16000, Rate32000, Rate48000:
		return nil
	}
	return fmt.Errorf("audio: %w %d Hz (want 8000, 16000, 32000 or 48000)", ErrSampleRate, rate)
}

// Format describes the frames a mixer exchanges with its ports: mono, signed
// 16-bit linear PCM, SampleRate samples per second, FrameDuration per frame.
// The zero Format means DefaultSampleRate and DefaultFrameDuration.
type Format struct {
	SampleRate    int
	FrameDuration time.Duration
}

// withDefaults fills zero fields with the defaults.
func (f Format) withDefaults() Format {
	if f.SampleRate == 0 {
		f.SampleRate = DefaultSampleRate
	}
	if f.FrameDuration == 0 {
		f.FrameDuration = DefaultFrameDuration
	}
	return f
}

// Validate reports whether the format is usable: a supported sample rate and a
// whole number of milliseconds between MinFrameDuration and MaxFrameDuration.
// Zero fields are validated as their defaults.
func (f Format) Validate() error {
	f = f.withDefaults()
	if err := CheckSampleRate(f.SampleRate); err != nil {
		return err
	}
	return checkFrameDuration(f.FrameDuration)
}

func checkFrameDuration(d time.Duration) error {
	if d < MinFrameDuration || d > MaxFrameDuration || d%time.Millisecond != 0 {
		return fmt.Errorf("audio: %w %v (want whole milliseconds from %v to %v)",
			ErrFrameDuration, d, MinFrameDuration, MaxFrameDuration)
	}
	return nil
}

// FrameSamples returns the number of samples in one frame.
func (f Format) FrameSamples() int {
	f = f.withDefaults()
	return SamplesPerFrame(f.SampleRate, f.FrameDuration)
}

// String returns the format as "16000 Hz/20ms".
func (f Format) String() string {
	f = f.withDefaults()
	return fmt.Sprintf("%d Hz/%v", f.SampleRate, f.FrameDuration)
}

// SamplesPerFrame returns how many samples a frame of duration d holds at the
// given rate (rounded down).
func SamplesPerFrame(rate int, d time.Duration) int {
	return int(int64(rate) * int64(d) / int64(time.Second))
}

// Saturate clips a 32-bit sum to the int16 range.
func Saturate(x int32) int16 {
	if x > 32767 {
		return 32767
	}
	if x < -32768 {
		return -32768
	}
	return int16(x)
}

// Scale multiplies each sample by gain in place, with saturation. A gain of 1
// leaves the frame unchanged and 0 silences it; gains beyond ±15 are clamped.
func Scale(frame []int16, gain float64) {
	if gain == 1 {
		return
	}
	if gain > 15 {
		gain = 15
	} else if gain < -15 {
		gain = -15
	}
	g := int32(gain * 4096)
	for i, s := range frame {
		frame[i] = Saturate((int32(s)*g + 2048) >> 12)
	}
}

// clear16 zeroes a frame.
func clear16(s []int16) {
	for i := range s {
		s[i] = 0
	}
}
