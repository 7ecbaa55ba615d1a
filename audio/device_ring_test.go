package audio

import (
	"sync"
	"testing"
)

func TestSampleRingWrap(t *testing.T) {
	q := newSampleRing(5)
	if n := q.write([]int16{1, 2, 3, 4}); n != 4 {
		t.Fatalf("write = %d, want 4", n)
	}
	got := make([]int16, 3)
	if n := q.read(got); n != 3 || got[0] != 1 || got[2] != 3 {
		t.Fatalf("read = %d %v", n, got)
	}
	// Wraps: 1 waiting, room for 4.
	if n := q.write([]int16{5, 6, 7, 8, 9}); n != 4 {
		t.Fatalf("write on nearly full ring = %d, want 4", n)
	}
	if q.Len() != 5 || q.Cap() != 5 {
		t.Fatalf("Len %d Cap %d", q.Len(), q.Cap())
	}
	if n := q.discard(2); n != 2 {
		t.Fatalf("discard = %d", n)
	}
	got = make([]int16, 10)
	n := q.read(got)
	if n != 3 || got[0] != 6 || got[1] != 7 || got[2] != 8 {
		t.Fatalf("read = %d %v, want 6 7 8", n, got[:n])
	}
	if q.read(got) != 0 || q.discard(1) != 0 || q.Len() != 0 {
		t.Fatal("empty ring gave something")
	}
}

// TestSampleRingConcurrent runs a producer and a consumer at once (run it
// with -race): the consumer must see the producer's sequence in order, with
// gaps only where the producer found the ring full.
func TestSampleRingConcurrent(t *testing.T) {
	q := newSampleRing(97)
	const total = 200000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]int16, 13)
		next := 0
		for next < total {
			for i := range buf {
				buf[i] = int16(next + i)
			}
			next += q.write(buf)
		}
	}()
	buf := make([]int16, 17)
	want := 0
	for want < total {
		n := q.read(buf)
		for _, v := range buf[:n] {
			if v != int16(want) {
				t.Fatalf("got %d, want %d", v, int16(want))
			}
			want++
		}
	}
	wg.Wait()
}
