package audio

import "fmt"

// PLC conceals lost frames of a mono PCM stream, after the method of ITU-T
// G.711 Appendix I (periodic waveform extrapolation): when a frame is lost it
// estimates the pitch period of the recent signal and repeats the last pitch
// period(s) with a smooth joint, using one period for the first 10 ms of a
// loss, two for the next 10 ms and three after that (so a long loss does not
// sound buzzy). The synthetic signal is attenuated linearly from 10 ms after
// the start of the loss (20% per 10 ms) and reaches silence after 60 ms. When
// audio resumes, the first good frame is cross-faded with the continuation
// of the synthetic signal over a quarter pitch period plus 4 ms per 10 ms of
// loss (at most 10 ms).
//
// Unlike Appendix I it adds no algorithmic delay: the start of the
// concealment joins the last good sample directly rather than through a
// 3.75 ms overlap-add, which costs a little smoothness at the first joint.
//
// Feed every good frame to Good (which may modify it, to cross-fade) and call
// Conceal for every lost one. A PLC works at 8 kHz or 16 kHz (any rate of at
// least 8 kHz works; the time constants scale with the rate). It is not safe
// for concurrent use.
type PLC struct {
	rate     int
	hist     []float32 // the last histLen output samples, oldest first
	base     []float32 // hist as it was when the current loss started
	histLen  int
	pmin     int // shortest pitch period searched
	pmax     int // longest
	corrLen  int // correlation window
	blockLen int // 10 ms

	lost    int // samples concealed in the current loss (0: not in a loss)
	pitch   int
	periods int       // periods in the current cycle: 1, 2 or 3
	cycle   []float32 // the repeated waveform for the current number of periods
	prev    []float32 // the previous cycle, while switching
	pos     int       // read position in cycle
	fadeIn  []float32 // cross-fade scratch
}

// NewPLC returns a concealer for a stream at sampleRate Hz (8000 to 48000).
func NewPLC(sampleRate int) (*PLC, error) {
	if sampleRate < 8000 || sampleRate > 48000 {
		return nil, fmt.Errorf("audio: PLC: %w %d Hz (want 8000 to 48000)", ErrSampleRate, sampleRate)
	}
	ms := func(tenths int) int { return sampleRate * tenths / 10000 }
	p := &PLC{
		rate:     sampleRate,
		pmin:     ms(50),   // 5 ms (200 Hz)
		pmax:     ms(150),  // 15 ms (66.7 Hz)
		corrLen:  ms(200),  // 20 ms
		blockLen: ms(100),  // 10 ms
		histLen:  ms(4875), // 48.75 ms: 3 pitch periods + a quarter
	}
	p.hist = make([]float32, p.histLen)
	p.base = make([]float32, p.histLen)
	p.cycle = make([]float32, 0, 3*p.pmax)
	p.prev = make([]float32, 0, 3*p.pmax)
	return p, nil
}

// SampleRate returns the rate the concealer was made for.
func (p *PLC) SampleRate() int { return p.rate }

// Reset forgets the history, as after the start of a new stream.
func (p *PLC) Reset() {
	for i := range p.hist {
		p.hist[i] = 0
	}
	p.lost = 0
}

// Good records a correctly received frame. If it follows a loss, the start of
// frame is cross-faded in place with the continuation of the concealment.
func (p *PLC) Good(frame []int16) {
	if p.lost > 0 {
		blocks := (p.lost + p.blockLen - 1) / p.blockLen
		n := p.pitch/4 + (blocks-1)*p.blockLen*4/10
		if n > p.blockLen {
			n = p.blockLen
		}
		if n > len(frame) {
			n = len(frame)
		}
		if cap(p.fadeIn) < n {
			p.fadeIn = make([]float32, n)
		}
		syn := p.fadeIn[:n]
		p.synthesize(syn)
		for i := 0; i < n; i++ {
			w := float32(i+1) / float32(n+1)
			frame[i] = roundSaturate(syn[i]*(1-w) + float32(frame[i])*w)
		}
		p.lost = 0
	}
	p.remember16(frame)
}

// Conceal fills frame with a replacement for a lost frame of len(frame)
// samples.
func (p *PLC) Conceal(frame []int16) {
	if p.lost == 0 {
		p.startLoss()
	}
	// Synthesise in chunks that do not cross a 10 ms boundary so that the
	// number of repeated periods changes exactly there.
	for done := 0; done < len(frame); {
		n := len(frame) - done
		if rest := p.blockLen - p.lost%p.blockLen; n > rest {
			n = rest
		}
		if cap(p.fadeIn) < n {
			p.fadeIn = make([]float32, n)
		}
		buf := p.fadeIn[:n]
		p.synthesize(buf)
		for i, v := range buf {
			frame[done+i] = roundSaturate(v)
		}
		done += n
	}
	p.remember16(frame)
}

