package ratelimit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/sessionkit/session/ratelimit"
)

// Login attempts per user name: five at once, then one every three
// minutes. The clock is fixed so the output is stable; real code leaves
// MemoryOptions.Now unset.
func ExampleLimiter_Allow() {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	backend := ratelimit.NewMemory(ratelimit.MemoryOptions{Now: func() time.Time { return now }})
	defer backend.Close()
	logins := ratelimit.New(backend, ratelimit.Limit{Rate: 5, Per: 15 * time.Minute}, ratelimit.Options{Name: "login"})

	for i := 1; i <= 6; i++ {
		d, err := logins.Allow(context.Background(), "alice")
		if err != nil {
			fmt.Println("backend down: refuse the login") // fail closed
			return
		}
		fmt.Printf("attempt %d: allowed=%v remaining=%d retry after %v\n", i, d.Allowed, d.Remaining, d.RetryAfter)
	}
	// Output:
	// attempt 1: allowed=true remaining=4 retry after 0s
	// attempt 2: allowed=true remaining=3 retry after 0s
	// attempt 3: allowed=true remaining=2 retry after 0s
	// attempt 4: allowed=true remaining=1 retry after 0s
	// attempt 5: allowed=true remaining=0 retry after 0s
	// attempt 6: allowed=false remaining=0 retry after 3m0s
}

// A route limited per client address; the third request in a minute is
// refused with 429 and the headers that tell the client when to come back.
func ExampleLimiter_Handler() {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	backend := ratelimit.NewMemory(ratelimit.MemoryOptions{Now: func() time.Time { return now }})
	defer backend.Close()
	api := ratelimit.New(backend, ratelimit.Limit{Rate: 2, Per: time.Minute}, ratelimit.Options{Name: "api"})
	h := api.Handler(ratelimit.ByAddress, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	for range 3 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		fmt.Printf("%d RateLimit: %s Retry-After: %q\n", w.Code, w.Header().Get("RateLimit"), w.Header().Get("Retry-After"))
		if w.Code == http.StatusTooManyRequests {
			fmt.Println("RateLimit-Policy:", w.Header().Get("RateLimit-Policy"))
		}
	}
	// Output:
	// 200 RateLimit: "api";r=1;t=30 Retry-After: ""
	// 200 RateLimit: "api";r=0;t=60 Retry-After: ""
	// 429 RateLimit: "api";r=0;t=60 Retry-After: "30"
	// RateLimit-Policy: "api";q=2;w=60
}
