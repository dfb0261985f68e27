package dbsc

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sessionkit/session"
)

// Errors returned by New and Offer.
var (
	// ErrNoSession: Offer was called for a request without a session (no
	// Login before it, or the session was destroyed).
	ErrNoSession = errors.New("dbsc: no session to bind")
	// ErrConfig: New was given a configuration that contradicts itself.
	ErrConfig = errors.New("dbsc: invalid config")
)

// Binder binds sessions of a session.Manager to keys that browsers hold:
// it offers registration, serves the registration and refresh endpoints,
// and enforces per-route policies. Create one per Manager with New; it is
// safe for concurrent use.
type Binder struct {
	cfg      Config
	secret   []byte
	secure   bool   // the bound cookie is Secure
	cookieAt string // the bound cookie's attributes, as sent in the instructions
	offer    string // Secure-Session-Registration without the challenge
}

// New returns a Binder for the sessions of mgr. Its handlers and
// middleware must run inside mgr.Handler. The zero Config is valid and
// secure.
func New(mgr *session.Manager, cfg Config) (*Binder, error) {
	mc := mgr.Config()
	if cfg.Now == nil {
		cfg.Now = mc.Now
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := &Binder{secure: !mc.Cookie.InsecureCookie}
	switch {
	case cfg.Secret == nil:
		b.secret = make([]byte, 32)
		rand.Read(b.secret)
	case len(cfg.Secret) < 32:
		return nil, fmt.Errorf("%w: Secret has %d bytes, fewer than 32", ErrConfig, len(cfg.Secret))
	default:
		b.secret = append([]byte(nil), cfg.Secret...)
	}
	if cfg.RegistrationPath == "" {
		cfg.RegistrationPath = "/dbsc/registration"
	}
	if cfg.RefreshPath == "" {
		cfg.RefreshPath = "/dbsc/refresh"
	}
	for _, p := range []string{cfg.RegistrationPath, cfg.RefreshPath} {
		if !strings.HasPrefix(p, "/") || !printableASCII(p) || strings.ContainsAny(p, " ?#") {
			return nil, fmt.Errorf("%w: path %q is not an absolute path", ErrConfig, p)
		}
	}
	if cfg.Cookie.Name == "" {
		cfg.Cookie.Name = "__Host-dbsc"
		if !b.secure {
			cfg.Cookie.Name = "dbsc"
		}
	}
	if strings.HasPrefix(cfg.Cookie.Name, "__Host-") && !b.secure {
		return nil, fmt.Errorf("%w: a __Host- cookie needs Secure, and the session cookie is insecure", ErrConfig)
	}
	if cfg.Cookie.SameSite == 0 || cfg.Cookie.SameSite == http.SameSiteDefaultMode {
		cfg.Cookie.SameSite = http.SameSiteLaxMode
	}
	if cfg.Cookie.SameSite == http.SameSiteNoneMode && !b.secure {
		return nil, fmt.Errorf("%w: SameSite=None needs Secure", ErrConfig)
	}
	if cfg.CookieTTL == 0 {
		cfg.CookieTTL = 10 * time.Minute
	}
	if cfg.ChallengeTTL == 0 {
		cfg.ChallengeTTL = 2 * time.Minute
	}
	if cfg.CookieTTL < time.Second || cfg.ChallengeTTL < time.Second {
		return nil, fmt.Errorf("%w: CookieTTL and ChallengeTTL must be at least a second", ErrConfig)
	}
	for _, rule := range cfg.Scope.Rules {
		if rule.Type != "include" && rule.Type != "exclude" {
			return nil, fmt.Errorf("%w: scope rule type %q is neither include nor exclude", ErrConfig, rule.Type)
		}
	}
	if cfg.Refused == nil {
		cfg.Refused = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "a device-bound session is required", http.StatusForbidden)
		})
	}
	b.cfg = cfg

	// The attributes must match what Set-Cookie sends: the browser checks
	// Domain, Path, Secure, HttpOnly and SameSite against them (spec
	// section "Identify if missing session credential").
	attrs := "Path=/"
	if b.secure {
		attrs += "; Secure"
	}
	attrs += "; HttpOnly; SameSite=" + sameSiteName(cfg.Cookie.SameSite)
	b.cookieAt = attrs

	// Spec section "Secure-Session-Registration HTTP header field": an
	// inner list of the algorithms the server accepts, the registration
	// path and the challenge. No "authorization": the session cookie,
	// which the registration request carries, already says who it is.
	b.offer = `(ES256 RS256);path=` + string(appendSFString(nil, cfg.RegistrationPath)) + `;challenge=`
	return b, nil
}

func sameSiteName(s http.SameSite) string {
	switch s {
	case http.SameSiteStrictMode:
		return "Strict"
	case http.SameSiteNoneMode:
		return "None"
	default:
		return "Lax"
	}
}

