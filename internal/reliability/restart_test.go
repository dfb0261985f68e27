package reliability

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/pgstore"
	"github.com/sessionkit/session/sqlitestore"
)

// TestRestartKeepsSessions commits sessions through one application, shuts
// it down (server, store, pool), starts a new one on the same database, and
// checks that the same cookies open the same sessions: subject, cart,
// counter, creation and login times; that a session logged out before the
// restart stays gone; and that the sessions keep working afterwards.
func TestRestartKeepsSessions(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "sessions.db")
		testRestart(t, func(t *testing.T) (session.Store, func()) {
			s, err := sqlitestore.Open(context.Background(), path, sqlitestore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s, func() {
				if err := s.Close(); err != nil {
					t.Errorf("sqlitestore Close: %v", err)
				}
			}
		})
	})
	t.Run("postgres", func(t *testing.T) {
		table := uniqueTable(t)
		app := "reliability_restart_" + randomHex(4)
		testRestart(t, func(t *testing.T) (session.Store, func()) {
			pool := openPool(t, app, 4)
			s, err := pgstore.New(context.Background(), pool, pgstore.Options{Table: table})
			if err != nil {
				t.Fatal(err)
			}
			return s, func() { s.Close(); pool.Close() }
		})
	})
}

func testRestart(t *testing.T, open func(t *testing.T) (session.Store, func())) {
	baseline := goroutines()
	tr := newTransport()
	alice, bob, carol := newBrowser(t, tr), newBrowser(t, tr), newBrowser(t, tr)

	// The first run of the application.
	store, closeStore := open(t)
	a := serve(t, newManager(t, store, newObserver()), requestTimeout)
	alice.must(http.MethodPost, a.URL+"/cart?item=apple") // anonymous first: the cart survives the login
	alice.must(http.MethodPost, a.URL+"/login?user=alice")
	alice.must(http.MethodPost, a.URL+"/cart?item=pear")
	for range 3 {
		alice.must(http.MethodPost, a.URL+"/incr")
	}
	bob.must(http.MethodPost, a.URL+"/cart?item=banana")
	carol.must(http.MethodPost, a.URL+"/login?user=carol")
	carolCookie := carol.cookie(a.URL)
	carol.must(http.MethodPost, a.URL+"/logout")
	wantAlice, wantBob := alice.whoami(a.URL), bob.whoami(a.URL)
	aliceCookie, bobCookie := alice.cookie(a.URL), bob.cookie(a.URL)
	if wantAlice.Subject != "alice" || !slices.Equal(wantAlice.Cart, []string{"apple", "pear"}) || wantBob.Subject != "" || !slices.Equal(wantBob.Cart, []string{"banana"}) {
		t.Fatalf("before the restart: alice %+v, bob %+v", wantAlice, wantBob)
	}

	// Shut it all down.
	tr.CloseIdleConnections()
	a.Close()
	closeStore()
	down := time.Now()

	// The second run, on the same database, on another port: the browsers'
	// cookies are kept by host, whatever the port.
	store, closeStore = open(t)
	a = serve(t, newManager(t, store, newObserver()), requestTimeout)
	t.Logf("application down for %v", time.Since(down).Round(time.Millisecond))
	gotAlice, gotBob := alice.whoami(a.URL), bob.whoami(a.URL)
	if !equalWhoami(gotAlice, wantAlice) {
		t.Errorf("alice after the restart: %+v; want %+v", gotAlice, wantAlice)
	}
	if !equalWhoami(gotBob, wantBob) {
		t.Errorf("bob after the restart: %+v; want %+v", gotBob, wantBob)
	}
	if n := alice.must(http.MethodGet, a.URL+"/read"); n != "3" {
		t.Errorf("alice's counter after the restart: %s; want 3", n)
	}
	if alice.cookie(a.URL) != aliceCookie || bob.cookie(a.URL) != bobCookie {
		t.Error("the session cookies changed across the restart")
	}
	// Carol logged out before the restart: her old cookie opens nothing.
	replay := newBrowser(t, tr)
	replay.jar.SetCookies(mustURL(t, a.URL), []*http.Cookie{{Name: "session", Value: carolCookie, Path: "/"}})
	if w := replay.whoami(a.URL); !w.New || w.Subject != "" {
		t.Errorf("carol's cookie, logged out before the restart, opens %+v", w)
	}
	// The sessions keep working.
	alice.must(http.MethodPost, a.URL+"/cart?item=plum")
	if w := alice.whoami(a.URL); !slices.Equal(w.Cart, []string{"apple", "pear", "plum"}) || w.Subject != "alice" {
		t.Errorf("alice after a change following the restart: %+v", w)
	}
	t.Logf("alice (%s, cart %v) and bob (anonymous, cart %v) came back with the same cookies; carol's logged-out cookie stayed dead",
		gotAlice.Subject, gotAlice.Cart, gotBob.Cart)

	tr.CloseIdleConnections()
	a.Close()
	closeStore()
	checkLeaks(t, baseline)
}

func equalWhoami(a, b whoami) bool {
	return a.Subject == b.Subject && slices.Equal(a.Cart, b.Cart) && a.New == b.New && a.Created == b.Created && a.AuthTime == b.AuthTime
}
