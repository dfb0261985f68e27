package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSecurityFlows walks through the demo's abuse defences in three real
// browsers: a stolen cookie used from another browser (client change, with
// the default policy reauth) shows on the admin's activity page, the
// session cap signs out the oldest session and says so, and disabling an
// account ends its sessions and refuses its logins.
func TestSecurityFlows(t *testing.T) {
	requireChromium(t)
	dir := t.TempDir()
	bin := buildApp(t, dir)
	srv := startApp(t, bin, "127.0.0.1:0", filepath.Join(dir, "sessions.db"), "-max-sessions", "2")
	t.Cleanup(func() { srv.stop(t) })
	s := newShots(t)
	admin := newBrowser(t, "admin", srv.URL, s)
	bob := newBrowser(t, "bob", srv.URL, s)
	laptop := newBrowser(t, "bob's laptop", srv.URL, s)

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"ClientChangeOnActivityPage", func(t *testing.T) {
			admin.t, bob.t = t, t
			admin.login("alice", "wonderland")
			bob.open("/")
			bob.submit("#add-tea")
			bob.login("bob", "builder")
			// The same cookie, another browser: as if it were stolen.
			bob.setUserAgent("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0")
			bob.open("/account/sessions")
			if got := bob.signedInAs(); got != "" {
				t.Fatalf("the changed client is still signed in: %q", got)
			}
			if !bob.has("#login-form") {
				t.Error("the changed client was not sent to the login page")
			}
			admin.open("/admin/activity")
			if got := admin.attr("tr.event", "data-kind"); got != "revoked" {
				t.Errorf("newest activity row %q, want the reauth's revocation", got)
			}
			row := admin.text(`tr.event[data-kind="client_change"]`)
			if !strings.Contains(row, "bob") || !strings.Contains(row, "Firefox 128 on Windows") {
				t.Errorf("client change row %q, want bob and the new browser", row)
			}
			// SVG text has no innerText.
			if got := element[string](admin, `#activity-chart g[data-kind="client_change"] text.count`, "e.textContent"); got != "1" {
				t.Errorf("chart: client changes %q, want 1", got)
			}
			admin.shot("activity-client-change")
		}},
		{"CapEvictsOldest", func(t *testing.T) {
			admin.t, bob.t, laptop.t = t, t, t
			laptop.login("bob", "builder")
			bob.login("bob", "builder") // the changed browser, signing in again: bob's 2nd session
			admin.open("/")
			admin.submit("#logout")
			admin.login("bob", "builder") // a 3rd: the laptop's session makes room
			if got := admin.text("#flash"); !strings.Contains(got, "signed out to make room") {
				t.Errorf("flash after the login beyond the cap: %q", got)
			}
			admin.open("/account/sessions")
			if n := admin.count("tr.device"); n != 2 {
				t.Errorf("devices page lists %d sessions, want 2", n)
			}
			if got := admin.text("#evicted"); !strings.Contains(got, "Headless Chrome") || !strings.Contains(got, "beyond the limit") {
				t.Errorf("devices page on the evicted session: %q", got)
			}
			admin.shot("devices-evicted-to-make-room")
			laptop.open("/")
			if got := laptop.signedInAs(); got != "" {
				t.Errorf("the oldest session (the laptop) is still signed in: %q", got)
			}
			admin.submit("#logout")
			admin.login("alice", "wonderland")
		}},
		{"DisableEndsSessionsAndRefusesLogin", func(t *testing.T) {
			admin.t, bob.t, laptop.t = t, t, t
			admin.open("/admin/sessions")
			if got := admin.text("#user-bob .n"); got != "1" {
				t.Errorf("admin page: bob has %s sessions, want 1", got)
			}
			if admin.has("#disable-alice") {
				t.Error("the admin is offered to disable their own account")
			}
			admin.submit("#disable-bob")
			if got := admin.text("#flash"); !strings.Contains(got, "The account bob is disabled; sessions ended: 1.") {
				t.Errorf("flash after the disable: %q", got)
			}
			if got := admin.text("#user-bob .n"); got != "0" {
				t.Errorf("admin page after the disable: bob has %s sessions, want 0", got)
			}
			admin.shot("admin-bob-disabled")
			bob.open("/")
			if got := bob.signedInAs(); got != "" {
				t.Errorf("bob is still signed in after the disable: %q", got)
			}
			bob.open("/login")
			bob.fill("#username", "bob", "#password", "builder")
			if status := bob.submit("#login-submit"); status != 403 {
				t.Errorf("login of a disabled account: status %d, want 403", status)
			}
			if got := bob.text("#login-error"); !strings.Contains(got, "This account is disabled") {
				t.Errorf("login of a disabled account: %q", got)
			}
			bob.shot("login-refused-disabled")
			admin.open("/admin/activity")
			admin.shot("activity-after-disable")
			admin.open("/admin/sessions")
			admin.submit("#enable-bob")
			laptop.login("bob", "builder")
		}},
		{"ErrorPagesAndSignOut", func(t *testing.T) {
			laptop.t = t
			if status := laptop.open("/nope"); status != 404 {
				t.Errorf("GET /nope: status %d, want 404", status)
			}
			if got := laptop.text("h1"); got != "Page not found" {
				t.Errorf("404 page heading %q", got)
			}
			if got := laptop.signedInAs(); got != "Signed in as bob" {
				t.Errorf("the 404 page lost the header: %q", got)
			}
			laptop.shot("not-found")
			laptop.submit("#logout")
			if got := laptop.text("#flash"); !strings.Contains(got, "You are signed out.") {
				t.Errorf("flash after the sign-out: %q", got)
			}
			laptop.shot("signed-out-flash")
			laptop.open("/admin/activity")
			if got := laptop.text("#login-why"); !strings.Contains(got, "for the shop's admins") {
				t.Errorf("login page after a logged-out visit to the admin: %q", got)
			}
			laptop.shot("login-why-admin")
		}},
	}
	for _, st := range steps {
		if !t.Run(st.name, st.run) {
			return
		}
	}
}
