package main

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

// storeIDOf returns the store ID of the client's session cookie.
func storeIDOf(t *testing.T, c *client) (token, id string) {
	t.Helper()
	token = c.sessionCookie()
	id, ok := session.HashToken(token)
	if !ok {
		t.Fatalf("the session cookie %q is not a token", token)
	}
	return token, id
}

var activityRowRE = regexp.MustCompile(`<tr class="event kind-[a-z_]+" data-kind="([a-z_]+)">`)

// activityKindsOf lists the kinds of the activity page's rows, in order.
func activityKindsOf(body string) []string {
	var kinds []string
	for _, m := range activityRowRE.FindAllStringSubmatch(body, -1) {
		kinds = append(kinds, m[1])
	}
	return kinds
}

var chartCountRE = regexp.MustCompile(`(?s)<g class="row" data-kind="([a-z_]+)">.*?<text class="count"[^>]*>(\d+)</text>`)

// chartCounts reads the bar chart's counts.
func chartCounts(body string) map[string]string {
	out := map[string]string{}
	for _, m := range chartCountRE.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// TestActivityPage drives each kind of security event through HTTP and reads
// it back on the admin's activity page: newest first, with the hashed
// session ID, never a token.
func TestActivityPage(t *testing.T) {
	in := start(t, "-store", "memory:")
	wantRedirect(t, newClient(t, in.URL).get("/admin/activity"), "/login?next=%2Fadmin%2Factivity")

	alice := newClient(t, in.URL)
	alice.login("alice", "wonderland")
	aliceToken, _ := storeIDOf(t, alice)
	r := alice.get("/admin/activity")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "Security activity", `<svg class="chart"`, "Nothing yet.", "policy: reauth")

	// A client change: bob's cookie from another browser. With the default
	// policy (reauth) that request is served as a visitor.
	bob := newClient(t, in.URL)
	bob.login("bob", "builder")
	bobToken, bobID := storeIDOf(t, bob)
	thief := newClient(t, in.URL)
	thief.ua = "curl/8.5.0"
	u, _ := url.Parse(in.URL)
	thief.jar.SetCookies(u, []*http.Cookie{{Name: "__Host-session", Value: bobToken, Path: "/"}})
	wantNoBody(t, thief.get("/account/sessions"), "Signed in as bob")

	// A CSRF refusal: a form without its token.
	bob2 := newClient(t, in.URL)
	bob2.login("bob", "builder")
	_, bob2ID := storeIDOf(t, bob2)
	wantStatus(t, bob2.get("/admin/activity"), http.StatusForbidden) // customers may not see it
	wantStatus(t, bob2.post("/cart/add", url.Values{"product": {"tea"}, "csrf_token": {""}}), http.StatusForbidden)

	// A rate limit: bob's password guessed from a third client.
	guesser := newClient(t, in.URL)
	guesser.get("/login")
	for i := range 7 {
		guesser.post("/login", url.Values{"username": {"bob"}, "password": {fmt.Sprint("guess", i)}})
	}

	// An admin's revocation of every session of bob.
	wantRedirect(t, alice.post("/admin/sessions/revoke", url.Values{"user": {"bob"}}), "/admin/sessions")

	r = alice.get("/admin/activity")
	wantStatus(t, r, http.StatusOK)
	kinds := strings.Join(activityKindsOf(r.Body), " ")
	// Newest first: the admin's revocation (bob2's session; the first one
	// was logged out in place by the client change and counts as revoked
	// then), the rate limit (one row for the burst), the CSRF refusal, the
	// reauth's revocation and the client change.
	if want := "revoked rate_limit csrf revoked client_change"; kinds != want {
		t.Errorf("activity rows: %q, want %q\n%s", kinds, want, r.Body)
	}
	wantBody(t, r, "Client changed", "curl 8", "Rate limit hit", "and 1 more within a minute", "Form refused (CSRF)",
		"by alice", bobID[:12], bob2ID[:12])
	counts := chartCounts(r.Body)
	for kind, want := range map[string]string{"client_change": "1", "csrf": "1", "rate_limit": "2", "revoked": "2", "evicted": "0"} {
		if counts[kind] != want {
			t.Errorf("chart: %s = %q, want %s (all: %v)", kind, counts[kind], want, counts)
		}
	}
	for _, token := range []string{aliceToken, bobToken} {
		if strings.Contains(r.Body, token) {
			t.Errorf("the activity page shows a session token")
		}
	}
	wantNoBody(t, r, "<script")
	checkLogs(t, in, aliceToken, bobToken)
}

