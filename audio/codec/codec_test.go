package codec

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestG711ReferenceValues checks codes and values of the ITU-T G.711 tables
// (and the G.191 reference implementation): the code of zero, of the
// extremes, and the decoded value of characteristic codes.
func TestG711ReferenceValues(t *testing.T) {
	for _, tc := range []struct {
		in   int16
		ulaw byte
		alaw byte
	}{
		{0, 0xFF, 0xD5},
		{-1, 0x7F, 0x55}, // one's complement: -1 is "negative zero"
		{8, 0xFE, 0xD5},
		{-8, 0x7E, 0x55},
		{1000, 0xCE, 0xFA},
		{-1000, 0x4E, 0x7A},
		{32767, 0x80, 0xAA},
		{-32768, 0x00, 0x2A},
		{32124, 0x80, 0xAA},
	} {
		if got := EncodeULaw(tc.in); got != tc.ulaw {
			t.Errorf("µ-law(%d) = %#02x, want %#02x", tc.in, got, tc.ulaw)
		}
		if got := EncodeALaw(tc.in); got != tc.alaw {
			t.Errorf("A-law(%d) = %#02x, want %#02x", tc.in, got, tc.alaw)
		}
	}
	// Decoder outputs of G.711 Tables 1 and 2, scaled to 16 bits: µ-law's
	// largest output 8031 (×4), its first steps 0, 2 and 33 (×4); A-law's
	// largest output 4032 (×8), its first outputs 1 and 3 (×8).
	for code, want := range map[byte]int16{0xFF: 0, 0x7F: 0, 0xFE: 8, 0x7E: -8, 0xEF: 132, 0x6F: -132, 0x80: 32124, 0x00: -32124} {
		if got := DecodeULaw(code); got != want {
			t.Errorf("µ-law decode(%#02x) = %d, want %d", code, got, want)
		}
	}
	for code, want := range map[byte]int16{0xD5: 8, 0x55: -8, 0xD4: 24, 0x54: -24, 0xAA: 32256, 0x2A: -32256} {
		if got := DecodeALaw(code); got != want {
			t.Errorf("A-law decode(%#02x) = %d, want %d", code, got, want)
		}
	}
}

// TestG711RoundTrip: every code decodes to a value that encodes back to the
// same code (except µ-law's negative zero, which is zero), the tables agree
// with the reference functions on all 65536 inputs, and the coding is
// monotonic with the error bounded by half a quantisation step.
func TestG711RoundTrip(t *testing.T) {
	for c := 0; c < 256; c++ {
		if got := EncodeULaw(DecodeULaw(byte(c))); got != byte(c) && c != 0x7F {
			t.Errorf("µ-law code %#02x -> %d -> %#02x", c, DecodeULaw(byte(c)), got)
		}
		if got := EncodeALaw(DecodeALaw(byte(c))); got != byte(c) {
			t.Errorf("A-law code %#02x -> %d -> %#02x", c, DecodeALaw(byte(c)), got)
		}
	}
	prevU, prevA := int16(math.MinInt16), int16(math.MinInt16)
	for i := math.MinInt16; i <= math.MaxInt16; i++ {
		s := int16(i)
		u, a := EncodeULaw(s), EncodeALaw(s)
		if u != ulawCompressRef(s) || a != alawCompressRef(s) {
			t.Fatalf("table and reference differ at %d", s)
		}
		du, da := DecodeULaw(u), DecodeALaw(a)
		if du < prevU || da < prevA {
			t.Fatalf("not monotonic at %d", s)
		}
		prevU, prevA = du, da
		// Largest step: 1024 (µ-law) and 1024 (A-law, top segment).
		if e := math.Abs(float64(du) - float64(s)); e > 512+132 {
			t.Fatalf("µ-law error %v at %d", e, s)
		}
		if e := math.Abs(float64(da) - float64(s)); e > 512+8 {
			t.Fatalf("A-law error %v at %d", e, s)
		}
	}
}

