package audio

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"
)

// Tone is one segment of a tone sequence: up to two frequencies played
// together for Duration. A Tone with no frequency is a pause.
type Tone struct {
	Freq1, Freq2 float64 // Hz; 0 means none
	Duration     time.Duration
}

// Pattern is a sequence of tones, played once or repeated (a cadence).
type Pattern struct {
	Tones []Tone
	Loop  bool
}

// Call-progress tones. The North American ones are those of ANSI T1.401
// (precise tone plan), the European ones those of ETSI EG 201 188 / CEPT
// Recommendation T/CS 20-15 (425 Hz).
var (
	RingbackUS  = Pattern{Loop: true, Tones: []Tone{{440, 480, 2 * time.Second}, {0, 0, 4 * time.Second}}}
	BusyUS      = Pattern{Loop: true, Tones: []Tone{{480, 620, 500 * time.Millisecond}, {0, 0, 500 * time.Millisecond}}}
	ReorderUS   = Pattern{Loop: true, Tones: []Tone{{480, 620, 250 * time.Millisecond}, {0, 0, 250 * time.Millisecond}}}
	DialToneUS  = Pattern{Loop: true, Tones: []Tone{{350, 440, time.Second}}}
	RingbackEU  = Pattern{Loop: true, Tones: []Tone{{425, 0, time.Second}, {0, 0, 4 * time.Second}}}
	BusyEU      = Pattern{Loop: true, Tones: []Tone{{425, 0, 500 * time.Millisecond}, {0, 0, 500 * time.Millisecond}}}
	CongestEU   = Pattern{Loop: true, Tones: []Tone{{425, 0, 200 * time.Millisecond}, {0, 0, 200 * time.Millisecond}}}
	DialToneEU  = Pattern{Loop: true, Tones: []Tone{{425, 0, time.Second}}}
	RingbackUK  = Pattern{Loop: true, Tones: []Tone{{400, 450, 400 * time.Millisecond}, {0, 0, 200 * time.Millisecond}, {400, 450, 400 * time.Millisecond}, {0, 0, 2 * time.Second}}}
	CallWaiting = Pattern{Tones: []Tone{{440, 0, 300 * time.Millisecond}}}
)

// DTMF frequencies of ITU-T Q.23: a low (row) and a high (column) frequency
// per key.
var dtmfRows = [4]float64{697, 770, 852, 941}
var dtmfCols = [4]float64{1209, 1336, 1477, 1633}

const dtmfKeys = "123A456B789C*0#D"

// ErrDTMFDigit is wrapped by the error about a character that is not a DTMF
// key.
var ErrDTMFDigit = errors.New("audio: not a DTMF key (0-9, *, #, A-D)")

// DTMFFrequencies returns the low and high frequency of a DTMF key (0-9, *,
// #, A-D, case-insensitive) per ITU-T Q.23.
func DTMFFrequencies(key rune) (low, high float64, err error) {
	i := strings.IndexRune(dtmfKeys, toUpper(key))
	if i < 0 || key > 0x7f {
		return 0, 0, fmt.Errorf("%w: %q", ErrDTMFDigit, key)
	}
	return dtmfRows[i/4], dtmfCols[i%4], nil
}

func toUpper(r rune) rune {
	if r >= 'a' && r <= 'd' {
		return r - 'a' + 'A'
	}
	return r
}

// DTMFPattern returns the tones of a DTMF key sequence: each key for on,
// followed by off of silence. A ',' in digits is a pause of 500 ms.
func DTMFPattern(digits string, on, off time.Duration) (Pattern, error) {
	if on <= 0 || off < 0 {
		return Pattern{}, fmt.Errorf("audio: DTMF durations on %v off %v: on must be positive and off not negative", on, off)
	}
	var p Pattern
	for _, r := range digits {
		if r == ',' {
			p.Tones = append(p.Tones, Tone{Duration: 500 * time.Millisecond})
			continue
		}
		lo, hi, err := DTMFFrequencies(r)
		if err != nil {
			return Pattern{}, fmt.Errorf("audio: DTMF digits %q: %w", digits, err)
		}
		p.Tones = append(p.Tones, Tone{lo, hi, on})
		if off > 0 {
			p.Tones = append(p.Tones, Tone{Duration: off})
		}
	}
	return p, nil
}

// ToneGenerator is a source port that plays tones: single and dual
// frequencies, DTMF keys, call-progress patterns with their cadence (PJSUA's
// tone generator, python-sipsimple's ToneGenerator). Each frequency is
// generated at Volume × half of full scale (so that two never clip), with
// 2 ms raised-cosine ramps at the edges of every tone to avoid clicks. It
// produces nothing (a silent port costs the mixer nothing) when idle. It is
// safe for concurrent use: Play and Stop may be called from any goroutine
// while the mixer reads it.
type ToneGenerator struct {
	rate int

	mu      sync.Mutex
	volume  float64
	pattern Pattern
	seg     int // current tone
	pos     int // samples played of it
	segLen  int
	playing bool
	done    chan struct{} // of the current pattern
	osc     [2]oscillator
}

// oscillator is a quadrature oscillator advanced by complex rotation.
type oscillator struct {
	c, s   float64 // current cos, sin
	dc, ds float64 // rotation per sample
	on     bool
}

func (o *oscillator) set(freq float64, rate int) {
	if freq <= 0 {
		*o = oscillator{}
		return
	}
	w := 2 * math.Pi * freq / float64(rate)
	*o = oscillator{c: 1, s: 0, dc: math.Cos(w), ds: math.Sin(w), on: true}
}

