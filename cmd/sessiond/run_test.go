package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sessionkit/session/forwardauth"
)

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestHashPassword(t *testing.T) {
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"hash-password"}, strings.NewReader("s3cret\n"), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	hash := strings.TrimSpace(out.String())
	users, err := forwardauth.ParseUsers(strings.NewReader("carol:"+hash), "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := users.Authenticate("carol", "s3cret"); !ok {
		t.Errorf("hash %q does not check", hash)
	}
	if err := Run(context.Background(), []string{"hash-password"}, strings.NewReader(""), io.Discard, io.Discard); err == nil {
		t.Error("empty password accepted")
	}
}

func TestAddUser(t *testing.T) {
	file := filepath.Join(t.TempDir(), "users.txt")
	add := func(pw string, args ...string) error {
		return Run(context.Background(), append([]string{"add-user", "-users", file}, args...), strings.NewReader(pw+"\n"), io.Discard, io.Discard)
	}
	if err := add("one", "-groups", "admins,dev", "-email", "carol@example.com", "carol"); err != nil {
		t.Fatal(err)
	}
	if err := add("two", "dave"); err != nil {
		t.Fatal(err)
	}
	if err := add("three", "carol"); err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Errorf("adding carol twice: %v", err)
	}
	if err := add("four", "bad name"); err == nil {
		t.Error("a name with a space was added")
	}
	users, err := forwardauth.LoadUsers(file)
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := users.Authenticate("carol", "one"); !ok || !u.InGroup("dev") || u.Email != "carol@example.com" {
		t.Errorf("carol: %+v %v", u, ok)
	}
	if _, ok := users.Authenticate("dave", "two"); !ok || users.Len() != 2 {
		t.Errorf("dave, or %d users", users.Len())
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("users file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestCheckConfig(t *testing.T) {
	users := writeUsers(t)
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"-users", users, "-rule", "/public=anonymous", "-rule", "app.example.com/admin=group:admins"}, ""},
		{[]string{"-users", users, "-headers", "oauth2-proxy"}, ""},
		{[]string{"-users", users, "-headers", "user=X-User,groups=X-Groups"}, ""},
		{[]string{"-users", filepath.Join(t.TempDir(), "missing")}, "users file"},
		{[]string{"-users", users, "-rule", "/public"}, "want [HOST]/PATH=ACCESS"},
		{[]string{"-users", users, "-rule", "/public=everyone"}, "access \"everyone\""},
		{[]string{"-users", users, "-rule", "/a/../b=anonymous"}, "canonical path"},
		{[]string{"-users", users, "-trusted-proxies", "0.0.0.0/0"}, "trusts every address"},
		{[]string{"-users", users, "-trusted-proxies", "nonsense"}, "-trusted-proxies"},
		{[]string{"-users", users, "-headers", "traefik"}, "unknown header preset"},
		{[]string{"-users", users, "-login-url", "http://auth.example.com/"}, "LoginURL"},
		{[]string{"-users", users, "-store", "ftp://x"}, "ftp"},
	} {
		var out bytes.Buffer
		err := Run(context.Background(), append([]string{"check-config", "-store", "memory:"}, tc.args...), nil, &out, io.Discard)
		if tc.err == "" {
			if err != nil || out.String() != "configuration ok\n" {
				t.Errorf("%v: %v %q", tc.args, err, out.String())
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%v: err = %v, want one containing %q", tc.args, err, tc.err)
		}
	}
}

func TestServe(t *testing.T) {
	addr := startSessiond(t, "-users", writeUsers(t))
	for _, tc := range []struct {
		path string
		code int
		body string
	}{
		{"/healthz", 200, "ok"},
		{"/metrics", 200, "sessiond_checks_total"},
		{"/login", 200, "Sign in"},
		{"/nope", 404, ""},
	} {
		if tc.path == "/metrics" { // one check, so the counter exists
			r, _ := http.NewRequest("GET", "http://"+addr+"/auth/nginx", nil)
			r.Header.Set("X-Original-URI", "/")
			res, err := http.DefaultClient.Do(r)
			if err != nil || res.StatusCode != 401 {
				t.Fatalf("check: %v %v", res, err)
			}
			res.Body.Close()
		}
		res, err := http.Get("http://" + addr + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.code || !strings.Contains(string(b), tc.body) {
			t.Errorf("GET %s: %d %.200q", tc.path, res.StatusCode, b)
		}
	}
	// Envoy check paths reach the decision uncleaned (no ServeMux redirect).
	r, _ := http.NewRequest("GET", "http://"+addr+"/auth/envoy/public/../admin", nil)
	r.Host = "app.example.com"
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusFound || loc != "/login?rd=%2Fpublic%2F..%2Fadmin" {
		t.Errorf("envoy check of /public/../admin: %d %q, want 302 to sign in", res.StatusCode, loc)
	}
}

// -cookie-domain shares the session with subdomains: the cookie carries
// the Domain and, since __Host- forbids one, the __Secure- prefix.
func TestCookieDomain(t *testing.T) {
	for _, tc := range []struct {
		args         []string
		name, domain string
	}{
		{nil, "__Host-session", ""},
		{[]string{"-cookie-domain", "example.com"}, "__Secure-session", "example.com"},
	} {
		addr := startSessiond(t, append([]string{"-users", writeUsers(t)}, tc.args...)...)
		res, err := http.Get("http://" + addr + "/login")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		m := csrfField.FindSubmatch(page)
		if m == nil {
			t.Fatalf("no CSRF field in %q", page)
		}
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err = noFollow.PostForm("http://"+addr+"/login", map[string][]string{
			"username": {"alice"}, "password": {"wonderland"}, "csrf_token": {string(m[1])}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		cookies := res.Cookies()
		if res.StatusCode != http.StatusSeeOther || len(cookies) != 1 {
			t.Fatalf("%v: sign-in %d, cookies %v", tc.args, res.StatusCode, cookies)
		}
		if c := cookies[0]; c.Name != tc.name || c.Domain != tc.domain || !c.Secure || !c.HttpOnly {
			t.Errorf("%v: cookie %+v, want %s with Domain %q", tc.args, c, tc.name, tc.domain)
		}
	}
}
