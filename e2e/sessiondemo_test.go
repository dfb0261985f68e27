package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestSessionDemo walks through the demo app in two real browsers, in the
// order a new user would, and restarts the app in the middle of a session.
// Each step builds on the previous ones; the first failure stops the walk.
func TestSessionDemo(t *testing.T) {
	requireChromium(t)
	dir := t.TempDir()
	bin := buildApp(t, dir)
	db := filepath.Join(dir, "sessions.db")
	srv := startApp(t, bin, "127.0.0.1:0", db)
	t.Cleanup(func() { srv.stop(t) }) // the instance running at the end
	s := newShots(t)
	a := newBrowser(t, "browser A", srv.URL, s)
	b := newBrowser(t, "browser B", srv.URL, s) // its own profile, so its own cookies

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"CartAnonymousThenLogin", func(t *testing.T) {
			a.t = t
			if status := a.open("/"); status != 200 {
				t.Fatalf("GET /: %d", status)
			}
			if got := a.signedInAs(); got != "" {
				t.Fatalf("a new visitor is signed in: %q", got)
			}
			// The catalog is full of forms, yet a visitor who only looks
			// gets no session: its CSRF tokens need none.
			if c := a.sessionCookie(); c != nil {
				t.Fatalf("a visitor who only looked at the catalog holds a session cookie: %+v", c)
			}
			a.shot("catalog")
			a.submit("#add-tea")
			a.submit("#add-tea")
			a.submit("#add-mug")
			if got := a.text("#cart-count"); got != "3" {
				t.Fatalf("cart count %q after three additions, want 3", got)
			}
			a.open("/cart")
			a.shot("cart-anonymous")

			a.open("/login")
			a.shot("login")
			a.fill("#username", "alice", "#password", "not-the-password")
			if status := a.submit("#login-submit"); status != 422 {
				t.Errorf("wrong password: status %d, want 422", status)
			}
			if got := a.text("#login-error"); !strings.Contains(got, "Wrong user name or password") {
				t.Errorf("wrong password: error %q", got)
			}
			a.shot("login-wrong-password")
			a.fill("#username", "alice", "#password", "wonderland")
			if status := a.submit("#login-submit"); status != 200 {
				t.Fatalf("login: status %d", status)
			}
			if got := a.signedInAs(); got != "Signed in as alice" {
				t.Fatalf("after login the header says %q", got)
			}
			c := a.sessionCookie()
			if c == nil || !c.Secure || !c.HTTPOnly || c.SameSite != "Lax" || c.Path != "/" || !c.Session {
				t.Errorf("Chromium holds the session cookie as %+v, want __Host-session Secure HttpOnly SameSite=Lax, a browser-session cookie", c)
			}
			a.open("/cart")
			if got := a.text("#line-tea .qty") + "," + a.text("#line-mug .qty"); got != "2,1" {
				t.Fatalf("cart after login: tea,mug = %s, want 2,1", got)
			}
			a.shot("cart-after-login")
		}},
		{"Preferences", func(t *testing.T) {
			a.t = t
			a.open("/preferences")
			a.step("choose dark", click("#theme-dark"))
			a.fill("#lang", "fr")
			a.submit("#prefs-save")
			if got := a.text("#flash"); got != "Préférences enregistrées." {
				t.Errorf("flash %q", got)
			}
			a.shot("preferences-dark-french")
			a.open("/")
			if class, lang := a.attr("html", "class"), a.attr("html", "lang"); class != "theme-dark" || lang != "fr" {
				t.Errorf("catalog: html class=%q lang=%q, want theme-dark and fr", class, lang)
			}
			if got := a.text("#add-tea"); got != "Ajouter au panier" {
				t.Errorf("catalog button %q, want it in French", got)
			}
			a.shot("catalog-dark-french")
			// Back to English and light for the rest of the walk.
			a.open("/preferences")
			a.step("choose light", click("#theme-light"))
			a.fill("#lang", "en")
			a.submit("#prefs-save")
			if class := a.attr("html", "class"); class != "theme-light" {
				t.Errorf("html class %q after choosing light", class)
			}
		}},
		{"CheckoutBackAndForth", func(t *testing.T) {
			a.t = t
			a.open("/cart")
			a.submit("#checkout") // a link: the same wait works
			a.fill("#name", "Alice Liddell", "#street", "1 Rabbit Hole", "#postcode", "OX1 1AA",
				"#city", "Oxford", "#country", "United Kingdom")
			a.shot("checkout-1-address")
			a.submit("#next")
			a.step("choose express", click("#delivery-express"))
			a.fill("#notes", "Ring twice")
			a.shot("checkout-2-delivery")
			a.submit("#back")
			if got := a.value("#name") + "|" + a.value("#city"); got != "Alice Liddell|Oxford" {
				t.Errorf("step 1 after going back: %q", got)
			}
			a.submit("#next")
			if !a.checked("#delivery-express") || a.value("#notes") != "Ring twice" {
				t.Errorf("step 2 lost its input after going back and forth")
			}
			// The browser's own back button, then forward, then a reload.
			a.back("/checkout/1")
			if got := a.value("#street"); got != "1 Rabbit Hole" {
				t.Errorf("step 1 after history back: street %q", got)
			}
			a.open("/checkout/2")
			a.step("reload", chromedp.Reload())
			if !a.checked("#delivery-express") || a.value("#notes") != "Ring twice" {
				t.Errorf("step 2 lost its input on reload")
			}
			a.submit("#next")
			a.step("choose card", click("#payment-card"))
			a.fill("#card_holder", "A LIDDELL")
			a.shot("checkout-3-payment")
			a.submit("#next")
			if !a.has("#review") {
				t.Fatal("no review after step 3")
			}
			// tea 2 × 8.50 + mug 12.00 + express 9.90
			if got := a.text("#review-total"); got != "€38.90" {
				t.Errorf("review total %q, want €38.90", got)
			}
			if got := a.text("#review-address"); !strings.Contains(got, "1 Rabbit Hole") {
				t.Errorf("review address %q", got)
			}
			a.shot("checkout-review")
			a.submit("#confirm")
			if got := a.text("#order-confirmed"); !strings.HasPrefix(got, "Your order SK-") {
				t.Errorf("confirmation %q", got)
			}
			if got := a.text("#cart-count"); got != "0" {
				t.Errorf("cart count %q after the order, want 0", got)
			}
			a.shot("order-confirmed")
			a.open("/checkout/done") // shown once
			if a.has("#order-confirmed") {
				t.Error("the confirmation shows twice")
			}
		}},
		{"DevicesRevokeOtherBrowser", func(t *testing.T) {
			a.t = t
			b.t = t
			b.login("alice", "wonderland")
			a.open("/account/sessions")
			if n := a.count("tr.device"); n != 2 {
				t.Fatalf("devices page lists %d sessions, want 2", n)
			}
			if n := a.count("tr.device.current"); n != 1 {
				t.Fatalf("%d sessions marked current, want 1", n)
			}
			a.shot("devices-two-browsers")
			a.submit("tr.device:not(.current) button.revoke")
			if got := a.text("#flash"); got != "The device was signed out." {
				t.Errorf("flash %q", got)
			}
			if n := a.count("tr.device"); n != 1 {
				t.Errorf("after revoking: %d sessions listed, want 1", n)
			}
			a.shot("devices-after-revoke")
			b.open("/")
			if got := b.signedInAs(); got != "" {
				t.Fatalf("browser B is still signed in after its session was revoked: %q", got)
			}
			b.shot("revoked-browser-signed-out")
		}},
		{"AdminRefusedToBob", func(t *testing.T) {
			b.t = t
			b.login("bob", "builder")
			if b.has(`a[href="/admin/sessions"]`) {
				t.Error("bob sees a link to the admin page")
			}
			if status := b.open("/admin/sessions"); status != 403 {
				t.Errorf("bob on the admin page: status %d, want 403", status)
			}
			if got := b.text("#error-text"); got != "Your account may not see this page." {
				t.Errorf("bob on the admin page: %q", got)
			}
			b.shot("admin-forbidden-bob")
			a.t = t
			if status := a.open("/admin/sessions"); status != 200 {
				t.Fatalf("alice on the admin page: status %d", status)
			}
			if got := a.text("#user-bob .n"); got != "1" {
				t.Errorf("admin page: bob has %s sessions, want 1", got)
			}
			a.shot("admin-alice")
		}},
		{"RestartKeepsSession", func(t *testing.T) {
			a.t = t
			a.open("/")
			a.submit("#add-tote")
			srv.stop(t)
			srv = startApp(t, bin, srv.Addr, db) // the same port and file
			if strings.Contains(srv.stderr.String(), "level=ERROR") {
				t.Errorf("errors in the log of the restarted app:\n%s", srv.stderr)
			}
			if status := a.open("/cart"); status != 200 {
				t.Fatalf("GET /cart after restart: %d", status)
			}
			if got := a.signedInAs(); got != "Signed in as alice" {
				t.Fatalf("after the restart the header says %q", got)
			}
			if got := a.text("#line-tote .qty"); got != "1" {
				t.Errorf("cart after restart: tote %q, want 1", got)
			}
			a.shot("cart-after-restart")
		}},
		{"Logout", func(t *testing.T) {
			a.t = t
			a.open("/")
			before := a.sessionCookie()
			a.submit("#logout")
			if got := a.signedInAs(); got != "" {
				t.Fatalf("still signed in after logout: %q", got)
			}
			// The catalog after the logout starts no new session.
			if c := a.sessionCookie(); c != nil {
				t.Errorf("after logout the browser holds a session cookie (the same one: %v)", before != nil && c.Value == before.Value)
			}
			a.shot("logged-out")
		}},
	}
	for _, st := range steps {
		if !t.Run(st.name, st.run) {
			return
		}
	}
}
