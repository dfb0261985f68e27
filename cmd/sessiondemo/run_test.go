package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// stores are the stores every flow runs against: each call of url gives a
// new, empty one.
var stores = []struct {
	name string
	url  func(t *testing.T) string
}{
	{"memory", func(*testing.T) string { return "memory:" }},
	{"sqlite", sqliteURL},
}

// TestFlows drives the real program over HTTP, once per store, one fresh
// instance per flow.
func TestFlows(t *testing.T) {
	flows := []struct {
		name string
		run  func(t *testing.T, in *instance)
	}{
		{"Login", testLogin},
		{"LoginRateLimit", testLoginRateLimit},
		{"CartSurvivesLogin", testCartSurvivesLogin},
		{"Preferences", testPreferences},
		{"Checkout", testCheckout},
		{"CSRF", testCSRF},
		{"Devices", testDevices},
		{"Admin", testAdmin},
		{"API", testAPI},
		{"Healthz", testHealthz},
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			for _, f := range flows {
				t.Run(f.name, func(t *testing.T) {
					in := start(t, "-store", st.url(t))
					f.run(t, in)
				})
			}
		})
	}
}

func testLogin(t *testing.T, in *instance) {
	c := newClient(t, in.URL)
	r := c.get("/login")
	wantStatus(t, r, http.StatusOK)
	if sc := r.Header.Values("Set-Cookie"); len(sc) > 0 {
		t.Fatalf("the login page of a visitor without a session set a cookie: %q", sc)
	}
	// A visitor with something in the cart has a session: the login must
	// give it a new ID.
	c.addToCart("tea")
	before := c.sessionCookie()
	if before == "" {
		t.Fatal("adding to the cart set no session cookie")
	}
	c.get("/login")

	r = c.post("/login", url.Values{"username": {"alice"}, "password": {"wrong"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, "Wrong user name or password.")
	wantNoBody(t, r, "Signed in as")

	r = c.post("/login", url.Values{"username": {"alice"}, "password": {"wonderland"}, "next": {"/cart"}})
	wantRedirect(t, r, "/cart")
	after := c.sessionCookie()
	if after == "" || after == before {
		t.Fatalf("session cookie not renewed at login: before %q, after %q", before, after)
	}
	for _, ck := range r.Cookies() {
		if ck.Name == "__Host-session" && (!ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.MaxAge != 0) {
			t.Errorf("session cookie attributes: %+v", ck)
		}
	}
	r = c.follow(r)
	wantBody(t, r, "Signed in as alice", "Welcome, alice.")

	// The old ID opens nothing.
	old := newClient(t, in.URL)
	u, _ := url.Parse(in.URL)
	old.jar.SetCookies(u, []*http.Cookie{{Name: "__Host-session", Value: before, Path: "/"}})
	wantNoBody(t, old.get("/"), "Signed in as")

	// An open redirect is refused.
	c2 := newClient(t, in.URL)
	c2.get("/login")
	r = c2.post("/login", url.Values{"username": {"bob"}, "password": {"builder"}, "next": {"//evil.example/x"}})
	wantRedirect(t, r, "/")
	if loc := r.Header.Get("Location"); loc != "/" {
		t.Errorf("next=//evil.example/x redirected to %q, want /", loc)
	}

	// Remember me makes the cookie persistent.
	c3 := newClient(t, in.URL)
	c3.get("/login")
	r = c3.post("/login", url.Values{"username": {"bob"}, "password": {"builder"}, "remember": {"1"}})
	wantStatus(t, r, http.StatusSeeOther)
	persistent := false
	for _, ck := range r.Cookies() {
		if ck.Name == "__Host-session" && ck.MaxAge > 0 {
			persistent = true
		}
	}
	if !persistent {
		t.Errorf("remember me: no Max-Age on the session cookie: %v", r.Header["Set-Cookie"])
	}

	// Logout: POST only, clears the site's cookies, and the session is gone.
	r = c.get("/logout")
	if r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /logout: status %d, want 405", r.StatusCode)
	}
	c.get("/")
	r = c.post("/logout", nil)
	wantRedirect(t, r, "/")
	if got := r.Header.Get("Clear-Site-Data"); got != `"cookies"` {
		t.Errorf("logout: Clear-Site-Data %q, want \"cookies\"", got)
	}
	wantNoBody(t, c.get("/"), "Signed in as")
	// Even a client that kept the cookie is logged out.
	old.jar.SetCookies(u, []*http.Cookie{{Name: "__Host-session", Value: after, Path: "/"}})
	wantNoBody(t, old.get("/"), "Signed in as")

	checkLogs(t, in, before, after)
}

func testLoginRateLimit(t *testing.T, in *instance) {
	c := newClient(t, in.URL)
	c.get("/login")
	for i := range 5 {
		r := c.post("/login", url.Values{"username": {"bob"}, "password": {fmt.Sprint("guess", i)}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
	}
	// The right password is refused too while the limit holds.
	r := c.post("/login", url.Values{"username": {"Bob "}, "password": {"builder"}})
	wantStatus(t, r, http.StatusTooManyRequests)
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 180 {
		t.Errorf("Retry-After %q, want 1 to 180 seconds", r.Header.Get("Retry-After"))
	}
	wantBody(t, r, "Too many sign-in attempts")
	// Another user is not affected.
	r = c.post("/login", url.Values{"username": {"alice"}, "password": {"wonderland"}})
	wantStatus(t, r, http.StatusSeeOther)

	// Per address: many user names from one address.
	c2 := newClient(t, in.URL)
	c2.get("/login")
	limited := false
	for i := range 40 {
		r := c2.post("/login", url.Values{"username": {fmt.Sprint("nobody", i)}, "password": {"x"}})
		if r.StatusCode == http.StatusTooManyRequests {
			limited = true
			if i < 20 {
				t.Errorf("address limited after %d attempts", i)
			}
			break
		}
	}
	if !limited {
		t.Error("40 attempts from one address were never limited")
	}

	// The API shares the limits.
	resp := apiLogin(t, in, "bob", "builder")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("API login while limited: status %d Retry-After %q, want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func testCartSurvivesLogin(t *testing.T, in *instance) {
	c := newClient(t, in.URL)
	c.addToCart("tea")
	c.addToCart("tea")
	c.addToCart("mug")
	want := map[string]string{"tea": "2", "mug": "1"}
	if got := c.cartOf(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("anonymous cart %v, want %v", got, want)
	}
	anon := c.sessionCookie()
	r := c.login("bob", "builder")
	wantBody(t, r, "Signed in as bob", `id="cart-count">3<`)
	if c.sessionCookie() == anon {
		t.Error("login kept the anonymous session ID")
	}
	if got := c.cartOf(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("cart after login %v, want %v", got, want)
	}
	c.addToCart("pen")
	r = c.post("/cart/remove", url.Values{"product": {"tea"}})
	wantRedirect(t, r, "/cart")
	want = map[string]string{"mug": "1", "pen": "1"}
	if got := c.cartOf(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("cart %v, want %v", got, want)
	}
	r = c.post("/cart/add", url.Values{"product": {"nope"}})
	wantStatus(t, r, http.StatusBadRequest)

	// Another user signing in on the same browser does not get bob's cart.
	c.get("/login")
	r = c.post("/login", url.Values{"username": {"alice"}, "password": {"wonderland"}})
	wantStatus(t, r, http.StatusSeeOther)
	if got := c.cartOf(); len(got) != 0 {
		t.Errorf("alice inherited bob's cart: %v", got)
	}
}

func testPreferences(t *testing.T, in *instance) {
	c := newClient(t, in.URL)
	r := c.get("/preferences")
	wantBody(t, r, `<html lang="en" class="theme-light">`)
	r = c.post("/preferences", url.Values{"theme": {"dark"}, "lang": {"fr"}})
	wantRedirect(t, r, "/preferences")
	r = c.follow(r)
	wantBody(t, r, `<html lang="fr" class="theme-dark">`, "Préférences enregistrées.", "Panier")
	// Applied on every page.
	for _, path := range []string{"/", "/cart", "/login"} {
		r = c.get(path)
		wantBody(t, r, `<html lang="fr" class="theme-dark">`, ">Catalogue<")
	}
	r = c.post("/preferences", url.Values{"theme": {"neon"}, "lang": {"fr"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	r = c.post("/preferences", url.Values{"theme": {"light"}, "lang": {"de"}})
	r = c.follow(r)
	wantBody(t, r, `<html lang="de" class="theme-light">`, "Warenkorb")
	// They survive login, like the cart.
	r = c.login("bob", "builder")
	wantBody(t, r, `<html lang="de" class="theme-light">`, "Angemeldet als bob")

	// A visitor without preferences gets the browser's language.
	c2 := newClient(t, in.URL)
	req, _ := http.NewRequest("GET", in.URL+"/", nil)
	req.Header.Set("Accept-Language", "de-CH, de;q=0.9, en;q=0.5")
	r = c2.do(req)
	wantBody(t, r, `<html lang="de"`)
}

func testCheckout(t *testing.T, in *instance) {
	c := newClient(t, in.URL)
	// Anonymous: sent to sign in first.
	wantRedirect(t, c.get("/checkout/1"), "/login?next=%2Fcheckout%2F1")
	c.addToCart("notebook")
	c.addToCart("tote")
	c.login("alice", "wonderland")
	// A later step cannot be opened before the earlier ones.
	wantRedirect(t, c.get("/checkout/3"), "/checkout/1")

	r := c.get("/checkout/1")
	wantStatus(t, r, http.StatusOK)
	// Missing fields: 422, and what was typed stays.
	r = c.post("/checkout/1", url.Values{"action": {"next"}, "name": {"Alice Liddell"}, "street": {""}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, `value="Alice Liddell"`, "Required.")
	address := url.Values{"action": {"next"}, "name": {"Alice Liddell"}, "street": {"1 Rabbit Hole"},
		"postcode": {"OX1 1AA"}, "city": {"Oxford"}, "country": {"United Kingdom"}}
	wantRedirect(t, c.post("/checkout/1", address), "/checkout/2")

	// Step 2: fill in, go back, and the values are still there both ways.
	c.get("/checkout/2")
	r = c.post("/checkout/2", url.Values{"action": {"back"}, "delivery": {"express"}, "notes": {"Ring twice"}})
	wantRedirect(t, r, "/checkout/1")
	r = c.follow(r)
	wantBody(t, r, `value="Alice Liddell"`, `value="1 Rabbit Hole"`, `value="Oxford"`)
	r = c.get("/checkout/2") // forward again, as with the browser's history
	wantBody(t, r, `value="express" id="delivery-express" checked`, "Ring twice")
	r = c.get("/checkout/2") // a reload
	wantBody(t, r, `value="express" id="delivery-express" checked`, "Ring twice")
	wantRedirect(t, c.post("/checkout/2", url.Values{"action": {"next"}, "delivery": {"express"}, "notes": {"Ring twice"}}), "/checkout/3")

	// Step 3 needs a choice.
	c.get("/checkout/3")
	r = c.post("/checkout/3", url.Values{"action": {"next"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, "Choose one.")
	r = c.post("/checkout/3", url.Values{"action": {"back"}, "payment": {"card"}, "card_holder": {"A LIDDELL"}})
	wantRedirect(t, r, "/checkout/2")
	r = c.get("/checkout/3")
	wantBody(t, r, `value="card" id="payment-card" checked`, `value="A LIDDELL"`)
	wantRedirect(t, c.post("/checkout/3", url.Values{"action": {"next"}, "payment": {"card"}, "card_holder": {"A LIDDELL"}}), "/checkout/review")

	r = c.get("/checkout/review")
	wantStatus(t, r, http.StatusOK)
	// notebook 6.50 + tote 15.00 + express 9.90
	wantBody(t, r, "Alice Liddell", "1 Rabbit Hole", "Express, next day", "Ring twice", "A LIDDELL", `id="review-total">€31.40<`)

	r = c.post("/checkout/confirm", nil)
	wantRedirect(t, r, "/checkout/done")
	r = c.follow(r)
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "Your order SK-", "is confirmed", `id="order-total">€31.40<`, `id="cart-count">0<`)
	// The confirmation shows once; the cart and the checkout are gone.
	wantRedirect(t, c.get("/checkout/done"), "/")
	if got := c.cartOf(); len(got) != 0 {
		t.Errorf("cart after the order: %v", got)
	}
	c.addToCart("pen")
	r = c.get("/checkout/1")
	wantNoBody(t, r, "Alice Liddell")
	wantRedirect(t, c.get("/checkout/review"), "/checkout/1")
}

func testCSRF(t *testing.T, in *instance) {
	c := newClient(t, in.URL)
	c.login("bob", "builder")
	valid := c.token
	form := func() url.Values { return url.Values{"product": {"tea"}} }

	// No token, even from the same origin.
	r := c.postHeaders("/cart/add", form(), map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": in.URL})
	wantStatus(t, r, http.StatusForbidden)
	wantBody(t, r, "Request refused")
	// A token from another session.
	other := newClient(t, in.URL)
	other.addToCart("mug")
	f := form()
	f.Set("csrf_token", other.token)
	if len(other.token) != 86 {
		t.Fatalf("token %q of a visitor with a session, want the session-bound kind", other.token)
	}
	wantStatus(t, c.post("/cart/add", f), http.StatusForbidden)
	// A token for a visitor without a session, from a session.
	stranger := newClient(t, in.URL)
	stranger.get("/")
	f.Set("csrf_token", stranger.token)
	wantStatus(t, c.post("/cart/add", f), http.StatusForbidden)
	// A malformed one.
	f.Set("csrf_token", "x")
	wantStatus(t, c.post("/cart/add", f), http.StatusForbidden)
	// A valid token from another site.
	f.Set("csrf_token", valid)
	r = c.postHeaders("/cart/add", f, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
	wantStatus(t, r, http.StatusForbidden)
	// ... or a sibling site: same-site is not trusted.
	r = c.postHeaders("/cart/add", f, map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://sub.127.0.0.1"})
	wantStatus(t, r, http.StatusForbidden)
	// An old browser that sends only Origin.
	r = c.postHeaders("/cart/add", f, map[string]string{"Origin": "https://evil.example"})
	wantStatus(t, r, http.StatusForbidden)
	// An oversized form is refused, valid token or not.
	big := url.Values{"product": {"tea"}, "csrf_token": {valid}, "pad": {strings.Repeat("x", maxFormBytes)}}
	if r := c.post("/cart/add", big); r.StatusCode == http.StatusSeeOther {
		t.Errorf("a %d-byte form was accepted", len(big.Encode()))
	}
	// Logout from another site does not log out.
	g := url.Values{"csrf_token": {valid}}
	r = c.postHeaders("/logout", g, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
	wantStatus(t, r, http.StatusForbidden)
	wantBody(t, c.get("/"), "Signed in as bob")
	// Login CSRF: a login form posted without this session's token.
	anon := newClient(t, in.URL)
	r = anon.postHeaders("/login", url.Values{"username": {"bob"}, "password": {"builder"}}, nil)
	wantStatus(t, r, http.StatusForbidden)
	// None of it reached the cart.
	if got := c.cartOf(); len(got) != 0 {
		t.Errorf("refused posts changed the cart: %v", got)
	}
	// The token of before login is dead after it.
	c2 := newClient(t, in.URL)
	c2.get("/login")
	preLogin := c2.token
	c2.login("alice", "wonderland")
	f.Set("csrf_token", preLogin)
	wantStatus(t, c2.post("/cart/add", f), http.StatusForbidden)
	// And a valid one works.
	f.Set("csrf_token", c2.token)
	wantStatus(t, c2.post("/cart/add", f), http.StatusSeeOther)
}

func testDevices(t *testing.T, in *instance) {
	wantRedirect(t, newClient(t, in.URL).get("/account/sessions"), "/login?next=%2Faccount%2Fsessions")

	laptop := newClient(t, in.URL)
	laptop.ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	phone := newClient(t, in.URL)
	phone.ua = "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"
	tablet := newClient(t, in.URL)
	laptop.login("alice", "wonderland")
	phone.login("alice", "wonderland")
	tablet.login("alice", "wonderland")
	newClient(t, in.URL).login("bob", "builder") // someone else's: never listed

	r := laptop.get("/account/sessions")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "Chrome 131 on Linux", "Firefox 128 on Android", "127.0.0.1", "This device")
	if n := strings.Count(r.Body, `<tr class="device`); n != 3 {
		t.Fatalf("devices page lists %d sessions, want 3:\n%s", n, r.Body)
	}
	if n := strings.Count(r.Body, `<tr class="device current"`); n != 1 {
		t.Fatalf("%d sessions marked current, want 1", n)
	}
	// Revoke the phone: find its row's ID.
	phoneID := rowID(t, r.Body, "Firefox 128 on Android")
	r = laptop.post("/account/sessions/revoke", url.Values{"id": {phoneID}})
	wantRedirect(t, r, "/account/sessions")
	wantBody(t, laptop.follow(r), "The device was signed out.")
	wantNoBody(t, phone.get("/"), "Signed in as")
	// An ID that is not one of alice's is refused.
	r = laptop.post("/account/sessions/revoke", url.Values{"id": {strings.Repeat("0", 64)}})
	wantRedirect(t, r, "/account/sessions")
	wantBody(t, laptop.follow(r), "That session has already ended.")

	// Sign out all others (the login was just now: recent enough).
	r = laptop.post("/account/sessions/revoke-others", nil)
	wantRedirect(t, r, "/account/sessions")
	r = laptop.follow(r)
	wantBody(t, r, "Other sessions signed out: 1.", "Signed in as alice")
	wantNoBody(t, tablet.get("/"), "Signed in as")
	if n := strings.Count(r.Body, `<tr class="device`); n != 1 {
		t.Errorf("after sign out all others: %d sessions listed, want 1", n)
	}
}

// rowID returns the store ID in the revoke form of the devices table row
// that mentions what.
func rowID(t *testing.T, body, what string) string {
	t.Helper()
	i := strings.Index(body, what)
	if i < 0 {
		t.Fatalf("no row with %q", what)
	}
	rest := body[i:]
	const marker = `name="id" value="`
	j := strings.Index(rest, marker)
	if j < 0 {
		t.Fatalf("no revoke form in the row with %q", what)
	}
	rest = rest[j+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}

func testAdmin(t *testing.T, in *instance) {
	wantRedirect(t, newClient(t, in.URL).get("/admin/sessions"), "/login?next=%2Fadmin%2Fsessions")

	bob := newClient(t, in.URL)
	bob.login("bob", "builder")
	r := bob.get("/admin/sessions")
	wantStatus(t, r, http.StatusForbidden)
	wantBody(t, r, "Your account may not see this page.")
	wantNoBody(t, bob.get("/"), `href="/admin/sessions"`)
	r = bob.post("/admin/sessions/revoke", url.Values{"user": {"alice"}})
	wantStatus(t, r, http.StatusForbidden)

	bob2 := newClient(t, in.URL)
	bob2.login("bob", "builder")
	alice := newClient(t, in.URL)
	alice.login("alice", "wonderland")
	r = alice.get("/admin/sessions")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, `id="user-bob"`, `id="user-alice"`, "Live session records in the store")
	if got := countIn(t, r.Body, "bob"); got != 2 {
		t.Errorf("admin page: bob has %d sessions, want 2", got)
	}
	r = alice.post("/admin/sessions/revoke", url.Values{"user": {"bob"}})
	wantRedirect(t, r, "/admin/sessions")
	r = alice.follow(r)
	wantBody(t, r, "Sessions of bob ended: 2.")
	if got := countIn(t, r.Body, "bob"); got != 0 {
		t.Errorf("after revoke: bob has %d sessions, want 0", got)
	}
	wantNoBody(t, bob.get("/"), "Signed in as")
	wantNoBody(t, bob2.get("/"), "Signed in as")
}

// countIn reads the session count of user on the admin page.
func countIn(t *testing.T, body, user string) int {
	t.Helper()
	i := strings.Index(body, `id="user-`+user+`"`)
	if i < 0 {
		t.Fatalf("no section for %s", user)
	}
	rest := body[i:]
	const marker = `class="n">`
	j := strings.Index(rest, marker)
	rest = rest[j+len(marker):]
	n, err := strconv.Atoi(rest[:strings.IndexByte(rest, '<')])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// apiLogin posts credentials to /api/login.
func apiLogin(t *testing.T, in *instance, name, password string) *http.Response {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": name, "password": password})
	resp, err := http.Post(in.URL+"/api/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func apiGet(t *testing.T, in *instance, path, token string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", in.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func testAPI(t *testing.T, in *instance) {
	resp := apiLogin(t, in, "alice", "nope")
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API login with a wrong password: status %d, want 401", resp.StatusCode)
	}
	resp = apiLogin(t, in, "alice", "wonderland")
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("API login: status %d", resp.StatusCode)
	}
	if sc := resp.Header["Set-Cookie"]; len(sc) > 0 {
		t.Errorf("API login set a cookie: %v", sc)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("API login: Cache-Control %q, want no-store", cc)
	}
	var login struct {
		Token     string    `json:"token"`
		TokenType string    `json:"token_type"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&login); err != nil {
		t.Fatal(err)
	}
	if len(login.Token) != 43 || login.TokenType != "Bearer" || time.Until(login.ExpiresAt) <= 0 {
		t.Fatalf("API login answered %+v", login)
	}

	r, body := apiGet(t, in, "/api/me", login.Token)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("/api/me: status %d: %s", r.StatusCode, body)
	}
	var me apiMe
	if err := json.Unmarshal([]byte(body), &me); err != nil {
		t.Fatal(err)
	}
	if me.User != "alice" || me.Role != "admin" || len(me.Session.ID) != 64 || strings.Contains(body, login.Token) {
		t.Errorf("/api/me = %s", body)
	}
	r, _ = apiGet(t, in, "/api/me", "")
	if r.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("/api/me without a token: status %d WWW-Authenticate %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	r, _ = apiGet(t, in, "/api/me", strings.Repeat("A", 43))
	if r.StatusCode != http.StatusUnauthorized {
		t.Errorf("/api/me with a forged token: status %d", r.StatusCode)
	}
	// The API session is one of alice's devices.
	c := newClient(t, in.URL)
	c.login("alice", "wonderland")
	wantBody(t, c.get("/account/sessions"), "Go HTTP client")
	// A bearer token is not a cookie: the browser pages ignore it.
	req, _ := http.NewRequest("GET", in.URL+"/", nil)
	req.Header.Set("Authorization", "Bearer "+login.Token)
	wantNoBody(t, newClient(t, in.URL).do(req), "Signed in as")

	// Logout ends the token.
	req, _ = http.NewRequest("POST", in.URL+"/api/logout", nil)
	req.Header.Set("Authorization", "Bearer "+login.Token)
	lr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	lr.Body.Close()
	if lr.StatusCode != http.StatusNoContent {
		t.Errorf("/api/logout: status %d", lr.StatusCode)
	}
	if r, _ := apiGet(t, in, "/api/me", login.Token); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("/api/me after logout: status %d, want 401", r.StatusCode)
	}
	checkLogs(t, in, login.Token)
}

func testHealthz(t *testing.T, in *instance) {
	c := newClient(t, in.URL)
	r := c.get("/healthz")
	wantStatus(t, r, http.StatusOK)
	if r.Body != "ok\n" || len(r.Cookies()) > 0 {
		t.Errorf("/healthz: %q, cookies %v", r.Body, r.Cookies())
	}
	r = c.get("/static/style.css")
	wantStatus(t, r, http.StatusOK)
	if len(r.Cookies()) > 0 {
		t.Errorf("/static/style.css set a cookie: %v", r.Cookies())
	}
	c.addToCart("pen") // an anonymous session, renewed by the login
	c.login("bob", "builder")
	r = c.get("/metrics")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "sessionkit_sessions_created_total", "sessionkit_sessions_renewed_total 1", "sessionkit_store_operation_duration_seconds")
	if len(r.Cookies()) > 0 {
		t.Errorf("/metrics set a cookie")
	}
}

// checkLogs fails if a session token or CSRF secret reached the log.
func checkLogs(t *testing.T, in *instance, secrets ...string) {
	t.Helper()
	logs := in.stderr.String()
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("a token reached the log: %s", s)
		}
	}
	if !strings.Contains(logs, "session=") {
		t.Errorf("no lifecycle event with a session ID in the log:\n%s", logs)
	}
}
