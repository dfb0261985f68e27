package reliability

// The application under test: a session.Manager in front of a few handlers,
// served by httptest on 127.0.0.1, and what it observed (log records, events,
// panics).

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

const (
	// requestTimeout is the deadline the application puts on each request's
	// context (see deadline): what bounds a store call to a server that
	// stopped answering, as redisstore's documentation asks.
	requestTimeout = time.Second
	// clientTimeout bounds each request of the load's clients: a request that
	// takes longer counts as a failure of the test, not as a 503.
	clientTimeout = 2 * time.Second
	// recoveryBound is how soon after the store is back every request must
	// succeed again. The target is a second, and the measured recovery is
	// logged against it; the bound adds half a second of slack because
	// go-redis's dial circuit breaker probes a dead server once a second
	// (measured recovery 575-983 ms), and a probe delayed by a busy CI
	// machine must not fail the run.
	recoveryBound = 1500 * time.Millisecond
)

// observer collects what the manager reports: log records by level, events
// by kind and store calls, with a few sample messages for the test log.
type observer struct {
	mu      sync.Mutex
	levels  map[slog.Level]int
	samples []string
	events  map[session.EventKind]int
	ops     map[string][2]int // op -> {calls, errors other than not found / conflict}
	errs    []opErr
	traces  map[string][]traceEntry // the last events and store calls of each load client
}

// clientKey is the context key of the load client that sent a request
// (header X-Client), by which the observer traces what happened to it.
type clientKey struct{}

type traceEntry struct {
	at   time.Time
	what string
}

type opErr struct {
	at  time.Time
	op  string
	d   time.Duration
	err error
}

func newObserver() *observer {
	return &observer{levels: map[slog.Level]int{}, events: map[session.EventKind]int{}, ops: map[string][2]int{},
		traces: map[string][]traceEntry{}}
}

// The observer is a slog.Handler.

func (o *observer) Enabled(context.Context, slog.Level) bool { return true }
func (o *observer) WithAttrs([]slog.Attr) slog.Handler       { return o }
func (o *observer) WithGroup(string) slog.Handler            { return o }

func (o *observer) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" {
			fmt.Fprintf(&b, ": %v", a.Value)
		}
		return true
	})
	o.mu.Lock()
	defer o.mu.Unlock()
	o.levels[r.Level]++
	if len(o.samples) < 4 && r.Level >= slog.LevelWarn {
		o.samples = append(o.samples, b.String())
	}
	return nil
}

func (o *observer) event(ctx context.Context, e session.Event) {
	o.mu.Lock()
	o.events[e.Kind]++
	o.mu.Unlock()
	what := fmt.Sprintf("event %s %.8s", e.Kind, e.ID)
	if e.Err != nil {
		what += fmt.Sprintf(": %v", e.Err)
	}
	o.trace(ctx, what)
}

// trace records what happened for the load client that sent the request.
func (o *observer) trace(ctx context.Context, what string) {
	id, ok := ctx.Value(clientKey{}).(string)
	if !ok {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	tr := o.traces[id]
	if len(tr) == 40 {
		tr = tr[1:]
	}
	o.traces[id] = append(tr, traceEntry{time.Now(), what})
}

// traceOf describes what happened for a load client, with times from t0.
func (o *observer) traceOf(id string, t0 time.Time) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var b strings.Builder
	for _, e := range o.traces[id] {
		fmt.Fprintf(&b, "\n\t%v %s", e.at.Sub(t0).Round(time.Millisecond), e.what)
	}
	return b.String()
}

func (o *observer) storeOp(ctx context.Context, op session.StoreOp) {
	what := fmt.Sprintf("%s %v", op.Op, op.Duration.Round(time.Millisecond))
	if op.Err != nil {
		what += fmt.Sprintf(": %v", op.Err)
	}
	o.trace(ctx, what)
	o.mu.Lock()
	c := o.ops[op.Op]
	c[0]++
	if op.Err != nil && !isBenign(op.Err) {
		c[1]++
		o.errs = append(o.errs, opErr{time.Now(), op.Op, op.Duration, op.Err})
	}
	o.ops[op.Op] = c
	o.mu.Unlock()
}

