package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// Options configures a Limiter. The zero value is ready to use: the name
// "default", 429 for limited requests, 503 (fail closed) when the backend
// fails, logs to slog.Default().
type Options struct {
	// Name tells this limiter's keys apart from other limiters' on the same
	// backend, and names its policy in the RateLimit headers. Default
	// "default". Give each Limiter that shares a backend its own name
	// ("login-ip", "login-user", "api"): limiters with the same name share
	// their counts. It must be printable ASCII without '"' or '\'.
	Name string

	// OnLimited writes the response to a request the middleware refused.
	// Retry-After and the RateLimit headers are already set. Default: 429
	// Too Many Requests with a short plain-text body.
	OnLimited func(w http.ResponseWriter, r *http.Request, d Decision)

	// OnError writes the response when the backend failed (and
	// FailOpenOnError is false). The error has been logged. Default: 503
	// Service Unavailable with a short plain-text body.
	OnError func(w http.ResponseWriter, r *http.Request, err error)

	// FailOpenOnError lets requests through, unlimited, while the backend
	// fails (the error is still logged). Default false: fail closed with
	// OnError. Dangerous: an attacker who can slow down or break the
	// backend then gets unlimited login attempts. Only for limits that
	// protect capacity, never for limits that protect accounts.
	FailOpenOnError bool

	// OmitHeaders leaves the RateLimit and RateLimit-Policy headers out of
	// allowed responses, for limits whose shape should not be advertised.
	// Refused requests always carry Retry-After and RateLimit. Default
	// false.
	OmitHeaders bool

	// Logger receives backend errors (Error, or Warn when failing open) and
	// refused requests (Info, with the hashed key only, never the key).
	// Default slog.Default().
	Logger *slog.Logger
}

// Limiter applies one Limit to keys on a Backend: per client address, per
// session, per user. Allow is the call for code paths such as a login
// handler; Handler and Middleware limit whole routes.
//
// Keys never reach the backend as given: they are hashed (SHA-256,
// truncated to 128 bits) and prefixed with the limiter's name, so a 10 KB
// username costs the same 30-odd bytes as any other, and a Redis dump holds
// no addresses or user names.
//
// A Limiter is safe for concurrent use; create one per policy at startup
// and share it.
type Limiter struct {
	backend Backend
	limit   Limit
	name    string
	opts    Options
	log     *slog.Logger

	policy string // RateLimit-Policy value, built once
}

// New returns a Limiter applying limit on backend. It panics if backend is
// nil, limit is invalid (see Limit.Validate) or opts.Name holds characters a
// header cannot carry: these are mistakes in the program, found at startup.
func New(backend Backend, limit Limit, opts Options) *Limiter {
	if backend == nil {
		panic("ratelimit: New with a nil backend")
	}
	if err := limit.Validate(); err != nil {
		panic(err)
	}
	name := opts.Name
	if name == "" {
		name = "default"
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			panic(fmt.Sprintf("ratelimit: Options.Name %q must be printable ASCII without '\"' or '\\'", name))
		}
	}
	l := &Limiter{backend: backend, limit: limit, name: name, opts: opts, log: opts.Logger}
	if l.log == nil {
		l.log = slog.Default()
	}
	l.policy = policyHeader(name, limit)
	return l
}

// Limit returns the limit the limiter applies.
func (l *Limiter) Limit() Limit { return l.limit }

// Allow takes one request from key's quota. Most callers want this: call it
// before the work to protect (for a login, before checking the password, with
// the user name as key), and refuse when Decision.Allowed is false. An
// error means the backend failed and no decision was made; fail closed.
func (l *Limiter) Allow(ctx context.Context, key string) (Decision, error) {
	return l.AllowN(ctx, key, 1)
}

// AllowN takes n requests from key's quota at once, all or nothing. n == 0
// takes nothing and reports whether one more request would be allowed.
// n must not exceed the burst (ErrInvalidCost).
func (l *Limiter) AllowN(ctx context.Context, key string, n int) (Decision, error) {
	k := l.backendKey(key)
	d, err := l.backend.Allow(ctx, k, l.limit, n)
	if err != nil {
		return d, err
	}
	if !d.Allowed {
		l.log.LogAttrs(ctx, slog.LevelInfo, "ratelimit: limit hit",
			slog.String("limiter", l.name), slog.String("key", k[len(l.name)+1:]),
			slog.Duration("retry_after", d.RetryAfter))
	}
	return d, nil
}

// Reset forgets key, so its next request gets the full burst: for example
// clear a user's failed-login count after a successful login.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	return l.backend.Reset(ctx, l.backendKey(key))
}

// backendKey is name ":" base64url(SHA-256(key)[:16]): bounded whatever the
// key, and collision-resistant, so one client cannot aim at another's count.
func (l *Limiter) backendKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	var enc [22]byte // base64.RawURLEncoding.EncodedLen(16)
	base64.RawURLEncoding.Encode(enc[:], sum[:16])
	var b strings.Builder
	b.Grow(len(l.name) + 1 + len(enc))
	b.WriteString(l.name)
	b.WriteByte(':')
	b.Write(enc[:])
	return b.String()
}
