package ratelimit

import (
	"context"
	"net/http"
)

// Counter counts abuse signals per key, typically per client address:
// malformed or unknown session IDs, failed CSRF checks, failed logins. Add
// records one event and reports whether the key went over limit; Handler
// refuses requests from keys that are over it without counting them, so
// a client guessing session IDs is cut off however it spreads its guesses.
//
//	bad := ratelimit.NewCounter(backend, ratelimit.Limit{Rate: 20, Per: time.Minute}, ratelimit.Options{Name: "bad-session-id"})
//	// in the session manager's malformed-token hook:
//	key, _ := ratelimit.ByAddress(r)
//	bad.Add(r.Context(), key)
//	// in front of everything:
//	handler = bad.Handler(ratelimit.ByAddress, handler)
//
// Events past the limit are not counted: a key is over the limit until
// quota comes back at limit's rate. A Counter is safe for concurrent use.
type Counter struct {
	l *Limiter
}

// NewCounter returns a Counter of events under limit, stored on backend.
// Options are those of New; give the counter its own Name when the backend
// is shared. It panics where New panics.
func NewCounter(backend Backend, limit Limit, opts Options) *Counter {
	return &Counter{l: New(backend, limit, opts)}
}

// Add records one event for key and reports whether key is over the limit:
// true when this event did not fit (and was not counted). An error means
// the backend failed; the event was not counted.
func (c *Counter) Add(ctx context.Context, key string) (over bool, err error) {
	d, err := c.l.Allow(ctx, key)
	if err != nil {
		return false, err
	}
	return !d.Allowed, nil
}

// Over reports whether key is over the limit, that is whether one more event
// would not fit, without recording anything.
func (c *Counter) Over(ctx context.Context, key string) (bool, error) {
	d, err := c.l.AllowN(ctx, key, 0)
	if err != nil {
		return false, err
	}
	return !d.Allowed, nil
}

// Reset forgets key's events.
func (c *Counter) Reset(ctx context.Context, key string) error {
	return c.l.Reset(ctx, key)
}

// Handler returns next wrapped so that requests whose key is over the limit
// are refused, as Limiter.Handler refuses them (429 with Retry-After and the
// RateLimit headers by default; a backend error fails closed with 503
// unless Options.FailOpenOnError). Requests are not counted: only Add
// counts. Allowed requests carry no RateLimit headers.
func (c *Counter) Handler(key KeyFunc, next http.Handler) http.Handler {
	if key == nil || next == nil {
		panic("ratelimit: Handler with a nil key function or handler")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.l.serve(w, r, key, next, 0)
	})
}