func (o *observer) eventCount(k session.EventKind) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.events[k]
}

// errorsAfter returns how many store calls failed after t, and the last.
func (o *observer) errorsAfter(t time.Time) (int, opErr) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, last := 0, opErr{at: t}
	for _, e := range o.errs {
		if e.at.After(t) {
			n++
			last = e
		}
	}
	return n, last
}

// summary describes what the manager reported, for t.Logf.
func (o *observer) summary() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var parts []string
	var ops []string
	for op := range o.ops {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		parts = append(parts, fmt.Sprintf("%s %d (%d failed)", op, o.ops[op][0], o.ops[op][1]))
	}
	s := "store calls: " + strings.Join(parts, ", ")
	var kinds []string
	for k := range o.events {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	parts = parts[:0]
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s=%d", k, o.events[session.EventKind(k)]))
	}
	s += "; events: " + strings.Join(parts, " ")
	s += fmt.Sprintf("; log records: %d error, %d warn", o.levels[slog.LevelError], o.levels[slog.LevelWarn])
	if len(o.samples) > 0 {
		s += "; e.g. " + strings.Join(o.samples, " | ")
	}
	return s
}

// newManager returns a manager on store that reports to obs. The cookie
// travels over plain HTTP (httptest), and read-only requests touch the
// session every 200 ms, so that Touch is exercised under the faults too.
func newManager(t testing.TB, store session.Store, obs *observer) *session.Manager {
	t.Helper()
	mgr, err := session.New(store, session.Config{
		Cookie:        session.Cookie{InsecureCookie: true},
		TouchInterval: 200 * time.Millisecond,
		Logger:        slog.New(obs),
		OnEvent:       obs.event,
		OnStoreOp:     obs.storeOp,
	})
	if err != nil {
		t.Fatal(err)
	}
	return mgr
}

// routes is the application. Every handler answers 500 with the error when a
// session function fails, as a careless application would: the manager must
// still answer 503 when the error is the store's, whatever the handler
// writes. Successful answers carry the counter "n" as the body, and
// X-Had-Session says whether the request came with a live session.
func routes() http.Handler {
	mux := http.NewServeMux()
	fail := func(w http.ResponseWriter, err error) { http.Error(w, err.Error(), http.StatusInternalServerError) }
	reply := func(w http.ResponseWriter, r *http.Request, n int) {
		had := "0"
		if session.ID(r.Context()) != "" {
			had = "1"
		}
		w.Header().Set("X-Had-Session", had)
		fmt.Fprint(w, n)
	}
	mux.HandleFunc("GET /read", func(w http.ResponseWriter, r *http.Request) {
		n, err := session.Get[int](r.Context(), "n")
		if err != nil {
			fail(w, err)
			return
		}
		reply(w, r, n)
	})
	mux.HandleFunc("POST /incr", func(w http.ResponseWriter, r *http.Request) {
		n, err := session.Update(r.Context(), "n", func(n int) (int, error) { return n + 1, nil })
		if err != nil {
			fail(w, err)
			return
		}
		reply(w, r, n)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := session.Login(r.Context(), r.FormValue("user")); err != nil {
			fail(w, err)
			return
		}
		n, err := session.Get[int](r.Context(), "n")
		if err != nil {
			fail(w, err)
			return
		}
		reply(w, r, n)
	})
	mux.HandleFunc("POST /cart", func(w http.ResponseWriter, r *http.Request) {
		item := r.FormValue("item")
		if _, err := session.Update(r.Context(), "cart", func(c []string) ([]string, error) { return append(c, item), nil }); err != nil {
			fail(w, err)
			return
		}
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := session.Logout(r.Context()); err != nil {
			fail(w, err)
			return
		}
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		info, err := session.Info(r.Context())
		if err != nil {
			fail(w, err)
			return
		}
		cart, err := session.Get[[]string](r.Context(), "cart")
		if err != nil {
			fail(w, err)
			return
		}
		json.NewEncoder(w).Encode(whoami{Subject: info.Subject, Cart: cart, New: info.New,
			AuthTime: info.AuthTime.UnixNano(), Created: info.Created.UnixNano()})
	})
	return mux
}

