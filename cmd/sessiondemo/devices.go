package main

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sessionkit/session"
)

// device is a session as the devices and admin pages show it.
type device struct {
	ID         string // store ID (a SHA-256 of the token): safe to show
	Device     string // "Chrome 131 on Linux"
	Addr       string
	Created    time.Time
	LastActive time.Time
	Current    bool
	Persistent bool
}

// ShortID is the start of the store ID, enough to tell sessions apart.
func (d device) ShortID() string { return d.ID[:min(len(d.ID), 12)] }

func devicesOf(list []session.Metadata) []device {
	out := make([]device, len(list))
	for i, m := range list {
		out[i] = device{
			ID: m.ID, Device: summarizeUA(m.UserAgent), Addr: m.ClientAddr,
			Created: m.Created, LastActive: m.LastActive, Current: m.Current, Persistent: m.Persistent,
		}
	}
	return out
}

type devicesView struct {
	Devices      []device
	Evicted      []evictedSession // signed out to make room for this session
	Max          int
	Unsupported  bool
	ReauthMinute int
}

// GET /account/sessions: the user's sessions ("your devices").
func (a *app) devicesPage(w http.ResponseWriter, r *http.Request) {
	if a.requireUser(w, r) == nil {
		return
	}
	v := devicesView{ReauthMinute: int((a.recentAuth + time.Minute - 1) / time.Minute), Max: a.maxSessions}
	evicted, err := session.Get[[]evictedSession](r.Context(), keyEvicted)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v.Evicted = evicted
	list, err := session.Devices(r.Context())
	switch {
	case errors.Is(err, session.ErrUnsupported):
		v.Unsupported = true
	case err != nil:
		a.fail(w, r, err)
		return
	}
	v.Devices = devicesOf(list)
	a.render(w, r, http.StatusOK, "devices", "devices.title", v)
}

// POST /account/sessions/revoke (id): sign out one of the user's other
// sessions. An ID that is not one of theirs is refused by RevokeDevice.
func (a *app) revokeDevice(w http.ResponseWriter, r *http.Request) {
	if a.requireUser(w, r) == nil {
		return
	}
	err := session.RevokeDevice(r.Context(), r.PostFormValue("id"))
	switch {
	case errors.Is(err, session.ErrNotFound):
		a.flashError(r, "devices.not_found")
	case errors.Is(err, session.ErrUnsupported):
		a.flashError(r, "devices.unsupported")
	case err != nil:
		a.fail(w, r, err)
		return
	default:
		a.flash(r, "devices.revoked")
	}
	redirect(w, r, "/account/sessions")
}

// POST /account/sessions/revoke-others: sign out every other session of the
// user. Routed behind session.RequireRecentAuth: a stolen session that is
// not fresh cannot lock the owner out.
func (a *app) revokeOtherDevices(w http.ResponseWriter, r *http.Request) {
	if a.requireUser(w, r) == nil {
		return
	}
	n, err := session.RevokeOtherDevices(r.Context())
	switch {
	case errors.Is(err, session.ErrUnsupported):
		a.flashError(r, "devices.unsupported")
	case err != nil:
		a.fail(w, r, err)
		return
	default:
		a.flash(r, "devices.revoked_n", strconv.Itoa(n))
	}
	redirect(w, r, "/account/sessions")
}

type adminView struct {
	Users       []adminUser
	Total       int
	HasTotal    bool
	Unsupported bool
	Alerts      []guessAlert // session ID guessing seen by this instance
}

type adminUser struct {
	Name     string
	Role     string
	Sessions []device
	Disabled bool
	Self     bool // the admin looking at the page, who cannot disable themselves
}

// GET /admin/sessions: live sessions of every known user. Admins only: 403
// for customers, the login page for anonymous visitors.
func (a *app) adminPage(w http.ResponseWriter, r *http.Request) {
	if !a.requireAdmin(w, r) {
		return
	}
	ctx := r.Context()
	var v adminView
	for _, name := range userNames {
		list, err := a.web.Sessions(ctx, name)
		if errors.Is(err, session.ErrUnsupported) {
			v.Unsupported = true
			break
		}
		if err != nil {
			a.fail(w, r, err)
			return
		}
		current := session.ID(ctx)
		for i := range list {
			list[i].Current = list[i].ID == current
		}
		v.Users = append(v.Users, adminUser{Name: name, Role: users[name].Role, Sessions: devicesOf(list),
			Disabled: a.accounts.Disabled(name), Self: name == session.Subject(ctx)})
	}
	if c, ok := a.store.(session.Counter); ok {
		n, err := c.Count(ctx)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		v.Total, v.HasTotal = n, true
	}
	v.Alerts = a.guessing.Recent()
	a.render(w, r, http.StatusOK, "admin", "admin.title", v)
}

// POST /admin/sessions/revoke (user): end every session of a user.
func (a *app) adminRevoke(w http.ResponseWriter, r *http.Request) {
	if !a.requireAdmin(w, r) {
		return
	}
	ctx := r.Context()
	name := r.PostFormValue("user")
	if lookupUser(name) == nil {
		http.Error(w, "unknown user", http.StatusBadRequest)
		return
	}
	n, err := a.web.RevokeSubject(context.WithValue(ctx, actorKey{}, session.Subject(ctx)), name)
	if errors.Is(err, session.ErrUnsupported) {
		a.flashError(r, "devices.unsupported")
		redirect(w, r, "/admin/sessions")
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.log.InfoContext(ctx, "admin revoked sessions", "admin", session.Subject(ctx), "subject", name, "count", n)
	if name == session.Subject(ctx) {
		// The admin ended their own session too: it is gone from the
		// store, and the flash below would have nowhere to go.
		redirect(w, r, "/login")
		return
	}
	a.flash(r, "admin.revoked", strconv.Itoa(n), name)
	redirect(w, r, "/admin/sessions")
}

// requireAdmin lets admins through; others get the login page (anonymous)
// or 403 (customers).
func (a *app) requireAdmin(w http.ResponseWriter, r *http.Request) bool {
	u := a.requireUser(w, r)
	if u == nil {
		return false
	}
	if !u.Admin() {
		a.log.WarnContext(r.Context(), "admin page refused", "subject", u.Name)
		a.forbidden(w, r)
		return false
	}
	return true
}

// summarizeUA turns a User-Agent header into "Firefox 128 on Linux". It
// knows the common browsers and a few tools, and falls back to the first
// word of the header.
func summarizeUA(ua string) string {
	if ua == "" {
		return "unknown client"
	}
	browser := ""
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"},
		{"HeadlessChrome/", "Headless Chrome"}, {"Chrome/", "Chrome"}, {"Version/", "Safari"},
		{"curl/", "curl"}, {"Go-http-client/", "Go HTTP client"},
	} {
		if i := strings.Index(ua, b.token); i >= 0 {
			browser = b.name
			if v := leadingNumber(ua[i+len(b.token):]); v != "" {
				browser += " " + v
			}
			break
		}
	}
	if browser == "" {
		browser, _, _ = strings.Cut(ua, " ")
		if len(browser) > 40 {
			browser = browser[:40]
		}
	}
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			return browser + " on " + o.name
		}
	}
	return browser
}

// leadingNumber returns the digits at the start of s ("131" of "131.0.1").
func leadingNumber(s string) string {
	i := 0
	for i < len(s) && i < 8 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}
