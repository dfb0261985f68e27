// Package redislimit is a ratelimit.Backend in Redis, shared by every app
// instance: each decision is one atomic script on one key. It lives apart from
// package ratelimit so that apps limiting in memory do not compile go-redis.
package redislimit

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/session/ratelimit"
)

// Options configures a Redis backend. The zero value is ready to use.
type Options struct {
	// Prefix starts every key the backend writes. Default "ratelimit:".
	Prefix string
}

// Backend is a ratelimit.Backend in Redis (or Valkey), shared by every app instance
// that uses the same server: the backend to use when more than one
// instance serves the same clients. It works with a single node, Sentinel
// and Cluster (each decision touches one key, so one slot).
//
// Each decision is one EVALSHA of a Lua script, which Redis runs
// atomically: reading the key, deciding and writing happen with no other
// command in between, so concurrent instances never both take the last
// unit of quota. The script reads the time from the Redis server (TIME),
// not from the app, so instances with skewed clocks still agree. Each key
// is one integer (the GCRA theoretical arrival time, in microseconds) whose
// TTL is set to the moment it would be back to a full burst, so idle keys
// vanish on their own. Times are kept in microseconds: a Limit faster than
// one request per microsecond is refused with ratelimit.ErrInvalidLimit, and
// Per/Rate is rounded down to a whole microsecond.
//
// A Backend is safe for concurrent use. It needs Redis 3.2 or later.
type Backend struct {
	client redis.UniversalClient
	prefix string
}

var _ ratelimit.Backend = (*Backend)(nil)

// New returns a Redis backend using client, which remains the
// caller's to close.
func New(client redis.UniversalClient, opts Options) *Backend {
	if client == nil {
		panic("ratelimit: New with a nil client")
	}
	prefix := opts.Prefix
	if prefix == "" {
		prefix = "ratelimit:"
	}
	return &Backend{client: client, prefix: prefix}
}

// gcraScript is gcra (limit.go) in Lua, on microseconds.
//
// KEYS[1]: the key. ARGV[1]: the emission interval, ARGV[2]: tau (burst
// times interval), both in microseconds; ARGV[3]: n.
// Returns {allowed (0|1), remaining, retry after us, reset after us}.
//
// TIME is non-deterministic; replicate_commands makes Redis 3.2 to 4
// replicate the script's effects (the SET) rather than the script, which is
// the only mode from Redis 5 on. Numbers are written with %d: tostring
// would round a microsecond timestamp to 14 digits.
var gcraScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local interval = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local cost = n
if cost == 0 then cost = 1 end
local nxt = tat + cost * interval
if nxt - now > tau then
	return {0, math.floor(math.max(tau - (tat - now), 0) / interval), nxt - now - tau, tat - now}
end
if n == 0 then
	return {1, math.floor(math.max(tau - (tat - now), 0) / interval), 0, tat - now}
end
redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX', string.format('%d', math.ceil((nxt - now) / 1000)))
return {1, math.floor((tau - (nxt - now)) / interval), 0, nxt - now}
`)

// maxLuaMicros keeps timestamps and tau exact in Lua's doubles (2^53):
// now is about 2^51 microseconds in this century.
const maxLuaMicros = 1 << 51

// Allow implements Backend with one EVALSHA (EVAL if the server lost the
// script). Errors from Redis are wrapped: "ratelimit: redis: ...".
func (r *Backend) Allow(ctx context.Context, key string, limit ratelimit.Limit, n int) (ratelimit.Decision, error) {
	interval, _, err := limit.GCRA()
	if err != nil {
		return ratelimit.Decision{}, err
	}
	if err := limit.CheckCost(n); err != nil {
		return ratelimit.Decision{}, err
	}
	us := int64(interval / time.Microsecond)
	if us <= 0 {
		return ratelimit.Decision{}, fmt.Errorf("%w: %v for the Redis backend, which counts microseconds", ratelimit.ErrInvalidLimit, limit)
	}
	burst := int64(limit.BurstSize())
	if burst > maxLuaMicros/us {
		return ratelimit.Decision{}, fmt.Errorf("%w: %v spans too long a burst for the Redis backend", ratelimit.ErrInvalidLimit, limit)
	}
	res, err := gcraScript.Run(ctx, r.client, []string{r.prefix + key}, us, burst*us, n).Int64Slice()
	if err != nil {
		return ratelimit.Decision{}, fmt.Errorf("redislimit: %w", err)
	}
	if len(res) != 4 {
		return ratelimit.Decision{}, fmt.Errorf("ratelimit: redis: script returned %d values, want 4", len(res))
	}
	return ratelimit.Decision{
		Allowed:    res[0] == 1,
		Remaining:  int(res[1]),
		RetryAfter: time.Duration(res[2]) * time.Microsecond,
		ResetAfter: time.Duration(res[3]) * time.Microsecond,
	}, nil
}

// Reset implements Backend with one DEL.
func (r *Backend) Reset(ctx context.Context, key string) error {
	if err := r.client.Del(ctx, r.prefix+key).Err(); err != nil {
		return fmt.Errorf("redislimit: %w", err)
	}
	return nil
}
