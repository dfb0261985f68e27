package csrf

import (
	"errors"
	"fmt"
)

// Reasons a request is refused. The error handed to Options.ErrorHandler and
// Options.OnReject wraps one of them, with detail; check it with errors.Is.
// None of them ever holds a token.
var (
	// ErrCrossOrigin: the browser says the request comes from another
	// site (Sec-Fetch-Site), or, for a browser that does not send
	// Sec-Fetch-Site, its Origin matches neither the host nor a trusted
	// origin.
	ErrCrossOrigin = errors.New("csrf: cross-origin request")
	// ErrMissingToken: the request carries no token, in neither the header
	// nor the form field.
	ErrMissingToken = errors.New("csrf: missing token")
	// ErrMalformedToken: the token is not something Token issues (wrong
	// length or alphabet). It is refused before the session is read.
	ErrMalformedToken = errors.New("csrf: malformed token")
	// ErrBadToken: the token is well formed but was not issued for this
	// session: it comes from another session, from a session that expired,
	// or from before the session was renewed (login). For a token issued to
	// a visitor without a session: it is forged, was issued to another
	// client or site, has expired, or the request now has a session.
	ErrBadToken = errors.New("csrf: invalid token")
)

// The detailed forms, built once.
var (
	errFromOtherSite  = fmt.Errorf("%w: Sec-Fetch-Site says another site sent it", ErrCrossOrigin)
	errOriginMismatch = fmt.Errorf("%w: Origin matches neither the host nor a trusted origin", ErrCrossOrigin)
	errNoSecret       = fmt.Errorf("%w: the session has no token (it is new, expired or was renewed)", ErrBadToken)
	errMismatch       = fmt.Errorf("%w: not issued for this session", ErrBadToken)

	errForeignSessionless     = fmt.Errorf("%w: not issued by this site to this client", ErrBadToken)
	errExpiredSessionless     = fmt.Errorf("%w: the token for visitors without a session has expired", ErrBadToken)
	errSessionlessWithSession = fmt.Errorf("%w: a token for visitors without a session, but the request has one", ErrBadToken)
)

// rejection reports whether err is one of the reasons above, as opposed to a
// failure (a store error, a missing session middleware).
func rejection(err error) bool {
	return errors.Is(err, ErrCrossOrigin) || errors.Is(err, ErrMissingToken) ||
		errors.Is(err, ErrMalformedToken) || errors.Is(err, ErrBadToken)
}
