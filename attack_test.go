package session_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sessionkit/session"
)

// send issues a GET with exactly the given cookie (may be "") and user agent.
func (e *env) send(path, cookie, ua string) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	if cookie != "" {
		req.Header.Set("Cookie", "__Host-session="+cookie)
	}
	if ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// An attacker plants an anonymous ID P in the victim's browser and keeps a
// request open on it. The victim logs in (P forwards to L), stores private
// data, and later a client change under ClientChangeReauth logs L out in
// place and locks it to the victim's client. L's subject is "" again, the
// subject the attacker's request started from, so the attacker's request
// follows P's forward into L: it writes into the victim's session and reads
// the victim's data, though L is locked to another client.
func TestAttackPlantedIDFollowsIntoClientLockedSession(t *testing.T) {
	loaded, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.Handle("/", accountRoutes())
	mux.HandleFunc("/attacker-slow", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		session.Put(ctx, "evil", "planted")
		loaded <- struct{}{}
		<-release
		err := session.Commit(ctx)
		card, _ := session.Get[string](ctx, "card")
		fmt.Fprintf(w, "commit=%v card=%q", err, card)
	})
	e := newEnv(t, session.Config{ClientChange: session.ClientChangeReauth}, mux)

	resp, _ := e.send("/put?k=x&v=1", "", "Attacker/1.0")
	planted := cookieValue(resp, "__Host-session")
	if planted == "" {
		t.Fatal("no planted token")
	}
	body := make(chan string, 1)
	go func() { _, b := e.send("/attacker-slow", planted, "Attacker/1.0"); body <- b }()
	<-loaded

	// The victim's browser carries the planted ID and logs in with it.
	resp, _ = e.send("/login?u=victim", planted, "")
	victim := cookieValue(resp, "__Host-session")
	if victim == "" || victim == planted {
		t.Fatal("login did not issue a new token")
	}
	e.send("/put?k=card&v=4111", victim, "")
	// A request from another client shows the victim's token: Reauth logs
	// the session out in place and locks it to the victim's client.
	e.send("/info", victim, "Thief/1.0")

	close(release)
	got := <-body
	if strings.Contains(got, "4111") {
		t.Errorf("the planted ID's holder read the victim's data: %s", got)
	}
	if v, ok := e.record(e.idOf(victim)).Lookup("evil"); ok {
		t.Errorf("the planted ID's holder wrote into the victim's session: evil=%s (attacker saw %s)", v, got)
	}
}

// MaxRecordBytes bounds the session "as the stores keep it (values, keys and
// metadata, encoded)". checkSize measures a record without the client's
// address and user agent (for a new session) and with zero timestamps, so a
// Put accepted at the call commits a record larger than the bound. A client
// controls 256 bytes of it through its User-Agent.
func TestAttackSizeBoundIgnoresMetadata(t *testing.T) {
	const limit = 1024
	var accepted atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("/", routes())
	mux.HandleFunc("/fill", func(w http.ResponseWriter, r *http.Request) {
		for n := limit; n > 0; n-- {
			if err := session.Put(r.Context(), "k", strings.Repeat("x", n)); err == nil {
				accepted.Store(int64(n))
				break
			}
		}
		fmt.Fprint(w, "ok")
	})
	e := newEnv(t, session.Config{MaxRecordBytes: limit}, mux)
	resp, _ := e.send("/fill", "", strings.Repeat("u", 300))
	tok := cookieValue(resp, "__Host-session")
	if tok == "" {
		t.Fatalf("no session created (status %d)", resp.StatusCode)
	}
	rec := e.record(e.idOf(tok))
	if n := len(session.EncodeRecord(nil, rec)); n > limit {
		t.Fatalf("a Put of %d bytes was accepted, and the stored record encodes to %d bytes > MaxRecordBytes %d", accepted.Load(), n, limit)
	}
}

