package audio_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/sipsimple-go/sipsimple/audio"
)

// A mixer stepped by hand: a tone generator plays DTMF into a WAV recorder.
func ExampleMixer() {
	dir, _ := os.MkdirTemp("", "audio-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "dtmf.wav")

	m, err := audio.NewMixer(audio.MixerConfig{SampleRate: 16000})
	if err != nil {
		log.Fatal(err)
	}
	tones, _ := audio.NewToneGenerator(16000)
	rec, err := audio.CreateWAVRecorder(path, 8000, nil) // resampled by the mixer
	if err != nil {
		log.Fatal(err)
	}
	src, _ := m.Add(tones)
	dst, _ := m.Add(rec)
	m.Connect(src, dst)

	tones.PlayDTMF("5", 100*time.Millisecond, 0)
	for i := 0; i < 10; i++ { // 200 ms
		m.Tick()
	}
	m.Remove(dst)
	if err := rec.Close(); err != nil {
		log.Fatal(err)
	}

	f, _ := os.Open(path)
	defer f.Close()
	r, _ := audio.NewWAVReader(f)
	fmt.Println(r.Len(), "samples at", r.SampleRate(), "Hz")
	// Output: 1600 samples at 8000 Hz
}

// Headless real-time use: the null device is the clock, as a sound card
// would be.
func ExampleMixer_Start() {
	m, _ := audio.NewMixer(audio.MixerConfig{})
	dev, _ := audio.NewNullDevice(m.Format().SampleRate)
	tones, _ := audio.NewToneGenerator(m.Format().SampleRate)
	speaker, _ := m.Add(dev)
	ringback, _ := m.Add(tones)
	m.Connect(ringback, speaker)

	if err := m.Start(dev); err != nil {
		log.Fatal(err)
	}
	done, _ := tones.Play(audio.Pattern{Tones: []audio.Tone{{Freq1: 425, Duration: 60 * time.Millisecond}}})
	<-done
	if err := m.Stop(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("played")
	// Output: played
}

// Two calls and a local user in a three-way conference: each hears the
// other two.
func ExampleMixer_Conference() {
	m, _ := audio.NewMixer(audio.MixerConfig{SampleRate: 8000})
	a, _ := audio.NewToneGenerator(8000)
	b, _ := audio.NewToneGenerator(8000)
	dev, _ := audio.NewNullDevice(8000)
	sa, _ := m.Add(a)
	sb, _ := m.Add(b)
	sd, _ := m.Add(dev)
	if err := m.Conference(sa, sb, sd); err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Connected(sa, sd), m.Connected(sb, sd), m.Connected(sd, sd))
	// Output: true true false
}

func ExampleResampler() {
	r, err := audio.NewResampler(8000, 48000)
	if err != nil {
		log.Fatal(err)
	}
	in := make([]int16, 160) // 20 ms at 8 kHz
	out := r.Process(nil, in)
	fmt.Println(len(in), "->", len(out), "samples, delay", r.Delay())
	// Output: 160 -> 960 samples, delay 2.989583ms
}

func ExampleToneGenerator_PlayDTMF() {
	g, _ := audio.NewToneGenerator(8000)
	done, err := g.PlayDTMF("123", 100*time.Millisecond, 100*time.Millisecond)
	if err != nil {
		log.Fatal(err)
	}
	frame := make([]int16, 160)
	frames := 0
	for {
		select {
		case <-done:
			fmt.Println(frames, "frames of 20 ms")
			return
		default:
			g.ReadFrame(frame)
			frames++
		}
	}
	// Output: 30 frames of 20 ms
}

func ExampleDTMFFrequencies() {
	lo, hi, _ := audio.DTMFFrequencies('#')
	fmt.Println(lo, hi)
	// Output: 941 1477
}

func ExamplePLC() {
	plc, _ := audio.NewPLC(8000)
	frame := make([]int16, 160)
	plc.Good(frame)    // a frame received (cross-faded in place after a loss)
	plc.Conceal(frame) // a frame lost: frame now holds its replacement
	fmt.Println(len(frame))
	// Output: 160
}
