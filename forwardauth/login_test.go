package forwardauth_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session/forwardauth"
	"github.com/sessionkit/session/ratelimit"
)

// postForm posts form to path with the cookie (if any) and a CSRF token
// taken from GET /login with the same cookie.
func postForm(t *testing.T, h http.Handler, path string, cookie *http.Cookie, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	get := httptest.NewRequest("GET", "/login", nil)
	if cookie != nil {
		get.AddCookie(cookie)
	}
	m := csrfField.FindStringSubmatch(do(h, get).Body.String())
	if m == nil {
		t.Fatal("no CSRF field")
	}
	if form.Get("csrf_token") == "" {
		form.Set("csrf_token", m[1])
	}
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	return do(h, req)
}

func checkAs(h http.Handler, cookie *http.Cookie, uri string) *httptest.ResponseRecorder {
	r := contracts[0].check("GET", "app.example.com", uri)
	r.RemoteAddr = proxyAddr
	if cookie != nil {
		r.AddCookie(cookie)
	}
	return do(h, r)
}

func TestLoginPageSetsNoCookie(t *testing.T) {
	h := newHandler(t, forwardauth.Options{})
	res := do(h, httptest.NewRequest("GET", "/login?rd=https://evil.example/", nil))
	if res.Code != 200 || len(res.Result().Cookies()) != 0 {
		t.Fatalf("GET /login: %d, cookies %v", res.Code, res.Result().Cookies())
	}
	if strings.Contains(res.Body.String(), "evil.example") {
		t.Error("the sign-in page carries a foreign rd")
	}
	if res.Header().Get("Cache-Control") != "no-store" || res.Header().Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers %v", res.Header())
	}
}

func TestLoginRenewsAndLogoutEnds(t *testing.T) {
	h := newHandler(t, forwardauth.Options{})
	// Signing in on a browser that has a session (bob's, or one an attacker
	// planted) gives a new ID and kills the old one.
	bob := signIn(t, h, "bob", "builder")
	alice := postForm(t, h, "/login", bob, url.Values{"username": {"alice"}, "password": {"wonderland"}})
	if alice.Code != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d", alice.Code)
	}
	var aliceCookie *http.Cookie
	for _, c := range alice.Result().Cookies() {
		if c.Name == "__Host-session" {
			aliceCookie = c
		}
	}
	if aliceCookie == nil || aliceCookie.Value == bob.Value {
		t.Fatalf("sign-in kept the session ID")
	}
	if !aliceCookie.Secure || !aliceCookie.HttpOnly || aliceCookie.SameSite != http.SameSiteLaxMode || aliceCookie.Path != "/" || aliceCookie.Domain != "" {
		t.Errorf("cookie %+v", aliceCookie)
	}
	if res := checkAs(h, bob, "/account"); res.Code != 401 {
		t.Errorf("old ID after the renewal: %d, want 401", res.Code)
	}
	if res := checkAs(h, aliceCookie, "/admin"); res.Code != 200 || res.Header().Get("Remote-User") != "alice" {
		t.Fatalf("as alice: %d %q", res.Code, res.Header().Get("Remote-User"))
	}

	// Logout: GET is refused, POST without a token is refused, POST with
	// one ends the session.
	get := httptest.NewRequest("GET", "/logout", nil)
	get.AddCookie(aliceCookie)
	if res := do(h, get); res.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /logout: %d", res.Code)
	}
	noToken := httptest.NewRequest("POST", "/logout", nil)
	noToken.AddCookie(aliceCookie)
	if res := do(h, noToken); res.Code != http.StatusForbidden {
		t.Errorf("POST /logout without a CSRF token: %d", res.Code)
	}
	if res := checkAs(h, aliceCookie, "/admin"); res.Code != 200 {
		t.Fatalf("refused logouts ended the session: %d", res.Code)
	}
	out := postForm(t, h, "/logout", aliceCookie, url.Values{"rd": {"//evil.example"}})
	if out.Code != http.StatusSeeOther || out.Header().Get("Location") != "/login" {
		t.Errorf("POST /logout: %d Location %q", out.Code, out.Header().Get("Location"))
	}
	if res := checkAs(h, aliceCookie, "/admin"); res.Code != 401 {
		t.Errorf("after logout: %d, want 401", res.Code)
	}
}

