package bench_test

// In-process comparison over a real Redis: sessionkit + redisstore (go-redis),
// scs + its redisstore and gorilla/sessions + boj/redistore (both redigo),
// each under a key prefix of its own in the Redis named by SESSION_TEST_REDIS
// (default redis://127.0.0.1:6379/0), whose keys are deleted afterwards. The
// benchmarks skip when that Redis is unreachable. Run:
//
//	go test -run '^$' -bench 'Redis' -benchmem -count 5
//
// BenchmarkRedisRead reads one value of a live session; BenchmarkRedisBusyIncrement
// has 16 × GOMAXPROCS goroutines increment one counter of one session at once
// and reports, besides the time, how many increments were lost (lost/op: the
// counter fell short of the increments that answered success) and how many
// requests failed (errors/op). Timings are for reading, never for asserting.

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	scsredis "github.com/alexedwards/scs/redisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/boj/redistore"
	redigo "github.com/gomodule/redigo/redis"
	goredis "github.com/redis/go-redis/v9"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/internal/testenv"
	"github.com/sessionkit/session/redisstore"
)

var redisLibs = []string{"sessionkit", "scs", "gorilla"}

// redisStack is one library's handlers over Redis. read and incr answer 200
// on success; count writes the counter.
type redisStack struct {
	seed, read, incr, count http.Handler
	cookie                  *http.Cookie
	failures                atomic.Int64
}

func (s *redisStack) fail(w http.ResponseWriter, err error) {
	s.failures.Add(1)
	http.Error(w, err.Error(), http.StatusInternalServerError)
}

// redisFor returns a go-redis client of the benchmark's Redis, skipping the
// benchmark if it is unreachable.
func redisFor(b *testing.B) *goredis.Client {
	opts, err := goredis.ParseURL(testenv.Get(testenv.Redis))
	if err != nil {
		b.Fatalf("%s: %v", testenv.Redis, err)
	}
	opts.PoolSize = 64
	opts.ContextTimeoutEnabled = true
	client := goredis.NewClient(opts)
	b.Cleanup(func() { client.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		testenv.Unreachable(b, testenv.Redis, err)
	}
	return client
}

func newRedisStack(b *testing.B, lib string) *redisStack {
	client := redisFor(b)
	prefix := "sessionkit-bench:" + rand.Text()[:12] + ":"
	b.Cleanup(func() {
		ctx := context.Background()
		iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
	})
	opts := client.Options()
	pool := &redigo.Pool{
		MaxIdle:     64,
		IdleTimeout: 240 * time.Second,
		Dial: func() (redigo.Conn, error) {
			return redigo.Dial("tcp", opts.Addr, redigo.DialDatabase(opts.DB),
				redigo.DialUsername(opts.Username), redigo.DialPassword(opts.Password))
		},
	}
	b.Cleanup(func() { pool.Close() })

	s := &redisStack{}
	ok := func(w http.ResponseWriter, body string) { w.Write([]byte(body)) }
	switch lib {
	case "sessionkit":
		m, err := session.New(redisstore.New(client, redisstore.Options{Prefix: prefix}), session.Config{})
		if err != nil {
			b.Fatal(err)
		}
		s.seed = m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := errors.Join(session.Put(r.Context(), "user", "alice"), session.Put(r.Context(), "n", 0)); err != nil {
				s.fail(w, err)
			}
		}))
		s.read = m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, err := session.Get[string](r.Context(), "user")
			if err != nil {
				s.fail(w, err)
				return
			}
			ok(w, u)
		}))
		s.incr = m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := session.Update(r.Context(), "n", func(n int) (int, error) { return n + 1, nil }); err != nil {
				s.fail(w, err)
			}
		}))
		s.count = m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n, err := session.Get[int](r.Context(), "n")
			if err != nil {
				s.fail(w, err)
				return
			}
			ok(w, strconv.Itoa(n))
		}))

	case "scs":
		sm := scs.New()
		sm.Store = scsredis.NewWithPrefix(pool, prefix)
		sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) { s.fail(w, err) }
		s.seed = sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sm.Put(r.Context(), "user", "alice")
			sm.Put(r.Context(), "n", 0)
		}))
		s.read = sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ok(w, sm.GetString(r.Context(), "user"))
		}))
		s.incr = sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sm.Put(r.Context(), "n", sm.GetInt(r.Context(), "n")+1)
		}))
		s.count = sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ok(w, strconv.Itoa(sm.GetInt(r.Context(), "n")))
		}))

	case "gorilla":
		rs, err := redistore.NewRediStoreWithPool(pool, gorillaHashKey, gorillaBlockKey)
		if err != nil {
			b.Fatal(err)
		}
		rs.SetKeyPrefix(prefix)
		const name = "session"
		with := func(save bool, f func(*http.Request, map[any]any) string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sess, err := rs.Get(r, name)
				if err != nil {
					s.fail(w, err)
					return
				}
				body := f(r, sess.Values)
				if save {
					if err := sess.Save(r, w); err != nil {
						s.fail(w, err)
						return
					}
				}
				ok(w, body)
			})
		}
		s.seed = with(true, func(_ *http.Request, v map[any]any) string { v["user"], v["n"] = "alice", 0; return "" })
		s.read = with(false, func(_ *http.Request, v map[any]any) string { u, _ := v["user"].(string); return u })
		s.incr = with(true, func(_ *http.Request, v map[any]any) string { n, _ := v["n"].(int); v["n"] = n + 1; return "" })
		s.count = with(false, func(_ *http.Request, v map[any]any) string { n, _ := v["n"].(int); return strconv.Itoa(n) })
	}

	rec := httptest.NewRecorder()
	s.seed.ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/", nil))
	if rec.Code != http.StatusOK || len(rec.Result().Cookies()) == 0 {
		b.Fatalf("%s: seeding the session: %d %s, cookies %v", lib, rec.Code, rec.Body, rec.Result().Cookies())
	}
	s.cookie = rec.Result().Cookies()[0]
	return s
}

