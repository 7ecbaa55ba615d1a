package msrp

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// transferWait bounds a large transfer (the race detector slows it
// down): a deadline, not a sleep.
const transferWait = 2 * time.Minute

// fileSource returns size pseudo-random octets, the same for a seed.
func fileSource(seed byte, size int64) io.Reader {
	var s [32]byte
	s[0] = seed
	return io.LimitReader(mrand.NewChaCha8(s), size)
}

func sourceHash(t testing.TB, seed byte, size int64) [32]byte {
	h := sha256.New()
	if _, err := io.Copy(h, fileSource(seed, size)); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

// collect gathers the events of s in the background until stop says
// so, or the channel closes.
type collector struct {
	mu   sync.Mutex
	evs  []Event
	done chan struct{}
}

func collect(s *Session, stop func(Event) bool, onEvent func(Event)) *collector {
	c := &collector{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for ev := range s.Events() {
			if onEvent != nil {
				onEvent(ev)
			}
			c.mu.Lock()
			c.evs = append(c.evs, ev)
			c.mu.Unlock()
			if stop(ev) {
				return
			}
		}
	}()
	return c
}

func (c *collector) wait(t testing.TB, what string) []Event {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(transferWait):
		t.Fatalf("%s: not done within %v", what, transferWait)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.evs
}

func isOutcome(ev Event) bool {
	switch ev.(type) {
	case Delivered, NotDelivered, Closed:
		return true
	}
	return false
}

func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestSessionFileTransfer: a 100 MB message streamed from an io.Reader
// in 64 KiB chunks arrives in a file through Storage, with the receiver's
// heap flat, and progress on both sides.
func TestSessionFileTransfer(t *testing.T) {
	const size = 100 << 20
	want := sourceHash(t, 1, size)
	path := filepath.Join(t.TempDir(), "received")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var firsts []*Message
	storage := func(first *Message) (io.WriterAt, error) {
		firsts = append(firsts, first) // reader goroutine; read after Received
		if first.ContentType == "application/octet-stream" {
			return f, nil
		}
		return nil, nil // in memory
	}
	alice, bob := pair(t, SessionConfig{ProgressInterval: 10 * time.Millisecond},
		SessionConfig{Storage: storage, ProgressInterval: 10 * time.Millisecond, MaxMessageSize: 1 << 20}, nil)

	// A text message with a Storage that declines it: in memory.
	if _, err := alice.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte("file follows")}); err != nil {
		t.Fatal(err)
	}
	if rec := waitEvent[Received](t, bob); string(rec.Body) != "file follows" || rec.Storage != nil || rec.Size != 12 {
		t.Errorf("text message %+v", rec)
	}
	waitEvent[Delivered](t, alice)

	before := heapInuse()
	var peak uint64
	sample := func(ev Event) {
		if _, ok := ev.(ReceiveProgress); ok {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	bobEvs := collect(bob, func(ev Event) bool {
		_, ok := ev.(Received)
		return ok || isOutcome(ev) || func() bool { _, ok := ev.(ReceiveAborted); return ok }()
	}, sample)
	aliceEvs := collect(alice, isOutcome, nil)
	id, err := alice.Send(OutgoingMessage{
		ContentType: "application/octet-stream", Reader: fileSource(1, size), Size: size, ChunkSize: 64 << 10,
		SuccessReport: true, Headers: []Header{{Name: "Content-Disposition", Value: `attachment; filename="a.bin"`}},
	})
	if err != nil {
		t.Fatal(err)
	}
	evs := bobEvs.wait(t, "bob")
	after := heapInuse()
	rec, ok := evs[len(evs)-1].(Received)
	if !ok {
		t.Fatalf("bob's last event %#v", evs[len(evs)-1])
	}
	if rec.MessageID != id || rec.Body != nil || rec.Storage != f || rec.Size != size {
		t.Errorf("received %s, body %d octets, storage %v, size %d", rec.MessageID, len(rec.Body), rec.Storage, rec.Size)
	}
	if v, _ := rec.First.Header("Content-Disposition"); v != `attachment; filename="a.bin"` {
		t.Errorf("Content-Disposition %q", v)
	}
	if len(firsts) != 2 || firsts[1].MessageID != id || firsts[1].Range().Total != size || firsts[1].Body != nil {
		t.Errorf("Storage called with %v", firsts)
	}
	checkProgress(t, "bob", evs, func(ev Event) (int64, int64, bool) {
		p, ok := ev.(ReceiveProgress)
		return p.Received, p.Total, ok && p.MessageID == id
	}, size)
	for _, ev := range evs {
		if ev, ok := ev.(SendProgress); ok {
			t.Errorf("bob sent progress %+v", ev)
		}
	}

	evs = aliceEvs.wait(t, "alice")
	if d, ok := evs[len(evs)-1].(Delivered); !ok || d.MessageID != id {
		t.Fatalf("alice's last event %#v", evs[len(evs)-1])
	}
	checkProgress(t, "alice", evs, func(ev Event) (int64, int64, bool) {
		p, ok := ev.(SendProgress)
		return p.Sent, p.Total, ok && p.MessageID == id
	}, size)

	f.Close()
	got, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	h := sha256.New()
	if n, err := io.Copy(h, got); err != nil || n != size || [32]byte(h.Sum(nil)) != want {
		t.Errorf("file: %d octets, %v, hash differs: %v", n, err, [32]byte(h.Sum(nil)) != want)
	}
	const bound = 32 << 20
	t.Logf("heap in use: before %.1f MiB, peak during %.1f MiB, after %.1f MiB",
		float64(before)/(1<<20), float64(peak)/(1<<20), float64(after)/(1<<20))
	if peak > before+bound || after > before+bound {
		t.Errorf("heap grew by more than %d MiB for a %d MiB transfer", bound>>20, size>>20)
	}
}

// checkProgress checks the progress events of a message: some, Sent or
// Received increasing, never above the total, the last one the total.
func checkProgress(t *testing.T, who string, evs []Event, get func(Event) (int64, int64, bool), size int64) {
	t.Helper()
	var last int64 = -1
	n := 0
	for _, ev := range evs {
		done, total, ok := get(ev)
		if !ok {
			continue
		}
		n++
		if done < last || done > size || total != size {
			t.Errorf("%s: progress %d of %d after %d", who, done, total, last)
		}
		last = done
	}
	if n < 2 || last != size {
		t.Errorf("%s: %d progress events, the last at %d of %d", who, n, last, size)
	}
}

// notifyWriterAt is an io.WriterAt in memory that closes reached once
// it holds at least at octets.
type notifyWriterAt struct {
	memWriterAt
	at      int
	reached chan struct{}
	once    sync.Once
}

func (w *notifyWriterAt) WriteAt(p []byte, off int64) (int, error) {
	n, err := w.memWriterAt.WriteAt(p, off)
	w.mu.Lock()
	l := len(w.buf)
	w.mu.Unlock()
	if l >= w.at {
		w.once.Do(func() { close(w.reached) })
	}
	return n, err
}

func (w *notifyWriterAt) bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Clone(w.buf)
}