func TestLoginCSRF(t *testing.T) {
	h := newHandler(t, forwardauth.Options{})
	form := url.Values{"username": {"alice"}, "password": {"wonderland"}}
	for _, tc := range []struct {
		name  string
		token string
		site  string
	}{
		{"no token", "", ""},
		{"forged token", strings.Repeat("A", 76), ""},
		{"valid token, cross-site", "valid", "cross-site"},
	} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		if tc.token == "valid" {
			m := csrfField.FindStringSubmatch(do(h, httptest.NewRequest("GET", "/login", nil)).Body.String())
			f.Set("csrf_token", m[1])
		} else if tc.token != "" {
			f.Set("csrf_token", tc.token)
		}
		req := httptest.NewRequest("POST", "/login", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tc.site != "" {
			req.Header.Set("Sec-Fetch-Site", tc.site)
		}
		if res := do(h, req); res.Code != http.StatusForbidden || len(res.Result().Cookies()) != 0 {
			t.Errorf("%s: %d, cookies %v", tc.name, res.Code, res.Result().Cookies())
		}
	}
}

func TestLoginRedirectTarget(t *testing.T) {
	h := newHandler(t, forwardauth.Options{RedirectHosts: []string{"app.example.com"}})
	for _, tc := range []struct{ rd, want string }{
		{"/account?x=1", "/account?x=1"},
		{"https://app.example.com/a", "https://app.example.com/a"},
		{"https://evil.example/", "/login"},
		{"//evil.example", "/login"},
		{"/\\evil.example", "/login"},
		{"https://app.example.com@evil.example/", "/login"},
		{"http://app.example.com/", "/login"},
	} {
		res := postForm(t, h, "/login", nil, url.Values{"username": {"bob"}, "password": {"builder"}, "rd": {tc.rd}})
		if res.Code != http.StatusSeeOther || res.Header().Get("Location") != tc.want {
			t.Errorf("rd=%q: %d Location %q, want %q", tc.rd, res.Code, res.Header().Get("Location"), tc.want)
		}
	}
}

func TestLoginRateLimits(t *testing.T) {
	now := time.Now()
	backend := ratelimit.NewMemory(ratelimit.MemoryOptions{Now: func() time.Time { return now }})
	defer backend.Close()
	h := newHandler(t, forwardauth.Options{
		RateLimit:       backend,
		LoginPerUser:    ratelimit.Limit{Rate: 3, Per: time.Minute},
		LoginPerAddress: ratelimit.Limit{Rate: 5, Per: time.Minute},
	})
	attempt := func(user, pw string) int {
		return postForm(t, h, "/login", nil, url.Values{"username": {user}, "password": {pw}}).Code
	}
	for i := range 3 {
		if code := attempt("alice", "wrong"); code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, code)
		}
	}
	if code := attempt("alice", "wonderland"); code != http.StatusTooManyRequests {
		t.Fatalf("4th attempt on alice, right password: %d, want 429 (the password is not checked)", code)
	}
	if code := attempt("bob", "builder"); code != http.StatusSeeOther {
		t.Fatalf("bob from the same address: %d", code)
	}
	// 5 attempts from this address are used up; the next is refused
	// whatever the account.
	if code := attempt("carol", "x"); code != http.StatusTooManyRequests {
		t.Fatalf("6th attempt from one address: %d, want 429", code)
	}
	now = now.Add(time.Minute)
	if code := attempt("alice", "wonderland"); code != http.StatusSeeOther {
		t.Fatalf("after a minute: %d", code)
	}
}
