package main

// End-to-end tests through Debian's real nginx and Caddy: each test starts
// the proxy on a free loopback port with a configuration generated in
// t.TempDir(), in front of sessiond and a tiny upstream app that echoes the
// identity headers it receives, and drives a browser-style client (a
// cookie jar, no redirect following) through sign-in, protected pages and
// sign-out. A missing proxy binary skips the test, or fails it under CI.
// Traefik and Envoy are not packaged by Debian: forwardauth's contract
// tests replay their documented requests instead.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"text/template"
	"time"
)

// identityHeaders are the headers the upstream echoes back.
var identityHeaders = []string{"Remote-User", "Remote-Groups", "Remote-Email", "Remote-Session"}

// echoApp is the upstream: it answers with the path and the identity
// headers it received, as JSON. A header present more than once is
// reported joined, so a client's copy next to sessiond's shows.
func echoApp(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := map[string]string{"path": r.URL.Path}
		for _, h := range identityHeaders {
			if vs, ok := r.Header[h]; ok {
				got[h] = strings.Join(vs, "|")
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(got)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// proxyBinary finds a proxy's binary, or skips (fails under CI).
func proxyBinary(t *testing.T, name string) string {
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (scripts/services.sh installs it); under CI this fails", name)
		}
		t.Skipf("%s is not installed: skipping the real-%s tests (scripts/services.sh installs it)", name, name)
	}
	return path
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startProxy runs cmd until the test ends and waits for port to accept
// connections. logFile is shown when the test fails.
func startProxy(t *testing.T, cmd *exec.Cmd, port int, logFile string) {
	t.Helper()
	out, _ := os.Create(filepath.Join(t.TempDir(), "output"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			for _, f := range []string{out.Name(), logFile} {
				if b, err := os.ReadFile(f); err == nil {
					t.Logf("%s:\n%s", f, b)
				}
			}
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(out.Name())
			l, _ := os.ReadFile(logFile)
			t.Fatalf("%s exited: %s\n%s", cmd.Path, b, l)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %d", cmd.Path, port)
		}
	}
}

const nginxConf = `daemon off;
master_process off;
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log info;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path {{.Dir}}/body;
	proxy_temp_path {{.Dir}}/proxy;
	fastcgi_temp_path {{.Dir}}/fastcgi;
	uwsgi_temp_path {{.Dir}}/uwsgi;
	scgi_temp_path {{.Dir}}/scgi;
	server {
		listen 127.0.0.1:{{.Port}};
		server_name app.localhost;

		location = /_sessiond/auth {
			internal;
			proxy_pass http://{{.Sessiond}}/auth/nginx;
			proxy_pass_request_body off;
			proxy_set_header Content-Length "";
			proxy_set_header Host $http_host;
			proxy_set_header X-Forwarded-Host $http_host;
			proxy_set_header X-Original-Method $request_method;
			proxy_set_header X-Original-URI $request_uri;
			proxy_set_header X-Forwarded-Proto $scheme;
		}
		location ~ ^/_sessiond/(login|logout)$ {
			proxy_pass http://{{.Sessiond}}/$1$is_args$args;
			proxy_set_header Host $http_host;
			proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
		}
		location / {
			auth_request /_sessiond/auth;
			auth_request_set $login $upstream_http_location;
			error_page 401 =302 $login;
			auth_request_set $user $upstream_http_remote_user;
			auth_request_set $groups $upstream_http_remote_groups;
			auth_request_set $email $upstream_http_remote_email;
			auth_request_set $sid $upstream_http_remote_session;
			proxy_set_header Remote-User $user;
			proxy_set_header Remote-Groups $groups;
			proxy_set_header Remote-Email $email;
			proxy_set_header Remote-Session $sid;
			proxy_pass http://{{.Upstream}};
		}
	}
}
`

const caddyfile = `{
	admin off
	auto_https off
	storage file_system {{.Dir}}/data
	log {
		output file {{.Dir}}/error.log
		level INFO
	}
}
http://app.localhost:{{.Port}} {
	@signin path /_sessiond/login /_sessiond/logout
	handle @signin {
		uri strip_prefix /_sessiond
		reverse_proxy {{.Sessiond}}
	}
	handle {
		route {
			request_header -Remote-User
			request_header -Remote-Groups
			request_header -Remote-Email
			request_header -Remote-Session
			request_header -Remote_User
			request_header -Remote_Groups
			request_header -Remote_Email
			request_header -Remote_Session
			forward_auth {{.Sessiond}} {
				uri /auth/forward
				copy_headers Remote-User Remote-Groups Remote-Email Remote-Session
			}
			reverse_proxy {{.Upstream}}
		}
	}
}
`

type proxyConf struct {
	Dir, Sessiond, Upstream string
	Port                    int
}

func writeConf(t *testing.T, tmpl string, c proxyConf, name string) string {
	path := filepath.Join(c.Dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := template.Must(template.New("").Parse(tmpl)).Execute(f, c); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestNginx(t *testing.T) {
	bin := proxyBinary(t, "nginx")
	c := proxyConf{Dir: t.TempDir(), Port: freePort(t), Upstream: echoApp(t).Listener.Addr().String()}
	c.Sessiond = startSessiond(t, sessiondArgs(t)...)
	conf := writeConf(t, nginxConf, c, "nginx.conf")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	startProxy(t, exec.CommandContext(ctx, bin, "-p", c.Dir, "-c", conf, "-e", filepath.Join(c.Dir, "error.log")), c.Port, filepath.Join(c.Dir, "error.log"))
	journey(t, fmt.Sprintf("http://app.localhost:%d", c.Port), c.Port, true)
}

func TestCaddy(t *testing.T) {
	bin := proxyBinary(t, "caddy")
	c := proxyConf{Dir: t.TempDir(), Port: freePort(t), Upstream: echoApp(t).Listener.Addr().String()}
	c.Sessiond = startSessiond(t, sessiondArgs(t)...)
	conf := writeConf(t, caddyfile, c, "Caddyfile")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, bin, "run", "--config", conf, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+c.Dir, "XDG_CONFIG_HOME="+c.Dir+"/config", "XDG_DATA_HOME="+c.Dir+"/data")
	startProxy(t, cmd, c.Port, filepath.Join(c.Dir, "error.log"))
	journey(t, fmt.Sprintf("http://app.localhost:%d", c.Port), c.Port, false)
}

func sessiondArgs(t *testing.T) []string {
	return []string{"-users", writeUsers(t), "-login-url", "/_sessiond/login",
		"-rule", "/public=anonymous", "-rule", "/admin=group:admins"}
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// journey drives a browser through the proxy at base: anonymous visits,
// spoofing attempts, sign-in, group rules, sign-out.
func journey(t *testing.T, base string, port int, absoluteLogin bool) {
	jar, _ := cookiejar.New(nil)
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	client := &http.Client{
		Jar:     jar,
		Timeout: 10 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", port)) // app.localhost is the proxy
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	spoof := http.Header{
		"Remote-User": {"mallory"}, "Remote-Groups": {"admins"},
		"Remote-Email": {"mallory@evil.example"}, "Remote-Session": {"forged"},
	}
	get := func(path string, h http.Header) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		for k, v := range h {
			req.Header[k] = v
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(b)
	}
	echoed := func(path string, body string) map[string]string {
		t.Helper()
		var m map[string]string
		if err := json.Unmarshal([]byte(body), &m); err != nil || m["path"] != path {
			t.Fatalf("GET %s: upstream answer %q (%v)", path, body, err)
		}
		return m
	}
	post := func(path string, form url.Values) *http.Response {
		t.Helper()
		res, err := client.PostForm(base+path, form)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	wantLogin := "/_sessiond/login?rd=%2Fprivate%3Fx%3D1"
	if absoluteLogin {
		wantLogin = base + wantLogin
	}

	// 1. Anonymous: protected pages redirect to sign-in, public ones pass
	// without any identity, whatever the client claims.
	res, _ := get("/private?x=1", spoof)
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != wantLogin {
		t.Fatalf("anonymous GET /private: %d Location %q, want 302 %q", res.StatusCode, res.Header.Get("Location"), wantLogin)
	}
	res, body := get("/public/page", spoof)
	if res.StatusCode != 200 {
		t.Fatalf("anonymous GET /public/page: %d", res.StatusCode)
	}
	for _, h := range identityHeaders {
		if v, ok := echoed("/public/page", body)[h]; ok && v != "" {
			t.Errorf("anonymous on a public page: the upstream got %s: %q from the client", h, v)
		}
	}
	if res, _ := get("/public/../admin", nil); res.StatusCode != http.StatusFound {
		t.Errorf("anonymous GET /public/../admin: %d, want 302", res.StatusCode)
	}
	if res, _ := get("/public/%2e%2e/admin", nil); res.StatusCode != http.StatusFound {
		t.Errorf("anonymous GET /public/%%2e%%2e/admin: %d, want 302", res.StatusCode)
	}

	// 2. Sign in as bob, back to where he was going.
	signIn := func(user, pw string) {
		t.Helper()
		res, page := get("/_sessiond/login?rd=%2Fprivate%3Fx%3D1", nil)
		m := csrfField.FindStringSubmatch(page)
		if res.StatusCode != 200 || m == nil {
			t.Fatalf("sign-in page: %d %q", res.StatusCode, page)
		}
		res = post("/_sessiond/login", url.Values{"username": {user}, "password": {pw}, "rd": {"/private?x=1"}, "csrf_token": {m[1]}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/private?x=1" {
			t.Fatalf("sign in as %s: %d Location %q", user, res.StatusCode, res.Header.Get("Location"))
		}
	}
	if res := post("/_sessiond/login", url.Values{"username": {"bob"}, "password": {"builder"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in without a CSRF token: %d, want 403", res.StatusCode)
	}
	signIn("bob", "builder")
	res, body = get("/private", spoof)
	if res.StatusCode != 200 {
		t.Fatalf("bob GET /private: %d %q", res.StatusCode, body)
	}
	got := echoed("/private", body)
	if got["Remote-User"] != "bob" || got["Remote-Groups"] != "" || got["Remote-Email"] != "" || len(got["Remote-Session"]) != 64 {
		t.Errorf("bob GET /private with spoofed headers: the upstream got %v", got)
	}
	if res, _ := get("/admin", spoof); res.StatusCode != http.StatusForbidden {
		t.Errorf("bob GET /admin (claiming Remote-Groups: admins): %d, want 403", res.StatusCode)
	}
	if res, _ := get("//admin", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("bob GET //admin: %d, want 403", res.StatusCode)
	}

	// 3. Sign in as alice on the same browser: a new session, her groups.
	signIn("alice", "wonderland")
	res, body = get("/admin/users", spoof)
	if res.StatusCode != 200 {
		t.Fatalf("alice GET /admin/users: %d", res.StatusCode)
	}
	got = echoed("/admin/users", body)
	if got["Remote-User"] != "alice" || got["Remote-Groups"] != "admins,dev" || got["Remote-Email"] != "alice@example.com" {
		t.Errorf("alice GET /admin/users: the upstream got %v", got)
	}
	_, again := get("/private", nil)
	if sid := echoed("/private", again)["Remote-Session"]; sid != got["Remote-Session"] {
		t.Errorf("Remote-Session changed between two requests of one session: %q, then %q", got["Remote-Session"], sid)
	}
	baseURL, _ := url.Parse(base)
	kept := jar.Cookies(baseURL) // to replay after sign-out
	if len(kept) != 1 || kept[0].Name != "__Host-session" {
		t.Fatalf("cookies of the signed-in browser: %v", kept)
	}

	// 4. Sign out: the next request is anonymous again.
	_, page := get("/_sessiond/login", nil)
	m := csrfField.FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, "alice") {
		t.Fatalf("signed-in page: %q", page)
	}
	if res := post("/_sessiond/logout", url.Values{"csrf_token": {m[1]}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d", res.StatusCode)
	}
	if res, _ := get("/private?x=1", nil); res.StatusCode != http.StatusFound {
		t.Errorf("after sign-out GET /private: %d, want 302", res.StatusCode)
	}
	// The old cookie, replayed, opens nothing: the session is gone from
	// the store, not only from the browser.
	jar.SetCookies(baseURL, kept)
	if res, _ := get("/private?x=1", nil); res.StatusCode != http.StatusFound {
		t.Errorf("old cookie replayed after sign-out: %d, want 302", res.StatusCode)
	}
}
