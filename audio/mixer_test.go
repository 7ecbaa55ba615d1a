package audio

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// constSource produces frames of a constant value (when on).
type constSource struct {
	rate int
	v    atomic.Int32
	on   atomic.Bool
}

func newConst(rate int, v int16) *constSource {
	s := &constSource{rate: rate}
	s.v.Store(int32(v))
	s.on.Store(true)
	return s
}

func (s *constSource) SampleRate() int { return s.rate }
func (s *constSource) ReadFrame(f []int16) bool {
	if !s.on.Load() {
		return false
	}
	v := int16(s.v.Load())
	for i := range f {
		f[i] = v
	}
	return true
}

// capSink keeps the last frame it heard.
type capSink struct {
	rate   int
	mu     sync.Mutex
	last   []int16
	frames int
}

func (s *capSink) SampleRate() int { return s.rate }
func (s *capSink) WriteFrame(f []int16) {
	s.mu.Lock()
	s.last = append(s.last[:0], f...)
	s.frames++
	s.mu.Unlock()
}

// value returns the value of the middle sample of the last frame.
func (s *capSink) value() int16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.last) == 0 {
		return -1
	}
	return s.last[len(s.last)/2]
}

// both is a port that speaks a constant and records what it hears.
type both struct {
	*constSource
	sink *capSink
}

func newBoth(rate int, v int16) *both {
	return &both{constSource: newConst(rate, v), sink: &capSink{rate: rate}}
}
func (b *both) WriteFrame(f []int16) { b.sink.WriteFrame(f) }

