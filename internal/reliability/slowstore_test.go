package reliability

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
)

// Store calls that slowStore can make hang.
const (
	hangLoad = 1 << iota
	hangCommit
	hangDelete
	hangTouch
	hangAll = hangLoad | hangCommit | hangDelete | hangTouch
)

// slowStore wraps a store; the calls selected by hang block until their
// context is done, as a call to a server that stopped answering does, and
// then fail with the context's error.
type slowStore struct {
	session.Store
	hang     atomic.Uint32
	inflight atomic.Int64 // calls blocked now
	hung     atomic.Int64 // calls that blocked, in all
}

func (s *slowStore) wait(ctx context.Context, which uint32, op string) error {
	if s.hang.Load()&which == 0 {
		return nil
	}
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	s.hung.Add(1)
	<-ctx.Done()
	return fmt.Errorf("slowstore: %s: %w", op, ctx.Err())
}

func (s *slowStore) Load(ctx context.Context, id string) (*session.Record, error) {
	if err := s.wait(ctx, hangLoad, "load"); err != nil {
		return nil, err
	}
	return s.Store.Load(ctx, id)
}

func (s *slowStore) Commit(ctx context.Context, rec *session.Record, expected uint64) error {
	if err := s.wait(ctx, hangCommit, "commit"); err != nil {
		return err
	}
	return s.Store.Commit(ctx, rec, expected)
}

func (s *slowStore) Delete(ctx context.Context, id string) error {
	if err := s.wait(ctx, hangDelete, "delete"); err != nil {
		return err
	}
	return s.Store.Delete(ctx, id)
}

func (s *slowStore) Touch(ctx context.Context, id string, lastActive, idleDeadline time.Time) error {
	if err := s.wait(ctx, hangTouch, "touch"); err != nil {
		return err
	}
	return s.Store.(session.Toucher).Touch(ctx, id, lastActive, idleDeadline)
}

