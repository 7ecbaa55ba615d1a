package audio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// WAVRecorderOptions configures a [WAVRecorder]. The zero value is usable.
type WAVRecorderOptions struct {
	// HeaderInterval is how much audio is written between two updates of
	// the header's sizes; 0 means 1 s. A recording cut short by a crash is
	// readable up to the last update.
	HeaderInterval time.Duration
	// Sync makes every header update also sync the file to stable storage
	// (when the destination is an *os.File).
	Sync bool
	// Buffer is how much audio may wait for the disk before the recorder
	// starts dropping frames; 0 means 2 s.
	Buffer time.Duration
}

// WAVRecorder is a sink port that writes what it hears to a mono 16-bit WAV
// file: python-sipsimple's WaveRecorder, PJSUA's file writer. WriteFrame only
// copies the frame into a bounded buffer; a goroutine of the recorder writes
// it to the file, so the mixer's clock never waits for the disk. If the disk
// falls further behind than the buffer allows, frames are dropped and counted
// (Dropped), never waited for. The header's sizes are updated every
// HeaderInterval of audio and on Close, so a recording can run for as long
// as the format allows (4 GiB, about 37 hours at 16 kHz; after that the
// recorder stops writing and Err reports ErrWAVTooLarge), and a process
// that dies leaves a valid file holding everything up to the last update.
type WAVRecorder struct {
	rate     int
	capacity int // buffer, in samples
	batch    int // samples that wake the writer
	interval int64
	sync     bool
	file     io.WriteSeeker
	closer   io.Closer

	mu      sync.Mutex
	pending []int16 // samples waiting for the writer
	dropped int64
	samples int64 // written to the file
	err     error
	closed  bool

	w         *WAVWriter
	sinceHdr  int64
	writing   []int16
	wake      chan struct{}
	flushReq  chan chan error
	stop      chan struct{}
	exit      chan struct{}
	closeErr  error
	closeOnce sync.Once
}

// CreateWAVRecorder creates (or truncates) the file at path and returns a
// recorder writing to it at sampleRate Hz.
func CreateWAVRecorder(path string, sampleRate int, opts *WAVRecorderOptions) (*WAVRecorder, error) {
	if err := CheckSampleRate(sampleRate); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("audio: WAV recorder: %w", err)
	}
	r, err := NewWAVRecorder(f, sampleRate, opts)
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("audio: WAV recorder %s: %w", path, err)
	}
	return r, nil
}

// NewWAVRecorder returns a recorder writing a WAV file to w at sampleRate
// Hz. If w is an io.Closer it is closed with the recorder.
func NewWAVRecorder(w io.WriteSeeker, sampleRate int, opts *WAVRecorderOptions) (*WAVRecorder, error) {
	if err := CheckSampleRate(sampleRate); err != nil {
		return nil, err
	}
	var o WAVRecorderOptions
	if opts != nil {
		o = *opts
	}
	if o.HeaderInterval <= 0 {
		o.HeaderInterval = time.Second
	}
	if o.Buffer <= 0 {
		o.Buffer = 2 * time.Second
	}
	ww, err := NewWAVWriter(w, sampleRate)
	if err != nil {
		return nil, err
	}
	r := &WAVRecorder{
		rate:     sampleRate,
		capacity: max(SamplesPerFrame(sampleRate, o.Buffer), SamplesPerFrame(sampleRate, MaxFrameDuration)),
		interval: int64(SamplesPerFrame(sampleRate, o.HeaderInterval)),
		sync:     o.Sync,
		file:     w,
		w:        ww,
		wake:     make(chan struct{}, 1),
		flushReq: make(chan chan error),
		stop:     make(chan struct{}),
		exit:     make(chan struct{}),
	}
	r.closer, _ = w.(io.Closer)
	// Wake the writer every 200 ms of audio (or less for a small buffer):
	// few wake-ups per second per recorder, little audio at risk.
	r.batch = min(SamplesPerFrame(sampleRate, 200*time.Millisecond), r.capacity/4)
	r.pending = make([]int16, 0, r.capacity)
	r.writing = make([]int16, 0, r.capacity)
	go r.run()
	return r, nil
}

