package redislimit_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/session/internal/testenv"
	"github.com/sessionkit/session/ratelimit"
	"github.com/sessionkit/session/ratelimit/redislimit"
)

// redisClient connects to the test Redis (SESSION_TEST_REDIS), or ends the
// test as testenv says when it cannot.
func redisClient(t testing.TB) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(testenv.Get(testenv.Redis))
	if err != nil {
		t.Fatalf("%s: %v", testenv.Redis, err)
	}
	c := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		testenv.Unreachable(t, testenv.Redis, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testPrefix is a key prefix of its own for each test, whose keys are
// deleted afterwards.
func testPrefix(t testing.TB, c *redis.Client) string {
	prefix := fmt.Sprintf("ratelimit-test:%d:", time.Now().UnixNano())
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return prefix
}

// TestRedisAtomicAcrossInstances is the atomicity proof: several app
// instances (separate clients and backends) hammer one key from many
// goroutines at once, and exactly the burst gets through, never more.
func TestRedisAtomicAcrossInstances(t *testing.T) {
	first := redisClient(t)
	prefix := testPrefix(t, first)
	tests := []struct {
		name  string
		limit ratelimit.Limit // Per long enough that nothing refills during the test
	}{
		{"burst 1", ratelimit.Limit{Rate: 1, Per: time.Hour}},
		{"burst 100", ratelimit.Limit{Rate: 100, Per: time.Hour}},
		{"burst 37 above rate", ratelimit.Limit{Rate: 1, Per: time.Hour, Burst: 37}},
	}
	const instances, workers, each = 4, 16, 8 // 512 requests per case
	limiters := make([]*ratelimit.Limiter, instances)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range limiters {
				c := first
				if i > 0 {
					c = redisClient(t)
				}
				limiters[i] = ratelimit.New(redislimit.New(c, redislimit.Options{Prefix: prefix}), tt.limit, ratelimit.Options{Name: "atomic"})
			}
			key := t.Name()
			var allowed, refused atomic.Int64
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range instances * workers {
				l := limiters[i%instances]
				wg.Go(func() {
					<-start
					for range each {
						d, err := l.Allow(context.Background(), key)
						if err != nil {
							t.Error(err)
							return
						}
						if d.Allowed {
							allowed.Add(1)
						} else {
							refused.Add(1)
						}
					}
				})
			}
			close(start)
			wg.Wait()
			burst := tt.limit.Burst
			if burst == 0 {
				burst = tt.limit.Rate
			}
			if got := allowed.Load(); got != int64(burst) {
				t.Fatalf("allowed %d (refused %d), want exactly the burst, %d", got, refused.Load(), burst)
			}
		})
	}
}

