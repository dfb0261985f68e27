package bench_test

// In-process comparison of the request paths: the same four handlers on each
// library, driven through ServeHTTP with one reused request and a
// ResponseWriter that keeps nothing, so the figures are the libraries' own
// cost. Run:
//
//	go test -run '^$' -bench 'Untouched|Read|Modify|Login' -benchmem -count 5
//
// Every library runs with its documented defaults (sessionkit's zero Config;
// scs.New(); sessions.NewCookieStore with an authentication and an encryption
// key, so the client can read no more of its session than with a server-side
// store). "lib=scs-idle" is scs with IdleTimeout set, which sessionkit always
// has (1 h): scs then rewrites the session on every request.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	scsmem "github.com/alexedwards/scs/v2/memstore"
	"github.com/gorilla/sessions"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
)

// discard is a ResponseWriter that keeps nothing (as in the library's
// alloc_test.go), so allocation counts measure the session layer.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// libs are the stacks compared, in table order.
var libs = []string{"bare", "sessionkit", "scs", "scs-idle", "gorilla"}

// subjects are the users that log in, in turn: a login handler writes one of
// them, the same in every library.
var subjects = func() []string {
	s := make([]string, 1000)
	for i := range s {
		s[i] = fmt.Sprintf("user%03d", i)
	}
	return s
}()

// stack is one library's handlers for the benchmarked requests. err records
// the first failure a handler saw; benchmarks check it after the loop.
type stack struct {
	untouched, read, modify, login, seed http.Handler
	// readLoggedIn and seedLoggedIn are the realistic read: a logged-in
	// session holding a user id and a counter, read with Has then an int64.
	readLoggedIn, seedLoggedIn http.Handler
	close                      func()
	err                        error
	user                       string // the last value read
	n                          int    // the login counter
	bare                       bool
}

func (s *stack) fail(err error) {
	if err != nil && s.err == nil {
		s.err = err
	}
}

func noContent(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }

// Cookie store keys: authentication (HMAC-SHA256) and encryption (AES-256).
var (
	gorillaHashKey  = []byte("0123456789abcdef0123456789abcdef")
	gorillaBlockKey = []byte("fedcba9876543210fedcba9876543210")
)