// SampleRate implements Port.
func (r *WAVRecorder) SampleRate() int { return r.rate }

// WriteFrame implements Sink. It never blocks.
func (r *WAVRecorder) WriteFrame(frame []int16) {
	r.mu.Lock()
	if r.closed || r.err != nil {
		r.mu.Unlock()
		return
	}
	room := r.capacity - len(r.pending)
	n := len(frame)
	if n > room {
		r.dropped += int64(n - room)
		n = room
	}
	r.pending = append(r.pending, frame[:n]...)
	wake := len(r.pending) >= r.batch
	r.mu.Unlock()
	if wake {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// run is the writer goroutine.
func (r *WAVRecorder) run() {
	defer close(r.exit)
	for {
		select {
		case <-r.wake:
			r.drain(false)
		case reply := <-r.flushReq:
			reply <- r.drain(true)
		case <-r.stop:
			err := r.drain(true)
			r.closeErr = err
			return
		}
	}
}

// drain writes the pending samples, updating the header every interval (and
// at the end when final), and returns the recorder's error.
func (r *WAVRecorder) drain(final bool) error {
	r.mu.Lock()
	r.writing, r.pending = r.pending, r.writing[:0]
	failed := r.err != nil
	r.mu.Unlock()
	if failed {
		return r.Err()
	}
	buf := r.writing
	var err error
	for len(buf) > 0 && err == nil {
		n := len(buf)
		if left := r.interval - r.sinceHdr; int64(n) > left {
			n = int(left)
		}
		err = r.w.Write(buf[:n])
		buf = buf[n:]
		r.mu.Lock()
		r.samples = r.w.Samples()
		r.mu.Unlock()
		r.sinceHdr += int64(n)
		if err == nil && r.sinceHdr >= r.interval {
			err = r.updateHeader()
			r.sinceHdr = 0
		}
	}
	if err == nil && final {
		err = r.updateHeader()
	}
	if err != nil {
		// Keep what was written readable, then stop recording.
		r.updateHeader()
		r.mu.Lock()
		if r.err == nil {
			r.err = err
		}
		r.mu.Unlock()
	}
	return r.Err()
}

func (r *WAVRecorder) updateHeader() error {
	if err := r.w.UpdateHeader(); err != nil {
		return err
	}
	if r.sync {
		if f, ok := r.file.(*os.File); ok {
			return f.Sync()
		}
	}
	return nil
}

// Flush writes everything received so far to the file and updates the
// header, then returns the recorder's error, if any.
func (r *WAVRecorder) Flush() error {
	reply := make(chan error, 1)
	select {
	case r.flushReq <- reply:
		return <-reply
	case <-r.exit:
		return r.Err()
	}
}

// Dropped returns the number of samples dropped because the file could not
// be written fast enough.
func (r *WAVRecorder) Dropped() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// Samples returns the number of samples written to the file so far.
func (r *WAVRecorder) Samples() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.samples
}

// Err returns the error that stopped the recording, if any (a write error,
// or ErrWAVTooLarge).
func (r *WAVRecorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Close writes the remaining audio, fixes the header, closes the file (when
// it is an io.Closer) and returns the first error of the recording. It is
// safe to call more than once.
func (r *WAVRecorder) Close() error {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed = true
		r.mu.Unlock()
		close(r.stop)
		<-r.exit
		err := r.closeErr
		if r.closer != nil {
			if cerr := r.closer.Close(); err == nil {
				err = cerr
			}
		}
		if errors.Is(err, ErrWAVTooLarge) {
			// The file is complete as far as the format allows.
			err = nil
		}
		r.closeErr = err
	})
	return r.closeErr
}
