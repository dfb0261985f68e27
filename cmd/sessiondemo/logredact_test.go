package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// escapeAll percent-encodes every byte of s.
func escapeAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

// TestAccessLogRedacts: tokens a client put in a URL, in any spelling, do
// not reach the log; the rest of the URL does.
func TestAccessLogRedacts(t *testing.T) {
	in := start(t, "-store", "memory:", "-log-level", "debug") // static files are logged at debug
	c := newClient(t, in.URL)
	c.addToCart("tea") // a live session and its CSRF token
	live, csrfToken := c.sessionCookie(), c.token
	var b [32]byte
	rand.Read(b[:])
	guess := base64.RawURLEncoding.EncodeToString(b[:])
	const short = "hunter2"

	paths := []string{
		"/;__Host-session=" + live,
		"/cart;session=" + live + ";x=1",
		"/cart;__host-SESSION=" + short,
		"/?__Host-session=" + live,
		"/?%5F%5FHost-session=" + short,
		"/?session%3D" + short, // '=' encoded: decoded before judging
		"/?q=" + guess,
		"/?q=" + url.QueryEscape("x "+guess+" y"),
		"/" + guess,
		"/static/" + guess + ".css",
		"/x/" + escapeAll(guess),
		"/?q=" + url.QueryEscape(escapeAll(guess)), // encoded twice
		"/login?next=%2F" + guess,
		"/login?csrf_token=" + url.QueryEscape(csrfToken),
		"/login?api_key=" + short + "&next=/cart",
		"/checkout/1?token=" + short,
	}
	for _, p := range paths {
		req, err := http.NewRequest("GET", in.URL+p, nil)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		c.do(req)
	}
	c.get("/login?next=/cart&lang=fr")
	logs := in.stderr.String()
	for _, secret := range []string{live, guess, csrfToken, short, escapeAll(guess)[:60]} {
		if strings.Contains(logs, secret) {
			t.Errorf("%q reached the log:\n%s", secret, logs)
		}
	}
	for _, want := range []string{
		`url="/;__Host-session=[redacted]"`,
		`url="/cart;session=[redacted];x=1"`,
		`url="/login?next=/cart&lang=fr"`,
		`url="/login?api_key=[redacted]&next=/cart"`,
		`url=/static/[redacted].css`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
	checkLogs(t, in, live, csrfToken)
}

func TestRedactLogText(t *testing.T) {
	tok := strings.Repeat("aB3_-", 9)[:43]
	for _, tc := range []struct{ name, in, want string }{
		{"plain path", "/account/sessions", "/account/sessions"},
		{"query kept", "/login?next=/cart", "/login?next=/cart"},
		{"path parameter", "/;__Host-session=" + tok, "/;__Host-session=[redacted]"},
		{"any value of the cookie name", "/;session=abc;theme=dark", "/;session=[redacted];theme=dark"},
		{"query value of the cookie name", "/?__Host-session=abc&x=1", "/?__Host-session=[redacted]&x=1"},
		{"secret names", "/?token=a&pass=b&api_key=c&csrf=d&sid=e&auth=f", "/?token=[redacted]&pass=[redacted]&api_key=[redacted]&csrf=[redacted]&sid=[redacted]&auth=[redacted]"},
		{"encoded name", "/?%73ession=abc", "/?session=[redacted]"},
		{"token-shaped segment", "/" + tok + "/x", "/[redacted]/x"},
		{"token-shaped value", "/?q=" + tok, "/?q=[redacted]"},
		{"longer than a token", "/?q=" + tok + tok, "/?q=[redacted]"},
		{"encoded token", "/?q=" + escapeAll(tok), "/?q=[redacted]"},
		{"42 characters stay", "/" + tok[:42], "/" + tok[:42]},
		{"broken escape", "/%zz?q=%4", "/%zz?q=%4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := redactLogText(tc.in); got != tc.want {
				t.Fatalf("redactLogText(%q) = %q; want %q", tc.in, got, tc.want)
			}
		})
	}
}
