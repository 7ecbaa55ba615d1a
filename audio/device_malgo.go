//go:build malgo

package audio

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gen2brain/malgo"
)

// backends maps DeviceConfig.Backend to miniaudio's backends.
var backends = map[string]malgo.Backend{
	"wasapi":     malgo.BackendWasapi,
	"dsound":     malgo.BackendDsound,
	"winmm":      malgo.BackendWinmm,
	"coreaudio":  malgo.BackendCoreaudio,
	"sndio":      malgo.BackendSndio,
	"audio4":     malgo.BackendAudio4,
	"oss":        malgo.BackendOss,
	"pulseaudio": malgo.BackendPulseaudio,
	"alsa":       malgo.BackendAlsa,
	"jack":       malgo.BackendJack,
	"aaudio":     malgo.BackendAaudio,
	"opensl":     malgo.BackendOpensl,
	"webaudio":   malgo.BackendWebaudio,
	"null":       backendNull,
}

// backendNull is miniaudio's null backend. malgo v0.11.24 numbers its
// BackendNull 13, which is miniaudio's ma_backend_custom (opening it fails
// with "No backend"); in miniaudio's enum the null backend follows custom,
// which follows webaudio.
const backendNull = malgo.BackendWebaudio + 2

// maxLagFrames is how many frames beyond its playback lead Run may fall
// behind the device before it skips ticks rather than catching up.
const maxLagFrames = 5

// errDeviceClosed is returned by Run on a closed device.
var errDeviceClosed = errors.New("audio: sound device closed")

// SoundDevice is a sound card (this build has sound card support: it was
// built with the malgo tag, on miniaudio through github.com/gen2brain/malgo).
// It is a [Device]: its microphone is a [Source], its speaker a [Sink], and
// its hardware clock the mixer's [Clock].
//
// The device's audio thread never calls the mixer. Its callback moves
// samples between the hardware and two bounded buffers, counts the samples
// the hardware consumed, and wakes [SoundDevice.Run], which ticks the mixer
// on the mixer's goroutine once per frame's worth of samples played (or
// captured, without playback), keeping the mixer [DeviceConfig].Latency ahead
// of the speaker. ReadFrame and WriteFrame never block: a microphone that has
// not delivered a frame yet gives silence (ReadFrame reports false), audio
// beyond the latency is dropped, and a speaker that finds too little audio
// plays silence; all of it is counted in [SoundDevice.Stats].
//
// ReadFrame and WriteFrame must be called from one goroutine at a time (the
// mixer's clock goroutine does).
type SoundDevice struct {
	rate              int
	latSamples        int // DeviceConfig.Latency in samples
	capture, playback bool

	mctx *malgo.AllocatedContext
	dev  *malgo.Device

	in, out *sampleRing
	wake    chan struct{} // signalled by the callback, cap 1

	closeOnce sync.Once
	closeErr  error
	closing   atomic.Bool
	stopped   atomic.Bool
	running   atomic.Bool
	captured  atomic.Bool // the microphone has delivered audio
	fed       atomic.Bool // WriteFrame has been called
	maxCB     atomic.Int64

	callbacks, clock, ticks, skipped       atomic.Int64
	capUnder, capDrop, playUnder, playDrop atomic.Int64
}

var _ Device = (*SoundDevice)(nil)

// OpenDevice opens and starts a sound device: the system's default
// microphone and speaker unless cfg names others (see [ListDevices]). The
// device runs until [SoundDevice.Close]; add it to a mixer and start the
// mixer on it ([Mixer.Start]) so that it is the mixer's clock.
func OpenDevice(cfg DeviceConfig) (*SoundDevice, error) {
	rate := cfg.SampleRate
	if rate == 0 {
		rate = DefaultSampleRate
	}
	if err := CheckSampleRate(rate); err != nil {
		return nil, fmt.Errorf("audio: open sound device: %w", err)
	}
	if cfg.NoCapture && cfg.NoPlayback {
		return nil, errors.New("audio: open sound device: NoCapture and NoPlayback leave nothing to open")
	}
	lat := cfg.Latency
	if lat <= 0 {
		lat = DefaultDeviceLatency
	}
	bk, err := parseBackend(cfg.Backend)
	if err != nil {
		return nil, err
	}
	mctx, err := malgo.InitContext(bk, malgo.ContextConfig{}, nil)
	if err != nil {
		return nil, fmt.Errorf("audio: open sound device: %w", err)
	}
	d := &SoundDevice{
		rate:       rate,
		latSamples: int(int64(rate) * int64(lat) / int64(time.Second)),
		capture:    !cfg.NoCapture,
		playback:   !cfg.NoPlayback,
		mctx:       mctx,
		wake:       make(chan struct{}, 1),
	}
	// Room for the latency twice over plus 250 ms of callbacks.
	capacity := 2*d.latSamples + rate/4
	if d.capture {
		d.in = newSampleRing(capacity)
	}
	if d.playback {
		d.out = newSampleRing(capacity)
	}
	if err := d.init(cfg); err != nil {
		mctx.Uninit()
		mctx.Free()
		return nil, fmt.Errorf("audio: open sound device: %w", err)
	}
	if err := d.dev.Start(); err != nil {
		d.dev.Uninit()
		mctx.Uninit()
		mctx.Free()
		return nil, fmt.Errorf("audio: start sound device: %w", err)
	}
	return d, nil
}

