package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// WAV files: RIFF/WAVE with linear PCM, 16 bits per sample. The reader takes
// mono or stereo (mixed down to mono) at any rate from 1000 to 192000 Hz,
// WAVE_FORMAT_PCM or WAVE_FORMAT_EXTENSIBLE with the PCM sub-format, skips
// unknown chunks (with their odd-size pad byte), and reads a file whose data
// chunk is shorter than its header says (a truncated file, or one whose
// writer crashed) up to its last whole sample. The writer writes mono 16-bit
// files and keeps the header's sizes right whenever asked to
// ([WAVWriter.UpdateHeader]) and on Close.

// ErrWAVFormat is wrapped by the errors about a file that is not a WAV file
// this package can read.
var ErrWAVFormat = errors.New("audio: unsupported or malformed WAV file")

// ErrWAVTooLarge is returned by [WAVWriter.Write] when the data would exceed
// the 4 GiB that a RIFF header can describe.
var ErrWAVTooLarge = errors.New("audio: WAV file size limit (4 GiB) reached")

const (
	wavHeaderSize  = 44
	wavUnknownSize = 0xFFFFFFFF
	// maxWAVData is the largest data chunk whose RIFF size (data + 36)
	// still fits in 32 bits, rounded down to whole samples.
	maxWAVData = (0xFFFFFFFF - 36) &^ 1
)

// WAVReader reads the samples of a 16-bit PCM WAV stream as mono.
type WAVReader struct {
	r         io.Reader
	rate      int
	channels  int
	declared  int64 // data size in the header; -1 when unknown (0xFFFFFFFF)
	remaining int64 // bytes left to read; -1 when unknown
	dataStart int64 // offset of the data in the stream
	truncated bool
	buf       []byte
}

// NewWAVReader parses the header of a WAV stream and returns a reader
// positioned at the first sample.
func NewWAVReader(r io.Reader) (*WAVReader, error) {
	w := &WAVReader{r: r}
	var off int64
	read := func(p []byte) error {
		n, err := io.ReadFull(r, p)
		off += int64(n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fmt.Errorf("%w: file ends inside the header (at byte %d)", ErrWAVFormat, off)
		}
		return err
	}
	var hdr [12]byte
	if err := read(hdr[:]); err != nil {
		return nil, err
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: no RIFF/WAVE signature", ErrWAVFormat)
	}
	haveFmt := false
	for {
		var ch [8]byte
		if err := read(ch[:]); err != nil {
			if !haveFmt {
				return nil, fmt.Errorf("%w: no fmt chunk", ErrWAVFormat)
			}
			return nil, fmt.Errorf("%w: no data chunk", ErrWAVFormat)
		}
		id := string(ch[0:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			if size < 16 || size > 1024 {
				return nil, fmt.Errorf("%w: fmt chunk of %d bytes", ErrWAVFormat, size)
			}
			b := make([]byte, size+size&1)
			if err := read(b); err != nil {
				return nil, err
			}
			if err := w.parseFmt(b[:size]); err != nil {
				return nil, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, fmt.Errorf("%w: data chunk before fmt chunk", ErrWAVFormat)
			}
			w.dataStart = off
			w.declared = size
			if size == wavUnknownSize {
				w.declared = -1
			}
			w.remaining = w.declared
			return w, nil
		default:
			n, err := io.CopyN(io.Discard, r, size+size&1)
			off += n
			if err != nil {
				return nil, fmt.Errorf("%w: file ends inside the %q chunk", ErrWAVFormat, id)
			}
		}
	}
}

func (w *WAVReader) parseFmt(b []byte) error {
	format := binary.LittleEndian.Uint16(b[0:2])
	channels := int(binary.LittleEndian.Uint16(b[2:4]))
	rate := int(binary.LittleEndian.Uint32(b[4:8]))
	blockAlign := int(binary.LittleEndian.Uint16(b[12:14]))
	bits := int(binary.LittleEndian.Uint16(b[14:16]))
	if format == 0xFFFE { // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID starts with the format tag
		if len(b) < 40 {
			return fmt.Errorf("%w: short WAVE_FORMAT_EXTENSIBLE fmt chunk", ErrWAVFormat)
		}
		format = binary.LittleEndian.Uint16(b[24:26])
	}
	switch {
	case format != 1:
		return fmt.Errorf("%w: format tag %#x, only PCM (1) is supported", ErrWAVFormat, format)
	case bits != 16:
		return fmt.Errorf("%w: %d bits per sample, only 16 is supported", ErrWAVFormat, bits)
	case channels != 1 && channels != 2:
		return fmt.Errorf("%w: %d channels, only mono and stereo are supported", ErrWAVFormat, channels)
	case rate < minResampleRate || rate > maxResampleRate:
		return fmt.Errorf("%w: sample rate %d Hz", ErrWAVFormat, rate)
	case blockAlign != 2*channels:
		return fmt.Errorf("%w: block align %d for %d channels of 16 bits", ErrWAVFormat, blockAlign, channels)
	}
	w.rate, w.channels = rate, channels
	return nil
}

// SampleRate returns the file's sample rate in Hz.
func (w *WAVReader) SampleRate() int { return w.rate }

// Channels returns the file's number of channels (1 or 2); Read mixes stereo
// down to mono.
func (w *WAVReader) Channels() int { return w.channels }

// Len returns the number of (mono) samples the header announces, or -1 when
// it does not say.
func (w *WAVReader) Len() int64 {
	if w.declared < 0 {
		return -1
	}
	return w.declared / int64(2*w.channels)
}

// Truncated reports whether the data ended before the size the header
// announces (known once Read has returned io.EOF).
func (w *WAVReader) Truncated() bool { return w.truncated }

// Read reads up to len(dst) samples (stereo frames are averaged to mono)
// and returns how many it read. At the end of the data it returns 0 and
// io.EOF; a trailing partial sample is ignored.
func (w *WAVReader) Read(dst []int16) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	block := 2 * w.channels
	want := int64(len(dst) * block)
	if w.remaining >= 0 && want > w.remaining {
		want = w.remaining - w.remaining%int64(block)
	}
	if want == 0 {
		return 0, io.EOF
	}
	if int64(cap(w.buf)) < want {
		w.buf = make([]byte, want)
	}
	b := w.buf[:want]
	n, err := io.ReadFull(w.r, b)
	if w.remaining >= 0 {
		w.remaining -= int64(n)
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		if w.remaining > 0 {
			w.truncated = true
		}
		w.remaining = 0
		err = nil
	}
	if err != nil {
		return 0, err
	}
	samples := n / block
	if samples == 0 {
		return 0, io.EOF
	}
	if w.channels == 1 {
		for i := 0; i < samples; i++ {
			dst[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
		}
	} else {
		for i := 0; i < samples; i++ {
			l := int32(int16(binary.LittleEndian.Uint16(b[4*i:])))
			r := int32(int16(binary.LittleEndian.Uint16(b[4*i+2:])))
			dst[i] = int16((l + r) >> 1)
		}
	}
	return samples, nil
}

// Rewind goes back to the first sample; the underlying reader must be an
// io.Seeker.
func (w *WAVReader) Rewind() error {
	s, ok := w.r.(io.Seeker)
	if !ok {
		return errors.New("audio: WAV reader cannot rewind: the stream is not seekable")
	}
	if _, err := s.Seek(w.dataStart, io.SeekStart); err != nil {
		return err
	}
	w.remaining = w.declared
	w.truncated = false
	return nil
}

// WAVWriter writes a mono 16-bit PCM WAV file.
type WAVWriter struct {
	w     io.WriteSeeker
	base  int64 // offset of the header
	rate  int
	data  int64 // bytes of samples written
	dirty bool  // data written since the last header update
	buf   []byte
}

// NewWAVWriter writes the header of a mono 16-bit WAV file at sampleRate Hz
// at w's current position, with sizes of zero, and returns a writer for its
// samples.
func NewWAVWriter(w io.WriteSeeker, sampleRate int) (*WAVWriter, error) {
	if sampleRate < minResampleRate || sampleRate > maxResampleRate {
		return nil, fmt.Errorf("audio: WAV writer: %w %d Hz", ErrSampleRate, sampleRate)
	}
	base, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, err
	}
	var h [wavHeaderSize]byte
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], 36)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], 1) // mono
	binary.LittleEndian.PutUint32(h[24:], uint32(sampleRate))
	binary.LittleEndian.PutUint32(h[28:], uint32(sampleRate*2))
	binary.LittleEndian.PutUint16(h[32:], 2)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	if _, err := w.Write(h[:]); err != nil {
		return nil, err
	}
	return &WAVWriter{w: w, base: base, rate: sampleRate}, nil
}

