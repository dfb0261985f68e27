package dbsc_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/dbsc"
	"github.com/sessionkit/session/memstore"
)

func wantStatus(t *testing.T, what string, resp *http.Response, code int) {
	t.Helper()
	if resp.StatusCode != code {
		t.Fatalf("%s: status %d, want %d (body %q)", what, resp.StatusCode, code, readBody(resp))
	}
}

func wantRefused(t *testing.T, e *env, what string, reason dbsc.Reason) {
	t.Helper()
	ev := e.lastEvent()
	if ev.Kind != dbsc.EventRefused || ev.Reason != reason {
		t.Fatalf("%s: last event %s/%s (%v), want refused/%s", what, ev.Kind, ev.Reason, ev.Err, reason)
	}
}

// TestProtocol drives the whole protocol with a software browser, for
// both algorithms: login offers registration, registration sets the bound
// cookie, the bound route serves, the cookie expires, the browser refreshes
// through a challenge and gets a new cookie, the route serves again.
func TestProtocol(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  func(t *testing.T) *deviceKey
	}{
		{"ES256", func(t *testing.T) *deviceKey { return newECKey(t) }},
		{"RS256", func(t *testing.T) *deviceKey { return newRSAKey(t, 0) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, dbsc.Config{})
			br := e.newBrowser(tc.key(t))
			br.login("alice")
			if strings.Join(br.offer.algs, " ") != "ES256 RS256" || br.offer.path != "/dbsc/registration" {
				t.Fatalf("offer %+v, want ES256 RS256 at /dbsc/registration", br.offer)
			}

			resp := br.registration(br.key.proof(br.offer.challenge, true))
			wantStatus(t, "registration", resp, 200)
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("registration Cache-Control %q, want no-store", cc)
			}
			var bound *http.Cookie
			for _, c := range resp.Cookies() {
				if c.Name == "__Host-dbsc" {
					bound = c
				}
			}
			if bound == nil || !bound.Secure || !bound.HttpOnly || bound.SameSite != http.SameSiteLaxMode || bound.Path != "/" || bound.MaxAge != 600 || bound.Domain != "" {
				t.Fatalf("bound cookie %+v, want __Host-dbsc, Secure, HttpOnly, SameSite=Lax, Path=/, Max-Age=600", bound)
			}
			in := br.instructions(resp)
			if in.RefreshURL != "/dbsc/refresh" || *in.Scope.IncludeSite || in.Credentials[0].Type != "cookie" ||
				in.Credentials[0].Attributes != "Path=/; Secure; HttpOnly; SameSite=Lax" {
				t.Fatalf("instructions %+v", in)
			}

			wantStatus(t, "bound route after registration", br.get("/bound"), 200)

			e.clock.Advance(11 * time.Minute)
			e.takeEvents()
			resp = br.get("/bound") // refreshes first: the bound cookie expired
			wantStatus(t, "bound route after the refresh", resp, 200)
			if got := readBody(resp); got != "secret of alice" {
				t.Fatalf("bound route: %q", got)
			}
			var kinds []string
			for _, ev := range e.takeEvents() {
				kinds = append(kinds, string(ev.Kind))
				if ev.SessionID == "" || ev.Thumbprint == "" {
					t.Errorf("event %s without session ID or thumbprint", ev.Kind)
				}
			}
			if got := strings.Join(kinds, " "); got != "challenged refreshed" {
				t.Fatalf("events %q, want challenged refreshed", got)
			}

			// A second refresh cycle works just as the first.
			e.clock.Advance(11 * time.Minute)
			wantStatus(t, "bound route after the second refresh", br.get("/bound"), 200)
		})
	}
}

