package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/session/internal/testenv"
	"github.com/sessionkit/session/storeurl"
)

// TestRestartSQLite stops the app and starts it again on the same SQLite
// file and port: the browser is still signed in, with its cart and
// preferences.
func TestRestartSQLite(t *testing.T) {
	store := sqliteURL(t)
	first := start(t, "-store", store)
	c := newClient(t, first.URL)
	c.addToCart("mug")
	c.addToCart("mug")
	c.post("/preferences", url.Values{"theme": {"dark"}, "lang": {"de"}})
	c.login("bob", "builder")
	if err := first.stop(); err != nil {
		t.Fatalf("first run: %v", err)
	}
	if !strings.Contains(first.stderr.String(), "msg=stopped") {
		t.Errorf("no clean shutdown in the log:\n%s", first.stderr)
	}

	second := start(t, "-store", store, "-addr", first.Addr)
	c = c.at(second.URL)
	r := c.get("/cart")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "Angemeldet als bob", `<html lang="de" class="theme-dark">`)
	if got := c.cartOf(); fmt.Sprint(got) != "map[mug:2]" {
		t.Errorf("cart after restart: %v, want mug:2", got)
	}
	// The session still works for changes.
	c.addToCart("tea")
	if got := c.cartOf(); fmt.Sprint(got) != "map[mug:2 tea:1]" {
		t.Errorf("cart: %v", got)
	}
}

// TestRedisTwoInstances runs two app instances on one Redis: a session
// made on one is used and changed on the other, logout on one ends it on
// both, and login attempts are counted across both.
func TestRedisTwoInstances(t *testing.T) {
	storeURL := redisURL(t)
	a := start(t, "-store", storeURL)
	b := start(t, "-store", storeURL)

	onA := newClient(t, a.URL)
	onA.addToCart("tea")
	onA.login("alice", "wonderland")
	onB := onA.at(b.URL)
	r := onB.get("/cart")
	wantBody(t, r, "Signed in as alice")
	if got := onB.cartOf(); fmt.Sprint(got) != "map[tea:1]" {
		t.Fatalf("cart on B: %v, want tea:1", got)
	}
	onB.addToCart("pen")
	onB.post("/preferences", url.Values{"theme": {"dark"}, "lang": {"fr"}})
	if got := onA.cartOf(); fmt.Sprint(got) != "map[pen:1 tea:1]" {
		t.Errorf("cart on A after a change on B: %v", got)
	}
	wantBody(t, onA.get("/"), `<html lang="fr" class="theme-dark">`)
	// The CSRF token of a page from A is good on B: it is in the session.
	onA.get("/cart")
	onB.token = onA.token
	wantStatus(t, onB.post("/cart/remove", url.Values{"product": {"tea"}}), http.StatusSeeOther)
	if got := onA.cartOf(); fmt.Sprint(got) != "map[pen:1]" {
		t.Errorf("cart on A after a removal on B: %v", got)
	}
	// Both instances list the same devices.
	other := newClient(t, b.URL)
	other.login("alice", "wonderland")
	for _, c := range []*client{onA, onB} {
		if n := strings.Count(c.get("/account/sessions").Body, `<tr class="device`); n != 2 {
			t.Errorf("%s lists %d of alice's sessions, want 2", c.base, n)
		}
	}
	// Logout on B ends the session on A.
	onB.get("/")
	wantStatus(t, onB.post("/logout", nil), http.StatusSeeOther)
	wantNoBody(t, onA.get("/"), "Signed in as")

	// Five failed logins spread over both instances, then both refuse.
	user := fmt.Sprintf("nobody-%d", time.Now().UnixNano())
	for i := range 5 {
		c := onA
		if i%2 == 1 {
			c = onB
		}
		c.get("/login")
		wantStatus(t, c.post("/login", url.Values{"username": {user}, "password": {"x"}}), http.StatusUnprocessableEntity)
	}
	for _, c := range []*client{onA, onB} {
		c.get("/login")
		r := c.post("/login", url.Values{"username": {user}, "password": {"x"}})
		wantStatus(t, r, http.StatusTooManyRequests)
		if r.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}

	// Healthz checks the shared store.
	wantStatus(t, newClient(t, b.URL).get("/healthz"), http.StatusOK)
}

// redisURL returns the test Redis with database 13, which these tests use,
// and clears what earlier runs left there: sessions (alice's devices would
// pile up) and rate-limit counts (every run comes from 127.0.0.1).
func redisURL(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(testenv.Get(testenv.Redis))
	if err != nil {
		t.Fatalf("%s: %v", testenv.Redis, err)
	}
	u.Path = "/13"
	opts, err := redis.ParseURL(u.String())
	if err != nil {
		t.Fatalf("%s: %v", testenv.Redis, err)
	}
	client := redis.NewClient(opts)
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		testenv.Unreachable(t, testenv.Redis, err)
	}
	clear := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, pattern := range []string{"session:*", "sessiondemo:ratelimit:*"} {
			iter := client.Scan(ctx, 0, pattern, 1000).Iterator()
			for iter.Next(ctx) {
				client.Del(ctx, iter.Val())
			}
			if err := iter.Err(); err != nil {
				t.Fatalf("clearing %s in %s: %v", pattern, u, err)
			}
		}
	}
	clear()
	return u.String()
}

