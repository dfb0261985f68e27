package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/ratelimit"
	"github.com/sessionkit/session/sessionprom"
)

// Login attempts are limited per client address and per user name, counted
// before the password is checked, whether it is right or not. With the
// Redis backend every app instance shares the counts.
var (
	// loginPerUser: 5 attempts at once, then one every 3 minutes. A
	// successful login resets it.
	loginPerUser = ratelimit.Limit{Rate: 5, Per: 15 * time.Minute}
	// loginPerAddress: 30 attempts at once, then one every 30 seconds, so
	// one address cannot try a password on many accounts.
	loginPerAddress = ratelimit.Limit{Rate: 30, Per: 15 * time.Minute}
)

// loginLimits are the two limiters of login attempts.
type loginLimits struct {
	byAddress, byUser *ratelimit.Limiter
}

func newLoginLimits(backend ratelimit.Backend, opts ratelimit.Options) loginLimits {
	byAddr, byUser := opts, opts
	byAddr.Name, byUser.Name = "login-address", "login-user"
	return loginLimits{
		byAddress: ratelimit.New(backend, loginPerAddress, byAddr),
		byUser:    ratelimit.New(backend, loginPerUser, byUser),
	}
}

// errLimiter wraps a failure of the rate-limit backend: logins are refused
// (503) while it lasts, since a limit that protects accounts must not
// vanish with its backend.
var errLimiter = errors.New("rate limiter unavailable")

// attempt checks one login attempt. It returns the user when the password
// is right, or a positive retry when a limit refused the attempt (the
// password was then not checked), or neither when the user name or password
// is wrong.
func (a *app) attempt(r *http.Request, name, password string) (u *user, retry time.Duration, err error) {
	ctx := r.Context()
	for _, l := range []struct {
		lim *ratelimit.Limiter
		key string
	}{{a.limits.byAddress, clientKey(r)}, {a.limits.byUser, name}} {
		d, err := l.lim.Allow(ctx, l.key)
		if err != nil {
			return nil, 0, fmt.Errorf("%w: %w", errLimiter, err)
		}
		if !d.Allowed {
			if a.metrics != nil {
				a.metrics.Rejected(sessionprom.ReasonRateLimit)
			}
			target := ""
			if lookupUser(name) != nil {
				target = name // a made-up name is not shown
			}
			a.activity.record(activityEvent{Kind: actRateLimit, User: target, Client: clientSummary(r), Session: session.ID(ctx)})
			return nil, max(d.RetryAfter, time.Second), nil
		}
	}
	u = authenticate(name, password)
	if u == nil {
		a.log.InfoContext(ctx, "login failed", "client", clientKey(r))
		return nil, 0, nil
	}
	if err := a.limits.byUser.Reset(ctx, name); err != nil {
		a.log.WarnContext(ctx, "rate limit reset failed", "err", err)
	}
	return u, 0, nil
}

// retryAfter sets Retry-After in whole seconds, rounded up.
func retryAfter(w http.ResponseWriter, d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(s))
	return s
}

// signIn makes the request's session the user's: a new ID, a new absolute
// lifetime, and a persistent cookie if asked. Data of an anonymous visitor
// (a cart, preferences) stays; data of another user who was signed in on
// this browser does not.
func signIn(ctx context.Context, u *user, remember bool) error {
	if prev := session.Subject(ctx); prev != "" && prev != u.Name {
		p, err := session.Get[prefs](ctx, keyPrefs)
		if err != nil {
			return err
		}
		if err := session.Clear(ctx); err != nil {
			return err
		}
		if err := session.Put(ctx, keyPrefs, p); err != nil {
			return err
		}
	}
	if err := session.Login(ctx, u.Name); err != nil {
		return err
	}
	return session.RememberMe(ctx, remember)
}

type loginView struct {
	Username     string
	Next         string
	Error        string // message key
	RetrySeconds int
	Max          int // the session cap, for login.cap
	SignedInAs   string
	Why          string // message key: why a page sent the visitor here
}

// GET /login?next=/path
func (a *app) loginPage(w http.ResponseWriter, r *http.Request) {
	v := loginView{Next: safeNext(r.URL.Query().Get("next"))}
	if u := currentUser(r); u != nil {
		v.SignedInAs, v.Username = u.Name, u.Name
	} else if strings.HasPrefix(v.Next, "/admin/") {
		v.Why = "login.why_admin"
	} else if strings.HasPrefix(v.Next, "/account/") {
		v.Why = "login.why_account"
	}
	a.render(w, r, http.StatusOK, "login", "login.title", v)
}

// POST /login (username, password, remember, next)
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	name := normalizeName(r.PostFormValue("username"))
	v := loginView{Username: name, Next: safeNext(r.PostFormValue("next"))}
	u, retry, err := a.attempt(r, name, r.PostFormValue("password"))
	switch {
	case err != nil:
		a.fail(w, r, err)
		return
	case retry > 0:
		v.Error, v.RetrySeconds = "login.limited", retryAfter(w, retry)
		a.render(w, r, http.StatusTooManyRequests, "login", "login.title", v)
		return
	case u == nil:
		v.Error = "login.invalid"
		a.render(w, r, http.StatusUnprocessableEntity, "login", "login.title", v)
		return
	case a.accounts.Disabled(u.Name):
		// Said only to whoever knows the password.
		v.Error = "login.disabled"
		a.render(w, r, http.StatusForbidden, "login", "login.title", v)
		return
	}
	evicted, err := a.signInCapped(r, u, r.PostFormValue("remember") != "")
	switch {
	case errors.Is(err, session.ErrLimit):
		v.Error, v.Max = "login.cap", a.maxSessions
		a.render(w, r, http.StatusConflict, "login", "login.title", v)
		return
	case err != nil:
		a.fail(w, r, err)
		return
	case evicted > 0:
		a.flash(r, "flash.welcome_evicted", u.Name, strconv.Itoa(evicted), strconv.Itoa(a.maxSessions))
	default:
		a.flash(r, "flash.welcome", u.Name)
	}
	redirect(w, r, v.Next)
}

// POST /logout: the session is deleted from the store and the browser is
// told to drop its cookies (Config.ClearSiteData). Never reachable by GET.
func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	if err := session.Destroy(r.Context()); err != nil {
		a.fail(w, r, err)
		return
	}
	// The session, and the flash it would hold, is gone: the catalog says
	// it from the URL.
	redirect(w, r, "/?signed_out=1")
}