func TestG711Frames(t *testing.T) {
	x := tone(8000, 1000, 8000, 160)
	for _, c := range []Codec{PCMU, PCMA} {
		enc, dec := c.NewEncoder(), c.NewDecoder()
		p, err := enc.Encode(nil, x)
		if err != nil || len(p) != 160 {
			t.Fatalf("%s: %d bytes, %v", c.Name(), len(p), err)
		}
		y, err := dec.Decode(nil, p)
		if err != nil || len(y) != 160 {
			t.Fatalf("%s: decoded %d samples, %v", c.Name(), len(y), err)
		}
		if snr := snrDB(x, y); snr < 30 {
			t.Errorf("%s: SNR %.1f dB, want at least 30", c.Name(), snr)
		}
		y = dec.Conceal(y[:0], 160)
		if len(y) != 160 {
			t.Errorf("%s: Conceal gave %d samples", c.Name(), len(y))
		}
		if len(dec.Conceal(nil, 0)) != 0 || len(dec.Conceal(nil, -5)) != 0 {
			t.Errorf("%s: Conceal of nothing produced samples", c.Name())
		}
		if y, _ := dec.Decode(nil, nil); len(y) != 0 {
			t.Errorf("%s: empty payload decoded to %d samples", c.Name(), len(y))
		}
		enc.Reset()
		dec.Reset()
	}
}

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		name  string
		clock int
		want  Codec
	}{{"PCMU", 8000, PCMU}, {"pcma", 8000, PCMA}, {"G722", 8000, G722}, {"g722", 16000, nil}, {"opus", 48000, nil}} {
		c, ok := Lookup(tc.name, tc.clock)
		if c != tc.want || ok != (tc.want != nil) {
			t.Errorf("Lookup(%q, %d) = %v, %v", tc.name, tc.clock, c, ok)
		}
	}
	for pt, want := range map[int]Codec{0: PCMU, 8: PCMA, 9: G722} {
		if c, ok := ByPayloadType(pt); !ok || c != want {
			t.Errorf("ByPayloadType(%d) = %v", pt, c)
		}
	}
	if _, ok := ByPayloadType(18); ok {
		t.Error("ByPayloadType(18) found a codec")
	}
	if G722.ClockRate() != 8000 || G722.SampleRate() != 16000 {
		t.Error("G.722 rates are not the RFC 3551 ones")
	}
}

