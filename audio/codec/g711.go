package codec

import "github.com/sipsimple-go/sipsimple/audio"

// G.711 (ITU-T Recommendation G.711, 1988) companding, µ-law (PCMU) and
// A-law (PCMA). The conversion follows the ITU-T reference algorithm of the
// G.191 Software Tool Library, bit for bit: negative samples use the one's
// complement magnitude, so -1 encodes like 0 does in µ-law's negative half
// (0x7F) and A-law keeps its characteristic even-bit inversion (XOR 0x55).
// Encoding is a table look-up on the 14 (µ-law) or 13 (A-law) most
// significant bits of the sample, decoding a 256-entry table; the tables are
// computed once from the reference algorithm at start-up.

var (
	ulawDecode [256]int16
	alawDecode [256]int16
	ulawEncode [1 << 14]byte // indexed by (sample >> 2) + 8192
	alawEncode [1 << 13]byte // indexed by (sample >> 3) + 4096
)

func init() {
	for i := 0; i < 256; i++ {
		ulawDecode[i] = ulawExpandRef(byte(i))
		alawDecode[i] = alawExpandRef(byte(i))
	}
	for i := range ulawEncode {
		ulawEncode[i] = ulawCompressRef(int16((i - 8192) << 2))
	}
	for i := range alawEncode {
		alawEncode[i] = alawCompressRef(int16((i - 4096) << 3))
	}
}

// EncodeULaw returns the G.711 µ-law code of a 16-bit linear sample.
func EncodeULaw(s int16) byte { return ulawEncode[int(s>>2)+8192] }

// DecodeULaw returns the 16-bit linear value of a G.711 µ-law code.
func DecodeULaw(c byte) int16 { return ulawDecode[c] }

// EncodeALaw returns the G.711 A-law code of a 16-bit linear sample.
func EncodeALaw(s int16) byte { return alawEncode[int(s>>3)+4096] }

// DecodeALaw returns the 16-bit linear value of a G.711 A-law code.
func DecodeALaw(c byte) int16 { return alawDecode[c] }

// ulawCompressRef is the reference µ-law compressor: it works on the 14-bit
// magnitude (one's complement for negative samples) plus the bias 33, finds
// the segment and takes the four bits below its leading one, then inverts.
func ulawCompressRef(x int16) byte {
	var absno int
	if x < 0 {
		absno = int(^x)>>2 + 33
	} else {
		absno = int(x)>>2 + 33
	}
	if absno > 0x1FFF {
		absno = 0x1FFF
	}
	seg := 1
	for i := absno >> 6; i != 0; i >>= 1 {
		seg++
	}
	high := 8 - seg
	low := 0x0F - (absno>>seg)&0x0F
	out := byte(high<<4 | low)
	if x >= 0 {
		out |= 0x80
	}
	return out
}

// ulawExpandRef is the reference µ-law expander.
func ulawExpandRef(c byte) int16 {
	m := int(^c)
	exp := (m >> 4) & 7
	seg := exp + 1
	mant := m & 0x0F
	step := 4 << seg
	v := (0x80 << exp) + step*mant + step/2 - 4*33
	if c < 0x80 {
		v = -v
	}
	return int16(v)
}

// alawCompressRef is the reference A-law compressor: 12-bit magnitude (one's
// complement for negative samples), segment search, then the even bits are
// inverted.
func alawCompressRef(x int16) byte {
	var ix int
	if x < 0 {
		ix = int(^x) >> 4
	} else {
		ix = int(x) >> 4
	}
	if ix > 15 {
		exp := 1
		for ix > 16+15 {
			ix >>= 1
			exp++
		}
		ix -= 16
		ix += exp << 4
	}
	if x >= 0 {
		ix |= 0x80
	}
	return byte(ix) ^ 0x55
}

// alawExpandRef is the reference A-law expander.
func alawExpandRef(c byte) int16 {
	ix := int(c^0x55) & 0x7F
	exp := ix >> 4
	mant := ix & 0x0F
	if exp > 0 {
		mant += 16
	}
	mant = mant<<4 + 8
	if exp > 1 {
		mant <<= exp - 1
	}
	if c > 127 {
		return int16(mant)
	}
	return int16(-mant)
}

// g711 is PCMU or PCMA.
type g711 struct {
	name   string
	pt     int
	encode func(int16) byte
	table  *[256]int16
}

// PCMU is G.711 µ-law: RTP payload type 0, 8000 Hz, one byte per sample.
var PCMU Codec = &g711{name: "PCMU", pt: 0, encode: EncodeULaw, table: &ulawDecode}

// PCMA is G.711 A-law: RTP payload type 8, 8000 Hz, one byte per sample.
var PCMA Codec = &g711{name: "PCMA", pt: 8, encode: EncodeALaw, table: &alawDecode}

func (c *g711) Name() string     { return c.name }
func (c *g711) ClockRate() int   { return 8000 }
func (c *g711) SampleRate() int  { return 8000 }
func (c *g711) PayloadType() int { return c.pt }
func (c *g711) String() string   { return c.name + "/8000" }

func (c *g711) NewEncoder() Encoder { return &g711Encoder{c: c} }

func (c *g711) NewDecoder() Decoder {
	plc, _ := audio.NewPLC(8000) // 8000 Hz is always valid
	return &g711Decoder{c: c, plc: plc}
}

type g711Encoder struct{ c *g711 }

func (e *g711Encoder) Encode(dst []byte, pcm []int16) ([]byte, error) {
	n := len(dst)
	dst = grow(dst, len(pcm))
	out := dst[n:]
	if e.c.pt == 0 {
		for i, s := range pcm {
			out[i] = ulawEncode[int(s>>2)+8192]
		}
	} else {
		for i, s := range pcm {
			out[i] = alawEncode[int(s>>3)+4096]
		}
	}
	return dst, nil
}

func (e *g711Encoder) Reset() {}

type g711Decoder struct {
	c   *g711
	plc *audio.PLC
}

func (d *g711Decoder) Decode(dst []int16, payload []byte) ([]int16, error) {
	n := len(dst)
	dst = grow16(dst, len(payload))
	out := dst[n:]
	t := d.c.table
	for i, b := range payload {
		out[i] = t[b]
	}
	d.plc.Good(out)
	return dst, nil
}

func (d *g711Decoder) Conceal(dst []int16, n int) []int16 {
	if n <= 0 {
		return dst
	}
	m := len(dst)
	dst = grow16(dst, n)
	d.plc.Conceal(dst[m:])
	return dst
}

func (d *g711Decoder) Reset() { d.plc.Reset() }

// grow extends b by n bytes, reallocating only when needed.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, 2*len(b)+n)
	copy(nb, b)
	return nb
}

// grow16 extends s by n samples, reallocating only when needed.
func grow16(s []int16, n int) []int16 {
	if cap(s)-len(s) >= n {
		return s[:len(s)+n]
	}
	ns := make([]int16, len(s)+n, 2*len(s)+n)
	copy(ns, s)
	return ns
}
