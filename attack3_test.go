package session_test

// Third round of attacks on the session lifecycle, against the change that
// made settle outlast an outage, left stale (forwarded) cookies alone and
// made commitNew refuse on a forwarded token. Each test fails on the code it
// was written against.

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

// A visitor with an anonymous session (a cart) double-clicks "Log in": the
// browser cancels the first submission, whose login still lands on the
// server (P forwards to L), and sends the second with the cookie it still
// holds, P. The second login is not a stale request the browser has since
// overtaken: it is the only answer the browser will see. commitNew refuses
// it because P is a forward (409), and the response neither sets a session
// nor expires P, so every login attempt from this browser is refused until
// the forward ages out (Config.RenewGrace). Before the change the forward's
// cookie was expired and the login created a session.
func TestAttackLoginWithForwardedCookieRefused(t *testing.T) {
	e := newEnv(t, session.Config{}, routes())
	resp, _ := e.send("/put?k=cart&v=1", "", "")
	anon := cookieValue(resp, "__Host-session")
	if anon == "" {
		t.Fatal("setup: no anonymous session")
	}
	// First submission: it lands, but its response never reaches the
	// browser (the second click cancelled it).
	if resp, _ := e.send("/login?u=alice", anon, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("setup: first login answered %d", resp.StatusCode)
	}
	for attempt := 1; attempt <= 3; attempt++ {
		resp, body := e.send("/login?u=alice", anon, "")
		tok := cookieValue(resp, "__Host-session")
		if resp.StatusCode == http.StatusOK && tok != "" && e.subjectOf(tok) == "alice" {
			return
		}
		if attempt == 3 {
			t.Errorf("the user cannot log in from a browser whose cookie is a forward: attempt %d answered %d %q with Set-Cookie %q",
				attempt, resp.StatusCode, body, resp.Header.Values("Set-Cookie"))
		}
		e.clock.Advance(time.Second) // the user retries
	}
}

// settleHooks scripts the store for a renewal of unknown outcome whose old
// ID then stays unreadable while oldDown is set. settleLoads counts settle's
// loads of the old ID once it is readable again (only settle's context has
// a deadline after the renewal request).
func settleHooks(ss *scriptStore, oldID string, oldDown *atomic.Bool, settleLoads *atomic.Int32, onCommit func(*session.Record)) {
	var failed, down atomic.Bool
	forward := failFirstForward(&failed, &down)
	ss.script(func(s *scriptStore) {
		s.commit = func(ctx context.Context, rec *session.Record, expected uint64, next func() error) error {
			if onCommit != nil {
				onCommit(rec)
			}
			return forward(ctx, rec, expected, next)
		}
		s.load = func(ctx context.Context, id string, next func() (*session.Record, error)) (*session.Record, error) {
			if id == oldID && failed.Load() {
				if oldDown.Load() {
					return nil, errDown
				}
				if _, settling := ctx.Deadline(); settling {
					settleLoads.Add(1)
				}
			}
			return next()
		}
	})
}

// A renewal of unknown outcome (old ID O, new ID N) is settled in the
// background, and settle "does not give up while the old ID may still open
// a session". While O's node is down the browser works on N and renews it
// five times (privilege changes, re-authentications). Once O is readable,
// settle follows N's chain with follow, which stops after maxHops and
// returns ErrRenewalChain: settle retries that same failure until O's
// deadline, so O stays a live session of alice. The browser logs out on the
// newest ID; the pre-renewal token still opens alice's session.
func TestAttackSettleStuckOnRenewalChainKeepsOldIDLoggedIn(t *testing.T) {
	e, ss := newScriptedEnv(t, session.Config{}, routes())
	e.get("/login?u=alice")
	old := e.token(e.client)
	oldID, _ := session.HashToken(old)
	var oldDown atomic.Bool
	var settleLoads atomic.Int32
	settleHooks(ss, oldID, &oldDown, &settleLoads, nil)
	oldDown.Store(true)
	if resp, _ := e.get("/renew"); resp.StatusCode != http.StatusServiceUnavailable || e.token(e.client) == old {
		t.Fatalf("setup: renew answered %d", resp.StatusCode)
	}
	for i := range 5 {
		if resp, _ := e.get("/renew"); resp.StatusCode != http.StatusOK {
			t.Fatalf("setup: renewal %d on the new ID answered %d", i+1, resp.StatusCode)
		}
	}
	oldDown.Store(false) // the old ID's node is back
	waitFor(t, "settle to look at the old ID again", func() bool { return settleLoads.Load() >= 1 })
	if resp, _ := e.get("/logout"); resp.StatusCode != http.StatusOK {
		t.Fatalf("logout on the newest cookie: %d", resp.StatusCode)
	}
	// Give settle several attempts (its back-off is at most 5 s; the
	// first ones after the outage come within about a second).
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) && e.subjectOf(old) != "" {
		time.Sleep(50 * time.Millisecond)
	}
	if s := e.subjectOf(old); s != "" {
		t.Errorf("after the browser logged out, the pre-renewal token still opens %q's session (settle attempts since the outage: %d)", s, settleLoads.Load())
	}
}

