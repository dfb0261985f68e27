package session

import "errors"

// Errors returned by stores. Stores wrap them with the operation
// (fmt.Errorf("pgstore: load: %w", ErrNotFound)); check them with errors.Is.
var (
	// ErrNotFound: no live session is stored under the ID.
	ErrNotFound = errors.New("session: not found")
	// ErrExpired: a record is stored under the ID but its deadline passed.
	// It wraps ErrNotFound, so code that checks for ErrNotFound treats both
	// alike; stores return it where they can still tell (before a sweep or a
	// TTL removed the record), so that expiry is reported as expiry rather
	// than as an unknown ID.
	ErrExpired error = expiredError{}
	// ErrConflict: the stored version is not the one a commit expected.
	ErrConflict = errors.New("session: version conflict")
	// ErrTooLarge: a record is larger than the store (or Config.MaxRecordBytes)
	// accepts. It is permanent: retrying the same record fails again, so the
	// manager reports it as a programming error (500), not as an outage.
	ErrTooLarge = errors.New("session: record too large")
	// ErrCorrupt: a stored record cannot be decoded. The manager logs it,
	// deletes the record and starts a fresh session.
	ErrCorrupt = errors.New("session: corrupt record")
)

// Errors returned by the manager and the functions used inside handlers.
var (
	// ErrNoMiddleware: the context does not come from a request served by
	// Manager.Handler.
	ErrNoMiddleware = errors.New("session: no session in context (is the handler wrapped by Manager.Handler?)")
	// ErrResponseStarted: the session was changed after the response headers
	// were sent, when the change could no longer be committed.
	ErrResponseStarted = errors.New("session: change after the response started")
	// ErrDestroyed: the session was destroyed (logged out, revoked or
	// expired) by another request before this request's changes could be
	// committed; they were discarded, because a logout always wins.
	ErrDestroyed = errors.New("session: session was destroyed; changes discarded")
	// ErrAuthChanged: the session was logged in, logged out or
	// re-authenticated by a concurrent request after this request loaded it;
	// this request's changes were discarded so that they cannot cross from
	// one user (or an anonymous visitor, who may be an attacker who planted
	// the ID) to another. The default ErrorHandler answers 409 Conflict.
	ErrAuthChanged = errors.New("session: the session's login changed in a concurrent request; changes discarded")
	// ErrRenewalChain: the session was renewed by concurrent requests more
	// often than a commit follows while it ran. The default ErrorHandler
	// answers 503 with Retry-After.
	ErrRenewalChain = errors.New("session: renewed too many times during the request")
	// ErrTooManyConflicts: concurrent writers kept changing the session and the
	// commit gave up after Config.MaxRetries attempts.
	ErrTooManyConflicts = errors.New("session: too many concurrent changes")
	// ErrUnsupported: the store lacks the optional capability an operation
	// needs (for example a subject index).
	ErrUnsupported = errors.New("session: not supported by this store")
	// ErrLimit: a login was refused by the concurrent-session limit.
	ErrLimit = errors.New("session: concurrent session limit reached")
)

// StoreError reports that the store failed; the request fails closed
// (Config.ErrorHandler, 503 by default). It unwraps to the store's error.
type StoreError struct {
	Op  string // load, commit, delete, touch, ...
	Err error
}

func (e *StoreError) Error() string { return "session: store " + e.Op + ": " + e.Err.Error() }
func (e *StoreError) Unwrap() error { return e.Err }

// expiredError is ErrExpired: its own message, and ErrNotFound to errors.Is.
type expiredError struct{}

func (expiredError) Error() string        { return "session: expired" }
func (expiredError) Is(target error) bool { return target == ErrNotFound }
