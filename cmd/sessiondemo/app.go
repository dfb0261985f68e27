package main

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/csrf"
	"github.com/sessionkit/session/sessionprom"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// app holds what the handlers share. Its fields are set once by newApp; it
// is safe for concurrent use.
type app struct {
	log      *slog.Logger
	store    session.Store
	web      *session.Manager // cookie sessions, for the browser pages
	api      *session.Manager // the same store, token in Authorization: Bearer
	csrf     *csrf.Protection
	limits   loginLimits
	guessing *guessWatch  // unknown or malformed session IDs per client address
	activity *activityLog // recent security events, for the activity page
	accounts accounts     // the disabled accounts
	metrics  *sessionprom.Metrics
	reg      *prometheus.Registry
	pages    map[string]*template.Template

	// recentAuth is how recent a login must be for "sign out all other
	// devices".
	recentAuth time.Duration
	// clientChange is the -client-change policy, as the flag spells it.
	clientChange string
	// maxSessions is the cap on a user's live sessions, 0 for none.
	maxSessions int
	// clients finds the client's address behind the trusted proxies.
	clients clientAddrs
}

// Session keys. Each holds one JSON value.
const (
	keyCart     = "cart"     // cart
	keyPrefs    = "prefs"    // prefs
	keyCheckout = "checkout" // checkoutState
	keyFlash    = "flash"    // flash, shown once (session.Pop)
	keyOrder    = "order"    // order, the confirmation of the last order (session.Pop)
	// keyEvicted (sessioncap.go) holds the sessions a login ended to make room.
)

// routes returns the whole application. Browser pages run inside the cookie
// session middleware and the CSRF protection; the JSON API runs inside the
// header session middleware, without CSRF protection, since a browser never
// sends an Authorization header on its own; health and metrics need no
// session at all.
func (a *app) routes() http.Handler {
	web := http.NewServeMux()
	web.HandleFunc("GET /{$}", a.catalogPage)
	web.HandleFunc("GET /cart", a.cartPage)
	web.HandleFunc("POST /cart/add", a.cartAdd)
	web.HandleFunc("POST /cart/remove", a.cartRemove)
	web.HandleFunc("GET /login", a.loginPage)
	web.HandleFunc("POST /login", a.login)
	web.HandleFunc("POST /logout", a.logout)
	web.HandleFunc("GET /preferences", a.prefsPage)
	web.HandleFunc("POST /preferences", a.savePrefs)
	for step := 1; step <= 3; step++ {
		web.HandleFunc("GET /checkout/"+strconv.Itoa(step), a.checkoutStepPage(step))
		web.HandleFunc("POST /checkout/"+strconv.Itoa(step), a.checkoutStepSave(step))
	}
	web.HandleFunc("GET /checkout/review", a.reviewPage)
	web.HandleFunc("POST /checkout/confirm", a.confirmOrder)
	web.HandleFunc("GET /checkout/done", a.orderPage)
	web.HandleFunc("GET /account/sessions", a.devicesPage)
	web.HandleFunc("POST /account/sessions/revoke", a.revokeDevice)
	reauth := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.flashError(r, "login.reauth")
		a.toLogin(w, r, "/account/sessions")
	})
	web.Handle("POST /account/sessions/revoke-others",
		session.RequireRecentAuth(a.recentAuth, reauth)(http.HandlerFunc(a.revokeOtherDevices)))
	web.HandleFunc("GET /admin/sessions", a.adminPage)
	web.HandleFunc("POST /admin/sessions/revoke", a.adminRevoke)
	web.HandleFunc("GET /admin/activity", a.activityPage)
	web.HandleFunc("POST /admin/users/disable", a.adminDisable)
	web.HandleFunc("POST /admin/users/enable", a.adminEnable)

	api := http.NewServeMux()
	api.HandleFunc("POST /api/login", a.apiLogin)
	api.HandleFunc("GET /api/me", a.apiMe)
	api.HandleFunc("POST /api/cart/add", a.apiCartAdd)
	api.HandleFunc("POST /api/logout", a.apiLogout)
	api.HandleFunc("/api/", apiNotFound)

	static, _ := fs.Sub(staticFS, "static")
	root := http.NewServeMux()
	root.Handle("/", a.web.Handler(limitBody(a.refuseDisabled(a.csrf.Handler(a.styledMisses(web))))))
	root.Handle("/api/", a.api.Handler(a.refuseDisabledAPI(api)))
	root.HandleFunc("GET /healthz", a.healthz)
	root.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelError)}))
	root.Handle("GET /static/", cacheFor(time.Hour, http.StripPrefix("/static/", http.FileServerFS(static))))
	return a.clients.realClient(a.accessLog(securityHeaders(withRequest(root))))
}