// TestRedisDecision checks the fields of the decisions, the key's TTL and
// its name. Times come from the Redis server, so they are checked within a
// margin.
func TestRedisDecision(t *testing.T) {
	c := redisClient(t)
	prefix := testPrefix(t, c)
	b := redislimit.New(c, redislimit.Options{Prefix: prefix})
	ctx := context.Background()
	limit := ratelimit.Limit{Rate: 3, Per: 3 * time.Minute} // one a minute, burst 3
	const margin = 2 * time.Second
	near := func(got, want time.Duration) bool { return got <= want && got > want-margin }

	steps := []struct {
		name      string
		n         int
		allowed   bool
		remaining int
		retry     time.Duration
		reset     time.Duration
		ttl       time.Duration // 0: no key
	}{
		{name: "inspect a new key: no write", n: 0, allowed: true, remaining: 3},
		{name: "first", n: 1, allowed: true, remaining: 2, reset: time.Minute, ttl: time.Minute},
		{name: "two more", n: 2, allowed: true, remaining: 0, reset: 3 * time.Minute, ttl: 3 * time.Minute},
		{name: "refused", n: 1, remaining: 0, retry: time.Minute, reset: 3 * time.Minute, ttl: 3 * time.Minute},
		{name: "inspect when empty", n: 0, remaining: 0, retry: time.Minute, reset: 3 * time.Minute, ttl: 3 * time.Minute},
	}
	for _, s := range steps {
		d, err := b.Allow(ctx, "k", limit, s.n)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if d.Allowed != s.allowed || d.Remaining != s.remaining || !near(d.RetryAfter, s.retry) || !near(d.ResetAfter, s.reset) {
			t.Errorf("%s: %+v; want allowed %v, remaining %d, retry ~%v, reset ~%v", s.name, d, s.allowed, s.remaining, s.retry, s.reset)
		}
		ttl := c.PTTL(ctx, prefix+"k").Val()
		if s.ttl == 0 && ttl >= 0 {
			t.Errorf("%s: key exists (PTTL %v), want none", s.name, ttl)
		}
		if s.ttl != 0 && !near(ttl, s.ttl) {
			t.Errorf("%s: PTTL %v, want ~%v", s.name, ttl, s.ttl)
		}
	}
	if err := b.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if n := c.Exists(ctx, prefix+"k").Val(); n != 0 {
		t.Errorf("key still there after Reset")
	}
	if d, _ := b.Allow(ctx, "k", limit, 3); !d.Allowed {
		t.Errorf("full burst refused after Reset: %+v", d)
	}

	errTests := []struct {
		name  string
		limit ratelimit.Limit
		n     int
		want  error
	}{
		{"invalid limit", ratelimit.Limit{}, 1, ratelimit.ErrInvalidLimit},
		{"faster than a microsecond", ratelimit.Limit{Rate: 2000, Per: time.Millisecond}, 1, ratelimit.ErrInvalidLimit},
		{"n above burst", limit, 4, ratelimit.ErrInvalidCost},
		{"negative n", limit, -1, ratelimit.ErrInvalidCost},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := b.Allow(ctx, "k2", tt.limit, tt.n); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestRedisIdleKeysVanish: a key's TTL ends when its burst is full again.
func TestRedisIdleKeysVanish(t *testing.T) {
	c := redisClient(t)
	prefix := testPrefix(t, c)
	b := redislimit.New(c, redislimit.Options{Prefix: prefix})
	ctx := context.Background()
	if _, err := b.Allow(ctx, "idle", ratelimit.Limit{Rate: 100, Per: time.Second}, 1); err != nil { // full again after 10ms
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for c.Exists(ctx, prefix+"idle").Val() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("idle key still there (PTTL %v)", c.PTTL(ctx, prefix+"idle").Val())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRedisDefaultPrefix: keys are "ratelimit:" + the limiter's name + a
// hash, never the caller's key.
func TestRedisDefaultPrefix(t *testing.T) {
	c := redisClient(t)
	ctx := context.Background()
	name := fmt.Sprintf("prefix-test-%d", time.Now().UnixNano())
	l := ratelimit.New(redislimit.New(c, redislimit.Options{}), ratelimit.Limit{Rate: 1, Per: time.Minute}, ratelimit.Options{Name: name})
	if _, err := l.Allow(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	keys := c.Keys(ctx, "ratelimit:"+name+":*").Val()
	t.Cleanup(func() {
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
	})
	if len(keys) != 1 || keys[0] != "ratelimit:"+name+":K9gGyX8OAK8aH8Myj6djqQ" {
		t.Fatalf("keys %q, want one: ratelimit:%s:<hash of alice>", keys, name)
	}
}

// TestRedisDown: with Redis unreachable the backend returns an error, and
// the middleware refuses the request with 503 unless told to fail open.
func TestRedisDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second, DialerRetries: 1, DialerRetryTimeout: time.Millisecond})
	t.Cleanup(func() { c.Close() })
	b := redislimit.New(c, redislimit.Options{})
	limit := ratelimit.Limit{Rate: 1, Per: time.Second}

	_, err = b.Allow(context.Background(), "k", limit, 1)
	if err == nil {
		t.Fatal("Allow against a closed port succeeded")
	}
	if errors.Is(err, ratelimit.ErrInvalidLimit) || errors.Is(err, ratelimit.ErrInvalidCost) {
		t.Fatalf("err = %v, want a connection error", err)
	}
	if err := b.Reset(context.Background(), "k"); err == nil {
		t.Fatal("Reset against a closed port succeeded")
	}

	tests := []struct {
		name   string
		opts   ratelimit.Options
		status int
	}{
		{"fail closed by default", ratelimit.Options{}, http.StatusServiceUnavailable},
		{"FailOpenOnError", ratelimit.Options{FailOpenOnError: true}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Logger = discardLogger
			get := serve(t, ratelimit.New(b, limit, tt.opts).Handler(ratelimit.ByAddress, okHandler()))
			resp := get(t)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d; want %d", resp.StatusCode, tt.status)
			}
		})
	}
}

// BenchmarkRedisAllow: Limiter.Allow on the Redis backend, one EVALSHA
// round trip each, sequential (latency, not throughput).
func BenchmarkRedisAllow(b *testing.B) {
	c := redisClient(b)
	l := ratelimit.New(redislimit.New(c, redislimit.Options{Prefix: testPrefix(b, c)}), ratelimit.Limit{Rate: 1000000, Per: time.Second}, ratelimit.Options{})
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("bench-%d", i)
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := l.Allow(ctx, keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

var discardLogger = slog.New(slog.DiscardHandler)

func serve(t *testing.T, h http.Handler) func(t *testing.T) *http.Response {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return func(t *testing.T) *http.Response {
		t.Helper()
		resp, err := srv.Client().Get(srv.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
}
func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
}

// serve starts a real server with h and returns a function doing one GET.