// TestStolenCookies: malware copies every cookie but cannot copy the key.
// The copied bound cookie works until its deadline, the point of a short
// lifetime; after it, the thief loses the bound route for good, because
// only the key can refresh, while the user's browser carries on.
func TestStolenCookies(t *testing.T) {
	e := newEnv(t, dbsc.Config{})
	victim := e.newBrowser(newECKey(t))
	victim.login("alice")
	victim.register()

	thief := victim.clone(nil)
	// The thief cannot register its own key over the victim's, even with
	// the offer's challenge still fresh.
	thief.offer = victim.offer
	wantStatus(t, "thief registers its key", thief.registration(newECKey(t).proof(victim.offer.challenge, true)), 409)
	wantRefused(t, e, "thief registers its key", dbsc.ReasonRegistered)
	wantStatus(t, "thief within the bound cookie's lifetime", thief.send("GET", "/bound", nil), 200)

	e.clock.Advance(11 * time.Minute)
	wantStatus(t, "thief after the bound cookie expired", thief.send("GET", "/bound", nil), 403)
	wantRefused(t, e, "thief on the bound route", dbsc.ReasonNoCookie)
	wantStatus(t, "thief on a prefer route", thief.send("GET", "/prefer", nil), 200)

	// The thief's own key cannot answer: the key must be the registered one.
	ch := challengeOf(t, thief.refreshRequest(thief.sessionID, ""))
	other := newECKey(t)
	wantStatus(t, "refresh signed by another key", thief.refreshRequest(thief.sessionID, other.proof(ch, false)), 400)
	wantRefused(t, e, "refresh signed by another key", dbsc.ReasonSignature)
	// Nor can it smuggle its key in.
	wantStatus(t, "refresh carrying a key", thief.refreshRequest(thief.sessionID, other.proof(ch, true)), 400)
	wantRefused(t, e, "refresh carrying a key", dbsc.ReasonJWKForbidden)
	wantStatus(t, "thief still refused", thief.send("GET", "/bound", nil), 403)

	wantStatus(t, "victim", victim.get("/bound"), 200)
}

// TestReplayedProof: a proof answers its challenge once. The same proof
// sent again (captured on the wire, or a browser's cached signature) is
// refused with a fresh challenge.
func TestReplayedProof(t *testing.T) {
	e := newEnv(t, dbsc.Config{})
	br := e.newBrowser(newECKey(t))
	br.login("alice")
	br.register()

	wantStatus(t, "refresh", br.refresh(), 200)
	resp := br.refreshRequest(br.sessionID, br.lastProof)
	challengeOf(t, resp)
	wantRefused(t, e, "replayed proof", dbsc.ReasonReplay)

	// Replays racing each other: of many copies of one fresh proof, sent at
	// once, exactly one is accepted. The used challenge rides the session's
	// compare-and-swap commit.
	ch := challengeOf(t, br.refreshRequest(br.sessionID, ""))
	proof := br.key.proof(ch, false)
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		thief := br.clone(nil)
		wg.Go(func() { codes[i] = thief.refreshRequest(br.sessionID, proof).StatusCode })
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		switch c {
		case 200:
			ok++
		case 403, 503: // replay refused; or too many concurrent commits
		default:
			t.Fatalf("racing replays answered %v", codes)
		}
	}
	if ok != 1 {
		t.Fatalf("racing replays answered %v; want exactly one 200", codes)
	}
}

// TestRacingRegistrations: two keys registering at once on one session
// (the user's browser and malware that holds the session cookie and saw
// the offer): exactly one lands, and only that key can refresh.
func TestRacingRegistrations(t *testing.T) {
	for round := 0; round < 5; round++ {
		e := newEnv(t, dbsc.Config{})
		a := e.newBrowser(newECKey(t))
		a.login("alice")
		b := a.clone(newECKey(t))
		b.offer = a.offer

		var wg sync.WaitGroup
		var ra, rb *http.Response
		wg.Go(func() { ra = a.registration(a.key.proof(a.offer.challenge, true)) })
		wg.Go(func() { rb = b.registration(b.key.proof(a.offer.challenge, true)) })
		wg.Wait()
		winner, loser := a, b
		wresp, lresp := ra, rb
		if rb.StatusCode == 200 {
			winner, loser, wresp, lresp = b, a, rb, ra
		}
		wantStatus(t, "winning registration", wresp, 200)
		wantStatus(t, "losing registration", lresp, 409)
		winner.instructions(wresp)
		loser.sessionID, loser.refreshURL, loser.credential = winner.sessionID, winner.refreshURL, winner.credential

		e.clock.Advance(11 * time.Minute)
		wantStatus(t, "winner refreshes", winner.refresh(), 200)
		if resp := loser.refresh(); resp.StatusCode == 200 {
			t.Fatal("the losing key refreshed the session")
		}
	}
}

