package audio

import (
	"math"
	"testing"
)

// voiced returns a periodic, speech-like signal: a 125 Hz pulse train
// through a resonance, plus its harmonics.
func voiced(rate, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		t := float64(i) / float64(rate)
		v := 0.0
		for h := 1; h <= 8; h++ {
			v += math.Sin(2*math.Pi*125*float64(h)*t+float64(h)) / float64(h)
		}
		out[i] = int16(6000 * v)
	}
	return out
}

func TestPLCConcealsPeriodicSignal(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		p, err := NewPLC(rate)
		if err != nil {
			t.Fatal(err)
		}
		frame := rate / 50
		x := voiced(rate, 20*frame)
		for i := 0; i < 10; i++ {
			f := append([]int16(nil), x[i*frame:(i+1)*frame]...)
			p.Good(f)
		}
		// Frame 10 is lost: the first 10 ms of concealment should follow
		// the true signal closely (it is exactly periodic).
		c := make([]int16, frame)
		p.Conceal(c)
		var sig, diff float64
		for i := 0; i < frame/2; i++ {
			s := float64(x[10*frame+i])
			sig += s * s
			d := float64(c[i]) - s
			diff += d * d
		}
		if snr := 10 * math.Log10(sig/diff); snr < 15 {
			t.Errorf("%d Hz: first 10 ms of concealment at %.1f dB from the true signal, want 15 dB", rate, snr)
		}
		// Good frame after the loss: no jump larger than the signal's own
		// steps at the joint.
		f := append([]int16(nil), x[11*frame:12*frame]...)
		last := c[len(c)-1]
		p.Good(f)
		if d := math.Abs(float64(f[0]) - float64(last)); d > 3000 {
			t.Errorf("%d Hz: jump of %v at the end of the concealment", rate, d)
		}
	}
}

func TestPLCFadesToSilence(t *testing.T) {
	p, _ := NewPLC(8000)
	x := voiced(8000, 1600)
	for i := 0; i < 10; i++ {
		p.Good(append([]int16(nil), x[i*160:(i+1)*160]...))
	}
	c := make([]int16, 160)
	var levels []float64
	for i := 0; i < 4; i++ { // 80 ms of loss
		p.Conceal(c)
		levels = append(levels, rms(c))
	}
	if levels[0] < 1000 {
		t.Errorf("first concealed frame is almost silent (rms %.0f)", levels[0])
	}
	if !(levels[1] < levels[0] && levels[2] < levels[1]) {
		t.Errorf("concealment does not fade: rms per 20 ms %v", levels)
	}
	if levels[3] != 0 {
		t.Errorf("concealment after 60 ms is not silent: rms %v", levels[3])
	}
	// Audio resumes with a fade in from silence.
	f := append([]int16(nil), x[:160]...)
	p.Good(f)
	if f[0] != 0 && math.Abs(float64(f[0])) >= math.Abs(float64(x[0])) && x[0] != 0 {
		t.Errorf("no fade-in after a long loss: %d (signal %d)", f[0], x[0])
	}
}

func TestPLCSilenceAndRates(t *testing.T) {
	p, _ := NewPLC(16000)
	c := make([]int16, 320)
	p.Conceal(c) // loss before any audio: silence, no panic
	if rms(c) != 0 {
		t.Error("concealment of silence is not silent")
	}
	for _, r := range []int{0, 4000, 96000} {
		if _, err := NewPLC(r); err == nil {
			t.Errorf("NewPLC(%d) succeeded", r)
		}
	}
}

func BenchmarkPLCConceal(b *testing.B) {
	p, _ := NewPLC(8000)
	x := voiced(8000, 1600)
	c := make([]int16, 160)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if i%4 == 0 {
			p.Good(append(c[:0], x[:160]...))
		}
		p.Conceal(c)
	}
}
