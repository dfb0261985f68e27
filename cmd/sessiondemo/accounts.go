package main

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"

	"github.com/sessionkit/session"
)

// Account disable: an admin disables an account on the admin page, which
// ends every session of the user at once (Manager.RevokeSubject) and
// refuses their logins until an admin enables it again. The demo keeps the
// disabled accounts in this process's memory, beside its two hard-coded
// users; a real application keeps the flag in its user table, where every
// instance reads it.

// accounts holds the disabled accounts. It is safe for concurrent use.
type accounts struct {
	mu       sync.RWMutex
	disabled map[string]bool
}

// Disabled reports whether the account name is disabled.
func (s *accounts) Disabled(name string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.disabled[name]
}

func (s *accounts) set(name string, disabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.disabled == nil {
		s.disabled = map[string]bool{}
	}
	if disabled {
		s.disabled[name] = true
	} else {
		delete(s.disabled, name)
	}
}

// refuseDisabled ends a session of a disabled account that is still in use
// (a login that raced the disable) and sends the browser home. The disable
// itself ends the sessions: this only closes the race.
func (a *app) refuseDisabled(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name := session.Subject(r.Context()); name != "" && a.accounts.Disabled(name) {
			if err := session.Destroy(r.Context()); err != nil {
				a.fail(w, r, err)
				return
			}
			redirect(w, r, "/login")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// refuseDisabledAPI is refuseDisabled for the JSON API.
func (a *app) refuseDisabledAPI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name := session.Subject(r.Context()); name != "" && a.accounts.Disabled(name) {
			if err := session.Destroy(r.Context()); err != nil {
				a.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusUnauthorized, apiError{"account disabled"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// POST /admin/users/disable (user): disable an account and end its sessions.
func (a *app) adminDisable(w http.ResponseWriter, r *http.Request) {
	a.adminSetDisabled(w, r, true)
}

// POST /admin/users/enable (user): let a disabled account sign in again.
func (a *app) adminEnable(w http.ResponseWriter, r *http.Request) {
	a.adminSetDisabled(w, r, false)
}

func (a *app) adminSetDisabled(w http.ResponseWriter, r *http.Request, disable bool) {
	if !a.requireAdmin(w, r) {
		return
	}
	ctx := r.Context()
	admin := session.Subject(ctx)
	name := r.PostFormValue("user")
	if lookupUser(name) == nil {
		a.render(w, r, http.StatusBadRequest, "error", "error.bad_request", errorPage{Text: "admin.unknown_user"})
		return
	}
	if !disable {
		a.accounts.set(name, false)
		a.activity.record(activityEvent{Kind: actEnabled, User: name, By: admin, Client: clientSummary(r)})
		a.log.InfoContext(ctx, "admin enabled an account", "admin", admin, "subject", name)
		a.flash(r, "admin.enabled", name)
		redirect(w, r, "/admin/sessions")
		return
	}
	if name == admin {
		a.flashError(r, "admin.disable_self")
		redirect(w, r, "/admin/sessions")
		return
	}
	// Disable first, then end the sessions: a login that passes the check
	// before the flag is set is ended by the revoke, or by refuseDisabled.
	a.accounts.set(name, true)
	a.activity.record(activityEvent{Kind: actDisabled, User: name, By: admin, Client: clientSummary(r)})
	n, err := a.web.RevokeSubject(context.WithValue(ctx, actorKey{}, admin), name)
	switch {
	case errors.Is(err, session.ErrUnsupported):
		// The store cannot list them: refuseDisabled ends each session
		// at its next request.
		a.flash(r, "admin.disabled_later", name)
	case err != nil:
		a.fail(w, r, err)
		return
	default:
		a.flash(r, "admin.disabled", name, strconv.Itoa(n))
	}
	a.log.InfoContext(ctx, "admin disabled an account", "admin", admin, "subject", name, "sessions_ended", n)
	redirect(w, r, "/admin/sessions")
}