// Config returns the configuration in effect, defaults filled in, without
// the secret.
func (b *Binder) Config() Config {
	c := b.cfg
	c.Secret = nil
	return c
}

// Offer asks the browser to bind the request's session to a new key: it
// adds Secure-Session-Registration to the response. Call it right after
// session.Login, and after session.Renew. It commits the session first
// (so that the challenge is bound to the session's new ID), and offers
// nothing when the session is already bound for its current login: a
// renewal keeps the registered key. A browser without DBSC ignores the
// header.
func (b *Binder) Offer(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := session.Commit(ctx); err != nil {
		return fmt.Errorf("dbsc: offer: %w", err)
	}
	bd, info, err := current(ctx)
	if err != nil {
		return fmt.Errorf("dbsc: offer: %w", err)
	}
	if info.New || info.ID == "" {
		return ErrNoSession
	}
	if bd != nil {
		return nil
	}
	ch := b.newChallenge(purposeRegistration, info.ID, "", b.cfg.Now())
	w.Header().Add("Secure-Session-Registration", b.offer+`"`+ch+`"`)
	b.emit(ctx, Event{Kind: EventOffered, SessionID: info.ID, Request: r})
	return nil
}

// Status reports whether r is bound: its session has a key registered for
// its current login, and r carries a valid, unexpired bound cookie of that
// binding. The Reason says why not. It reads the session, and must run
// inside the session manager's middleware.
func (b *Binder) Status(r *http.Request) (Binding, Reason, error) {
	bd, info, err := current(r.Context())
	switch {
	case err != nil:
		return Binding{}, ReasonStore, err
	case info.New:
		return Binding{}, ReasonNoSession, nil
	case bd == nil:
		return Binding{}, ReasonUnregistered, nil
	}
	c, err := r.Cookie(b.cfg.Cookie.Name)
	if err != nil {
		return bd.public(), ReasonNoCookie, nil
	}
	return bd.public(), b.checkBoundCookie(c.Value, bd, b.cfg.Now()), nil
}

// setBoundCookie issues a bound cookie for bd.
func (b *Binder) setBoundCookie(w http.ResponseWriter, bd *binding, now time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name:     b.cfg.Cookie.Name,
		Value:    b.newBoundCookie(bd, now.Add(b.cfg.CookieTTL)),
		Path:     "/",
		MaxAge:   int(b.cfg.CookieTTL / time.Second),
		Secure:   b.secure,
		HttpOnly: true,
		SameSite: b.cfg.Cookie.SameSite,
	})
}

// expireBoundCookie removes the bound cookie from the browser.
func (b *Binder) expireBoundCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: b.cfg.Cookie.Name, Value: "", Path: "/", MaxAge: -1,
		Secure: b.secure, HttpOnly: true, SameSite: b.cfg.Cookie.SameSite,
	})
}

// instructions are the JSON session instructions (spec section "JSON
// Session Instruction Format").
type instructions struct {
	SessionIdentifier string       `json:"session_identifier,omitempty"`
	RefreshURL        string       `json:"refresh_url,omitempty"`
	Continue          *bool        `json:"continue,omitempty"`
	Scope             *jsonScope   `json:"scope,omitempty"`
	Credentials       []credential `json:"credentials,omitempty"`
}

type jsonScope struct {
	Origin             string      `json:"origin,omitempty"`
	IncludeSite        bool        `json:"include_site"`
	ScopeSpecification []ScopeRule `json:"scope_specification,omitempty"`
}

type credential struct {
	Type       string `json:"type"`
	Name       string `json:"name"`
	Attributes string `json:"attributes"`
}

func (b *Binder) instructionsFor(bd *binding) instructions {
	return instructions{
		SessionIdentifier: bd.ID,
		RefreshURL:        b.cfg.RefreshPath,
		Scope:             &jsonScope{Origin: b.cfg.Scope.Origin, IncludeSite: b.cfg.Scope.IncludeSite, ScopeSpecification: b.cfg.Scope.Rules},
		Credentials:       []credential{{Type: "cookie", Name: b.cfg.Cookie.Name, Attributes: b.cookieAt}},
	}
}

// writeJSON writes a DBSC response. Each carries Cache-Control: no-store
// (it may set a cookie), and refuses to be framed or read cross-origin
// (spec section "Server considerations").
func writeJSON(w http.ResponseWriter, code int, v any) {
	body, _ := json.Marshal(v)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	w.WriteHeader(code)
	w.Write(body)
}

// errorBody is the JSON body of a refusal: the Reason only.
type errorBody struct {
	Error Reason `json:"error"`
}

// newBindingID returns a fresh DBSC session identifier.
func newBindingID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