// failingReader fails after n octets of src.
type failingReader struct {
	src io.Reader
	n   int64
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("disk on fire")
	}
	p = p[:min(int64(len(p)), r.n)]
	n, err := r.src.Read(p)
	r.n -= int64(n)
	return n, err
}

// TestSessionReceiveAborted: a stored message that does not complete is
// reported with what arrived, when its sender aborts it ('#') and when
// the sender goes away mid-transfer.
func TestSessionReceiveAborted(t *testing.T) {
	const size = 64 << 20
	src := func(n int) []byte {
		b := make([]byte, n)
		io.ReadFull(fileSource(2, size), b)
		return b
	}
	t.Run("aborted by the sender", func(t *testing.T) {
		w := &notifyWriterAt{at: 1, reached: make(chan struct{})}
		alice, bob := pair(t, SessionConfig{}, SessionConfig{Storage: func(*Message) (io.WriterAt, error) { return w, nil }}, nil)
		const cut = 3<<20 + 12345
		id, _ := alice.Send(OutgoingMessage{ContentType: "application/octet-stream", Size: size, ChunkSize: 64 << 10,
			Reader: &failingReader{src: fileSource(2, size), n: cut}})
		if nd := waitEvent[NotDelivered](t, alice); nd.MessageID != id || nd.Code != 0 {
			t.Errorf("alice: %+v", nd)
		}
		ra := waitEvent[ReceiveAborted](t, bob)
		want := ReceiveAborted{MessageID: id, Received: cut / (64 << 10) * (64 << 10), Total: size, Storage: w, Err: ErrMessageAborted}
		if ra != want {
			t.Errorf("bob: %+v, want %+v", ra, want)
		}
		if got := w.bytes(); int64(len(got)) != ra.Received || !bytes.Equal(got, src(len(got))) {
			t.Errorf("storage holds %d octets, differing from the source: %v", len(got), !bytes.Equal(got, src(len(got))))
		}
		// The session goes on.
		alice.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte("sorry")})
		waitEvent[Delivered](t, alice)
	})
	t.Run("sender closes", func(t *testing.T) {
		w, alice, bob, id := startStoredTransfer(t, size)
		alice.Close()
		ra := waitEvent[ReceiveAborted](t, bob)
		if ra.MessageID != id || ra.Received < 1<<20 || ra.Received >= size || ra.Total != size || ra.Storage != w || !errors.Is(ra.Err, ErrConnectionLost) {
			t.Errorf("bob: %+v", ra)
		}
		if c := waitEvent[Closed](t, bob); !errors.Is(c.Err, ErrConnectionLost) {
			t.Errorf("bob closed with %v", c.Err)
		}
		got := w.bytes()
		if int64(len(got)) < ra.Received || !bytes.Equal(got[:ra.Received], src(int(ra.Received))) {
			t.Errorf("storage holds %d octets, want %d from the source", len(got), ra.Received)
		}
	})
	t.Run("receiver closes", func(t *testing.T) {
		w, alice, bob, id := startStoredTransfer(t, size)
		bob.Close()
		evs := drain(t, bob)
		ra, ok := evs[len(evs)-2].(ReceiveAborted)
		if !ok || ra.MessageID != id || !errors.Is(ra.Err, ErrSessionClosed) || ra.Received < 1<<20 {
			t.Errorf("bob's events end with %#v", evs[len(evs)-2:])
		}
		// Nothing is written after the event.
		if got := w.bytes(); int64(len(got)) != ra.Received {
			t.Errorf("storage holds %d octets, the event says %d", len(got), ra.Received)
		}
		if nd := waitEvent[NotDelivered](t, alice); nd.MessageID != id {
			t.Errorf("alice: %+v", nd)
		}
	})
}

