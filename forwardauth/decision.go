package forwardauth

import (
	"net/http"
	"strings"

	"github.com/sessionkit/session"
)

// Target is the request a proxy asks about, as the proxy reports it.
type Target struct {
	Method string // GET when the proxy does not say
	Scheme string // "https" or "http"; https when the proxy does not say
	Host   string // the Host the client sent, port included
	URI    string // the request target: path and query, as sent (still escaped)
}

// Outcome is what a check concluded. The zero Outcome is Forbidden.
type Outcome int

const (
	// Forbidden: refused whoever asks (403): a Deny rule, a user outside
	// the rule's groups, an ambiguous path, a check from an untrusted
	// address.
	Forbidden Outcome = iota
	// SignInRequired: the visitor is anonymous and the rule needs a user
	// (401, or a redirect to the sign-in page).
	SignInRequired
	// Allowed: the request may proceed (200, with the identity headers).
	Allowed
)

func (o Outcome) String() string {
	switch o {
	case Allowed:
		return "allowed"
	case SignInRequired:
		return "sign_in_required"
	}
	return "forbidden"
}

// Decision is the result of a check.
type Decision struct {
	Outcome Outcome
	// User is the signed-in user, or nil for an anonymous visitor.
	User *User
	// SessionID is the session's store ID (never its token) when User is
	// set.
	SessionID string
	// Reason says why, for logs and metrics: "rule", "group", "deny",
	// "path", "host", "untrusted", "anonymous".
	Reason string
}

// Decide checks target for the visitor of r. It reads the session of r,
// so r must have passed through the session manager's middleware (the
// Handler's own endpoints do); it reads nothing else of r. Most callers
// want the Handler's endpoints, which call Decide; it is exported for apps
// that embed the decision in their own proxy.
func (h *Handler) Decide(r *http.Request, target Target) Decision {
	paths, err := pathReadings(target.URI)
	if err != nil {
		return Decision{Outcome: Forbidden, Reason: "path"}
	}
	host, ok := canonicalHost(target.Host)
	if !ok {
		return Decision{Outcome: Forbidden, Reason: "host"}
	}
	var d Decision
	if name := session.Subject(r.Context()); name != "" {
		if u, ok := h.users.Lookup(name); ok {
			d.User, d.SessionID = u, session.ID(r.Context())
		}
	}
	// Every reading of the path must be allowed: with path parameters
	// cut or kept (pathReadings), and compared exactly or case-folded
	// (for upstreams on case-insensitive file systems).
	outcome, reason := Allowed, ""
	for _, path := range paths {
		for _, fold := range []bool{false, true} {
			if o, why := judge(h.policy.match(host, path, fold), d.User); o < outcome || reason == "" {
				outcome, reason = o, why
			}
		}
	}
	d.Outcome, d.Reason = outcome, reason
	return d
}

// judge applies one rule to a user (nil for anonymous).
func judge(rule Rule, u *User) (Outcome, string) {
	switch {
	case rule.Access == Deny:
		return Forbidden, "deny"
	case rule.Access == Anonymous:
		return Allowed, "rule"
	case u == nil:
		return SignInRequired, "anonymous"
	case len(rule.Groups) > 0 && !u.InGroup(rule.Groups...):
		return Forbidden, "group"
	}
	return Allowed, "rule"
}

// check decides target for r, refusing it when r does not come from a
// trusted proxy (whose headers are then not read at all), and reports the
// decision to the hook and the log.
func (h *Handler) check(contract string, r *http.Request, target func() Target) (Decision, Target) {
	var d Decision
	var t Target
	if !h.fromTrustedProxy(r) {
		d = Decision{Outcome: Forbidden, Reason: "untrusted"}
		h.log.WarnContext(r.Context(), "forwardauth: check from an untrusted address refused", "contract", contract, "peer", r.RemoteAddr)
	} else {
		t = target()
		if t.Method == "" {
			t.Method = http.MethodGet
		}
		if t.Scheme != "http" {
			t.Scheme = "https"
		}
		d = h.Decide(r, t)
	}
	if d.Outcome == Forbidden && d.Reason != "untrusted" {
		h.log.InfoContext(r.Context(), "forwardauth: refused", "contract", contract, "reason", d.Reason, "user", userName(d.User))
	}
	if h.onDecide != nil {
		h.onDecide(contract, d)
	}
	return d, t
}

func userName(u *User) string {
	if u == nil {
		return ""
	}
	return u.Name
}

// allow writes the identity headers of an allowed request.
func (h *Handler) allow(w http.ResponseWriter, d Decision) {
	h.headers.set(w.Header(), d)
	w.WriteHeader(http.StatusOK)
}

// loginLocation returns where to send a visitor who must sign in to reach t:
// LoginURL with t in its rd parameter, when t is a target the sign-in page
// would accept (a path when LoginURL is a path, an https URL on an allowed
// host otherwise), and LoginURL alone when it is not.
func (h *Handler) loginLocation(t Target) string {
	rd := t.Scheme + "://" + t.Host + t.URI
	if strings.HasPrefix(h.loginURL, "/") {
		rd = t.URI
	}
	rd, ok := h.redirects.target(rd)
	if !ok {
		return h.loginURL
	}
	sep := "?"
	if strings.Contains(h.loginURL, "?") {
		sep = "&"
	}
	return h.loginURL + sep + "rd=" + queryEscape(rd)
}

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
}