// TestRegistrationReplay: once a key is registered, a registration proof,
// replayed or new, cannot replace it; after a new login the old proof's
// challenge (bound to the old session ID) is refused too.
func TestRegistrationReplay(t *testing.T) {
	e := newEnv(t, dbsc.Config{})
	br := e.newBrowser(newECKey(t))
	br.login("alice")
	first := br.key.proof(br.offer.challenge, true)
	wantStatus(t, "registration", br.registration(first), 200)
	in := br.sessionID

	wantStatus(t, "the same registration replayed", br.registration(first), 409)
	wantRefused(t, e, "replayed registration", dbsc.ReasonRegistered)
	wantStatus(t, "another key on the same challenge", br.registration(newECKey(t).proof(br.offer.challenge, true)), 409)
	if br.sessionID != in {
		t.Fatal("the binding changed")
	}

	old := br.offer
	br.login("alice") // a new login: a new session ID and a new offer
	br.offer = old
	wantStatus(t, "the old registration after a new login", br.registration(first), 403)
	wantRefused(t, e, "old registration after login", dbsc.ReasonChallenge)
}

// TestEnded: after a logout, a revocation or an expiry, a refresh (with the
// cookies from before) answers {"continue": false}, which ends the
// browser's bound session, and the bound route refuses.
func TestEnded(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(e *env, br *browser)
	}{
		{"logout", func(e *env, br *browser) { br.clone(nil).send("POST", "/logout", nil) }},
		{"revoke", func(e *env, br *browser) {
			sessions, err := e.mgr.Sessions(context.Background(), "alice")
			if err != nil || len(sessions) != 1 {
				e.t.Fatalf("Sessions: %v, %v", sessions, err)
			}
			if err := e.mgr.Revoke(context.Background(), sessions[0].ID); err != nil {
				e.t.Fatal(err)
			}
		}},
		{"expiry", func(e *env, br *browser) { e.clock.Advance(2 * time.Hour) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, dbsc.Config{})
			br := e.newBrowser(newECKey(t))
			br.login("alice")
			br.register()
			sid := br.sessionID
			tc.end(e, br)

			resp := br.refreshRequest(sid, "")
			wantStatus(t, "refresh after "+tc.name, resp, 200)
			if in := br.instructions(resp); in.Continue == nil || *in.Continue {
				t.Fatalf("refresh after %s: %+v, want continue false", tc.name, in)
			}
			if ev := e.lastEvent(); ev.Kind != dbsc.EventEnded || ev.Reason != dbsc.ReasonNoSession {
				t.Fatalf("event %s/%s, want ended/no_session", ev.Kind, ev.Reason)
			}
			if _, ok := br.cookies["__Host-dbsc"]; ok {
				t.Fatal("the bound cookie was not expired")
			}
			// A proof made for the ended session does not help either.
			br.sessionID = sid
			wantStatus(t, "signed refresh after "+tc.name, br.refreshRequest(sid, br.key.proof("x", false)), 200)
			wantStatus(t, "bound route after "+tc.name, br.send("GET", "/bound", nil), 403)
		})
	}
}

