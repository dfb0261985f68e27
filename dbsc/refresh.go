package dbsc

import (
	"errors"
	"net/http"

	"github.com/sessionkit/session"
)

// Refresh returns the handler for Config.RefreshPath, which the browser
// calls when the bound cookie is missing or about to expire (spec sections
// "Identify session needing refresh" and "Send request"):
//
//   - Without a proof it answers 403 with a fresh Secure-Session-Challenge,
//     and the browser retries with a proof of it.
//   - With a proof signed by the session's registered key (no jwk in it)
//     over a fresh, unused refresh challenge of this session, it sets a new
//     bound cookie and answers the session instructions.
//   - For a session that is over (logged out, revoked, expired, logged in
//     again since the key was registered) or a Sec-Secure-Session-Id that
//     is not the session's, it answers {"continue": false}, which ends the
//     browser's bound session, and expires the bound cookie.
//
// Statuses follow what the browser does with them ("Send request"): 403
// means "sign this challenge", another 4xx ends the browser's session,
// 429 and 5xx leave it for later. It must run inside the session manager's
// middleware.
func (b *Binder) Refresh() http.Handler {
	return http.HandlerFunc(b.refresh)
}

func (b *Binder) refresh(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ctx, now := r.Context(), b.cfg.Now()
	refuse := func(code int, reason Reason, storeID, thumb string, err error) {
		b.emit(ctx, Event{Kind: EventRefused, Reason: reason, SessionID: storeID, Thumbprint: thumb, Request: r, Err: err})
		writeJSON(w, code, errorBody{Error: reason})
	}

	// Sec-Secure-Session-Id: a Sec- header, which no page script can set,
	// so its presence shows the browser itself made the request (spec
	// section "Server considerations").
	header, ok := singleHeader(r.Header, "Sec-Secure-Session-Id")
	sid, ok2 := parseSFString(header)
	if !ok || !ok2 || sid == "" {
		refuse(http.StatusBadRequest, ReasonNoSessionID, "", "", nil)
		return
	}

	bd, info, err := current(ctx)
	if err != nil {
		refuse(http.StatusServiceUnavailable, ReasonStore, "", "", err)
		return
	}
	end := func(reason Reason) {
		b.expireBoundCookie(w)
		b.emit(ctx, Event{Kind: EventEnded, Reason: reason, SessionID: info.ID, Request: r})
		stop := false
		writeJSON(w, http.StatusOK, instructions{Continue: &stop})
	}
	switch {
	case info.New:
		end(ReasonNoSession)
		return
	case bd == nil:
		end(ReasonUnregistered)
		return
	case bd.ID != sid:
		end(ReasonSessionMismatch)
		return
	}

	challenge := func(code int, reason Reason, err error) {
		ch := b.newChallenge(purposeRefresh, info.ID, bd.ID, now)
		w.Header().Set("Secure-Session-Challenge", `"`+ch+`";id=`+string(appendSFString(nil, bd.ID)))
		if reason == "" {
			b.emit(ctx, Event{Kind: EventChallenged, SessionID: info.ID, Thumbprint: bd.Thumbprint, Request: r})
			writeJSON(w, code, errorBody{Error: "challenge"})
			return
		}
		refuse(code, reason, info.ID, bd.Thumbprint, err)
	}

	header, ok = singleHeader(r.Header, "Secure-Session-Response")
	if len(r.Header.Values("Secure-Session-Response")) == 0 {
		challenge(http.StatusForbidden, "", nil)
		return
	}
	token, ok2 := parseSFString(header)
	if !ok || !ok2 {
		refuse(http.StatusBadRequest, ReasonNoProof, info.ID, bd.Thumbprint, nil)
		return
	}
	key, err := bd.publicKey()
	if err != nil {
		// A binding whose key no longer parses cannot be refreshed; end it
		// and let the next login register afresh.
		end(ReasonUnregistered)
		return
	}
	p, err := verifyProof(token, key)
	if err != nil {
		// A proof that does not verify with the registered key never will:
		// 400 ends the browser's session rather than have it retry.
		var pe *proofError
		errors.As(err, &pe)
		refuse(http.StatusBadRequest, pe.reason, info.ID, bd.Thumbprint, err)
		return
	}
	c, reason := b.checkChallenge(p.jti, purposeRefresh, info.ID, bd.ID, now)
	if reason != "" {
		// A stale or foreign challenge: 403 with a fresh one, which a
		// browser that merely answered an old challenge signs in turn.
		challenge(http.StatusForbidden, reason, nil)
		return
	}

	_, err = session.Update(ctx, ValueKey, markUsed(bd.ID, info.AuthTime, c, b.cfg.ChallengeTTL, now))
	if err == nil {
		err = session.Commit(ctx)
	}
	switch {
	case err == nil:
	case errors.Is(err, errReplay):
		challenge(http.StatusForbidden, ReasonReplay, err)
		return
	case errors.Is(err, errTooManyProofs):
		w.Header().Set("Retry-After", "60")
		refuse(http.StatusTooManyRequests, ReasonTooManyProofs, info.ID, bd.Thumbprint, err)
		return
	case errors.Is(err, errUnbound), errors.Is(err, session.ErrDestroyed), errors.Is(err, session.ErrAuthChanged):
		end(ReasonNoSession)
		return
	default:
		refuse(http.StatusServiceUnavailable, ReasonStore, info.ID, bd.Thumbprint, err)
		return
	}

	b.setBoundCookie(w, bd, now)
	b.emit(ctx, Event{Kind: EventRefreshed, SessionID: session.ID(ctx), Thumbprint: bd.Thumbprint, Request: r})
	writeJSON(w, http.StatusOK, b.instructionsFor(bd))
}
