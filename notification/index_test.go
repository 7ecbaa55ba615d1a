package notification

import (
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
)

// TestMoveBetweenKeysLosesNothing moves an observer back and forth between
// two keys that match the same notifications, adding the new registration
// before removing the old one, while notifications are posted: each Post
// must see the registrations as one snapshot, so that every notification is
// delivered exactly once, in order.
func TestMoveBetweenKeysLosesNothing(t *testing.T) {
	// Post at least minPosts notifications, and more until the observer
	// has moved minMoves times, but no more than the recorder can hold.
	const minPosts, minMoves, maxPosts = 20000, 20000, 60000
	s1 := &testSender{"s1"}
	c, _ := newTestCenter(t)
	r := newRecorder()
	if err := c.AddObserver(r, "N", s1); err != nil {
		t.Fatal(err)
	}
	var moves atomic.Int64
	stop := make(chan struct{})
	moved := make(chan struct{})
	go func() {
		defer close(moved)
		// Post looks (N, nil) up before (N, s1): moving from (N, s1) to
		// (N, nil) is the move a lookup without a snapshot can miss.
		from, to := regKey{"N", s1}, regKey{"N", nil}
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := c.AddObserver(r, to.name, to.sender); err != nil {
				t.Error(err)
				return
			}
			if err := c.RemoveObserver(r, from.name, from.sender); err != nil {
				t.Error(err)
				return
			}
			moves.Add(1)
			from, to = to, from
		}
	}()
	count := 0
	for ; count < maxPosts && (count < minPosts || moves.Load() < minMoves); count++ {
		c.Post("N", s1, count)
	}
	close(stop)
	<-moved
	got := barrier(t, c, r)[0]
	for i, n := range got {
		if n.Data != i {
			t.Fatalf("notification %d has data %v", i, n.Data)
		}
	}
	if len(got) != count {
		t.Errorf("got %d notifications, want %d", len(got), count)
	}
}

// TestManySendersChurn has many goroutines each add and remove a
// registration for its own sender while the others do the same, and checks
// that each observer gets exactly the notifications posted while it was
// registered.
func TestManySendersChurn(t *testing.T) {
	const workers, rounds = 16, 200
	c, _ := newTestCenter(t)
	recs := make([]*recorder, workers)
	var wg sync.WaitGroup
	for w := range workers {
		recs[w] = newRecorder()
		sender := &testSender{fmt.Sprint("s", w)}
		// A lasting registration keeps the observer alive between rounds,
		// so that what is checked is the index, not the discarding of
		// the queue of an observer that lost its last registration.
		if err := c.AddObserver(recs[w], "Keep", sender); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				if err := c.AddObserver(recs[w], "N", sender); err != nil {
					t.Error(err)
					return
				}
				c.Post("N", sender, i)
				if err := c.RemoveObserver(recs[w], "N", sender); err != nil {
					t.Error(err)
					return
				}
				c.Post("N", sender, -1) // no longer matches
			}
		}()
	}
	wg.Wait()
	for w, got := range barrier(t, c, recs...) {
		if len(got) != rounds {
			t.Errorf("observer %d got %d notifications, want %d", w, len(got), rounds)
		}
		for i, n := range got {
			if n.Data != i {
				t.Fatalf("observer %d: notification %d has data %v", w, i, n.Data)
			}
		}
	}
}

// TestIndexForgetsEmptyKeys checks that removing the last registration of a
// name or a sender leaves nothing behind in the index.
func TestIndexForgetsEmptyKeys(t *testing.T) {
	c, _ := newTestCenter(t)
	keep := newRecorder()
	if err := c.AddObserver(keep, "N", &testSender{"keep"}); err != nil {
		t.Fatal(err)
	}
	r := newRecorder()
	for i := range 10 {
		s := &testSender{fmt.Sprint("s", i)}
		for _, k := range []regKey{{"N", s}, {"N", nil}, {fmt.Sprint("M", i), s}, {Any, nil}} {
			if err := c.AddObserver(r, k.name, k.sender); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := len(*c.idx.Load().names.Load()); got != 12 {
		t.Fatalf("%d names indexed, want 12", got)
	}
	c.PurgeObserver(r)
	names := *c.idx.Load().names.Load()
	if len(names) != 1 {
		t.Fatalf("%d names indexed, want 1", len(names))
	}
	e := names["N"]
	if e == nil {
		t.Fatal("name N forgotten")
	}
	n := 0
	e.bySender.Range(func(any, any) bool { n++; return true })
	if n != 1 || e.senders.Load() != 1 || e.any.Load() != nil {
		t.Fatalf("entry of N holds %d senders (count %d), wildcard list %v", n, e.senders.Load(), e.any.Load())
	}
}

// TestIsComparable checks the fast paths of isComparable against
// reflect.Value.Comparable.
func TestIsComparable(t *testing.T) {
	type withAny struct{ v any }
	type withSlice struct{ s []int }
	ch := make(chan int)
	values := []any{
		nil, 1, "s", 1.5, true, &testSender{"p"}, ch, [2]int{1, 2}, struct{}{},
		withAny{1}, withAny{[]int{1}}, withAny{withAny{map[int]int{}}},
		[2]any{1, "x"}, [2]any{1, []int{1}}, withSlice{},
		[]int{1}, map[int]int{}, func() {},
	}
	for _, v := range values {
		want := reflect.ValueOf(v).Comparable()
		if got := isComparable(v); got != want {
			t.Errorf("isComparable(%#v) = %v, want %v", v, got, want)
		}
	}
	var p any = &testSender{"p"}
	if got := testing.AllocsPerRun(100, func() { isComparable(p) }); got != 0 {
		t.Errorf("isComparable of a pointer allocates %v times", got)
	}
}
