package session_test

// Second round of attacks on the session lifecycle: each test broke a
// promise of SECURITY.md or of the API's documentation when it was written,
// and stays as the regression test of its fix.

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

// applyCookies hands a response's Set-Cookie headers to the test client's
// jar, as a browser does with every response it receives, in the order it
// receives them.
func (e *env) applyCookies(resp *http.Response) {
	u, _ := url.Parse(e.srv.URL)
	e.client.Jar.SetCookies(u, resp.Cookies())
}

// unknownRenewal scripts the store so that the next renewal's forward fails
// without a verdict and renewalLanded cannot tell (the request answers 503
// with the new cookie and settles in the background). settle's first look
// at the old ID then waits: settleWaiting is closed when it is waiting,
// and it goes on when the test closes proceed.
func unknownRenewal(ss *scriptStore, oldID string) (settleWaiting, proceed chan struct{}) {
	settleWaiting, proceed = make(chan struct{}), make(chan struct{})
	var failed, down, armed atomic.Bool
	ss.script(func(s *scriptStore) {
		s.commit = failFirstForward(&failed, &down)
		s.load = func(_ context.Context, id string, next func() (*session.Record, error)) (*session.Record, error) {
			if down.CompareAndSwap(true, false) {
				armed.Store(true)
				return nil, errDown // renewalLanded cannot tell
			}
			if id == oldID && armed.CompareAndSwap(true, false) {
				close(settleWaiting) // settle's first load of the old ID
				<-proceed
			}
			return next()
		}
	})
	return settleWaiting, proceed
}

// settledOld waits until settle has turned the old ID into a tombstone.
func (e *env) settledOld(oldID string) {
	e.t.Helper()
	waitFor(e.t, "settle to forward or end the old ID", func() bool {
		rec, err := e.store.Store.Load(context.Background(), oldID)
		return err != nil || rec.Tombstone()
	})
}

// An attacker plants an anonymous ID P in the victim's browser. The
// victim logs in on it; the forward P→L fails without a verdict, so the
// victim gets L with a 503 and settle runs in the background. P is still
// live and anonymous, so the attacker, holding P, writes to it and is
// acknowledged. settle then checks only that P's owner did not change (it
// was anonymous and still is) and merges P's changes into L, the victim's
// logged-in session: the planted ID wrote into the victim's session.
func TestAttackSettleMergesPlantedIDIntoVictimLogin(t *testing.T) {
	e, ss := newScriptedEnv(t, session.Config{}, routes())
	resp, _ := e.send("/put?k=x&v=1", "", "Attacker/1.0")
	planted := cookieValue(resp, "__Host-session")
	if planted == "" {
		t.Fatal("no planted token")
	}
	plantedID, _ := session.HashToken(planted)
	waiting, proceed := unknownRenewal(ss, plantedID)

	// The victim's browser carries the planted ID and logs in with it.
	resp, _ = e.send("/login?u=victim", planted, "")
	victim := cookieValue(resp, "__Host-session")
	if resp.StatusCode != http.StatusServiceUnavailable || victim == "" || victim == planted {
		t.Fatalf("setup: login answered %d with token %q; want 503 with a new token", resp.StatusCode, victim)
	}
	<-waiting
	// The attacker writes on the planted ID, which is still live.
	if resp, _ := e.send("/put?k=evil&v=planted", planted, "Attacker/1.0"); resp.StatusCode != 200 {
		t.Fatalf("setup: the attacker's write answered %d", resp.StatusCode)
	}
	close(proceed)
	e.settledOld(plantedID)

	if e.subjectOf(victim) != "victim" {
		t.Fatal("setup: the victim is not logged in on the new token")
	}
	if v, ok := e.record(e.idOf(victim)).Lookup("evil"); ok {
		t.Errorf("the planted ID's holder wrote into the victim's logged-in session after the login: evil=%s", v)
	}
}

