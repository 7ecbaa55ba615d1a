//go:build malgo

package audio

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// openNull opens a device on miniaudio's null backend (no hardware: a
// silent device paced by a timer, which really runs the callbacks), or
// skips the test when even that cannot be opened.
func openNull(t *testing.T, cfg DeviceConfig) *SoundDevice {
	t.Helper()
	cfg.Backend = "null"
	d, err := OpenDevice(cfg)
	if err != nil {
		t.Skipf("no null sound device: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// countingSink counts the frames it is given and the non-silent ones.
type countingSink struct {
	rate         int
	frames, loud atomic.Int64
}

func (s *countingSink) SampleRate() int { return s.rate }
func (s *countingSink) WriteFrame(f []int16) {
	s.frames.Add(1)
	for _, v := range f {
		if v != 0 {
			s.loud.Add(1)
			return
		}
	}
}

// waitTicks waits until the device has ticked the mixer at least n times.
func waitTicks(t *testing.T, d *SoundDevice, n int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for d.Stats().Ticks < n {
		if time.Now().After(deadline) {
			t.Fatalf("device ticked %d times in 5 s, want %d; stats %+v", d.Stats().Ticks, n, d.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSoundDeviceNullBackendDrivesMixer(t *testing.T) {
	for _, tc := range []struct {
		name             string
		devRate, mixRate int
	}{
		{"same rate", 16000, 16000},
		{"resampled", 8000, 48000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := openNull(t, DeviceConfig{SampleRate: tc.devRate})
			m, err := NewMixer(MixerConfig{SampleRate: tc.mixRate})
			if err != nil {
				t.Fatal(err)
			}
			tones, _ := NewToneGenerator(tc.mixRate)
			sink := &countingSink{rate: tc.mixRate}
			ds, _ := m.Add(d)
			ts, _ := m.Add(tones)
			ss, _ := m.Add(sink)
			if err := m.Connect(ts, ds); err != nil {
				t.Fatal(err)
			}
			if err := m.Connect(ds, ss); err != nil {
				t.Fatal(err)
			}
			tones.PlayDTMF("1", time.Hour, 0)

			start := time.Now()
			if err := m.Start(d); err != nil {
				t.Fatal(err)
			}
			waitTicks(t, d, 25) // 500 ms
			if err := m.Stop(); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			elapsed := time.Since(start) // covers every tick counted below
			st := d.Stats()
			ms := m.Stats()
			t.Logf("%d ticks in %v; device %+v", ms.Ticks, elapsed, st)
			if ms.Ticks != st.Ticks {
				t.Errorf("mixer ticked %d times, device says %d", ms.Ticks, st.Ticks)
			}
			if st.Callbacks == 0 || st.ClockSamples == 0 {
				t.Fatalf("device callbacks never ran: %+v", st)
			}
			// The clock is the device's: ticks follow the samples played,
			// plus the playback lead.
			n := int64(SamplesPerFrame(tc.devRate, DefaultFrameDuration))
			lead := int64(d.target(int(n)) / int(n))
			if want := st.ClockSamples/n + lead; st.Ticks+st.SkippedTicks > want+1 {
				t.Errorf("%d ticks (+%d skipped) for %d samples played: more than %d", st.Ticks, st.SkippedTicks, st.ClockSamples, want)
			}
			// Real time, roughly: the null backend is paced by a timer.
			if floor := time.Duration(st.Ticks-lead-2) * DefaultFrameDuration / 2; elapsed < floor {
				t.Errorf("%d ticks in only %v: not real time", st.Ticks, elapsed)
			}
			if sink.frames.Load() != ms.Ticks {
				t.Errorf("sink got %d frames in %d ticks", sink.frames.Load(), ms.Ticks)
			}
			if sink.loud.Load() != 0 {
				t.Errorf("the null microphone gave %d non-silent frames", sink.loud.Load())
			}
			if st.PlaybackUnderruns > st.Callbacks/2 {
				t.Errorf("the speaker went short in %d of %d callbacks", st.PlaybackUnderruns, st.Callbacks)
			}
			// One frame may go when the null backend's timer fires late
			// and then catches up on a loaded machine (seen once in CI:
			// 320 samples at 16 kHz); a mixer that runs ahead of the
			// device's clock drops frame after frame.
			if st.PlaybackDropped > n {
				t.Errorf("the clocked mixer overfilled the speaker: %d samples dropped (more than one frame of %d)", st.PlaybackDropped, n)
			}
			if err := d.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := d.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			if err := m.Start(d); err != nil {
				t.Fatal(err)
			}
			if err := m.Stop(); err == nil {
				t.Error("Run on a closed device did not fail")
			}
		})
	}
}

func TestSoundDeviceCloseWhileRunning(t *testing.T) {
	d := openNull(t, DeviceConfig{})
	m, _ := NewMixer(MixerConfig{})
	m.Add(d)
	if err := m.Start(d); err != nil {
		t.Fatal(err)
	}
	waitTicks(t, d, 5)
	done := make(chan error, 1)
	go func() { done <- d.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	if err := m.Stop(); err != nil {
		t.Fatalf("Run after Close returned %v, want nil", err)
	}
}

func TestSoundDeviceCaptureOnlyClock(t *testing.T) {
	d := openNull(t, DeviceConfig{NoPlayback: true, SampleRate: 32000})
	m, _ := NewMixer(MixerConfig{SampleRate: 32000})
	sink := &countingSink{rate: 32000}
	ds, _ := m.Add(d)
	ss, _ := m.Add(sink)
	m.Connect(ds, ss)
	if err := m.Start(d); err != nil {
		t.Fatal(err)
	}
	waitTicks(t, d, 10)
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	st := d.Stats()
	t.Logf("device %+v", st)
	if st.CaptureUnderruns > 1 {
		t.Errorf("capture clock found %d frames missing", st.CaptureUnderruns)
	}
	// WriteFrame on a device without playback discards.
	d.WriteFrame(make([]int16, 640))
	if st := d.Stats(); st.PlaybackDropped != 0 {
		t.Errorf("PlaybackDropped = %d", st.PlaybackDropped)
	}
}

// TestSoundDeviceBuffers steps the buffers by hand: no clock.
func TestSoundDeviceBuffers(t *testing.T) {
	d := openNull(t, DeviceConfig{Latency: 40 * time.Millisecond})
	d.Close() // stop the callbacks; the buffers stay
	frame := make([]int16, 320)
	for i := 0; i < 5; i++ {
		d.WriteFrame(frame)
	}
	// The lead is 40 ms (2 frames) unless the null backend's callbacks
	// are long enough to need more.
	lead := d.target(320)
	st := d.Stats()
	if want := int64(5*320 - lead); st.PlaybackDropped != want {
		t.Errorf("PlaybackDropped = %d, want %d (a lead of %d samples kept)", st.PlaybackDropped, want, lead)
	}
	if got := d.out.Len(); got != lead {
		t.Errorf("%d samples queued for the speaker, want %d", got, lead)
	}
	d.in.discard(d.in.Len())
	d.in.write(make([]int16, 100))
	if d.ReadFrame(frame) {
		t.Error("ReadFrame reported a frame with 100 samples captured")
	}
	d.in.write(make([]int16, 10*320))
	if !d.ReadFrame(frame) {
		t.Error("ReadFrame found no frame")
	}
	if d.in.Len() != 0 {
		t.Errorf("backlog of %d samples kept; want the newest frame only", d.in.Len())
	}
}

func TestOpenDeviceByName(t *testing.T) {
	d := openNull(t, DeviceConfig{CaptureDevice: "NULL Capture Device", PlaybackDevice: "NULL Playback Device"})
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := OpenDevice(DeviceConfig{Backend: "null", PlaybackDevice: "no such speaker"})
	if err == nil || !strings.Contains(err.Error(), "no such speaker") {
		t.Fatalf("OpenDevice of a missing device: %v", err)
	}
}

func TestOpenDeviceBadConfig(t *testing.T) {
	for _, cfg := range []DeviceConfig{
		{SampleRate: 44100},
		{NoCapture: true, NoPlayback: true},
		{Backend: "nonesuch"},
	} {
		if d, err := OpenDevice(cfg); err == nil {
			d.Close()
			t.Errorf("OpenDevice(%+v) did not fail", cfg)
		}
	}
}

// TestSystemDevice opens the real default device, where there is one (not
// in CI).
func TestSystemDevice(t *testing.T) {
	infos, err := ListDevices()
	if err != nil {
		t.Skipf("no sound system: %v", err)
	}
	for _, i := range infos {
		t.Logf("%+v", i)
	}
	d, err := OpenDevice(DeviceConfig{})
	if err != nil {
		t.Skipf("no default sound device: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}
