package session_test

// The commit path's branches that only faults reach, each driven by the
// scripted store: conflicts on demand, lost replies, a store that cannot
// tell whether a renewal landed.

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sessionkit/session"
)

func isForward(rec *session.Record) bool { return rec.RenewedTo != "" }

// A commit that keeps losing gives up after MaxRetries with 503, having
// backed off between attempts.
func TestConflictsExhaustRetries(t *testing.T) {
	e, ss := newScriptedEnv(t, session.Config{MaxRetries: 4}, routes())
	e.get("/put?k=a&v=1")
	var commits atomic.Int32
	ss.script(func(s *scriptStore) {
		s.commit = func(context.Context, *session.Record, uint64, func() error) error {
			commits.Add(1)
			return session.ErrConflict
		}
	})
	resp, _ := e.get("/put?k=a&v=2")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d; want 503 with Retry-After", resp.StatusCode)
	}
	if n := commits.Load(); n != 5 {
		t.Fatalf("%d commit attempts; want 5 (1 + MaxRetries)", n)
	}
}

// A create that keeps colliding (which random IDs never do) fails closed.
func TestCreateCollisionsFailClosed(t *testing.T) {
	e, ss := newScriptedEnv(t, session.Config{}, routes())
	ss.script(func(s *scriptStore) {
		s.commit = func(context.Context, *session.Record, uint64, func() error) error { return session.ErrConflict }
	})
	if resp, _ := e.get("/put?k=a&v=1"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d; want 503", resp.StatusCode)
	}
}

// A commit whose reply is lost cleans up what it may have created.
func TestFailedCreateCleansUp(t *testing.T) {
	e, ss := newScriptedEnv(t, session.Config{}, routes())
	ss.script(func(s *scriptStore) {
		s.commit = func(_ context.Context, _ *session.Record, _ uint64, next func() error) error {
			next()
			return errDown
		}
	})
	if resp, _ := e.get("/put?k=a&v=1"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d; want 503", resp.StatusCode)
	}
	waitFor(t, "the clean-up", func() bool { return e.liveRecords() == 0 })
}

// The three verdicts on a renewal whose forward failed without an answer.
func TestRenewalVerdicts(t *testing.T) {
	t.Run("landed: only the reply was lost", func(t *testing.T) {
		e, ss := newScriptedEnv(t, session.Config{}, routes())
		e.get("/login?u=alice")
		old := e.token(e.client)
		ss.script(func(s *scriptStore) {
			s.commit = func(_ context.Context, rec *session.Record, _ uint64, next func() error) error {
				if isForward(rec) {
					next()
					return errDown
				}
				return next()
			}
		})
		if resp, _ := e.get("/renew"); resp.StatusCode != 200 {
			t.Fatalf("status %d; want 200", resp.StatusCode)
		}
		if fresh := e.token(e.client); fresh == old || e.subjectOf(fresh) != "alice" || e.subjectOf(old) != "" {
			t.Fatal("the renewal did not complete")
		}
	})
	t.Run("not landed: the old ID keeps the session", func(t *testing.T) {
		e, ss := newScriptedEnv(t, session.Config{}, routes())
		e.get("/login?u=alice")
		old := e.token(e.client)
		ss.script(func(s *scriptStore) {
			s.commit = func(_ context.Context, rec *session.Record, _ uint64, next func() error) error {
				if isForward(rec) {
					return errDown
				}
				return next()
			}
		})
		if resp, _ := e.get("/renew"); resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("status %d; want 503", resp.StatusCode)
		}
		if e.token(e.client) != old || e.subjectOf(old) != "alice" {
			t.Fatal("the old ID lost the session")
		}
		waitFor(t, "the successor's clean-up", func() bool { return e.liveRecords() == 1 })
	})
	for _, logout := range []bool{false, true} {
		name := "unknown: the new cookie goes out, the forward is settled later"
		if logout {
			name = "unknown, and a logout races it: the logout wins"
		}
		t.Run(name, func(t *testing.T) {
			e, ss := newScriptedEnv(t, session.Config{}, routes())
			e.get("/login?u=alice")
			old := e.token(e.client)
			var failed, down atomic.Bool
			ss.script(func(s *scriptStore) {
				s.commit = failFirstForward(&failed, &down)
				s.load = func(_ context.Context, _ string, next func() (*session.Record, error)) (*session.Record, error) {
					if down.Load() && !logout {
						down.Store(false) // the store comes back after the verdict failed once
						return nil, errDown
					}
					return next()
				}
			})
			if logout {
				// The verdict finds the old record as it was; make it look
				// unknown instead, and end the session meanwhile.
				ss.script(func(s *scriptStore) {
					s.load = func(_ context.Context, _ string, next func() (*session.Record, error)) (*session.Record, error) {
						if down.Load() {
							down.Store(false)
							e.withCookie("/logout", "__Host-session="+old)
							return nil, errDown
						}
						return next()
					}
				})
			}
			resp, _ := e.get("/renew")
			if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(resp.Header.Get("Set-Cookie"), "__Host-session=") {
				t.Fatalf("status %d, Set-Cookie %q; want 503 with the new cookie", resp.StatusCode, resp.Header.Get("Set-Cookie"))
			}
			fresh := e.token(e.client)
			if logout {
				waitFor(t, "the successor to be deleted", func() bool { return e.liveRecords() == 0 })
				return
			}
			waitFor(t, "the forward to be settled", func() bool { return e.subjectOf(old) == "" })
			if e.subjectOf(fresh) != "alice" {
				t.Fatal("the settled renewal lost the session")
			}
		})
	}
}