// While a renewal of unknown outcome is unsettled, both IDs are live; an
// Update acknowledged on each of them (the browser on the new cookie, a
// slower tab still on the old one) changes one key on both sides, and
// settle can keep only one: the browser's. This is the one case in which
// an acknowledged change is lost (DESIGN-NOTES.md, "Lost replies"); it
// needs a store failure that hides the renewal's outcome, and it must be
// reported: a warning and EventDiscarded, counted in discarded_changes.
func TestSettleReportsConflictingUpdates(t *testing.T) {
	var discarded atomic.Int32
	cfg := session.Config{OnEvent: func(_ context.Context, ev session.Event) {
		if ev.Kind == session.EventDiscarded {
			discarded.Add(1)
		}
	}}
	e, ss := newScriptedEnv(t, cfg, routes())
	e.get("/login?u=alice")
	if _, n := e.get("/incr"); n != "1" {
		t.Fatalf("setup: n=%q", n)
	}
	old := e.token(e.client)
	oldID, _ := session.HashToken(old)
	waiting, proceed := unknownRenewal(ss, oldID)
	if resp, _ := e.get("/renew"); resp.StatusCode != http.StatusServiceUnavailable || e.token(e.client) == old {
		t.Fatalf("setup: renew answered %d", resp.StatusCode)
	}
	<-waiting
	if resp, n := e.get("/incr"); resp.StatusCode != 200 || n != "2" {
		t.Fatalf("setup: incr on the new ID: %d %q", resp.StatusCode, n)
	}
	if resp, n := e.withCookie("/incr", "__Host-session="+old); resp.StatusCode != 200 || n != "2" {
		t.Fatalf("setup: incr on the old ID: %d %q", resp.StatusCode, n)
	}
	close(proceed)
	e.settledOld(oldID)
	_, n := e.get("/incr")
	switch {
	case n == "4":
	case n == "3" && discarded.Load() > 0:
		// The old ID's increment was dropped, and said so.
	default:
		t.Errorf("n=%q after 1 + two acknowledged increments + one more, with %d discarded events; want 4, or 3 with the loss reported", n, discarded.Load())
	}
}

// A renewal of unknown outcome whose old ID stays unreadable for a while
// (one node of a Redis Cluster down) must still be settled once the old ID
// is back: were settle to give up, both IDs would stay live and unlinked,
// and the browser's logout on the new ID would leave the old one logged in.
func TestSettleOutlastsAnOutageOfTheOldID(t *testing.T) {
	e, ss := newScriptedEnv(t, session.Config{}, routes())
	e.get("/login?u=alice")
	e.get("/put?k=cart&v=1")
	old := e.token(e.client)
	oldID, _ := session.HashToken(old)
	var failed, down, oldDown atomic.Bool
	var oldLoads atomic.Int32
	ss.script(func(s *scriptStore) {
		s.commit = failFirstForward(&failed, &down)
		s.load = func(_ context.Context, id string, next func() (*session.Record, error)) (*session.Record, error) {
			if id == oldID && failed.Load() && oldDown.Load() {
				oldLoads.Add(1)
				return nil, errDown
			}
			return next()
		}
	})
	oldDown.Store(true)
	if resp, _ := e.get("/renew"); resp.StatusCode != http.StatusServiceUnavailable || e.token(e.client) == old {
		t.Fatalf("setup: renew answered %d", resp.StatusCode)
	}
	waitFor(t, "settle to retry a few times", func() bool { return oldLoads.Load() >= 4 })
	oldDown.Store(false) // the old ID's node is back
	e.settledOld(oldID)
	if resp, _ := e.get("/logout"); resp.StatusCode != 200 {
		t.Fatalf("logout on the new cookie: %d", resp.StatusCode)
	}
	if s := e.subjectOf(old); s != "" {
		t.Errorf("after the browser logged out, the pre-renewal token still opens %q's session", s)
	}
}

