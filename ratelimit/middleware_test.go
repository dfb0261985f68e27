package ratelimit_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sessionkit/session/ratelimit"
)

// absent marks a header that must not be in the response.
const absent = "<absent>"

type request struct {
	advance time.Duration // move the clock first
	status  int
	headers map[string]string // exact values, or absent
	body    string            // when not empty, the exact body
}

func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
}

// serve starts a real server with h and returns a function doing one GET.
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

func checkResponse(t *testing.T, i int, resp *http.Response, want request) {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want.status {
		t.Errorf("request %d: status %d, want %d (body %q)", i, resp.StatusCode, want.status, body)
	}
	for name, v := range want.headers {
		got, ok := resp.Header[http.CanonicalHeaderKey(name)]
		switch {
		case v == absent && ok:
			t.Errorf("request %d: %s: %q, want none", i, name, got)
		case v != absent && (len(got) != 1 || got[0] != v):
			t.Errorf("request %d: %s: %q, want %q", i, name, got, v)
		}
	}
	if want.body != "" && string(body) != want.body {
		t.Errorf("request %d: body %q, want %q", i, body, want.body)
	}
}

func TestMiddleware(t *testing.T) {
	noHeaders := map[string]string{"RateLimit": absent, "RateLimit-Policy": absent, "Retry-After": absent}
	tests := []struct {
		name     string
		limit    ratelimit.Limit
		opts     ratelimit.Options
		key      ratelimit.KeyFunc
		requests []request
	}{{
		name:  "2 per minute",
		limit: ratelimit.Limit{Rate: 2, Per: time.Minute},
		opts:  ratelimit.Options{Name: "api"},
		requests: []request{
			{status: 200, body: "ok", headers: map[string]string{"RateLimit-Policy": `"api";q=2;w=60`, "RateLimit": `"api";r=1;t=30`, "Retry-After": absent}},
			{status: 200, headers: map[string]string{"RateLimit-Policy": `"api";q=2;w=60`, "RateLimit": `"api";r=0;t=60`}},
			{status: 429, body: "Too Many Requests\n", headers: map[string]string{"Retry-After": "30", "RateLimit-Policy": `"api";q=2;w=60`, "RateLimit": `"api";r=0;t=60`}},
			{advance: 29 * time.Second, status: 429, headers: map[string]string{"Retry-After": "1", "RateLimit": `"api";r=0;t=31`}},
			{advance: time.Second, status: 200, headers: map[string]string{"RateLimit": `"api";r=0;t=60`}},
			{advance: time.Hour, status: 200, headers: map[string]string{"RateLimit": `"api";r=1;t=30`}},
		},
	}, {
		name:  "seconds rounded up",
		limit: ratelimit.Limit{Rate: 3, Per: 2 * time.Second, Burst: 1}, // one per 666.67ms
		requests: []request{
			{status: 200, headers: map[string]string{"RateLimit-Policy": `"default";q=3;w=2`, "RateLimit": `"default";r=0;t=1`}},
			{advance: 600 * time.Millisecond, status: 429, headers: map[string]string{"Retry-After": "1", "RateLimit": `"default";r=0;t=1`}},
		},
	}, {
		name:  "sub-second period",
		limit: ratelimit.Limit{Rate: 1, Per: 100 * time.Millisecond},
		requests: []request{
			{status: 200, headers: map[string]string{"RateLimit-Policy": `"default";q=1;w=1`, "RateLimit": `"default";r=0;t=1`}},
			{status: 429, headers: map[string]string{"Retry-After": "1"}},
		},
	}, {
		name:  "OmitHeaders",
		limit: ratelimit.Limit{Rate: 1, Per: time.Minute},
		opts:  ratelimit.Options{OmitHeaders: true},
		requests: []request{
			{status: 200, headers: noHeaders},
			{status: 429, headers: map[string]string{"Retry-After": "60", "RateLimit": `"default";r=0;t=60`}},
		},
	}, {
		name:  "custom OnLimited",
		limit: ratelimit.Limit{Rate: 1, Per: time.Minute},
		opts: ratelimit.Options{OnLimited: func(w http.ResponseWriter, r *http.Request, d ratelimit.Decision) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":"slow down","retry_after":"`+d.RetryAfter.String()+`"}`)
		}},
		requests: []request{
			{status: 200},
			{status: 429, body: `{"error":"slow down","retry_after":"1m0s"}`, headers: map[string]string{"Content-Type": "application/json", "Retry-After": "60"}},
		},
	}, {
		name:  "key not applicable: unlimited",
		limit: ratelimit.Limit{Rate: 1, Per: time.Minute},
		key:   ratelimit.ByKey(func(r *http.Request) (string, bool) { return r.Header.Get("X-User"), true }),
		requests: []request{
			{status: 200, headers: noHeaders},
			{status: 200, headers: noHeaders},
			{status: 200, headers: noHeaders},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			l := ratelimit.New(newMemory(t, c), tt.limit, tt.opts)
			key := tt.key
			if key == nil {
				key = ratelimit.ByAddress
			}
			get := serve(t, l.Handler(key, okHandler()))
			for i, want := range tt.requests {
				c.Advance(want.advance)
				checkResponse(t, i, get(t), want)
			}
		})
	}
}

// TestMiddlewareBackendError: a failing backend refuses requests (503) by
// default; OnError and FailOpenOnError change that.
func TestMiddlewareBackendError(t *testing.T) {
	broken := fakeBackend{
		allow: func(context.Context, string, ratelimit.Limit, int) (ratelimit.Decision, error) {
			return ratelimit.Decision{}, errors.New("connection refused")
		},
	}
	tests := []struct {
		name string
		opts ratelimit.Options
		want request
	}{
		{"fail closed by default", ratelimit.Options{}, request{status: 503, body: "Service Unavailable\n", headers: map[string]string{"RateLimit": absent}}},
		{"custom OnError", ratelimit.Options{OnError: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "limiter down: "+err.Error(), http.StatusInternalServerError)
		}}, request{status: 500, body: "limiter down: connection refused\n"}},
		{"FailOpenOnError", ratelimit.Options{FailOpenOnError: true}, request{status: 200, body: "ok", headers: map[string]string{"RateLimit": absent}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Logger = discardLogger
			l := ratelimit.New(broken, ratelimit.Limit{Rate: 1, Per: time.Second}, tt.opts)
			get := serve(t, l.Middleware(ratelimit.ByAddress)(okHandler()))
			checkResponse(t, 0, get(t), tt.want)
		})
	}
}

// TestMiddlewarePerClient: one client's refusals do not touch another's
// quota.
func TestMiddlewarePerClient(t *testing.T) {
	l := ratelimit.New(newMemory(t, newClock()), ratelimit.Limit{Rate: 1, Per: time.Minute}, ratelimit.Options{})
	h := l.Handler(ratelimit.ByAddress, okHandler())
	do := func(addr string) int {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = addr
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	tests := []struct {
		name string
		addr string
		want int
	}{
		{"a first", "192.0.2.1:1000", 200},
		{"a again, other port", "192.0.2.1:2000", 429},
		{"b", "192.0.2.2:1000", 200},
		{"v6 host", "[2001:db8:1:2::1]:443", 200},
		{"same /64, other address", "[2001:db8:1:2:ffff::9]:443", 429},
		{"next /64", "[2001:db8:1:3::1]:443", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := do(tt.addr); got != tt.want {
				t.Fatalf("status %d, want %d", got, tt.want)
			}
		})
	}
}
