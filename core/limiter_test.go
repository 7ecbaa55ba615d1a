package core

import (
	"context"
	"errors"
	"testing"
)

func TestLimiter(t *testing.T) {
	if _, err := NewLimiter(0); err == nil {
		t.Fatal("NewLimiter(0) accepted")
	}
	l, err := NewLimiter(2)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if err := l.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if l.InFlight() != 2 {
		t.Fatalf("in flight %d, want 2", l.InFlight())
	}
	// A third Acquire waits; a cancelled context ends the wait.
	cctx, cancel := context.WithCancel(ctx)
	got := make(chan error, 1)
	go func() { got <- l.Acquire(cctx) }()
	cancel()
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire on a full limiter with a cancelled context: %v", err)
	}
	// A Release lets a waiter in.
	go func() { got <- l.Acquire(ctx) }()
	l.Release()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	l.Release()
	l.Release()
	if l.InFlight() != 0 {
		t.Fatalf("in flight %d, want 0", l.InFlight())
	}
	var none *Limiter // nil imposes no limit
	if err := none.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	none.Release()
}

func TestLimiterReleaseWithoutAcquirePanics(t *testing.T) {
	l, _ := NewLimiter(1)
	defer func() {
		if recover() == nil {
			t.Fatal("Release without Acquire did not panic")
		}
	}()
	l.Release()
}
