package memstore_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/storetest"
)

func TestConformance(t *testing.T) {
	storetest.RunOptions(t, func(t *testing.T, now func() time.Time) session.Store {
		s := memstore.New(memstore.Options{Now: now})
		t.Cleanup(func() { s.Close() })
		return s
	}, storetest.Options{ReportsExpired: true})
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

// TestCountTombstones follows Count through every way a tombstone comes and
// goes (committed over a session, replaced after it expired, deleted, swept):
// tombstones never count, and nothing is counted twice or below zero.
func TestCountTombstones(t *testing.T) {
	clock := storetest.NewClock()
	s := memstore.New(memstore.Options{Now: clock.Now})
	defer s.Close()
	ctx := context.Background()
	count := func(want int, why string) {
		t.Helper()
		if n, err := s.Count(ctx); err != nil || n != want {
			t.Fatalf("%s: Count = %d, %v; want %d", why, n, err, want)
		}
	}
	commit := func(rec *session.Record, expected uint64) {
		t.Helper()
		if err := s.Commit(ctx, rec, expected); err != nil {
			t.Fatal(err)
		}
	}
	now := clock.Now()
	live := func(id string, version uint64) *session.Record {
		return &session.Record{ID: id, Version: version, Created: now, LastActive: clock.Now(),
			IdleDeadline: clock.Now().Add(time.Hour), AbsoluteDeadline: clock.Now().Add(24 * time.Hour)}
	}
	tomb := func(id string, version uint64, ended bool) *session.Record {
		r := live(id, version)
		r.IdleDeadline = clock.Now().Add(time.Minute)
		if ended {
			r.Ended = true
		} else {
			r.RenewedTo = storetest.NewID()
		}
		return r
	}
	a, b, c := storetest.NewID(), storetest.NewID(), storetest.NewID()
	commit(live(a, 1), 0)
	commit(live(b, 1), 0)
	commit(live(c, 1), 0)
	count(3, "three sessions")
	commit(tomb(a, 2, true), 1)
	commit(tomb(b, 2, false), 1)
	count(1, "two of them tombstones")
	commit(tomb(b, 3, true), 2) // a tombstone over a tombstone
	count(1, "a tombstone replaced by another")
	if err := s.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	count(1, "a tombstone deleted")
	clock.Advance(2 * time.Minute)
	commit(live(b, 1), 0) // takes over the expired tombstone
	count(2, "a new session over an expired tombstone")
	commit(tomb(c, 2, false), 1)
	clock.Advance(2 * time.Minute)
	if n, err := s.DeleteExpired(ctx, clock.Now()); err != nil || n != 1 {
		t.Fatalf("DeleteExpired = %d, %v; want the one expired tombstone", n, err)
	}
	count(1, "the expired tombstone swept")
}

func TestNewOptions(t *testing.T) {
	s := memstore.New()
	defer s.Close()
	defer func() {
		if recover() == nil {
			t.Error("New with two Options did not panic")
		}
	}()
	memstore.New(memstore.Options{}, memstore.Options{})
}
