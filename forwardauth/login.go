package forwardauth

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/csrf"
)

type loginView struct {
	CSRF     template.HTML
	RD       string // the validated return target, or ""
	Username string
	Error    string
	SignedIn *User
}

// serveLogin serves the sign-in page (GET) and signs in (POST). The POST
// has passed the CSRF check. Attempts are limited per client address and
// per user name before the password is checked; a success renews the
// session ID (session.Login) and sends the visitor to rd when it is an
// allowed target, else back to the sign-in page, which then says who is
// signed in.
func (h *Handler) serveLogin(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		v := loginView{}
		v.RD, _ = h.redirects.target(r.URL.Query().Get("rd"))
		if u, ok := h.currentUser(r); ok {
			v.SignedIn = u
		}
		h.render(w, r, http.StatusOK, v)
	case http.MethodPost:
		h.login(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := r.PostFormValue("username")
	v := loginView{Username: name}
	v.RD, _ = h.redirects.target(r.PostFormValue("rd"))
	if !validName(name) {
		v.Username, v.Error = "", "Wrong user name or password."
		h.render(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	addr, _ := h.trusted.ByAddress(r)
	for _, l := range []struct {
		allow func(context.Context, string) (time.Duration, error)
		key   string
	}{{h.allowAddress, addr}, {h.allowUser, name}} {
		retry, err := l.allow(ctx, l.key)
		if err != nil {
			h.log.ErrorContext(ctx, "forwardauth: login rate limiter failed", "err", err)
			http.Error(w, "sign-in unavailable, try again later", http.StatusServiceUnavailable)
			return
		}
		if retry > 0 {
			secs := int((retry + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			v.Error = "Too many attempts. Try again in " + strconv.Itoa(secs) + " seconds."
			h.log.InfoContext(ctx, "forwardauth: login rate limited", "client", addr)
			h.render(w, r, http.StatusTooManyRequests, v)
			return
		}
	}
	u, ok := h.users.Authenticate(name, r.PostFormValue("password"))
	if !ok {
		h.log.InfoContext(ctx, "forwardauth: login failed", "client", addr)
		v.Error = "Wrong user name or password."
		h.render(w, r, http.StatusUnauthorized, v)
		return
	}
	if err := h.byUser.Reset(ctx, name); err != nil {
		h.log.WarnContext(ctx, "forwardauth: rate limit reset failed", "err", err)
	}
	if prev := session.Subject(ctx); prev != "" && prev != u.Name {
		if err := session.Clear(ctx); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if err := session.Login(ctx, u.Name); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.InfoContext(ctx, "forwardauth: signed in", "user", u.Name, "client", addr)
	to := v.RD
	if to == "" {
		to = h.loginURL
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (h *Handler) allowAddress(ctx context.Context, key string) (time.Duration, error) {
	d, err := h.byAddress.Allow(ctx, key)
	if err != nil || d.Allowed {
		return 0, err
	}
	return max(d.RetryAfter, time.Second), nil
}

func (h *Handler) allowUser(ctx context.Context, key string) (time.Duration, error) {
	d, err := h.byUser.Allow(ctx, key)
	if err != nil || d.Allowed {
		return 0, err
	}
	return max(d.RetryAfter, time.Second), nil
}

// serveLogout signs out (POST only, after the CSRF check): the session is
// deleted from the store and its cookie expired, then the visitor goes to
// rd when it is an allowed target, else to the sign-in page.
func (h *Handler) serveLogout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "sign out with POST", http.StatusMethodNotAllowed)
		return
	}
	user := session.Subject(r.Context())
	if err := session.Logout(r.Context()); err != nil {
		h.fail(w, r, err)
		return
	}
	if user != "" {
		h.log.InfoContext(r.Context(), "forwardauth: signed out", "user", user)
	}
	to, ok := h.redirects.target(r.PostFormValue("rd"))
	if !ok {
		to = h.loginURL
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (h *Handler) currentUser(r *http.Request) (*User, bool) {
	name := session.Subject(r.Context())
	if name == "" {
		return nil, false
	}
	return h.users.Lookup(name)
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, code int, v loginView) {
	field, err := csrf.TemplateField(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v.CSRF = field
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(code)
	if err := page.ExecuteTemplate(w, "login", v); err != nil {
		h.log.ErrorContext(r.Context(), "forwardauth: rendering the sign-in page", "err", err)
	}
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.log.ErrorContext(r.Context(), "forwardauth: sign-in failed", "err", err)
	code := http.StatusInternalServerError
	if errors.Is(err, session.ErrLimit) {
		code = http.StatusConflict
	}
	http.Error(w, http.StatusText(code), code)
}

func queryEscape(s string) string { return url.QueryEscape(s) }

const pageTemplates = `
{{define "head"}}<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="referrer" content="no-referrer"><title>{{.}}</title>
<style>body{font:16px system-ui,sans-serif;max-width:22rem;margin:4rem auto;padding:0 1rem}label,input,button{display:block;width:100%;margin:.3rem 0}input,button{padding:.5rem;box-sizing:border-box}.error{color:#a00}</style>
</head><body>{{end}}

{{define "login"}}{{template "head" "Sign in"}}
{{if .SignedIn}}<h1>Signed in</h1>
<p>You are signed in as <strong id="user">{{.SignedIn.Name}}</strong>.</p>
{{if .RD}}<p><a href="{{.RD}}">Continue</a></p>{{end}}
<form method="post" action="logout">{{.CSRF}}{{if .RD}}<input type="hidden" name="rd" value="{{.RD}}">{{end}}<button type="submit">Sign out</button></form>
{{else}}<h1>Sign in</h1>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="">{{.CSRF}}{{if .RD}}<input type="hidden" name="rd" value="{{.RD}}">{{end}}
<label>User name <input name="username" value="{{.Username}}" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form>
{{end}}</body></html>{{end}}

{{define "redirect"}}{{template "head" "Sign-in required"}}<p><a href="{{.}}">Sign in</a> to continue.</p></body></html>{{end}}

{{define "forbidden"}}{{template "head" "Forbidden"}}<h1>Forbidden</h1><p>You may not see this page.</p></body></html>{{end}}
`