// TestSessionStorageRefuses: a Storage error refuses the message with
// 413, or the code of a *StatusError; the limits of stored messages.
func TestSessionStorageRefuses(t *testing.T) {
	storage := func(first *Message) (io.WriterAt, error) {
		switch first.ContentType {
		case "application/x-full":
			return nil, errors.New("disk full")
		case "application/x-forbidden":
			return nil, fmt.Errorf("no: %w", &StatusError{Code: StatusForbidden, Comment: "not from you"})
		}
		return &memWriterAt{}, nil
	}
	alice, bob := pair(t, SessionConfig{}, SessionConfig{Storage: storage, MaxStoredMessageSize: 1 << 20, MaxMessageSize: 64 << 10}, nil)
	for _, tc := range []struct {
		ct   string
		size int64 // 0: a Reader of unknown size of 2 MiB
		code int
	}{
		{"application/x-full", 10 << 10, StatusStopSending},
		{"application/x-forbidden", 10 << 10, StatusForbidden},
		{"application/octet-stream", 2 << 20, StatusStopSending}, // over MaxStoredMessageSize: in memory, over MaxMessageSize
		{"application/octet-stream", 0, StatusStopSending},       // passes MaxStoredMessageSize while arriving
	} {
		msg := OutgoingMessage{ContentType: tc.ct, Size: tc.size, ChunkSize: 16 << 10, Reader: fileSource(3, max(tc.size, 2<<20))}
		id, err := alice.Send(msg)
		if err != nil {
			t.Fatal(err)
		}
		if nd := waitEvent[NotDelivered](t, alice); nd.MessageID != id || nd.Code != tc.code {
			t.Errorf("%s of %d: %+v, want %d", tc.ct, tc.size, nd, tc.code)
		}
		if tc.size == 0 {
			ra := waitEvent[ReceiveAborted](t, bob)
			var le *LimitError
			if ra.MessageID != id || ra.Received != 1<<20 || ra.Total != -1 || !errors.As(ra.Err, &le) || le.Limit != "MaxStoredBytes" {
				t.Errorf("%+v", ra)
			}
		}
	}
	// Within the limits, a stored message arrives.
	id, _ := alice.Send(OutgoingMessage{ContentType: "application/octet-stream", Size: 1 << 20, Reader: fileSource(3, 1<<20)})
	rec := waitEvent[Received](t, bob)
	if rec.MessageID != id || rec.Size != 1<<20 || rec.Body != nil || len(rec.Storage.(*memWriterAt).buf) != 1<<20 {
		t.Errorf("%+v", rec)
	}
	waitEvent[Delivered](t, alice)
}

