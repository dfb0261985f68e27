package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Config configures a Manager. The zero value is the secure default: sessions
// end after an hour without activity or 24 hours after login (NIST SP
// 800-63B-4, AAL2), travel in a `__Host-session` cookie that is Secure,
// HttpOnly, SameSite=Lax, Path=/, without Domain, and last only as long as
// the browser session unless the user asked to be remembered.
type Config struct {
	// IdleTimeout ends a session after this long without activity.
	// Default 1 hour.
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after it was created or the
	// user last authenticated, whatever the activity. Renewing the ID does
	// not extend it. Default 24 hours.
	AbsoluteTimeout time.Duration
	// RememberMeIdleTimeout and RememberMeAbsoluteTimeout replace the two
	// above for sessions marked with RememberMe, whose cookie persists across
	// browser restarts. Defaults 7 days and 30 days.
	RememberMeIdleTimeout     time.Duration
	RememberMeAbsoluteTimeout time.Duration

	// TouchInterval throttles the idle-deadline update of read-only
	// requests: a session read again within the interval costs no store
	// write. Default a tenth of the idle timeout, at most one minute.
	TouchInterval time.Duration

	// Cookie configures the session cookie. Ignored when Header is set.
	Cookie Cookie

	// Header, when set, carries the token in a request header instead of a
	// cookie, for API clients: "Authorization" reads "Bearer <token>", any
	// other name reads the header's whole value. No cookie is set; the
	// handler hands the token to the client (see Token). Default: cookie.
	Header string

	// MaxRetries bounds how often a commit is retried after concurrent
	// requests changed the session first, with a jittered back-off between
	// attempts (at most 10 ms each). Default 100.
	MaxRetries int

	// RenewGrace is how long a renewed ID keeps pointing to its successor,
	// so that slower requests still holding it carry their changes over. It
	// never loads a session again. Default 1 minute.
	RenewGrace time.Duration

	// ClientAddr returns the address of a request's client, which the
	// session records for the devices list and compares for
	// Config.ClientChange. Default: the host of r.RemoteAddr. Behind a
	// reverse proxy, return the address the proxy forwarded, believed only
	// when the request comes from the proxy (ratelimit.TrustedProxies does
	// that), so that the devices list, the client-change check and the rate
	// limits agree on one address.
	ClientAddr func(r *http.Request) string

	// MaxRecordBytes bounds the size of a session as the stores keep it
	// (values, keys and metadata, encoded). A Put or Update that would
	// exceed it returns an error wrapping ErrTooLarge and changes nothing; a
	// handler that ignores it gets a 500, never a store outage. Default
	// 64 KiB, which every store accepts (memcached's items stop at 1 MiB,
	// a cookie at 4 KiB).
	MaxRecordBytes int

	// MaxSessionsPerUser caps the live sessions of one user (subject); 0,
	// the default, means no cap. Needs a store with a SubjectIndex.
	MaxSessionsPerUser int
	// LimitPolicy says what a login beyond MaxSessionsPerUser does: end the
	// oldest session (EvictOldest, the default) or fail (RefuseNew).
	LimitPolicy LimitPolicy

	// ClientChange says what happens when a session is used by a client
	// that looks different from the one that logged in: another user agent,
	// or an address in another network. Default ClientChangeLog.
	ClientChange ClientChangePolicy

	// ClearSiteData makes Destroy send `Clear-Site-Data: "cookies"`, which
	// removes every cookie of the site from the browser, not only the
	// session's. Default off.
	ClearSiteData bool

	// ErrorHandler writes the response when the session cannot be loaded or
	// committed. Default, as plain text: 503 Service Unavailable with
	// Retry-After for store failures, too many concurrent changes and
	// renewals (ErrTooManyConflicts, ErrRenewalChain); 409 Conflict when a
	// concurrent login or logout discarded the request's changes
	// (ErrAuthChanged); 500 otherwise (ErrTooLarge, a programming error).
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// OnEvent, when set, is called for each lifecycle event (created,
	// renewed, destroyed, expired, rejected token, ...). It runs on the
	// request's goroutine and must be quick.
	OnEvent func(ctx context.Context, e Event)

	// OnStoreOp, when set, is called after each store call the manager
	// makes, with its latency and error: the hook for metrics.
	OnStoreOp func(ctx context.Context, op StoreOp)

	// Logger receives failures and warnings. Tokens never reach it.
	// Default slog.Default().
	Logger *slog.Logger

	// Now is the clock. Default time.Now. Tests set it to move time.
	Now func() time.Time
}

// Cookie configures the session cookie. The zero value is the secure default.
type Cookie struct {
	// Name defaults to "__Host-session", or "session" with InsecureCookie
	// (browsers refuse a __Host- cookie without Secure).
	Name string
	// Domain, when set, shares the cookie with subdomains. Default none
	// (host-only), which __Host- requires.
	Domain string
	// Path defaults to "/".
	Path string
	// SameSite defaults to Lax. Strict breaks logins arriving from links on
	// other sites; None needs Secure and invites cross-site requests.
	SameSite http.SameSite
	// InsecureCookie drops the Secure attribute so the cookie travels over
	// plain HTTP. Only for development on a non-localhost host without TLS:
	// browsers already accept Secure cookies from http://localhost.
	InsecureCookie bool
}