func newStack(tb testing.TB, lib string) *stack {
	s := &stack{close: func() {}}
	bare := http.HandlerFunc(noContent)
	switch lib {
	case "bare":
		s.bare = true
		s.untouched, s.read, s.modify, s.login, s.seed = bare, bare, bare, bare, bare
		s.readLoggedIn, s.seedLoggedIn = bare, bare

	case "sessionkit":
		store := memstore.New(memstore.Options{})
		m, err := session.New(store, session.Config{})
		if err != nil {
			tb.Fatal(err)
		}
		s.close = func() { store.Close() }
		s.untouched = m.Handler(bare)
		s.read = m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, err := session.Get[string](r.Context(), "user")
			s.fail(err)
			s.user = u
			w.WriteHeader(http.StatusNoContent)
		}))
		s.modify = m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, err := session.Update(r.Context(), "n", func(n int) (int, error) { return n + 1, nil })
			s.fail(err)
			w.WriteHeader(http.StatusNoContent)
		}))
		s.login = m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			user := subjects[s.n%len(subjects)]
			s.n++
			s.fail(session.Login(r.Context(), user))
			s.fail(session.Put(r.Context(), "user", user))
			w.WriteHeader(http.StatusNoContent)
		}))
		s.seed = m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.fail(session.Put(r.Context(), "user", "alice"))
			s.fail(session.Put(r.Context(), "n", 0))
			w.WriteHeader(http.StatusNoContent)
		}))
		s.seedLoggedIn = m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.fail(session.Login(r.Context(), "alice"))
			s.fail(session.Put(r.Context(), "uid", int64(4711)))
			s.fail(session.Put(r.Context(), "n", int64(7)))
			w.WriteHeader(http.StatusNoContent)
		}))
		s.readLoggedIn = m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !session.Has(r.Context(), "uid") {
				s.fail(fmt.Errorf("no uid"))
			}
			n, err := session.Get[int64](r.Context(), "n")
			s.fail(err)
			s.n = int(n)
			w.WriteHeader(http.StatusNoContent)
		}))

	case "scs", "scs-idle":
		sm := scs.New()
		if lib == "scs-idle" {
			sm.IdleTimeout = time.Hour
		}
		sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
			s.fail(err)
			w.WriteHeader(http.StatusInternalServerError)
		}
		s.close = func() { sm.Store.(*scsmem.MemStore).StopCleanup() }
		s.untouched = sm.LoadAndSave(bare)
		s.read = sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.user = sm.GetString(r.Context(), "user")
			w.WriteHeader(http.StatusNoContent)
		}))
		s.modify = sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := sm.GetInt(r.Context(), "n")
			sm.Put(r.Context(), "n", n+1)
			w.WriteHeader(http.StatusNoContent)
		}))
		s.login = sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			user := subjects[s.n%len(subjects)]
			s.n++
			s.fail(sm.RenewToken(r.Context()))
			sm.Put(r.Context(), "user", user)
			w.WriteHeader(http.StatusNoContent)
		}))
		s.seed = sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sm.Put(r.Context(), "user", "alice")
			sm.Put(r.Context(), "n", 0)
			w.WriteHeader(http.StatusNoContent)
		}))
		s.seedLoggedIn = sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.fail(sm.RenewToken(r.Context()))
			sm.Put(r.Context(), "uid", int64(4711))
			sm.Put(r.Context(), "n", int64(7))
			w.WriteHeader(http.StatusNoContent)
		}))
		s.readLoggedIn = sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !sm.Exists(r.Context(), "uid") {
				s.fail(fmt.Errorf("no uid"))
			}
			s.n = int(sm.GetInt64(r.Context(), "n"))
			w.WriteHeader(http.StatusNoContent)
		}))

	case "gorilla":
		// gorilla/sessions has no middleware: a handler that does not touch
		// the session is the bare handler.
		store := sessions.NewCookieStore(gorillaHashKey, gorillaBlockKey)
		const name = "session"
		s.untouched = bare
		s.read = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sess, err := store.Get(r, name)
			s.fail(err)
			s.user, _ = sess.Values["user"].(string)
			w.WriteHeader(http.StatusNoContent)
		})
		s.modify = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sess, err := store.Get(r, name)
			s.fail(err)
			n, _ := sess.Values["n"].(int)
			sess.Values["n"] = n + 1
			s.fail(sess.Save(r, w))
			w.WriteHeader(http.StatusNoContent)
		})
		s.login = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			user := subjects[s.n%len(subjects)]
			s.n++
			sess, err := store.Get(r, name)
			s.fail(err)
			sess.Values["user"] = user
			s.fail(sess.Save(r, w))
			w.WriteHeader(http.StatusNoContent)
		})
		s.seed = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sess, err := store.Get(r, name)
			s.fail(err)
			sess.Values["user"] = "alice"
			sess.Values["n"] = 0
			s.fail(sess.Save(r, w))
			w.WriteHeader(http.StatusNoContent)
		})
		s.seedLoggedIn = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sess, err := store.Get(r, name)
			s.fail(err)
			sess.Values["uid"] = int64(4711)
			sess.Values["n"] = int64(7)
			s.fail(sess.Save(r, w))
			w.WriteHeader(http.StatusNoContent)
		})
		s.readLoggedIn = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sess, err := store.Get(r, name)
			s.fail(err)
			if _, ok := sess.Values["uid"]; !ok {
				s.fail(fmt.Errorf("no uid"))
			}
			n, _ := sess.Values["n"].(int64)
			s.n = int(n)
			w.WriteHeader(http.StatusNoContent)
		})

	default:
		tb.Fatalf("unknown lib %q", lib)
	}
	return s
}

// newCookie runs h once for a visitor without a session and returns the
// Cookie header that carries the session it created ("" for the bare stack).
func newCookie(tb testing.TB, h http.Handler, cookie string) string {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	h.ServeHTTP(rec, req)
	cs := rec.Result().Cookies()
	if len(cs) == 0 {
		return ""
	}
	return cs[0].Name + "=" + cs[0].Value
}

// serve runs h b.N times on one request. The request is restored before each
// run: gorilla/sessions stores its registry by overwriting *r.
func serve(b *testing.B, h http.Handler, req *http.Request) {
	w := &discard{h: http.Header{}}
	tmpl := *req
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		*req = tmpl
		clear(w.h)
		h.ServeHTTP(w, req)
	}
	reportCPU(b, cpu)
}

