package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestMemoryCleanup: keys whose burst is full again are removed; the
// others stay. The clock is moved, never slept on.
func TestMemoryCleanup(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	m := NewMemory(MemoryOptions{Now: clock, CleanupInterval: time.Hour})
	defer m.Close()
	ctx := context.Background()
	short := Limit{Rate: 1, Per: time.Second}
	long := Limit{Rate: 1, Per: time.Hour}
	for i := range 100 {
		if _, err := m.Allow(ctx, fmt.Sprint("short", i), short, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Allow(ctx, fmt.Sprint("long", i), long, 1); err != nil {
			t.Fatal(err)
		}
	}
	// An inspection (n == 0) and a refusal store nothing.
	m.Allow(ctx, "inspected", long, 0)
	if got := m.len(); got != 200 {
		t.Fatalf("len = %d, want 200", got)
	}
	advance(time.Second - 1)
	m.cleanup()
	if got := m.len(); got != 200 {
		t.Fatalf("after 1s-1ns: len = %d, want 200 (nothing idle yet)", got)
	}
	advance(1)
	m.cleanup()
	if got := m.len(); got != 100 {
		t.Fatalf("after 1s: len = %d, want 100 (short keys idle)", got)
	}
	advance(time.Hour)
	m.cleanup()
	if got := m.len(); got != 0 {
		t.Fatalf("after 1h: len = %d, want 0", got)
	}
}

// TestMemoryCleanerRuns: the background goroutine really cleans, and
// Close stops it.
func TestMemoryCleanerRuns(t *testing.T) {
	m := NewMemory(MemoryOptions{CleanupInterval: time.Millisecond})
	m.Allow(context.Background(), "k", Limit{Rate: 1000, Per: time.Second}, 1) // idle after 1ms
	deadline := time.Now().Add(5 * time.Second)
	for m.len() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("idle key never cleaned up")
		}
		time.Sleep(time.Millisecond)
	}
	m.Close()
	select {
	case <-m.done:
	default:
		t.Fatal("Close returned before the cleaner stopped")
	}
}

func TestGCRANoOverflow(t *testing.T) {
	// The largest valid burst window, far in the future: no overflow.
	l := Limit{Rate: 1, Per: time.Hour, Burst: int(int64(1<<62)/int64(time.Hour)) / 2}
	interval, tau, err := l.params()
	if err != nil {
		t.Fatal(err)
	}
	d, next, store := gcra(1<<40, 0, int64(interval), int64(tau), l.Burst)
	if !d.Allowed || !store || next <= 1<<40 {
		t.Fatalf("gcra = %+v, %d, %v", d, next, store)
	}
}
