package audio

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// resampleFrames runs x through r frame by frame (40 ms at the input rate,
// a whole number of samples at all the rates tested) and checks that each
// frame gives exactly 40 ms at the output rate.
func resampleFrames(t testing.TB, r *Resampler, x []int16) []int16 {
	t.Helper()
	in := SamplesPerFrame(r.InRate(), 40*time.Millisecond)
	want := SamplesPerFrame(r.OutRate(), 40*time.Millisecond)
	var out []int16
	for i := 0; i+in <= len(x); i += in {
		n := len(out)
		out = r.Process(out, x[i:i+in])
		if got := len(out) - n; got != want {
			t.Fatalf("%d -> %d Hz: frame %d gave %d samples, want %d", r.InRate(), r.OutRate(), i/in, got, want)
		}
	}
	return out
}

// TestResamplerSNR converts one second of a tone between every pair of rates
// and measures the signal-to-noise-and-distortion ratio of the result with a
// least-squares sine fit (which ignores the filter's delay and gain).
func TestResamplerSNR(t *testing.T) {
	rates := []int{8000, 11025, 16000, 22050, 32000, 44100, 48000}
	for _, in := range rates {
		for _, out := range rates {
			if in == out {
				continue
			}
			for _, freq := range []float64{1000, 3000} {
				t.Run(fmt.Sprintf("%d->%d/%gHz", in, out, freq), func(t *testing.T) {
					r, err := NewResampler(in, out)
					if err != nil {
						t.Fatal(err)
					}
					y := resampleFrames(t, r, sine(in, freq, 16000, in))
					skip := out / 20 // the filter's warm-up
					snr := sineSNR(y[skip:], out, freq)
					if snr < 75 {
						t.Errorf("SNR %.1f dB, want at least 75 dB", snr)
					}
					if testing.Verbose() {
						t.Logf("SNR %.1f dB, delay %v", snr, r.Delay())
					}
					// Unity gain in the pass band.
					if g := rms(y[skip:]) / rms(sine(out, freq, 16000, out)); g < 0.99 || g > 1.01 {
						t.Errorf("pass-band gain %.4f, want 1 ± 1%%", g)
					}
				})
			}
		}
	}
}

// TestResamplerStopband checks that tones above the output's Nyquist
// frequency are removed rather than aliased.
func TestResamplerStopband(t *testing.T) {
	for _, tc := range []struct {
		in, out int
		freq    float64
	}{{48000, 8000, 6000}, {16000, 8000, 5000}, {48000, 16000, 12000}, {44100, 8000, 4400}} {
		r, err := NewResampler(tc.in, tc.out)
		if err != nil {
			t.Fatal(err)
		}
		y := resampleFrames(t, r, sine(tc.in, tc.freq, 16000, tc.in))
		att := 20 * log10(rms(y[tc.out/20:])/rms(sine(tc.in, tc.freq, 16000, tc.in)))
		if att > -70 {
			t.Errorf("%d -> %d Hz: %g Hz tone attenuated by %.1f dB, want at least 70 dB", tc.in, tc.out, tc.freq, -att)
		}
	}
}

func TestResamplerPassThroughAndReset(t *testing.T) {
	r, err := NewResampler(16000, 16000)
	if err != nil {
		t.Fatal(err)
	}
	x := sine(16000, 440, 1000, 320)
	if y := r.Process(nil, x); len(y) != len(x) || y[100] != x[100] || r.Delay() != 0 {
		t.Fatal("same-rate resampler is not a copy")
	}
	r, _ = NewResampler(8000, 16000)
	a := r.Process(nil, x[:160])
	r.Reset()
	b := r.Process(nil, x[:160])
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("output differs after Reset at %d: %d != %d", i, a[i], b[i])
		}
	}
}

func TestResamplerErrors(t *testing.T) {
	for _, tc := range [][2]int{{0, 8000}, {8000, -1}, {8000, 400000}, {7919, 8000}, {8000, 47969}} {
		if _, err := NewResampler(tc[0], tc[1]); err == nil {
			t.Errorf("NewResampler(%d, %d) succeeded", tc[0], tc[1])
		}
	}
	if _, err := NewResampler(500, 8000); !errors.Is(err, ErrSampleRate) {
		t.Errorf("error %v does not wrap ErrSampleRate", err)
	}
}

func BenchmarkResampler(b *testing.B) {
	for _, tc := range [][2]int{{8000, 16000}, {16000, 8000}, {8000, 48000}, {48000, 8000}, {16000, 48000}, {48000, 16000}, {44100, 48000}} {
		b.Run(fmt.Sprintf("%d->%d", tc[0], tc[1]), func(b *testing.B) {
			r, _ := NewResampler(tc[0], tc[1])
			x := sine(tc[0], 1000, 10000, SamplesPerFrame(tc[0], DefaultFrameDuration))
			out := make([]int16, 0, 2000)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				out = r.Process(out[:0], x)
			}
		})
	}
}