// serve runs h once as the seeded session's client and reports whether it
// answered 200; body receives what it wrote.
func (s *redisStack) serve(h http.Handler, body *string) bool {
	req := httptest.NewRequest("GET", "https://example.com/", nil)
	req.AddCookie(s.cookie)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if body != nil {
		*body = rec.Body.String()
	}
	return rec.Code == http.StatusOK
}

func BenchmarkRedisRead(b *testing.B) {
	for _, lib := range redisLibs {
		b.Run("lib="+lib, func(b *testing.B) {
			s := newRedisStack(b, lib)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var body string
				for pb.Next() {
					if !s.serve(s.read, &body) || body != "alice" {
						s.failures.Add(1)
					}
				}
			})
			b.StopTimer()
			if n := s.failures.Load(); n > 0 {
				b.Errorf("%d of %d reads failed", n, b.N)
			}
		})
	}
}

func BenchmarkRedisBusyIncrement(b *testing.B) {
	for _, lib := range redisLibs {
		b.Run("lib="+lib, func(b *testing.B) {
			s := newRedisStack(b, lib)
			var done atomic.Int64 // increments that answered success
			b.SetParallelism(16)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if s.serve(s.incr, nil) {
						done.Add(1)
					}
				}
			})
			b.StopTimer()
			var body string
			if !s.serve(s.count, &body) {
				b.Fatalf("reading the counter failed: %s", body)
			}
			n, err := strconv.Atoi(body)
			if err != nil {
				b.Fatalf("counter %q: %v", body, err)
			}
			b.ReportMetric(float64(done.Load()-int64(n))/float64(b.N), "lost/op")
			b.ReportMetric(float64(s.failures.Load())/float64(b.N), "errors/op")
		})
	}
}
