package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// attackEcho is an upstream that reports its path and every header it got.
func attackEcho(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"path": r.URL.Path, "headers": r.Header})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// attackProxy starts nginx or caddy, with the test configuration of
// proxy_test.go, in front of a sessiond run with args; it returns a client
// that dials the proxy, and its base URL.
func attackProxy(t *testing.T, proxy string, args ...string) (*http.Client, string) {
	t.Helper()
	bin := proxyBinary(t, proxy)
	c := proxyConf{Dir: t.TempDir(), Port: freePort(t), Upstream: attackEcho(t).Listener.Addr().String()}
	c.Sessiond = startSessiond(t, args...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	var cmd *exec.Cmd
	if proxy == "nginx" {
		conf := writeConf(t, nginxConf, c, "nginx.conf")
		cmd = exec.CommandContext(ctx, bin, "-p", c.Dir, "-c", conf, "-e", filepath.Join(c.Dir, "error.log"))
	} else {
		conf := writeConf(t, caddyfile, c, "Caddyfile")
		cmd = exec.CommandContext(ctx, bin, "run", "--config", conf, "--adapter", "caddyfile")
		cmd.Env = append(os.Environ(), "HOME="+c.Dir, "XDG_CONFIG_HOME="+c.Dir+"/config", "XDG_DATA_HOME="+c.Dir+"/data")
	}
	startProxy(t, cmd, c.Port, filepath.Join(c.Dir, "error.log"))
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", c.Port))
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return client, fmt.Sprintf("http://app.localhost:%d", c.Port)
}

func attackGet(t *testing.T, client *http.Client, url string, h http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestAttackNginxClientForwardedHost: the documented nginx configuration
// (main.go's package doc, proxyConf's nginxConf) does not set
// X-Forwarded-Host in the auth_request location, and auth_request
// subrequests carry the client's own headers; serveNginx prefers
// X-Forwarded-Host over Host. So a client picks the host the policy
// decides on: with a rule making another host public, an anonymous client
// reaches a protected page of app.localhost. Promise broken: "forwarded
// headers believed only from trusted proxy addresses".
func TestAttackNginxClientForwardedHost(t *testing.T) {
	client, base := attackProxy(t, "nginx", append(sessiondArgs(t), "-rule", "open.localhost/=anonymous")...)
	if code, _ := attackGet(t, client, base+"/private", nil); code != http.StatusFound {
		t.Fatalf("anonymous GET /private: %d, want 302", code)
	}
	code, body := attackGet(t, client, base+"/private", http.Header{"X-Forwarded-Host": {"open.localhost"}})
	if code != http.StatusFound {
		t.Errorf("anonymous GET app.localhost/private with a client-sent X-Forwarded-Host: open.localhost: %d %s, want 302", code, body)
	}
}

// TestAttackProxyDotDotSemicolon: through real nginx and Caddy, an
// anonymous client reaches a group-only path: sessiond decides
// "/admin/..;/../public/x" as /public/x (it reads "..;" as ".."), nginx's
// own $uri and the Go upstream (path.Clean) resolve it to /admin/public/x.
func TestAttackProxyDotDotSemicolon(t *testing.T) {
	for _, proxy := range []string{"nginx", "caddy"} {
		t.Run(proxy, func(t *testing.T) {
			client, base := attackProxy(t, proxy, sessiondArgs(t)...)
			const uri = "/admin/..;/../public/x"
			code, body := attackGet(t, client, base+uri, nil)
			if code == http.StatusOK {
				var got struct{ Path string }
				json.Unmarshal([]byte(body), &got)
				t.Errorf("anonymous GET %s through %s: 200; upstream got path %q, which it resolves to %q (rule /admin=group:admins)",
					uri, proxy, got.Path, path.Clean(got.Path))
			}
		})
	}
}

// TestAttackCaddyUnderscoreIdentityHeader: the documented Caddyfile strips
// Remote-User and copy_headers overwrites it, but a client's Remote_User
// reaches the upstream untouched. CGI, PHP-FPM, WSGI (and so Django,
// Flask, PHP apps) read both names as HTTP_REMOTE_USER, so the client
// speaks for a user. Promise broken: "client-sent identity headers always
// stripped".
func TestAttackCaddyUnderscoreIdentityHeader(t *testing.T) {
	client, base := attackProxy(t, "caddy", sessiondArgs(t)...)
	code, body := attackGet(t, client, base+"/public/page", http.Header{"Remote_User": {"mallory"}, "Remote_Groups": {"admins"}})
	if code != http.StatusOK {
		t.Fatalf("anonymous GET /public/page: %d %s", code, body)
	}
	var got struct{ Headers map[string][]string }
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("upstream answer %q: %v", body, err)
	}
	for name, vs := range got.Headers {
		cgi := strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		if (cgi == "REMOTE_USER" || cgi == "REMOTE_GROUPS") && strings.Join(vs, "") != "" {
			t.Errorf("upstream got %s: %q from the client (HTTP_%s to a CGI/WSGI/PHP app)", name, vs, cgi)
		}
	}
}
