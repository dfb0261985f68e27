package dbsc

import (
	"net/http"
	"strings"
)

// Routes choose how much they care about the device binding:
//
//   - Require(h): h serves only bound requests (a session bound for its
//     current login and a valid bound cookie); others get Config.Refused.
//   - Prefer(h): h serves every request, and unbound ones are reported as
//     EventUnbound, to measure before requiring.
//   - Ignore: leave h unwrapped; it pays nothing.
//
// Both middlewares report Secure-Session-Skipped (the browser saying it did
// not refresh, and why) as EventSkipped, and must run inside the session
// manager's middleware.

// Require returns middleware that serves only bound requests. A request
// whose bound cookie is present but past its deadline (the browser's clock
// ran behind the server's) is redirected with 307 to itself with the
// cookie expired, which makes the browser refresh before it follows (spec
// section "Server considerations"); every other unbound request is refused.
func (b *Binder) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.reportSkipped(r)
		bd, reason, err := b.Status(r)
		switch {
		case reason == "":
			next.ServeHTTP(w, r)
			return
		case err != nil:
			b.emit(r.Context(), Event{Kind: EventRefused, Reason: reason, Request: r, Err: err})
			w.Header().Set("Retry-After", "1")
			http.Error(w, "session store unavailable", http.StatusServiceUnavailable)
			return
		}
		b.emit(r.Context(), Event{Kind: EventRefused, Reason: reason, Thumbprint: bd.Thumbprint, Request: r})
		if reason == ReasonCookieExpired {
			b.expireBoundCookie(w)
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, sameOrigin(r.URL.RequestURI()), http.StatusTemporaryRedirect)
			return
		}
		b.cfg.Refused.ServeHTTP(w, r)
	})
}

// Prefer returns middleware that serves every request and reports those
// that are not bound as EventUnbound.
func (b *Binder) Prefer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.reportSkipped(r)
		if b.cfg.OnEvent != nil {
			bd, reason, err := b.Status(r)
			if reason != "" {
				b.emit(r.Context(), Event{Kind: EventUnbound, Reason: reason, Thumbprint: bd.Thumbprint, Request: r, Err: err})
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (b *Binder) reportSkipped(r *http.Request) {
	if b.cfg.OnEvent == nil {
		return
	}
	for _, reason := range skippedReasons(r.Header) {
		b.emit(r.Context(), Event{Kind: EventSkipped, Reason: reason, Request: r})
	}
}

// sameOrigin makes a request URI safe to send back as a Location: one that
// starts with "//" or "/\" would be read by browsers as another host.
func sameOrigin(uri string) string {
	if strings.HasPrefix(uri, "//") || strings.HasPrefix(uri, "/\\") {
		return "/" + strings.TrimLeft(uri, "/\\")
	}
	return uri
}
