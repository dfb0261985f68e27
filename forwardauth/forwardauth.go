package forwardauth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/csrf"
	"github.com/sessionkit/session/ratelimit"
)

// Paths the Handler serves, relative to where it is mounted.
const (
	PathNginx   = "/auth/nginx"   // nginx auth_request
	PathForward = "/auth/forward" // Traefik forwardAuth, Caddy forward_auth
	PathEnvoy   = "/auth/envoy"   // Envoy ext_authz, HTTP service with path_prefix /auth/envoy
	PathLogin   = "/login"        // GET the sign-in page, POST to sign in
	PathLogout  = "/logout"       // POST to sign out
)

// Default login rate limits, counted before the password is checked.
var (
	// DefaultLoginPerUser: 5 attempts at once per user name, then one every
	// 3 minutes; a successful sign-in resets it.
	DefaultLoginPerUser = ratelimit.Limit{Rate: 5, Per: 15 * time.Minute}
	// DefaultLoginPerAddress: 30 attempts at once per client address
	// (IPv6 by /64), then one every 30 seconds, so one address cannot try
	// a password on many accounts.
	DefaultLoginPerAddress = ratelimit.Limit{Rate: 30, Per: 15 * time.Minute}
)

// Options configures a Handler. Manager and Users are required; the zero
// value of every other field is the secure default: every request needs a
// signed-in user, forwarded headers are believed from loopback proxies
// only, identity headers are Authelia's, the sign-in page is /login on the
// host being visited, and no redirect leaves that host.
type Options struct {
	// Manager holds the sessions. The Handler wraps its routes with
	// Manager.Handler itself: do not wrap it again. Its cookie decides
	// which hosts share a sign-in: the default __Host- cookie is for one
	// host (sign-in pages served by the proxy under the app's own host),
	// a cookie with Domain set covers the subdomains of that domain.
	Manager *session.Manager
	// Users finds users and checks passwords; a UserFile most often.
	Users Users

	// Rules decide who may reach what: the first rule matching the
	// request's host and path applies, else DefaultAccess. Paths are made
	// canonical before matching (percent-escapes decoded once, "//"
	// collapsed, ";params" cut, "." and ".." resolved), and a path that
	// servers could read in different ways (an encoded slash, a backslash,
	// double encoding, control characters) is refused outright. When a
	// path matches a different rule compared case-insensitively (servers
	// on case-insensitive file systems), both rules must allow it.
	Rules []Rule
	// DefaultAccess applies to requests no rule matches. Default
	// Authenticated.
	DefaultAccess Access

	// TrustedProxies are the addresses (CIDR prefixes) allowed to ask for
	// a decision: the proxies whose X-Original-*, X-Forwarded-* and Host
	// headers describe the request being checked. A check from any other
	// address is refused with 403 and its headers are not read. Default
	// loopback only (127.0.0.0/8 and ::1); never everyone.
	TrustedProxies []netip.Prefix

	// Headers names the identity headers. Default AutheliaHeaders.
	Headers Headers

	// LoginURL is where visitors who must sign in are sent, with the page
	// they wanted in its rd parameter. A path ("/_sessiond/login", the
	// default "/login") is on the host being visited: the proxy serves
	// the Handler's PathLogin there. An absolute URL
	// ("https://auth.example.com/login") is a sign-in host of its own,
	// which needs a cookie with Domain set to share the session with the
	// apps.
	LoginURL string
	// RedirectHosts are the hosts an absolute rd target may name (exact
	// names, or "*.example.com" for its subdomains), always over https.
	// Paths on the sign-in host are always allowed; nothing else is.
	// Default none.
	RedirectHosts []string

	// CSRF protects the sign-in and sign-out forms. Default: a Protection
	// with a per-process key, binding tokens of visitors without a session
	// to the client address reported by the trusted proxies.
	CSRF *csrf.Protection
	// RateLimit keeps the login attempt counts; share a Redis backend
	// between instances. Default an in-memory backend of this Handler,
	// stopped by Close.
	RateLimit ratelimit.Backend
	// LoginPerUser and LoginPerAddress are the login rate limits. Defaults
	// DefaultLoginPerUser and DefaultLoginPerAddress.
	LoginPerUser, LoginPerAddress ratelimit.Limit

	// OnDecision, when set, is called after each check with the contract
	// ("nginx", "forward", "envoy") and the decision: the hook for metrics.
	// It must be quick and safe for concurrent use.
	OnDecision func(contract string, d Decision)

	// Logger receives refusals and sign-in events. Default slog.Default().
	Logger *slog.Logger
}

