package session

import "errors"

// Errors returned by stores. Stores wrap them with the operation
// (fmt.Errorf("pgstore: load: %w", ErrNotFound)); check them with errors.Is.
var (
	// ErrNotFound: no live session is stored under the ID.
	ErrNotFound = errors.New("session: not found")
	// ErrConflict: the stored version is not the one a commit expected.
	ErrConflict = errors.New("session: version conflict")
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