// settleOnce says "the old ID expired: it opens nothing any more" and leaves
// the successor alone. But no store returns an expired record: memstore and
// the SQL stores answer ErrExpired (an ErrNotFound), Redis and memcached
// have deleted it. settle takes that for "the old ID ended" and ends the
// successor, the live session the browser holds. It happens when the old
// ID's idle deadline passes while its node is down: a visitor returns after
// almost an hour idle, the renewal's outcome is unknown, and the browser is
// logged out a few seconds later though nobody logged out.
func TestAttackSettleEndsLiveSuccessorWhenOldIDExpired(t *testing.T) {
	e, ss := newScriptedEnv(t, session.Config{}, routes())
	e.get("/login?u=alice")
	old := e.token(e.client)
	oldID, _ := session.HashToken(old)
	var oldDown atomic.Bool
	var settleLoads atomic.Int32
	var successor atomic.Value // store ID of the new session
	successor.Store("")
	ended := make(chan struct{}, 1)
	settleHooks(ss, oldID, &oldDown, &settleLoads, func(rec *session.Record) {
		if rec.Ended && rec.ID == successor.Load().(string) {
			select {
			case ended <- struct{}{}:
			default:
			}
		}
	})
	// Back after 59m55s: the old ID has 5 s left, the renewal gives the
	// new one a full idle window.
	e.clock.Advance(e.mgr.Config().IdleTimeout - 5*time.Second)
	oldDown.Store(true)
	if resp, _ := e.get("/renew"); resp.StatusCode != http.StatusServiceUnavailable || e.token(e.client) == old {
		t.Fatalf("setup: renew answered %d", resp.StatusCode)
	}
	fresh := e.token(e.client)
	freshID, _ := session.HashToken(fresh)
	successor.Store(freshID)
	e.clock.Advance(10 * time.Second) // the old ID expires; the new one has ~1 h left
	if s := e.subjectOf(fresh); s != "alice" {
		t.Fatalf("setup: the new token opens %q", s)
	}
	oldDown.Store(false)
	waitFor(t, "settle to look at the old ID again", func() bool { return settleLoads.Load() >= 1 })
	select {
	case <-ended:
	case <-time.After(2 * time.Second):
	}
	if s := e.subjectOf(fresh); s != "alice" {
		t.Errorf("settle ended the browser's live session because the old ID had expired (not ended): the new token opens %q", s)
	}
}

// The fix for a slow request whose session was renewed and whose forward
// aged out (errGone: 409, cookie left alone) applies only while the record
// the request loaded is live by its own deadlines. That record is a stale
// copy: the renewal gave the session a new idle window. A user back after
// 58 idle minutes starts a 3-minute upload; another tab renews the session
// meanwhile. When the upload commits, the forward has aged out and the
// loaded copy's idle deadline has passed, so reload takes the session for
// destroyed: the change is dropped, the response is 200, and it expires the
// browser's renewed cookie. Nobody logged out.
func TestAttackSlowRequestPastLoadedDeadlineDiscardsAndLogsOut(t *testing.T) {
	loaded, release := make(chan struct{}), make(chan struct{})
	e := newEnv(t, session.Config{}, slowApp(loaded, release))
	e.get("/login?u=alice")
	e.clock.Advance(58 * time.Minute)
	old := e.token(e.client)
	done := e.inBackground("/slow", old)
	<-loaded
	if resp, _ := e.get("/renew"); resp.StatusCode != http.StatusOK {
		t.Fatalf("setup: renew answered %d", resp.StatusCode)
	}
	e.clock.Advance(3 * time.Minute) // past RenewGrace and the loaded copy's idle deadline
	if s := e.subjectOf(e.token(e.client)); s != "alice" {
		t.Fatalf("setup: the renewed session opens %q", s)
	}
	close(release)
	resp := <-done
	if resp == nil {
		t.Fatal("slow request failed")
	}
	e.applyCookies(resp)
	if e.token(e.client) == "" {
		t.Errorf("the slow request's response (%d) expired the renewed session's cookie: Set-Cookie %q", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	if resp.StatusCode == http.StatusOK {
		if _, v := e.get("/get?k=slow"); v != "written" {
			t.Errorf("the slow request answered 200 but its change is not in the session: slow=%q", v)
		}
	}
}
