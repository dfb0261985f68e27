package session_test

// Regression tests for the trust issue: each breaks a promise of the
// session lifecycle the way an attacker, a hostile client or a racing second
// request would, and failed on the commit path that preceded chain.go.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

// gated returns routes() plus /gated-logout and /gated-read, which load the
// session, report on loaded, wait for release, then destroy it or return.
func gated(loaded, release chan struct{}) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", accountRoutes())
	mux.HandleFunc("/gated-logout", func(w http.ResponseWriter, r *http.Request) {
		session.Info(r.Context())
		loaded <- struct{}{}
		<-release
		if err := session.Destroy(r.Context()); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("/gated-read", func(w http.ResponseWriter, r *http.Request) {
		session.Get[string](r.Context(), "cart")
		loaded <- struct{}{}
		<-release
		fmt.Fprint(w, "read")
	})
	return mux
}

func (e *env) subjectOf(token string) string {
	e.t.Helper()
	_, body := e.withCookie("/info", "__Host-session="+token)
	var md session.Metadata
	if err := json.Unmarshal([]byte(body), &md); err != nil {
		e.t.Fatalf("info: %v: %q", err, body)
	}
	return md.Subject
}

// Bug 1: a logout sent with the cookie from before a renewal, which the
// browser had not yet replaced, must end the renewed session.
func TestLogoutWithPreRenewalCookie(t *testing.T) {
	e := newEnv(t, session.Config{}, routes())
	e.get("/login?u=alice")
	old := e.token(e.client)
	e.get("/renew")
	fresh := e.token(e.client)
	if fresh == old {
		t.Fatal("renew kept the token")
	}
	e.withCookie("/logout", "__Host-session="+old)
	if s := e.subjectOf(fresh); s != "" {
		t.Fatalf("the renewed session outlived the logout: subject %q", s)
	}
	if n := e.liveRecords(); n != 0 {
		t.Fatalf("%d live records after logout", n)
	}
}

// Bug 1, other order: the logout loaded the session before the renewal
// moved it, and deletes after.
func TestLogoutLoadedBeforeRenewal(t *testing.T) {
	loaded, release := make(chan struct{}), make(chan struct{})
	e := newEnv(t, session.Config{}, gated(loaded, release))
	e.get("/login?u=alice")
	old := e.token(e.client)
	done := make(chan struct{})
	go func() { e.withCookie("/gated-logout", "__Host-session="+old); close(done) }()
	<-loaded
	e.get("/renew")
	fresh := e.token(e.client)
	close(release)
	<-done
	if s := e.subjectOf(fresh); s != "" {
		t.Fatalf("the renewed session outlived the logout: subject %q", s)
	}
}

// Bug 1, in between: the logout lands after the renewal created its
// successor and before it forwarded the old ID. The renewal must give up.
func TestRenewalLosesToLogout(t *testing.T) {
	e, ss := newScriptedEnv(t, session.Config{}, routes())
	e.get("/login?u=alice")
	old := e.token(e.client)
	var once atomic.Bool
	ss.script(func(s *scriptStore) {
		s.commit = func(ctx context.Context, rec *session.Record, expected uint64, next func() error) error {
			if expected == 0 && rec.Subject == "alice" && once.CompareAndSwap(false, true) {
				e.withCookie("/logout", "__Host-session="+old)
			}
			return next()
		}
	})
	resp, _ := e.get("/renew")
	if !strings.Contains(resp.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("the renewal that lost to a logout did not expire the cookie: %q", resp.Header.Get("Set-Cookie"))
	}
	waitFor(t, "no live record", func() bool { return e.liveRecords() == 0 })
}

// Bug 1 for revoke: a renewal that lands between RevokeSubject's list and
// its end must not let the session escape.
func TestRevokeSubjectFollowsRenewal(t *testing.T) {
	e, ss := newScriptedEnv(t, session.Config{}, routes())
	e.get("/login?u=alice")
	var once atomic.Bool
	ss.script(func(s *scriptStore) {
		s.list = func(ctx context.Context, subject string, next func() ([]*session.Record, error)) ([]*session.Record, error) {
			list, err := next()
			if once.CompareAndSwap(false, true) {
				e.get("/renew")
			}
			return list, err
		}
	})
	n, err := e.mgr.RevokeSubject(t.Context(), "alice")
	if err != nil || n != 1 {
		t.Fatalf("RevokeSubject = %d, %v; want 1", n, err)
	}
	if s := e.subjectOf(e.token(e.client)); s != "" {
		t.Fatalf("the renewed session survived the revoke: subject %q", s)
	}
}

// Bug 1 for a device revoked from another device while it renews.
func TestRevokeDeviceFollowsRenewal(t *testing.T) {
	e, ss := newScriptedEnv(t, session.Config{}, accountRoutes())
	phone := newClient(t, e.srv)
	e.get("/login?u=alice")
	e.do(phone, "GET", "/login?u=alice")
	var phoneID string
	for _, d := range devices(t, e, phone) {
		if d.Current {
			phoneID = d.ID
		}
	}
	var once atomic.Bool
	ss.script(func(s *scriptStore) {
		s.list = func(ctx context.Context, subject string, next func() ([]*session.Record, error)) ([]*session.Record, error) {
			list, err := next()
			if once.CompareAndSwap(false, true) {
				e.do(phone, "GET", "/renew")
			}
			return list, err
		}
	})
	if resp, body := e.get("/revoke?id=" + phoneID); resp.StatusCode != 200 {
		t.Fatalf("revoke = %d %s", resp.StatusCode, body)
	}
	if s := e.subjectOf(e.token(phone)); s != "" {
		t.Fatalf("the revoked device renewed its way out: subject %q", s)
	}
	if s := e.subjectOf(e.token(e.client)); s != "alice" {
		t.Fatalf("the revoking device lost its own session: %q", s)
	}
}

// Bug 2: a client change under ClientChangeReauth applies to the request
// that shows it: that request sees no user, no recent authentication, no
// devices, no data, and cannot end the user's other sessions. The client that
// logged in keeps the data and logs in again; the changed client never gets
// it, not even on a later request.
func TestClientChangeReauthDistrustsTriggeringRequest(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/", accountRoutes())
	mux.HandleFunc("/probe", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		cart, _ := session.Get[string](ctx, "cart")
		list, _ := session.Devices(ctx)
		ended, _ := session.RevokeOtherDevices(ctx)
		fmt.Fprintf(w, "subject=%q recent=%v devices=%d cart=%q ended=%d",
			session.Subject(ctx), session.AuthenticatedWithin(ctx, time.Hour), len(list), cart, ended)
	})
	e := newEnv(t, session.Config{ClientChange: session.ClientChangeReauth}, mux)
	laptop := newClient(t, e.srv)
	e.get("/put?k=cart&v=1")
	e.get("/login?u=alice")
	e.do(laptop, "GET", "/login?u=alice")
	stolen := e.token(e.client)

	thief := func() string {
		req, _ := http.NewRequest("GET", e.srv.URL+"/probe", nil)
		req.Header.Set("Cookie", "__Host-session="+stolen)
		req.Header.Set("User-Agent", "Thief/1.0")
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		fmt.Fprint(&b, resp.Header.Get("Set-Cookie"), " | ")
		buf := make([]byte, 512)
		n, _ := resp.Body.Read(buf)
		b.Write(buf[:n])
		return b.String()
	}
	const nothing = `subject="" recent=false devices=0 cart="" ended=0`
	if got := thief(); !strings.Contains(got, nothing) || !strings.Contains(got, "Max-Age=0") {
		t.Fatalf("the changed client's request saw: %s; want %s and its cookie expired", got, nothing)
	}
	if got := thief(); !strings.Contains(got, nothing) {
		t.Fatalf("the changed client's next request saw: %s", got)
	}
	if s := e.subjectOf(e.token(laptop)); s != "alice" {
		t.Fatalf("the changed client ended the user's other device: %q", s)
	}
	if _, cart := e.get("/get?k=cart"); cart != "1" {
		t.Fatalf("the client that logged in lost the cart: %q", cart)
	}
	if s := e.subjectOf(e.token(e.client)); s != "" {
		t.Fatalf("the login survived the client change: %q", s)
	}
	e.get("/login?u=alice")
	if _, cart := e.get("/get?k=cart"); cart != "1" || e.subjectOf(e.token(e.client)) != "alice" {
		t.Fatalf("logging in again on the original client: cart %q", cart)
	}
}

