package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// behindProxy returns a client that connects from the proxy's address and
// sends header: value on every request, as the proxy would.
func behindProxy(t *testing.T, base, proxy, header, value string) *client {
	c := fromAddress(t, base, proxy)
	c.header = http.Header{header: {value}}
	return c
}

// addressOnDevices returns the address column of the current session on
// the devices page.
func addressOnDevices(t *testing.T, c *client) string {
	t.Helper()
	r := c.get("/account/sessions")
	wantStatus(t, r, http.StatusOK)
	i := strings.Index(r.Body, `<tr class="device current"`)
	if i < 0 {
		t.Fatalf("no current session on the devices page:\n%s", r.Body)
	}
	row := r.Body[i:]
	row = row[:strings.Index(row, "</tr>")]
	cells := strings.Split(row, "<td>")
	if len(cells) < 3 {
		t.Fatalf("devices row %q", row)
	}
	return strings.TrimSuffix(strings.TrimSpace(cells[2]), "</td>")
}

func TestTrustedProxies(t *testing.T) {
	const proxy = "127.0.0.9"
	in := start(t, "-store", "memory:", "-trusted-proxies", "127.0.0.8/31, ::1")

	// A client that is not a proxy cannot choose its address.
	direct := newClient(t, in.URL)
	direct.header = http.Header{"X-Forwarded-For": {"203.0.113.5"}, "Forwarded": {"for=203.0.113.5"}}
	direct.login("bob", "builder")
	if got := addressOnDevices(t, direct); got != "127.0.0.1" {
		t.Errorf("a spoofed X-Forwarded-For from an untrusted client: address %q, want 127.0.0.1", got)
	}

	// Through the proxy: the rightmost address that is not a proxy.
	viaProxy := behindProxy(t, in.URL, proxy, "X-Forwarded-For", "10.9.9.9, 198.51.100.1, 127.0.0.8")
	viaProxy.login("bob", "builder")
	if got := addressOnDevices(t, viaProxy); got != "198.51.100.1" {
		t.Errorf("behind the proxy: address %q, want 198.51.100.1", got)
	}

	// The session core sees it too: the same cookie from another network,
	// through the same proxy, is a client change (reauth by default).
	moved := behindProxy(t, in.URL, proxy, "X-Forwarded-For", "203.0.113.9")
	u, _ := url.Parse(in.URL)
	moved.jar.SetCookies(u, []*http.Cookie{{Name: "__Host-session", Value: viaProxy.sessionCookie(), Path: "/"}})
	wantNoBody(t, moved.get("/"), "Signed in as bob")
	if !strings.Contains(in.stderr.String(), "event=client_changed") || !strings.Contains(in.stderr.String(), "client=203.0.113.9") {
		t.Errorf("no client change from 203.0.113.9 in the log")
	}

	// One client's failed logins behind the proxy limit that client only.
	attacker := behindProxy(t, in.URL, proxy, "X-Forwarded-For", "198.51.100.66")
	attacker.get("/login")
	limited := false
	for i := range 40 {
		r := attacker.post("/login", url.Values{"username": {fmt.Sprint("nobody", i)}, "password": {"x"}})
		if r.StatusCode == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("40 failed logins from one client behind the proxy were never limited")
	}
	other := behindProxy(t, in.URL, proxy, "X-Forwarded-For", "198.51.100.77")
	other.login("alice", "wonderland") // fails the test unless 303
	// The attacker cannot escape its limit by prepending addresses.
	attacker.header.Set("X-Forwarded-For", "192.0.2.1, 198.51.100.66")
	r := attacker.post("/login", url.Values{"username": {"nobody"}, "password": {"x"}})
	wantStatus(t, r, http.StatusTooManyRequests)
	// The activity page names the client, not the proxy.
	wantBody(t, other.get("/admin/activity"), "198.51.100.66", "Rate limit hit")
}

func TestTrustedProxiesForwarded(t *testing.T) {
	in := start(t, "-store", "memory:", "-trusted-proxies", "127.0.0.9", "-proxy-header", "Forwarded")
	c := behindProxy(t, in.URL, "127.0.0.9", "Forwarded", `for=192.0.2.1;proto=https, for="[2001:db8:cafe::17]:4711";by=127.0.0.9`)
	c.login("bob", "builder")
	if got := addressOnDevices(t, c); got != "2001:db8:cafe::17" {
		t.Errorf("Forwarded: address %q, want 2001:db8:cafe::17", got)
	}
	// With -proxy-header forwarded, X-Forwarded-For is the client's own.
	x := behindProxy(t, in.URL, "127.0.0.9", "X-Forwarded-For", "198.51.100.1")
	x.login("bob", "builder")
	if got := addressOnDevices(t, x); got != "127.0.0.9" {
		t.Errorf("X-Forwarded-For with -proxy-header forwarded: address %q, want the proxy's", got)
	}
}

func TestClientAddr(t *testing.T) {
	trusted, err := parseTrustedProxies("10.0.0.0/8, 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, remote, header, value string
		forwarded                   bool
		want                        string
	}{
		{"untrusted ignores XFF", "198.51.100.1:5000", "X-Forwarded-For", "203.0.113.1", false, "198.51.100.1"},
		{"untrusted ignores Forwarded", "198.51.100.1:5000", "Forwarded", "for=203.0.113.1", true, "198.51.100.1"},
		{"proxy, XFF", "10.1.1.1:5000", "X-Forwarded-For", "203.0.113.1", false, "203.0.113.1"},
		{"proxy chain, rightmost untrusted", "10.1.1.1:5000", "X-Forwarded-For", "6.6.6.6, 203.0.113.1, 10.2.2.2, 192.0.2.1", false, "203.0.113.1"},
		{"proxy, no header", "10.1.1.1:5000", "", "", false, "10.1.1.1"},
		{"proxy, Forwarded", "10.1.1.1:5000", "Forwarded", "for=203.0.113.1;proto=https", true, "203.0.113.1"},
		{"proxy, Forwarded chain", "10.1.1.1:5000", "Forwarded", `for=6.6.6.6, for="203.0.113.1:80", for=10.3.3.3`, true, "203.0.113.1"},
		{"proxy, Forwarded IPv6", "10.1.1.1:5000", "Forwarded", `For="[2001:db8::1]:4711"`, true, "2001:db8::/64"}, // the rate-limit key: IPv6 by /64,
		{"proxy, Forwarded unknown", "10.1.1.1:5000", "Forwarded", `for=6.6.6.6, for=unknown`, true, "10.1.1.1"},
		{"proxy, Forwarded quoted comma", "10.1.1.1:5000", "Forwarded", `for=203.0.113.1;ext="a,b"`, true, "203.0.113.1"},
		{"proxy, Forwarded not read in XFF mode", "10.1.1.1:5000", "Forwarded", "for=203.0.113.1", false, "10.1.1.1"},
		{"all trusted: the leftmost", "10.1.1.1:5000", "X-Forwarded-For", "10.4.4.4, 10.5.5.5", false, "10.4.4.4"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			if tt.header != "" {
				r.Header.Set(tt.header, tt.value)
			}
			c := clientAddrs{trusted: trusted, forwarded: tt.forwarded}
			var seen string
			c.realClient(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = clientKey(r) })).ServeHTTP(httptest.NewRecorder(), r)
			if seen != tt.want {
				t.Errorf("client %q, want %q", seen, tt.want)
			}
			if r.RemoteAddr != tt.remote {
				t.Errorf("the caller's request was changed: RemoteAddr %q", r.RemoteAddr)
			}
		})
	}
}
