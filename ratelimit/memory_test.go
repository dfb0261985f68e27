package ratelimit_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/session/ratelimit"
)

func newMemory(t testing.TB, c *clock) *ratelimit.Memory {
	t.Helper()
	opts := ratelimit.MemoryOptions{}
	if c != nil {
		opts.Now = c.Now
	}
	m := ratelimit.NewMemory(opts)
	t.Cleanup(func() { m.Close() })
	return m
}

func TestLimitValidate(t *testing.T) {
	tests := []struct {
		name  string
		limit ratelimit.Limit
		ok    bool
	}{
		{"zero", ratelimit.Limit{}, false},
		{"no per", ratelimit.Limit{Rate: 1}, false},
		{"no rate", ratelimit.Limit{Per: time.Second}, false},
		{"negative rate", ratelimit.Limit{Rate: -1, Per: time.Second}, false},
		{"negative per", ratelimit.Limit{Rate: 1, Per: -time.Second}, false},
		{"negative burst", ratelimit.Limit{Rate: 1, Per: time.Second, Burst: -1}, false},
		{"faster than a nanosecond", ratelimit.Limit{Rate: 2, Per: time.Nanosecond}, false},
		{"burst overflows", ratelimit.Limit{Rate: 1, Per: time.Hour, Burst: 1 << 40}, false},
		{"zero burst means rate", ratelimit.Limit{Rate: 5, Per: 15 * time.Minute}, true},
		{"explicit burst", ratelimit.Limit{Rate: 10, Per: time.Second, Burst: 1}, true},
		{"one per nanosecond", ratelimit.Limit{Rate: 1, Per: time.Nanosecond}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.limit.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
			if !tt.ok && !errors.Is(err, ratelimit.ErrInvalidLimit) {
				t.Fatalf("Validate() = %v, want ErrInvalidLimit", err)
			}
		})
	}
}

// TestMemoryGCRA runs one key through a sequence of requests on a fixed
// clock and checks every field of every decision, to the nanosecond.
func TestMemoryGCRA(t *testing.T) {
	type step struct {
		name    string
		at      time.Duration // since the start
		n       int
		want    ratelimit.Decision
		wantErr error
	}
	const ms = time.Millisecond
	tests := []struct {
		name  string
		limit ratelimit.Limit
		steps []step
	}{{
		name:  "10 per second, burst 3",
		limit: ratelimit.Limit{Rate: 10, Per: time.Second, Burst: 3}, // one per 100ms
		steps: []step{
			{name: "first", at: 0, n: 1, want: ratelimit.Decision{Allowed: true, Remaining: 2, ResetAfter: 100 * ms}},
			{name: "second", at: 0, n: 1, want: ratelimit.Decision{Allowed: true, Remaining: 1, ResetAfter: 200 * ms}},
			{name: "third empties the burst", at: 0, n: 1, want: ratelimit.Decision{Allowed: true, Remaining: 0, ResetAfter: 300 * ms}},
			{name: "fourth refused", at: 0, n: 1, want: ratelimit.Decision{RetryAfter: 100 * ms, ResetAfter: 300 * ms}},
			{name: "refusal consumed nothing", at: 0, n: 1, want: ratelimit.Decision{RetryAfter: 100 * ms, ResetAfter: 300 * ms}},
			{name: "1ns early", at: 100*ms - 1, n: 1, want: ratelimit.Decision{RetryAfter: 1, ResetAfter: 200*ms + 1}},
			{name: "exactly on time", at: 100 * ms, n: 1, want: ratelimit.Decision{Allowed: true, Remaining: 0, ResetAfter: 300 * ms}},
			{name: "inspect", at: 250 * ms, n: 0, want: ratelimit.Decision{Allowed: true, Remaining: 1, ResetAfter: 150 * ms}},
			{name: "two do not fit, nothing taken", at: 250 * ms, n: 2, want: ratelimit.Decision{Remaining: 1, RetryAfter: 50 * ms, ResetAfter: 150 * ms}},
			{name: "one fits", at: 250 * ms, n: 1, want: ratelimit.Decision{Allowed: true, Remaining: 0, ResetAfter: 250 * ms}},
			{name: "inspect when empty", at: 250 * ms, n: 0, want: ratelimit.Decision{Remaining: 0, RetryAfter: 50 * ms, ResetAfter: 250 * ms}},
			{name: "more than the burst", at: 250 * ms, n: 4, wantErr: ratelimit.ErrInvalidCost},
			{name: "negative", at: 250 * ms, n: -1, wantErr: ratelimit.ErrInvalidCost},
			{name: "idle long enough: full burst at once", at: 10 * time.Second, n: 3, want: ratelimit.Decision{Allowed: true, Remaining: 0, ResetAfter: 300 * ms}},
		},
	}, {
		name:  "5 logins per 15 minutes",
		limit: ratelimit.Limit{Rate: 5, Per: 15 * time.Minute}, // burst 5, one per 3 minutes
		steps: []step{
			{name: "five at once", at: 0, n: 5, want: ratelimit.Decision{Allowed: true, Remaining: 0, ResetAfter: 15 * time.Minute}},
			{name: "sixth refused", at: time.Minute, n: 1, want: ratelimit.Decision{RetryAfter: 2 * time.Minute, ResetAfter: 14 * time.Minute}},
			{name: "one back after 3 minutes", at: 3 * time.Minute, n: 1, want: ratelimit.Decision{Allowed: true, Remaining: 0, ResetAfter: 15 * time.Minute}},
			{name: "not two", at: 3 * time.Minute, n: 1, want: ratelimit.Decision{RetryAfter: 3 * time.Minute, ResetAfter: 15 * time.Minute}},
		},
	}, {
		name:  "burst 1 spreads evenly",
		limit: ratelimit.Limit{Rate: 2, Per: time.Second, Burst: 1},
		steps: []step{
			{name: "first", at: 0, n: 1, want: ratelimit.Decision{Allowed: true, Remaining: 0, ResetAfter: 500 * ms}},
			{name: "second refused", at: 400 * ms, n: 1, want: ratelimit.Decision{RetryAfter: 100 * ms, ResetAfter: 100 * ms}},
			{name: "second on time", at: 500 * ms, n: 1, want: ratelimit.Decision{Allowed: true, Remaining: 0, ResetAfter: 500 * ms}},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			start := c.Now()
			m := newMemory(t, c)
			for _, s := range tt.steps {
				c.Set(start.Add(s.at))
				got, err := m.Allow(context.Background(), "k", tt.limit, s.n)
				if s.wantErr != nil {
					if !errors.Is(err, s.wantErr) {
						t.Fatalf("%s: err = %v, want %v", s.name, err, s.wantErr)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				if got != s.want {
					t.Fatalf("%s at %v n=%d:\n got %+v\nwant %+v", s.name, s.at, s.n, got, s.want)
				}
			}
		})
	}
}

// TestMemorySteadyRate checks the long-run count: a client asking every
// millisecond for 10 s gets the burst plus one per interval, not one more.
func TestMemorySteadyRate(t *testing.T) {
	tests := []struct {
		name  string
		limit ratelimit.Limit
		want  int
	}{
		{"10/s burst 5", ratelimit.Limit{Rate: 10, Per: time.Second, Burst: 5}, 5 + 99},
		{"100/s burst 1", ratelimit.Limit{Rate: 100, Per: time.Second, Burst: 1}, 1 + 999},
		{"3/s, interval not a whole ms", ratelimit.Limit{Rate: 3, Per: time.Second}, 3 + 29},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			m := newMemory(t, c)
			allowed := 0
			for i := 0; i < 10000; i++ {
				d, err := m.Allow(context.Background(), "k", tt.limit, 1)
				if err != nil {
					t.Fatal(err)
				}
				if d.Allowed {
					allowed++
				}
				c.Advance(time.Millisecond)
			}
			if allowed != tt.want {
				t.Fatalf("allowed %d in 10s, want %d", allowed, tt.want)
			}
		})
	}
}