// parseTemplates parses each page together with the layout.
func parseTemplates() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := make(map[string]*template.Template)
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.ParseFS(templateFS, "templates/layout.html", name)
		if err != nil {
			return nil, err
		}
		pages[base] = t
	}
	return pages, nil
}

// page is what every template receives: the chrome (language, theme, user,
// cart size, flash message) and the page's own Data.
type page struct {
	r         *http.Request
	Title     string // message key
	Lang      string
	Theme     string
	Languages []language
	User      *user
	CartCount int
	Flash     *flash
	Data      any

	csrfField template.HTML
	csrfErr   error
	csrfDone  bool
}

// flash is a one-time message shown on the next page.
type flash struct {
	Key  string   `json:"key"`            // message key
	Args []string `json:"args,omitempty"` // its arguments
	Kind string   `json:"kind,omitempty"` // "" (information) or "error"
}

// T translates a message key into the page's language.
func (p *page) T(key string, args ...any) string { return translate(p.Lang, key, args...) }

// FlashText is the flash message, translated.
func (p *page) FlashText() string {
	args := make([]any, len(p.Flash.Args))
	for i, a := range p.Flash.Args {
		args[i] = a
	}
	return p.T(p.Flash.Key, args...)
}

// Price formats cents in the page's language.
func (p *page) Price(cents int) string { return formatPrice(p.Lang, cents) }

// Time formats an instant for the devices and admin pages.
func (p *page) Time(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// CSRF returns the hidden field with a CSRF token; the first form of a page
// asks for it. A visitor with a session gets its session-bound token (the
// session's secret is created then if need be: pages are rendered into a
// buffer before the response starts, so it can still be committed). A
// visitor without a session gets a sessionless token, which creates no
// session, writes nothing and sets no cookie: the session starts at the
// first real write (an item added to the cart, a login, preferences).
func (p *page) CSRF() (template.HTML, error) {
	if !p.csrfDone {
		p.csrfField, p.csrfErr = csrf.TemplateField(p.r)
		p.csrfDone = true
	}
	return p.csrfField, p.csrfErr
}

// render writes the page name with data, in the visitor's language and theme.
func (a *app) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	a.renderMessage(w, r, status, name, title, data, nil)
}