// Two renewals race from one browser: the one that loses joins the winner's
// ID and sets no cookie of its own, unless it is a login, which always gets
// an ID of its own.
func TestConcurrentRenewals(t *testing.T) {
	for _, path := range []string{"/renew", "/login?u=alice"} {
		t.Run(path, func(t *testing.T) {
			e, ss := newScriptedEnv(t, session.Config{}, routes())
			e.get("/put?k=cart&v=1")
			tok := e.token(e.client)
			var once atomic.Bool
			var winner string
			ss.script(func(s *scriptStore) {
				s.commit = func(_ context.Context, rec *session.Record, expected uint64, next func() error) error {
					if expected == 0 && once.CompareAndSwap(false, true) {
						resp, _ := e.withCookie("/renew", "__Host-session="+tok)
						winner = cookieValue(resp, "__Host-session")
					}
					return next()
				}
			})
			resp, _ := e.withCookie(path, "__Host-session="+tok)
			mine := cookieValue(resp, "__Host-session")
			if resp.StatusCode != 200 || winner == "" {
				t.Fatalf("status %d, winner %q", resp.StatusCode, winner)
			}
			if path == "/renew" {
				if mine != "" {
					t.Fatalf("the losing renewal set a cookie of its own")
				}
				if _, cart := e.withCookie("/get?k=cart", "__Host-session="+winner); cart != "1" {
					t.Fatalf("the winner's session lost the cart: %q", cart)
				}
				return
			}
			if mine == "" || mine == winner || e.subjectOf(mine) != "alice" || e.subjectOf(winner) != "" {
				t.Fatalf("the login did not get an ID of its own (mine %q, winner %q)", mine, winner)
			}
		})
	}
}

// A session renewed more often than a commit follows while it runs fails
// with 503 rather than chasing it forever.
func TestRenewalChainTooLong(t *testing.T) {
	e, ss := newScriptedEnv(t, session.Config{}, routes())
	e.get("/put?k=a&v=1")
	var loads atomic.Int32
	ss.script(func(s *scriptStore) {
		s.commit = func(_ context.Context, _ *session.Record, expected uint64, next func() error) error {
			if expected != 0 {
				return session.ErrConflict
			}
			return next()
		}
		s.load = func(_ context.Context, id string, next func() (*session.Record, error)) (*session.Record, error) {
			rec, err := next()
			if err == nil && loads.Add(1) > 1 {
				fwd := *rec
				fwd.RenewedTo = id // after the first load, an endless chain
				return &fwd, nil
			}
			return rec, err
		}
	})
	resp, _ := e.get("/put?k=a&v=2")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d; want 503", resp.StatusCode)
	}
	if n := loads.Load(); n != 6 {
		t.Fatalf("%d loads; want 6 (the first, then 5 along the chain)", n)
	}
}

// A logout the store cannot complete fails closed (503) and the session
// lives on; a logout that keeps losing to writers gives up the same way.
func TestDestroyFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{{"store down", errDown}, {"endless conflicts", session.ErrConflict}} {
		t.Run(tc.name, func(t *testing.T) {
			e, ss := newScriptedEnv(t, session.Config{MaxRetries: 2}, routes())
			e.get("/login?u=alice")
			tok := e.token(e.client)
			ss.script(func(s *scriptStore) {
				s.commit = func(context.Context, *session.Record, uint64, func() error) error { return tc.err }
			})
			if resp, _ := e.get("/logout"); resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("status %d; want 503", resp.StatusCode)
			}
			ss.script(func(s *scriptStore) { s.commit = nil })
			if e.subjectOf(tok) != "alice" {
				t.Fatal("a failed logout half-ended the session")
			}
		})
	}
}

