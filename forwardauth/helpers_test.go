package forwardauth_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/forwardauth"
	"github.com/sessionkit/session/memstore"
)

const (
	proxyAddr  = "127.0.0.1:40000"   // a trusted proxy (loopback, the default)
	clientAddr = "198.51.100.7:1234" // a client talking to sessiond directly
)

// testUsers: alice (admins, dev), bob (no groups), with bcrypt hashes of
// the lowest cost so that the tests stay fast.
func testUsers(t testing.TB) *forwardauth.UserFile {
	t.Helper()
	hash := func(pw string) string {
		b, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	f, err := forwardauth.ParseUsers(strings.NewReader(
		"# test users\n"+
			"alice:"+hash("wonderland")+":admins,dev:alice@example.com\n"+
			"bob:"+hash("builder")+"\n"), "users.txt")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var testRules = []forwardauth.Rule{
	{Path: "/public", Access: forwardauth.Anonymous},
	{Path: "/admin", Groups: []string{"admins"}},
	{Path: "/closed", Access: forwardauth.Deny},
	{Host: "open.example.com", Access: forwardauth.Anonymous},
	{Host: "*.staff.example.com", Groups: []string{"dev"}},
}

// newHandler returns a Handler on a fresh memstore, with testRules unless
// opts has rules, and its session manager.
func newHandler(t testing.TB, opts forwardauth.Options) *forwardauth.Handler {
	t.Helper()
	store := memstore.New(memstore.Options{})
	t.Cleanup(func() { store.Close() })
	mgr, err := session.New(store, session.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	opts.Manager = mgr
	if opts.Users == nil {
		opts.Users = testUsers(t)
	}
	if opts.Rules == nil {
		opts.Rules = testRules
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h, err := forwardauth.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// signIn signs in through the sign-in page as a browser at clientAddr
// would, and returns the session cookie.
func signIn(t testing.TB, h http.Handler, user, password string) *http.Cookie {
	t.Helper()
	res := do(h, httptest.NewRequest("GET", "/login", nil))
	m := csrfField.FindStringSubmatch(res.Body.String())
	if m == nil {
		t.Fatalf("GET /login: no CSRF field in %q", res.Body.String())
	}
	form := url.Values{"username": {user}, "password": {password}, "csrf_token": {m[1]}}
	req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res = do(h, req)
	if res.Code != http.StatusSeeOther {
		t.Fatalf("POST /login as %s: %d %s", user, res.Code, res.Body.String())
	}
	for _, c := range res.Result().Cookies() {
		if c.Name == "__Host-session" && c.Value != "" {
			return c
		}
	}
	t.Fatalf("POST /login: no session cookie in %v", res.Header())
	return nil
}

func do(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	if r.RemoteAddr == "192.0.2.1:1234" { // httptest's default
		r.RemoteAddr = clientAddr
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func mustPrefixes(t testing.TB, cidrs ...string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func newHandlerErr(t testing.TB, opts forwardauth.Options) error {
	store := memstore.New(memstore.Options{})
	defer store.Close()
	mgr, err := session.New(store, session.Config{})
	if err != nil {
		t.Fatal(err)
	}
	opts.Manager, opts.Users = mgr, testUsers(t)
	h, err := forwardauth.New(opts)
	if err == nil {
		h.Close()
	}
	return err
}
