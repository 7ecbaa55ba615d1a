package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// memFile is an in-memory io.WriteSeeker (and io.Reader) for WAV tests.
type memFile struct {
	b   []byte
	pos int64
}

func (f *memFile) Write(p []byte) (int, error) {
	end := f.pos + int64(len(p))
	if end > int64(len(f.b)) {
		f.b = append(f.b, make([]byte, end-int64(len(f.b)))...)
	}
	copy(f.b[f.pos:], p)
	f.pos = end
	return len(p), nil
}

func (f *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		f.pos = off
	case io.SeekCurrent:
		f.pos += off
	case io.SeekEnd:
		f.pos = int64(len(f.b)) + off
	}
	return f.pos, nil
}

func readAllWAV(t *testing.T, b []byte) (*WAVReader, []int16) {
	t.Helper()
	r, err := NewWAVReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out []int16
	buf := make([]int16, 7) // odd size on purpose
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return r, out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestWAVRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 3, 159, 160, 161, 10007} {
		f := &memFile{}
		w, err := NewWAVWriter(f, 16000)
		if err != nil {
			t.Fatal(err)
		}
		x := sine(16000, 1234, 20000, n)
		for i := 0; i < n; i += 333 { // odd-sized writes
			if err := w.Write(x[i:min(n, i+333)]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if len(f.b) != 44+2*n {
			t.Fatalf("%d samples: file of %d bytes, want %d", n, len(f.b), 44+2*n)
		}
		if got := binary.LittleEndian.Uint32(f.b[4:]); got != uint32(36+2*n) {
			t.Errorf("RIFF size %d, want %d", got, 36+2*n)
		}
		r, y := readAllWAV(t, f.b)
		if r.SampleRate() != 16000 || r.Channels() != 1 || r.Len() != int64(n) || r.Truncated() {
			t.Errorf("header: rate %d channels %d len %d truncated %v", r.SampleRate(), r.Channels(), r.Len(), r.Truncated())
		}
		if len(y) != n {
			t.Fatalf("read %d samples, wrote %d", len(y), n)
		}
		for i := range x {
			if x[i] != y[i] {
				t.Fatalf("sample %d: read %d, wrote %d", i, y[i], x[i])
			}
		}
	}
}

// buildWAV makes a WAV file by hand: fmt with the given fields, optional
// extra chunks before data, and a data chunk whose declared size may differ
// from its content.
func buildWAV(format uint16, channels, rate, bits int, extra []byte, declared uint32, data []byte) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	binary.Write(&b, le, uint32(0))
	b.WriteString("WAVE")
	b.Write(extra)
	b.WriteString("fmt ")
	fmtLen := uint32(16)
	if format == 0xFFFE {
		fmtLen = 40
	}
	binary.Write(&b, le, fmtLen)
	binary.Write(&b, le, format)
	binary.Write(&b, le, uint16(channels))
	binary.Write(&b, le, uint32(rate))
	binary.Write(&b, le, uint32(rate*channels*bits/8))
	binary.Write(&b, le, uint16(channels*bits/8))
	binary.Write(&b, le, uint16(bits))
	if format == 0xFFFE {
		binary.Write(&b, le, uint16(22))
		binary.Write(&b, le, uint16(bits))
		binary.Write(&b, le, uint32(channels))
		binary.Write(&b, le, uint16(1)) // KSDATAFORMAT_SUBTYPE_PCM starts with 1
		b.Write(make([]byte, 14))
	}
	b.WriteString("data")
	binary.Write(&b, le, declared)
	b.Write(data)
	out := b.Bytes()
	le.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

func pcmBytes(s ...int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

func TestWAVReaderVariants(t *testing.T) {
	// An odd-sized unknown chunk (with its pad byte) before fmt, stereo,
	// WAVE_FORMAT_EXTENSIBLE.
	list := append([]byte("LIST\x03\x00\x00\x00abc"), 0)
	data := pcmBytes(100, 300, -100, -301, 32767, 32767)
	b := buildWAV(0xFFFE, 2, 44100, 16, list, uint32(len(data)), data)
	r, y := readAllWAV(t, b)
	if r.Channels() != 2 || r.SampleRate() != 44100 || r.Len() != 3 {
		t.Errorf("channels %d rate %d len %d", r.Channels(), r.SampleRate(), r.Len())
	}
	if want := []int16{200, -201, 32767}; !equal16(y, want) {
		t.Errorf("stereo mixed down to %v, want %v", y, want)
	}

	// Unknown data size (streaming writers): read to the end.
	data = pcmBytes(1, 2, 3)
	_, y = readAllWAV(t, buildWAV(1, 1, 8000, 16, nil, 0xFFFFFFFF, data))
	if !equal16(y, []int16{1, 2, 3}) {
		t.Errorf("unknown-size data read as %v", y)
	}
}

func TestWAVReaderTruncated(t *testing.T) {
	// Header announces 100 samples, the file holds 5 and a half.
	data := append(pcmBytes(1, 2, 3, 4, 5), 0x7f)
	r, y := readAllWAV(t, buildWAV(1, 1, 8000, 16, nil, 200, data))
	if !equal16(y, []int16{1, 2, 3, 4, 5}) {
		t.Errorf("truncated file read as %v", y)
	}
	if !r.Truncated() {
		t.Error("Truncated() is false for a truncated file")
	}
	// Cut inside the header.
	full := buildWAV(1, 1, 8000, 16, nil, 2, pcmBytes(9))
	for _, n := range []int{0, 4, 11, 20, 30, 43} {
		if _, err := NewWAVReader(bytes.NewReader(full[:n])); !errors.Is(err, ErrWAVFormat) {
			t.Errorf("file cut at %d bytes: %v, want ErrWAVFormat", n, err)
		}
	}
}

func TestWAVReaderRejects(t *testing.T) {
	d := pcmBytes(0)
	for name, b := range map[string][]byte{
		"not riff":  []byte("RIFX\x00\x00\x00\x00WAVEfmt "),
		"8-bit":     buildWAV(1, 1, 8000, 8, nil, 2, d),
		"float":     buildWAV(3, 1, 8000, 32, nil, 2, d),
		"6 chans":   buildWAV(1, 6, 8000, 16, nil, 2, d),
		"rate 100":  buildWAV(1, 1, 100, 16, nil, 2, d),
		"data only": []byte("RIFF\x00\x00\x00\x00WAVEdata\x02\x00\x00\x00\x00\x00"),
	} {
		if _, err := NewWAVReader(bytes.NewReader(b)); !errors.Is(err, ErrWAVFormat) {
			t.Errorf("%s: %v, want ErrWAVFormat", name, err)
		}
	}
}

// TestWAVWriterCrashSafety checks that a file whose writer stopped without
// Close is readable up to the last header update.
func TestWAVWriterCrashSafety(t *testing.T) {
	f := &memFile{}
	w, _ := NewWAVWriter(f, 8000)
	w.Write(sine(8000, 300, 1000, 800))
	if err := w.UpdateHeader(); err != nil {
		t.Fatal(err)
	}
	w.Write(sine(8000, 300, 1000, 333)) // then the process dies
	r, y := readAllWAV(t, f.b)
	if len(y) != 800 || r.Truncated() {
		t.Errorf("read %d samples (truncated %v), want the 800 before the last header update", len(y), r.Truncated())
	}
}

func TestWAVWriterSizeLimit(t *testing.T) {
	f := &memFile{}
	w, _ := NewWAVWriter(f, 8000)
	w.data = maxWAVData - 4 // pretend 4 GiB were written
	if err := w.Write([]int16{1, 2, 3}); !errors.Is(err, ErrWAVTooLarge) {
		t.Fatalf("write past 4 GiB: %v", err)
	}
	if w.data != maxWAVData {
		t.Errorf("data size %d after the limit, want %d", w.data, maxWAVData)
	}
	if _, err := NewWAVWriter(&memFile{}, 10); err == nil {
		t.Error("NewWAVWriter at 10 Hz succeeded")
	}
}

func equal16(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// writeWAVFile writes samples to a WAV file in dir and returns its path.
func writeWAVFile(t *testing.T, rate int, x []int16) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := NewWAVWriter(f, rate)
	w.Write(x)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// FuzzWAVReader: any input either fails with ErrWAVFormat (or an I/O error)
// or reads without panicking, and never returns more samples than bytes.
func FuzzWAVReader(f *testing.F) {
	var m memFile
	w, _ := NewWAVWriter(&m, 8000)
	w.Write([]int16{1, -2, 3, -4, 5})
	w.Close()
	f.Add(m.b)
	f.Add(m.b[:50])
	f.Add(buildWAV(0xFFFE, 2, 44100, 16, append([]byte("LIST\x03\x00\x00\x00abc"), 0), 8, pcmBytes(1, 2, 3, 4)))
	f.Add(buildWAV(1, 1, 8000, 16, nil, 0xFFFFFFFF, pcmBytes(7)))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewWAVReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		buf := make([]int16, 100)
		total := 0
		for {
			n, err := r.Read(buf)
			total += n
			if err != nil || n == 0 {
				break
			}
		}
		if total > len(b)/2 {
			t.Fatalf("read %d samples from %d bytes", total, len(b))
		}
	})
}
