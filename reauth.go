package session

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// AuthenticatedWithin reports whether the current user logged in (Login)
// less than d ago. Sensitive actions (changing a password, revoking other
// devices, paying) should demand it.
func AuthenticatedWithin(ctx context.Context, d time.Duration) bool {
	st, err := lock(ctx)
	if err != nil {
		return false
	}
	defer st.mu.Unlock()
	if st.destroy {
		return false
	}
	age, ok := authAge(st.rec, st.now())
	return ok && age < d
}

// RequireRecentAuth returns middleware that lets a request through only if
// its user logged in less than maxAge ago; otherwise reauth answers (for
// example a redirect to the login page with a return address). A store
// failure is answered by Config.ErrorHandler, not by reauth. It must run
// inside Manager.Handler.
func RequireRecentAuth(maxAge time.Duration, reauth http.Handler) func(http.Handler) http.Handler {
	return guard(reauth, func(st *state) bool {
		age, ok := authAge(st.rec, st.now())
		return ok && age < maxAge
	})
}

// RequireLogin returns middleware that lets a request through only if its
// session has a user (see Login); otherwise login answers (a redirect to
// the sign-in page, a 401 for an API). A store failure is answered by
// Config.ErrorHandler, never by login: an outage must not look like a
// signed-out user. It must run inside Manager.Handler.
func RequireLogin(login http.Handler) func(http.Handler) http.Handler {
	return guard(login, func(st *state) bool { return st.rec != nil && st.rec.Subject != "" })
}

// guard is the middleware of RequireLogin and RequireRecentAuth: ok decides
// on the request's loaded session, otherwise answers when it refuses.
func guard(otherwise http.Handler, ok func(st *state) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			st, err := lock(r.Context())
			if errors.Is(err, ErrNoMiddleware) {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			if err != nil {
				st, _ := from(r.Context())
				st.m.cfg.ErrorHandler(w, r, err)
				return
			}
			pass := !st.destroy && ok(st)
			st.mu.Unlock()
			if !pass {
				otherwise.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