// TestSlowStore makes store calls hang until the request's deadline: the
// request fails with 503 at the deadline (never a 200 whose change was not
// saved, never a cookie for a session that was not stored), the blocked
// calls return, and no goroutine is left behind. The deadline comes from a
// middleware setting context.WithTimeout, or from http.TimeoutHandler.
func TestSlowStore(t *testing.T) {
	const timeout = 300 * time.Millisecond
	// A request may take the deadline plus this long to be answered: the
	// time to unwind and write the 503, generous for -race on busy cores.
	const slack = time.Second
	baseline := goroutines()
	mem := memstore.New(memstore.Options{})
	store := &slowStore{Store: mem}
	obs := newObserver()
	mgr := newManager(t, store, obs)
	a := serve(t, mgr, timeout)
	tr := newTransport()

	// answeredAt checks that r came within the deadline and slack, after
	// the store hung until the deadline, and that no call is still blocked.
	answeredAt := func(t *testing.T, r response) {
		t.Helper()
		if r.elapsed > timeout+slack {
			t.Errorf("answered after %v; the deadline is %v", r.elapsed, timeout)
		}
		if r.elapsed < timeout {
			t.Errorf("answered after %v, before the %v deadline: the store did not hang", r.elapsed, timeout)
		}
		if n := store.inflight.Load(); n != 0 {
			t.Errorf("%d store calls still blocked after the answer", n)
		}
	}
	unavailable := func(t *testing.T, r response) {
		t.Helper()
		if r.status != http.StatusServiceUnavailable {
			t.Errorf("status %d %q; want 503", r.status, r.body)
		}
		if r.header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
		if sc := r.header.Values("Set-Cookie"); len(sc) > 0 {
			t.Errorf("503 sets cookies %q", sc)
		}
		answeredAt(t, r)
		t.Logf("503 after %v (deadline %v)", r.elapsed.Round(time.Millisecond), timeout)
	}
	// A visitor with a session holding n = 1.
	visitor := func(t *testing.T) *browser {
		store.hang.Store(0)
		b := newBrowser(t, tr)
		b.must(http.MethodPost, a.URL+"/login?user=dora")
		b.must(http.MethodPost, a.URL+"/incr")
		return b
	}
	counter := func(t *testing.T, b *browser) string {
		t.Helper()
		store.hang.Store(0)
		return b.must(http.MethodGet, a.URL+"/read")
	}

	t.Run("every call hangs", func(t *testing.T) {
		b := visitor(t)
		store.hang.Store(hangAll)
		unavailable(t, b.call(http.MethodGet, a.URL+"/read"))
		unavailable(t, b.call(http.MethodPost, a.URL+"/incr"))
		unavailable(t, b.call(http.MethodPost, a.URL+"/login?user=dora"))
		unavailable(t, b.call(http.MethodPost, a.URL+"/logout"))
		if n := counter(t, b); n != "1" {
			t.Errorf("counter %s after the failed requests; want 1", n)
		}
	})
	t.Run("commit hangs", func(t *testing.T) {
		b := visitor(t)
		store.hang.Store(hangCommit)
		unavailable(t, b.call(http.MethodPost, a.URL+"/incr"))
		// The login creates the new session first: that commit hangs, and
		// the old session stays as it was.
		unavailable(t, b.call(http.MethodPost, a.URL+"/login?user=erin"))
		// A logout ends the session by a compare-and-swap: it hangs too,
		// and the session stays.
		unavailable(t, b.call(http.MethodPost, a.URL+"/logout"))
		if n := counter(t, b); n != "1" {
			t.Errorf("counter %s after the failed requests; want 1", n)
		}
		if w := b.whoami(a.URL); w.Subject != "dora" {
			t.Errorf("subject %q after a failed login as erin; want dora", w.Subject)
		}
	})
	t.Run("new visitor, commit hangs", func(t *testing.T) {
		store.hang.Store(hangCommit)
		b := newBrowser(t, tr)
		unavailable(t, b.call(http.MethodPost, a.URL+"/incr"))
		if c := b.cookie(a.URL); c != "" {
			t.Error("the visitor got a cookie for a session that was never stored")
		}
	})
	t.Run("delete hangs", func(t *testing.T) {
		// A logout ends the session with a compare-and-swap, not a delete:
		// hanging deletes (left to clean-up) do not stop it.
		b := visitor(t)
		store.hang.Store(hangDelete)
		if r := b.call(http.MethodPost, a.URL+"/logout"); r.status != http.StatusOK {
			t.Errorf("logout while deletes hang: %d %q; want 200", r.status, r.body)
		}
		store.hang.Store(0)
		if w := b.whoami(a.URL); w.Subject != "" {
			t.Errorf("after the logout: %+v", w)
		}
	})
	t.Run("touch hangs", func(t *testing.T) {
		// A touch only extends the idle deadline; its failure is logged and
		// the read it belongs to succeeds, once the deadline has cut the
		// touch short.
		b := visitor(t)
		time.Sleep(mgr.Config().TouchInterval + 50*time.Millisecond)
		store.hang.Store(hangTouch)
		before := store.hung.Load()
		r := b.call(http.MethodGet, a.URL+"/read")
		if store.hung.Load() == before {
			t.Fatal("the read did not touch the session")
		}
		if r.status != http.StatusOK || r.body != "1" {
			t.Errorf("read with a hanging touch: %d %q; want 200 \"1\"", r.status, r.body)
		}
		answeredAt(t, r)
		t.Logf("read with a hanging touch: %d after %v", r.status, r.elapsed.Round(time.Millisecond))
	})
	t.Run("http.TimeoutHandler", func(t *testing.T) {
		th := serveHandler(t, http.TimeoutHandler(mgr.Handler(routes()), timeout, "timeout"))
		b := visitor(t)
		store.hang.Store(hangAll)
		for _, req := range [][2]string{{http.MethodGet, "/read"}, {http.MethodPost, "/incr"}} {
			r := b.call(req[0], th.URL+req[1])
			if r.status != http.StatusServiceUnavailable {
				t.Errorf("%s %s: %d %q; want 503", req[0], req[1], r.status, r.body)
			}
			if r.elapsed > timeout+slack {
				t.Errorf("%s %s: answered after %v; the deadline is %v", req[0], req[1], r.elapsed, timeout)
			}
			// TimeoutHandler answers at the deadline and cancels the
			// request's context: the handler's goroutine gets out of the
			// store soon after.
			waitFor(t, time.Second, func() bool { return store.inflight.Load() == 0 }, "store calls still blocked")
			t.Logf("%s %s: %d after %v", req[0], req[1], r.status, r.elapsed.Round(time.Millisecond))
		}
		if n := counter(t, b); n != "1" {
			t.Errorf("counter %s after the failed requests; want 1", n)
		}
		th.Close()
	})

	if s := obs.summary(); !strings.Contains(s, "store_error") {
		t.Errorf("no store_error event reported: %s", s)
	}
	t.Logf("manager: %s", obs.summary())
	tr.CloseIdleConnections()
	a.Close()
	mem.Close()
	checkLeaks(t, baseline)
}

// serveHandler serves h on 127.0.0.1 until the test ends.
func serveHandler(t testing.TB, h http.Handler) *app {
	a := &app{Server: httptest.NewServer(h)}
	t.Cleanup(a.Close)
	return a
}

// waitFor waits up to d for cond, and fails the test with msg otherwise.
func waitFor(t testing.TB, d time.Duration, cond func() bool, msg string) {
	t.Helper()
	for start := time.Now(); !cond(); {
		if time.Since(start) > d {
			t.Errorf("%s after %v", msg, d)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
