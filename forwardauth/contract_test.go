package forwardauth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sessionkit/session/forwardauth"
)

// The three contracts, each as its proxy sends a check. Traefik and Envoy
// are not packaged by Debian, so their documented request shapes are
// replayed here; nginx and Caddy also run for real in cmd/sessiond's tests.
type contract struct {
	name string
	// check builds the check request for the original method, host and
	// request target.
	check func(method, host, uri string) *http.Request
	// status of each outcome
	allowed, signIn, forbidden int
}

var contracts = []contract{
	{
		name: "nginx",
		check: func(method, host, uri string) *http.Request {
			r := httptest.NewRequest("GET", forwardauth.PathNginx, nil)
			r.Host = "sessiond.internal" // proxy_pass to sessiond; the original host travels in X-Forwarded-Host
			r.Header.Set("X-Original-Method", method)
			r.Header.Set("X-Original-URI", uri)
			r.Header.Set("X-Forwarded-Host", host)
			r.Header.Set("X-Forwarded-Proto", "https")
			return r
		},
		allowed: 200, signIn: 401, forbidden: 403,
	},
	{
		name: "traefik-caddy",
		check: func(method, host, uri string) *http.Request {
			r := httptest.NewRequest("GET", forwardauth.PathForward, nil)
			r.Header.Set("X-Forwarded-Method", method)
			r.Header.Set("X-Forwarded-Proto", "https")
			r.Header.Set("X-Forwarded-Host", host)
			r.Header.Set("X-Forwarded-Uri", uri)
			r.Header.Set("X-Forwarded-For", "203.0.113.9")
			r.Header.Set("Accept", "text/html,application/xhtml+xml")
			return r
		},
		allowed: 200, signIn: 302, forbidden: 403,
	},
	{
		name: "envoy",
		check: func(method, host, uri string) *http.Request {
			r := httptest.NewRequest(method, "/", nil)
			r.RequestURI = forwardauth.PathEnvoy + uri // path_prefix + the original path, as sent
			r.URL, _ = url.ParseRequestURI("/auth/envoy/")
			if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
				r.URL = u
			}
			r.Host = host
			r.Header.Set("X-Forwarded-Proto", "https")
			return r
		},
		allowed: 200, signIn: 302, forbidden: 403,
	},
}

func (c contract) status(o forwardauth.Outcome) int {
	switch o {
	case forwardauth.Allowed:
		return c.allowed
	case forwardauth.SignInRequired:
		return c.signIn
	}
	return c.forbidden
}

func TestContracts(t *testing.T) {
	h := newHandler(t, forwardauth.Options{})
	cookies := map[string]*http.Cookie{
		"alice": signIn(t, h, "alice", "wonderland"),
		"bob":   signIn(t, h, "bob", "builder"),
	}
	const (
		allowed   = forwardauth.Allowed
		signIn    = forwardauth.SignInRequired
		forbidden = forwardauth.Forbidden
	)
	cases := []struct {
		name string
		user string // "" for anonymous
		host string
		uri  string
		want forwardauth.Outcome
	}{
		{"anonymous on a protected path", "", "app.example.com", "/", signIn},
		{"anonymous on a public path", "", "app.example.com", "/public/x?y=1", allowed},
		{"user on a protected path", "bob", "app.example.com", "/account", allowed},
		{"user without the group", "bob", "app.example.com", "/admin", forbidden},
		{"user with the group", "alice", "app.example.com", "/admin/users", allowed},
		{"deny rule", "alice", "app.example.com", "/closed", forbidden},
		{"prefix on segments only", "", "app.example.com", "/publicity", signIn},
		{"public host", "", "open.example.com", "/admin-anything", allowed},
		{"host rule by wildcard", "bob", "x.staff.example.com", "/", forbidden},
		{"host rule by wildcard, in group", "alice", "X.Staff.Example.com:8443", "/", allowed},
		{"wildcard not the apex", "bob", "staff.example.com", "/", allowed},

		// path confusion: each must be decided as the path servers resolve
		{"dot segments into admin", "bob", "app.example.com", "/public/../admin", forbidden},
		{"dot segments out of admin", "", "app.example.com", "/admin/../public", allowed},
		{"encoded dot segments", "bob", "app.example.com", "/public/%2e%2e/admin", forbidden},
		{"encoded dots at the root", "", "app.example.com", "/%2e%2e/admin", signIn},
		{"double slash", "bob", "app.example.com", "//admin", forbidden},
		{"double slash before public", "", "app.example.com", "//public/../admin", signIn},
		{"path parameter", "bob", "app.example.com", "/admin;x=1", forbidden},
		{"tomcat dot-dot-semicolon", "bob", "app.example.com", "/public/..;/admin", forbidden},
		{"upper case", "bob", "app.example.com", "/ADMIN", forbidden},
		{"mixed case public is still protected elsewhere", "", "app.example.com", "/Public/../Admin", signIn},
		{"encoded letters", "bob", "app.example.com", "/%61dmin", forbidden},
		{"encoded slash refused", "", "app.example.com", "/public%2F..%2Fadmin", forbidden},
		{"double encoding refused", "", "app.example.com", "/public/%252e%252e/admin", forbidden},
		{"backslash refused", "", "app.example.com", "/public/%5c../admin", forbidden},
		{"NUL refused", "", "app.example.com", "/public%00/../admin", forbidden},
		{"not a path", "", "app.example.com", "public", forbidden},
		{"bad host", "", "app.example.com/x", "/public", forbidden},
	}
	for _, c := range contracts {
		t.Run(c.name, func(t *testing.T) {
			for _, tc := range cases {
				if c.name == "envoy" && (tc.uri == "public" || strings.ContainsAny(tc.uri, "\x00")) { // not a request line Envoy sends
					continue
				}
				t.Run(tc.name, func(t *testing.T) {
					r := c.check("GET", tc.host, tc.uri)
					r.RemoteAddr = proxyAddr
					if tc.user != "" {
						r.AddCookie(cookies[tc.user])
					}
					res := do(h, r)
					if want := c.status(tc.want); res.Code != want {
						t.Fatalf("%s %s%s as %q: %d, want %d (%s)", c.name, tc.host, tc.uri, tc.user, res.Code, want, res.Body)
					}
					if res.Header().Get("Cache-Control") != "no-store" {
						t.Errorf("Cache-Control = %q, want no-store", res.Header().Get("Cache-Control"))
					}
					if tc.want == allowed {
						if got := res.Header().Get("Remote-User"); got != tc.user {
							t.Errorf("Remote-User = %q, want %q", got, tc.user)
						}
						if _, ok := res.Header()["Remote-User"]; !ok {
							t.Error("no Remote-User header: the proxy would let a client's own through")
						}
					} else if res.Header().Get("Remote-User") != "" {
						t.Errorf("refusal carries Remote-User %q", res.Header().Get("Remote-User"))
					}
				})
			}
		})
	}
}

