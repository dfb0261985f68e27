package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session"
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
