package codec

import (
	"fmt"

	"github.com/sipsimple-go/sipsimple/audio"
)

// G.722: 7 kHz audio coding within 64 kbit/s (ITU-T Recommendation G.722,
// 09/2012 edition, mode 1 only, the one RTP uses). This is a port of the
// algorithm as the Recommendation specifies it (clause 6 and its block
// descriptions: QMF, SUBTRA, QUANTL/QUANTH, INVQAL/INVQAH/INVQBL, LOGSCL/
// LOGSCH, SCALEL/SCALEH, RECONS, PARREC, UPPOL1, UPPOL2, UPZERO, DELAYA,
// FILTEP, FILTEZ, PREDIC), with the fixed-point arithmetic of its
// functional description: 16-bit saturating additions, products scaled by
// 2^-15. The tables are the Recommendation's. No other implementation's code
// was used. It is bit-exact with the ITU-T digital test sequences of G.722
// Appendix II (encoder and mode-1 decoder, tested with the QMF bypassed as
// the Appendix prescribes), see TestG722ITUVectors.
//
// Input and output PCM is 16-bit at 16 kHz: the transmit QMF scales by 1/2
// into the 15-bit sub-band range and the receive QMF restores the level, as
// in the ITU-T reference software.

// G722 is G.722 at 64 kbit/s: RTP payload type 9, RTP clock rate 8000 (RFC
// 3551), PCM at 16000 Hz, one byte per two samples.
var G722 Codec = g722Codec{}

type g722Codec struct{}

func (g722Codec) Name() string     { return "G722" }
func (g722Codec) ClockRate() int   { return 8000 }
func (g722Codec) SampleRate() int  { return 16000 }
func (g722Codec) PayloadType() int { return 9 }
func (g722Codec) String() string   { return "G722/8000" }

func (g722Codec) NewEncoder() Encoder {
	e := &g722Encoder{}
	e.Reset()
	return e
}

func (g722Codec) NewDecoder() Decoder {
	d := &g722Decoder{}
	d.plc, _ = audio.NewPLC(16000) // always valid
	d.Reset()
	return d
}

// Tables of the Recommendation.
var (
	// QMF coefficients h0..h23 (scaled by 2^13).
	qmfCoef = [24]int32{
		3, -11, -11, 53, 12, -156, 32, 362, -210, -805, 951, 3876,
		3876, 951, -805, -210, 362, 32, -156, 12, 53, -11, -11, 3,
	}
	// Decision levels of the 6-bit lower sub-band quantizer (×2^-12 of DETL).
	q6 = [31]int32{
		0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714,
		786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0,
	}
	// 6-bit codes of the quantizer intervals 1..30, negative and positive.
	iln = [31]int32{
		0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19,
		18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4,
	}
	ilp = [31]int32{
		0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47,
		46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32,
	}
	// Inverse quantizer outputs: 6-bit (decoder output, mode 1), 4-bit
	// (predictor loop) and 2-bit (higher band).
	qm6 = [64]int32{
		-136, -136, -136, -136, -24808, -21904, -19008, -16704,
		-14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
		-7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576,
		-3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
		24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192,
		10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
		4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032,
		1688, 1360, 1040, 728, 432, 136, -432, -136,
	}
	qm4 = [16]int32{
		0, -20456, -12896, -8968, -6288, -4240, -2584, -1200,
		20456, 12896, 8968, 6288, 4240, 2584, 1200, 0,
	}
	qm2 = [4]int32{-7408, -1616, 7408, 1616}
	// Log scale factor multipliers, indexed by the 4-bit (lower) or 2-bit
	// (higher) code.
	wl = [16]int32{-60, 3042, 1198, 538, 334, 172, 58, -30, 3042, 1198, 538, 334, 172, 58, -30, -60}
	wh = [4]int32{798, -214, 798, -214}
	// ILB: 2048·2^(i/32), the inverse logarithm of SCALEL/SCALEH.
	ilb = [32]int32{
		2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599,
		2656, 2714, 2774, 2834, 2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371,
		3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
	}
)