// TestRecentAuth: "sign out all other devices" needs a recent login; an
// older one is sent to the login page, and comes back to the devices page.
func TestRecentAuth(t *testing.T) {
	in := start(t, "-store", "memory:", "-recent-auth", "1ms")
	c := newClient(t, in.URL)
	other := newClient(t, in.URL)
	c.login("alice", "wonderland")
	other.login("alice", "wonderland")
	time.Sleep(5 * time.Millisecond)
	c.get("/account/sessions")
	r := c.post("/account/sessions/revoke-others", nil)
	wantRedirect(t, r, "/login?next=%2Faccount%2Fsessions")
	r = c.follow(r)
	wantBody(t, r, "This action needs a recent sign-in.", `name="next" value="/account/sessions"`)
	wantBody(t, other.get("/"), "Signed in as alice")
}

// TestIdleTimeout: a session unused for longer than -idle-timeout is gone.
func TestIdleTimeout(t *testing.T) {
	in := start(t, "-store", "memory:", "-idle-timeout", "300ms", "-absolute-timeout", "1h")
	c := newClient(t, in.URL)
	c.login("bob", "builder")
	c.addToCart("tea")
	time.Sleep(100 * time.Millisecond)
	wantBody(t, c.get("/"), "Signed in as bob") // activity moves the idle deadline
	time.Sleep(450 * time.Millisecond)
	r := c.get("/cart")
	wantNoBody(t, r, "Signed in as bob")
	wantBody(t, r, "Your cart is empty.")
}

// TestInsecureCookie: -insecure-cookie drops Secure, and with it the
// __Host- prefix, which browsers refuse without Secure.
func TestInsecureCookie(t *testing.T) {
	for _, insecure := range []bool{false, true} {
		args := []string{"-store", "memory:"}
		if insecure {
			args = append(args, "-insecure-cookie")
		}
		in := start(t, args...)
		c := newClient(t, in.URL)
		c.get("/")
		r := c.post("/cart/add", url.Values{"product": {"tea"}})
		var found *http.Cookie
		for _, ck := range r.Cookies() {
			found = ck
		}
		switch {
		case found == nil:
			t.Fatal("no cookie")
		case insecure && (found.Name != "session" || found.Secure):
			t.Errorf("-insecure-cookie: cookie %s Secure=%v, want session without Secure", found.Name, found.Secure)
		case !insecure && (found.Name != "__Host-session" || !found.Secure):
			t.Errorf("default: cookie %s Secure=%v, want __Host-session with Secure", found.Name, found.Secure)
		}
		if r.Header.Get("Cache-Control") != "no-store" || !strings.Contains(r.Header.Get("Vary"), "Cookie") {
			t.Errorf("cookie response: Cache-Control %q, Vary %q", r.Header.Get("Cache-Control"), r.Header.Get("Vary"))
		}
	}
}

// TestServerStores runs the main path on the other stores the -store flag
// takes: PostgreSQL, MySQL and memcached. They share the test servers with
// other tests, so this checks what does not depend on what else is stored.
func TestServerStores(t *testing.T) {
	tests := []struct {
		name     string
		variable string
		url      func(string) string
		indexed  bool // has a subject index: the devices page works
	}{
		{"postgres", testenv.Postgres, func(v string) string { return v }, true},
		{"mysql", testenv.MySQL, mysqlURL, true},
		{"memcached", testenv.Memcached, func(v string) string { return "memcached://" + v }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storeURL := tt.url(testenv.Get(tt.variable))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			store, err := storeurl.Open(ctx, storeURL)
			if err != nil {
				testenv.Unreachable(t, tt.variable, err)
			}
			store.(io.Closer).Close()
			in := start(t, "-store", storeURL)
			c := newClient(t, in.URL)
			c.addToCart("pen")
			r := c.login("alice", "wonderland")
			wantBody(t, r, `id="cart-count">1<`)
			r = c.get("/account/sessions")
			wantStatus(t, r, http.StatusOK)
			if tt.indexed {
				wantBody(t, r, `<tr class="device current"`)
			} else {
				wantBody(t, r, "This session store cannot list sessions by user.")
			}
			wantStatus(t, newClient(t, in.URL).get("/healthz"), http.StatusOK)
			c.get("/")
			wantStatus(t, c.post("/logout", nil), http.StatusSeeOther)
			wantNoBody(t, c.get("/"), "Signed in as")
		})
	}
}

// mysqlURL turns the driver DSN of SESSION_TEST_MYSQL
// (root@tcp(127.0.0.1:3306)/test?parseTime=true) into a store URL.
func mysqlURL(dsn string) string {
	if strings.HasPrefix(dsn, "mysql://") {
		return dsn
	}
	user, rest, _ := strings.Cut(dsn, "@")
	rest = strings.TrimPrefix(rest, "tcp(")
	addr, rest, _ := strings.Cut(rest, ")")
	db, _, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "?")
	return "mysql://" + user + "@" + addr + "/" + db
}