// Stores without Toucher are touched by a commit; a failed touch is logged,
// and the read-only request still succeeds.
func TestTouchPaths(t *testing.T) {
	t.Run("by commit", func(t *testing.T) {
		e := newEnvWith(t, session.Config{}, routes(), func(cs *countingStore) session.Store { return struct{ session.Store }{cs} })
		e.get("/put?k=a&v=1")
		id := e.idOf(e.token(e.client))
		v := e.record(id).Version
		e.clock.Advance(2 * e.mgr.Config().TouchInterval)
		e.get("/get?k=a")
		if got := e.record(id); got.Version != v+1 || !got.LastActive.Equal(e.clock.Now()) {
			t.Fatalf("touch by commit: version %d -> %d, last active %v", v, got.Version, got.LastActive)
		}
	})
	t.Run("store fails the touch", func(t *testing.T) {
		e, ss := newScriptedEnv(t, session.Config{}, routes())
		e.get("/put?k=a&v=1")
		e.clock.Advance(2 * e.mgr.Config().TouchInterval)
		ss.script(func(s *scriptStore) {
			s.touch = func(context.Context, string, func() error) error { return errDown }
		})
		if resp, body := e.get("/get?k=a"); resp.StatusCode != 200 || body != "1" {
			t.Fatalf("status %d %q; want the page despite the failed touch", resp.StatusCode, body)
		}
	})
}

func cookieValue(resp *http.Response, name string) string {
	for _, c := range resp.Cookies() {
		if c.Name == name && c.MaxAge >= 0 {
			return c.Value
		}
	}
	return ""
}

// valueRoutes adds the value operations the replay must redo.
func valueRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", routes())
	mux.HandleFunc("/ops", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		session.Delete(ctx, "gone")
		flash, _ := session.Pop[string](ctx, "flash")
		session.Update(ctx, "n", func(n string) (string, error) { return n + "1", nil })
		if r.FormValue("clear") != "" {
			session.Clear(ctx)
		}
		if r.FormValue("remember") != "" {
			session.RememberMe(ctx, true)
		}
		if err := session.Commit(ctx); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Write([]byte(flash))
	})
	mux.HandleFunc("/fragile", func(w http.ResponseWriter, r *http.Request) {
		_, err := session.Update(r.Context(), "v", func(v string) (string, error) {
			if v == "poison" {
				return "", errors.New("cannot update a poisoned value")
			}
			return v + strings.Repeat("z", 600), nil
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
		}
	})
	return mux
}

// conflictOnce makes the first update commit lose to a request that runs
// first, as a concurrent request would.
func conflictOnce(ss *scriptStore, first func()) {
	var once atomic.Bool
	ss.script(func(s *scriptStore) {
		s.commit = func(_ context.Context, _ *session.Record, expected uint64, next func() error) error {
			if expected != 0 && once.CompareAndSwap(false, true) {
				first()
			}
			return next()
		}
	})
}

// Delete, Pop, Update, Clear and RememberMe are replayed on the newer
// version after a conflict.
func TestReplayOfEveryOperation(t *testing.T) {
	e, ss := newScriptedEnv(t, session.Config{}, valueRoutes())
	for _, kv := range []string{"gone=1", "flash=hello", "n=1", "keep=1"} {
		k, v, _ := strings.Cut(kv, "=")
		e.get("/put?k=" + k + "&v=" + v)
	}
	conflictOnce(ss, func() { e.get("/put?k=other&v=2") })
	resp, body := e.get("/ops?remember=1")
	if resp.StatusCode != 200 || body != "hello" {
		t.Fatalf("status %d %q", resp.StatusCode, body)
	}
	if !strings.Contains(resp.Header.Get("Set-Cookie"), "Max-Age=") {
		t.Errorf("RememberMe sent no persistent cookie: %q", resp.Header.Get("Set-Cookie"))
	}
	for k, want := range map[string]string{"gone": "", "flash": "", "n": "11", "keep": "1", "other": "2"} {
		if _, got := e.get("/get?k=" + k); got != want {
			t.Errorf("%s = %q; want %q", k, got, want)
		}
	}
	conflictOnce(ss, func() { e.get("/put?k=late&v=3") })
	e.get("/ops?clear=1")
	for _, k := range []string{"keep", "late"} {
		if _, got := e.get("/get?k=" + k); got != "" {
			t.Errorf("%s = %q after Clear", k, got)
		}
	}
}