// TestClientChangePolicies runs a client change under each -client-change.
func TestClientChangePolicies(t *testing.T) {
	for _, tc := range []struct {
		name       string
		policy     string
		thiefSees  bool // the changed client is still signed in
		ownerKeeps bool // the browser that signed in is still signed in
	}{
		{"log", "log", true, true},
		{"reauth", "reauth", false, false},
		{"destroy", "destroy", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := start(t, "-store", "memory:", "-client-change", tc.policy)
			owner := newClient(t, in.URL)
			owner.addToCart("mug")
			owner.login("bob", "builder")
			thief := newClient(t, in.URL)
			thief.ua = "curl/8.5.0"
			u, _ := url.Parse(in.URL)
			thief.jar.SetCookies(u, []*http.Cookie{{Name: "__Host-session", Value: owner.sessionCookie(), Path: "/"}})
			if got := strings.Contains(thief.get("/").Body, "Signed in as bob"); got != tc.thiefSees {
				t.Errorf("changed client signed in: %v, want %v", got, tc.thiefSees)
			}
			r := owner.get("/cart")
			if got := strings.Contains(r.Body, "Signed in as bob"); got != tc.ownerKeeps {
				t.Errorf("owner still signed in: %v, want %v", got, tc.ownerKeeps)
			}
			if tc.policy == "reauth" && owner.cartOf()["mug"] != "1" {
				t.Errorf("reauth: the owner lost the cart: %v", owner.cartOf())
			}
			if !strings.Contains(in.stderr.String(), "event=client_changed") {
				t.Errorf("no client_changed event in the log")
			}
		})
	}
}

// TestActivityLog checks the ring's bounds and order, the folding of
// repeats and the hour's counts, on a fixed clock.
func TestActivityLog(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	l := newActivityLog(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	l.record(activityEvent{Kind: actCSRF, Client: "a"})
	l.record(activityEvent{Kind: actCSRF, Client: "a"}) // folded into the first
	l.record(activityEvent{Kind: actCSRF, Client: "b"})
	got := l.Recent()
	if len(got) != 2 || got[0].Client != "b" || got[1].Client != "a" || got[1].Repeats != 1 {
		t.Fatalf("Recent: %+v, want b then a with one repeat", got)
	}
	advance(2 * time.Minute)
	l.record(activityEvent{Kind: actCSRF, Client: "b"}) // too late to fold
	if n := len(l.Recent()); n != 3 {
		t.Errorf("%d entries, want 3", n)
	}
	if c := l.Counts(); c[actCSRF] != 4 {
		t.Errorf("Counts: %v, want 4 csrf", c)
	}
	for i := range maxActivity + 50 {
		l.record(activityEvent{Kind: actRevoked, Session: fmt.Sprint(i)})
	}
	got = l.Recent()
	if len(got) != maxActivity || got[0].Session != fmt.Sprint(maxActivity+49) {
		t.Errorf("after overflow: %d entries, newest %q", len(got), got[0].Session)
	}
	if c := l.Counts(); c[actRevoked] != maxActivity+50 || c[actCSRF] != 4 {
		t.Errorf("Counts count what the ring dropped too: %v", c)
	}
	advance(59 * time.Minute) // the first minute's entries are 61 minutes old
	if c := l.Counts(); c[actCSRF] != 1 || c[actRevoked] != maxActivity+50 {
		t.Errorf("Counts after an hour: %v, want 1 csrf and %d revoked", c, maxActivity+50)
	}
	advance(time.Hour)
	if c := l.Counts(); len(c) != 0 {
		t.Errorf("Counts two hours later: %v, want none", c)
	}
}

func TestActivityChart(t *testing.T) {
	c := newActivityChart(map[activityKind]int{actCSRF: 1000, actEvicted: 1})
	for _, r := range c.Rows {
		switch r.Kind {
		case actCSRF:
			if r.Width != chartBarWidth {
				t.Errorf("the largest bar is %d wide, want %d", r.Width, chartBarWidth)
			}
		case actEvicted:
			if r.Width != 2 {
				t.Errorf("a count of 1 in 1000 is %d wide, want the minimum 2", r.Width)
			}
		default:
			if r.Width != 0 || r.Count != 0 {
				t.Errorf("%s: count %d width %d, want none", r.Kind, r.Count, r.Width)
			}
		}
	}
	if len(c.Rows) != len(activityKinds) {
		t.Errorf("%d rows, want one per kind", len(c.Rows))
	}
}
