package audio

import (
	"math"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// sine returns n samples of a sine of amplitude amp at freq Hz.
func sine(rate int, freq, amp float64, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return out
}

// sineSNR fits a·sin + b·cos + c at freq to x by least squares and returns
// the ratio, in dB, of the fitted sine's power to the power of the residual
// (everything else: noise, distortion, images, aliases).
func sineSNR(x []int16, rate int, freq float64) float64 {
	w := 2 * math.Pi * freq / float64(rate)
	// Normal equations for [sin, cos, 1].
	var a [3][3]float64
	var b [3]float64
	for i, v := range x {
		f := [3]float64{math.Sin(w * float64(i)), math.Cos(w * float64(i)), 1}
		for r := 0; r < 3; r++ {
			for c := 0; c < 3; c++ {
				a[r][c] += f[r] * f[c]
			}
			b[r] += f[r] * float64(v)
		}
	}
	coef := solve3(a, b)
	var sig, noise float64
	for i, v := range x {
		fit := coef[0]*math.Sin(w*float64(i)) + coef[1]*math.Cos(w*float64(i))
		e := float64(v) - fit - coef[2]
		sig += fit * fit
		noise += e * e
	}
	if noise == 0 {
		return 200
	}
	return 10 * math.Log10(sig/noise)
}

func solve3(a [3][3]float64, b [3]float64) [3]float64 {
	for i := 0; i < 3; i++ {
		p := i
		for r := i + 1; r < 3; r++ {
			if math.Abs(a[r][i]) > math.Abs(a[p][i]) {
				p = r
			}
		}
		a[i], a[p] = a[p], a[i]
		b[i], b[p] = b[p], b[i]
		for r := i + 1; r < 3; r++ {
			f := a[r][i] / a[i][i]
			for c := i; c < 3; c++ {
				a[r][c] -= f * a[i][c]
			}
			b[r] -= f * b[i]
		}
	}
	var x [3]float64
	for i := 2; i >= 0; i-- {
		s := b[i]
		for c := i + 1; c < 3; c++ {
			s -= a[i][c] * x[c]
		}
		x[i] = s / a[i][i]
	}
	return x
}

// goertzel returns the power of x at freq (Goertzel algorithm), normalised so
// that a full-scale sine gives about 0 dB.
func goertzel(x []int16, rate int, freq float64) float64 {
	k := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v)/32768 + k*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - k*s1*s2
	n := float64(len(x))
	return 10 * math.Log10(p/(n*n/4)+1e-30)
}

func rms(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(max(1, len(x))))
}

func log10(x float64) float64 { return math.Log10(x + 1e-30) }
