package sessionprom_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/sessionprom"
)

// clock is the manager's clock. The store keeps the real one, so a session
// the manager sees expire is still in the store: that is EventExpired, not
// EventUnknown.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// recorder is a hook installed before Instrument: it must still be called,
// and it remembers every ID and store call for the checks below.
type recorder struct {
	mu  sync.Mutex
	ids map[string]bool
	ops map[string]int
}

func (r *recorder) event(_ context.Context, e session.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.ID != "" {
		r.ids[e.ID] = true
	}
}

func (r *recorder) storeOp(_ context.Context, op session.StoreOp) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops[op.Op]++
}

type app struct {
	t     *testing.T
	srv   *httptest.Server
	mgr   *session.Manager
	clock *clock
}

func newApp(t *testing.T, store session.Store, cfg session.Config) *app {
	t.Helper()
	a := &app{t: t, clock: &clock{now: time.Now().UTC().Truncate(time.Second)}}
	cfg.Now = a.clock.Now
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr, err := session.New(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.mgr = mgr
	mux := http.NewServeMux()
	mux.HandleFunc("/put", func(w http.ResponseWriter, r *http.Request) {
		if err := session.Put(r.Context(), "cart", []string{"apple"}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		cart, err := session.Get[[]string](r.Context(), "cart")
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, strings.Join(cart, ","))
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if err := session.Login(r.Context(), r.URL.Query().Get("user")); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
		}
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		if err := session.Destroy(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	a.srv = httptest.NewTLSServer(mgr.Handler(mux))
	t.Cleanup(a.srv.Close)
	return a
}

// client returns a browser: a client of the test server with its own jar.
func (a *app) client() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		a.t.Fatal(err)
	}
	c := *a.srv.Client()
	c.Jar = jar
	return &c
}

// get requests path and returns the status and body.
func (a *app) get(c *http.Client, path string) (int, string) {
	a.t.Helper()
	resp, err := c.Get(a.srv.URL + path)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// withCookie requests path with the session cookie set to value by hand.
func (a *app) withCookie(value, path string) int {
	a.t.Helper()
	req, _ := http.NewRequest("GET", a.srv.URL+path, nil)
	req.AddCookie(&http.Cookie{Name: "__Host-session", Value: value})
	resp, err := a.srv.Client().Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (a *app) want(path string, gotCode int, code int) {
	a.t.Helper()
	if gotCode != code {
		a.t.Fatalf("GET %s: status %d, want %d", path, gotCode, code)
	}
}

// tokens returns the session cookie values a client holds.
func tokens(a *app, cs ...*http.Client) []string {
	u, _ := url.Parse(a.srv.URL)
	var out []string
	for _, c := range cs {
		for _, ck := range c.Jar.Cookies(u) {
			out = append(out, ck.Value)
		}
	}
	return out
}

func TestLifecycle(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := sessionprom.New(reg, sessionprom.Options{StoreName: "memory"})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{ids: map[string]bool{}, ops: map[string]int{}}
	cfg := session.Config{MaxSessionsPerUser: 1, OnEvent: rec.event, OnStoreOp: rec.storeOp}
	m.Instrument(&cfg)
	a := newApp(t, memstore.New(memstore.Options{}), cfg)
	var seen []string // every token a client held

	// A visitor gets a session, logs in (a renewal), reads it a few minutes
	// later (a touch).
	c1 := a.client()
	code, _ := a.get(c1, "/put")
	a.want("/put", code, 200)
	seen = append(seen, tokens(a, c1)...)
	code, _ = a.get(c1, "/login?user=alice")
	a.want("/login", code, 200)
	seen = append(seen, tokens(a, c1)...)
	code, _ = a.get(c1, "/get") // within TouchInterval: no touch
	a.want("/get", code, 200)
	a.clock.Advance(2 * time.Minute)
	code, body := a.get(c1, "/get")
	if a.want("/get", code, 200); body != "apple" {
		t.Fatalf("cart %q, want apple", body)
	}

	// Alice logs in on a second device: with MaxSessionsPerUser 1 the first
	// one is evicted, and comes back as an unknown token.
	c2 := a.client()
	code, _ = a.get(c2, "/put")
	a.want("/put", code, 200)
	code, _ = a.get(c2, "/login?user=alice")
	a.want("/login", code, 200)
	seen = append(seen, tokens(a, c2)...)
	code, _ = a.get(c1, "/get")
	a.want("/get", code, 200)

	// She logs out.
	code, _ = a.get(c2, "/logout")
	a.want("/logout", code, 200)

	// A cookie of the wrong shape never reaches the store.
	a.want("/get", a.withCookie("not-a-token", "/get"), 200)

	// An admin revokes bob's sessions.
	c3 := a.client()
	code, _ = a.get(c3, "/login?user=bob") // no session yet: Login creates one
	a.want("/login", code, 200)
	seen = append(seen, tokens(a, c3)...)
	if n, err := a.mgr.RevokeSubject(context.Background(), "bob"); err != nil || n != 1 {
		t.Fatalf("RevokeSubject = %d, %v; want 1", n, err)
	}

	// A session left alone past the idle timeout expires.
	c4 := a.client()
	code, _ = a.get(c4, "/put")
	a.want("/put", code, 200)
	seen = append(seen, tokens(a, c4)...)
	a.clock.Advance(2 * time.Hour)
	code, _ = a.get(c4, "/get")
	a.want("/get", code, 200)

	// Other packages report their refusals.
	m.Rejected(sessionprom.ReasonRateLimit)
	m.Rejected(sessionprom.ReasonCSRFBadToken)
	m.Rejected("no such reason") // counted as other, never a new label

	// created: c1, c2, c3, c4. renewed: c1's and c2's logins (c3 had no
	// session yet: its login created one, which is no renewal). revoked:
	// bob's one session; evicted: c1's. stale: c1 after the eviction (its ID is an ended tombstone for a minute).
	const want = `
# HELP sessionkit_sessions_created_total Sessions created (stored for the first time).
# TYPE sessionkit_sessions_created_total counter
sessionkit_sessions_created_total 4
# HELP sessionkit_sessions_renewed_total Sessions moved to a new ID (login, privilege change).
# TYPE sessionkit_sessions_renewed_total counter
sessionkit_sessions_renewed_total 2
# HELP sessionkit_sessions_destroyed_total Sessions ended by the application (logout).
# TYPE sessionkit_sessions_destroyed_total counter
sessionkit_sessions_destroyed_total 1
# HELP sessionkit_sessions_expired_total Requests that came with a session past its idle or absolute deadline.
# TYPE sessionkit_sessions_expired_total counter
sessionkit_sessions_expired_total 1
# HELP sessionkit_sessions_revoked_total Sessions ended server-side: revoked by the user or an admin, or evicted by the per-user session limit.
# TYPE sessionkit_sessions_revoked_total counter
sessionkit_sessions_revoked_total{cause="evicted"} 1
sessionkit_sessions_revoked_total{cause="revoked"} 1
# HELP sessionkit_tokens_rejected_total Session tokens refused: malformed (never looked up), unknown (no such session: purged or guessed) or stale (renewed or ended moments ago).
# TYPE sessionkit_tokens_rejected_total counter
sessionkit_tokens_rejected_total{reason="malformed"} 1
sessionkit_tokens_rejected_total{reason="stale"} 1
sessionkit_tokens_rejected_total{reason="unknown"} 0
# HELP sessionkit_touches_total Idle-deadline extensions written for read-only requests.
# TYPE sessionkit_touches_total counter
sessionkit_touches_total 1
# HELP sessionkit_cas_conflicts_total Commits that found the session changed by a concurrent request and replayed their changes.
# TYPE sessionkit_cas_conflicts_total counter
sessionkit_cas_conflicts_total 0
# HELP sessionkit_discarded_changes_total Requests whose changes were dropped because the session was destroyed first.
# TYPE sessionkit_discarded_changes_total counter
sessionkit_discarded_changes_total 0
# HELP sessionkit_limit_rejections_total Logins refused by the per-user session limit.
# TYPE sessionkit_limit_rejections_total counter
sessionkit_limit_rejections_total 0
# HELP sessionkit_client_changes_total Logged-in sessions used by a client with another user agent or network.
# TYPE sessionkit_client_changes_total counter
sessionkit_client_changes_total 0
# HELP sessionkit_corrupt_records_total Stored records that could not be decoded; each was deleted and replaced by a fresh session.
# TYPE sessionkit_corrupt_records_total counter
sessionkit_corrupt_records_total 0
# HELP sessionkit_rejections_total Requests refused by CSRF protection or a rate limit.
# TYPE sessionkit_rejections_total counter
sessionkit_rejections_total{reason="csrf_bad_token"} 1
sessionkit_rejections_total{reason="csrf_cross_origin"} 0
sessionkit_rejections_total{reason="csrf_malformed_token"} 0
sessionkit_rejections_total{reason="csrf_missing_token"} 0
sessionkit_rejections_total{reason="other"} 1
sessionkit_rejections_total{reason="rate_limit"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"sessionkit_sessions_created_total", "sessionkit_sessions_renewed_total",
		"sessionkit_sessions_destroyed_total", "sessionkit_sessions_expired_total",
		"sessionkit_sessions_revoked_total", "sessionkit_tokens_rejected_total",
		"sessionkit_touches_total", "sessionkit_cas_conflicts_total",
		"sessionkit_discarded_changes_total", "sessionkit_limit_rejections_total",
		"sessionkit_client_changes_total", "sessionkit_corrupt_records_total",
		"sessionkit_rejections_total",
	); err != nil {
		t.Error(err)
	}

	// The hooks that were set before Instrument still ran, and the histogram
	// saw exactly the store calls they saw; none of them failed.
	rec.mu.Lock()
	ops := rec.ops
	ids := rec.ids
	rec.mu.Unlock()
	if len(ids) == 0 || ops["load"] == 0 || ops["commit"] == 0 || ops["touch"] != 1 || ops["list"] == 0 {
		t.Fatalf("earlier hooks were not called as expected: ids %d, ops %v", len(ids), ops)
	}
	if got := histogramCounts(t, reg, "sessionkit_store_operation_duration_seconds"); !equalCounts(got, ops) {
		t.Errorf("histogram sample counts by op = %v, want %v (from the earlier hook)", got, ops)
	}
	for _, op := range []string{"load", "commit", "delete", "touch", "list", "delete_subject", "count", "other"} {
		if v := testutil.ToFloat64(storeErrors(t, reg, op)); v != 0 {
			t.Errorf("store_errors_total{op=%q} = %v, want 0 (ErrNotFound and ErrConflict are not failures)", op, v)
		}
	}

	// No label value anywhere holds a session ID, a token or a subject.
	secret := append(seen, "alice", "bob")
	for id := range ids {
		secret = append(secret, id)
	}
	checkLabels(t, reg, secret)
}

// histogramCounts returns the sample count of each op of a histogram.
func histogramCounts(t *testing.T, reg *prometheus.Registry, name string) map[string]int {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			op, store := "", ""
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "op":
					op = l.GetValue()
				case "store":
					store = l.GetValue()
				}
			}
			if store != "memory" {
				t.Errorf("%s: store label %q, want memory", name, store)
			}
			got[op] = int(m.GetHistogram().GetSampleCount())
		}
	}
	return got
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// storeErrors returns a collector of the one store_errors_total series of op,
// for testutil.ToFloat64.
func storeErrors(t *testing.T, reg *prometheus.Registry, op string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "sessionkit_store_errors_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "op" && l.GetValue() == op {
					return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "x"}, func() float64 { return m.GetCounter().GetValue() })
				}
			}
		}
	}
	t.Fatalf("no store_errors_total series for op %q", op)
	return nil
}

// checkLabels fails if any label value of any metric in reg contains one of
// secret.
func checkLabels(t *testing.T, reg *prometheus.Registry, secret []string) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				n++
				for _, s := range secret {
					if s != "" && strings.Contains(l.GetValue(), s) {
						t.Errorf("%s{%s=%q} holds a session ID, token or subject", mf.GetName(), l.GetName(), l.GetValue())
					}
				}
			}
		}
	}
	if n == 0 || len(secret) < 8 {
		t.Fatalf("checked %d label values against %d secrets: the check checked nothing", n, len(secret))
	}
}

// failingStore fails every Load while fail is set.
type failingStore struct {
	session.Store
	fail atomic.Bool
}

var errDown = errors.New("connection refused")

func (s *failingStore) Load(ctx context.Context, id string) (*session.Record, error) {
	if s.fail.Load() {
		return nil, fmt.Errorf("teststore: load: %w", errDown)
	}
	return s.Store.Load(ctx, id)
}

func TestStoreErrors(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := sessionprom.New(reg, sessionprom.Options{StoreName: "memory"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := session.Config{}
	m.Instrument(&cfg)
	store := &failingStore{Store: memstore.New(memstore.Options{})}
	a := newApp(t, store, cfg)
	c := a.client()
	code, _ := a.get(c, "/put")
	a.want("/put", code, 200)

	// A well-formed token of no session: the store answers ErrNotFound,
	// which is not a failure.
	a.want("/get", a.withCookie(strings.Repeat("A", 43), "/get"), 200)
	if v := testutil.ToFloat64(storeErrors(t, reg, "load")); v != 0 {
		t.Fatalf("store_errors_total{op=load} = %v after ErrNotFound, want 0", v)
	}

	// The store goes down: the request fails closed and the failure counts.
	store.fail.Store(true)
	code, _ = a.get(c, "/get")
	a.want("/get", code, http.StatusServiceUnavailable)
	if v := testutil.ToFloat64(storeErrors(t, reg, "load")); v != 1 {
		t.Fatalf("store_errors_total{op=load} = %v, want 1", v)
	}
	if v := testutil.ToFloat64(storeErrors(t, reg, "commit")); v != 0 {
		t.Fatalf("store_errors_total{op=commit} = %v, want 0", v)
	}
}

func TestNew(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := sessionprom.New(reg, sessionprom.Options{Namespace: "app"}); err != nil {
		t.Fatal(err)
	}
	// A second Metrics with the same names on the same registry is refused,
	// and leaves nothing half-registered behind.
	if _, err := sessionprom.New(reg, sessionprom.Options{Namespace: "app"}); err == nil {
		t.Fatal("second New on one registry: no error")
	}
	if _, err := sessionprom.New(reg, sessionprom.Options{Namespace: "other"}); err != nil {
		t.Fatalf("another namespace on the same registry: %v", err)
	}
	if _, err := sessionprom.New(nil, sessionprom.Options{}); err == nil {
		t.Fatal("nil registerer: no error")
	}
	if _, err := sessionprom.New(prometheus.NewRegistry(), sessionprom.Options{CountInterval: -time.Second}); err == nil {
		t.Fatal("negative CountInterval: no error")
	}
	// Every counter series exists from the start, at zero, under the
	// namespace: 11 counters without labels, revoked with 2 series,
	// tokens_rejected with 3, 6 rejection reasons and 8 store error series,
	// in each of the two namespaces; histogram series appear on first use.
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 2*(11+2+3+6+8) {
		t.Fatalf("GatherAndCount = %d, %v; want %d", n, err, 2*(11+2+3+6+8))
	}
}

func TestEventKinds(t *testing.T) {
	// Every kind maps to its counter; an unknown kind and store errors (which
	// StoreOp counts) change nothing.
	reg := prometheus.NewRegistry()
	m, err := sessionprom.New(reg, sessionprom.Options{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[session.EventKind]string{
		session.EventConflict:      "sessionkit_cas_conflicts_total",
		session.EventDiscarded:     "sessionkit_discarded_changes_total",
		session.EventLimit:         "sessionkit_limit_rejections_total",
		session.EventClientChanged: "sessionkit_client_changes_total",
		session.EventCorrupt:       "sessionkit_corrupt_records_total",
		session.EventTouched:       "sessionkit_touches_total",
		session.EventTouchAvoided:  "sessionkit_touches_avoided_total",
	}
	for kind := range kinds {
		m.Event(session.Event{Kind: kind, ID: "x"})
	}
	before, _ := testutil.GatherAndCount(reg)
	m.Event(session.Event{Kind: session.EventStoreError, Err: errDown})
	m.Event(session.Event{Kind: "from_the_future"})
	after, _ := testutil.GatherAndCount(reg)
	if before != after {
		t.Errorf("series %d -> %d after unknown events", before, after)
	}
	for kind, name := range kinds {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() == name {
				if v := mf.GetMetric()[0].GetCounter().GetValue(); v != 1 {
					t.Errorf("%s after one %s = %v, want 1", name, kind, v)
				}
			}
		}
	}
	// Unknown store operations land in op="other".
	m.StoreOp(session.StoreOp{Op: "frobnicate", Err: errDown})
	if v := testutil.ToFloat64(storeErrors(t, reg, "other")); v != 1 {
		t.Errorf("store_errors_total{op=other} = %v, want 1", v)
	}
	m.StoreOp(session.StoreOp{Op: "commit", Err: fmt.Errorf("x: %w", session.ErrConflict)})
	if v := testutil.ToFloat64(storeErrors(t, reg, "commit")); v != 0 {
		t.Errorf("store_errors_total{op=commit} = %v after a conflict, want 0", v)
	}
}
