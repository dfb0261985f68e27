package session_test

// The commit path's branches that only faults reach, each driven by the
// scripted store: conflicts on demand, lost replies, a store that cannot
// tell whether a renewal landed.

import (
	"context"
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
				s.commit = func(_ context.Context, rec *session.Record, _ uint64, next func() error) error {
					if isForward(rec) && failed.CompareAndSwap(false, true) {
						down.Store(true)
						return errDown
					}
					return next()
				}
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