// init initialises the malgo device.
func (d *SoundDevice) init(cfg DeviceConfig) error {
	kind := malgo.Duplex
	switch {
	case !d.capture:
		kind = malgo.Playback
	case !d.playback:
		kind = malgo.Capture
	}
	mc := malgo.DefaultDeviceConfig(kind)
	mc.SampleRate = uint32(d.rate)
	mc.Capture.Format = malgo.FormatS16
	mc.Capture.Channels = 1
	mc.Playback.Format = malgo.FormatS16
	mc.Playback.Channels = 1
	// miniaudio copies the device IDs during init; they only need to stay
	// put (pinned) until then.
	var pin runtime.Pinner
	defer pin.Unpin()
	if d.capture && cfg.CaptureDevice != "" {
		id, err := findDevice(d.mctx, malgo.Capture, cfg.CaptureDevice)
		if err != nil {
			return err
		}
		pin.Pin(id)
		mc.Capture.DeviceID = unsafe.Pointer(id)
	}
	if d.playback && cfg.PlaybackDevice != "" {
		id, err := findDevice(d.mctx, malgo.Playback, cfg.PlaybackDevice)
		if err != nil {
			return err
		}
		pin.Pin(id)
		mc.Playback.DeviceID = unsafe.Pointer(id)
	}
	dev, err := malgo.InitDevice(d.mctx.Context, mc, malgo.DeviceCallbacks{
		Data: d.onData,
		Stop: d.onStop,
	})
	if err != nil {
		return err
	}
	d.dev = dev
	return nil
}

