package audio

import (
	"errors"
	"sync/atomic"
	"time"
)

// This file holds what the sound device API shares between the build with
// sound card support (device_malgo.go, build tag malgo) and the build without
// (device_stub.go), so that callers compile the same way with either.

// ErrNoSoundDevice is returned by [OpenDevice] and [ListDevices] in a build
// without sound card support (the default build: it needs no cgo).
var ErrNoSoundDevice = errors.New("audio: this build has no sound device support: build with -tags malgo")

// DefaultDeviceLatency is the playback lead and capture backlog a
// [SoundDevice] keeps when [DeviceConfig].Latency is zero.
const DefaultDeviceLatency = 40 * time.Millisecond

// DeviceConfig configures [OpenDevice]. The zero value opens the system's
// default microphone and speaker at [DefaultSampleRate].
type DeviceConfig struct {
	// SampleRate is the rate of the frames the device exchanges with the
	// mixer (8000, 16000, 32000 or 48000 Hz); 0 means DefaultSampleRate.
	// The hardware may run at another rate: miniaudio converts.
	SampleRate int

	// CaptureDevice and PlaybackDevice choose the microphone and the
	// speaker by the ID or the name [ListDevices] reports; "" means the
	// system default.
	CaptureDevice  string
	PlaybackDevice string

	// NoCapture opens the speaker only (ReadFrame then always reports
	// false); NoPlayback opens the microphone only (WriteFrame discards,
	// and the capture side is the clock). Not both.
	NoCapture  bool
	NoPlayback bool

	// Latency is how far ahead of the speaker the mixer is kept (the audio
	// waiting in the playback buffer), and the most captured audio that may
	// wait for the mixer before the oldest is dropped. It is rounded up to
	// whole frames, at least one; 0 means DefaultDeviceLatency.
	Latency time.Duration

	// Backend chooses miniaudio's backend by name: "alsa", "pulseaudio",
	// "jack", "oss", "sndio", "audio4", "coreaudio", "wasapi", "dsound",
	// "winmm", "aaudio", "opensl", "webaudio", or "null" (no hardware: a
	// silent device paced by a timer, for tests). "" tries the platform's
	// backends in miniaudio's order.
	Backend string
}

// DeviceInfo describes a sound device [ListDevices] found.
type DeviceInfo struct {
	ID      string // backend-specific identifier, usable in DeviceConfig
	Name    string // human-readable name, also usable in DeviceConfig
	Capture bool   // true for a microphone, false for a speaker
	Default bool   // the system's default device of its kind
}

// DeviceStats are the counters of a [SoundDevice].
type DeviceStats struct {
	Callbacks         int64 // device callbacks run
	ClockSamples      int64 // samples the device clock has counted (played, or captured without playback)
	Ticks             int64 // mixer ticks Run has called
	SkippedTicks      int64 // ticks Run skipped after falling too far behind the device
	CaptureUnderruns  int64 // ReadFrame calls that found less than a frame (after capture started)
	CaptureDropped    int64 // captured samples dropped: buffer full, or backlog above Latency
	PlaybackUnderruns int64 // callbacks that had to play silence for want of audio (after the first WriteFrame)
	PlaybackDropped   int64 // samples given to WriteFrame that were dropped: buffer above Latency
}

// sampleRing is a bounded single-producer single-consumer queue of samples:
// one goroutine (or audio thread) writes, one reads, neither ever blocks nor
// allocates. It carries audio between a sound device's callback and the
// mixer's clock goroutine.
type sampleRing struct {
	buf  []int16
	r, w atomic.Uint64 // samples read and written since the start
}

func newSampleRing(capacity int) *sampleRing {
	return &sampleRing{buf: make([]int16, capacity)}
}

// Len returns the number of samples waiting; any side may call it.
func (q *sampleRing) Len() int { return int(q.w.Load() - q.r.Load()) }

// Cap returns the capacity in samples.
func (q *sampleRing) Cap() int { return len(q.buf) }

// write appends as much of s as fits and returns how much did. Producer
// only.
func (q *sampleRing) write(s []int16) int {
	w := q.w.Load()
	free := len(q.buf) - int(w-q.r.Load())
	n := min(len(s), free)
	if n <= 0 {
		return 0
	}
	i := int(w % uint64(len(q.buf)))
	c := copy(q.buf[i:], s[:n])
	copy(q.buf, s[c:n])
	q.w.Store(w + uint64(n))
	return n
}

// read fills dst with the oldest samples, as many as are waiting, and
// returns how many it gave. Consumer only.
func (q *sampleRing) read(dst []int16) int {
	r := q.r.Load()
	n := min(len(dst), int(q.w.Load()-r))
	if n <= 0 {
		return 0
	}
	i := int(r % uint64(len(q.buf)))
	c := copy(dst[:n], q.buf[i:])
	copy(dst[c:n], q.buf)
	q.r.Store(r + uint64(n))
	return n
}

// discard drops up to n of the oldest samples and returns how many it
// dropped. Consumer only.
func (q *sampleRing) discard(n int) int {
	r := q.r.Load()
	n = min(n, int(q.w.Load()-r))
	if n <= 0 {
		return 0
	}
	q.r.Store(r + uint64(n))
	return n
}