// An Update whose function fails, first time or on the replay, and one whose
// replay grows the session past MaxRecordBytes, change nothing.
func TestUpdateFailures(t *testing.T) {
	e, ss := newScriptedEnv(t, session.Config{MaxRecordBytes: 1024}, valueRoutes())
	e.get("/put?k=v&v=poison")
	if resp, _ := e.get("/fragile"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d; want the handler's 422", resp.StatusCode)
	}
	e.get("/put?k=v&v=ok")
	conflictOnce(ss, func() { e.get("/put?k=v&v=poison") })
	if resp, _ := e.get("/fragile"); resp.StatusCode != 500 {
		t.Fatalf("status %d; want 500 when the replayed Update fails", resp.StatusCode)
	}
	e.get("/put?k=v&v=ok")
	conflictOnce(ss, func() { e.get("/put?k=pad&v=" + strings.Repeat("p", 600)) })
	if resp, _ := e.get("/fragile"); resp.StatusCode != 500 {
		t.Fatalf("status %d; want 500 when the replay outgrows the bound", resp.StatusCode)
	}
	if _, got := e.get("/get?k=v"); got != "ok" {
		t.Fatalf("v = %q after the failed updates", got)
	}
}

// What a commit finds when it reloads after a conflict: the session
// deleted (no trace of why: the request fails rather than acknowledge
// changes it drops), the store down, the session expired.
func TestReloadOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		load   func(next func() (*session.Record, error)) (*session.Record, error)
		delete bool
		status int
	}{
		{"deleted", nil, true, 409},
		{"store down", func(func() (*session.Record, error)) (*session.Record, error) { return nil, errDown }, false, 503},
		{"expired", func(next func() (*session.Record, error)) (*session.Record, error) {
			rec, err := next()
			if err == nil {
				old := *rec
				old.IdleDeadline = old.Created
				return &old, nil
			}
			return rec, err
		}, false, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, ss := newScriptedEnv(t, session.Config{}, routes())
			e.get("/put?k=a&v=1")
			id := e.idOf(e.token(e.client))
			var once atomic.Bool
			ss.script(func(s *scriptStore) {
				s.commit = func(ctx context.Context, _ *session.Record, expected uint64, next func() error) error {
					if expected != 0 && once.CompareAndSwap(false, true) {
						if tc.delete {
							s.countingStore.Delete(ctx, id)
						}
						if tc.load != nil {
							s.mu.Lock()
							s.load = func(_ context.Context, _ string, next func() (*session.Record, error)) (*session.Record, error) {
								return tc.load(next)
							}
							s.mu.Unlock()
						}
						return session.ErrConflict
					}
					return next()
				}
			})
			if resp, _ := e.get("/put?k=a&v=2"); resp.StatusCode != tc.status {
				t.Fatalf("status %d; want %d", resp.StatusCode, tc.status)
			}
		})
	}
}