func TestIdentityHeaders(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    forwardauth.Headers
		user    string
		want    map[string]string
		session string // header that holds the session ID
	}{
		{"authelia preset for alice", forwardauth.Headers{}, "alice",
			map[string]string{"Remote-User": "alice", "Remote-Groups": "admins,dev", "Remote-Email": "alice@example.com"}, "Remote-Session"},
		{"oauth2-proxy preset for bob", forwardauth.OAuth2ProxyHeaders, "bob",
			map[string]string{"X-Auth-Request-User": "bob", "X-Auth-Request-Groups": "", "X-Auth-Request-Email": ""}, "X-Auth-Request-Session"},
		{"custom names", forwardauth.Headers{User: "X-User", Groups: "X-Roles"}, "alice",
			map[string]string{"X-User": "alice", "X-Roles": "admins,dev"}, ""},
		{"anonymous on a public path: every header present and empty", forwardauth.Headers{}, "",
			map[string]string{"Remote-User": "", "Remote-Groups": "", "Remote-Email": "", "Remote-Session": ""}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHandler(t, forwardauth.Options{Headers: tc.opts})
			for _, c := range contracts {
				uri := "/public"
				if tc.user != "" {
					uri = "/account"
				}
				r := c.check("GET", "app.example.com", uri)
				r.RemoteAddr = proxyAddr
				if tc.user != "" {
					pw := map[string]string{"alice": "wonderland", "bob": "builder"}[tc.user]
					r.AddCookie(signIn(t, h, tc.user, pw))
				}
				// The client tries to speak for someone else.
				for name := range tc.want {
					r.Header.Set(name, "mallory")
				}
				r.Header.Set("Remote-User", "mallory")
				res := do(h, r)
				if res.Code != 200 {
					t.Fatalf("%s: %d", c.name, res.Code)
				}
				for name, want := range tc.want {
					vs, ok := res.Header()[name]
					if !ok || len(vs) != 1 || vs[0] != want {
						t.Errorf("%s: %s = %q (present %v), want exactly %q", c.name, name, vs, ok, want)
					}
				}
				if tc.session != "" {
					if id := res.Header().Get(tc.session); len(id) != 64 {
						t.Errorf("%s: %s = %q, want the session's 64-hex store ID", c.name, tc.session, id)
					}
				}
				if tc.opts.User != "" && tc.opts.User != "Remote-User" && res.Header().Get("Remote-User") != "" {
					t.Errorf("%s: the client's Remote-User was echoed", c.name)
				}
				if c.name == "envoy" {
					remove := res.Header().Get("X-Envoy-Auth-Headers-To-Remove")
					for name, v := range tc.want {
						if listed := strings.Contains(","+remove+",", ","+strings.ToLower(name)+","); listed != (v == "") {
							t.Errorf("envoy: x-envoy-auth-headers-to-remove = %q: %s listed %v, want %v", remove, name, listed, v == "")
						}
					}
				}
			}
		})
	}
}

