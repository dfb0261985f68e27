package csrf

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Defaults of Options.
const (
	DefaultFieldName  = "csrf_token"
	DefaultHeaderName = "X-CSRF-Token"
)

// Options configures a Protection. The zero value is the secure default: no
// trusted origins besides the site itself, the token read from the header
// X-CSRF-Token or else the form field csrf_token, and a plain-text 403 for
// refused requests.
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
}

// New returns a Protection configured by opts. It fails when a trusted origin
// is not of the form "scheme://host[:port]" or the header name is not a valid
// header name; the zero Options is valid.
func New(opts Options) (*Protection, error) {
	p := &Protection{
		origins:      http.NewCrossOriginProtection(),
		field:        opts.FieldName,
		header:       opts.HeaderName,
		errorHandler: opts.ErrorHandler,
		onReject:     opts.OnReject,
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
		if p.field != DefaultFieldName {
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
// net/http.CrossOriginProtection checks them) and must carry a token issued
// by Token for the current session, in the header or else the form field of
// a urlencoded or multipart body (never the URL). Reading the field parses
// the body, as r.PostFormValue does. Most callers want Handler, which calls
// Check; Check is for handlers that decide themselves, such as WebSocket
// upgrades over POST.
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

// fieldName returns the form field name of the Protection serving r.
func fieldName(r *http.Request) string {
	if p, ok := r.Context().Value(protectionKey{}).(*Protection); ok {
		return p.field
	}
	return DefaultFieldName
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
