package dbsc

import (
	"errors"
	"net/http"

	"github.com/sessionkit/session"
)

// Registration returns the handler for Config.RegistrationPath, where the
// browser posts its proof after Offer (spec section "Send request", called
// from "Process session registration"). It verifies the proof (a
// dbsc+jwt signed with the key in its jwk header, whose jti is a fresh
// registration challenge issued for this session), stores the public key
// in the session, sets the bound cookie and answers the session
// instructions. A key already registered for the session's login is never
// replaced. It must run inside the session manager's middleware.
func (b *Binder) Registration() http.Handler {
	return http.HandlerFunc(b.register)
}

func (b *Binder) register(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ctx, now := r.Context(), b.cfg.Now()
	refuse := func(code int, reason Reason, storeID string, err error) {
		b.emit(ctx, Event{Kind: EventRefused, Reason: reason, SessionID: storeID, Request: r, Err: err})
		writeJSON(w, code, errorBody{Error: reason})
	}

	header, ok := singleHeader(r.Header, "Secure-Session-Response")
	token, ok2 := parseSFString(header)
	if !ok || !ok2 {
		refuse(http.StatusBadRequest, ReasonNoProof, "", nil)
		return
	}
	// The proof is verified before the session is read: a forged or
	// malformed one costs no store call.
	p, err := verifyProof(token, nil)
	if err != nil {
		var pe *proofError
		errors.As(err, &pe)
		refuse(http.StatusBadRequest, pe.reason, "", err)
		return
	}

	info, err := session.Info(ctx)
	if err != nil {
		refuse(http.StatusServiceUnavailable, ReasonStore, "", err)
		return
	}
	if info.New {
		refuse(http.StatusForbidden, ReasonNoSession, "", nil)
		return
	}
	c, reason := b.checkChallenge(p.jti, purposeRegistration, info.ID, "", now)
	if reason != "" {
		refuse(http.StatusForbidden, reason, info.ID, nil)
		return
	}

	nb := binding{
		ID:         newBindingID(),
		Alg:        p.key.alg,
		Key:        string(p.key.canonical),
		Thumbprint: p.key.thumbprint(),
		AuthTime:   authNanos(info.AuthTime),
		Registered: now.Unix(),
	}
	// Update runs register on the session's value and, if a concurrent
	// request commits first, again on the newer one; Commit reports which
	// won. So a racing or replayed registration finds the key that landed
	// first and is refused.
	_, err = session.Update(ctx, ValueKey, register(nb, c, b.cfg.ChallengeTTL))
	if err == nil {
		err = session.Commit(ctx)
	}
	switch {
	case err == nil:
	case errors.Is(err, errRegistered):
		refuse(http.StatusConflict, ReasonRegistered, info.ID, err)
		return
	case errors.Is(err, session.ErrDestroyed), errors.Is(err, session.ErrAuthChanged):
		refuse(http.StatusForbidden, ReasonNoSession, info.ID, err)
		return
	default:
		refuse(http.StatusServiceUnavailable, ReasonStore, info.ID, err)
		return
	}

	b.setBoundCookie(w, &nb, now)
	b.emit(ctx, Event{Kind: EventRegistered, SessionID: session.ID(ctx), Thumbprint: nb.Thumbprint, Request: r})
	writeJSON(w, http.StatusOK, b.instructionsFor(&nb))
}