// A client that reaches sessiond directly, not through a trusted proxy,
// cannot describe a request: its forwarded headers are not read and every
// check is refused, whatever it claims.
func TestUntrustedPeer(t *testing.T) {
	h := newHandler(t, forwardauth.Options{})
	alice := signIn(t, h, "alice", "wonderland")
	for _, c := range contracts {
		for _, peer := range []string{clientAddr, "[2001:db8::1]:443", "10.0.0.1:80", "not-an-address"} {
			for _, user := range []*http.Cookie{nil, alice} {
				r := c.check("GET", "app.example.com", "/public")
				r.RemoteAddr = peer
				r.Header.Set("X-Forwarded-For", "127.0.0.1")
				r.Header.Set("X-Real-Ip", "127.0.0.1")
				if user != nil {
					r.AddCookie(user)
				}
				res := do(h, r)
				if res.Code != http.StatusForbidden {
					t.Errorf("%s from %s: %d, want 403", c.name, peer, res.Code)
				}
				if v := res.Header().Get("Remote-User"); v != "" {
					t.Errorf("%s from %s: Remote-User %q", c.name, peer, v)
				}
			}
		}
	}

	// Configured proxies replace loopback.
	h = newHandler(t, forwardauth.Options{TrustedProxies: mustPrefixes(t, "10.0.0.0/8")})
	for _, peer := range []string{"10.1.2.3:80", proxyAddr} {
		r := contracts[1].check("GET", "app.example.com", "/public")
		r.RemoteAddr = peer
		want := 200
		if peer == proxyAddr {
			want = 403
		}
		if res := do(h, r); res.Code != want {
			t.Errorf("trusting 10/8 only: check from %s: %d, want %d", peer, res.Code, want)
		}
	}
}

func TestSignInRedirect(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     forwardauth.Options
		host     string
		uri      string
		location string
	}{
		{"login on the app host takes the path back", forwardauth.Options{LoginURL: "/_sessiond/login"},
			"app.example.com", "/account?tab=2", "/_sessiond/login?rd=%2Faccount%3Ftab%3D2"},
		{"sign-in host with the app allowed", forwardauth.Options{LoginURL: "https://auth.example.com/login", RedirectHosts: []string{"*.example.com"}},
			"app.example.com", "/account", "https://auth.example.com/login?rd=https%3A%2F%2Fapp.example.com%2Faccount"},
		{"sign-in host, app not allowed: no rd", forwardauth.Options{LoginURL: "https://auth.example.com/login", RedirectHosts: []string{"other.example.com"}},
			"app.example.com", "/account", "https://auth.example.com/login"},
		{"double slash target: no rd", forwardauth.Options{LoginURL: "/login"},
			"app.example.com", "//evil.example/", "/login"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHandler(t, tc.opts)
			for _, c := range contracts {
				r := c.check("GET", tc.host, tc.uri)
				r.RemoteAddr = proxyAddr
				res := do(h, r)
				want := tc.location
				if c.name == "nginx" && strings.HasPrefix(want, "/") {
					want = "https://" + tc.host + want // error_page needs a URL
				}
				if got := res.Header().Get("Location"); res.Code != c.signIn || got != want {
					t.Errorf("%s: %d Location %q, want %d %q", c.name, res.Code, got, c.signIn, want)
				}
			}
		})
	}
}

// Traefik and Caddy pass the answer on to the client: scripts asking for
// JSON get 401 with JSON, and forms (POST) a 303.
func TestForwardAnswers(t *testing.T) {
	h := newHandler(t, forwardauth.Options{})
	for _, c := range contracts[1:] {
		for _, tc := range []struct {
			name, method, accept, xrw string
			want                      int
		}{
			{"browser GET", "GET", "text/html,*/*", "", 302},
			{"browser HEAD", "HEAD", "", "", 302},
			{"form POST", "POST", "text/html", "", 303},
			{"fetch asking for JSON", "GET", "application/json", "", 401},
			{"XMLHttpRequest", "POST", "*/*", "XMLHttpRequest", 401},
		} {
			r := c.check(tc.method, "app.example.com", "/account")
			r.RemoteAddr = proxyAddr
			r.Header.Set("Accept", tc.accept)
			if tc.xrw != "" {
				r.Header.Set("X-Requested-With", tc.xrw)
			}
			res := do(h, r)
			if res.Code != tc.want {
				t.Errorf("%s, %s: %d, want %d", c.name, tc.name, res.Code, tc.want)
				continue
			}
			if tc.want == 401 {
				var body struct{ Error, Login string }
				if err := json.Unmarshal(res.Body.Bytes(), &body); err != nil || body.Login != "/login?rd=%2Faccount" {
					t.Errorf("%s, %s: body %q (%v)", c.name, tc.name, res.Body, err)
				}
			}
		}
	}
}