func (c Config) withDefaults() (Config, error) {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"IdleTimeout", c.IdleTimeout}, {"AbsoluteTimeout", c.AbsoluteTimeout},
		{"RememberMeIdleTimeout", c.RememberMeIdleTimeout}, {"RememberMeAbsoluteTimeout", c.RememberMeAbsoluteTimeout},
		{"TouchInterval", c.TouchInterval}, {"RenewGrace", c.RenewGrace},
	} {
		if d.v < 0 {
			return c, fmt.Errorf("session: %s is negative (%v)", d.name, d.v)
		}
	}
	if c.MaxSessionsPerUser < 0 {
		return c, errors.New("session: MaxSessionsPerUser is negative")
	}
	if c.MaxRecordBytes < 0 {
		return c, errors.New("session: MaxRecordBytes is negative")
	}
	if c.MaxRetries < 0 {
		return c, errors.New("session: MaxRetries is negative")
	}
	def := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	def(&c.IdleTimeout, time.Hour)
	def(&c.AbsoluteTimeout, 24*time.Hour)
	def(&c.RememberMeIdleTimeout, 7*24*time.Hour)
	def(&c.RememberMeAbsoluteTimeout, 30*24*time.Hour)
	def(&c.TouchInterval, min(time.Minute, c.IdleTimeout/10))
	def(&c.RenewGrace, time.Minute)
	if c.MaxRetries == 0 {
		c.MaxRetries = 100
	}
	if c.MaxRecordBytes == 0 {
		c.MaxRecordBytes = 64 << 10
	}
	if c.IdleTimeout > c.AbsoluteTimeout {
		return c, fmt.Errorf("session: IdleTimeout (%v) is longer than AbsoluteTimeout (%v)", c.IdleTimeout, c.AbsoluteTimeout)
	}
	if c.RememberMeIdleTimeout > c.RememberMeAbsoluteTimeout {
		return c, fmt.Errorf("session: RememberMeIdleTimeout (%v) is longer than RememberMeAbsoluteTimeout (%v)", c.RememberMeIdleTimeout, c.RememberMeAbsoluteTimeout)
	}
	if c.TouchInterval >= c.IdleTimeout {
		return c, fmt.Errorf("session: TouchInterval (%v) must be shorter than IdleTimeout (%v)", c.TouchInterval, c.IdleTimeout)
	}
	if c.Header != "" {
		if !validToken(c.Header) {
			return c, fmt.Errorf("session: Header %q is not a valid header name", c.Header)
		}
	} else if err := c.Cookie.check(); err != nil {
		return c, err
	}
	if c.Cookie.Name == "" {
		c.Cookie.Name = "__Host-session"
		if c.Cookie.InsecureCookie {
			c.Cookie.Name = "session"
		}
	}
	if c.Cookie.Path == "" {
		c.Cookie.Path = "/"
	}
	if c.Cookie.SameSite == 0 || c.Cookie.SameSite == http.SameSiteDefaultMode {
		c.Cookie.SameSite = http.SameSiteLaxMode
	}
	if c.ErrorHandler == nil {
		c.ErrorHandler = defaultErrorHandler
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// check refuses cookie settings that browsers would reject or that undo the
// protection they ask for.
func (c Cookie) check() error {
	if c.Name != "" && !validToken(c.Name) {
		return fmt.Errorf("session: cookie name %q is not a valid cookie name", c.Name)
	}
	secure := !c.InsecureCookie
	switch {
	case strings.HasPrefix(c.Name, "__Host-") && !secure:
		return errors.New("session: a __Host- cookie needs Secure: drop InsecureCookie or rename the cookie")
	case strings.HasPrefix(c.Name, "__Host-") && c.Domain != "":
		return errors.New("session: a __Host- cookie cannot have a Domain")
	case strings.HasPrefix(c.Name, "__Host-") && c.Path != "" && c.Path != "/":
		return errors.New("session: a __Host- cookie needs Path=/")
	case strings.HasPrefix(c.Name, "__Secure-") && !secure:
		return errors.New("session: a __Secure- cookie needs Secure: drop InsecureCookie or rename the cookie")
	case c.SameSite == http.SameSiteNoneMode && !secure:
		return errors.New("session: SameSite=None needs Secure")
	case c.Name == "" && c.Domain != "" && secure:
		return errors.New("session: the default cookie name is __Host-session, which cannot have a Domain: set Cookie.Name")
	case c.Name == "" && c.Path != "" && c.Path != "/" && secure:
		return errors.New("session: the default cookie name is __Host-session, which needs Path=/: set Cookie.Name")
	case strings.ContainsAny(c.Path, ";\r\n") || strings.ContainsAny(c.Domain, ";\r\n "):
		return errors.New("session: cookie Path or Domain holds a forbidden character")
	}
	return nil
}

// validToken reports whether s is an RFC 9110 token (header and cookie names).
func validToken(s string) bool {
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

func defaultErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusInternalServerError
	var se *StoreError
	switch {
	case errors.As(err, &se), errors.Is(err, ErrTooManyConflicts), errors.Is(err, ErrRenewalChain):
		code = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	case errors.Is(err, ErrAuthChanged):
		code = http.StatusConflict
	}
	http.Error(w, http.StatusText(code), code)
}
