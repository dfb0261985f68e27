package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"testing"
)

// TestQuickstart runs the README's program: a visitor fills a cart, logs in
// (a new session ID), and finds the cart still there.
func TestQuickstart(t *testing.T) {
	app, err := newApp()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(app)
	defer srv.Close()
	c := srv.Client()
	c.Jar, _ = cookiejar.New(nil)
	u, _ := url.Parse(srv.URL)
	token := func() string {
		for _, ck := range c.Jar.Cookies(u) {
			if ck.Name == "__Host-session" {
				return ck.Value
			}
		}
		return ""
	}
	do := func(method, path string, form url.Values, wantStatus int, wantBody string) {
		t.Helper()
		var resp *http.Response
		var err error
		if method == "POST" {
			resp, err = c.PostForm(srv.URL+path, form)
		} else {
			resp, err = c.Get(srv.URL + path)
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != wantStatus || string(body) != wantBody {
			t.Fatalf("%s %s: %d %q; want %d %q", method, path, resp.StatusCode, body, wantStatus, wantBody)
		}
	}

	do("GET", "/cart", nil, 200, ": []\n")
	if token() != "" {
		t.Fatal("a visitor who only looked got a session cookie")
	}
	do("POST", "/cart", url.Values{"item": {"tea"}}, 200, "1 in the cart\n")
	anonymous := token()
	do("POST", "/login", url.Values{"user": {"alice"}, "password": {"nope"}}, 401, "wrong user or password\n")
	do("POST", "/login", url.Values{"user": {"alice"}, "password": {"wonderland"}}, 200, "hello, alice\n")
	if token() == anonymous || token() == "" {
		t.Fatal("login kept the session ID")
	}
	do("POST", "/cart", url.Values{"item": {"cake"}}, 200, "2 in the cart\n")
	do("GET", "/cart", nil, 200, "alice: [\"tea\" \"cake\"]\n")
}
