package dbsc_test

import (
	"github.com/sessionkit/session/dbsc"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

// TestAttackRequireStaleCookieOpenRedirect: Require answers a request whose
// bound cookie is past its deadline with 307 to r.URL.RequestURI(). For a
// request path starting with "//" (a link https://site//evil.example/x,
// which browsers send as is) that is a scheme-relative URL, and
// http.Redirect passes it through unchanged: the browser follows it to
// evil.example. Reachable wherever Require wraps a handler that does not
// clean paths first (an app-wide Require, any router other than ServeMux).
func TestAttackRequireStaleCookieOpenRedirect(t *testing.T) {
	e := newEnv(t, dbsc.Config{})
	br := e.newBrowser(newECKey(t))
	br.login("alice")
	br.register()

	// The bound cookie, past its deadline but still sent (the case Require
	// redirects for), as in TestPolicies.
	e.clock.Advance(11 * time.Minute)

	app := e.mgr.Handler(e.binder.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "app")
	})))
	req := httptest.NewRequest("GET", "https://app.example//evil.example/x", nil)
	for name, c := range br.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: c.value})
	}
	w := httptest.NewRecorder()
	app.ServeHTTP(w, req)
	if w.Code != http.StatusTemporaryRedirect {
		t.Fatalf("stale bound cookie: %d %s, want the 307 to itself", w.Code, w.Body)
	}
	loc := w.Header().Get("Location")
	target, err := (&url.URL{Scheme: "https", Host: "app.example", Path: "//evil.example/x"}).Parse(loc)
	if err != nil || target.Host != "app.example" {
		t.Errorf("Require redirects to Location %q, which a browser resolves to host %q", loc, target.Host)
	}
}
