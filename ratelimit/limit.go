package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Errors returned by backends and limiters; check them with errors.Is.
var (
	// ErrInvalidLimit: a Limit has Rate <= 0, Per <= 0, a negative Burst,
	// or values out of range (more than one request per nanosecond, or a
	// burst window that overflows a time.Duration).
	ErrInvalidLimit = errors.New("ratelimit: invalid limit")
	// ErrInvalidCost: n is negative or greater than the limit's burst, so
	// it could never be allowed.
	ErrInvalidCost = errors.New("ratelimit: n must be between 0 and the burst")
)

// Limit is a rate: Rate requests per Per, with bursts of up to Burst
// requests at once. A client that has been idle long enough may make Burst
// requests at once; after that, one more each Per/Rate.
//
// Rate and Per must be positive; the zero Limit is invalid. A zero Burst
// means Rate: Limit{Rate: 5, Per: 15 * time.Minute} allows 5 attempts at
// once, then one every 3 minutes, which is what most callers want for
// login attempts. Set Burst to 1 to spread requests evenly (no bursts), or
// above Rate to forgive longer idle-then-busy patterns.
//
// A Limit is a plain value, safe to copy and to share.
type Limit struct {
	Rate  int           // requests per Per; must be > 0
	Per   time.Duration // the period Rate is counted over; must be > 0
	Burst int           // requests allowed at once; 0 means Rate
}

// Validate reports whether l is usable, wrapping ErrInvalidLimit if not.
func (l Limit) Validate() error {
	_, _, err := l.params()
	return err
}

// burst returns Burst with the zero value resolved.
func (l Limit) burst() int {
	if l.Burst == 0 {
		return l.Rate
	}
	return l.Burst
}

// params returns the GCRA parameters: the emission interval T and the
// tolerance tau = Burst*T (how far ahead of now the theoretical arrival time
// may run).
func (l Limit) params() (interval, tau time.Duration, err error) {
	switch {
	case l.Rate <= 0:
		return 0, 0, fmt.Errorf("%w: Rate %d must be > 0", ErrInvalidLimit, l.Rate)
	case l.Per <= 0:
		return 0, 0, fmt.Errorf("%w: Per %v must be > 0", ErrInvalidLimit, l.Per)
	case l.Burst < 0:
		return 0, 0, fmt.Errorf("%w: Burst %d must be >= 0", ErrInvalidLimit, l.Burst)
	}
	interval = l.Per / time.Duration(l.Rate)
	if interval <= 0 {
		return 0, 0, fmt.Errorf("%w: %d per %v is more than one per nanosecond", ErrInvalidLimit, l.Rate, l.Per)
	}
	b := int64(l.burst())
	// Keep tau well inside int64 so that now+tau+interval cannot overflow.
	if b > math.MaxInt64/4/int64(interval) {
		return 0, 0, fmt.Errorf("%w: Burst %d times %v overflows", ErrInvalidLimit, b, interval)
	}
	return interval, time.Duration(b) * interval, nil
}

// String formats l as "10/1m0s burst 10".
func (l Limit) String() string {
	return fmt.Sprintf("%d/%v burst %d", l.Rate, l.Per, l.burst())
}

// Decision is the outcome of one call to Allow.
type Decision struct {
	// Allowed reports whether the request may proceed. When it is false,
	// nothing was consumed.
	Allowed bool
	// Remaining is how many more requests would be allowed right now,
	// after this one.
	Remaining int
	// RetryAfter is how long to wait before the same request would be
	// allowed; zero when Allowed.
	RetryAfter time.Duration
	// ResetAfter is how long until the full burst is available again (the
	// key's state is then the same as a fresh key's, and backends drop it).
	ResetAfter time.Duration
}

// Backend stores the state of rate-limited keys: one timestamp per key
// (GCRA's theoretical arrival time). Implementations must be safe for
// concurrent use and must decide atomically: two callers never both take
// the last unit of quota. Memory, in this package, and redislimit.Backend,
// in the subpackage ratelimit/redislimit (so an app that limits in memory
// compiles no Redis client), are the implementations; most callers use a
// backend through a Limiter, which bounds and hashes keys first.
type Backend interface {
	// Allow takes n units of quota from key under limit and reports the
	// decision. A denied request consumes nothing. n == 0 consumes nothing
	// and reports whether one more request would be allowed now (Allowed),
	// and how many (Remaining). n < 0 or n > the burst returns
	// ErrInvalidCost; an invalid limit returns ErrInvalidLimit. Any other
	// error means the backend failed and no decision was made.
	Allow(ctx context.Context, key string, limit Limit, n int) (Decision, error)
	// Reset forgets key, so its next request starts with a full burst.
	// Resetting an unknown key is not an error.
	Reset(ctx context.Context, key string) error
}

// gcra is the generic cell rate algorithm, the one every backend runs
// (redislimit runs it ported to Lua, on microseconds). tat is the key's
// theoretical arrival time, now the current time, both on the same
// nanosecond scale; a missing key has tat <= now. It returns the decision,
// and the new tat to store when store is true.
//
// A key whose tat is at or before now is idle and has the full burst. Each
// unit of quota moves tat one interval into the future; a request is
// allowed when it leaves tat no further than tau = burst*interval ahead of
// now.
func gcra(now, tat int64, interval, tau int64, n int) (d Decision, newTAT int64, store bool) {
	if tat < now {
		tat = now
	}
	cost := int64(n)
	if cost == 0 {
		cost = 1 // n == 0 inspects: would one more be allowed?
	}
	next := tat + cost*interval
	if next-now > tau {
		return Decision{
			Remaining:  remaining(tau-(tat-now), interval),
			RetryAfter: time.Duration(next - now - tau),
			ResetAfter: time.Duration(tat - now),
		}, 0, false
	}
	if n == 0 {
		return Decision{
			Allowed:    true,
			Remaining:  remaining(tau-(tat-now), interval),
			ResetAfter: time.Duration(tat - now),
		}, 0, false
	}
	return Decision{
		Allowed:    true,
		Remaining:  remaining(tau-(next-now), interval),
		ResetAfter: time.Duration(next - now),
	}, next, true
}

// remaining converts the slack left under tau into whole requests.
func remaining(slack, interval int64) int {
	if slack <= 0 {
		return 0
	}
	return int(slack / interval)
}

// checkCost validates n against the limit's burst.
// CheckCost reports whether a request for n units can ever be allowed
// under l. For Backend implementations.
func (l Limit) CheckCost(n int) error { return checkCost(l, n) }

// GCRA returns the parameters of the generic cell rate algorithm for l: the
// emission interval (Per/Rate) and the tolerance (Burst intervals), or
// ErrInvalidLimit. For Backend implementations.
func (l Limit) GCRA() (interval, tau time.Duration, err error) { return l.params() }

// BurstSize returns the burst in effect (Rate when Burst is 0).
func (l Limit) BurstSize() int { return l.burst() }

func checkCost(limit Limit, n int) error {
	if n < 0 || n > limit.burst() {
		return fmt.Errorf("%w: n=%d, burst %d", ErrInvalidCost, n, limit.burst())
	}
	return nil
}