// tone returns n samples of a sine.
func tone(rate int, freq, amp float64, n int) []int16 {
	x := make([]int16, n)
	for i := range x {
		x[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return x
}

// chirp returns a linear sweep from f0 to f1 Hz with a speech-like
// envelope (syllables of 150 ms).
func chirp(rate int, f0, f1, amp float64, n int) []int16 {
	x := make([]int16, n)
	dur := float64(n) / float64(rate)
	for i := range x {
		t := float64(i) / float64(rate)
		phase := 2 * math.Pi * (f0*t + (f1-f0)*t*t/(2*dur))
		env := 0.55 + 0.45*math.Sin(2*math.Pi*t/0.15)
		x[i] = int16(math.Round(amp * env * math.Sin(phase)))
	}
	return x
}

// snrDB compares y with x sample by sample.
func snrDB(x, y []int16) float64 {
	var s, e float64
	for i := range x {
		d := float64(y[i]) - float64(x[i])
		s += float64(x[i]) * float64(x[i])
		e += d * d
	}
	return 10 * math.Log10(s/(e+1e-9))
}

// codecRoundTrip encodes and decodes x frame by frame (20 ms).
func codecRoundTrip(t testing.TB, c Codec, x []int16) []int16 {
	t.Helper()
	enc, dec := c.NewEncoder(), c.NewDecoder()
	n := c.SampleRate() / 50
	var out []int16
	var p []byte
	for i := 0; i+n <= len(x); i += n {
		var err error
		p, err = enc.Encode(p[:0], x[i:i+n])
		if err != nil {
			t.Fatal(err)
		}
		if out, err = dec.Decode(out, p); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestG722Quality encodes and decodes a 1 kHz sine and a speech-like chirp
// (200 Hz to 6.5 kHz) and compares the output with the input delayed by the
// codec's 22 samples (the QMF pair).
func TestG722Quality(t *testing.T) {
	const delay = 22
	for _, tc := range []struct {
		name string
		x    []int16
		min  float64
	}{
		{"1 kHz sine -6 dBFS", tone(16000, 1000, 16000, 16000), 40},
		{"1 kHz sine -26 dBFS", tone(16000, 1000, 1600, 16000), 40},
		{"chirp 200-6500 Hz", chirp(16000, 200, 6500, 12000, 32000), 24},
		{"chirp 200-3400 Hz", chirp(16000, 200, 3400, 12000, 32000), 38},
	} {
		y := codecRoundTrip(t, G722, tc.x)
		skip := 800 // 50 ms of adaptation
		snr := snrDB(tc.x[skip:len(y)-delay], y[skip+delay:])
		if snr < tc.min {
			t.Errorf("%s: SNR %.1f dB, want at least %.0f", tc.name, snr, tc.min)
		} else {
			t.Logf("%s: SNR %.1f dB", tc.name, snr)
		}
	}
}

// TestG722Regression pins the encoder's and decoder's exact output on a
// deterministic signal, as verified bit-exact against the ITU-T sequences
// (see TestG722ITUVectors), so that a change of behaviour is noticed even
// where the sequences are not available.
func TestG722Regression(t *testing.T) {
	x := chirp(16000, 100, 7900, 30000, 16000)
	for i := range x { // plus a little deterministic noise
		x[i] += int16((i*7919)%201 - 100)
	}
	enc, dec := G722.NewEncoder(), G722.NewDecoder()
	p, err := enc.Encode(nil, x)
	if err != nil {
		t.Fatal(err)
	}
	y, _ := dec.Decode(nil, p)
	h := sha256.New()
	h.Write(p)
	for _, v := range y {
		h.Write([]byte{byte(v), byte(v >> 8)})
	}
	const want = "e1448a216c8d30a3365c204fa7f1932c80686554e43738d3518d325ae63e886c"
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Errorf("G.722 output digest %s, want %s", got, want)
	}
}

func TestG722FramesAndLoss(t *testing.T) {
	enc, dec := G722.NewEncoder(), G722.NewDecoder()
	if _, err := enc.Encode(nil, make([]int16, 319)); !errors.Is(err, ErrFrameSize) {
		t.Errorf("odd frame: %v", err)
	}
	x := chirp(16000, 300, 3000, 8000, 16000)
	var out []int16
	for i := 0; i+320 <= len(x); i += 320 {
		p, _ := enc.Encode(nil, x[i:i+320])
		if len(p) != 160 {
			t.Fatalf("20 ms gave %d bytes, want 160", len(p))
		}
		if (i/320)%10 == 5 { // 10% loss
			out = dec.Conceal(out, 320)
			continue
		}
		out, _ = dec.Decode(out, p)
	}
	if len(out) != len(x) {
		t.Fatalf("%d samples out, %d in", len(out), len(x))
	}
	if snr := snrDB(x[800:len(out)-22], out[822:]); snr < 5 {
		t.Errorf("SNR with 10%% loss concealed: %.1f dB", snr)
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, c := range Codecs() {
		b.Run(c.Name(), func(b *testing.B) {
			n := c.SampleRate() / 50
			x := chirp(c.SampleRate(), 200, 3400, 10000, n)
			enc := c.NewEncoder()
			p := make([]byte, 0, n)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				p, _ = enc.Encode(p[:0], x)
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, c := range Codecs() {
		b.Run(c.Name(), func(b *testing.B) {
			n := c.SampleRate() / 50
			p, _ := c.NewEncoder().Encode(nil, chirp(c.SampleRate(), 200, 3400, 10000, n))
			dec := c.NewDecoder()
			y := make([]int16, 0, n)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				y, _ = dec.Decode(y[:0], p)
			}
		})
	}
}

func BenchmarkConceal(b *testing.B) {
	for _, c := range Codecs() {
		b.Run(c.Name(), func(b *testing.B) {
			n := c.SampleRate() / 50
			p, _ := c.NewEncoder().Encode(nil, chirp(c.SampleRate(), 200, 3400, 10000, n))
			dec := c.NewDecoder()
			y := make([]int16, 0, n)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if i%3 == 0 { // a loss, then two good frames
					y = dec.Conceal(y[:0], n)
				} else {
					y, _ = dec.Decode(y[:0], p)
				}
			}
		})
	}
}

// FuzzDecode: every payload decodes to the expected number of samples, for
// every codec, without panicking.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0x00, 0xFF, 0x7F, 0x80, 0x55, 0xD5})
	f.Add(make([]byte, 160))
	f.Fuzz(func(t *testing.T, p []byte) {
		for _, c := range Codecs() {
			y, err := c.NewDecoder().Decode(nil, p)
			if err != nil {
				t.Fatal(err)
			}
			if want := len(p) * c.SampleRate() / 8000; len(y) != want {
				t.Fatalf("%s: %d bytes decoded to %d samples, want %d", c.Name(), len(p), len(y), want)
			}
		}
	})
}