// Bug 4: a logout whose client disconnects right after sending it still
// ends the session: the destroy runs on a context of its own.
func TestLogoutCompletesAfterClientDisconnect(t *testing.T) {
	destroyed := make(chan struct{})
	mux := http.NewServeMux()
	mux.Handle("/", routes())
	mux.HandleFunc("/logout-and-leave", func(w http.ResponseWriter, r *http.Request) {
		session.Destroy(r.Context())
		close(destroyed)
		<-r.Context().Done() // the client is gone before the commit
	})
	e, ss := newScriptedEnv(t, session.Config{}, mux)
	e.get("/login?u=alice")
	tok := e.token(e.client)
	// A network store fails every call whose context ended.
	ss.script(func(s *scriptStore) {
		s.commit = func(ctx context.Context, _ *session.Record, _ uint64, next func() error) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return next()
		}
		s.delete = func(ctx context.Context, _ string, next func() error) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return next()
		}
	})
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, "POST", e.srv.URL+"/logout-and-leave", nil)
	req.Header.Set("Cookie", "__Host-session="+tok)
	go func() {
		<-destroyed
		cancel()
	}()
	if _, err := e.srv.Client().Do(req); err == nil {
		t.Fatal("the request was not cut short")
	}
	waitFor(t, "the session to end", func() bool { return e.liveRecords() == 0 })
	if s := e.subjectOf(tok); s != "" {
		t.Fatalf("the session outlived its logout: %q", s)
	}
}