// SampleRate returns the file's sample rate.
func (w *WAVWriter) SampleRate() int { return w.rate }

// Samples returns the number of samples written.
func (w *WAVWriter) Samples() int64 { return w.data / 2 }

// Write appends samples to the data chunk. When the file would exceed the
// size a RIFF header can describe, it writes what fits and returns
// ErrWAVTooLarge.
func (w *WAVWriter) Write(samples []int16) error {
	var tooLarge error
	if room := (maxWAVData - w.data) / 2; int64(len(samples)) > room {
		samples = samples[:room]
		tooLarge = ErrWAVTooLarge
	}
	if len(samples) == 0 {
		return tooLarge
	}
	if cap(w.buf) < 2*len(samples) {
		w.buf = make([]byte, 2*len(samples))
	}
	b := w.buf[:2*len(samples)]
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	n, err := w.w.Write(b)
	w.data += int64(n &^ 1)
	w.dirty = true
	if err != nil {
		return err
	}
	return tooLarge
}

// UpdateHeader writes the current sizes into the header, so that the file
// is complete as it stands; the writer then continues at the end. A file
// whose writer stops abruptly is readable up to the last update.
func (w *WAVWriter) UpdateHeader() error {
	if !w.dirty {
		return nil
	}
	var b [4]byte
	put := func(off int64, v uint32) error {
		if _, err := w.w.Seek(w.base+off, io.SeekStart); err != nil {
			return err
		}
		binary.LittleEndian.PutUint32(b[:], v)
		_, err := w.w.Write(b[:])
		return err
	}
	if err := put(40, uint32(w.data)); err != nil {
		return err
	}
	if err := put(4, uint32(36+w.data)); err != nil {
		return err
	}
	if _, err := w.w.Seek(w.base+wavHeaderSize+w.data, io.SeekStart); err != nil {
		return err
	}
	w.dirty = false
	return nil
}

// Close updates the header. It does not close the underlying writer.
func (w *WAVWriter) Close() error { return w.UpdateHeader() }