// TestForeignChallenge: a challenge is good only for the session and the
// endpoint it was issued for.
func TestForeignChallenge(t *testing.T) {
	e := newEnv(t, dbsc.Config{})
	a := e.newBrowser(newECKey(t))
	a.login("alice")
	a.register()
	b := e.newBrowser(newECKey(t))
	b.login("bob")
	b.register()

	// Bob's browser answers a challenge issued to Alice's session.
	chA := challengeOf(t, a.refreshRequest(a.sessionID, ""))
	challengeOf(t, b.refreshRequest(b.sessionID, b.key.proof(chA, false)))
	wantRefused(t, e, "challenge of another session", dbsc.ReasonChallenge)

	// A registration challenge is no refresh challenge.
	challengeOf(t, a.refreshRequest(a.sessionID, a.key.proof(a.offer.challenge, false)))
	wantRefused(t, e, "registration challenge on refresh", dbsc.ReasonChallenge)

	// A made-up challenge.
	challengeOf(t, a.refreshRequest(a.sessionID, a.key.proof(strings.Repeat("A", 78), false)))
	wantRefused(t, e, "forged challenge", dbsc.ReasonChallenge)

	// Alice's cookies with Bob's DBSC session identifier: not her session's.
	resp := a.refreshRequest(b.sessionID, "")
	wantStatus(t, "another session's identifier", resp, 200)
	if ev := e.lastEvent(); ev.Kind != dbsc.EventEnded || ev.Reason != dbsc.ReasonSessionMismatch {
		t.Fatalf("event %s/%s, want ended/session_mismatch", ev.Kind, ev.Reason)
	}

	// A challenge from a server with another secret.
	other := newEnv(t, dbsc.Config{})
	c := other.newBrowser(newECKey(t))
	c.login("carol")
	challengeOf(t, a.refreshRequest(a.sessionID, a.key.proof(c.offer.challenge, false)))
	wantRefused(t, e, "challenge of another server", dbsc.ReasonChallenge)
}

// TestExpiredChallenge: a challenge answered after ChallengeTTL is refused
// with a fresh one, which the browser answers in turn.
func TestExpiredChallenge(t *testing.T) {
	e := newEnv(t, dbsc.Config{})
	br := e.newBrowser(newECKey(t))
	br.login("alice")
	br.register()

	ch := challengeOf(t, br.refreshRequest(br.sessionID, ""))
	e.clock.Advance(3 * time.Minute)
	fresh := challengeOf(t, br.refreshRequest(br.sessionID, br.key.proof(ch, false)))
	wantRefused(t, e, "expired challenge", dbsc.ReasonChallengeExpired)
	if fresh == ch {
		t.Fatal("the same challenge was issued twice")
	}
	wantStatus(t, "fresh challenge", br.refreshRequest(br.sessionID, br.key.proof(fresh, false)), 200)

	// An expired registration challenge too.
	br.login("alice")
	e.clock.Advance(3 * time.Minute)
	wantStatus(t, "expired registration challenge", br.registration(br.key.proof(br.offer.challenge, true)), 403)
	wantRefused(t, e, "expired registration challenge", dbsc.ReasonChallengeExpired)
}

// TestForgedProofs: the refresh endpoint refuses proofs that are not the
// registered key's signature, each for its own reason, and with 400, which
// ends the session of a browser that sends one.
func TestForgedProofs(t *testing.T) {
	e := newEnv(t, dbsc.Config{})
	br := e.newBrowser(newECKey(t))
	br.login("alice")
	br.register()
	ch := challengeOf(t, br.refreshRequest(br.sessionID, ""))
	rs := newRSAKey(t, 1)

	for _, tc := range []struct {
		name   string
		proof  string
		reason dbsc.Reason
	}{
		{"alg none", segment(map[string]any{"typ": "dbsc+jwt", "alg": "none"}) + "." + segment(map[string]any{"jti": ch}) + ".", dbsc.ReasonAlgNone},
		{"RS256 header over the EC key", br.key.sign(map[string]any{"typ": "dbsc+jwt", "alg": "RS256"}, map[string]any{"jti": ch}), dbsc.ReasonAlgKeyMismatch},
		{"an RSA key's proof", rs.proof(ch, false), dbsc.ReasonAlgKeyMismatch},
		{"tampered payload", tamper(br.key.proof(ch, false), 1, func(string) string { return segment(map[string]any{"jti": ch, "x": 1}) }), dbsc.ReasonSignature},
		{"tampered header", tamper(br.key.proof(ch, false), 0, func(string) string {
			return segment(map[string]any{"typ": "dbsc+jwt", "alg": "ES256", "kid": "1"})
		}), dbsc.ReasonSignature},
		{"tampered signature", tamper(br.key.proof(ch, false), 2, func(s string) string { return "A" + s[1:] }), dbsc.ReasonSignature},
		{"typ JWT", br.key.sign(map[string]any{"typ": "JWT", "alg": "ES256"}, map[string]any{"jti": ch}), dbsc.ReasonTyp},
		{"not a JWT", "hello", dbsc.ReasonEncoding},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantStatus(t, tc.name, br.refreshRequest(br.sessionID, tc.proof), 400)
			wantRefused(t, e, tc.name, tc.reason)
		})
	}
	// The challenge was not used up by the forgeries.
	wantStatus(t, "the real proof", br.refreshRequest(br.sessionID, br.key.proof(ch, false)), 200)
}

