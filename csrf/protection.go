package csrf

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sessionkit/session"
)

// Defaults of Options.
const (
	DefaultFieldName  = "csrf_token"
	DefaultHeaderName = "X-CSRF-Token"
)

// Options configures a Protection. The zero value is the secure default: no
// trusted origins besides the site itself, the token read from the header
// X-CSRF-Token or else the form field csrf_token, a plain-text 403 for
// refused requests, and tokens for visitors without a session signed with a
// key drawn at startup, valid for an hour from the client address they were
// issued to.
type Options struct {
	// TrustedOrigins are other origins allowed to send unsafe requests,
	// written exactly as browsers send the Origin header:
	// "https://admin.example.com" (scheme and host, port if not the default,
	// lowercase, no path, no trailing slash). They match exactly: no
	// wildcards, no subdomains. A request from a trusted origin still needs
	// a valid token. Default none; other sites, same-site ones included,
	// are refused.
	TrustedOrigins []string

	// FieldName is the form field that carries the token. Default
	// "csrf_token".
	FieldName string

	// HeaderName is the request header that carries the token, for
	// scripts (fetch, htmx). It is read before the form field. Default
	// "X-CSRF-Token".
	HeaderName string

	// ErrorHandler writes the response for a refused request; err wraps
	// one of ErrCrossOrigin, ErrMissingToken, ErrMalformedToken or
	// ErrBadToken, or is a failure to read the session (then the session
	// middleware answers with its own error handler, 503 by default).
	// Default: 403 Forbidden, plain text "Forbidden - CSRF check failed:
	// <reason>".
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// OnReject, when set, is called for each refused request before
	// ErrorHandler, with the same error: the hook for metrics and logs. It
	// runs on the request's goroutine and must be quick.
	OnReject func(r *http.Request, err error)

	// Key signs the tokens of visitors who have no session yet (see
	// "Visitors without a session" in the package doc), with HMAC-SHA256.
	// It must hold at least MinKeyLen (32) bytes from a secure random
	// source, and stay secret. Default: 32 random bytes drawn once per
	// process and shared by every Protection without a Key, so such tokens
	// verify in this process only and not after a restart. Apps that run
	// several instances behind one address give them all the same Key, or
	// a form served by one instance is refused by another. New copies it.
	Key []byte

	// SessionlessTTL is how long a token issued to a visitor without a
	// session stays valid. Default DefaultSessionlessTTL (1 hour): a login
	// form left open longer is refused and must be reloaded.
	SessionlessTTL time.Duration

	// ClientKey binds a sessionless token to its client: a token is
	// accepted only from a request with the same key. Default: the IP
	// address of r.RemoteAddr, IPv6 by its /64, as ratelimit.ByAddress
	// keys it. Behind a reverse proxy, where RemoteAddr is the proxy,
	// pass a function that reads the client's address from the proxy
	// (ratelimit.TrustedProxies.ByAddress fits); a false second result
	// binds the token to no client.
	ClientKey func(r *http.Request) (string, bool)
}

// Protection refuses cross-site requests and requests without a valid
// session token. Create one with New and wrap the application with Handler,
// inside the session manager's middleware. It is safe for concurrent use.
type Protection struct {
	origins      *http.CrossOriginProtection
	field        string
	header       string
	errorHandler func(http.ResponseWriter, *http.Request, error)
	onReject     func(*http.Request, error)
	key          []byte                             // HMAC key of sessionless tokens
	ttl          time.Duration                      // lifetime of sessionless tokens
	clientKey    func(*http.Request) (string, bool) // nil: addressKey
	now          func() time.Time                   // the clock; tests inject one

	// inContext is set when the Protection differs from the defaults in
	// what Token and TemplateField need to know (the field name, the
	// signing of sessionless tokens): Handler then hands it to them in the
	// request's context. A Protection with the defaults costs no
	// allocation: they find the same settings in defaultProtection.
	inContext bool
}

// New returns a Protection configured by opts: csrf.New() with the
// defaults, or csrf.New(csrf.Options{...}). It fails when a trusted origin
// is not of the form "scheme://host[:port]", the header name is not a valid
// header name, or it is given more than one Options.
func New(options ...Options) (*Protection, error) {
	if len(options) > 1 {
		return nil, errors.New("csrf: New takes at most one Options")
	}
	var opts Options
	if len(options) == 1 {
		opts = options[0]
	}
	p := &Protection{
		origins:      http.NewCrossOriginProtection(),
		field:        opts.FieldName,
		header:       opts.HeaderName,
		errorHandler: opts.ErrorHandler,
		onReject:     opts.OnReject,
		key:          processKey(),
		ttl:          opts.SessionlessTTL,
		clientKey:    opts.ClientKey,
		now:          time.Now,
		inContext:    opts.FieldName != "" && opts.FieldName != DefaultFieldName || opts.Key != nil || opts.SessionlessTTL != 0 || opts.ClientKey != nil,
	}
	if opts.Key != nil {
		if len(opts.Key) < MinKeyLen {
			return nil, fmt.Errorf("csrf: Key has %d bytes; want at least %d random bytes", len(opts.Key), MinKeyLen)
		}
		p.key = append([]byte(nil), opts.Key...)
	}
	switch {
	case p.ttl < 0:
		return nil, fmt.Errorf("csrf: SessionlessTTL %v is negative", p.ttl)
	case p.ttl == 0:
		p.ttl = DefaultSessionlessTTL
	}
	for _, o := range opts.TrustedOrigins {
		if err := checkOrigin(o); err != nil {
			return nil, err
		}
		if err := p.origins.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("csrf: trusted origin: %w", err)
		}
	}
	if p.field == "" {
		p.field = DefaultFieldName
	}
	if p.header == "" {
		p.header = DefaultHeaderName
	}
	if !validHeaderName(p.header) {
		return nil, fmt.Errorf("csrf: HeaderName %q is not a valid header name", p.header)
	}
	if p.errorHandler == nil {
		p.errorHandler = defaultErrorHandler
	}
	return p, nil
}