// TestMemoryConcurrent: many goroutines on one key never get more than the
// burst.
func TestMemoryConcurrent(t *testing.T) {
	m := newMemory(t, newClock()) // the clock never moves: nothing refills
	limit := ratelimit.Limit{Rate: 100, Per: time.Second}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 20 {
				d, err := m.Allow(context.Background(), "shared", limit, 1)
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != 100 {
		t.Fatalf("allowed %d, want exactly the burst, 100", got)
	}
}

func TestMemoryReset(t *testing.T) {
	m := newMemory(t, newClock())
	limit := ratelimit.Limit{Rate: 1, Per: time.Hour}
	ctx := context.Background()
	if d, _ := m.Allow(ctx, "k", limit, 1); !d.Allowed {
		t.Fatal("first request refused")
	}
	if d, _ := m.Allow(ctx, "k", limit, 1); d.Allowed {
		t.Fatal("second request allowed")
	}
	if err := m.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if d, _ := m.Allow(ctx, "k", limit, 1); !d.Allowed {
		t.Fatal("refused after Reset")
	}
	if err := m.Reset(ctx, "unknown"); err != nil {
		t.Fatalf("Reset of an unknown key: %v", err)
	}
}

func TestMemoryInvalidLimit(t *testing.T) {
	m := newMemory(t, nil)
	_, err := m.Allow(context.Background(), "k", ratelimit.Limit{}, 1)
	if !errors.Is(err, ratelimit.ErrInvalidLimit) {
		t.Fatalf("err = %v, want ErrInvalidLimit", err)
	}
}

func TestMemoryCloseIdempotent(t *testing.T) {
	m := ratelimit.NewMemory(ratelimit.MemoryOptions{CleanupInterval: time.Millisecond})
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	// Still usable after Close, without cleanup.
	if d, err := m.Allow(context.Background(), "k", ratelimit.Limit{Rate: 1, Per: time.Second}, 1); err != nil || !d.Allowed {
		t.Fatalf("Allow after Close = %+v, %v", d, err)
	}
}
