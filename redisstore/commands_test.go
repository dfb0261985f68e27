package redisstore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/redisstore"
)

// cost is what one request costs in Redis.
type cost struct {
	trips  int // round trips the client made (a command alone, or a pipeline)
	client int // commands the client sent, those inside pipelines included
	server int // commands the server ran: those sent and those the scripts called
}

// TestCommandsPerRequest runs the requests of a visitor's life through a
// session.Manager and counts what each costs in Redis: round trips and
// commands sent, with a go-redis hook, and commands run by the server,
// scripts' own calls included, from INFO commandstats of a server that only
// this test uses. The counts are deterministic (no timing is asserted), and
// each is asserted as an upper bound, so that a change that adds a command
// to a request fails here.
//
// Before the commit script wrote over the old record and ran the index step
// itself, a login without a session ran 13 commands (3 scripts), one of an
// anonymous session 19, and a modifying request or a logout 6.
func TestCommandsPerRequest(t *testing.T) {
	srv := startServer(t)
	admin := ownClient(t, redis.NewClient(&redis.Options{Addr: srv.addr()}))
	client := ownClient(t, redis.NewClient(&redis.Options{Addr: srv.addr()}))
	hook := new(counter)
	client.AddHook(hook)

	var mu sync.Mutex
	clock := time.Now()
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); clock = clock.Add(d) }
	store := redisstore.New(client, redisstore.Options{Now: now})
	var storeOps []string
	mgr, err := session.New(store, session.Config{
		Now:       now,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnStoreOp: func(_ context.Context, op session.StoreOp) { storeOps = append(storeOps, op.Op) },
	})
	if err != nil {
		t.Fatal(err)
	}
	handler := mgr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var err error
		switch r.URL.Path {
		case "/put":
			err = session.Put(ctx, "cart", 1)
		case "/login":
			err = session.Login(ctx, "user-"+r.URL.Query().Get("u"))
		case "/read":
			_, err = session.Get[int](ctx, "cart")
		case "/incr":
			_, err = session.Update(ctx, "n", func(n int) (int, error) { return n + 1, nil })
		case "/logout":
			err = session.Logout(ctx)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))

	// do sends one request with cookie (nil for none) and returns the
	// session cookie it sets, or cookie again if it sets none.
	do := func(path string, cookie *http.Cookie) (*http.Cookie, error) {
		req := httptest.NewRequest("GET", "https://example.com"+path, nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		for _, c := range rec.Result().Cookies() {
			if c.Name == mgr.Config().Cookie.Name {
				return c, nil
			}
		}
		return cookie, nil
	}

	type request struct {
		name string
		path string
		from string // the cookie to send: the one named, or none
		keep string // the name under which to keep the cookie it sets
		max  cost
	}
	// The life of a visitor: an anonymous cart, a login, reads, a touch,
	// changes and a logout; and a login by a visitor without a session.
	requests := []request{
		{"anonymous first Put (create)", "/put", "", "anon", cost{1, 1, 4}},
		{"login of the anonymous session (renew)", "/login?u=a", "anon", "user", cost{3, 3, 13}},
		{"read-only", "/read", "user", "", cost{1, 1, 1}},
		{"read-only, touch due", "/read?touch", "user", "", cost{2, 2, 5}},
		{"modifying, logged in", "/incr", "user", "", cost{2, 2, 5}},
		{"logout", "/logout", "user", "", cost{2, 2, 5}},
		{"login without a session (create)", "/login?u=b", "", "", cost{1, 1, 8}},
	}
	run := func(measure bool) {
		cookies := map[string]*http.Cookie{}
		for _, r := range requests {
			if strings.HasSuffix(r.path, "?touch") {
				advance(mgr.Config().TouchInterval)
			}
			path, _, _ := strings.Cut(r.path, "?touch")
			resetStats(t, admin)
			storeOps = nil
			var got cost
			var sent string
			var cookie *http.Cookie
			var err error
			got.trips, sent = hook.measure(func() { cookie, err = do(path, cookies[r.from]) })
			if err != nil {
				t.Fatalf("%s: %v", r.name, err)
			}
			if r.keep != "" {
				cookies[r.keep] = cookie
			}
			if !measure {
				continue
			}
			got.client = len(strings.Fields(sent))
			server := serverCommands(t, admin)
			for _, n := range server {
				got.server += n
			}
			t.Logf("%-40s %d round trip(s), %d sent (%s), %d run: %s; store calls: %s",
				r.name, got.trips, got.client, sent, got.server, formatCounts(server), strings.Join(storeOps, " "))
			if got.trips > r.max.trips || got.client > r.max.client || got.server > r.max.server {
				t.Errorf("%s costs %d round trips, %d commands sent, %d run; want at most %d, %d, %d",
					r.name, got.trips, got.client, got.server, r.max.trips, r.max.client, r.max.server)
			}
		}
	}
	run(false) // puts the scripts in the server's cache
	run(true)

	// A server that lost its script cache costs one EVAL more, once: the
	// script is sent again only to the call that found it missing.
	cookie, err := do("/put", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.ScriptFlush(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{3, 2} {
		trips, sent := hook.measure(func() { _, err = do("/incr", cookie) })
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("modifying, script cache flushed, request %d: %d round trips: %s", i+1, trips, sent)
		if trips > want {
			t.Errorf("modifying request %d after SCRIPT FLUSH: %d round trips (%s); want at most %d", i+1, trips, sent, want)
		}
	}
}

// resetStats zeroes the server's command statistics.
func resetStats(t *testing.T, admin *redis.Client) {
	t.Helper()
	if err := admin.ConfigResetStat(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
}

// serverCommands returns the calls of each command since resetStats, from
// INFO commandstats, leaving out the admin client's own CONFIG and INFO.
func serverCommands(t *testing.T, admin *redis.Client) map[string]int {
	t.Helper()
	info, err := admin.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for line := range strings.Lines(info) {
		// cmdstat_hmget:calls=1,usec=2,...
		name, rest, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "cmdstat_"), ":calls=")
		if !ok {
			continue
		}
		if name == "info" || strings.HasPrefix(name, "config") {
			continue
		}
		calls, _, _ := strings.Cut(rest, ",")
		n, err := strconv.Atoi(calls)
		if err != nil {
			t.Fatalf("INFO commandstats: %q: %v", line, err)
		}
		counts[name] = n
	}
	return counts
}

func formatCounts(counts map[string]int) string {
	names := make([]string, 0, len(counts))
	for name := range counts {
		names = append(names, name)
	}
	slices.Sort(names)
	var b strings.Builder
	for i, name := range names {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s×%d", name, counts[name])
	}
	return b.String()
}