// NewToneGenerator returns an idle tone generator producing sampleRate Hz,
// at volume 0.5 (about -12 dBFS, -9 dBm0, per frequency).
func NewToneGenerator(sampleRate int) (*ToneGenerator, error) {
	if err := CheckSampleRate(sampleRate); err != nil {
		return nil, err
	}
	return &ToneGenerator{rate: sampleRate, volume: 0.5}, nil
}

// SampleRate implements Port.
func (g *ToneGenerator) SampleRate() int { return g.rate }

// SetVolume sets the level of each frequency, from 0 (silent) to 1 (half of
// full scale, -6 dBFS).
func (g *ToneGenerator) SetVolume(v float64) error {
	if v < 0 || v > 1 || math.IsNaN(v) {
		return fmt.Errorf("audio: tone volume %v out of range 0..1", v)
	}
	g.mu.Lock()
	g.volume = v
	g.mu.Unlock()
	return nil
}

// Play starts playing p, replacing what was playing. The returned channel
// is closed when p ends (never, for a looping pattern, until Stop or another
// Play). Frequencies must be below half the sample rate.
func (g *ToneGenerator) Play(p Pattern) (<-chan struct{}, error) {
	var total time.Duration
	for i, t := range p.Tones {
		for _, f := range [2]float64{t.Freq1, t.Freq2} {
			if f < 0 || f >= float64(g.rate)/2 || math.IsNaN(f) {
				return nil, fmt.Errorf("audio: tone %d: frequency %v Hz out of range (0 to %d Hz)", i, f, g.rate/2)
			}
		}
		if t.Duration < 0 {
			return nil, fmt.Errorf("audio: tone %d: negative duration %v", i, t.Duration)
		}
		total += t.Duration
	}
	if p.Loop && total <= 0 {
		return nil, errors.New("audio: a looping tone pattern needs a positive total duration")
	}
	p.Tones = append([]Tone(nil), p.Tones...)
	done := make(chan struct{})
	g.mu.Lock()
	g.stopLocked()
	g.pattern = p
	g.done = done
	g.playing = true
	g.seg = -1
	g.nextLocked()
	g.mu.Unlock()
	return done, nil
}

// PlayTone plays one or two frequencies for d (d ≤ 0: until Stop).
func (g *ToneGenerator) PlayTone(freq1, freq2 float64, d time.Duration) (<-chan struct{}, error) {
	if d <= 0 {
		return g.Play(Pattern{Loop: true, Tones: []Tone{{freq1, freq2, time.Second}}})
	}
	return g.Play(Pattern{Tones: []Tone{{freq1, freq2, d}}})
}

// PlayDTMF plays DTMF keys, each for on followed by off of silence (typical
// values: 100 ms and 100 ms; Q.24 requires at least 40 ms of each).
func (g *ToneGenerator) PlayDTMF(digits string, on, off time.Duration) (<-chan struct{}, error) {
	p, err := DTMFPattern(digits, on, off)
	if err != nil {
		return nil, err
	}
	return g.Play(p)
}

// Stop stops playing.
func (g *ToneGenerator) Stop() {
	g.mu.Lock()
	g.stopLocked()
	g.mu.Unlock()
}

// Playing reports whether a pattern is playing.
func (g *ToneGenerator) Playing() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.playing
}

func (g *ToneGenerator) stopLocked() {
	if g.done != nil {
		close(g.done)
		g.done = nil
	}
	g.playing = false
}

// nextLocked moves to the next tone of the pattern, or ends it.
func (g *ToneGenerator) nextLocked() {
	for {
		g.seg++
		if g.seg >= len(g.pattern.Tones) {
			if !g.pattern.Loop {
				g.stopLocked()
				return
			}
			g.seg = 0
		}
		t := g.pattern.Tones[g.seg]
		g.pos = 0
		g.segLen = SamplesPerFrame(g.rate, t.Duration)
		if g.segLen == 0 {
			continue
		}
		g.osc[0].set(t.Freq1, g.rate)
		g.osc[1].set(t.Freq2, g.rate)
		return
	}
}

// ReadFrame implements Source.
func (g *ToneGenerator) ReadFrame(frame []int16) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.playing {
		return false
	}
	amp := g.volume * 16383
	ramp := g.rate / 500 // 2 ms
	for i := 0; i < len(frame); {
		if !g.playing {
			clear16(frame[i:])
			break
		}
		n := min(len(frame)-i, g.segLen-g.pos)
		out := frame[i : i+n]
		if !g.osc[0].on && !g.osc[1].on {
			clear16(out)
		} else {
			r := min(ramp, g.segLen/2)
			for j := range out {
				t := g.pos + j
				env := 1.0
				if t < r {
					env = 0.5 - 0.5*math.Cos(math.Pi*float64(t)/float64(r))
				} else if e := g.segLen - 1 - t; e < r {
					env = 0.5 - 0.5*math.Cos(math.Pi*float64(e)/float64(r))
				}
				var v float64
				for k := range g.osc {
					o := &g.osc[k]
					if !o.on {
						continue
					}
					v += o.s
					o.c, o.s = o.c*o.dc-o.s*o.ds, o.s*o.dc+o.c*o.ds
				}
				out[j] = int16(math.Round(v * amp * env))
			}
			// Renormalise the oscillators against rounding drift.
			for k := range g.osc {
				if o := &g.osc[k]; o.on {
					m := 1 / math.Sqrt(o.c*o.c+o.s*o.s)
					o.c *= m
					o.s *= m
				}
			}
		}
		g.pos += n
		i += n
		if g.pos >= g.segLen {
			g.nextLocked()
		}
	}
	return true
}