// whoami is the answer of GET /whoami.
type whoami struct {
	Subject  string
	Cart     []string
	New      bool
	AuthTime int64
	Created  int64
}

// deadline gives each request's context a deadline, as an application
// bounds the time a request may spend on its dependencies.
func deadline(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// app is the application served on 127.0.0.1.
type app struct {
	*httptest.Server
	panics   atomic.Int64
	panicMsg atomic.Value // string: the first panic and its stack
}

// serve serves mgr's middleware around routes, with a per-request deadline
// when timeout is not zero. A panic anywhere in the request is recorded and
// answered with a 500, which fails the test.
func serve(t testing.TB, mgr *session.Manager, timeout time.Duration) *app {
	t.Helper()
	a := &app{}
	var h http.Handler = mgr.Handler(routes())
	if timeout > 0 {
		h = deadline(timeout, h)
	}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if a.panics.Add(1) == 1 {
					a.panicMsg.Store(fmt.Sprintf("%v\n%s", v, debug.Stack()))
				}
				http.Error(w, "panic", http.StatusInternalServerError)
			}
		}()
		if id := r.Header.Get("X-Client"); id != "" {
			r = r.WithContext(context.WithValue(r.Context(), clientKey{}, id))
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(a.Close)
	return a
}

// checkPanics fails the test if a request panicked.
func (a *app) checkPanics(t testing.TB) {
	t.Helper()
	if n := a.panics.Load(); n > 0 {
		t.Errorf("%d requests panicked; the first: %s", n, a.panicMsg.Load())
	}
}

// browser is one visitor with a cookie jar, for the tests that send a few
// requests by hand.
type browser struct {
	t   testing.TB
	jar *cookiejar.Jar
	hc  *http.Client
}

func newBrowser(t testing.TB, tr *http.Transport) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, jar: jar, hc: &http.Client{Jar: jar, Transport: tr, Timeout: clientTimeout}}
}

// newTransport returns a transport for the browsers of a test, which never
// uses a proxy.
func newTransport() *http.Transport { return &http.Transport{Proxy: nil} }

// response is what a browser got.
type response struct {
	status  int
	body    string
	header  http.Header
	elapsed time.Duration
}

// call sends a request and fails the test if there is no response.
func (b *browser) call(method, url string) response {
	b.t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	start := time.Now()
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: no response after %v: %v", method, url, time.Since(start).Round(time.Millisecond), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return response{status: resp.StatusCode, body: strings.TrimSpace(string(body)), header: resp.Header, elapsed: time.Since(start)}
}

// must sends a request that must succeed and returns the body.
func (b *browser) must(method, url string) string {
	b.t.Helper()
	r := b.call(method, url)
	if r.status != http.StatusOK {
		b.t.Fatalf("%s %s: %d %s", method, url, r.status, r.body)
	}
	return r.body
}

// whoami returns the browser's session as the app at base sees it.
func (b *browser) whoami(base string) whoami {
	b.t.Helper()
	var w whoami
	if err := json.Unmarshal([]byte(b.must(http.MethodGet, base+"/whoami")), &w); err != nil {
		b.t.Fatalf("whoami: %v", err)
	}
	return w
}

// cookie returns the value of the session cookie the browser holds for u.
func (b *browser) cookie(base string) string {
	for _, c := range b.jar.Cookies(mustURL(b.t, base)) {
		if c.Name == "session" {
			return c.Value
		}
	}
	return ""
}

func mustURL(t testing.TB, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
