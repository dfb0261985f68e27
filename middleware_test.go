package session_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

// routes is the application the tests drive over HTTP.
func routes() http.Handler {
	mux := http.NewServeMux()
	fail := func(w http.ResponseWriter, err error) { http.Error(w, err.Error(), http.StatusInternalServerError) }
	mux.HandleFunc("/untouched", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	mux.HandleFunc("/put", func(w http.ResponseWriter, r *http.Request) {
		if err := session.Put(r.Context(), r.FormValue("k"), r.FormValue("v")); err != nil {
			fail(w, err)
			return
		}
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		v, err := session.Get[string](r.Context(), r.FormValue("k"))
		if err != nil {
			fail(w, err)
			return
		}
		fmt.Fprint(w, v)
	})
	mux.HandleFunc("/incr", func(w http.ResponseWriter, r *http.Request) {
		n, err := session.Update(r.Context(), "n", func(n int) (int, error) { return n + 1, nil })
		if err != nil {
			fail(w, err)
			return
		}
		fmt.Fprint(w, n)
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if err := session.Login(r.Context(), r.FormValue("u")); err != nil {
			fail(w, err)
			return
		}
		if r.FormValue("remember") != "" {
			session.RememberMe(r.Context(), true)
		}
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("/renew", func(w http.ResponseWriter, r *http.Request) {
		if err := session.Renew(r.Context()); err != nil {
			fail(w, err)
		}
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		if err := session.Destroy(r.Context()); err != nil {
			fail(w, err)
		}
	})
	mux.HandleFunc("/info", func(w http.ResponseWriter, r *http.Request) {
		info, err := session.Info(r.Context())
		if err != nil {
			fail(w, err)
			return
		}
		json.NewEncoder(w).Encode(info)
	})
	return mux
}

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  session.Config
		want string // substring of the error; "" = valid
	}{
		{"zero value", session.Config{}, ""},
		{"host prefix without secure", session.Config{Cookie: session.Cookie{Name: "__Host-s", InsecureCookie: true}}, "__Host- cookie needs Secure"},
		{"host prefix with domain", session.Config{Cookie: session.Cookie{Domain: "example.com"}}, "Domain"},
		{"host prefix with path", session.Config{Cookie: session.Cookie{Name: "__Host-x", Path: "/app"}}, "Path=/"},
		{"secure prefix without secure", session.Config{Cookie: session.Cookie{Name: "__Secure-s", InsecureCookie: true}}, "__Secure-"},
		{"samesite none without secure", session.Config{Cookie: session.Cookie{Name: "s", SameSite: http.SameSiteNoneMode, InsecureCookie: true}}, "SameSite=None"},
		{"insecure dev cookie", session.Config{Cookie: session.Cookie{InsecureCookie: true}}, ""},
		{"bad cookie name", session.Config{Cookie: session.Cookie{Name: "a b"}}, "not a valid cookie name"},
		{"idle longer than absolute", session.Config{IdleTimeout: 2 * time.Hour, AbsoluteTimeout: time.Hour}, "longer than AbsoluteTimeout"},
		{"negative", session.Config{IdleTimeout: -time.Second}, "negative"},
		{"touch not shorter than idle", session.Config{IdleTimeout: time.Minute, TouchInterval: time.Minute}, "TouchInterval"},
		{"header transport", session.Config{Header: "Authorization"}, ""},
		{"bad header", session.Config{Header: "X Token"}, "not a valid header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := session.New(newMem(t), tc.cfg)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("New = %v; want no error", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("New = %v; want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := session.New(nil, session.Config{}); err == nil {
		t.Fatal("New(nil store) succeeded")
	}
}

func TestDefaults(t *testing.T) {
	m, err := session.New(newMem(t), session.Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := m.Config()
	if c.IdleTimeout != time.Hour || c.AbsoluteTimeout != 24*time.Hour || c.TouchInterval != time.Minute ||
		c.Cookie.Name != "__Host-session" || c.Cookie.Path != "/" || c.Cookie.SameSite != http.SameSiteLaxMode || c.Cookie.InsecureCookie {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestRoundTripAndCookie(t *testing.T) {
	e := newEnv(t, session.Config{}, routes())
	resp, _ := e.get("/put?k=color&v=blue")
	sc := resp.Header.Values("Set-Cookie")
	if len(sc) != 1 {
		t.Fatalf("Set-Cookie = %q; want one", sc)
	}
	for _, want := range []string{"__Host-session=", "Path=/", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(sc[0], want) {
			t.Errorf("cookie %q lacks %q", sc[0], want)
		}
	}
	for _, bad := range []string{"Max-Age", "Expires", "Domain"} {
		if strings.Contains(sc[0], bad) {
			t.Errorf("cookie %q has %s; a browser-session cookie must not", sc[0], bad)
		}
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q; want no-store", got)
	}
	if got := resp.Header.Get("Vary"); got != "Cookie" {
		t.Errorf("Vary = %q; want Cookie", got)
	}
	if len(e.token(e.client)) != 43 {
		t.Fatalf("token %q is not 43 characters", e.token(e.client))
	}
	if _, body := e.get("/get?k=color"); body != "blue" {
		t.Fatalf("get = %q; want blue", body)
	}
	// A read does not set the cookie again.
	if resp, _ := e.get("/get?k=color"); resp.Header.Get("Set-Cookie") != "" {
		t.Fatalf("a read set a cookie: %q", resp.Header.Get("Set-Cookie"))
	}
}

func TestLazy(t *testing.T) {
	e := newEnv(t, session.Config{}, routes())
	for _, path := range []string{"/untouched", "/get?k=x", "/info"} {
		resp, _ := e.get(path)
		if sc := resp.Header.Get("Set-Cookie"); sc != "" {
			t.Errorf("%s: a visitor without state got a cookie: %q", path, sc)
		}
	}
	if n := e.store.calls(); n != 0 {
		t.Fatalf("requests without a cookie made %d store calls; want 0", n)
	}
	e.get("/put?k=a&v=1")
	before := e.store.calls()
	e.get("/untouched")
	if n := e.store.calls() - before; n != 0 {
		t.Fatalf("a request that does not use its session made %d store calls; want 0", n)
	}
}

func TestMalformedTokens(t *testing.T) {
	e := newEnv(t, session.Config{}, routes())
	valid := strings.Repeat("A", 43)
	for _, tc := range []struct{ name, value string }{
		{"short", "abc"},
		{"long", strings.Repeat("A", 44)},
		{"bad alphabet", strings.Repeat("A", 42) + "+"},
		{"padding", strings.Repeat("A", 42) + "="},
		{"non-canonical", strings.Repeat("A", 42) + "B"},
		{"nul bytes", strings.Repeat("\x00", 43)},
		{"10 KB of junk", strings.Repeat("<script>", 1280)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.store.loads.Load()
			req := httptest.NewRequest("GET", "/get?k=a", nil)
			req.Header.Set("Cookie", "__Host-session="+tc.value)
			rec := httptest.NewRecorder()
			e.mgr.Handler(routes()).ServeHTTP(rec, req)
			resp, body := rec.Result(), rec.Body.String()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d; want 200 (anonymous)", resp.StatusCode)
			}
			if n := e.store.loads.Load() - before; n != 0 {
				t.Fatalf("malformed token cost %d store loads", n)
			}
			if strings.Contains(body, tc.value) || strings.Contains(strings.Join(resp.Header.Values("Set-Cookie"), ""), tc.value) {
				t.Fatal("malformed token reflected in the response")
			}
		})
	}
	// A well-formed token the server never issued is looked up, found
	// nowhere, and never adopted.
	resp, _ := e.withCookie("/put?k=a&v=1", "__Host-session="+valid)
	for _, sc := range resp.Header.Values("Set-Cookie") {
		if strings.Contains(sc, "="+valid) {
			t.Fatalf("an unknown token was adopted: %q", sc)
		}
	}
}

func TestIdleAndAbsoluteTimeout(t *testing.T) {
	e := newEnv(t, session.Config{}, routes())
	e.get("/put?k=a&v=1")
	// Activity every 50 minutes keeps the session alive past the idle
	// timeout, but not past the absolute lifetime.
	for i := 0; i < 28; i++ {
		e.clock.Advance(50 * time.Minute)
		_, body := e.get("/get?k=a")
		alive := time.Duration(i+1)*50*time.Minute < 24*time.Hour
		if got := body == "1"; got != alive {
			t.Fatalf("after %v of activity: alive=%v; want %v", time.Duration(i+1)*50*time.Minute, got, alive)
		}
		if !alive {
			break
		}
	}
	e2 := newEnv(t, session.Config{}, routes())
	e2.get("/put?k=a&v=1")
	e2.clock.Advance(time.Hour + time.Second)
	if _, body := e2.get("/get?k=a"); body != "" {
		t.Fatalf("session alive after an hour idle: %q", body)
	}
}

func TestLoginStartsNewAbsoluteWindow(t *testing.T) {
	e := newEnv(t, session.Config{}, routes())
	e.get("/put?k=a&v=1")
	keepAlive := func(d time.Duration) bool {
		for step := 50 * time.Minute; d > 0; d -= step {
			e.clock.Advance(min(step, d))
			if _, body := e.get("/get?k=a"); body != "1" {
				return false
			}
		}
		return true
	}
	if !keepAlive(20 * time.Hour) {
		t.Fatal("active session ended before its absolute deadline")
	}
	e.get("/login?u=alice")
	if !keepAlive(10 * time.Hour) { // 30 h after creation, 10 h after login
		t.Fatal("session ended within 24 h of login")
	}
	// Renewing alone does not move the window.
	e.get("/renew")
	if keepAlive(14*time.Hour + time.Minute) {
		t.Fatal("session outlived 24 h after login: renew extended the absolute lifetime")
	}
}

func TestTouchThrottle(t *testing.T) {
	e := newEnv(t, session.Config{}, routes())
	e.get("/put?k=a&v=1")
	writes := func() int64 { return e.store.commits.Load() + e.store.touches.Load() }
	before := writes()
	for range 20 {
		e.clock.Advance(2 * time.Second) // 40 s in all, under the 1 min interval
		e.get("/get?k=a")
	}
	if n := writes() - before; n != 0 {
		t.Fatalf("20 reads within the touch interval made %d writes; want 0", n)
	}
	e.clock.Advance(30 * time.Second)
	e.get("/get?k=a")
	e.get("/get?k=a")
	if n := writes() - before; n != 1 {
		t.Fatalf("reads after the touch interval made %d writes; want 1", n)
	}
	// The touch extended the idle deadline.
	e.clock.Advance(59 * time.Minute)
	if _, body := e.get("/get?k=a"); body != "1" {
		t.Fatal("touch did not extend the idle deadline")
	}
}

func TestRenew(t *testing.T) {
	e := newEnv(t, session.Config{}, routes())
	e.get("/put?k=cart&v=3+books")
	old := e.token(e.client)
	resp, _ := e.get("/login?u=alice")
	if resp.Header.Get("Set-Cookie") == "" {
		t.Fatal("login did not set a new cookie")
	}
	if e.token(e.client) == old {
		t.Fatal("login kept the token")
	}
	if _, body := e.get("/get?k=cart"); body != "3 books" {
		t.Fatalf("cart after login = %q", body)
	}
	_, body := e.withCookie("/get?k=cart", "__Host-session="+old)
	if body != "" {
		t.Fatalf("the old token still opens the session: %q", body)
	}
	_, body = e.get("/info")
	var info session.Metadata
	json.Unmarshal([]byte(body), &info)
	if info.Subject != "alice" || info.AuthTime.IsZero() {
		t.Fatalf("info after login = %+v", info)
	}
}

func TestDestroy(t *testing.T) {
	e := newEnv(t, session.Config{ClearSiteData: true}, routes())
	e.get("/login?u=alice")
	tok := e.token(e.client)
	resp, _ := e.get("/logout")
	sc := resp.Header.Get("Set-Cookie")
	if !strings.Contains(sc, "Max-Age=0") {
		t.Fatalf("logout cookie %q does not expire it", sc)
	}
	if got := resp.Header.Get("Clear-Site-Data"); got != `"cookies"` {
		t.Fatalf("Clear-Site-Data = %q", got)
	}
	if _, body := e.withCookie("/info", "__Host-session="+tok); !strings.Contains(body, `"Subject":""`) {
		t.Fatalf("destroyed session still loads: %s", body)
	}
	if n := e.liveRecords(); n != 0 {
		t.Fatalf("store holds %d live records after logout", n)
	}
}

func TestRememberMe(t *testing.T) {
	e := newEnv(t, session.Config{}, routes())
	resp, _ := e.get("/login?u=alice&remember=1")
	sc := resp.Header.Get("Set-Cookie")
	if !strings.Contains(sc, "Max-Age=2592000") {
		t.Fatalf("remember-me cookie %q; want Max-Age of 30 days", sc)
	}
	e.clock.Advance(3 * 24 * time.Hour)
	if _, body := e.get("/info"); !strings.Contains(body, `"Subject":"alice"`) {
		t.Fatal("remembered session ended within its 7-day idle timeout")
	}
}

func TestStoreFailureFailsClosed(t *testing.T) {
	e := newEnv(t, session.Config{}, routes())
	e.get("/put?k=a&v=1")
	e.store.fail.Store(true)
	for _, path := range []string{"/get?k=a", "/put?k=a&v=2", "/logout"} {
		resp, body := e.get(path)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("%s with the store down: %d %q; want 503", path, resp.StatusCode, body)
		}
		if strings.Contains(body, "ok") || resp.Header.Get("Set-Cookie") != "" {
			t.Fatalf("%s: the handler's response leaked through a failed commit", path)
		}
	}
	resp, _ := e.get("/untouched")
	if resp.StatusCode != http.StatusOK {
		t.Fatal("a request that does not use the session failed with the store down")
	}
	e.store.fail.Store(false)
	if _, body := e.get("/get?k=a"); body != "1" {
		t.Fatalf("after recovery get = %q; want 1 (nothing lost)", body)
	}
}

func TestCorruptRecordStartsFresh(t *testing.T) {
	e := newEnv(t, session.Config{}, routes())
	e.get("/put?k=a&v=1")
	id, _ := session.HashToken(e.token(e.client))
	var broken brokenStore
	broken.Store = e.store.Store
	broken.bad = id
	e.store.Store = &broken
	resp, body := e.get("/get?k=a")
	if resp.StatusCode != 200 || body != "" {
		t.Fatalf("corrupt record: %d %q; want 200 and a fresh session", resp.StatusCode, body)
	}
	if _, body := e.get("/put?k=a&v=2"); body != "ok" {
		t.Fatalf("put after corrupt record = %q", body)
	}
}

type brokenStore struct {
	session.Store
	bad string
}

func (b *brokenStore) Load(ctx context.Context, id string) (*session.Record, error) {
	if id == b.bad {
		return session.DecodeRecord(id, []byte{1, 2})
	}
	return b.Store.Load(ctx, id)
}

func TestChangeAfterResponseStarted(t *testing.T) {
	errc := make(chan error, 1)
	e := newEnv(t, session.Config{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "body first")
		errc <- session.Put(r.Context(), "late", 1)
	}))
	e.get("/")
	if err := <-errc; !errors.Is(err, session.ErrResponseStarted) {
		t.Fatalf("Put after the body = %v; want ErrResponseStarted", err)
	}
}

func TestResponseController(t *testing.T) {
	e := newEnv(t, session.Config{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.Put(r.Context(), "a", 1)
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush through the session writer: %v", err)
		}
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline through the session writer: %v", err)
		}
	}))
	resp, _ := e.get("/")
	if resp.Header.Get("Set-Cookie") == "" {
		t.Fatal("flush before any write did not commit the session first")
	}
}

