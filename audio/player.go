package audio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// WAVPlayerOptions configures a [WAVPlayer]. The zero value plays the file
// once.
type WAVPlayerOptions struct {
	// Loop plays the file again from the start each time it ends, until
	// the player is closed.
	Loop bool
	// Volume scales the samples; 0 means 1 (unchanged).
	Volume float64
	// ReadAhead is how much converted audio the player keeps ready; 0
	// means 500 ms. The constructor fills it before returning, so a file
	// shorter than ReadAhead is entirely in memory from the start.
	ReadAhead time.Duration
	// OnFinished, if set, is called once when playback ends: after the
	// mixer took the last frame (err nil), on a read error, or when the
	// player is closed before the end (err ErrClosed). It runs on the
	// player's goroutine, never on the mixer's clock.
	OnFinished func(err error)
}

// ErrClosed is reported by ports closed before they finished.
var ErrClosed = errors.New("audio: port closed")

// WAVPlayer is a source port that plays a 16-bit PCM WAV file (mono or
// stereo, any rate) converted to its sample rate: python-sipsimple's
// WavePlayer, PJSUA's file player. A goroutine reads and converts the file
// ahead of the mixer into a bounded buffer, so that the mixer's clock never
// waits for the disk; if the disk cannot keep up the player yields silence
// for that frame and counts an underrun. When the file has been played, Done
// is closed and OnFinished is called.
type WAVPlayer struct {
	rate   int
	volume float64
	loop   bool
	frame  int // samples per refill unit (20 ms)
	limit  int // read-ahead, in samples
	onDone func(error)
	closer io.Closer

	mu        sync.Mutex
	ring      []int16 // converted samples ready to play, oldest first
	eof       bool    // the producer has reached the end (and will not loop)
	finished  bool    // the last sample has been taken (or closed, or failed)
	closed    bool
	err       error
	underruns int64

	reader     *WAVReader
	rs         *Resampler
	scratch    []int16 // file samples
	conv       []int16 // converted samples
	inCallback bool    // OnFinished is running

	wake chan struct{} // asks the producer to refill or finish
	stop chan struct{} // closed by Close
	done chan struct{} // closed when playback has finished
	exit chan struct{} // closed when the producer goroutine has returned
}

// OpenWAVPlayer opens the WAV file at path and returns a player producing
// it at sampleRate Hz. The file is closed when the player is.
func OpenWAVPlayer(path string, sampleRate int, opts *WAVPlayerOptions) (*WAVPlayer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audio: WAV player: %w", err)
	}
	p, err := newWAVPlayer(f, f, sampleRate, opts)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("audio: WAV player %s: %w", path, err)
	}
	return p, nil
}

// NewWAVPlayer returns a player reading a WAV stream from r, producing it at
// sampleRate Hz. Looping needs r to be an io.Seeker. If r is an io.Closer it
// is closed with the player.
func NewWAVPlayer(r io.Reader, sampleRate int, opts *WAVPlayerOptions) (*WAVPlayer, error) {
	c, _ := r.(io.Closer)
	return newWAVPlayer(r, c, sampleRate, opts)
}

func newWAVPlayer(r io.Reader, c io.Closer, sampleRate int, opts *WAVPlayerOptions) (*WAVPlayer, error) {
	if err := CheckSampleRate(sampleRate); err != nil {
		return nil, err
	}
	var o WAVPlayerOptions
	if opts != nil {
		o = *opts
	}
	if o.ReadAhead <= 0 {
		o.ReadAhead = 500 * time.Millisecond
	}
	if o.Volume == 0 {
		o.Volume = 1
	}
	wr, err := NewWAVReader(r)
	if err != nil {
		return nil, err
	}
	if o.Loop {
		if _, ok := r.(io.Seeker); !ok {
			return nil, errors.New("audio: WAV player: looping needs a seekable stream")
		}
	}
	rs, err := NewResampler(wr.SampleRate(), sampleRate)
	if err != nil {
		return nil, err
	}
	p := &WAVPlayer{
		rate:   sampleRate,
		volume: o.Volume,
		loop:   o.Loop,
		frame:  SamplesPerFrame(sampleRate, DefaultFrameDuration),
		onDone: o.OnFinished,
		closer: c,
		reader: wr,
		rs:     rs,
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		exit:   make(chan struct{}),
	}
	p.limit = SamplesPerFrame(sampleRate, o.ReadAhead)
	if p.limit < p.frame {
		p.limit = p.frame
	}
	p.ring = make([]int16, 0, p.limit+2*p.frame)
	p.scratch = make([]int16, p.frame)
	p.fill()
	go p.produce()
	return p, nil
}