// Revoke by ID: absent, already ended, store down, moved to another user.
func TestRevokeOutcomes(t *testing.T) {
	e, ss := newScriptedEnv(t, session.Config{}, routes())
	if err := e.mgr.Revoke(t.Context(), strings.Repeat("0", 64)); err != nil {
		t.Fatalf("revoke of an absent ID: %v", err)
	}
	e.get("/login?u=alice")
	id := e.idOf(e.token(e.client))
	if err := e.mgr.Revoke(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if err := e.mgr.Revoke(t.Context(), id); err != nil {
		t.Fatalf("revoke of an ended session: %v", err)
	}
	e.get("/login?u=bob")
	id = e.idOf(e.token(e.client))
	ss.script(func(s *scriptStore) {
		s.load = func(context.Context, string, func() (*session.Record, error)) (*session.Record, error) {
			return nil, errDown
		}
	})
	var se *session.StoreError
	if err := e.mgr.Revoke(t.Context(), id); !errors.As(err, &se) {
		t.Fatalf("revoke with the store down = %v; want a StoreError", err)
	}
	// A forward whose successor belongs to someone else ends nothing.
	ss.script(func(s *scriptStore) {
		s.load = func(_ context.Context, got string, next func() (*session.Record, error)) (*session.Record, error) {
			rec, err := next()
			if err == nil && got == id {
				fwd := *rec
				fwd.Subject, fwd.RenewedTo = "mallory", id
				return &fwd, nil
			}
			return rec, err
		}
	})
	if err := e.mgr.Revoke(t.Context(), id); !errors.Is(err, session.ErrRenewalChain) {
		t.Fatalf("revoke along an endless chain = %v; want ErrRenewalChain", err)
	}
	ss.script(func(s *scriptStore) { s.load = nil })
	if e.subjectOf(e.token(e.client)) != "bob" {
		t.Fatal("a failed revoke ended the session")
	}
}

// A login whose new record cannot be created fails closed and keeps the
// old session; a renewal of unknown outcome that had in fact landed is
// settled without harm.
func TestRenewalFailures(t *testing.T) {
	t.Run("create fails", func(t *testing.T) {
		e, ss := newScriptedEnv(t, session.Config{}, routes())
		e.get("/put?k=cart&v=1")
		ss.script(func(s *scriptStore) {
			s.commit = func(_ context.Context, _ *session.Record, expected uint64, next func() error) error {
				if expected == 0 {
					return errDown
				}
				return next()
			}
			s.delete = func(context.Context, string, func() error) error { return errDown } // and so does the clean-up
		})
		if resp, _ := e.get("/login?u=alice"); resp.StatusCode != 503 {
			t.Fatalf("status %d; want 503", resp.StatusCode)
		}
		if _, cart := e.get("/get?k=cart"); cart != "1" {
			t.Fatalf("the failed login lost the session: %q", cart)
		}
	})
	t.Run("unknown, but it had landed", func(t *testing.T) {
		e, ss := newScriptedEnv(t, session.Config{}, routes())
		e.get("/login?u=alice")
		old := e.token(e.client)
		var failed, down, asked, settled atomic.Bool
		ss.script(func(s *scriptStore) {
			s.commit = func(_ context.Context, rec *session.Record, _ uint64, next func() error) error {
				if isForward(rec) && failed.CompareAndSwap(false, true) {
					next()
					down.Store(true)
					return errDown
				}
				return next()
			}
			s.load = func(_ context.Context, _ string, next func() (*session.Record, error)) (*session.Record, error) {
				if down.CompareAndSwap(true, false) {
					asked.Store(true)
					return nil, errDown // the request cannot tell
				}
				rec, err := next()
				if asked.Load() {
					settled.Store(true) // settle looked again and found the forward
				}
				return rec, err
			}
		})
		if resp, _ := e.get("/renew"); resp.StatusCode != 503 {
			t.Fatalf("status %d; want 503", resp.StatusCode)
		}
		fresh := e.token(e.client)
		waitFor(t, "settled", settled.Load)
		if e.subjectOf(fresh) != "alice" || e.subjectOf(old) != "" {
			t.Fatal("settling a renewal that had landed broke it")
		}
	})
}

// failFirstForward is a scripted commit whose first forward fails without a
// verdict (and is not stored); it sets down, for a load to fail next.
func failFirstForward(failed, down *atomic.Bool) func(context.Context, *session.Record, uint64, func() error) error {
	return func(_ context.Context, rec *session.Record, _ uint64, next func() error) error {
		if isForward(rec) && failed.CompareAndSwap(false, true) {
			down.Store(true)
			return errDown
		}
		return next()
	}
}

// A renewal of unknown outcome leaves both IDs live until settle decides.
// When the browser, holding the new cookie, logs out before settle has
// looked, the old ID ends with it: a request still holding the old cookie
// must not find the user logged in.
func TestSettleAfterLogoutOnNewID(t *testing.T) {
	e, ss := newScriptedEnv(t, session.Config{}, routes())
	e.get("/login?u=alice")
	oldID, _ := session.HashToken(e.token(e.client))
	old := e.token(e.client)
	var failed, down atomic.Bool
	proceed := make(chan struct{})
	ss.script(func(s *scriptStore) {
		s.commit = failFirstForward(&failed, &down)
		s.load = func(_ context.Context, id string, next func() (*session.Record, error)) (*session.Record, error) {
			if down.CompareAndSwap(true, false) {
				return nil, errDown // the request cannot tell
			}
			if id == oldID && failed.Load() {
				<-proceed // settle waits until the browser has logged out
			}
			return next()
		}
	})
	if resp, _ := e.get("/renew"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d; want 503", resp.StatusCode)
	}
	if resp, _ := e.get("/logout"); resp.StatusCode != 200 {
		t.Fatalf("logout on the new cookie: status %d", resp.StatusCode)
	}
	close(proceed)
	waitFor(t, "settle to end the old ID", func() bool { return e.liveRecords() == 0 })
	if s := e.subjectOf(old); s != "" {
		t.Fatalf("the old cookie still opens %q's session after the browser logged out", s)
	}
}

// Two logouts race, or a logout races the client-change policy ending the
// login: the loser's compare-and-swap finds the session already ended or no
// longer the user's, and the logout still succeeds.
func TestLogoutRaces(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first func(e *env, tok string)
	}{
		{"another logout", func(e *env, tok string) { e.withCookie("/logout", "__Host-session="+tok) }},
		{"the session deleted", func(e *env, tok string) { e.store.Delete(e.t.Context(), e.idOf(tok)) }},
		{"a client change ends the login", func(e *env, tok string) {
			req, _ := http.NewRequest("GET", e.srv.URL+"/info", nil)
			req.Header.Set("Cookie", "__Host-session="+tok)
			req.Header.Set("User-Agent", "Other/1.0")
			resp, err := e.srv.Client().Do(req)
			if err == nil {
				resp.Body.Close()
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, ss := newScriptedEnv(t, session.Config{ClientChange: session.ClientChangeReauth}, routes())
			e.get("/login?u=alice")
			tok := e.token(e.client)
			var once atomic.Bool
			ss.script(func(s *scriptStore) {
				s.commit = func(_ context.Context, rec *session.Record, _ uint64, next func() error) error {
					if rec.Ended && once.CompareAndSwap(false, true) {
						tc.first(e, tok)
					}
					return next()
				}
			})
			resp, _ := e.get("/logout")
			if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Set-Cookie"), "Max-Age=0") {
				t.Fatalf("status %d, Set-Cookie %q", resp.StatusCode, resp.Header.Get("Set-Cookie"))
			}
			if e.subjectOf(tok) != "" {
				t.Fatal("the session outlived the logout")
			}
		})
	}
}