// renderMessage is render with a message about this very request (a
// refusal) in place of the flash: the flash stored for the next page stays
// stored.
func (a *app) renderMessage(w http.ResponseWriter, r *http.Request, status int, name, title string, data any, msg *flash) {
	t, ok := a.pages[name]
	if !ok {
		a.fail(w, r, errors.New("no template "+name))
		return
	}
	ctx := r.Context()
	p := &page{r: r, Title: title, Languages: languages, Data: data}
	prefs, err := session.Get[prefs](ctx, keyPrefs)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	p.Lang, p.Theme = prefs.language(r), prefs.theme()
	p.User = lookupUser(session.Subject(ctx))
	c, err := session.Get[cart](ctx, keyCart)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	p.CartCount = c.count()
	if msg != nil {
		p.Flash = msg
	} else {
		f, err := session.Pop[flash](ctx, keyFlash)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if f.Key != "" {
			p.Flash = &f
		}
	}
	if p.User != nil {
		// The sign-out button in the header is a form.
		if _, err := p.CSRF(); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		a.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store") // pages show the visitor's cart and account
	h.Set("Content-Language", p.Lang)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// flash stores a message for the next page the visitor sees.
func (a *app) flash(r *http.Request, key string, args ...string) {
	a.putFlash(r, flash{Key: key, Args: args})
}

// flashError is flash for a message about something that went wrong.
func (a *app) flashError(r *http.Request, key string, args ...string) {
	a.putFlash(r, flash{Key: key, Args: args, Kind: "error"})
}

func (a *app) putFlash(r *http.Request, f flash) {
	if err := session.Put(r.Context(), keyFlash, f); err != nil {
		// The page still works; only the message is lost.
		a.log.WarnContext(r.Context(), "flash message not saved", "err", err)
	}
}

// fail answers a request whose session or template failed. A store failure
// is 503, as the session middleware answers it; anything else is a bug: 500.
func (a *app) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusInternalServerError
	var se *session.StoreError
	if errors.As(err, &se) || errors.Is(err, session.ErrTooManyConflicts) || errors.Is(err, errLimiter) {
		code = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	}
	a.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", redactPath(r), "err", err)
	a.failurePage(w, r, code)
}

// redirect answers a form post or a guard with 303 See Other.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// toLogin sends the visitor to the login page, to come back to next.
func (a *app) toLogin(w http.ResponseWriter, r *http.Request, next string) {
	redirect(w, r, "/login?next="+url.QueryEscape(next))
}

// currentUser returns the signed-in user, or nil.
func currentUser(r *http.Request) *user {
	return lookupUser(session.Subject(r.Context()))
}

// requireUser returns the signed-in user, or sends the visitor to the login
// page and returns nil.
func (a *app) requireUser(w http.ResponseWriter, r *http.Request) *user {
	u := currentUser(r)
	if u == nil {
		next := r.URL.Path
		if r.Method != http.MethodGet {
			next = "/"
		}
		a.toLogin(w, r, next)
	}
	return u
}

// forbidden answers 403 with a page.
func (a *app) forbidden(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusForbidden, "error", "error.forbidden", errorPage{Text: "error.forbidden.text"})
}

type errorPage struct{ Text string }

// csrfRefused is the CSRF protection's error handler: a page in the
// visitor's language instead of plain text.
func (a *app) csrfRefused(w http.ResponseWriter, r *http.Request, err error) {
	a.log.WarnContext(r.Context(), "csrf: request refused", "path", redactPath(r), "reason", err)
	a.activity.record(activityEvent{Kind: actCSRF, User: session.Subject(r.Context()), Client: clientSummary(r), Session: session.ID(r.Context())})
	if a.metrics != nil {
		a.metrics.Rejected(sessionprom.CSRFReason(err))
	}
	if errors.Is(err, csrf.ErrCrossOrigin) || errors.Is(err, csrf.ErrMissingToken) ||
		errors.Is(err, csrf.ErrMalformedToken) || errors.Is(err, csrf.ErrBadToken) {
		a.render(w, r, http.StatusForbidden, "error", "error.csrf", errorPage{Text: "error.csrf.text"})
		return
	}
	a.fail(w, r, err)
}

// safeNext returns next if it is a path on this site, "/" otherwise, so
// that /login?next=https://evil.example cannot send anyone away.
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

// securityHeaders sets the headers every response carries. The pages use no
// script at all, so the policy allows none.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// maxFormBytes bounds the body of a form post; the largest form, the
// checkout address, needs about 1 KB.
const maxFormBytes = 64 << 10

// limitBody refuses request bodies larger than maxFormBytes (the form
// parser then fails, and the request with it) instead of net/http's 10 MB.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		next.ServeHTTP(w, r)
	})
}

func cacheFor(d time.Duration, next http.Handler) http.Handler {
	v := "public, max-age=" + strconv.Itoa(int(d/time.Second))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", v)
		next.ServeHTTP(w, r)
	})
}

// accessLog logs each request: method, path and query, status and
// duration. The path and query go through redactURL (logredact.go): a token
// a client put in the URL never reaches the log.
func (a *app) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		level := slog.LevelInfo
		if r.URL.Path == "/healthz" || r.URL.Path == "/metrics" || strings.HasPrefix(r.URL.Path, "/static/") {
			level = slog.LevelDebug
		}
		a.log.LogAttrs(r.Context(), level, "request",
			slog.String("method", redactLogText(r.Method)), slog.String("url", redactURL(r)),
			slog.Int("status", sw.status), slog.Duration("duration", time.Since(start)))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status  int
	written bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.written {
		w.status, w.written = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.written = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
