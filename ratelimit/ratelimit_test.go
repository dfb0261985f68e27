package ratelimit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/sessionkit/session/ratelimit"
)

// benchLimit never refuses in a benchmark, so every iteration takes the
// full path (decide and store).
var benchLimit = ratelimit.Limit{Rate: 1_000_000, Per: time.Second}

func benchKeys() []string {
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "198.51.100." + strconv.Itoa(i%256) + "/" + strconv.Itoa(i)
	}
	return keys
}

// BenchmarkMemoryAllow: Limiter.Allow on the memory backend, over 1024
// keys, from all Ps at once.
func BenchmarkMemoryAllow(b *testing.B) {
	l := ratelimit.New(newMemory(b, nil), benchLimit, ratelimit.Options{})
	keys := benchKeys()
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := l.Allow(ctx, keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// discardWriter is a ResponseWriter that costs nothing but its header map.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkMiddleware: one allowed request through Handler with ByAddress
// and the memory backend, headers included; the request is reused.
func BenchmarkMiddleware(b *testing.B) {
	l := ratelimit.New(newMemory(b, nil), benchLimit, ratelimit.Options{Name: "api"})
	h := l.Handler(ratelimit.ByAddress, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "198.51.100.7:54321"
	w := &discardWriter{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
	if w.h.Get("RateLimit") == "" {
		b.Fatal("no RateLimit header")
	}
}