// reportCPU adds cpu-ns/op: the process's CPU time per iteration since
// start (see cpuTime). On a shared machine it is steadier than the
// wall-clock ns/op, which also counts the time other processes held the CPU.
func reportCPU(b *testing.B, start time.Duration) {
	if end := cpuTime(); end > 0 {
		b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
	}
}

func request(cookie string) *http.Request {
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("User-Agent", chromeUA)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	return req
}

const chromeUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

func eachLib(b *testing.B, fn func(b *testing.B, s *stack)) {
	for _, lib := range libs {
		b.Run("lib="+lib, func(b *testing.B) {
			s := newStack(b, lib)
			defer s.close()
			fn(b, s)
			if s.err != nil {
				b.Fatalf("%s: %v", lib, s.err)
			}
		})
	}
}

// BenchmarkUntouched: a request from a visitor without a session that does
// not use the session (a health check, an asset, a first visit).
func BenchmarkUntouched(b *testing.B) {
	eachLib(b, func(b *testing.B, s *stack) {
		serve(b, s.untouched, request(""))
	})
}

// BenchmarkUntouchedCookie: the same, from a visitor who has a live session
// (browsers send the cookie with every request).
func BenchmarkUntouchedCookie(b *testing.B) {
	eachLib(b, func(b *testing.B, s *stack) {
		serve(b, s.untouched, request(newCookie(b, s.seed, "")))
	})
}

// BenchmarkRead: read one string value of a live session.
func BenchmarkRead(b *testing.B) {
	eachLib(b, func(b *testing.B, s *stack) {
		req := request(newCookie(b, s.seed, ""))
		serve(b, s.read, req)
		if !s.bare && s.user != "alice" {
			b.Fatalf("read %q, want alice", s.user)
		}
	})
}

// BenchmarkReadLoggedIn: the realistic read of issue 10: a logged-in
// session with a user id and a counter, read with Has then an int64.
func BenchmarkReadLoggedIn(b *testing.B) {
	eachLib(b, func(b *testing.B, s *stack) {
		req := request(newCookie(b, s.seedLoggedIn, ""))
		serve(b, s.readLoggedIn, req)
		if !s.bare && s.n != 7 {
			b.Fatalf("read n=%d, want 7", s.n)
		}
	})
}

// BenchmarkModify: increment a counter in a live session (a write per
// request).
func BenchmarkModify(b *testing.B) {
	eachLib(b, func(b *testing.B, s *stack) {
		serve(b, s.modify, request(newCookie(b, s.seed, "")))
	})
}

// BenchmarkLogin: a visitor without a session logs in: a new session with a
// fresh ID holding the user (sessionkit Login + Put, scs RenewToken + Put,
// gorilla a new session + Save).
func BenchmarkLogin(b *testing.B) {
	eachLib(b, func(b *testing.B, s *stack) {
		serve(b, s.login, request(""))
	})
}

// BenchmarkLoginRenew: a visitor with a live anonymous session logs in, so
// the ID is renewed: sessionkit writes the new record and turns the old one
// into a short-lived tombstone; scs deletes the old token and writes the new
// one; gorilla's CookieStore has no ID and just re-encodes the cookie. Each
// iteration uses its own anonymous session, created before the timer starts.
func BenchmarkLoginRenew(b *testing.B) {
	eachLib(b, func(b *testing.B, s *stack) {
		cookies := make([][]string, b.N)
		for i := range cookies {
			if s.bare {
				break // no session to renew; b.N is in the millions
			}
			cookies[i] = []string{newCookie(b, s.seed, "")}
		}
		req := request("")
		w := &discard{h: http.Header{}}
		tmpl := *req
		b.ReportAllocs()
		b.ResetTimer()
		cpu := cpuTime()
		for i := 0; i < b.N; i++ {
			*req = tmpl
			req.Header["Cookie"] = cookies[i]
			clear(w.h)
			s.login.ServeHTTP(w, req)
		}
		b.StopTimer()
		reportCPU(b, cpu)
		if !s.bare && !strings.Contains(w.h.Get("Set-Cookie"), "=") {
			b.Fatalf("login set no cookie: %v", w.h)
		}
	})
}
