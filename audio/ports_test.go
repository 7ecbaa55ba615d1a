package audio

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestWAVPlayerPlaysResampledAndFinishes(t *testing.T) {
	// 100 ms of a 500 Hz tone at 8 kHz, played at 16 kHz.
	path := writeWAVFile(t, 8000, sine(8000, 500, 8000, 800))
	finished := make(chan error, 1)
	p, err := OpenWAVPlayer(path, 16000, &WAVPlayerOptions{OnFinished: func(err error) { finished <- err }})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var out []int16
	frame := make([]int16, 320)
	for i := 0; i < 5; i++ {
		if !p.ReadFrame(frame) {
			t.Fatalf("frame %d: nothing to play", i)
		}
		out = append(out, frame...)
	}
	if snr := sineSNR(out[100:1500], 16000, 500); snr < 60 {
		t.Errorf("played tone SNR %.1f dB", snr)
	}
	// The resampler's delay pushes a few samples into a sixth frame.
	if p.ReadFrame(frame) {
		out = append(out, frame...)
	}
	if p.ReadFrame(frame) {
		t.Error("the player still plays after the end of the file")
	}
	select {
	case err := <-finished:
		if err != nil {
			t.Errorf("OnFinished(%v), want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnFinished not called")
	}
	<-p.Done()
	if p.Err() != nil || p.Underruns() != 0 {
		t.Errorf("Err %v, underruns %d", p.Err(), p.Underruns())
	}
}

func TestWAVPlayerLoopAndClose(t *testing.T) {
	x := make([]int16, 100) // 12.5 ms ramp at 8 kHz
	for i := range x {
		x[i] = int16(i)
	}
	var b memFile
	w, _ := NewWAVWriter(&b, 8000)
	w.Write(x)
	w.Close()
	p, err := NewWAVPlayer(bytes.NewReader(b.b), 8000, &WAVPlayerOptions{Loop: true, ReadAhead: time.Second, Volume: 2})
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, 160)
	var out []int16
	for i := 0; i < 10; i++ { // 200 ms: the file 16 times, all prefetched
		if !p.ReadFrame(frame) {
			t.Fatalf("frame %d: underrun", i)
		}
		out = append(out, frame...)
	}
	for i, v := range out {
		if want := int16(2 * (i % 100)); v != want {
			t.Fatalf("sample %d = %d, want %d (looping, volume 2)", i, v, want)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	if !errors.Is(p.Err(), ErrClosed) {
		t.Errorf("Err after Close = %v, want ErrClosed", p.Err())
	}
	if p.ReadFrame(frame) {
		t.Error("a closed player still plays")
	}
	p.Close()
}

func TestWAVPlayerCloseFromOnFinished(t *testing.T) {
	path := writeWAVFile(t, 16000, sine(16000, 500, 8000, 10))
	var p *WAVPlayer
	var mu sync.Mutex
	closed := make(chan error, 1)
	p, err := OpenWAVPlayer(path, 16000, &WAVPlayerOptions{OnFinished: func(error) {
		mu.Lock()
		defer mu.Unlock()
		closed <- p.Close()
	}})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	mu.Unlock()
	p.ReadFrame(make([]int16, 320))
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	<-p.Done()
}

func TestWAVPlayerErrors(t *testing.T) {
	if _, err := OpenWAVPlayer(filepath.Join(t.TempDir(), "missing.wav"), 8000, nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.wav")
	os.WriteFile(bad, []byte("not a wav file at all"), 0o644)
	if _, err := OpenWAVPlayer(bad, 8000, nil); !errors.Is(err, ErrWAVFormat) {
		t.Errorf("bad file: %v", err)
	}
	good := writeWAVFile(t, 8000, make([]int16, 10))
	if _, err := OpenWAVPlayer(good, 22050, nil); !errors.Is(err, ErrSampleRate) {
		t.Errorf("player at 22050 Hz: %v", err)
	}
	var b memFile
	w, _ := NewWAVWriter(&b, 8000)
	w.Close()
	if _, err := NewWAVPlayer(io.MultiReader(bytes.NewReader(b.b)), 8000, &WAVPlayerOptions{Loop: true}); err == nil {
		t.Error("looping over an unseekable stream succeeded")
	}
	// Looping an empty file finishes with an error instead of spinning.
	p, err := NewWAVPlayer(bytes.NewReader(b.b), 8000, &WAVPlayerOptions{Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	p.ReadFrame(make([]int16, 160))
	<-p.Done()
	if p.Err() == nil {
		t.Error("looping an empty file reported no error")
	}
	p.Close()
}

func TestWAVRecorderThroughMixer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.wav")
	rec, err := CreateWAVRecorder(path, 8000, &WAVRecorderOptions{HeaderInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	m := newTestMixer(t, 16000)
	tones, _ := NewToneGenerator(16000)
	st, sr := mustAdd(t, m, tones), mustAdd(t, m, rec)
	m.Connect(st, sr)
	tones.PlayTone(1000, 0, 0)
	for i := 0; i < 25; i++ { // 500 ms
		m.Tick()
	}
	if err := rec.Flush(); err != nil {
		t.Fatal(err)
	}
	// The file is complete as of the flush, while still being recorded.
	b, _ := os.ReadFile(path)
	_, y := readAllWAV(t, b)
	if len(y) != 4000 || rec.Samples() != 4000 {
		t.Errorf("after 500 ms the file holds %d samples (Samples %d), want 4000", len(y), rec.Samples())
	}
	for i := 0; i < 7; i++ {
		m.Tick()
	}
	m.Remove(sr)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	rec.Close()
	b, _ = os.ReadFile(path)
	r, y := readAllWAV(t, b)
	if len(y) != 32*160 || r.SampleRate() != 8000 {
		t.Fatalf("recorded %d samples at %d Hz, want %d at 8000", len(y), r.SampleRate(), 32*160)
	}
	if snr := sineSNR(y[200:], 8000, 1000); snr < 40 {
		t.Errorf("recorded tone SNR %.1f dB", snr)
	}
	if rec.Dropped() != 0 {
		t.Errorf("%d samples dropped", rec.Dropped())
	}
}

// blockingFile is a WriteSeeker whose writes wait until it is released.
type blockingFile struct {
	memFile
	release chan struct{}
	once    sync.Once
}

func (f *blockingFile) Write(p []byte) (int, error) {
	if f.pos >= 44 && len(p) > 4 { // let the header through, block sample data
		<-f.release
	}
	return f.memFile.Write(p)
}

// TestWAVRecorderSlowDiskNeverBlocks: when the file stops accepting writes,
// WriteFrame keeps returning and counts the dropped audio.
func TestWAVRecorderSlowDiskNeverBlocks(t *testing.T) {
	f := &blockingFile{release: make(chan struct{})}
	rec, err := NewWAVRecorder(f, 8000, &WAVRecorderOptions{Buffer: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	frame := sine(8000, 440, 1000, 160)
	for i := 0; i < 200; i++ { // 4 s, far more than the buffer and the stuck write
		rec.WriteFrame(frame)
	}
	if rec.Dropped() == 0 {
		t.Error("nothing dropped although the disk is stuck")
	}
	close(f.release)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	_, y := readAllWAV(t, f.b)
	if int64(len(y))+rec.Dropped() != 200*160 {
		t.Errorf("written %d + dropped %d != %d samples received", len(y), rec.Dropped(), 200*160)
	}
}

type failingFile struct{ memFile }

func (f *failingFile) Write(p []byte) (int, error) {
	if len(p) > 44 || f.pos >= 44 && len(p) > 4 {
		return 0, errors.New("disk full")
	}
	return f.memFile.Write(p)
}

func TestWAVRecorderWriteError(t *testing.T) {
	rec, err := NewWAVRecorder(&failingFile{}, 8000, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec.WriteFrame(make([]int16, 160))
	if err := rec.Flush(); err == nil || rec.Err() == nil {
		t.Error("a write error is not reported")
	}
	rec.WriteFrame(make([]int16, 160)) // ignored, no panic
	if err := rec.Close(); err == nil {
		t.Error("Close does not report the write error")
	}
	if _, err := CreateWAVRecorder(filepath.Join(t.TempDir(), "no", "dir.wav"), 8000, nil); err == nil {
		t.Error("recorder in a missing directory succeeded")
	}
	if _, err := CreateWAVRecorder(filepath.Join(t.TempDir(), "x.wav"), 1234, nil); !errors.Is(err, ErrSampleRate) {
		t.Errorf("recorder at 1234 Hz: %v", err)
	}
}

var dtmfTable = map[rune][2]float64{
	'1': {697, 1209}, '2': {697, 1336}, '3': {697, 1477}, 'A': {697, 1633},
	'4': {770, 1209}, '5': {770, 1336}, '6': {770, 1477}, 'B': {770, 1633},
	'7': {852, 1209}, '8': {852, 1336}, '9': {852, 1477}, 'C': {852, 1633},
	'*': {941, 1209}, '0': {941, 1336}, '#': {941, 1477}, 'D': {941, 1633},
}

// TestToneDTMFGoertzel generates every DTMF key and detects it with the
// Goertzel algorithm: the key's two frequencies must stand out from the six
// others by 20 dB.
func TestToneDTMFGoertzel(t *testing.T) {
	freqs := []float64{697, 770, 852, 941, 1209, 1336, 1477, 1633}
	for _, rate := range []int{8000, 16000} {
		g, _ := NewToneGenerator(rate)
		for key, want := range dtmfTable {
			done, err := g.PlayDTMF(string(key), 100*time.Millisecond, 0)
			if err != nil {
				t.Fatal(err)
			}
			var x []int16
			frame := make([]int16, rate/50)
			for i := 0; i < 5; i++ {
				if !g.ReadFrame(frame) {
					t.Fatalf("%q: silent frame %d", key, i)
				}
				x = append(x, frame...)
			}
			<-done
			if g.Playing() || g.ReadFrame(frame) {
				t.Errorf("%q: still playing after 100 ms", key)
			}
			power := map[float64]float64{}
			for _, f := range freqs {
				power[f] = goertzel(x[rate/100:], rate, f)
			}
			weakest := math.Min(power[want[0]], power[want[1]])
			for _, f := range freqs {
				if f != want[0] && f != want[1] && power[f] > weakest-20 {
					t.Errorf("%d Hz, key %q: %g Hz at %.1f dB, key frequencies at %.1f and %.1f dB",
						rate, key, f, power[f], power[want[0]], power[want[1]])
				}
			}
			// Default volume 0.5: each frequency at about -12 dBFS.
			if p := power[want[0]]; p < -14 || p > -10 {
				t.Errorf("%q: level %.1f dB, want about -12", key, p)
			}
		}
	}
	for _, k := range "xE!é" {
		if _, _, err := DTMFFrequencies(k); !errors.Is(err, ErrDTMFDigit) {
			t.Errorf("DTMFFrequencies(%q): %v", k, err)
		}
	}
	if lo, hi, err := DTMFFrequencies('d'); err != nil || lo != 941 || hi != 1633 {
		t.Errorf("DTMFFrequencies('d') = %v %v %v", lo, hi, err)
	}
}

// TestToneCadence checks the on/off pattern of the US busy tone and the
// frequencies of the ringback tone.
func TestToneCadence(t *testing.T) {
	g, _ := NewToneGenerator(8000)
	if _, err := g.Play(BusyUS); err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, 160)
	var levels []float64
	for i := 0; i < 100; i++ { // 2 s: two cycles of 0.5 s on, 0.5 s off
		g.ReadFrame(frame)
		levels = append(levels, rms(frame))
	}
	for i, l := range levels {
		on := (i/25)%2 == 0
		inner := i%25 != 0 && i%25 != 24 // frames touching the ramps
		if inner && on && l < 2000 {
			t.Errorf("frame %d should be on: rms %.0f", i, l)
		}
		if inner && !on && l != 0 {
			t.Errorf("frame %d should be off: rms %.0f", i, l)
		}
	}
	g.Stop()
	if g.ReadFrame(frame) {
		t.Error("stopped generator produces audio")
	}
	g.Play(RingbackUS)
	var x []int16
	for i := 0; i < 50; i++ {
		g.ReadFrame(frame)
		x = append(x, frame...)
	}
	if p440, p480, p620 := goertzel(x, 8000, 440), goertzel(x, 8000, 480), goertzel(x, 8000, 620); p440 < p620+30 || p480 < p620+30 {
		t.Errorf("ringback: 440 Hz %.1f dB, 480 Hz %.1f dB, 620 Hz %.1f dB", p440, p480, p620)
	}
}

func TestToneVolumeAndErrors(t *testing.T) {
	g, _ := NewToneGenerator(16000)
	frame := make([]int16, 320)
	g.SetVolume(1)
	g.PlayTone(1000, 0, time.Second)
	g.ReadFrame(frame)
	g.ReadFrame(frame)
	if peak := rms(frame) * math.Sqrt2; math.Abs(peak-16383) > 100 {
		t.Errorf("volume 1: peak %.0f, want 16383", peak)
	}
	if snr := sineSNR(frame, 16000, 1000); snr < 60 {
		t.Errorf("1 kHz tone SNR %.1f dB", snr)
	}
	g.SetVolume(0)
	g.ReadFrame(frame)
	if rms(frame) != 0 {
		t.Error("volume 0 is not silent")
	}
	for _, v := range []float64{-0.1, 1.5, math.NaN()} {
		if err := g.SetVolume(v); err == nil {
			t.Errorf("SetVolume(%v) succeeded", v)
		}
	}
	if _, err := g.PlayTone(9000, 0, time.Second); err == nil {
		t.Error("a tone above Nyquist was accepted")
	}
	if _, err := g.Play(Pattern{Loop: true, Tones: []Tone{{Duration: 0}}}); err == nil {
		t.Error("an empty looping pattern was accepted")
	}
	if _, err := g.PlayDTMF("12x", 100*time.Millisecond, 100*time.Millisecond); !errors.Is(err, ErrDTMFDigit) {
		t.Errorf("PlayDTMF with a bad key: %v", err)
	}
	if _, err := g.PlayDTMF("1", 0, 0); err == nil {
		t.Error("PlayDTMF with zero duration succeeded")
	}
	// Replacing a pattern ends the previous one.
	d1, _ := g.Play(DialToneEU)
	g.Play(BusyEU)
	select {
	case <-d1:
	default:
		t.Error("Play does not end the pattern it replaces")
	}
	if _, err := NewToneGenerator(1000); err == nil {
		t.Error("NewToneGenerator(1000) succeeded")
	}
}

func TestFormat(t *testing.T) {
	var f Format
	if f.FrameSamples() != 320 || f.String() != "16000 Hz/20ms" || f.Validate() != nil {
		t.Errorf("zero Format: %d samples, %q, %v", f.FrameSamples(), f, f.Validate())
	}
	if (Format{SampleRate: 48000, FrameDuration: 10 * time.Millisecond}).FrameSamples() != 480 {
		t.Error("48 kHz/10 ms is not 480 samples")
	}
	x := []int16{1000, -1000, 30000}
	Scale(x, 2)
	if x[0] != 2000 || x[1] != -2000 || x[2] != 32767 {
		t.Errorf("Scale(2) = %v", x)
	}
	if len(SampleRates()) != 4 {
		t.Error("SampleRates")
	}
}