func TestHeaderTransport(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		session.Login(r.Context(), "api-user")
		tok, err := session.Token(r.Context())
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"token": tok})
	})
	mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, session.Subject(r.Context())) })
	e := newEnv(t, session.Config{Header: "Authorization"}, mux)
	resp, body := e.get("/login")
	if resp.Header.Get("Set-Cookie") != "" {
		t.Fatal("header transport set a cookie")
	}
	var out struct{ Token string }
	json.Unmarshal([]byte(body), &out)
	req, _ := http.NewRequest("GET", e.srv.URL+"/me", nil)
	req.Header.Set("Authorization", "Bearer "+out.Token)
	r2, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 100)
	n, _ := r2.Body.Read(b)
	r2.Body.Close()
	if string(b[:n]) != "api-user" {
		t.Fatalf("/me with the bearer token = %q", b[:n])
	}
}

func TestUpdateIncrementsAllLand(t *testing.T) {
	e := newEnv(t, session.Config{}, routes())
	e.get("/incr")
	const clients, total = 50, 1000
	tok := e.token(e.client)
	var wg sync.WaitGroup
	var failed sync.Map
	per := (total - 1) / clients
	extra := (total - 1) % clients
	for i := range clients {
		n := per
		if i < extra {
			n++
		}
		wg.Go(func() {
			for range n {
				resp, body := e.withCookie("/incr", "__Host-session="+tok)
				if resp.StatusCode != 200 {
					failed.Store(body, true)
				}
			}
		})
	}
	wg.Wait()
	failed.Range(func(k, _ any) bool { t.Errorf("an increment failed: %v", k); return true })
	_, body := e.get("/incr")
	if got, _ := strconv.Atoi(body); got != total+1 {
		t.Fatalf("after %d concurrent increments the counter is %d; want %d", total, got-1, total)
	}
}