// sat16 saturates to 16 bits (the Recommendation's limited additions).
func sat16(x int32) int32 { return min(max(x, -32768), 32767) }

// mul15 is the product of two 16-bit values scaled by 2^-15, saturated.
func mul15(a, b int32) int32 { return sat16((a * b) >> 15) }

// sign returns -1 for a negative value and 0 otherwise (the sign bit).
func sign(x int32) int32 { return x >> 15 }

// limit clips a reconstructed sub-band signal to 15 bits.
func limit(x int32) int32 { return min(max(x, -16384), 16383) }

// scale is SCALEL/SCALEH: the linear scale factor for a log scale factor nb,
// shift 8 for the lower band and 10 for the higher.
func scale(nb int32, shift int32) int32 {
	wd1 := (nb >> 6) & 31
	wd2 := shift - (nb >> 11)
	var wd3 int32
	if wd2 < 0 {
		wd3 = ilb[wd1] << -wd2
	} else {
		wd3 = ilb[wd1] >> wd2
	}
	return wd3 << 2
}

// band is the ADPCM state of one sub-band: the adaptive predictor (two poles,
// six zeros), the quantizer scale factor and their signal histories.
type band struct {
	s   int32    // SL/SH: predictor output
	sz  int32    // SZL/SZH: zero-section output
	r   [3]int32 // RLT/RH: reconstructed signal, r[1] and r[2] delayed
	p   [3]int32 // PLT/PH: partially reconstructed signal
	d   [7]int32 // DLT/DH: quantized difference signal, d[1..6] delayed
	a   [3]int32 // AL/AH: pole coefficients a[1], a[2]
	b   [7]int32 // BL/BH: zero coefficients b[1..6]
	nb  int32    // NBL/NBH: log scale factor
	det int32    // DETL/DETH: scale factor
}

func (b *band) reset(det int32) { *b = band{det: det} }

// adapt runs the predictor part common to both bands (RECONS, PARREC,
// UPZERO, UPPOL2, UPPOL1, DELAYA, FILTEZ, FILTEP, PREDIC) for the quantized
// difference b.d[0] of the current sample.
func (b *band) adapt() {
	d0 := b.d[0]
	b.p[0] = sat16(d0 + b.sz) // PARREC
	b.r[0] = sat16(b.s + d0)  // RECONS

	// UPZERO: sign-sign update of the zero section, with leakage; then the
	// difference-signal delay line moves on.
	var wd1 int32
	if d0 != 0 {
		wd1 = 128
	}
	sg0 := sign(d0)
	for i := 6; i > 0; i-- {
		wd3 := mul15(b.b[i], 32640)
		if sign(b.d[i]) == sg0 {
			b.b[i] = sat16(wd3 + wd1)
		} else {
			b.b[i] = sat16(wd3 - wd1)
		}
		b.d[i] = b.d[i-1]
	}

	// UPPOL2: second pole coefficient.
	sg0 = sign(b.p[0])
	sg1 := sign(b.p[1])
	sg2 := sign(b.p[2])
	wd1 = sat16(b.a[1] << 2)
	wd2 := wd1
	if sg0 == sg1 {
		wd2 = sat16(-wd1)
	}
	wd2 >>= 7
	wd3 := int32(-128)
	if sg0 == sg2 {
		wd3 = 128
	}
	apl2 := sat16(sat16(wd2+wd3) + mul15(b.a[2], 32512))
	if apl2 > 12288 {
		apl2 = 12288
	} else if apl2 < -12288 {
		apl2 = -12288
	}
	b.a[2] = apl2

	// UPPOL1: first pole coefficient, bounded by the stability limit.
	wd1 = -192
	if sg0 == sg1 {
		wd1 = 192
	}
	apl1 := sat16(wd1 + mul15(b.a[1], 32640))
	lim := sat16(15360 - apl2)
	if apl1 > lim {
		apl1 = lim
	} else if apl1 < -lim {
		apl1 = -lim
	}
	b.p[2] = b.p[1]
	b.p[1] = b.p[0]
	b.a[1] = apl1

	// FILTEZ: zero section.
	var sz int32
	for i := 6; i > 0; i-- {
		sz = sat16(sz + mul15(sat16(b.d[i]+b.d[i]), b.b[i]))
	}
	b.sz = sz

	// FILTEP: pole section on the delayed reconstructed signal.
	b.r[2] = b.r[1]
	b.r[1] = b.r[0]
	sp := sat16(mul15(b.a[1], sat16(b.r[1]+b.r[1])) + mul15(b.a[2], sat16(b.r[2]+b.r[2])))

	b.s = sat16(sp + sz) // PREDIC
}

