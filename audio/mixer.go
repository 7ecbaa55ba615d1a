package audio

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Slot identifies a port in a [Mixer] (PJSUA's conference slot). Slots are
// never reused by a mixer; the zero Slot is never valid.
type Slot uint32

// Errors of the mixer; the errors returned wrap them and name the slots.
var (
	ErrUnknownSlot    = errors.New("audio: no such slot in the mixer")
	ErrNotSource      = errors.New("audio: port is not a source")
	ErrNotSink        = errors.New("audio: port is not a sink")
	ErrSelfConnection = errors.New("audio: a port cannot be connected to itself")
	ErrRunning        = errors.New("audio: mixer already running")
	ErrNotPort        = errors.New("audio: value is neither a Source nor a Sink")
)

// MixerConfig configures a [Mixer]. The zero value means 16000 Hz and 20 ms
// frames.
type MixerConfig struct {
	SampleRate    int           // 8000, 16000, 32000 or 48000; 0 means DefaultSampleRate
	FrameDuration time.Duration // 0 means DefaultFrameDuration (20 ms)
}

// Mixer is a conference bridge (PJSUA's conf bridge, python-sipsimple's
// AudioMixer): a set of ports exchanging frames on one clock. At every tick
// it reads one frame from every source, then gives every sink the sum of the
// sources connected to it, with saturation to 16 bits. A port never hears
// itself, and hears another port only if that port was connected to it
// ([Mixer.Connect], [Mixer.Conference]). Ports at another sample rate than the
// mixer's are converted both ways with a [Resampler].
//
// # Clock
//
// The mixer has no goroutine of its own. Either something calls
// [Mixer.Tick] once per frame (a test stepping it by hand), or
// [Mixer.Start] runs a [Clock] (a [Device], or a [RealTimeClock]) on a
// goroutine that ticks it until [Mixer.Stop]. Ticks never overlap, and
// never run inside a sound card's callback: the malgo device paces its
// clock goroutine by its callbacks and exchanges frames with them through
// bounded rings.
//
// # Concurrency and slow ports
//
// Add, Remove, Connect and Disconnect may be called from any goroutine at any
// time, including while the mixer runs and from inside a port's methods: a
// change is recorded under a short lock and the next tick builds a new
// routing table from all the changes since the last one, so a tick never
// sees half a change, and a burst of changes costs one rebuild.
// The port methods run on the clock goroutine and must not block (see
// [Port]): the mixer does not guard against a port that blocks, it relies on
// ports keeping their I/O on their own goroutines behind bounded buffers and
// dropping audio rather than waiting, as every port of this package does. A
// tick that takes longer than a frame period is counted in
// [MixerStats].Overruns, and a clock that falls too far behind skips ticks
// rather than queueing them (see [RealTimeClock]).
type Mixer struct {
	format Format
	frame  int // samples per frame at the mixer's rate

	mu       sync.Mutex // guards the routing below; held only while editing
	nextSlot Slot
	entries  map[Slot]*entry
	in       map[Slot]map[Slot]struct{} // dst -> sources connected to it
	topo     atomic.Pointer[topology]
	dirty    atomic.Bool // the routing changed since topo was built

	tickSem chan struct{} // held while a tick runs

	runMu  sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
	runErr error

	ticks, overruns, maxTick, lastTick atomic.Int64
}

// entry is a port in the mixer. Its scratch fields belong to the tick.
type entry struct {
	slot Slot
	port Port
	src  Source
	sink Sink
	n    int // samples per frame at the port's rate

	inRS, outRS       *Resampler
	readBuf, in       []int16 // port rate, mixer rate
	mix, writeBuf     []int16 // mixer rate, port rate
	active, wasActive bool
	heard, wasHeard   bool
}

// topology is an immutable routing table.
type topology struct {
	sources []*entry
	sinks   []sinkPlan
	groups  []*group
}

// sinkPlan says how to build the frame a sink hears.
type sinkPlan struct {
	e      *entry
	single *entry // the only source connected, or nil
	group  *group // the sum this sink hears (minus itself when self), or nil
	self   bool
}

// group is a set of sources whose sum several sinks share: in a conference
// every member hears the sum of all minus itself, so the sum is computed once
// per tick instead of once per member.
type group struct {
	members []*entry
	sum     []int32
	done    bool
	any     bool
}

// NewMixer returns a mixer with the given format.
func NewMixer(cfg MixerConfig) (*Mixer, error) {
	f := Format{SampleRate: cfg.SampleRate, FrameDuration: cfg.FrameDuration}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	f = f.withDefaults()
	m := &Mixer{
		format:  f,
		frame:   f.FrameSamples(),
		entries: make(map[Slot]*entry),
		in:      make(map[Slot]map[Slot]struct{}),
		tickSem: make(chan struct{}, 1),
	}
	m.topo.Store(&topology{})
	return m, nil
}

// Format returns the mixer's sample rate and frame duration.
func (m *Mixer) Format() Format { return m.format }

// Add puts a port in the mixer, connected to nothing, and returns its slot.
// The port must be a [Source], a [Sink] or both, at a supported sample rate.
// Adding the same port twice gives it two slots.
func (m *Mixer) Add(p Port) (Slot, error) {
	if p == nil {
		return 0, fmt.Errorf("audio: Add: nil port: %w", ErrNotPort)
	}
	src, _ := p.(Source)
	sink, _ := p.(Sink)
	if src == nil && sink == nil {
		return 0, fmt.Errorf("audio: Add %T: %w", p, ErrNotPort)
	}
	rate := p.SampleRate()
	if err := CheckSampleRate(rate); err != nil {
		return 0, fmt.Errorf("audio: Add %T: %w", p, err)
	}
	e := &entry{port: p, src: src, sink: sink, n: SamplesPerFrame(rate, m.format.FrameDuration)}
	if src != nil {
		e.readBuf = make([]int16, e.n)
		e.in = e.readBuf
		if rate != m.format.SampleRate {
			e.inRS, _ = NewResampler(rate, m.format.SampleRate)
			e.in = make([]int16, 0, m.frame+1)
		}
	}
	if sink != nil {
		e.mix = make([]int16, m.frame)
		e.writeBuf = make([]int16, e.n)
		if rate != m.format.SampleRate {
			e.outRS, _ = NewResampler(m.format.SampleRate, rate)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextSlot++
	e.slot = m.nextSlot
	m.entries[e.slot] = e
	m.dirty.Store(true)
	return e.slot, nil
}

// Remove takes the port out of the mixer, with all its connections. It does
// not wait: a tick in progress may still call the port once (use
// [Mixer.RemoveWait] to wait for that), which also makes it safe to call
// from inside a port's methods.
func (m *Mixer) Remove(s Slot) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.entries[s]; !ok {
		return fmt.Errorf("%w: remove slot %d", ErrUnknownSlot, s)
	}
	delete(m.entries, s)
	delete(m.in, s)
	for _, srcs := range m.in {
		delete(srcs, s)
	}
	m.dirty.Store(true)
	return nil
}

// RemoveWait removes the port like [Mixer.Remove], then waits until no tick
// uses it any more, so that the caller may close it. It must not be called
// from a port's method (the tick it waits for is the caller's own).
func (m *Mixer) RemoveWait(ctx context.Context, s Slot) error {
	if err := m.Remove(s); err != nil {
		return err
	}
	select {
	case m.tickSem <- struct{}{}:
		<-m.tickSem
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Connect makes dst hear src (PJSUA's conf_connect). Connecting twice is not
// an error.
func (m *Mixer) Connect(src, dst Slot) error {
	return m.edit("connect", src, dst, func() {
		if m.in[dst] == nil {
			m.in[dst] = make(map[Slot]struct{})
		}
		m.in[dst][src] = struct{}{}
	})
}

// Disconnect stops dst hearing src. Disconnecting ports that are not
// connected is not an error.
func (m *Mixer) Disconnect(src, dst Slot) error {
	return m.edit("disconnect", src, dst, func() {
		delete(m.in[dst], src)
	})
}

func (m *Mixer) edit(op string, src, dst Slot, f func()) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.checkPair(src, dst); err != nil {
		return fmt.Errorf("audio: %s %d -> %d: %w", op, src, dst, err)
	}
	f()
	m.dirty.Store(true)
	return nil
}

func (m *Mixer) checkPair(src, dst Slot) error {
	es, ok := m.entries[src]
	if !ok {
		return fmt.Errorf("%w (slot %d)", ErrUnknownSlot, src)
	}
	ed, ok := m.entries[dst]
	if !ok {
		return fmt.Errorf("%w (slot %d)", ErrUnknownSlot, dst)
	}
	if src == dst {
		return ErrSelfConnection
	}
	if es.src == nil {
		return fmt.Errorf("%w (slot %d, %T)", ErrNotSource, src, es.port)
	}
	if ed.sink == nil {
		return fmt.Errorf("%w (slot %d, %T)", ErrNotSink, dst, ed.port)
	}
	return nil
}

// Conference connects every given port to every other one in both
// directions (where they are sources and sinks), so that each hears the sum
// of the others: python-sipsimple's AudioBridge. The change is applied as
// one.
func (m *Mixer) Conference(slots ...Slot) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range slots {
		if _, ok := m.entries[s]; !ok {
			return fmt.Errorf("audio: conference: %w (slot %d)", ErrUnknownSlot, s)
		}
	}
	for _, src := range slots {
		for _, dst := range slots {
			if src == dst || m.entries[src].src == nil || m.entries[dst].sink == nil {
				continue
			}
			if m.in[dst] == nil {
				m.in[dst] = make(map[Slot]struct{})
			}
			m.in[dst][src] = struct{}{}
		}
	}
	m.dirty.Store(true)
	return nil
}

// Connected reports whether dst hears src.
func (m *Mixer) Connected(src, dst Slot) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.in[dst][src]
	return ok
}

// Slots returns the slots of the mixer, in the order they were added.
func (m *Mixer) Slots() []Slot {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Slot, 0, len(m.entries))
	for s := range m.entries {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Port returns the port in slot s, or nil.
func (m *Mixer) Port(s Slot) Port {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.entries[s]; e != nil {
		return e.port
	}
	return nil
}

// rebuild publishes a new routing table; m.mu is held. Edits only mark
// the routing dirty and the next tick rebuilds it once, so that a burst of
// changes (thousands of calls starting and ending) costs one rebuild per
// frame rather than one per change.
func (m *Mixer) rebuild() {
	t := &topology{}
	slots := make([]Slot, 0, len(m.entries))
	for s := range m.entries {
		slots = append(slots, s)
	}
	slices.Sort(slots)
	groups := make(map[string]*group)
	var key []byte
	for _, s := range slots {
		e := m.entries[s]
		if e.src != nil {
			t.sources = append(t.sources, e)
		}
		if e.sink == nil {
			continue
		}
		plan := sinkPlan{e: e}
		srcs := make([]Slot, 0, len(m.in[s])+1)
		for src := range m.in[s] {
			srcs = append(srcs, src)
		}
		switch len(srcs) {
		case 0:
		case 1:
			plan.single = m.entries[srcs[0]]
		default:
			// Members: the sources plus the sink itself when it is a
			// source, so that all members of a conference share one sum.
			if e.src != nil {
				srcs = append(srcs, s)
				plan.self = true
			}
			slices.Sort(srcs)
			key = key[:0]
			for _, x := range srcs {
				key = append(key, byte(x), byte(x>>8), byte(x>>16), byte(x>>24))
			}
			g := groups[string(key)]
			if g == nil {
				g = &group{sum: make([]int32, m.frame)}
				for _, x := range srcs {
					g.members = append(g.members, m.entries[x])
				}
				groups[string(key)] = g
				t.groups = append(t.groups, g)
			}
			plan.group = g
		}
		t.sinks = append(t.sinks, plan)
	}
	m.topo.Store(t)
}

// Tick runs one frame cycle: it reads a frame from every source and writes
// its mix to every sink. It is what a clock calls once per frame; tests call
// it to step the mixer by hand. Concurrent calls are serialised.
func (m *Mixer) Tick() {
	m.tickSem <- struct{}{}
	defer func() { <-m.tickSem }()
	start := time.Now()
	if m.dirty.Load() {
		m.mu.Lock()
		m.dirty.Store(false)
		m.rebuild()
		m.mu.Unlock()
	}
	t := m.topo.Load()
	n := m.frame

	for _, e := range t.sources {
		e.active = e.src.ReadFrame(e.readBuf)
		if e.inRS != nil {
			if e.active {
				e.in = fitFrame(e.inRS.Process(e.in[:0], e.readBuf), n)
			} else if e.wasActive {
				e.inRS.Reset()
			}
		}
		e.wasActive = e.active
	}
	for _, g := range t.groups {
		g.done = false
	}
	for i := range t.sinks {
		p := &t.sinks[i]
		e := p.e
		out := e.mix
		heard := false
		switch {
		case p.single != nil:
			if p.single.active {
				copy(out, p.single.in)
				heard = true
			}
		case p.group != nil:
			g := p.group
			if !g.done {
				g.sumActive()
			}
			if g.any {
				heard = true
				if p.self && e.active {
					in := e.in[:n]
					for j, v := range g.sum[:n] {
						out[j] = Saturate(v - int32(in[j]))
					}
				} else {
					for j, v := range g.sum[:n] {
						out[j] = Saturate(v)
					}
				}
			}
		}
		frame := out
		switch {
		case !heard:
			frame = e.writeBuf
			clear16(frame)
			if e.outRS != nil && e.wasHeard {
				e.outRS.Reset()
			}
		case e.outRS != nil:
			e.writeBuf = fitFrame(e.outRS.Process(e.writeBuf[:0], out), e.n)
			frame = e.writeBuf
		}
		e.wasHeard = heard
		e.sink.WriteFrame(frame)
	}

	d := int64(time.Since(start))
	m.ticks.Add(1)
	m.lastTick.Store(d)
	if d > int64(m.format.FrameDuration) {
		m.overruns.Add(1)
	}
	for {
		old := m.maxTick.Load()
		if d <= old || m.maxTick.CompareAndSwap(old, d) {
			break
		}
	}
}

// sumActive adds up the frames of the active members.
func (g *group) sumActive() {
	g.done = true
	g.any = false
	sum := g.sum
	first := true
	for _, e := range g.members {
		if !e.active {
			continue
		}
		in := e.in[:len(sum)]
		if first {
			for j, v := range in {
				sum[j] = int32(v)
			}
			first = false
			continue
		}
		for j, v := range in {
			sum[j] += int32(v)
		}
	}
	g.any = !first
}

// fitFrame pads with silence or truncates s to n samples (a resampler gives
// exactly n for the supported rates; this only guards the invariant).
func fitFrame(s []int16, n int) []int16 {
	for len(s) < n {
		s = append(s, 0)
	}
	return s[:n]
}

// Start runs clock on a new goroutine, ticking the mixer once per frame,
// until [Mixer.Stop] is called or the clock fails.
func (m *Mixer) Start(clock Clock) error {
	if clock == nil {
		return errors.New("audio: Start: nil clock")
	}
	m.runMu.Lock()
	defer m.runMu.Unlock()
	if m.done != nil {
		return ErrRunning
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	m.cancel, m.done, m.runErr = cancel, done, nil
	go func() {
		defer close(done)
		err := clock.Run(ctx, m.format.FrameDuration, m.Tick)
		m.runMu.Lock()
		m.runErr = err
		m.runMu.Unlock()
	}()
	return nil
}

// Stop stops the clock started by [Mixer.Start] and waits for its goroutine
// to end; it returns the error the clock stopped with, if any. Stopping a
// mixer that is not running does nothing. The ports stay in the mixer.
func (m *Mixer) Stop() error {
	m.runMu.Lock()
	cancel, done := m.cancel, m.done
	m.runMu.Unlock()
	if done == nil {
		return nil
	}
	cancel()
	<-done
	m.runMu.Lock()
	defer m.runMu.Unlock()
	err := m.runErr
	m.cancel, m.done, m.runErr = nil, nil, nil
	return err
}

// MixerStats are counters of a mixer's activity.
type MixerStats struct {
	Ports    int           // ports in the mixer
	Ticks    int64         // frame cycles run
	Overruns int64         // ticks that took longer than a frame
	LastTick time.Duration // duration of the last tick
	MaxTick  time.Duration // longest tick
}

// Stats returns the mixer's counters.
func (m *Mixer) Stats() MixerStats {
	m.mu.Lock()
	ports := len(m.entries)
	m.mu.Unlock()
	return MixerStats{
		Ports:    ports,
		Ticks:    m.ticks.Load(),
		Overruns: m.overruns.Load(),
		LastTick: time.Duration(m.lastTick.Load()),
		MaxTick:  time.Duration(m.maxTick.Load()),
	}
}