func TestParallelKeysAllLand(t *testing.T) {
	e := newEnv(t, session.Config{}, routes())
	e.get("/put?k=first&v=x")
	tok := e.token(e.client)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() { e.withCookie(fmt.Sprintf("/put?k=k%02d&v=%d", i, i), "__Host-session="+tok) })
	}
	wg.Wait()
	for i := range 20 {
		if _, body := e.get(fmt.Sprintf("/get?k=k%02d", i)); body != strconv.Itoa(i) {
			t.Errorf("key k%02d = %q; want %d", i, body, i)
		}
	}
}

// slowApp holds requests to /slow until released, after they changed the
// session.
func slowApp(loaded, release chan struct{}) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", routes())
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		session.Put(r.Context(), "slow", "written")
		loaded <- struct{}{}
		<-release
		fmt.Fprint(w, "done")
	})
	return mux
}

func TestSlowRequestCannotResurrectLoggedOutSession(t *testing.T) {
	loaded, release := make(chan struct{}), make(chan struct{})
	e := newEnv(t, session.Config{}, slowApp(loaded, release))
	e.get("/login?u=alice")
	tok := e.token(e.client)
	done := make(chan struct{})
	go func() { e.withCookie("/slow", "__Host-session="+tok); close(done) }()
	<-loaded
	e.get("/logout")
	close(release)
	<-done
	if _, body := e.withCookie("/info", "__Host-session="+tok); !strings.Contains(body, `"Subject":""`) {
		t.Fatalf("the slow request brought the session back: %s", body)
	}
	if n := e.liveRecords(); n != 0 {
		t.Fatalf("store holds %d live records after the race; want 0", n)
	}
}