// parseBackend turns DeviceConfig.Backend into miniaudio's backend list.
func parseBackend(name string) ([]malgo.Backend, error) {
	if name == "" {
		return nil, nil
	}
	b, ok := backends[strings.ToLower(name)]
	if !ok {
		names := make([]string, 0, len(backends))
		for n := range backends {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("audio: unknown sound backend %q (want one of %s)", name, strings.Join(names, ", "))
	}
	return []malgo.Backend{b}, nil
}

// findDevice returns the ID of the device of the given kind whose ID or
// name is want.
func findDevice(mctx *malgo.AllocatedContext, kind malgo.DeviceType, want string) (*malgo.DeviceID, error) {
	infos, err := mctx.Devices(kind)
	if err != nil {
		return nil, err
	}
	for i := range infos {
		if infos[i].ID.String() == want || infos[i].Name() == want {
			id := new(malgo.DeviceID)
			*id = infos[i].ID
			return id, nil
		}
	}
	what := "playback"
	if kind == malgo.Capture {
		what = "capture"
	}
	names := make([]string, len(infos))
	for i := range infos {
		names[i] = fmt.Sprintf("%q (%s)", infos[i].Name(), infos[i].ID)
	}
	return nil, fmt.Errorf("no %s device %q (have %s)", what, want, strings.Join(names, ", "))
}

// ListDevices returns the microphones and speakers of the system's sound
// backend.
func ListDevices() ([]DeviceInfo, error) {
	mctx, err := malgo.InitContext(nil, malgo.ContextConfig{}, nil)
	if err != nil {
		return nil, fmt.Errorf("audio: list sound devices: %w", err)
	}
	defer func() {
		mctx.Uninit()
		mctx.Free()
	}()
	var out []DeviceInfo
	for _, kind := range []malgo.DeviceType{malgo.Capture, malgo.Playback} {
		infos, err := mctx.Devices(kind)
		if err != nil {
			return nil, fmt.Errorf("audio: list sound devices: %w", err)
		}
		for i := range infos {
			out = append(out, DeviceInfo{
				ID:      infos[i].ID.String(),
				Name:    infos[i].Name(),
				Capture: kind == malgo.Capture,
				Default: infos[i].IsDefault != 0,
			})
		}
	}
	return out, nil
}

// samples views a buffer of native-endian signed 16-bit samples as such.
func samples(b []byte) []int16 {
	if len(b) < 2 {
		return nil
	}
	return unsafe.Slice((*int16)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/2)
}

// onData is the device callback, on the audio thread: it must not block or
// call the mixer.
func (d *SoundDevice) onData(out, in []byte, frames uint32) {
	d.callbacks.Add(1)
	if n := int64(frames); n > d.maxCB.Load() {
		d.maxCB.Store(n) // only this thread stores
	}
	if d.capture && len(in) > 0 {
		s := samples(in)
		if n := d.in.write(s); n < len(s) {
			d.capDrop.Add(int64(len(s) - n))
		}
		if !d.captured.Load() {
			d.captured.Store(true)
		}
	}
	if d.playback && len(out) > 0 {
		s := samples(out)
		if n := d.out.read(s); n < len(s) {
			clear(s[n:])
			if d.fed.Load() {
				d.playUnder.Add(1)
			}
		}
	}
	d.clock.Add(int64(frames))
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// onStop is called when the device stops, by Close or because it failed.
func (d *SoundDevice) onStop() {
	d.stopped.Store(true)
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// target returns the playback lead, in samples, for frames of n samples:
// the latency, but at least a frame more than the largest callback seen,
// rounded up to whole frames.
func (d *SoundDevice) target(n int) int {
	t := max(d.latSamples, int(d.maxCB.Load())+n, n)
	return (t + n - 1) / n * n
}

// SampleRate implements Port.
func (d *SoundDevice) SampleRate() int { return d.rate }

// ReadFrame implements Source: it gives the oldest frame the microphone
// captured, or reports false when less than a frame is waiting. A backlog
// beyond the latency is dropped, oldest first.
func (d *SoundDevice) ReadFrame(frame []int16) bool {
	if !d.capture {
		return false
	}
	n := len(frame)
	if avail := d.in.Len(); avail > d.target(n)+n {
		d.capDrop.Add(int64(d.in.discard(avail - n)))
	}
	if d.in.Len() < n {
		if d.captured.Load() {
			d.capUnder.Add(1)
		}
		return false
	}
	d.in.read(frame)
	return true
}

// WriteFrame implements Sink: the frame is queued for the speaker, or
// dropped when the latency's worth of audio is already queued.
func (d *SoundDevice) WriteFrame(frame []int16) {
	if !d.playback {
		return
	}
	if !d.fed.Load() {
		d.fed.Store(true)
	}
	n := len(frame)
	if d.out.Len()+n > d.target(n) {
		d.playDrop.Add(int64(n))
		return
	}
	if w := d.out.write(frame); w < n {
		d.playDrop.Add(int64(n - w))
	}
}

// Run implements Clock with the device's hardware clock: it calls tick, on
// the caller's goroutine, once per period's worth of samples the speaker has
// played (the microphone has captured, without playback), after first
// ticking enough frames to fill the playback lead. If it falls more than 5
// frames behind it skips the missed ticks (counted in
// DeviceStats.SkippedTicks). It returns nil when ctx is done or the device
// is closed, and an error if the device stops by itself (unplugged, or its
// backend failed). Only one Run may be active at a time.
func (d *SoundDevice) Run(ctx context.Context, period time.Duration, tick func()) error {
	if d.closing.Load() {
		return errDeviceClosed
	}
	if period <= 0 {
		return fmt.Errorf("audio: sound device: bad period %v", period)
	}
	n := SamplesPerFrame(d.rate, period)
	if n <= 0 {
		return fmt.Errorf("audio: sound device: period %v is less than a sample", period)
	}
	if !d.running.CompareAndSwap(false, true) {
		return errors.New("audio: sound device: Run already active")
	}
	defer d.running.Store(false)

	// Captured audio from before the mixer started is stale.
	if d.capture {
		d.in.discard(d.in.Len())
	}
	start := d.clock.Load()
	var ticked int64
	for {
		if ctx.Err() != nil {
			return nil
		}
		if d.stopped.Load() {
			if d.closing.Load() {
				return nil
			}
			return errors.New("audio: sound device stopped")
		}
		var lead int64
		if d.playback {
			lead = int64(d.target(n) / n)
		}
		due := lead + (d.clock.Load()-start)/int64(n)
		if behind := due - ticked; behind > lead+maxLagFrames {
			skip := behind - lead
			d.skipped.Add(skip)
			ticked += skip
		}
		for ticked < due {
			if ctx.Err() != nil {
				return nil
			}
			tick()
			ticked++
			d.ticks.Add(1)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
		}
	}
}

// Stats returns the device's counters.
func (d *SoundDevice) Stats() DeviceStats {
	return DeviceStats{
		Callbacks:         d.callbacks.Load(),
		ClockSamples:      d.clock.Load(),
		Ticks:             d.ticks.Load(),
		SkippedTicks:      d.skipped.Load(),
		CaptureUnderruns:  d.capUnder.Load(),
		CaptureDropped:    d.capDrop.Load(),
		PlaybackUnderruns: d.playUnder.Load(),
		PlaybackDropped:   d.playDrop.Load(),
	}
}

// Close implements Device: it stops the device and releases it and its
// miniaudio context. A Run in progress returns nil. Closing twice does
// nothing.
func (d *SoundDevice) Close() error {
	d.closeOnce.Do(func() {
		d.closing.Store(true)
		d.dev.Uninit() // stops the device and waits for its thread
		if err := d.mctx.Uninit(); err != nil {
			d.closeErr = fmt.Errorf("audio: close sound device: %w", err)
		}
		d.mctx.Free()
		d.onStop()
	})
	return d.closeErr
}
