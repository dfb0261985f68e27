package dbsc

import (
	"context"
	"net/http"
)

// EventKind names what happened to a device-bound session. The kinds are a
// small fixed set, fit to be a metric label.
type EventKind string

// Events passed to Config.OnEvent.
const (
	// EventOffered: a response carried Secure-Session-Registration.
	EventOffered EventKind = "offered"
	// EventRegistered: a browser registered a key; the session is bound.
	EventRegistered EventKind = "registered"
	// EventChallenged: a refresh was answered 403 with a fresh
	// Secure-Session-Challenge, as every refresh first is.
	EventChallenged EventKind = "challenged"
	// EventRefreshed: a refresh proof verified; a new bound cookie was set.
	EventRefreshed EventKind = "refreshed"
	// EventRefused: a registration or refresh was refused (Reason says
	// why), or a route that requires a bound session refused a request.
	EventRefused EventKind = "refused"
	// EventEnded: a refresh came for a session that is over (logged out,
	// revoked, expired, logged in again) and was answered
	// {"continue": false}, which ends the browser's bound session.
	EventEnded EventKind = "ended"
	// EventUnbound: a route that prefers a bound session served a request
	// without one (Reason says why).
	EventUnbound EventKind = "unbound"
	// EventSkipped: the browser said, in Secure-Session-Skipped, that it
	// did not refresh (Reason is its token).
	EventSkipped EventKind = "skipped"
)

// Event describes something that happened to a device-bound session. It
// carries the session's store ID (a SHA-256 of the token), never the token,
// and never a proof or a cookie value.
type Event struct {
	Kind   EventKind
	Reason Reason // empty for offered, registered, challenged, refreshed
	// SessionID is the store ID of the session, empty when there is none.
	SessionID string
	// Thumbprint is the RFC 7638 thumbprint of the registered key, when
	// there is one: public, and what ties the events of one device together.
	Thumbprint string
	Request    *http.Request
	Err        error // the verification error behind a refusal, if any
}

func (b *Binder) emit(ctx context.Context, e Event) {
	if b.cfg.OnEvent != nil {
		b.cfg.OnEvent(ctx, e)
	}
}
