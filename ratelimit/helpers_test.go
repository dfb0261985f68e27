package ratelimit_test

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/sessionkit/session/ratelimit"
)

// clock is an injectable clock: tests move it instead of sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeBackend is a Backend made of function fields.
type fakeBackend struct {
	allow func(ctx context.Context, key string, limit ratelimit.Limit, n int) (ratelimit.Decision, error)
	reset func(ctx context.Context, key string) error
}

func (f fakeBackend) Allow(ctx context.Context, key string, limit ratelimit.Limit, n int) (ratelimit.Decision, error) {
	return f.allow(ctx, key, limit, n)
}

func (f fakeBackend) Reset(ctx context.Context, key string) error { return f.reset(ctx, key) }

// discardLogger keeps expected backend errors out of the test output.
var discardLogger = slog.New(slog.DiscardHandler)