// Handler answers the forward-auth checks of nginx, Traefik, Caddy and
// Envoy, and serves the sign-in and sign-out pages. Create it with New;
// it is safe for concurrent use.
type Handler struct {
	mgr       *session.Manager
	users     Users
	policy    *policy
	trusted   ratelimit.TrustedProxies
	headers   Headers
	loginURL  string
	redirects *redirects
	csrf      *csrf.Protection
	byUser    *ratelimit.Limiter
	byAddress *ratelimit.Limiter
	closeRL   func() error
	onDecide  func(string, Decision)
	log       *slog.Logger
	routes    http.Handler
	loginH    http.Handler // serveLogin behind the CSRF check
	logoutH   http.Handler // serveLogout behind the CSRF check
}

// New returns a Handler configured by opts, or an error naming the option
// that is wrong.
func New(opts Options) (*Handler, error) {
	if opts.Manager == nil {
		return nil, errors.New("forwardauth: Options.Manager is required")
	}
	if opts.Users == nil {
		return nil, errors.New("forwardauth: Options.Users is required")
	}
	h := &Handler{mgr: opts.Manager, users: opts.Users, onDecide: opts.OnDecision, log: opts.Logger}
	if h.log == nil {
		h.log = slog.Default()
	}
	var err error
	if h.policy, err = newPolicy(opts.Rules, opts.DefaultAccess); err != nil {
		return nil, err
	}
	h.trusted = ratelimit.TrustedProxies(opts.TrustedProxies)
	if len(h.trusted) == 0 {
		h.trusted = ratelimit.MustParseTrustedProxies("127.0.0.0/8", "::1/128")
	}
	for _, p := range h.trusted {
		if p.Bits() == 0 {
			return nil, fmt.Errorf("forwardauth: trusted proxy %v trusts every address", p)
		}
	}
	h.headers = opts.Headers
	if h.headers == (Headers{}) {
		h.headers = AutheliaHeaders
	}
	if err := h.headers.validate(); err != nil {
		return nil, err
	}
	if h.redirects, err = newRedirects(opts.RedirectHosts); err != nil {
		return nil, err
	}
	h.loginURL = opts.LoginURL
	if h.loginURL == "" {
		h.loginURL = PathLogin
	}
	if _, ok := h.redirects.target(h.loginURL); !ok && !strings.HasPrefix(h.loginURL, "https://") {
		return nil, fmt.Errorf("forwardauth: LoginURL %q: want a path or an https URL", h.loginURL)
	}
	h.csrf = opts.CSRF
	if h.csrf == nil {
		if h.csrf, err = csrf.New(csrf.Options{ClientKey: h.trusted.ByAddress}); err != nil {
			return nil, err
		}
	}
	backend := opts.RateLimit
	if backend == nil {
		m := ratelimit.NewMemory(ratelimit.MemoryOptions{})
		backend, h.closeRL = m, m.Close
	}
	perUser, perAddr := opts.LoginPerUser, opts.LoginPerAddress
	if perUser == (ratelimit.Limit{}) {
		perUser = DefaultLoginPerUser
	}
	if perAddr == (ratelimit.Limit{}) {
		perAddr = DefaultLoginPerAddress
	}
	for _, l := range []ratelimit.Limit{perUser, perAddr} {
		if err := l.Validate(); err != nil {
			return nil, fmt.Errorf("forwardauth: login limit: %w", err)
		}
	}
	rlOpts := ratelimit.Options{Logger: h.log}
	rlOpts.Name = "sessiond-login-user"
	h.byUser = ratelimit.New(backend, perUser, rlOpts)
	rlOpts.Name = "sessiond-login-address"
	h.byAddress = ratelimit.New(backend, perAddr, rlOpts)

	h.loginH = h.csrf.Handler(http.HandlerFunc(h.serveLogin))
	h.logoutH = h.csrf.Handler(http.HandlerFunc(h.serveLogout))
	h.routes = h.mgr.Handler(http.HandlerFunc(h.route))
	return h, nil
}

// Close releases the in-memory rate-limit backend New created, if any.
func (h *Handler) Close() error {
	if h.closeRL != nil {
		return h.closeRL()
	}
	return nil
}

// ServeHTTP serves the check endpoints and the sign-in pages.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.routes.ServeHTTP(w, r)
}

// route dispatches on the exact path, without net/http.ServeMux: the mux
// would clean the Envoy check paths (which carry the original path, dot
// segments and all) and redirect them, where they must be decided.
func (h *Handler) route(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == PathNginx:
		h.serveNginx(w, r)
	case p == PathForward:
		h.serveForward(w, r)
	case p == PathEnvoy || strings.HasPrefix(r.RequestURI, PathEnvoy+"/"):
		h.serveEnvoy(w, r)
	case p == PathLogin:
		h.loginH.ServeHTTP(w, r)
	case p == PathLogout:
		h.logoutH.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

// fromTrustedProxy reports whether r comes straight from a trusted proxy.
func (h *Handler) fromTrustedProxy(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	addr := ap.Addr().Unmap()
	for _, p := range h.trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
