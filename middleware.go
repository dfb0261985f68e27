package session

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// state is one request's view of its session. It is at once the request's
// context (so a request that never touches the session costs one allocation
// beyond the request copy) and the ResponseWriter handed to the handler (so
// the commit happens before the first byte of the response).
type state struct {
	context.Context // the request's original context
	m               *Manager
	w               http.ResponseWriter
	r               *http.Request

	mu      sync.Mutex
	loaded  bool
	loadErr error   // a store failure while loading: the request fails closed
	token   string  // the client's token, or the one issued by this request
	id      string  // store ID of the session in use; "" when none
	rec     *Record // the record as loaded or last committed; never modified
	vals    []Value // the current values when changed, nil otherwise
	ops     []op    // the changes, replayed on a conflict
	meta    metaOps // metadata changes, replayed on a conflict
	renew   bool    // a new ID is due at commit
	destroy bool    // the session ends at commit
	started bool    // the response started: no more changes
	// owner is who the request's session belonged to when it was loaded
	// or last committed by this request. Its changes never land in a
	// session that has passed to another owner meanwhile (chain.go).
	owner owner
	// forwarded is the renewal tombstone the client's token led to: the
	// session moved on before the client learnt its new token. The request
	// has no session, but a Destroy follows the forward and ends it.
	forwarded *Record
	// expireCookie: the client holds a token that opens no session; the
	// response expires its cookie.
	expireCookie bool
	// keepCookie keeps the session cookie on an error response: a renewal
	// whose outcome is unknown must still hand over the new token.
	keepCookie bool
	failed     error     // the commit failed and the error handler answered
	touched    time.Time // the time of this request, once read
}

type ctxKey struct{}

// Value makes the state findable from the request's context and anything
// derived from it.
func (st *state) Value(key any) any {
	if key == (ctxKey{}) {
		return st
	}
	return st.Context.Value(key)
}

func from(ctx context.Context) (*state, error) {
	if st, ok := ctx.(*state); ok {
		return st, nil
	}
	if st, ok := ctx.Value(ctxKey{}).(*state); ok {
		return st, nil
	}
	return nil, ErrNoMiddleware
}

// Header, WriteHeader and Write make the state the handler's ResponseWriter.
func (st *state) Header() http.Header { return st.w.Header() }

func (st *state) WriteHeader(code int) {
	if st.commitBeforeResponse() != nil {
		return
	}
	st.w.WriteHeader(code)
}

func (st *state) Write(b []byte) (int, error) {
	if err := st.commitBeforeResponse(); err != nil {
		return 0, err
	}
	return st.w.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (st *state) Unwrap() http.ResponseWriter { return st.w }

// Flush commits, then flushes, for handlers that assert http.Flusher.
func (st *state) Flush() {
	if st.commitBeforeResponse() != nil {
		return
	}
	http.NewResponseController(st.w).Flush()
}

// Hijack commits before handing the connection over (WebSocket upgrades):
// a hijacked response sends no cookie, but the session changes still land.
func (st *state) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if err := st.commitBeforeResponse(); err != nil {
		return nil, nil, err
	}
	return http.NewResponseController(st.w).Hijack()
}

// commitBeforeResponse commits once, when the response starts. If the commit
// fails, the error handler answers instead of the handler, whose writes are
// dropped.
func (st *state) commitBeforeResponse() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.started {
		st.started = true
		if err := st.commitLocked(); err != nil && !errors.Is(err, ErrDestroyed) {
			st.failed = err
			h := st.w.Header()
			cookies := h["Set-Cookie"]
			for k := range h {
				delete(h, k)
			}
			if st.keepCookie {
				h["Set-Cookie"] = cookies
				h.Set("Cache-Control", "no-store")
			}
			st.m.cfg.ErrorHandler(st.w, st.r, err)
		}
	}
	return st.failed
}

// finish runs after the handler returned.
func (st *state) finish() {
	st.commitBeforeResponse()
}

