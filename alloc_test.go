package session_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sessionkit/session"
)

// discard is a ResponseWriter that keeps nothing, so allocation counts
// measure the middleware, not a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

func allocs(t *testing.T, h http.Handler, r *http.Request) float64 {
	w := &discard{h: http.Header{}}
	return testing.AllocsPerRun(200, func() {
		clear(w.h)
		h.ServeHTTP(w, r)
	})
}

// TestAllocs holds the hot paths to their allocation budgets (as log/slog's
// TestAlloc does). Allocation counts are exact, so this can gate CI; the race
// detector adds its own, so it is skipped there.
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	mem := newMem(t)
	m, err := session.New(mem, session.Config{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	untouched := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	req := httptest.NewRequest("GET", "/", nil)
	bare := allocs(t, untouched, req)
	with := allocs(t, m.Handler(untouched), req)
	// The state (which is both the context and the writer) and the request
	// copy that carries it.
	if extra := with - bare; extra > 2 {
		t.Errorf("a request that does not touch the session costs %v allocations more than the bare handler; budget 2", extra)
	}

	// A live session, read once.
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.Put(r.Context(), "user", "alice")
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	read := httptest.NewRequest("GET", "/", nil)
	read.Header.Set("Cookie", rec.Result().Cookies()[0].String())
	var got string
	get := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = session.Get[string](r.Context(), "user")
		w.WriteHeader(204)
	}))
	n := allocs(t, get, read)
	if got != "alice" {
		t.Fatalf("Get = %q", got)
	}
	if n > 9 {
		t.Errorf("a request that reads one value of a live session costs %v allocations; budget 9", n)
	}
	t.Logf("untouched: %v allocations over the bare handler's %v; read of a live session: %v", with-bare, bare, n)
}
