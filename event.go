package session

import (
	"context"
	"log/slog"
	"net/http"
)

// EventKind names a lifecycle event.
type EventKind string

// Lifecycle events passed to Config.OnEvent.
const (
	// EventCreated: a new session was stored.
	EventCreated EventKind = "created"
	// EventRenewed: the session moved to a new ID (login, privilege change).
	EventRenewed EventKind = "renewed"
	// EventDestroyed: the session was ended by the application (logout).
	EventDestroyed EventKind = "destroyed"
	// EventExpired: a request came with a session past its idle or absolute
	// deadline.
	EventExpired EventKind = "expired"
	// EventMalformed: a request came with a token of the wrong shape. It
	// never reaches the store; count these per client to limit ID guessing.
	EventMalformed EventKind = "malformed"
	// EventUnknown: a request came with a well-formed token that matches no
	// session the store knows of: expired and already purged, or guessed.
	// Count these (with EventMalformed) per client to detect ID guessing.
	EventUnknown EventKind = "unknown"
	// EventStale: a request came with the token of a session that was
	// renewed or ended moments ago (another tab, a request sent before the
	// new cookie arrived). Ordinary traffic, not guessing.
	EventStale EventKind = "stale"
	// EventDiscarded: a request's changes were dropped because the session
	// was destroyed first (logout wins, Err is ErrDestroyed) or its login
	// changed first (Err is ErrAuthChanged).
	EventDiscarded EventKind = "discarded"
	// EventCorrupt: a stored record could not be decoded; it was deleted and
	// the visitor starts a fresh session.
	EventCorrupt EventKind = "corrupt"
	// EventConflict: a commit found the session changed by a concurrent
	// request and replayed its changes.
	EventConflict EventKind = "conflict"
	// EventStoreError: the store failed; the request failed closed.
	EventStoreError EventKind = "store_error"
	// EventRevoked: a session was ended by the application on behalf of its
	// user or an admin (a device revoked, log out everywhere).
	EventRevoked EventKind = "revoked"
	// EventEvicted: a login beyond Config.MaxSessionsPerUser ended the
	// user's oldest session.
	EventEvicted EventKind = "evicted"
	// EventLimit: a login was refused by Config.MaxSessionsPerUser.
	EventLimit EventKind = "limit"
	// EventClientChanged: the session is used by a client with another user
	// agent or from another network than the one that logged in.
	EventClientChanged EventKind = "client_changed"
	// EventTouched: a read-only request extended the idle deadline.
	EventTouched EventKind = "touched"
	// EventTouchAvoided: a read-only request wrote nothing because the
	// session was touched within Config.TouchInterval.
	EventTouchAvoided EventKind = "touch_avoided"
)

// Event describes something that happened to a session. It carries the
// session's store ID (a SHA-256 of the token), never the token.
type Event struct {
	Kind EventKind
	// ID is the store ID of the session, empty when there is none.
	ID string
	// Subject is the session's user, when known.
	Subject string
	// Request is the request during which it happened.
	Request *http.Request
	// Err is the error behind EventStoreError and EventCorrupt.
	Err error
}

// LogEvents returns an OnEvent hook that logs each event to logger with the
// session's store ID, never its token: the audit trail of SECURITY.md's
// "Abuse" section (TestLogEventsNeverLogsTokens checks it).
// Routine events (touched, conflict) are logged at Debug, rejections and
// client changes at Warn, the rest at Info.
func LogEvents(logger *slog.Logger) func(context.Context, Event) {
	return func(ctx context.Context, e Event) {
		level := slog.LevelInfo
		switch e.Kind {
		case EventTouched, EventTouchAvoided, EventConflict:
			level = slog.LevelDebug
		case EventMalformed, EventUnknown, EventClientChanged, EventLimit, EventDiscarded, EventCorrupt:
			level = slog.LevelWarn
		case EventStoreError:
			level = slog.LevelError
		}
		if !logger.Enabled(ctx, level) {
			return
		}
		attrs := []slog.Attr{slog.String("event", string(e.Kind))}
		if e.ID != "" {
			attrs = append(attrs, slog.String("session", e.ID))
		}
		if e.Subject != "" {
			attrs = append(attrs, slog.String("subject", e.Subject))
		}
		if e.Request != nil {
			addr, _ := clientOf(e.Request, nil)
			attrs = append(attrs, slog.String("client", addr))
		}
		if e.Err != nil {
			attrs = append(attrs, slog.String("err", e.Err.Error()))
		}
		logger.LogAttrs(ctx, level, "session "+string(e.Kind), attrs...)
	}
}
