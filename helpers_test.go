package session_test

import (
	"context"
	"io"
	"log"
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

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
)

// clock is a manual clock for the manager and the store.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)} }
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// countingStore wraps a store and counts calls; fail makes every call fail.
type countingStore struct {
	session.Store
	loads, commits, deletes, touches atomic.Int64
	fail                             atomic.Bool
}

var errDown = &net503{}

type net503 struct{}

func (*net503) Error() string { return "store is down" }

func (s *countingStore) Load(ctx context.Context, id string) (*session.Record, error) {
	s.loads.Add(1)
	if s.fail.Load() {
		return nil, errDown
	}
	return s.Store.Load(ctx, id)
}

func (s *countingStore) Commit(ctx context.Context, rec *session.Record, expected uint64) error {
	s.commits.Add(1)
	if s.fail.Load() {
		return errDown
	}
	return s.Store.Commit(ctx, rec, expected)
}

func (s *countingStore) Delete(ctx context.Context, id string) error {
	s.deletes.Add(1)
	if s.fail.Load() {
		return errDown
	}
	return s.Store.Delete(ctx, id)
}

func (s *countingStore) Touch(ctx context.Context, id string, lastActive, idle time.Time) error {
	s.touches.Add(1)
	if s.fail.Load() {
		return errDown
	}
	return s.Store.(session.Toucher).Touch(ctx, id, lastActive, idle)
}

func (s *countingStore) ListSubject(ctx context.Context, subject string) ([]*session.Record, error) {
	if s.fail.Load() {
		return nil, errDown
	}
	return s.Store.(session.SubjectIndex).ListSubject(ctx, subject)
}

func (s *countingStore) DeleteSubject(ctx context.Context, subject string) (int, error) {
	if s.fail.Load() {
		return 0, errDown
	}
	return s.Store.(session.SubjectIndex).DeleteSubject(ctx, subject)
}

func (s *countingStore) calls() int64 {
	return s.loads.Load() + s.commits.Load() + s.deletes.Load() + s.touches.Load()
}

// env is a manager behind a real TLS server with a cookie-jar client.
type env struct {
	t      *testing.T
	clock  *clock
	store  *countingStore
	mgr    *session.Manager
	srv    *httptest.Server
	client *http.Client
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newEnv(t *testing.T, cfg session.Config, h http.Handler) *env {
	t.Helper()
	return newEnvWith(t, cfg, h, nil)
}

// newEnvWith is newEnv with the manager's store made by wrap from the
// counting memstore (nil: the counting memstore itself).
func newEnvWith(t *testing.T, cfg session.Config, h http.Handler, wrap func(*countingStore) session.Store) *env {
	t.Helper()
	c := newClock()
	mem := memstore.New(memstore.Options{Now: c.Now})
	t.Cleanup(func() { mem.Close() })
	cs := &countingStore{Store: mem}
	var store session.Store = cs
	if wrap != nil {
		store = wrap(cs)
	}
	if cfg.Now == nil {
		cfg.Now = c.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	m, err := session.New(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(m.Handler(h))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut short by srv.Close
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &env{t: t, clock: c, store: cs, mgr: m, srv: srv, client: newClient(t, srv)}
}

func newClient(t *testing.T, srv *httptest.Server) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Client()
	return &http.Client{Transport: c.Transport, Jar: jar}
}

// do sends a request and returns the response with its body read.
func (e *env) do(c *http.Client, method, path string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func (e *env) get(path string) (*http.Response, string) { return e.do(e.client, "GET", path) }

// token returns the session cookie the client holds.
func (e *env) token(c *http.Client) string {
	u, _ := url.Parse(e.srv.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if strings.HasSuffix(ck.Name, "session") {
			return ck.Value
		}
	}
	return ""
}

// withCookie sends a request carrying exactly the given Cookie header.
func (e *env) withCookie(path, cookie string) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	req.Header.Set("Cookie", cookie)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// liveRecords counts the records in the store that are sessions, not
// tombstones.
func (e *env) liveRecords() int {
	n := 0
	e.store.Store.(session.Iterator).Range(e.t.Context(), func(r *session.Record) bool {
		if !r.Tombstone() {
			n++
		}
		return true
	})
	return n
}

func newMem(t *testing.T) *memstore.Store {
	s := memstore.New(memstore.Options{})
	t.Cleanup(func() { s.Close() })
	return s
}

// inBackground sends GET path with the session token tok on a goroutine of
// its own; the channel yields its response (body closed), or nil if the
// request failed.
func (e *env) inBackground(path, tok string) <-chan *http.Response {
	done := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
		req.Header.Set("Cookie", "__Host-session="+tok)
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			done <- nil
			return
		}
		resp.Body.Close()
		done <- resp
	}()
	return done
}