// A page request the browser sent with its cookie just before a renewal
// (another tab, a parallel fetch) reaches the server after the renewal
// committed: its token is now a forward. The request is served as anonymous
// (by design), but its response also expires the session cookie, and a
// cookie is expired by name, not by value: arriving after the renewal's
// response, it deletes the new token from the browser. The user is logged
// out of a session nobody ended.
func TestAttackStaleRequestAfterRenewalLogsBrowserOut(t *testing.T) {
	e := newEnv(t, session.Config{}, routes())
	e.get("/login?u=alice")
	e.get("/put?k=cart&v=1")
	old := e.token(e.client)
	e.get("/renew") // the browser now holds the new token
	// The parallel request, sent with the old cookie, answered second.
	resp, _ := e.withCookie("/get?k=cart", "__Host-session="+old)
	e.applyCookies(resp)
	if e.token(e.client) == "" {
		t.Errorf("a stale parallel request deleted the renewed session's cookie (Set-Cookie %q): the browser is logged out",
			resp.Header.Values("Set-Cookie"))
	}
	if _, cart := e.get("/get?k=cart"); cart != "1" {
		t.Errorf("the browser lost its session after a renewal raced its own request: cart=%q", cart)
	}
}

// A slow request (an upload) of the logged-in user loaded the session and
// Put a value; meanwhile the session was renewed and the renewal's forward
// aged out (RenewGrace). The slow request's commit finds the old ID gone
// and treats the session as destroyed: it discards the change yet answers
// 200, and expires the browser's (new) cookie. Nobody logged out: an
// acknowledged change is lost and the user is logged out.
func TestAttackSlowRequestAfterRenewGraceDiscardsAndLogsOut(t *testing.T) {
	loaded, release := make(chan struct{}), make(chan struct{})
	e := newEnv(t, session.Config{}, slowApp(loaded, release))
	e.get("/login?u=alice")
	old := e.token(e.client)
	done := e.inBackground("/slow", old)
	<-loaded
	e.get("/renew")
	e.clock.Advance(e.mgr.Config().RenewGrace + time.Second) // well within the idle timeout
	close(release)
	resp := <-done
	if resp == nil {
		t.Fatal("slow request failed")
	}
	e.applyCookies(resp)
	if e.token(e.client) == "" {
		t.Errorf("the slow request's response (%d) expired the renewed session's cookie: Set-Cookie %q", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	if resp.StatusCode == 200 {
		if _, v := e.get("/get?k=slow"); v != "written" {
			t.Errorf("the slow request answered 200 but its change is not in the session: slow=%q", v)
		}
	}
}

// MaxRecordBytes is checked at Put, Login and Renew, which count the client
// details the record will carry: a new ID records the client that got it.
// A session filled to the bound from a client with a short User-Agent and
// renewed from one with a long one makes Renew return ErrTooLarge (the
// test's handler answers 500) and leaves the stored session as it was.
func TestRenewChecksSizeBound(t *testing.T) {
	const limit = 1024
	mux := http.NewServeMux()
	mux.Handle("/", routes())
	mux.HandleFunc("/fill", func(w http.ResponseWriter, r *http.Request) {
		for n := limit; n > 0; n-- {
			if err := session.Put(r.Context(), "k", strings.Repeat("x", n)); err == nil {
				break
			}
		}
	})
	e := newEnv(t, session.Config{MaxRecordBytes: limit}, mux)
	resp, _ := e.send("/fill", "", "u")
	tok := cookieValue(resp, "__Host-session")
	if tok == "" {
		t.Fatalf("setup: no session (status %d)", resp.StatusCode)
	}
	if n := len(session.EncodeRecord(nil, e.record(e.idOf(tok)))); n > limit {
		t.Fatalf("setup: the filled record is already %d bytes", n)
	}
	resp, body := e.send("/renew", tok, strings.Repeat("U", 300))
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "too large") {
		t.Fatalf("renew: %d %q; want 500 with ErrTooLarge", resp.StatusCode, body)
	}
	if fresh := cookieValue(resp, "__Host-session"); fresh != "" {
		t.Fatalf("a refused Renew set a new cookie")
	}
	if n := len(session.EncodeRecord(nil, e.record(e.idOf(tok)))); n > limit {
		t.Errorf("the session is stored with %d bytes > MaxRecordBytes %d", n, limit)
	}
}