// ensureLoaded reads the session on first use. The caller holds st.mu.
func (st *state) ensureLoaded() error {
	if st.loaded {
		return st.loadErr
	}
	st.loaded = true
	token, present := st.readToken()
	if !present {
		return nil
	}
	m := st.m
	id, ok := parseToken(token)
	if !ok {
		st.expireCookie = true
		m.event(st, st.r, EventMalformed, "", "", nil)
		return nil
	}
	rec, err := m.ops.Load(st, id)
	switch {
	case errors.Is(err, ErrExpired):
		st.expireCookie = true
		m.event(st, st.r, EventExpired, id, "", nil)
		return nil
	case errors.Is(err, ErrNotFound):
		st.expireCookie = true
		m.event(st, st.r, EventUnknown, id, "", nil)
		return nil
	case errors.Is(err, ErrCorrupt):
		m.log.Warn("session: discarding a record that cannot be decoded", "session", id, "err", err)
		m.event(st, st.r, EventCorrupt, id, "", err)
		if err := m.ops.Delete(st, id); err != nil {
			m.log.Warn("session: delete of a corrupt record failed", "session", id, "err", err)
		}
		st.expireCookie = true
		return nil
	case err != nil:
		st.loadErr = &StoreError{Op: "load", Err: err}
		m.log.Error("session: load failed", "err", err)
		m.event(st, st.r, EventStoreError, id, "", err)
		return st.loadErr
	}
	now := st.now()
	switch {
	case rec.Tombstone():
		// A renewed or ended ID opens nothing, even within its grace
		// period; a Destroy still follows a forward (see chain.go). The
		// cookie of a renewed one is left alone: this is a request the
		// browser sent before the renewal's response reached it, and
		// expiring the cookie by name would delete the new token that the
		// browser holds by now.
		if rec.RenewedTo != "" {
			st.forwarded = rec
		} else {
			st.expireCookie = true
		}
		m.event(st, st.r, EventStale, id, rec.Subject, nil)
		return nil
	case !live(rec, now):
		st.expireCookie = true
		m.event(st, st.r, EventExpired, id, rec.Subject, nil)
		return nil
	case !st.checkClient(rec):
		st.expireCookie = true
		return nil
	}
	st.token, st.id, st.rec, st.owner = token, id, rec, ownerOf(rec)
	return nil
}

// now reads the clock once per request, so every deadline a request sets
// agrees.
func (st *state) now() time.Time {
	if st.touched.IsZero() {
		st.touched = st.m.now()
	}
	return st.touched
}

// readToken finds the token in the request without allocating.
func (st *state) readToken() (string, bool) {
	if h := st.m.cfg.Header; h != "" {
		v := st.r.Header.Get(h)
		if v == "" {
			return "", false
		}
		if strings.EqualFold(h, "Authorization") {
			const bearer = "Bearer "
			if len(v) < len(bearer) || !strings.EqualFold(v[:len(bearer)], bearer) {
				return "", false
			}
			v = strings.TrimSpace(v[len(bearer):])
		}
		return v, true
	}
	return cookieValue(st.r.Header["Cookie"], st.m.cfg.Cookie.Name)
}

// cookieValue returns the value of the first cookie called name that has the
// shape of a token, else the first one of that name. net/http's r.Cookie
// parses every cookie into new allocations; this only slices the header.
func cookieValue(lines []string, name string) (string, bool) {
	first, found := "", false
	for _, line := range lines {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimSpace(part)
			k, v, ok := strings.Cut(part, "=")
			if !ok || k != name {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if len(v) == tokenLen {
				return v, true
			}
			if !found {
				first, found = v, true
			}
		}
	}
	return first, found
}

// setCookie sends the token, or expires the cookie when token is empty.
func (st *state) setCookie(token string, persistent bool, expires time.Time) {
	if st.m.cfg.Header != "" {
		return
	}
	c := st.m.cfg.Cookie
	ck := &http.Cookie{
		Name:     c.Name,
		Value:    token,
		Path:     c.Path,
		Domain:   c.Domain,
		Secure:   !c.InsecureCookie,
		HttpOnly: true,
		SameSite: c.SameSite,
	}
	switch {
	case token == "":
		ck.MaxAge = -1
	case persistent:
		// A remembered session's cookie lives no longer than the session
		// can: its absolute deadline.
		ck.MaxAge = max(1, int(expires.Sub(st.now()).Seconds()))
	}
	h := st.w.Header()
	h.Add("Set-Cookie", ck.String())
	h.Add("Vary", "Cookie")
	h.Set("Cache-Control", "no-store")
}