// Bug 5: a request that read the clock early and commits after a newer
// write (replaying on it) must not move the idle deadline backwards.
func TestReplayDoesNotMoveDeadlineBack(t *testing.T) {
	loaded, release := make(chan struct{}), make(chan struct{})
	e := newEnv(t, session.Config{}, slowApp(loaded, release))
	e.get("/login?u=alice")
	tok := e.token(e.client)
	id := e.idOf(tok)
	done := make(chan struct{})
	go func() { e.withCookie("/slow", "__Host-session="+tok); close(done) }()
	<-loaded
	e.clock.Advance(30 * time.Minute)
	e.get("/put?k=cart&v=1")
	after := e.record(id).IdleDeadline
	close(release)
	<-done
	rec := e.record(id)
	if rec.IdleDeadline.Before(after) {
		t.Fatalf("the slow commit moved the idle deadline back from %v to %v", after, rec.IdleDeadline)
	}
	if v, _ := rec.Lookup("slow"); string(v) != `"written"` {
		t.Fatalf("the slow request's change is missing: %q", v)
	}
}

// Bug 5 for touches: a read-only request that loaded early touches late,
// after a newer write extended the deadline.
func TestStaleTouchDoesNotMoveDeadlineBack(t *testing.T) {
	loaded, release := make(chan struct{}), make(chan struct{})
	e := newEnv(t, session.Config{}, gated(loaded, release))
	e.get("/login?u=alice")
	tok := e.token(e.client)
	id := e.idOf(tok)
	e.clock.Advance(2 * time.Minute) // past the touch interval
	done := make(chan struct{})
	go func() { e.withCookie("/gated-read", "__Host-session="+tok); close(done) }()
	<-loaded
	e.clock.Advance(30 * time.Minute)
	e.get("/put?k=cart&v=1")
	after := e.record(id).IdleDeadline
	close(release)
	<-done
	if got := e.record(id).IdleDeadline; got.Before(after) {
		t.Fatalf("the stale touch moved the idle deadline back from %v to %v", after, got)
	}
}