// SampleRate implements Port.
func (p *WAVPlayer) SampleRate() int { return p.rate }

// ReadFrame implements Source.
func (p *WAVPlayer) ReadFrame(frame []int16) bool {
	p.mu.Lock()
	if p.finished {
		p.mu.Unlock()
		return false
	}
	n := len(frame)
	var ok bool
	switch {
	case len(p.ring) >= n:
		copy(frame, p.ring)
		p.ring = p.ring[:copy(p.ring, p.ring[n:])]
		ok = true
	case p.eof:
		// The last, partial frame, padded with silence.
		k := copy(frame, p.ring)
		clear16(frame[k:])
		p.ring = p.ring[:0]
		ok = k > 0
	default:
		p.underruns++
	}
	last := p.eof && len(p.ring) == 0
	if last {
		p.finished = true
	}
	refill := !p.eof && len(p.ring) < p.limit/2
	p.mu.Unlock()
	if last || refill {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	if ok && p.volume != 1 {
		Scale(frame, p.volume)
	}
	return ok
}

// fill reads and converts the file until the read-ahead buffer is full or the
// file ends. Only the constructor and the producer goroutine call it.
func (p *WAVPlayer) fill() {
	for {
		p.mu.Lock()
		full := len(p.ring) >= p.limit || p.eof || p.closed
		p.mu.Unlock()
		if full {
			return
		}
		buf := p.scratch
		n, err := p.reader.Read(buf)
		if err == io.EOF && p.loop {
			if err = p.reader.Rewind(); err == nil {
				if n, err = p.reader.Read(buf); err == io.EOF {
					err = errors.New("audio: WAV player: the file has no samples to loop")
				}
			}
		}
		conv := p.conv[:0]
		if n > 0 {
			conv = p.rs.Process(conv, buf[:n])
			p.conv = conv[:0]
		}
		p.mu.Lock()
		p.ring = append(p.ring, conv...)
		switch {
		case err == io.EOF:
			p.eof = true
		case err != nil:
			p.eof = true
			if p.err == nil {
				p.err = err
			}
		}
		p.mu.Unlock()
	}
}

// produce is the player's goroutine: it refills on request and reports the
// end.
func (p *WAVPlayer) produce() {
	defer close(p.exit)
	for {
		select {
		case <-p.stop:
			p.finish(ErrClosed)
			return
		case <-p.wake:
		}
		p.fill()
		p.mu.Lock()
		finished, err := p.finished, p.err
		p.mu.Unlock()
		if finished {
			p.finish(err)
			return
		}
	}
}

// finish closes Done and calls OnFinished, once.
func (p *WAVPlayer) finish(err error) {
	p.mu.Lock()
	p.finished = true
	if p.err == nil {
		p.err = err
	}
	err = p.err
	p.inCallback = p.onDone != nil
	p.mu.Unlock()
	close(p.done)
	if p.onDone != nil {
		p.onDone(err)
		p.mu.Lock()
		p.inCallback = false
		p.mu.Unlock()
	}
}

// Done returns a channel closed when playback has finished: the mixer took
// the last frame, reading failed, or the player was closed.
func (p *WAVPlayer) Done() <-chan struct{} { return p.done }

// Err returns why playback finished: nil at the end of the file, the read
// error, or ErrClosed.
func (p *WAVPlayer) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Underruns returns the number of frames for which the file could not be
// read in time.
func (p *WAVPlayer) Underruns() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.underruns
}

// Close stops playback, waits for the player's goroutine to return (unless
// OnFinished is running: Close may be called from it), and closes the file.
// It is safe to call more than once.
func (p *WAVPlayer) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	inCallback := p.inCallback
	p.mu.Unlock()
	close(p.stop)
	if !inCallback {
		<-p.exit
	}
	if p.closer != nil {
		return p.closer.Close()
	}
	return nil
}