// Both IDs of a renewal of unknown outcome take a large write, each within
// MaxRecordBytes on its own but not together. settle keeps the browser's
// side, still forwards the old ID to it, and the stored record stays within
// the bound.
func TestSettleMergeBeyondMaxRecordBytes(t *testing.T) {
	const limit = 4096
	e, ss := newScriptedEnv(t, session.Config{MaxRecordBytes: limit}, routes())
	e.get("/login?u=alice")
	old := e.token(e.client)
	oldID, _ := session.HashToken(old)
	var failed, down atomic.Bool
	proceed := make(chan struct{})
	ss.script(func(s *scriptStore) {
		s.commit = failFirstForward(&failed, &down)
		s.load = func(ctx context.Context, id string, next func() (*session.Record, error)) (*session.Record, error) {
			if down.CompareAndSwap(true, false) {
				return nil, errDown // the request cannot tell
			}
			// Only settle's context has a deadline: it retries until both
			// writes below are acknowledged.
			if _, settling := ctx.Deadline(); settling && id == oldID {
				select {
				case <-proceed:
				default:
					return nil, errDown
				}
			}
			return next()
		}
	})
	if resp, _ := e.get("/renew"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d; want 503", resp.StatusCode)
	}
	fresh := e.token(e.client)
	big := strings.Repeat("x", 2500)
	if resp, body := e.withCookie("/put?k=a&v="+big, "__Host-session="+old); resp.StatusCode != 200 {
		t.Fatalf("put on the old ID: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.get("/put?k=b&v=" + big); resp.StatusCode != 200 {
		t.Fatalf("put on the new ID: %d %s", resp.StatusCode, body)
	}
	close(proceed)
	waitFor(t, "settle to forward the old ID", func() bool { return e.record(oldID).RenewedTo != "" })
	freshID, _ := session.HashToken(fresh)
	if to := e.record(oldID).RenewedTo; to != freshID {
		t.Fatalf("the old ID forwards to %q; want the new ID %q", to, freshID)
	}
	rec := e.record(freshID)
	if n := len(session.EncodeRecord(nil, rec)); n > limit {
		t.Fatalf("settle stored %d bytes, more than MaxRecordBytes %d", n, limit)
	}
	if _, v := e.get("/get?k=b"); v != big {
		t.Errorf("the browser's own write was not kept: got %d bytes", len(v))
	}
	if _, v := e.get("/get?k=a"); v != "" {
		t.Errorf("the old ID's write was merged beyond the bound: got %d bytes", len(v))
	}
	if _, v := e.withCookie("/get?k=a", "__Host-session="+old); v != "" {
		t.Errorf("the old cookie still opens the old ID's write: got %d bytes", len(v))
	}
}
