package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/ratelimit"
)

func TestWriteJSONNoHTMLEscapes(t *testing.T) {
	w := httptest.NewRecorder()
	writeJSON(w, http.StatusBadRequest, apiError{"want <json> & more"})
	if body := w.Body.String(); !strings.Contains(body, `"want <json> & more"`) {
		t.Errorf("body %q, want the text as it is", body)
	}
}

func TestAPIErrorsAreJSON(t *testing.T) {
	in := start(t, "-store", "memory:")
	for _, path := range []string{"/api/nope", "/api/me/../x"} {
		resp, body := apiGet(t, in, path, "")
		var e apiError
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/json" || json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
			t.Errorf("GET %s: %d %q %s, want a JSON 404", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
}

func TestRememberMeTimeouts(t *testing.T) {
	in := start(t, "-store", "memory:", "-remember-idle-timeout", "2h", "-remember-absolute-timeout", "3h")
	c := newClient(t, in.URL)
	c.get("/login")
	r := c.post("/login", map[string][]string{"username": {"bob"}, "password": {"builder"}, "remember": {"1"}})
	wantStatus(t, r, http.StatusSeeOther)
	for _, ck := range r.Cookies() {
		if ck.Name == "__Host-session" && (ck.MaxAge <= 0 || ck.MaxAge > int((3*time.Hour)/time.Second)) {
			t.Errorf("remember-me cookie Max-Age %d, want at most 3h", ck.MaxAge)
		}
	}
}

// TestBadIDLogSampled: a client sending junk cookies gets one log line per
// interval, not one per request.
func TestBadIDLogSampled(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	l := newEventLog(slog.New(slog.NewTextHandler(&buf, nil)), func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	r := httptest.NewRequest("GET", "/", nil)
	for range 1000 {
		l.observe(context.Background(), session.Event{Kind: session.EventMalformed, Request: r})
	}
	mu.Lock()
	now = now.Add(badIDLogEvery)
	mu.Unlock()
	l.observe(context.Background(), session.Event{Kind: session.EventUnknown, Request: r})
	l.observe(context.Background(), session.Event{Kind: session.EventCreated, ID: "abc"})
	logs := buf.String()
	if n := strings.Count(logs, "opens nothing"); n != 2 {
		t.Errorf("%d bad-ID lines for 1001 bad IDs over one interval, want 2:\n%s", n, logs)
	}
	if !strings.Contains(logs, "not_logged_since_last=999") {
		t.Errorf("the second line does not say how many it left out:\n%s", logs)
	}
	if !strings.Contains(logs, "event=created") {
		t.Errorf("other events are no longer logged:\n%s", logs)
	}
}

func TestErrorPagesInLayout(t *testing.T) {
	in := start(t, "-store", "memory:")
	c := newClient(t, in.URL)
	r := c.get("/nope")
	wantStatus(t, r, http.StatusNotFound)
	wantBody(t, r, `<header class="top">`, "Page not found", "There is no page at this address.")
	r = c.get("/logout")
	wantStatus(t, r, http.StatusMethodNotAllowed)
	wantBody(t, r, `<header class="top">`, "Not allowed")
	if allow := r.Header.Get("Allow"); !strings.Contains(allow, "POST") {
		t.Errorf("405 Allow %q, want POST", allow)
	}
	if len(r.Cookies()) > 0 {
		t.Errorf("an error page set a cookie: %v", r.Cookies())
	}
	// A French visitor gets it in French.
	req, _ := http.NewRequest("GET", in.URL+"/nope", nil)
	req.Header.Set("Accept-Language", "fr")
	wantBody(t, c.do(req), "Page introuvable")
	// The mux's own redirects still work.
	if r := c.get("/account//sessions"); r.StatusCode/100 != 3 || r.Header.Get("Location") != "/account/sessions" {
		t.Errorf("GET /account//sessions: %d to %q, want the mux's redirect to /account/sessions", r.StatusCode, r.Header.Get("Location"))
	}
}

func TestFailurePages(t *testing.T) {
	cfg, err := parseFlags([]string{"-store", "memory:"}, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(cfg, slog.New(slog.DiscardHandler), memstore.New(memstore.Options{}), ratelimit.NewMemory(ratelimit.MemoryOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		err   error
		code  int
		title string
	}{
		{"store down", &session.StoreError{Op: "load", Err: errors.New("connection refused")}, http.StatusServiceUnavailable, "Try again shortly"},
		{"bug", errors.New("no template"), http.StatusInternalServerError, "Something went wrong"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			a.fail(w, httptest.NewRequest("GET", "/cart", nil), tt.err)
			if w.Code != tt.code || !strings.Contains(w.Body.String(), tt.title) || !strings.Contains(w.Body.String(), `<header class="top">`) {
				t.Errorf("status %d, body:\n%s", w.Code, w.Body)
			}
			if strings.Contains(w.Body.String(), "connection refused") {
				t.Error("the page shows the error")
			}
			if tt.code == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		})
	}
}

func TestSignOutFlashAndLoginReasons(t *testing.T) {
	in := start(t, "-store", "memory:")
	c := newClient(t, in.URL)
	r := c.get("/admin/sessions")
	wantRedirect(t, r, "/login")
	wantBody(t, c.follow(r), `id="login-why"`, "This page is for the shop&#39;s admins")
	r = c.get("/account/sessions")
	wantBody(t, c.follow(r), "Sign in to see your account.")
	wantNoBody(t, c.get("/login"), `id="login-why"`)

	c.login("bob", "builder")
	r = c.post("/logout", nil)
	wantRedirect(t, r, "/?signed_out")
	r = c.follow(r)
	wantBody(t, r, `id="flash"`, "You are signed out.")
	wantNoBody(t, r, "Signed in as")
	if len(r.Cookies()) > 0 {
		t.Errorf("the page after the logout set a cookie: %v", r.Cookies())
	}
	// The URL cannot say it to someone signed in.
	c.login("bob", "builder")
	wantNoBody(t, c.get("/?signed_out=1"), "You are signed out.")
}