// TestSessionProgressNeverOverflows: a consumer that does not read while
// a message goes out and another comes in with progress events every
// millisecond: progress is dropped past MaxQueuedProgress, the session
// does not overflow.
func TestSessionProgressNeverOverflows(t *testing.T) {
	const size = 16 << 20
	cfg := SessionConfig{MaxQueuedEvents: 2, ProgressInterval: time.Microsecond,
		Storage: func(*Message) (io.WriterAt, error) { return &memWriterAt{}, nil }}
	alice, bob := pair(t, cfg, cfg, nil)
	id, _ := alice.Send(OutgoingMessage{ContentType: "application/octet-stream", Size: size, ChunkSize: 4 << 10, Reader: fileSource(4, size)})
	// Alice's outcome, then bob's Received, read from the end of queues
	// full of progress events.
	var progress int
	for _, s := range []*Session{alice, bob} {
		for done := false; !done; {
			switch ev := nextEvent(t, s).(type) {
			case Delivered:
				done = ev.MessageID == id
			case Received:
				done = ev.MessageID == id && ev.Size == size
			case SendProgress, ReceiveProgress:
				progress++
			case Connected:
			default:
				t.Fatalf("%#v", ev)
			}
		}
	}
	if progress < MaxQueuedProgress {
		t.Errorf("%d progress events", progress)
	}
	select {
	case <-alice.Done():
		t.Error("alice ended")
	case <-bob.Done():
		t.Error("bob ended")
	default:
	}
}

// BenchmarkSessionFileTransfer measures a file transfer between two
// sessions over loopback TCP: a message of 64 MiB (or 1 GiB) streamed
// from an io.Reader in 64 KiB chunks, written to a file by Storage.
// It reports the throughput and the largest heap in use seen during the
// transfers.
func BenchmarkSessionFileTransfer(b *testing.B) {
	for _, size := range []int64{64 << 20, 1 << 30} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) { benchTransfer(b, size) })
	}
}

func benchTransfer(b *testing.B, size int64) {
	f, err := os.Create(filepath.Join(b.TempDir(), "received"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	alice, bob := pair(b, SessionConfig{}, SessionConfig{Storage: func(*Message) (io.WriterAt, error) { return f, nil }}, nil)
	pattern := make([]byte, 1<<20)
	io.ReadFull(fileSource(5, int64(len(pattern))), pattern)
	before := heapInuse()
	var peak uint64
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		id, err := alice.Send(OutgoingMessage{ContentType: "application/octet-stream", Size: size, ChunkSize: 64 << 10,
			Reader: io.LimitReader(&loopReader{data: pattern}, size)})
		if err != nil {
			b.Fatal(err)
		}
		for done := false; !done; {
			switch ev := nextEvent(b, bob).(type) {
			case Received:
				done = ev.Size == size
			case ReceiveProgress:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			case ReceiveAborted:
				b.Fatalf("%+v", ev)
			}
		}
		for done := false; !done; {
			switch ev := nextEvent(b, alice).(type) {
			case Delivered:
				done = ev.MessageID == id
			case NotDelivered:
				b.Fatalf("%+v", ev)
			}
		}
	}
	b.ReportMetric(float64(max(peak, before)-before)/(1<<20), "heap-growth-MiB")
}

// startStoredTransfer sends size octets from alice to bob, who stores
// them, and returns once the first MiB is stored.
func startStoredTransfer(t *testing.T, size int64) (w *notifyWriterAt, alice, bob *Session, id string) {
	t.Helper()
	w = &notifyWriterAt{at: 1 << 20, reached: make(chan struct{})}
	alice, bob = pair(t, SessionConfig{}, SessionConfig{Storage: func(*Message) (io.WriterAt, error) { return w, nil }}, nil)
	id, _ = alice.Send(OutgoingMessage{ContentType: "application/octet-stream", Size: size, ChunkSize: 64 << 10,
		Reader: fileSource(2, size)})
	select {
	case <-w.reached:
	case <-time.After(testWait):
		t.Fatal("no octet stored")
	}
	return w, alice, bob, id
}