// startLoss estimates the pitch and prepares the one-period cycle.
func (p *PLC) startLoss() {
	copy(p.base, p.hist)
	p.pitch = p.findPitch()
	p.periods = 0
	p.setPeriods(1)
}

// setPeriods switches the cycle to k pitch periods, keeping the phase, with a
// cross-fade of a quarter period from the old cycle.
func (p *PLC) setPeriods(k int) {
	p.prev = append(p.prev[:0], p.cycle...)
	old := p.prev
	oldPos := p.pos
	oldK := p.periods
	P := p.pitch
	ola := P / 4
	if ola < 1 {
		ola = 1
	}
	// The cycle is the last k periods of history; its tail is blended with
	// the samples that precede its start, so that the jump from its end back
	// to its start is smooth.
	start := p.histLen - k*P
	p.cycle = p.cycle[:0]
	p.cycle = append(p.cycle, p.base[start:]...)
	for i := 0; i < ola; i++ {
		w := float32(i+1) / float32(ola+1)
		j := len(p.cycle) - ola + i
		p.cycle[j] = p.cycle[j]*(1-w) + p.base[start-ola+i]*w
	}
	p.periods = k
	if oldK == 0 {
		p.pos = 0
		return
	}
	// Same phase in the longer cycle: it starts one or more periods earlier.
	p.pos = oldPos + (k-oldK)*P
	// Cross-fade the next quarter period from the old cycle into the new.
	for i := 0; i < ola; i++ {
		w := float32(i+1) / float32(ola+1)
		a := old[(oldPos+i)%len(old)]
		j := (p.pos + i) % len(p.cycle)
		p.cycle[j] = a*(1-w) + p.cycle[j]*w
	}
}

// synthesize produces the next len(out) concealment samples (they never
// cross a 10 ms boundary when called from Conceal), advancing the loss.
func (p *PLC) synthesize(out []float32) {
	block := p.lost / p.blockLen
	if want := min(block+1, 3); want != p.periods && p.lost%p.blockLen == 0 && p.lost > 0 {
		p.setPeriods(want)
	}
	fadeStart := p.blockLen   // attenuation starts after 10 ms
	fadeLen := 5 * p.blockLen // and reaches zero 50 ms later
	for i := range out {
		t := p.lost + i
		g := float32(1)
		if t >= fadeStart {
			g = 1 - float32(t-fadeStart)/float32(fadeLen)
			if g < 0 {
				g = 0
			}
		}
		out[i] = p.cycle[p.pos] * g
		p.pos++
		if p.pos == len(p.cycle) {
			p.pos = 0
		}
	}
	p.lost += len(out)
}

// findPitch returns the lag in [pmin, pmax] that maximises the normalised
// correlation between the last corrLen samples and the samples one lag
// earlier: first on a 2:1 coarse grid, then refined around the best lag.
func (p *PLC) findPitch() int {
	h := p.hist
	end := len(h)
	ref := h[end-p.corrLen:]
	score := func(lag int, step int) float32 {
		var xy, yy float32
		past := h[end-p.corrLen-lag : end-lag]
		for i := 0; i < p.corrLen; i += step {
			xy += ref[i] * past[i]
			yy += past[i] * past[i]
		}
		if yy <= 0 || xy <= 0 {
			return 0
		}
		return xy * xy / yy
	}
	best, bestScore := p.pmin, float32(-1)
	for lag := p.pmin; lag <= p.pmax; lag += 2 {
		if s := score(lag, 2); s > bestScore {
			best, bestScore = lag, s
		}
	}
	lo, hi := max(p.pmin, best-2), min(p.pmax, best+2)
	bestScore = -1
	for lag := lo; lag <= hi; lag++ {
		if s := score(lag, 1); s > bestScore {
			best, bestScore = lag, s
		}
	}
	return best
}

// remember16 appends a frame to the history.
func (p *PLC) remember16(frame []int16) {
	h := p.hist
	if len(frame) >= len(h) {
		frame = frame[len(frame)-len(h):]
		for i, s := range frame {
			h[i] = float32(s)
		}
		return
	}
	copy(h, h[len(frame):])
	base := len(h) - len(frame)
	for i, s := range frame {
		h[base+i] = float32(s)
	}
}
