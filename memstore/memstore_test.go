package memstore_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/internal/storetest"
	"github.com/sessionkit/session/memstore"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) session.Store {
		s := memstore.New(memstore.Options{Now: now})
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestSweepOrder files deadlines in random order and checks the sweeper
// removes exactly those due, however they were filed.
func TestSweepOrder(t *testing.T) {
	base := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	now := base
	s := memstore.New(memstore.Options{Now: func() time.Time { return now }})
	defer s.Close()
	ctx := context.Background()
	const n = 2000
	for i := range n {
		// Deadlines 1..n seconds ahead, filed in a scrambled order.
		d := time.Duration((i*7919)%n+1) * time.Second
		rec := &session.Record{ID: storetest.NewID(), Version: 1, Created: base, LastActive: base,
			IdleDeadline: base.Add(d), AbsoluteDeadline: base.Add(24 * time.Hour)}
		if err := s.Commit(ctx, rec, 0); err != nil {
			t.Fatal(err)
		}
	}
	total := 0
	for step := 1; step <= 4; step++ {
		now = base.Add(time.Duration(step*n/4) * time.Second)
		got, err := s.DeleteExpired(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		total += got
		if total != step*n/4 {
			t.Fatalf("after sweeping to +%ds: %d removed in all; want %d", step*n/4, total, step*n/4)
		}
	}
	if c, _ := s.Count(ctx); c != 0 {
		t.Fatalf("%d records left", c)
	}
}

// TestCloseStopsSweeper checks Close leaves no goroutine behind.
func TestCloseStopsSweeper(t *testing.T) {
	before := runtime.NumGoroutine()
	stores := make([]*memstore.Store, 10)
	for i := range stores {
		stores[i] = memstore.New(memstore.Options{SweepInterval: time.Millisecond})
	}
	time.Sleep(5 * time.Millisecond) // let the sweepers run
	for _, s := range stores {
		s.Close()
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Close; %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(time.Millisecond)
	}
}
