package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// loginStatus posts the login form and returns the response, whatever it is.
func (c *client) loginStatus(name, password string) *response {
	c.t.Helper()
	c.get("/login")
	return c.post("/login", url.Values{"username": {name}, "password": {password}})
}

func signedIn(c *client, name string) bool {
	c.t.Helper()
	return strings.Contains(c.get("/").Body, "Signed in as "+name)
}

func TestSessionCapEvictsOldest(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			in := start(t, "-store", st.url(t), "-max-sessions", "2")
			laptop := newClient(t, in.URL)
			laptop.ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
			phone := newClient(t, in.URL)
			phone.ua = "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"
			tablet := newClient(t, in.URL)
			laptop.login("bob", "builder")
			phone.login("bob", "builder")
			r := tablet.login("bob", "builder")
			wantBody(t, r, "Welcome, bob.", "the most devices allowed (2)", "signed out to make room")

			if signedIn(laptop, "bob") {
				t.Error("the oldest session (the laptop) is still signed in")
			}
			if !signedIn(phone, "bob") || !signedIn(tablet, "bob") {
				t.Error("the two newest sessions are not both signed in")
			}
			r = tablet.get("/account/sessions")
			wantBody(t, r, `id="evicted"`, "Signed out to make room", "Chrome 131 on Linux (127.0.0.1)",
				"when this device signed in beyond the limit", "at most 2 devices")
			if n := strings.Count(r.Body, `<tr class="device`); n != 2 {
				t.Errorf("devices page lists %d sessions, want 2", n)
			}
			// The phone's session made no room: it has nothing to say.
			wantNoBody(t, phone.get("/account/sessions"), `id="evicted"`)

			admin := newClient(t, in.URL)
			admin.login("alice", "wonderland")
			r = admin.get("/admin/activity")
			if kinds := activityKindsOf(r.Body); len(kinds) != 1 || kinds[0] != "evicted" {
				t.Errorf("activity rows %v, want one eviction", kinds)
			}
			wantBody(t, r, "Evicted (session cap)")
		})
	}
}

func TestSessionCapRefusesNew(t *testing.T) {
	in := start(t, "-store", "memory:", "-max-sessions", "2", "-max-sessions-policy", "refuse-new")
	first, second, third := newClient(t, in.URL), newClient(t, in.URL), newClient(t, in.URL)
	first.login("bob", "builder")
	second.login("bob", "builder")
	r := third.loginStatus("bob", "builder")
	wantStatus(t, r, http.StatusConflict)
	wantBody(t, r, "You are already signed in on 2 devices, the most this shop allows at once.", `id="login-error"`)
	wantNoBody(t, r, "Signed in as bob")
	if !signedIn(first, "bob") || !signedIn(second, "bob") {
		t.Error("a refused login signed out an existing session")
	}

	// The API shares the cap and says why in JSON.
	resp := apiLogin(t, in, "bob", "builder")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var e apiError
	if resp.StatusCode != http.StatusConflict || json.Unmarshal(body, &e) != nil || !strings.Contains(e.Error, "already signed in on 2 devices") {
		t.Errorf("API login over the cap: %d %s", resp.StatusCode, body)
	}

	// Room again once one signs out.
	wantRedirect(t, first.post("/logout", nil), "/")
	third.login("bob", "builder")

	admin := newClient(t, in.URL)
	admin.login("alice", "wonderland")
	wantBody(t, admin.get("/admin/activity"), `data-kind="cap_refused"`, "Login refused (cap)")
}

func TestSessionCapOff(t *testing.T) {
	in := start(t, "-store", "memory:", "-max-sessions", "0")
	var clients []*client
	for range 7 {
		c := newClient(t, in.URL)
		c.login("bob", "builder")
		clients = append(clients, c)
	}
	for i, c := range clients {
		if !signedIn(c, "bob") {
			t.Errorf("session %d signed out without a cap", i)
		}
	}
}