// TestSlowRequestFollowsRenewal: a slower request of the same user that
// still holds the pre-renewal ID carries its change over to the new ID.
func TestSlowRequestFollowsRenewal(t *testing.T) {
	loaded, release := make(chan struct{}), make(chan struct{})
	e := newEnv(t, session.Config{}, slowApp(loaded, release))
	e.get("/login?u=alice")
	e.get("/put?k=cart&v=1")
	old := e.token(e.client)
	done := make(chan struct{})
	go func() { e.withCookie("/slow", "__Host-session="+old); close(done) }()
	<-loaded
	e.get("/renew")
	close(release)
	<-done
	if _, body := e.get("/get?k=slow"); body != "written" {
		t.Fatalf("the slow request's change did not reach the renewed session: %q", body)
	}
	if _, body := e.get("/get?k=cart"); body != "1" {
		t.Fatalf("cart after renew = %q", body)
	}
	if _, body := e.withCookie("/get?k=cart", "__Host-session="+old); body != "" {
		t.Fatalf("the renewed ID loads data: %q", body)
	}
}

// TestPlantedIDCannotWriteAfterLogin (bug 3 of the trust issue): an
// attacker plants an anonymous ID in the victim's browser and keeps a slow
// request open on it; the victim logs in with it. The attacker's change must
// not reach the victim's logged-in session, and the attacker learns that it
// was discarded (409), not that it landed.
func TestPlantedIDCannotWriteAfterLogin(t *testing.T) {
	loaded, release := make(chan struct{}), make(chan struct{})
	e := newEnv(t, session.Config{}, slowApp(loaded, release))
	e.get("/put?k=cart&v=1") // the attacker's own anonymous session...
	planted := e.token(e.client)
	status := make(chan int, 1)
	go func() { resp, _ := e.withCookie("/slow", "__Host-session="+planted); status <- resp.StatusCode }()
	<-loaded
	e.get("/login?u=victim") // ...now in the victim's browser, who logs in
	close(release)
	if got := <-status; got != http.StatusConflict {
		t.Errorf("the attacker's slow request answered %d; want 409", got)
	}
	if _, body := e.get("/info"); !strings.Contains(body, `"victim"`) {
		t.Fatalf("the victim is not logged in: %s", body)
	}
	if _, body := e.get("/get?k=slow"); body != "" {
		t.Fatalf("the attacker's write reached the victim's session: %q", body)
	}
	if _, body := e.get("/get?k=cart"); body != "1" {
		t.Fatalf("the cart did not survive the login: %q", body)
	}
}

