package dbsc

import (
	"context"
	"net/http"
	"time"
)

// Config configures a Binder. The zero value is the secure default.
type Config struct {
	// Secret keys the HMACs of challenges and bound cookies; at least 32
	// bytes. App instances that share a session store must share it.
	// Default: 32 random bytes drawn by New, which suits a single instance
	// (after a restart, refreshes start over with a new challenge, and
	// bound cookies issued before are refused until refreshed).
	Secret []byte

	// RegistrationPath is where browsers post registration proofs: the
	// path parameter of Secure-Session-Registration. Mount
	// Binder.Registration there. Default "/dbsc/registration".
	RegistrationPath string
	// RefreshPath is where browsers refresh the bound cookie: the
	// refresh_url of the session instructions. Mount Binder.Refresh there.
	// Default "/dbsc/refresh".
	RefreshPath string

	// Cookie configures the bound cookie.
	Cookie Cookie
	// CookieTTL is how long a bound cookie lasts: how long a stolen set of
	// cookies keeps working on routes that require a bound session. Below
	// about two minutes Chromium refreshes on every request. Default 10
	// minutes.
	CookieTTL time.Duration
	// ChallengeTTL is how long a challenge can be answered. Default 2
	// minutes.
	ChallengeTTL time.Duration

	// Scope is the scope sent in the session instructions. The zero Scope
	// is the origin that served the registration, every path.
	Scope Scope

	// Refused answers a request that a route requiring a bound session
	// refuses. Default: 403 Forbidden, as plain text.
	Refused http.Handler

	// OnEvent, when set, is called for each registration, refresh,
	// refusal, unbound request and skipped refresh: the hook for metrics
	// and audit logs. It runs on the request's goroutine and must be quick.
	OnEvent func(ctx context.Context, e Event)

	// Now is the clock. Default: the session manager's.
	Now func() time.Time
}

// Cookie configures the bound cookie, the short-lived credential that
// rides beside the session cookie. The zero value is the secure default.
type Cookie struct {
	// Name defaults to "__Host-dbsc", or "dbsc" when the session manager's
	// cookie is insecure.
	Name string
	// SameSite defaults to Lax, like the session cookie.
	SameSite http.SameSite
}

// Scope is the JSON session scope (spec section "JSON Session Scope
// Instruction Format").
type Scope struct {
	// Origin, when set, is the origin the session applies to; by default
	// the browser takes the registration URL's.
	Origin string
	// IncludeSite makes the session apply to the whole site rather than
	// the origin. The browser accepts it only when the origin's host is
	// the registrable domain, and Chromium refuses it for an origin with
	// a port. Default false.
	IncludeSite bool
	// Rules include or exclude paths of the scope, in order.
	Rules []ScopeRule
}

// ScopeRule is one JSON session scope rule (spec section "JSON Session
// Scope Rule Format").
type ScopeRule struct {
	Type   string `json:"type"`             // "include" or "exclude"
	Domain string `json:"domain,omitempty"` // default "*"
	Path   string `json:"path,omitempty"`   // default "/"
}
