package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sessionkit/session"
)

// The JSON API runs on a second session.Manager over the same store, with
// Config.Header "Authorization": the client logs in once, gets a token and
// sends it back as "Authorization: Bearer <token>". No cookie is involved,
// so the API needs no CSRF protection; its sessions show on the devices
// page like any other.

type apiCredentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type apiError struct {
	Error string `json:"error"`
}

// writeJSON answers with v as JSON. API responses carry the user's data or a
// token: never cache them.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // JSON for programs: "<" stays "<", not \u003c
	enc.Encode(v)
}

// apiFail answers an API request whose session failed, as fail does for
// the pages, in JSON.
func (a *app) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	a.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", redactPath(r), "err", err)
	apiSessionError(w, r, err)
}

// apiNotFound answers a path or method the API does not have.
func apiNotFound(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusNotFound, apiError{"no such endpoint (the API has POST /api/login, GET /api/me, POST /api/cart/add, POST /api/logout)"})
}

// apiSessionError is the API manager's Config.ErrorHandler: the library's
// statuses (503 with Retry-After for a store failure, 409 for a concurrent
// login or logout, 500 otherwise), as JSON.
func apiSessionError(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusInternalServerError
	var se *session.StoreError
	switch {
	case errors.As(err, &se), errors.Is(err, session.ErrTooManyConflicts), errors.Is(err, session.ErrRenewalChain):
		code = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	case errors.Is(err, session.ErrAuthChanged):
		code = http.StatusConflict
	}
	writeJSON(w, code, apiError{http.StatusText(code)})
}

// POST /api/login {"username": ..., "password": ...} → {"token": ...}
func (a *app) apiLogin(w http.ResponseWriter, r *http.Request) {
	var c apiCredentials
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	if err := dec.Decode(&c); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{"want a JSON object with username and password"})
		return
	}
	u, retry, err := a.attempt(r, normalizeName(c.Username), c.Password)
	switch {
	case err != nil:
		a.log.ErrorContext(r.Context(), "api login failed", "err", err)
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, apiError{"service unavailable"})
		return
	case retry > 0:
		retryAfter(w, retry)
		writeJSON(w, http.StatusTooManyRequests, apiError{"too many login attempts"})
		return
	case u == nil:
		writeJSON(w, http.StatusUnauthorized, apiError{"wrong user name or password"})
		return
	case a.accounts.Disabled(u.Name):
		writeJSON(w, http.StatusForbidden, apiError{"this account is disabled"})
		return
	}
	ctx := r.Context()
	if err := session.Login(ctx, u.Name); errors.Is(err, session.ErrLimit) {
		writeJSON(w, http.StatusConflict, apiError{fmt.Sprintf("already signed in on %d devices, the most allowed: sign out on one first", a.maxSessions)})
		return
	} else if err != nil {
		a.apiFail(w, r, err)
		return
	}
	token, err := session.Token(ctx) // commits the session
	if err != nil {
		a.apiFail(w, r, err)
		return
	}
	info, err := session.Info(ctx)
	if err != nil {
		a.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Token     string    `json:"token"`
		TokenType string    `json:"token_type"`
		ExpiresAt time.Time `json:"expires_at"`
	}{token, "Bearer", expiry(info)})
}

type apiMe struct {
	User    string     `json:"user"`
	Role    string     `json:"role"`
	Cart    cart       `json:"cart"`
	Session apiSession `json:"session"`
}

type apiSession struct {
	ID        string    `json:"id"` // the store ID, not the token
	Created   time.Time `json:"created"`
	AuthTime  time.Time `json:"auth_time"`
	ExpiresAt time.Time `json:"expires_at"`
}

// GET /api/me (Authorization: Bearer <token>)
func (a *app) apiMe(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	info, err := session.Info(ctx)
	if err != nil {
		a.apiFail(w, r, err)
		return
	}
	u := lookupUser(info.Subject)
	if u == nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sessiondemo"`)
		writeJSON(w, http.StatusUnauthorized, apiError{"log in at POST /api/login and send Authorization: Bearer <token>"})
		return
	}
	c, err := session.Get[cart](ctx, keyCart)
	if err != nil {
		a.apiFail(w, r, err)
		return
	}
	if c == nil {
		c = cart{}
	}
	writeJSON(w, http.StatusOK, apiMe{
		User: u.Name, Role: u.Role, Cart: c,
		Session: apiSession{ID: info.ID, Created: info.Created, AuthTime: info.AuthTime, ExpiresAt: expiry(info)},
	})
}

// POST /api/cart/add {"product": "tea"} (Authorization: Bearer <token>) →
// 200 {"cart": [...]}; 409 {"error": ...} when the cart bounds refuse it,
// and the cart is unchanged.
func (a *app) apiCartAdd(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if lookupUser(session.Subject(ctx)) == nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sessiondemo"`)
		writeJSON(w, http.StatusUnauthorized, apiError{"log in at POST /api/login and send Authorization: Bearer <token>"})
		return
	}
	var req struct {
		Product string `json:"product"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{`want a JSON object {"product": "<id>"}`})
		return
	}
	p, ok := findProduct(req.Product)
	if !ok {
		writeJSON(w, http.StatusBadRequest, apiError{errUnknownProduct.Error()})
		return
	}
	c, err := session.Update(ctx, keyCart, func(c cart) (cart, error) { return c.add(p.ID) })
	switch {
	case errors.Is(err, errLineFull) || errors.Is(err, errCartFull):
		writeJSON(w, http.StatusConflict, apiError{"not added: " + err.Error()})
		return
	case err != nil:
		a.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Cart cart `json:"cart"`
	}{c})
}

// POST /api/logout: the token stops working.
func (a *app) apiLogout(w http.ResponseWriter, r *http.Request) {
	if err := session.Destroy(r.Context()); err != nil {
		a.apiFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// expiry is when a session ends if unused: the earlier of its deadlines.
func expiry(m session.Metadata) time.Time {
	if m.AbsoluteDeadline.Before(m.IdleDeadline) {
		return m.AbsoluteDeadline
	}
	return m.IdleDeadline
}
