package ratelimit

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// Handler returns next wrapped so that each request first takes one unit
// from the quota of the key that key returns. A refused request gets
// Options.OnLimited (429 Too Many Requests by default) with Retry-After in
// whole seconds, rounded up, and the RateLimit headers
// (draft-ietf-httpapi-ratelimit-headers):
//
//	RateLimit-Policy: "<name>";q=<Rate>;w=<Per in seconds, rounded up>
//	RateLimit: "<name>";r=<remaining>;t=<seconds until the full burst is back, rounded up>
//
// Allowed requests carry the same two headers unless Options.OmitHeaders is
// set. A request for which key reports false is passed through unlimited
// and without headers. When the backend fails the request gets
// Options.OnError (503 by default), or passes through if
// Options.FailOpenOnError is set.
//
// Most callers want l.Handler(ratelimit.ByAddress, mux), or, behind a
// reverse proxy, a TrustedProxies' ByAddress.
func (l *Limiter) Handler(key KeyFunc, next http.Handler) http.Handler {
	if key == nil || next == nil {
		panic("ratelimit: Handler with a nil key function or handler")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.serve(w, r, key, next, 1)
	})
}

// Middleware is Handler in the shape routers such as chi take:
// r.Use(l.Middleware(ratelimit.ByAddress)).
func (l *Limiter) Middleware(key KeyFunc) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler { return l.Handler(key, next) }
}

// serve limits one request; n is 1, or 0 to refuse only keys already over
// the limit without counting the request (Counter.Handler).
func (l *Limiter) serve(w http.ResponseWriter, r *http.Request, key KeyFunc, next http.Handler, n int) {
	k, ok := key(r)
	if !ok {
		next.ServeHTTP(w, r)
		return
	}
	d, err := l.AllowN(r.Context(), k, n)
	if err != nil {
		if r.Context().Err() != nil && errors.Is(err, r.Context().Err()) {
			return // the client went away: nobody to answer, nothing to log
		}
		if l.opts.FailOpenOnError {
			l.log.LogAttrs(r.Context(), slog.LevelWarn, "ratelimit: backend failed; request let through (FailOpenOnError)",
				slog.String("limiter", l.name), slog.Any("error", err))
			next.ServeHTTP(w, r)
			return
		}
		l.log.LogAttrs(r.Context(), slog.LevelError, "ratelimit: backend failed; request refused",
			slog.String("limiter", l.name), slog.Any("error", err))
		if l.opts.OnError != nil {
			l.opts.OnError(w, r, err)
		} else {
			http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		}
		return
	}
	h := w.Header()
	if !d.Allowed {
		h["Retry-After"] = []string{strconv.FormatInt(max(ceilSeconds(d.RetryAfter), 1), 10)}
		l.setHeaders(h, d)
		if l.opts.OnLimited != nil {
			l.opts.OnLimited(w, r, d)
		} else {
			http.Error(w, "Too Many Requests", http.StatusTooManyRequests)
		}
		return
	}
	if n > 0 && !l.opts.OmitHeaders {
		l.setHeaders(h, d)
	}
	next.ServeHTTP(w, r)
}

// setHeaders sets RateLimit-Policy and RateLimit. The keys are in canonical
// form already, so the map is written directly.
func (l *Limiter) setHeaders(h http.Header, d Decision) {
	h["Ratelimit-Policy"] = []string{l.policy}
	var a [64]byte
	b := append(a[:0], '"')
	b = append(b, l.name...)
	b = append(b, `";r=`...)
	b = strconv.AppendInt(b, int64(d.Remaining), 10)
	b = append(b, ";t="...)
	b = strconv.AppendInt(b, ceilSeconds(d.ResetAfter), 10)
	h["Ratelimit"] = []string{string(b)}
}

// policyHeader is the RateLimit-Policy value for limit.
func policyHeader(name string, limit Limit) string {
	return `"` + name + `";q=` + strconv.Itoa(limit.Rate) + ";w=" + strconv.FormatInt(max(ceilSeconds(limit.Per), 1), 10)
}

// ceilSeconds rounds d up to whole seconds.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return s
}