func newTestMixer(t testing.TB, rate int) *Mixer {
	t.Helper()
	m, err := NewMixer(MixerConfig{SampleRate: rate})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustAdd(t testing.TB, m *Mixer, p Port) Slot {
	t.Helper()
	s, err := m.Add(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMixerConferenceSumsOthers(t *testing.T) {
	m := newTestMixer(t, 8000)
	a, b, c := newBoth(8000, 100), newBoth(8000, 20), newBoth(8000, 3)
	sa, sb, sc := mustAdd(t, m, a), mustAdd(t, m, b), mustAdd(t, m, c)
	if err := m.Conference(sa, sb, sc); err != nil {
		t.Fatal(err)
	}
	m.Tick()
	for _, tc := range []struct {
		name string
		p    *both
		want int16
	}{{"a", a, 23}, {"b", b, 103}, {"c", c, 120}} {
		if got := tc.p.sink.value(); got != tc.want {
			t.Errorf("%s hears %d, want %d (the sum of the others)", tc.name, got, tc.want)
		}
	}
	// A silent member contributes nothing.
	b.on.Store(false)
	m.Tick()
	if got := a.sink.value(); got != 3 {
		t.Errorf("a hears %d with b silent, want 3", got)
	}
	if got := b.sink.value(); got != 103 {
		t.Errorf("silent b hears %d, want 103", got)
	}
}

func TestMixerSaturation(t *testing.T) {
	m := newTestMixer(t, 16000)
	out := &capSink{rate: 16000}
	so := mustAdd(t, m, out)
	for _, v := range []int16{30000, 30000, 5000} {
		if err := m.Connect(mustAdd(t, m, newConst(16000, v)), so); err != nil {
			t.Fatal(err)
		}
	}
	m.Tick()
	if got := out.value(); got != 32767 {
		t.Errorf("sum of 65000 gives %d, want 32767", got)
	}
	neg := &capSink{rate: 16000}
	sn := mustAdd(t, m, neg)
	for _, v := range []int16{-30000, -30000} {
		m.Connect(mustAdd(t, m, newConst(16000, v)), sn)
	}
	m.Tick()
	if got := neg.value(); got != -32768 {
		t.Errorf("sum of -60000 gives %d, want -32768", got)
	}
}

func TestMixerSelectiveConnections(t *testing.T) {
	m := newTestMixer(t, 8000)
	a, b, c := newBoth(8000, 1), newBoth(8000, 10), newBoth(8000, 100)
	sa, sb, sc := mustAdd(t, m, a), mustAdd(t, m, b), mustAdd(t, m, c)
	m.Tick()
	for _, p := range []*both{a, b, c} {
		if v := p.sink.value(); v != 0 {
			t.Fatalf("unconnected port hears %d", v)
		}
	}
	m.Connect(sa, sc) // c hears a only
	m.Connect(sb, sa) // a hears b only
	m.Tick()
	if a.sink.value() != 10 || b.sink.value() != 0 || c.sink.value() != 1 {
		t.Fatalf("a, b, c hear %d %d %d, want 10 0 1", a.sink.value(), b.sink.value(), c.sink.value())
	}
	if !m.Connected(sa, sc) || m.Connected(sc, sa) {
		t.Error("Connected does not reflect the direction of connections")
	}
	m.Connect(sb, sc)
	m.Tick()
	if c.sink.value() != 11 {
		t.Errorf("c hears %d, want 11", c.sink.value())
	}
	m.Disconnect(sa, sc)
	m.Disconnect(sa, sc) // twice is fine
	m.Tick()
	if c.sink.value() != 10 {
		t.Errorf("c hears %d after disconnecting a, want 10", c.sink.value())
	}
	if err := m.Remove(sb); err != nil {
		t.Fatal(err)
	}
	m.Tick()
	if a.sink.value() != 0 || c.sink.value() != 0 {
		t.Errorf("after removing b, a and c hear %d %d, want silence", a.sink.value(), c.sink.value())
	}
	if m.Connected(sb, sc) {
		t.Error("a removed port is still connected")
	}
}

func TestMixerResamplesPorts(t *testing.T) {
	m := newTestMixer(t, 16000)
	src := newConst(8000, 1000) // DC survives resampling unchanged
	sink := &capSink{rate: 48000}
	ss, sk := mustAdd(t, m, src), mustAdd(t, m, sink)
	m.Connect(ss, sk)
	for i := 0; i < 5; i++ {
		m.Tick()
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.last) != 960 {
		t.Fatalf("48 kHz sink got %d samples per frame, want 960", len(sink.last))
	}
	for i, v := range sink.last {
		if v < 999 || v > 1001 {
			t.Fatalf("sample %d is %d after 8 -> 16 -> 48 kHz, want 1000", i, v)
		}
	}
}

func TestMixerErrors(t *testing.T) {
	if _, err := NewMixer(MixerConfig{SampleRate: 44100}); !errors.Is(err, ErrSampleRate) {
		t.Errorf("44100 Hz mixer: %v", err)
	}
	if _, err := NewMixer(MixerConfig{FrameDuration: 2500 * time.Microsecond}); !errors.Is(err, ErrFrameDuration) {
		t.Errorf("2.5 ms frames: %v", err)
	}
	m := newTestMixer(t, 8000)
	if _, err := m.Add(nil); err == nil {
		t.Error("Add(nil) succeeded")
	}
	if _, err := m.Add(notAPort{}); !errors.Is(err, ErrNotPort) {
		t.Errorf("Add(non-port): %v", err)
	}
	if _, err := m.Add(newConst(11025, 0)); !errors.Is(err, ErrSampleRate) {
		t.Errorf("Add(11025 Hz port): %v", err)
	}
	src, sink := mustAdd(t, m, newConst(8000, 1)), mustAdd(t, m, &capSink{rate: 8000})
	for _, tc := range []struct {
		src, dst Slot
		want     error
	}{
		{src, src, ErrSelfConnection},
		{sink, src, ErrNotSource},
		{src, 99, ErrUnknownSlot},
		{99, sink, ErrUnknownSlot},
	} {
		if err := m.Connect(tc.src, tc.dst); !errors.Is(err, tc.want) {
			t.Errorf("Connect(%d, %d) = %v, want %v", tc.src, tc.dst, err, tc.want)
		}
	}
	b := mustAdd(t, m, newBoth(8000, 0))
	if err := m.Connect(b, src); !errors.Is(err, ErrNotSink) {
		t.Errorf("Connect to a source-only port: %v", err)
	}
	if err := m.Remove(99); !errors.Is(err, ErrUnknownSlot) {
		t.Errorf("Remove(99): %v", err)
	}
	if err := m.Conference(src, 99); !errors.Is(err, ErrUnknownSlot) {
		t.Errorf("Conference with unknown slot: %v", err)
	}
	if got := fmt.Sprint(m.Slots()); got != fmt.Sprint([]Slot{src, sink, b}) {
		t.Errorf("Slots() = %v", got)
	}
	if m.Port(src) == nil || m.Port(99) != nil {
		t.Error("Port() does not find the ports")
	}
}

type notAPort struct{}

func (notAPort) SampleRate() int { return 8000 }

// TestMixerConcurrentChanges adds, connects and removes ports from several
// goroutines while another ticks the mixer (run it with -race).
func TestMixerConcurrentChanges(t *testing.T) {
	m := newTestMixer(t, 16000)
	hub := newBoth(16000, 1)
	sh := mustAdd(t, m, hub)
	stop := make(chan struct{})
	var ticker sync.WaitGroup
	ticker.Add(1)
	go func() {
		defer ticker.Done()
		for {
			select {
			case <-stop:
				return
			default:
				m.Tick()
			}
		}
	}()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			rates := []int{8000, 16000, 32000, 48000}
			for i := 0; i < 200; i++ {
				p := newBoth(rates[(g+i)%4], int16(i))
				s, err := m.Add(p)
				if err != nil {
					t.Error(err)
					return
				}
				if err := m.Conference(sh, s); err != nil {
					t.Error(err)
					return
				}
				if i%3 == 0 {
					m.Disconnect(s, sh)
				}
				if err := m.Remove(s); err != nil {
					t.Error(err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(stop)
	ticker.Wait()
	if got := m.Slots(); len(got) != 1 || got[0] != sh {
		t.Errorf("slots left: %v", got)
	}
	m.Tick()
	if v := hub.sink.value(); v != 0 {
		t.Errorf("hub hears %d after every other port left", v)
	}
}

// stepClock is a Clock driven by the test: each value sent on steps is a
// number of ticks to run; the clock answers on done.
type stepClock struct {
	steps chan int
	done  chan struct{}
}

func newStepClock() *stepClock {
	return &stepClock{steps: make(chan int), done: make(chan struct{})}
}

func (c *stepClock) Run(ctx context.Context, period time.Duration, tick func()) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case n := <-c.steps:
			if n < 0 {
				return errors.New("clock failure")
			}
			for i := 0; i < n; i++ {
				tick()
			}
			c.done <- struct{}{}
		}
	}
}

func (c *stepClock) step(n int) {
	c.steps <- n
	<-c.done
}

func TestMixerStartStopAndRemoveWait(t *testing.T) {
	m := newTestMixer(t, 8000)
	clk := newStepClock()
	if err := m.Start(clk); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(clk); !errors.Is(err, ErrRunning) {
		t.Errorf("second Start: %v", err)
	}
	src, sink := newConst(8000, 7), &capSink{rate: 8000}
	ss, sk := mustAdd(t, m, src), mustAdd(t, m, sink)
	m.Connect(ss, sk)
	clk.step(3)
	if sink.value() != 7 || sink.frames != 3 {
		t.Errorf("after 3 ticks the sink heard %d in %d frames", sink.value(), sink.frames)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.RemoveWait(ctx, sk); err != nil {
		t.Fatal(err)
	}
	frames := sink.frames
	clk.step(2)
	if sink.frames != frames {
		t.Error("a port removed with RemoveWait was still called")
	}
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	st := m.Stats()
	if st.Ticks != 5 || st.Ports != 1 {
		t.Errorf("stats %+v, want 5 ticks and 1 port", st)
	}
	// A clock that fails reports its error through Stop.
	if err := m.Start(clk); err != nil {
		t.Fatal(err)
	}
	clk.steps <- -1
	if err := m.Stop(); err == nil || err.Error() != "clock failure" {
		t.Errorf("Stop after a clock failure: %v", err)
	}
}

func TestMixerWithNullDevice(t *testing.T) {
	m := newTestMixer(t, 16000)
	dev, err := NewNullDevice(16000)
	if err != nil {
		t.Fatal(err)
	}
	tones, _ := NewToneGenerator(16000)
	sd, st := mustAdd(t, m, dev), mustAdd(t, m, tones)
	m.Connect(st, sd)
	done, err := tones.PlayTone(440, 0, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(dev); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done: // played in real time by the null device's clock
	case <-time.After(10 * time.Second):
		t.Fatal("tone did not finish")
	}
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	if dev.Played() < 5 {
		t.Errorf("the null device played %d frames, want at least 5", dev.Played())
	}
	if _, err := NewNullDevice(12345); err == nil {
		t.Error("NewNullDevice(12345) succeeded")
	}
	dev.Close()
}

// BenchmarkMixerTick measures one tick of a mixer at 8 kHz (G.711 calls)
// with n ports: "conference" connects them all to all; "calls" pairs them
// (each port hears one other, as n/2 two-party calls each with a device-like
// peer would).
func BenchmarkMixerTick(b *testing.B) {
	for _, layout := range []string{"conference", "calls"} {
		for _, n := range []int{2, 10, 100} {
			b.Run(fmt.Sprintf("%s/ports=%d", layout, n), func(b *testing.B) {
				m := newTestMixer(b, 8000)
				slots := make([]Slot, n)
				for i := range slots {
					slots[i] = mustAdd(b, m, newBoth(8000, int16(i)))
				}
				if layout == "conference" {
					m.Conference(slots...)
				} else {
					for i := 0; i+1 < n; i += 2 {
						m.Conference(slots[i], slots[i+1])
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					m.Tick()
				}
			})
		}
	}
}