// A renewal whose forward has an unknown outcome hands the client the new
// token S and settles in the background. A concurrent Update on the old ID
// commits first and is acknowledged (200). settle then finds the old record
// "changed" and deletes S as if a logout had raced it: the browser holds
// only S, so it is logged out and the acknowledged Update is unreachable.
func TestAttackSettleDeletesSuccessorAfterAcknowledgedUpdate(t *testing.T) {
	e, ss := newScriptedEnv(t, session.Config{}, routes())
	e.get("/login?u=alice")
	old := e.token(e.client)
	var forwards atomic.Int32
	var down atomic.Bool
	proceed, settled := make(chan struct{}), make(chan struct{})
	var once atomic.Bool
	done := func() {
		if once.CompareAndSwap(false, true) {
			close(settled)
		}
	}
	ss.script(func(s *scriptStore) {
		s.commit = func(_ context.Context, rec *session.Record, _ uint64, next func() error) error {
			if !isForward(rec) {
				return next()
			}
			switch forwards.Add(1) {
			case 1: // the renewal's forward: no verdict
				down.Store(true)
				return errDown
			default: // settle's retry
				<-proceed
				err := next()
				if err == nil {
					done()
				}
				return err
			}
		}
		s.load = func(_ context.Context, _ string, next func() (*session.Record, error)) (*session.Record, error) {
			if down.CompareAndSwap(true, false) {
				return nil, errDown // renewalLanded cannot tell
			}
			return next()
		}
		s.delete = func(_ context.Context, _ string, next func() error) error {
			err := next()
			done()
			return err
		}
	})
	resp, _ := e.get("/renew")
	fresh := e.token(e.client)
	if resp.StatusCode != http.StatusServiceUnavailable || fresh == old {
		t.Fatalf("setup: status %d, token changed %v", resp.StatusCode, fresh != old)
	}
	// A concurrent request still on the old cookie, acknowledged.
	resp, body := e.withCookie("/incr", "__Host-session="+old)
	if resp.StatusCode != 200 || body != "1" {
		t.Fatalf("setup: incr %d %q", resp.StatusCode, body)
	}
	close(proceed)
	<-settled
	if _, n := e.get("/incr"); n != "2" {
		t.Errorf("the browser (holding the new token) lost the acknowledged Update: n=%q after one more increment; want 2", n)
	}
	if s := e.subjectOf(fresh); s != "alice" {
		t.Errorf("settle ended the session of a renewal nobody logged out: subject %q", s)
	}
}

// ClientChangeReauth logs the session out in place with a CAS on the
// version the distrusting request loaded. When a renewal by the legitimate
// client lands between that load and the CAS, logOutInPlace sees a
// tombstone and gives up without following it: the login the policy ended
// lives on at the new ID (ClientChangeDestroy follows the forward).
func TestAttackReauthLosesToConcurrentRenewal(t *testing.T) {
	e, ss := newScriptedEnv(t, session.Config{ClientChange: session.ClientChangeReauth}, routes())
	e.get("/login?u=alice")
	tok := e.token(e.client)
	var armed atomic.Bool
	armed.Store(true)
	ss.script(func(s *scriptStore) {
		s.load = func(_ context.Context, _ string, next func() (*session.Record, error)) (*session.Record, error) {
			rec, err := next()
			if armed.CompareAndSwap(true, false) {
				e.get("/renew") // the user's own renewal lands in between
			}
			return rec, err
		}
	})
	resp, body := e.send("/info", tok, "Thief/1.0")
	if strings.Contains(body, "alice") {
		t.Fatalf("the changed client saw the user: %d %s", resp.StatusCode, body)
	}
	fresh := e.token(e.client)
	if fresh == tok {
		t.Fatal("setup: no renewal")
	}
	if s := e.subjectOf(fresh); s != "" {
		t.Errorf("the client change did not end the login: it survives at the renewed ID as %q", s)
	}
}

// Hostile cookies and headers: none costs a store lookup, panics, or is
// reflected in the response.
func TestAttackHostileTokensHeld(t *testing.T) {
	e := newEnv(t, session.Config{}, routes())
	canon := strings.Repeat("A", 42) + "B" // 2 leftover bits set: non-canonical
	for _, c := range []string{
		"__Host-session=" + canon,
		`__Host-session="` + strings.Repeat("A", 41) + `"`,
		"__Host-session=<script>alert(1)</script>; __Host-session=" + strings.Repeat("!", 43),
		"__Host-session=\"; __Host-session==; __Host-session",
		"__Host-session=" + strings.Repeat("A", 43) + "==",
	} {
		before := e.store.loads.Load()
		resp, body := e.withCookie("/get?k=a", c)
		if e.store.loads.Load() != before {
			t.Errorf("cookie %q cost a store lookup", c)
		}
		if resp.StatusCode != 200 || strings.Contains(body, "script") || strings.Contains(strings.Join(resp.Header.Values("Set-Cookie"), ""), "script") {
			t.Errorf("cookie %q: %d %q %v", c, resp.StatusCode, body, resp.Header)
		}
	}
}
