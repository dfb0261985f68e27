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

var _ = context.Background
