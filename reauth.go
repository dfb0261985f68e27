package session

import (
	"context"
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
// example a redirect to the login page with a return address). It must run
// inside Manager.Handler.
func RequireRecentAuth(maxAge time.Duration, reauth http.Handler) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !AuthenticatedWithin(r.Context(), maxAge) {
				reauth.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