// TestLoginVoidsBinding: a binding belongs to the login it was made in. A
// renewal keeps it (no new offer, the bound cookie still works); a new
// login voids it and offers registration again.
func TestLoginVoidsBinding(t *testing.T) {
	e := newEnv(t, dbsc.Config{})
	br := e.newBrowser(newECKey(t))
	br.login("alice")
	br.register()
	old := br.sessionID

	br.offer = nil
	wantStatus(t, "renew", br.send("POST", "/renew", nil), 200)
	if br.offer != nil {
		t.Fatal("a renewal of a bound session offered registration again")
	}
	wantStatus(t, "bound route after the renewal", br.get("/bound"), 200)
	e.clock.Advance(11 * time.Minute)
	wantStatus(t, "bound route after the renewal and a refresh", br.get("/bound"), 200)

	br.login("alice")
	wantStatus(t, "bound route after a new login", br.send("GET", "/bound", nil), 403)
	wantRefused(t, e, "after a new login", dbsc.ReasonUnregistered)
	resp := br.refreshRequest(old, "")
	if in := br.instructions(resp); in.Continue == nil || *in.Continue {
		t.Fatal("the old binding refreshed after a new login")
	}
	br.register()
	if br.sessionID == old {
		t.Fatal("the new registration kept the old identifier")
	}
	wantStatus(t, "bound route after registering again", br.get("/bound"), 200)
}

// TestPolicies: Require refuses what is not bound and triggers a refresh
// for a stale cookie; Prefer serves and reports; Secure-Session-Skipped is
// reported with its reason.
func TestPolicies(t *testing.T) {
	e := newEnv(t, dbsc.Config{})
	br := e.newBrowser(newECKey(t))

	wantStatus(t, "anonymous on the bound route", br.send("GET", "/bound", nil), 403)
	wantRefused(t, e, "anonymous", dbsc.ReasonNoSession)

	br.login("alice")
	e.takeEvents()
	wantStatus(t, "prefer route, unregistered", br.send("GET", "/prefer", nil), 200)
	if ev := e.lastEvent(); ev.Kind != dbsc.EventUnbound || ev.Reason != dbsc.ReasonUnregistered {
		t.Fatalf("event %s/%s, want unbound/unregistered", ev.Kind, ev.Reason)
	}
	br.register()
	e.takeEvents()
	wantStatus(t, "prefer route, bound", br.send("GET", "/prefer", nil), 200)
	if evs := e.takeEvents(); len(evs) != 0 {
		t.Fatalf("a bound request reported %v", evs)
	}

	// A bound cookie past its deadline that the browser still sends (its
	// clock behind): redirected to itself with the cookie expired.
	stale := br.cookies["__Host-dbsc"]
	e.clock.Advance(11 * time.Minute)
	stale.expires = time.Time{}
	br.cookies["__Host-dbsc"] = stale
	resp := br.send("GET", "/bound?x=1", nil)
	wantStatus(t, "stale bound cookie", resp, http.StatusTemporaryRedirect)
	if loc := resp.Header.Get("Location"); loc != "/bound?x=1" {
		t.Fatalf("Location %q", loc)
	}
	if _, ok := br.cookies["__Host-dbsc"]; ok {
		t.Fatal("the stale cookie was not expired")
	}
	wantStatus(t, "after the redirect", br.get("/bound?x=1"), 200)

	// A forged bound cookie.
	br.cookies["__Host-dbsc"] = jarCookie{value: strings.Repeat("A", 32)}
	wantStatus(t, "forged bound cookie", br.send("GET", "/bound", nil), 403)
	wantRefused(t, e, "forged bound cookie", dbsc.ReasonCookieInvalid)

	// The browser says it skipped the refresh.
	delete(br.cookies, "__Host-dbsc")
	resp = br.send("GET", "/bound", http.Header{"Secure-Session-Skipped": {`unreachable;session_identifier="` + br.sessionID + `", made_up`}})
	wantStatus(t, "skipped refresh", resp, 403)
	evs := e.takeEvents()
	if len(evs) != 3 || evs[0].Kind != dbsc.EventSkipped || evs[0].Reason != dbsc.ReasonSkippedUnreachable ||
		evs[1].Reason != dbsc.ReasonSkippedOther || evs[2].Reason != dbsc.ReasonNoCookie {
		t.Fatalf("events %+v", evs)
	}
}

