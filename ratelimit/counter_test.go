package ratelimit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sessionkit/session/ratelimit"
)

// TestCounter counts malformed session IDs per client address, the way
// the session manager's malformed-token event will, and cuts the client
// off once it is over.
func TestCounter(t *testing.T) {
	c := newClock()
	bad := ratelimit.NewCounter(newMemory(t, c), ratelimit.Limit{Rate: 3, Per: time.Minute}, ratelimit.Options{Name: "bad-id", Logger: discardLogger})
	h := bad.Handler(ratelimit.ByAddress, okHandler())
	ctx := context.Background()
	get := func(addr string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = addr
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	const guesser = "203.0.113.9"

	type step struct {
		name     string
		advance  time.Duration
		add      bool // record one event first
		wantAdd  bool // Add's result
		wantOver bool
		status   int
	}
	steps := []step{
		{name: "clean client passes, uncounted", status: 200},
		{name: "passing does not count", status: 200},
		{name: "event 1", add: true, status: 200},
		{name: "event 2", add: true, status: 200},
		{name: "event 3 fills the limit", add: true, wantOver: true, status: 429},
		{name: "event 4 is over", add: true, wantAdd: true, wantOver: true, status: 429},
		{name: "one event's worth back after 20s", advance: 20 * time.Second, status: 200},
		{name: "and used again", add: true, wantOver: true, status: 429},
	}
	for _, s := range steps {
		c.Advance(s.advance)
		if s.add {
			over, err := bad.Add(ctx, guesser)
			if err != nil {
				t.Fatal(err)
			}
			if over != s.wantAdd {
				t.Errorf("%s: Add = %v, want %v", s.name, over, s.wantAdd)
			}
		}
		over, err := bad.Over(ctx, guesser)
		if err != nil {
			t.Fatal(err)
		}
		if over != s.wantOver {
			t.Errorf("%s: Over = %v, want %v", s.name, over, s.wantOver)
		}
		w := get(guesser + ":1234")
		if w.Code != s.status {
			t.Errorf("%s: status %d, want %d", s.name, w.Code, s.status)
		}
		if w.Code == http.StatusOK && w.Header().Get("RateLimit") != "" {
			t.Errorf("%s: counter advertised RateLimit on an allowed request", s.name)
		}
		if w.Code == http.StatusTooManyRequests && w.Header().Get("Retry-After") != "20" {
			t.Errorf("%s: Retry-After %q, want 20", s.name, w.Header().Get("Retry-After"))
		}
	}
	if w := get("198.51.100.1:1"); w.Code != 200 {
		t.Errorf("another client refused: %d", w.Code)
	}
	if err := bad.Reset(ctx, guesser); err != nil {
		t.Fatal(err)
	}
	if over, _ := bad.Over(ctx, guesser); over {
		t.Error("over after Reset")
	}
}
