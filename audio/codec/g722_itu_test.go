package codec

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The ITU-T G.722 Appendix II digital test sequences are copyright ITU-T and
// are not part of this repository. To run TestG722ITUVectors, put the ASCII
// files of the G.722 (09/2012) test-sequence distribution
// (G.722_MB-testvectors/g722-ascii: T1C2.XMT, T2R2.COD, T3L2.RC1,
// T3H2.RC0 and, if present, T1C1.XMT, T2R1.COD, T3L1.RC1, T3H1.RC0,
// T1D3.COD, T3L3.RC1, T3H3.RC0) in a directory and set G722_ITU_VECTORS to
// it:
//
//	G722_ITU_VECTORS=/path/to/g722-ascii go test -run ITU ./audio/codec
const ituVectorsEnv = "G722_ITU_VECTORS"

// readITUSequence reads an ITU ASCII test sequence: comment lines between
// /* and */, data lines of sixteen 16-bit words in hex followed by a one-byte
// checksum.
func readITUSequence(path string) ([]uint16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var words []uint16
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "/*") {
			continue
		}
		if len(s) != 66 {
			return nil, fmt.Errorf("%s:%d: data line of %d characters, want 66", path, line, len(s))
		}
		for i := 0; i < 64; i += 4 {
			v, err := strconv.ParseUint(s[i:i+4], 16, 16)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", path, line, err)
			}
			words = append(words, uint16(v))
		}
	}
	return words, sc.Err()
}

// TestG722ITUVectors checks bit-exactness against the ITU-T G.722 Appendix
// II test sequences. The sequences exercise the sub-band ADPCM coders with
// the QMF bypassed: each input word (a 15-bit sample shifted left by one)
// feeds both sub-band encoders and gives one 8-bit code (shifted left by
// 8); the decoder outputs are the reconstructed sub-band signals (shifted
// left by one). A word with its least significant bit set is a reset.
func TestG722ITUVectors(t *testing.T) {
	dir := os.Getenv(ituVectorsEnv)
	if dir == "" {
		t.Skipf("ITU-T G.722 test sequences not available: set %s to the directory of the ASCII files (see g722_itu_test.go)", ituVectorsEnv)
	}
	load := func(name string) []uint16 {
		t.Helper()
		w, err := readITUSequence(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(dir, name))
		return err == nil
	}
	for _, tc := range []struct{ in, cod string }{{"T1C1.XMT", "T2R1.COD"}, {"T1C2.XMT", "T2R2.COD"}} {
		if !exists(tc.in) || !exists(tc.cod) {
			t.Logf("skipping encoder sequence %s: not in %s", tc.in, dir)
			continue
		}
		t.Run("encode "+tc.in, func(t *testing.T) {
			in, want := load(tc.in), load(tc.cod)
			if len(in) != len(want) {
				t.Fatalf("%d input words, %d expected codes", len(in), len(want))
			}
			var low, high band
			low.reset(32)
			high.reset(8)
			bad := 0
			for i, w := range in {
				var got uint16
				if w&1 != 0 {
					low.reset(32)
					high.reset(8)
					got = 1
				} else {
					x := int32(int16(w)) >> 1
					il := low.encodeLow(x)
					ih := high.encodeHigh(x)
					got = uint16(ih<<6|il) << 8
				}
				if got != want[i] {
					if bad < 10 {
						t.Errorf("word %d: input %04X: code %04X, want %04X", i, w, got, want[i])
					}
					bad++
				}
			}
			if bad > 0 {
				t.Fatalf("%d of %d codes differ", bad, len(in))
			}
			t.Logf("%d codes bit-exact", len(in))
		})
	}
	for _, tc := range []struct{ cod, low, high string }{
		{"T2R1.COD", "T3L1.RC1", "T3H1.RC0"},
		{"T2R2.COD", "T3L2.RC1", "T3H2.RC0"},
		{"T1D3.COD", "T3L3.RC1", "T3H3.RC0"},
	} {
		if !exists(tc.cod) || !exists(tc.low) || !exists(tc.high) {
			t.Logf("skipping decoder sequence %s: not in %s", tc.cod, dir)
			continue
		}
		t.Run("decode "+tc.cod, func(t *testing.T) {
			in, wantL, wantH := load(tc.cod), load(tc.low), load(tc.high)
			if len(in) != len(wantL) || len(in) != len(wantH) {
				t.Fatalf("%d codes, %d and %d expected samples", len(in), len(wantL), len(wantH))
			}
			var low, high band
			low.reset(32)
			high.reset(8)
			bad := 0
			for i, w := range in {
				var gl, gh uint16
				if w&1 != 0 {
					low.reset(32)
					high.reset(8)
					gl, gh = 1, 1
				} else {
					c := int32(w >> 8)
					gl = uint16(int16(low.decodeLow(c&0x3F) << 1))
					gh = uint16(int16(high.decodeHigh(c>>6) << 1))
				}
				if gl != wantL[i] || gh != wantH[i] {
					if bad < 10 {
						t.Errorf("word %d: code %04X: low %04X high %04X, want %04X %04X", i, w, gl, gh, wantL[i], wantH[i])
					}
					bad++
				}
			}
			if bad > 0 {
				t.Fatalf("%d of %d samples differ", bad, len(in))
			}
			t.Logf("%d lower and higher band samples bit-exact", len(in))
		})
	}
}
