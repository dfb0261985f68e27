package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSessionlessVisitor: a visitor without a session browses every page,
// forms included, without getting a cookie or costing a store write; the
// session starts at the first real write, and the CSRF layer covers the
// visitor without a session (login CSRF included) as it covers sessions.
func TestSessionlessVisitor(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			in := start(t, "-store", st.url(t))
			c := newClient(t, in.URL)
			for _, path := range []string{"/", "/cart", "/login", "/login?next=/cart", "/preferences", "/checkout/1", "/account/sessions"} {
				r := c.get(path)
				if r.StatusCode != http.StatusOK && r.StatusCode != http.StatusSeeOther {
					t.Fatalf("GET %s: status %d", path, r.StatusCode)
				}
				if sc := r.Header.Values("Set-Cookie"); len(sc) > 0 {
					t.Fatalf("GET %s without a session set a cookie: %q", path, sc)
				}
				if m := tokenRE.FindAllStringSubmatch(r.Body, -1); r.StatusCode == http.StatusOK && path != "/cart" {
					if len(m) == 0 {
						t.Fatalf("GET %s: no form with a CSRF token", path)
					}
					for _, tok := range m {
						if len(tok[1]) != 76 {
							t.Fatalf("GET %s: token %q, want the 76-character sessionless kind", path, tok[1])
						}
					}
				}
			}
			if n := storeWrites(t, in); n != 0 {
				t.Fatalf("a visitor without a session cost %d store writes, want 0", n)
			}
			wantBody(t, newClient(t, in.URL).get("/metrics"), "sessionkit_sessions_created_total 0")

			// Refused: none of these creates a session either.
			c.get("/login")
			tok := c.token
			creds := func(token string) url.Values {
				v := url.Values{"username": {"bob"}, "password": {"builder"}}
				if token != "" {
					v.Set("csrf_token", token)
				}
				return v
			}
			forged := tok[:40] + "A" + tok[41:] // a bit of the MAC changed
			if tok[40] == 'A' {
				forged = tok[:40] + "B" + tok[41:]
			}
			sameOrigin := map[string]string{"Origin": in.URL, "Sec-Fetch-Site": "same-origin"}
			for _, tc := range []struct {
				name    string
				client  *client
				form    url.Values
				headers map[string]string
			}{
				{"no token, though same-origin", c, creds(""), sameOrigin},
				{"forged token", c, creds(forged), sameOrigin},
				{"cross-site, valid token", c, creds(tok), map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}},
				{"old browser, foreign Origin", c, creds(tok), map[string]string{"Origin": "https://evil.example"}},
				// Login CSRF from a browser that sends no Fetch Metadata: the
				// attacker's own token, posted from the victim's address.
				{"token of another address", fromAddress(t, in.URL, "127.0.0.2"), creds(tok), nil},
			} {
				r := tc.client.postHeaders("/login", tc.form, tc.headers)
				if r.StatusCode != http.StatusForbidden {
					t.Errorf("%s: status %d, want 403", tc.name, r.StatusCode)
				}
				if sc := r.Header.Values("Set-Cookie"); len(sc) > 0 {
					t.Errorf("%s: a refused login set a cookie: %q", tc.name, sc)
				}
			}
			// A wrong password: no session either.
			r := c.post("/login", url.Values{"username": {"bob"}, "password": {"nope"}})
			wantStatus(t, r, http.StatusUnprocessableEntity)
			if sc := r.Header.Values("Set-Cookie"); len(sc) > 0 {
				t.Fatalf("a failed login set a cookie: %q", sc)
			}
			if n := storeWrites(t, in); n != 0 {
				t.Fatalf("refused posts cost %d store writes, want 0", n)
			}

			// The login with the sessionless token works and creates the session.
			r = c.post("/login", creds(tok))
			wantRedirect(t, r, "/")
			if c.sessionCookie() == "" {
				t.Fatal("the login set no session cookie")
			}
			wantBody(t, c.follow(r), "Signed in as bob")
			if len(c.token) != 86 {
				t.Fatalf("the page after the login carries token %q, want the session-bound kind", c.token)
			}
			// Once there is a session, the sessionless token is refused.
			wantStatus(t, c.post("/cart/add", url.Values{"product": {"tea"}, "csrf_token": {tok}}), http.StatusForbidden)
			wantStatus(t, c.post("/logout", url.Values{"csrf_token": {tok}}), http.StatusForbidden)
			wantBody(t, c.get("/"), "Signed in as bob")
			c.addToCart("tea")

			// The first add to cart of a new visitor creates the session.
			d := newClient(t, in.URL)
			d.get("/")
			r = d.post("/cart/add", url.Values{"product": {"mug"}})
			wantRedirect(t, r, "/")
			if d.sessionCookie() == "" {
				t.Fatal("adding to the cart set no session cookie")
			}
			wantBody(t, d.follow(r), `id="cart-count">1<`, "Added to your cart.")
			// And so do preferences.
			e := newClient(t, in.URL)
			e.get("/preferences")
			wantRedirect(t, e.post("/preferences", url.Values{"theme": {"dark"}, "lang": {"en"}}), "/preferences")
			if e.sessionCookie() == "" {
				t.Fatal("saving preferences set no session cookie")
			}
			checkLogs(t, in, tok)
		})
	}
}

// TestSessionlessTwoInstances: with the same -csrf-key-file, a login form
// served by one instance can be sent to another; with different keys (as
// two processes without the flag have), it cannot.
func TestSessionlessTwoInstances(t *testing.T) {
	key := filepath.Join(t.TempDir(), "csrf.key")
	if err := os.WriteFile(key, []byte("0123456789abcdef0123456789abcdef"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Behind one load balancer the browser sends the same Host to both.
	const host = "shop.test"
	loginVia := func(a, b *instance) int {
		c := newClient(t, a.URL)
		req, _ := http.NewRequest("GET", a.URL+"/login", nil)
		req.Host = host
		c.do(req)
		form := url.Values{"username": {"bob"}, "password": {"builder"}, "csrf_token": {c.token}}
		req, _ = http.NewRequest("POST", b.URL+"/login", strings.NewReader(form.Encode()))
		req.Host = host
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		return c.do(req).StatusCode
	}
	a := start(t, "-store", "memory:", "-csrf-key-file", key)
	b := start(t, "-store", "memory:", "-csrf-key-file", key)
	if got := loginVia(a, b); got != http.StatusSeeOther {
		t.Errorf("login form from one instance sent to another with the same key: status %d, want 303", got)
	}
	// Instances in one test process without the flag would share the
	// process's key; separate processes draw their own. Another key file
	// stands for that.
	other := filepath.Join(t.TempDir(), "other.key")
	if err := os.WriteFile(other, []byte("fedcba9876543210fedcba9876543210"), 0o600); err != nil {
		t.Fatal(err)
	}
	x := start(t, "-store", "memory:", "-csrf-key-file", other)
	if got := loginVia(a, x); got != http.StatusForbidden {
		t.Errorf("login form from one instance sent to another with another key: status %d, want 403", got)
	}

	short := filepath.Join(t.TempDir(), "short.key")
	if err := os.WriteFile(short, []byte("too short"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	err := Run(t.Context(), []string{"-addr", "127.0.0.1:0", "-store", "memory:", "-csrf-key-file", short}, &strings.Builder{}, &stderr)
	if err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Errorf("a 9-byte key file: Run returned %v, want an error asking for 32 bytes", err)
	}
}
