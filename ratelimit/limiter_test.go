package ratelimit_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session/ratelimit"
)

// TestLimiterKeys: whatever the caller's key, the backend sees a short,
// hashed key under the limiter's name, and distinct keys and names stay
// distinct.
func TestLimiterKeys(t *testing.T) {
	var seen []string
	b := fakeBackend{
		allow: func(_ context.Context, key string, _ ratelimit.Limit, _ int) (ratelimit.Decision, error) {
			seen = append(seen, key)
			return ratelimit.Decision{Allowed: true}, nil
		},
		reset: func(_ context.Context, key string) error { seen = append(seen, key); return nil },
	}
	limit := ratelimit.Limit{Rate: 1, Per: time.Second}
	login := ratelimit.New(b, limit, ratelimit.Options{Name: "login"})
	api := ratelimit.New(b, limit, ratelimit.Options{})

	tests := []struct {
		name    string
		limiter *ratelimit.Limiter
		key     string
		prefix  string
	}{
		{"short", login, "alice", "login:"},
		{"10 KB user name", login, strings.Repeat("x", 10<<10), "login:"},
		{"empty", login, "", "login:"},
		{"NUL and newline", login, "a\x00b\nc", "login:"},
		{"same key, default name", api, "alice", "default:"},
	}
	got := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen = nil
			if _, err := tt.limiter.Allow(context.Background(), tt.key); err != nil {
				t.Fatal(err)
			}
			if err := tt.limiter.Reset(context.Background(), tt.key); err != nil {
				t.Fatal(err)
			}
			k := seen[0]
			if seen[1] != k {
				t.Errorf("Reset used key %q, Allow %q", seen[1], k)
			}
			if !strings.HasPrefix(k, tt.prefix) || len(k) != len(tt.prefix)+22 {
				t.Errorf("backend key %q: want %q and 22 characters of hash", k, tt.prefix)
			}
			if strings.Contains(k, "alice") {
				t.Errorf("backend key %q holds the caller's key", k)
			}
			if other, dup := got[k]; dup {
				t.Errorf("backend key %q also used by case %q", k, other)
			}
			got[k] = tt.name
		})
	}
	// Stable: the same key maps to the same backend key every time (and
	// in every process, which Redis relies on).
	seen = nil
	login.Allow(context.Background(), "alice")
	login.Allow(context.Background(), "alice")
	if seen[0] != seen[1] || seen[0] != "login:"+"K9gGyX8OAK8aH8Myj6djqQ" {
		t.Errorf("backend keys for alice: %q", seen)
	}
}

func TestNewPanics(t *testing.T) {
	m := newMemory(t, nil)
	ok := ratelimit.Limit{Rate: 1, Per: time.Second}
	tests := []struct {
		name string
		f    func()
	}{
		{"nil backend", func() { ratelimit.New(nil, ok, ratelimit.Options{}) }},
		{"invalid limit", func() { ratelimit.New(m, ratelimit.Limit{Rate: 1}, ratelimit.Options{}) }},
		{"quote in name", func() { ratelimit.New(m, ok, ratelimit.Options{Name: `a"b`}) }},
		{"newline in name", func() { ratelimit.New(m, ok, ratelimit.Options{Name: "a\nb"}) }},
		{"nil key func", func() { ratelimit.New(m, ok, ratelimit.Options{}).Handler(nil, nil) }},
		{"nil ByKey", func() { ratelimit.ByKey(nil) }},
		{"bad proxy", func() { ratelimit.MustParseTrustedProxies("10.0.0.0/33") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			tt.f()
		})
	}
}

// TestLimitHitLogged: refusals are logged with the hashed key, never the key.
func TestLimitHitLogged(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	l := ratelimit.New(newMemory(t, newClock()), ratelimit.Limit{Rate: 1, Per: time.Minute}, ratelimit.Options{Name: "login", Logger: log})
	ctx := context.Background()
	l.Allow(ctx, "alice@example.com")
	if buf.Len() != 0 {
		t.Fatalf("allowed request logged: %s", buf.String())
	}
	d, _ := l.Allow(ctx, "alice@example.com")
	if d.Allowed {
		t.Fatal("second request allowed")
	}
	out := buf.String()
	if !strings.Contains(out, "limit hit") || !strings.Contains(out, "limiter=login") || !strings.Contains(out, "retry_after=1m0s") {
		t.Errorf("log = %q", out)
	}
	if strings.Contains(out, "alice") {
		t.Errorf("log holds the key: %q", out)
	}
}

// TestLimiterReset: clearing a user's failed logins after a success.
func TestLimiterReset(t *testing.T) {
	l := ratelimit.New(newMemory(t, newClock()), ratelimit.Limit{Rate: 2, Per: time.Hour}, ratelimit.Options{Name: "login"})
	ctx := context.Background()
	for range 2 {
		l.Allow(ctx, "bob")
	}
	if d, _ := l.Allow(ctx, "bob"); d.Allowed {
		t.Fatal("third attempt allowed")
	}
	if err := l.Reset(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if d, _ := l.Allow(ctx, "bob"); !d.Allowed || d.Remaining != 1 {
		t.Fatalf("after Reset: %+v, want allowed with 1 remaining", d)
	}
	if got := l.Limit(); got != (ratelimit.Limit{Rate: 2, Per: time.Hour}) {
		t.Errorf("Limit() = %v", got)
	}
}

func TestLimitString(t *testing.T) {
	if got, want := (ratelimit.Limit{Rate: 5, Per: 15 * time.Minute}).String(), "5/15m0s burst 5"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