func TestNoMiddleware(t *testing.T) {
	if err := session.Put(t.Context(), "a", 1); !errors.Is(err, session.ErrNoMiddleware) {
		t.Fatalf("Put without middleware = %v", err)
	}
}

func TestStringValues(t *testing.T) {
	e := newEnv(t, session.Config{}, routes())
	for _, v := range []string{"plain", `with "quotes"`, "tab\tand\nnewline", "ünïcödé ✓", `back\slash`, "", "<script>"} {
		e.get("/put?k=s&v=" + url.QueryEscape(v))
		if _, body := e.get("/get?k=s"); body != v {
			t.Errorf("Get after Put(%q) = %q", v, body)
		}
	}
}

// TestStoreHoldsOnlyTheHash: the store is keyed by the SHA-256 of the token
// and holds nothing that is the token, so a dump of it opens no session.
func TestStoreHoldsOnlyTheHash(t *testing.T) {
	e := newEnv(t, session.Config{}, routes())
	e.get("/login?u=alice")
	tok := e.token(e.client)
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) != 32 {
		t.Fatalf("token %q is not 32 bytes of base64url: %v", tok, err)
	}
	want := sha256.Sum256(raw)
	n := 0
	e.store.Store.(session.Iterator).Range(t.Context(), func(r *session.Record) bool {
		n++
		enc := string(session.EncodeRecord(nil, r))
		if strings.Contains(r.ID, tok) || strings.Contains(enc, tok) || strings.Contains(enc, string(raw)) {
			t.Errorf("record %s holds the token", r.ID)
		}
		if r.RenewedTo == "" && r.ID != hex.EncodeToString(want[:]) {
			t.Errorf("live record keyed %s; want the SHA-256 of the token", r.ID)
		}
		return true
	})
	if n == 0 {
		t.Fatal("no record in the store")
	}
}