// checkOrigin refuses trusted origins that could never equal an Origin
// header, which browsers send serialized: lowercase scheme://host[:port].
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" || u.User != nil || u.Scheme+"://"+u.Host != o {
		return fmt.Errorf("csrf: trusted origin %q is not of the form scheme://host[:port]", o)
	}
	if strings.ToLower(o) != o {
		return fmt.Errorf("csrf: trusted origin %q must be lowercase, as browsers send it", o)
	}
	if strings.ContainsFunc(u.Host, func(c rune) bool {
		return !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.ContainsRune("-.:[]", c))
	}) {
		return fmt.Errorf("csrf: trusted origin %q: the host must be an ASCII name (punycode) or an address; no wildcards", o)
	}
	return nil
}

// Handler checks every request with an unsafe method (anything but GET, HEAD,
// OPTIONS and TRACE) and answers with the error handler when Check refuses
// it; other requests go to next untouched: they need no token and create no
// session. It must run inside the session middleware:
//
//	mgr.Handler(protection.Handler(mux))
//
// Wrap the pages that render forms too, so that Token and TemplateField know
// the configured field name.
func (p *Protection) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.inContext {
			r = r.WithContext(context.WithValue(r.Context(), protectionKey{}, p))
		}
		if safeMethod(r.Method) {
			next.ServeHTTP(w, r)
			return
		}
		hadMultipart := r.MultipartForm != nil
		err := p.Check(r)
		if !hadMultipart && r.MultipartForm != nil {
			// The server removes the temporary files of the form it
			// parsed itself; this one was parsed on a copy of its
			// request, so remove them here.
			defer r.MultipartForm.RemoveAll()
		}
		if err != nil {
			if p.onReject != nil {
				p.onReject(r, err)
			}
			p.errorHandler(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Check applies both layers to r and returns nil when it may proceed, or why
// it may not. Safe methods always pass. Otherwise the request must not come
// from another site (Sec-Fetch-Site, else Origin, as
// net/http.CrossOriginProtection checks them) and must carry a token from
// Token, in the header or else the form field of a urlencoded or multipart
// body (never the URL): the session-bound token of the current session or,
// when the request has no session, a sessionless token this Protection (or
// one with the same Key) issued to this client within SessionlessTTL.
// Reading the field parses the body, as r.PostFormValue does. Most callers
// want Handler, which calls Check; Check is for handlers that decide
// themselves, such as WebSocket upgrades over POST.
func (p *Protection) Check(r *http.Request) error {
	if safeMethod(r.Method) {
		return nil
	}
	if err := p.origins.Check(r); err != nil {
		if r.Header.Get("Sec-Fetch-Site") != "" {
			return errFromOtherSite
		}
		return errOriginMismatch
	}
	token := r.Header.Get(p.header)
	if token == "" {
		token = r.PostFormValue(p.field)
	}
	if token == "" {
		return ErrMissingToken
	}
	if len(token) == sessionlessTokenLen {
		return p.checkSessionless(r, token)
	}
	masked, ok := decodeToken(token)
	if !ok {
		return ErrMalformedToken // before any store access
	}
	secret, err := currentSecret(r.Context())
	switch {
	case err != nil:
		return fmt.Errorf("csrf: read session: %w", err)
	case secret == nil:
		return errNoSecret
	case !masked.matches(secret):
		return errMismatch
	}
	return nil
}

// checkSessionless checks a token of the sessionless shape: well formed,
// signed for this client and still fresh (all without the store), and sent
// by a request that has no session.
func (p *Protection) checkSessionless(r *http.Request, token string) error {
	t, ok := decodeSessionless(token)
	if !ok {
		return ErrMalformedToken
	}
	if err := p.verifySessionless(r, &t, p.now()); err != nil {
		return err
	}
	info, err := session.Info(r.Context())
	switch {
	case err != nil:
		return fmt.Errorf("csrf: read session: %w", err)
	case info.ID != "":
		return errSessionlessWithSession
	}
	return nil
}

// safeMethod reports whether method is one that must not change state, so
// is never checked (RFC 9110 section 9.2.1).
func safeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

type protectionKey struct{}

// defaultProtection is a Protection with the zero Options: what Token and
// TemplateField use when Handler put none in the request's context, which
// it does only for a Protection that differs from it.
var defaultProtection = sync.OnceValue(func() *Protection {
	p, err := New(Options{})
	if err != nil {
		panic(err) // the zero Options is valid
	}
	return p
})

// protectionOf returns the Protection serving r, for Token and
// TemplateField.
func protectionOf(r *http.Request) *Protection {
	if p, ok := r.Context().Value(protectionKey{}).(*Protection); ok {
		return p
	}
	return defaultProtection()
}

func defaultErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	if !rejection(err) {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	http.Error(w, "Forbidden - CSRF check failed: "+strings.TrimPrefix(err.Error(), "csrf: "), http.StatusForbidden)
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}