// Bug 6: expiry is reported as expiry, and the token of a session renewed a
// moment ago as stale, not as an unknown (guessed) ID.
func TestExpiryAndStaleTokensAreNotUnknown(t *testing.T) {
	var kinds []session.EventKind
	record := func(_ context.Context, ev session.Event) {
		switch ev.Kind {
		case session.EventExpired, session.EventStale, session.EventUnknown:
			kinds = append(kinds, ev.Kind)
		}
	}
	e := newEnv(t, session.Config{OnEvent: record}, routes())
	e.get("/login?u=alice")
	old := e.token(e.client)
	e.get("/renew")
	e.withCookie("/info", "__Host-session="+old)
	e.clock.Advance(2 * time.Hour)
	e.get("/info")
	e.withCookie("/info", "__Host-session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	want := []session.EventKind{session.EventStale, session.EventExpired, session.EventUnknown}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Fatalf("events %v; want %v", kinds, want)
	}
}

// Bug 7: a session is bounded; a Put that would exceed the bound fails at
// the call with ErrTooLarge and changes nothing.
func TestMaxRecordBytes(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/", routes())
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		err := session.Put(r.Context(), "big", strings.Repeat("x", 2000))
		if !errors.Is(err, session.ErrTooLarge) {
			t.Errorf("Put over the bound = %v; want ErrTooLarge", err)
		}
		_, err = session.Update(r.Context(), "cart", func(s string) (string, error) { return s + strings.Repeat("y", 2000), nil })
		if !errors.Is(err, session.ErrTooLarge) {
			t.Errorf("Update over the bound = %v; want ErrTooLarge", err)
		}
		session.Put(r.Context(), "small", "ok")
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
	})
	e := newEnv(t, session.Config{MaxRecordBytes: 1024}, mux)
	e.get("/put?k=cart&v=1")
	if resp, _ := e.get("/big"); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for k, want := range map[string]string{"big": "", "cart": "1", "small": "ok"} {
		if _, got := e.get("/get?k=" + k); got != want {
			t.Errorf("%s = %q; want %q", k, got, want)
		}
	}
	if _, err := session.New(newMem(t), session.Config{MaxRecordBytes: -1}); err == nil {
		t.Error("a negative MaxRecordBytes was accepted")
	}
}

// Bug 7, store side: a store that refuses a record as too large is a
// programming error (500), not an outage (503 with Retry-After).
func TestStoreTooLargeIs500(t *testing.T) {
	e, ss := newScriptedEnv(t, session.Config{}, routes())
	ss.script(func(s *scriptStore) {
		s.commit = func(context.Context, *session.Record, uint64, func() error) error {
			return fmt.Errorf("teststore: commit: %w", session.ErrTooLarge)
		}
	})
	resp, _ := e.get("/put?k=a&v=1")
	if resp.StatusCode != 500 || resp.Header.Get("Retry-After") != "" {
		t.Fatalf("status %d, Retry-After %q; want 500 without it", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// idOf returns the store ID of a token's session.
func (e *env) idOf(token string) string {
	e.t.Helper()
	_, body := e.withCookie("/info", "__Host-session="+token)
	var md session.Metadata
	json.Unmarshal([]byte(body), &md)
	if md.ID == "" {
		e.t.Fatalf("no session for the token: %s", body)
	}
	return md.ID
}

// record loads a record straight from the store.
func (e *env) record(id string) *session.Record {
	e.t.Helper()
	rec, err := e.store.Store.Load(e.t.Context(), id)
	if err != nil {
		e.t.Fatalf("load %s: %v", id, err)
	}
	return rec
}
