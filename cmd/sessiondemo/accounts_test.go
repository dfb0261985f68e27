package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
)

// apiToken logs in through the API and returns the token.
func apiToken(t *testing.T, in *instance, name, password string) string {
	t.Helper()
	resp := apiLogin(t, in, name, password)
	defer resp.Body.Close()
	var login struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&login); err != nil || resp.StatusCode != http.StatusOK || login.Token == "" {
		t.Fatalf("API login %s: status %d, %v", name, resp.StatusCode, err)
	}
	return login.Token
}

func TestAccountDisable(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) { testAccountDisable(t, st.url(t)) })
	}
}

func testAccountDisable(t *testing.T, store string) {
	in := start(t, "-store", store)
	bob, bob2 := newClient(t, in.URL), newClient(t, in.URL)
	bob.login("bob", "builder")
	bob2.login("bob", "builder")
	token := apiToken(t, in, "bob", "builder")

	// Only admins, and only with the CSRF token.
	wantStatus(t, bob.post("/admin/users/disable", url.Values{"user": {"bob"}}), http.StatusForbidden)
	alice := newClient(t, in.URL)
	alice.login("alice", "wonderland")
	r := alice.get("/admin/sessions")
	wantBody(t, r, `id="disable-bob"`, "This is your account")
	wantNoBody(t, r, `id="disable-alice"`)
	if got := countIn(t, r.Body, "bob"); got != 3 {
		t.Fatalf("admin page: bob has %d sessions, want 3 (two browsers, one API client)", got)
	}
	wantStatus(t, alice.post("/admin/users/disable", url.Values{"user": {"bob"}, "csrf_token": {""}}), http.StatusForbidden)
	wantStatus(t, alice.post("/admin/users/disable", url.Values{"user": {"nobody"}}), http.StatusBadRequest)
	if !signedIn(bob, "bob") {
		t.Fatal("a refused disable signed bob out")
	}

	// Disable: every session ends at once, the count with them.
	r = alice.post("/admin/users/disable", url.Values{"user": {"bob"}})
	wantRedirect(t, r, "/admin/sessions")
	r = alice.follow(r)
	wantBody(t, r, "The account bob is disabled; sessions ended: 3.", `id="disabled-bob"`, `id="enable-bob"`)
	if got := countIn(t, r.Body, "bob"); got != 0 {
		t.Errorf("admin page after the disable: bob has %d sessions, want 0", got)
	}
	if signedIn(bob, "bob") || signedIn(bob2, "bob") {
		t.Error("a browser of bob is still signed in after the disable")
	}
	if resp, body := apiGet(t, in, "/api/me", token); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the API token after the disable: %d %s", resp.StatusCode, body)
	}

	// Logins are refused with a reason, but only to whoever knows the
	// password: a wrong one is just wrong.
	r = bob.loginStatus("bob", "builder")
	wantStatus(t, r, http.StatusForbidden)
	wantBody(t, r, "This account is disabled.")
	wantNoBody(t, r, "Signed in as bob")
	r = bob.loginStatus("bob", "wrong")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantNoBody(t, r, "disabled")
	resp := apiLogin(t, in, "bob", "builder")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("API login of a disabled account: %d %s", resp.StatusCode, body)
	}

	// The admin cannot disable themselves.
	r = alice.post("/admin/users/disable", url.Values{"user": {"alice"}})
	wantRedirect(t, r, "/admin/sessions")
	wantBody(t, alice.follow(r), "You cannot disable your own account.", "Signed in as alice")

	r = alice.get("/admin/activity")
	wantBody(t, r, "Account disabled", "by alice")
	if kinds := activityKindsOf(r.Body); len(kinds) < 2 || kinds[0] != "revoked" {
		t.Errorf("activity rows %v, want the revocations newest, then the disable", kinds)
	}

	// Enabled again, bob signs in.
	r = alice.post("/admin/users/enable", url.Values{"user": {"bob"}})
	wantRedirect(t, r, "/admin/sessions")
	wantBody(t, alice.follow(r), "The account bob is enabled again.", `id="disable-bob"`)
	bob.login("bob", "builder")
	wantBody(t, alice.get("/admin/activity"), "Account enabled")
}