// adaptLow is the lower-band update for the 6-bit code il: INVQAL (4-bit
// truncated code), LOGSCL, SCALEL, then the predictor.
func (b *band) adaptLow(il int32) {
	ril := il >> 2
	b.d[0] = mul15(b.det, qm4[ril])
	nb := sat16(mul15(b.nb, 32512) + wl[ril])
	if nb < 0 {
		nb = 0
	} else if nb > 18432 {
		nb = 18432
	}
	b.nb = nb
	b.det = scale(nb, 8)
	b.adapt()
}

// adaptHigh is the higher-band update for the 2-bit code ih: INVQAH,
// LOGSCH, SCALEH, then the predictor.
func (b *band) adaptHigh(ih int32) {
	b.d[0] = mul15(b.det, qm2[ih])
	nb := sat16(mul15(b.nb, 32512) + wh[ih])
	if nb < 0 {
		nb = 0
	} else if nb > 22528 {
		nb = 22528
	}
	b.nb = nb
	b.det = scale(nb, 10)
	b.adapt()
}

// encodeLow is SUBTRA and QUANTL for one lower sub-band sample; it returns
// the 6-bit code and updates the state.
func (b *band) encodeLow(xl int32) int32 {
	el := sat16(xl - b.s)
	wd := el
	if el < 0 {
		wd = -(el + 1) // one's complement magnitude
	}
	// The first interval whose upper decision level exceeds wd (levels
	// grow with the index), by bisection: the same result as QUANTL's
	// linear scan.
	lo, hi := int32(1), int32(30)
	for lo < hi {
		mid := (lo + hi) / 2
		if wd >= (q6[mid]*b.det)>>12 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	mil := lo
	var il int32
	if el < 0 {
		il = iln[mil]
	} else {
		il = ilp[mil]
	}
	b.adaptLow(il)
	return il
}

// encodeHigh is SUBTRA and QUANTH for one higher sub-band sample; it returns
// the 2-bit code and updates the state.
func (b *band) encodeHigh(xh int32) int32 {
	eh := sat16(xh - b.s)
	wd := eh
	if eh < 0 {
		wd = -(eh + 1)
	}
	big := wd >= (564*b.det)>>12
	var ih int32
	switch {
	case eh < 0 && big:
		ih = 0
	case eh < 0:
		ih = 1
	case big:
		ih = 2
	default:
		ih = 3
	}
	b.adaptHigh(ih)
	return ih
}

// decodeLow is INVQBL (mode 1), RECONS and LIMIT for the 6-bit code il; it
// returns the reconstructed lower sub-band sample and updates the state.
func (b *band) decodeLow(il int32) int32 {
	rl := limit(sat16(b.s + mul15(b.det, qm6[il])))
	b.adaptLow(il)
	return rl
}

// decodeHigh is INVQAH, RECONS and LIMIT for the 2-bit code ih.
func (b *band) decodeHigh(ih int32) int32 {
	rh := limit(sat16(b.s + mul15(b.det, qm2[ih])))
	b.adaptHigh(ih)
	return rh
}

// g722Encoder is the G.722 encoder (64 kbit/s), made by G722.NewEncoder.
type g722Encoder struct {
	low, high band
	x         [24]int32 // transmit QMF delay line, newest first
}

// Reset returns the encoder to its initial state.
func (e *g722Encoder) Reset() {
	e.low.reset(32)
	e.high.reset(8)
	e.x = [24]int32{}
}

// Encode encodes pcm (16 kHz, an even number of samples) and appends one
// byte per two samples to dst.
func (e *g722Encoder) Encode(dst []byte, pcm []int16) ([]byte, error) {
	if len(pcm)%2 != 0 {
		return dst, fmt.Errorf("%w: G.722 encodes pairs of samples, got %d samples", ErrFrameSize, len(pcm))
	}
	n := len(dst)
	dst = grow(dst, len(pcm)/2)
	out := dst[n:]
	for i := range out {
		xl, xh := e.analysis(int32(pcm[2*i]), int32(pcm[2*i+1]))
		il := e.low.encodeLow(xl)
		ih := e.high.encodeHigh(xh)
		out[i] = byte(ih<<6 | il)
	}
	return dst, nil
}

// analysis is the transmit QMF: it takes two input samples (x0 first) and
// returns the lower and higher sub-band samples.
func (e *g722Encoder) analysis(x0, x1 int32) (xl, xh int32) {
	copy(e.x[2:], e.x[:22])
	e.x[1] = x0
	e.x[0] = x1
	var sa, sb int32 // even and odd taps
	for i := 0; i < 24; i += 2 {
		sa += qmfCoef[i] * e.x[i]
		sb += qmfCoef[i+1] * e.x[i+1]
	}
	return limit((sa + sb) >> 14), limit((sa - sb) >> 14)
}

// g722Decoder is the G.722 decoder (64 kbit/s, mode 1) with packet loss
// concealment, made by G722.NewDecoder.
type g722Decoder struct {
	low, high band
	x         [24]int32 // receive QMF delay line, newest first
	plc       *audio.PLC
}

// Reset returns the decoder to its initial state.
func (d *g722Decoder) Reset() {
	d.low.reset(32)
	d.high.reset(8)
	d.x = [24]int32{}
	d.plc.Reset()
}

// Decode decodes payload and appends two samples per byte to dst.
func (d *g722Decoder) Decode(dst []int16, payload []byte) ([]int16, error) {
	n := len(dst)
	dst = grow16(dst, 2*len(payload))
	out := dst[n:]
	for i, c := range payload {
		rl := d.low.decodeLow(int32(c & 0x3F))
		rh := d.high.decodeHigh(int32(c >> 6))
		out[2*i], out[2*i+1] = d.synthesis(rl, rh)
	}
	d.plc.Good(out)
	return dst, nil
}

// Conceal appends n samples replacing a lost payload. The concealment is
// done on the 16 kHz output (see audio.PLC); the ADPCM state is kept as it
// was, and re-converges within a few milliseconds of the next payload,
// during which the decoder cross-fades from the concealment.
func (d *g722Decoder) Conceal(dst []int16, n int) []int16 {
	if n <= 0 {
		return dst
	}
	m := len(dst)
	dst = grow16(dst, n)
	d.plc.Conceal(dst[m:])
	return dst
}

// synthesis is the receive QMF: from one lower and one higher sub-band
// sample it produces two output samples.
func (d *g722Decoder) synthesis(rl, rh int32) (int16, int16) {
	copy(d.x[2:], d.x[:22])
	d.x[1] = sat16(rl + rh) // xs
	d.x[0] = sat16(rl - rh) // xd
	var sa, sb int32
	for i := 0; i < 24; i += 2 {
		sa += qmfCoef[i] * d.x[i]
		sb += qmfCoef[i+1] * d.x[i+1]
	}
	return audio.Saturate(sa >> 11), audio.Saturate(sb >> 11)
}