// TestRefreshRequests: what the refresh endpoint makes of requests no
// browser sends.
func TestRefreshRequests(t *testing.T) {
	e := newEnv(t, dbsc.Config{})
	br := e.newBrowser(newECKey(t))
	br.login("alice")
	br.register()

	for _, tc := range []struct {
		name   string
		header http.Header
		code   int
		reason dbsc.Reason
	}{
		{"no Sec-Secure-Session-Id", http.Header{}, 400, dbsc.ReasonNoSessionID},
		{"Sec-Secure-Session-Id not an sf-string", http.Header{"Sec-Secure-Session-Id": {br.sessionID}}, 400, dbsc.ReasonNoSessionID},
		{"two Sec-Secure-Session-Id", http.Header{"Sec-Secure-Session-Id": {sfString(br.sessionID), sfString(br.sessionID)}}, 400, dbsc.ReasonNoSessionID},
		{"proof not an sf-string", http.Header{"Sec-Secure-Session-Id": {sfString(br.sessionID)}, "Secure-Session-Response": {"abc"}}, 400, dbsc.ReasonNoProof},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantStatus(t, tc.name, br.send("POST", "/dbsc/refresh", tc.header), tc.code)
			wantRefused(t, e, tc.name, tc.reason)
		})
	}
	wantStatus(t, "GET", br.send("GET", "/dbsc/refresh", nil), 405)
}

// TestBindingOf: the devices page can tell bound sessions from the store's
// records.
func TestBindingOf(t *testing.T) {
	e := newEnv(t, dbsc.Config{})
	a := e.newBrowser(newECKey(t))
	a.login("alice")
	b := e.newBrowser(newECKey(t))
	b.login("alice")
	b.register()

	recs, err := e.store.ListSubject(context.Background(), "alice")
	if err != nil || len(recs) != 2 {
		t.Fatalf("ListSubject: %d, %v", len(recs), err)
	}
	bound := 0
	for _, rec := range recs {
		if bd, ok := dbsc.BindingOf(rec); ok {
			bound++
			if bd.ID != b.sessionID || bd.Algorithm != "ES256" || len(bd.Thumbprint) != 43 || !bd.Registered.Equal(e.clock.Now().Truncate(time.Second)) {
				t.Fatalf("binding %+v", bd)
			}
		}
	}
	if bound != 1 {
		t.Fatalf("%d bound sessions, want 1", bound)
	}
}

// TestConfig: contradictions are refused at New.
func TestConfig(t *testing.T) {
	mgr, _ := session.New(memstore.New(memstore.Options{}), session.Config{})
	insecure, _ := session.New(memstore.New(memstore.Options{}), session.Config{Cookie: session.Cookie{InsecureCookie: true}})
	for _, tc := range []struct {
		name string
		mgr  *session.Manager
		cfg  dbsc.Config
	}{
		{"short secret", mgr, dbsc.Config{Secret: []byte("short")}},
		{"relative path", mgr, dbsc.Config{RefreshPath: "refresh"}},
		{"path with a control character", mgr, dbsc.Config{RegistrationPath: "/a\x01b"}},
		{"__Host- without Secure", insecure, dbsc.Config{Cookie: dbsc.Cookie{Name: "__Host-x"}}},
		{"bad scope rule", mgr, dbsc.Config{Scope: dbsc.Scope{Rules: []dbsc.ScopeRule{{Type: "maybe"}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := dbsc.New(tc.mgr, tc.cfg); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
	b, err := dbsc.New(insecure, dbsc.Config{})
	if err != nil || b.Config().Cookie.Name != "dbsc" {
		t.Fatalf("insecure: %v, %+v", err, b.Config().Cookie)
	}
}
