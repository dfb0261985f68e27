package csrf_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/csrf"
	"github.com/sessionkit/session/memstore"
)

const trusted = "https://trusted.example"

// app is a session-backed application behind csrf.Protection, served over
// TLS, with the refusals it saw.
type app struct {
	t     *testing.T
	ts    *httptest.Server
	store *flakyStore

	mu       sync.Mutex
	rejected []error
}

// flakyStore fails every load while down is set, and holds commits at a
// barrier when one is set.
type flakyStore struct {
	session.Store
	down    atomic.Bool
	barrier atomic.Pointer[barrier]
	commits atomic.Int64 // Commit calls
}

func (s *flakyStore) Commit(ctx context.Context, rec *session.Record, expected uint64) error {
	s.commits.Add(1)
	if b := s.barrier.Load(); b != nil {
		b.wait()
	}
	return s.Store.Commit(ctx, rec, expected)
}

// barrier holds its first n callers until all of them arrived (or a
// timeout), so that they race for real; later callers pass.
type barrier struct {
	n       int
	mu      sync.Mutex
	arrived int
	all     chan struct{}
}

func newBarrier(n int) *barrier { return &barrier{n: n, all: make(chan struct{})} }

func (b *barrier) wait() {
	b.mu.Lock()
	if b.arrived == b.n {
		b.mu.Unlock()
		return
	}
	b.arrived++
	if b.arrived == b.n {
		close(b.all)
	}
	b.mu.Unlock()
	select {
	case <-b.all:
	case <-time.After(5 * time.Second):
	}
}

func (s *flakyStore) Load(ctx context.Context, id string) (*session.Record, error) {
	if s.down.Load() {
		return nil, errors.New("store is down")
	}
	return s.Store.Load(ctx, id)
}

// newApp serves the test handlers behind a Protection made from opts;
// setup, if any, adjusts the Protection before it serves.
func newApp(t *testing.T, opts csrf.Options, setup ...func(*csrf.Protection)) *app {
	t.Helper()
	mem := memstore.New(memstore.Options{})
	t.Cleanup(func() { mem.Close() })
	a := &app{t: t, store: &flakyStore{Store: mem}}
	mgr, err := session.New(a.store, session.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if opts.OnReject == nil {
		opts.OnReject = func(r *http.Request, err error) {
			a.mu.Lock()
			a.rejected = append(a.rejected, err)
			a.mu.Unlock()
		}
	}
	p, err := csrf.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range setup {
		f(p)
	}
	fail := func(w http.ResponseWriter, err error) { http.Error(w, err.Error(), http.StatusInternalServerError) }
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "page") })
	mux.HandleFunc("GET /visit", func(w http.ResponseWriter, r *http.Request) {
		if err := session.Put(r.Context(), "seen", true); err != nil {
			fail(w, err)
		}
	})
	mux.HandleFunc("GET /token", func(w http.ResponseWriter, r *http.Request) {
		n := 1
		if r.FormValue("n") != "" {
			fmt.Sscan(r.FormValue("n"), &n)
		}
		var tokens []string
		for range n {
			tok, err := csrf.Token(r)
			if err != nil {
				fail(w, err)
				return
			}
			tokens = append(tokens, tok)
		}
		fmt.Fprint(w, strings.Join(tokens, "\n"))
	})
	mux.HandleFunc("GET /field", func(w http.ResponseWriter, r *http.Request) {
		field, err := csrf.TemplateField(r)
		if err != nil {
			fail(w, err)
			return
		}
		fmt.Fprint(w, field)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := session.Login(r.Context(), "alice"); err != nil {
			fail(w, err)
			return
		}
		if r.FormValue("render") == "" {
			fmt.Fprint(w, "ok")
			return
		}
		// Renders the next form in the same request as the login.
		tok, err := csrf.Token(r)
		if err != nil {
			fail(w, err)
			return
		}
		fmt.Fprint(w, tok)
	})
	mux.HandleFunc("/submit", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	a.ts = httptest.NewTLSServer(mgr.Handler(p.Handler(mux)))
	t.Cleanup(a.ts.Close)
	return a
}

// client is a browser: its own cookie jar.
func (a *app) client() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		a.t.Fatal(err)
	}
	c := *a.ts.Client()
	c.Jar = jar
	return &c
}

type response struct {
	status int
	body   string
	header http.Header
}

// do sends method path with body (a form when it is url.Values) and headers.
func (a *app) do(c *http.Client, method, path string, body any, header map[string]string) response {
	a.t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case string:
		rd, ctype = strings.NewReader(b), "application/json"
	default:
		a.t.Fatalf("body %T", body)
	}
	req, err := http.NewRequest(method, a.ts.URL+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return a.send(c, req)
}

func (a *app) send(c *http.Client, req *http.Request) response {
	a.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return response{resp.StatusCode, strings.TrimSpace(string(b)), resp.Header}
}

// token loads a page that renders a token.
func (a *app) token(c *http.Client) string {
	a.t.Helper()
	r := a.do(c, "GET", "/token", nil, nil)
	if r.status != 200 {
		a.t.Fatalf("GET /token: %d %s", r.status, r.body)
	}
	return r.body
}

// sessionToken gives c a session, then loads a page that renders a token:
// the session-bound kind.
func (a *app) sessionToken(c *http.Client) string {
	a.t.Helper()
	a.do(c, "GET", "/visit", nil, nil)
	tok := a.token(c)
	if len(tok) != 86 {
		a.t.Fatalf("token %q for a client with a session: length %d, want 86", tok, len(tok))
	}
	return tok
}

// lastRejection returns the reason OnReject saw last, and forgets them all.
func (a *app) lastRejection() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.rejected) == 0 {
		return nil
	}
	err := a.rejected[len(a.rejected)-1]
	a.rejected = nil
	return err
}

// check asserts the response status and, for a refusal, its reason.
func (a *app) check(t *testing.T, r response, status int, reason error) {
	t.Helper()
	got := a.lastRejection()
	if r.status != status {
		t.Fatalf("status %d (%s), want %d", r.status, r.body, status)
	}
	if reason == nil {
		if got != nil {
			t.Fatalf("refused with %v", got)
		}
		return
	}
	if !errors.Is(got, reason) {
		t.Fatalf("refused with %v, want %v", got, reason)
	}
	if want := "Forbidden - CSRF check failed: "; status == 403 && !strings.HasPrefix(r.body, want) {
		t.Fatalf("body %q, want it to start with %q", r.body, want)
	}
}

func TestLayers(t *testing.T) {
	a := newApp(t, csrf.Options{TrustedOrigins: []string{trusted}})
	self := a.ts.URL // https://127.0.0.1:port, the origin a browser would send
	for _, tc := range []struct {
		name   string
		method string
		header map[string]string // besides the token's
		via    string            // "form", "header" or "" (no token)
		status int
		reason error
	}{
		{name: "same-origin POST with form token", method: "POST", via: "form", header: map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": self}, status: 200},
		{name: "header token for scripts", method: "POST", via: "header", header: map[string]string{"Sec-Fetch-Site": "same-origin"}, status: 200},
		{name: "PUT with header token", method: "PUT", via: "header", status: 200},
		{name: "PATCH with header token", method: "PATCH", via: "header", status: 200},
		{name: "DELETE with header token", method: "DELETE", via: "header", status: 200},
		{name: "user-initiated (none) with token", method: "POST", via: "form", header: map[string]string{"Sec-Fetch-Site": "none"}, status: 200},
		{name: "non-browser client with token", method: "POST", via: "form", status: 200},

		{name: "no token although same-origin", method: "POST", header: map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": self}, status: 403, reason: csrf.ErrMissingToken},
		{name: "no token on PUT", method: "PUT", status: 403, reason: csrf.ErrMissingToken},
		{name: "no token on DELETE", method: "DELETE", status: 403, reason: csrf.ErrMissingToken},
		{name: "no token on a custom method", method: "PURGE", status: 403, reason: csrf.ErrMissingToken},

		{name: "cross-site with valid token", method: "POST", via: "form", header: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, status: 403, reason: csrf.ErrCrossOrigin},
		{name: "cross-site with valid header token", method: "DELETE", via: "header", header: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: 403, reason: csrf.ErrCrossOrigin},
		{name: "same-site is not trusted by default", method: "POST", via: "form", header: map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://sub.127.0.0.1.nip.io"}, status: 403, reason: csrf.ErrCrossOrigin},
		{name: "same-site from a trusted origin", method: "POST", via: "form", header: map[string]string{"Sec-Fetch-Site": "same-site", "Origin": trusted}, status: 200},
		{name: "trusted origin still needs a token", method: "POST", header: map[string]string{"Sec-Fetch-Site": "same-site", "Origin": trusted}, status: 403, reason: csrf.ErrMissingToken},
		{name: "unknown Sec-Fetch-Site value", method: "POST", via: "form", header: map[string]string{"Sec-Fetch-Site": "same-origin, cross-site"}, status: 403, reason: csrf.ErrCrossOrigin},

		{name: "no Sec-Fetch-Site: foreign Origin", method: "POST", via: "form", header: map[string]string{"Origin": "https://evil.example"}, status: 403, reason: csrf.ErrCrossOrigin},
		{name: "no Sec-Fetch-Site: Origin null", method: "POST", via: "form", header: map[string]string{"Origin": "null"}, status: 403, reason: csrf.ErrCrossOrigin},
		{name: "no Sec-Fetch-Site: own Origin", method: "POST", via: "form", header: map[string]string{"Origin": self}, status: 200},
		{name: "no Sec-Fetch-Site: exact trusted Origin", method: "POST", via: "form", header: map[string]string{"Origin": trusted}, status: 200},
		{name: "no Sec-Fetch-Site: own Origin without a token", method: "POST", header: map[string]string{"Origin": self}, status: 403, reason: csrf.ErrMissingToken},
		{name: "lookalike: trusted origin as a prefix", method: "POST", via: "form", header: map[string]string{"Origin": trusted + ".evil.example"}, status: 403, reason: csrf.ErrCrossOrigin},
		{name: "lookalike: trusted origin as a suffix", method: "POST", via: "form", header: map[string]string{"Origin": "https://untrusted.example"}, status: 403, reason: csrf.ErrCrossOrigin},
		{name: "lookalike: trusted origin with a port", method: "POST", via: "form", header: map[string]string{"Origin": trusted + ":8443"}, status: 403, reason: csrf.ErrCrossOrigin},
		{name: "lookalike: trusted origin over http", method: "POST", via: "form", header: map[string]string{"Origin": "http://trusted.example"}, status: 403, reason: csrf.ErrCrossOrigin},
		{name: "lookalike: trusted origin with a slash", method: "POST", via: "form", header: map[string]string{"Origin": trusted + "/"}, status: 403, reason: csrf.ErrCrossOrigin},
		{name: "lookalike: trusted origin same-site, prefix", method: "POST", via: "form", header: map[string]string{"Sec-Fetch-Site": "same-site", "Origin": trusted + ".evil.example"}, status: 403, reason: csrf.ErrCrossOrigin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := a.client()
			tok := a.token(c)
			header := map[string]string{}
			for k, v := range tc.header {
				header[k] = v
			}
			var body any = `{"json":true}`
			switch tc.via {
			case "form":
				body = url.Values{"csrf_token": {tok}, "text": {"hello"}}
			case "header":
				header["X-CSRF-Token"] = tok
			}
			a.check(t, a.do(c, tc.method, "/submit", body, header), tc.status, tc.reason)
		})
	}
}

func TestTokenNotInURL(t *testing.T) {
	a := newApp(t, csrf.Options{})
	c := a.client()
	tok := a.token(c)
	r := a.do(c, "POST", "/submit?csrf_token="+url.QueryEscape(tok), url.Values{"text": {"x"}}, nil)
	a.check(t, r, 403, csrf.ErrMissingToken)
}

func TestMultipartForm(t *testing.T) {
	a := newApp(t, csrf.Options{})
	c := a.client()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf_token", a.token(c))
	fw, _ := mw.CreateFormFile("upload", "a.txt")
	fw.Write(bytes.Repeat([]byte("x"), 1<<10))
	mw.Close()
	req, _ := http.NewRequest("POST", a.ts.URL+"/submit", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	a.check(t, a.send(c, req), 200, nil)
}

func TestOtherSession(t *testing.T) {
	a := newApp(t, csrf.Options{})
	alice, mallory := a.client(), a.client()
	stolen := a.sessionToken(alice)
	own := a.sessionToken(mallory)
	for _, tc := range []struct {
		name   string
		client *http.Client
		token  string
		status int
		reason error
	}{
		{name: "another session's token", client: mallory, token: stolen, status: 403, reason: csrf.ErrBadToken},
		{name: "another session's token, no session at all", client: a.client(), token: stolen, status: 403, reason: csrf.ErrBadToken},
		{name: "own token", client: mallory, token: own, status: 200},
		{name: "alice's own token", client: alice, token: stolen, status: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.do(tc.client, "POST", "/submit", url.Values{"csrf_token": {tc.token}}, map[string]string{"Sec-Fetch-Site": "same-origin"})
			a.check(t, r, tc.status, tc.reason)
		})
	}
}

func TestRenewRotates(t *testing.T) {
	a := newApp(t, csrf.Options{})
	c := a.client()
	post := func(tok string) response {
		return a.do(c, "POST", "/submit", url.Values{"csrf_token": {tok}}, nil)
	}
	before := a.token(c)
	a.check(t, a.do(c, "POST", "/login", url.Values{"csrf_token": {before}}, nil), 200, nil)
	a.check(t, post(before), 403, csrf.ErrBadToken)
	after := a.token(c)
	a.check(t, post(after), 200, nil)
	a.check(t, post(before), 403, csrf.ErrBadToken)

	// A login that renders the next form in the same response: that form's
	// token belongs to the renewed session.
	r := a.do(c, "POST", "/login", url.Values{"csrf_token": {after}, "render": {"1"}}, nil)
	a.check(t, r, 200, nil)
	a.check(t, post(after), 403, csrf.ErrBadToken)
	a.check(t, post(r.body), 200, nil)
}

func TestMasking(t *testing.T) {
	a := newApp(t, csrf.Options{})
	c := a.client()
	first := a.sessionToken(c)
	r := a.do(c, "GET", "/token?n=5", nil, nil)
	tokens := append(strings.Split(r.body, "\n"), first, a.token(c))
	seen := map[string]bool{}
	for _, tok := range tokens {
		if len(tok) != 86 {
			t.Fatalf("token %q: length %d, want 86", tok, len(tok))
		}
		if seen[tok] {
			t.Fatalf("token %q issued twice", tok)
		}
		seen[tok] = true
	}
	for i, tok := range tokens {
		a.check(t, a.do(c, "POST", "/submit", nil, map[string]string{"X-CSRF-Token": tok}), 200, nil)
		// A token stays valid after use.
		if i == 0 {
			a.check(t, a.do(c, "POST", "/submit", nil, map[string]string{"X-CSRF-Token": tok}), 200, nil)
		}
	}
}

func TestSafeMethods(t *testing.T) {
	a := newApp(t, csrf.Options{})
	for _, method := range []string{"GET", "HEAD", "OPTIONS", "TRACE"} {
		t.Run(method, func(t *testing.T) {
			c := a.client()
			r := a.do(c, method, "/page", nil, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
			a.check(t, r, 200, nil)
			if sc := r.header.Values("Set-Cookie"); len(sc) > 0 {
				t.Fatalf("Set-Cookie %q on a %s that needs no session", sc, method)
			}
		})
	}
}

func TestRefusalCreatesNoSession(t *testing.T) {
	a := newApp(t, csrf.Options{})
	r := a.do(a.client(), "POST", "/submit", url.Values{"text": {"x"}}, nil)
	a.check(t, r, 403, csrf.ErrMissingToken)
	if sc := r.header.Values("Set-Cookie"); len(sc) > 0 {
		t.Fatalf("Set-Cookie %q on a refused request", sc)
	}
}

func TestMalformedTokens(t *testing.T) {
	a := newApp(t, csrf.Options{})
	c := a.client()
	valid := a.sessionToken(c)
	// The last character of a token carries 2 data bits and 4 zero bits:
	// flipping a zero bit spells the same bytes non-canonically.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, valid[85])
	nonCanonical := valid[:85] + string(alphabet[last^1])
	for _, tc := range []struct {
		name   string
		value  string
		header bool
		reason error
	}{
		{name: "huge form value", value: strings.Repeat("A", 1<<20), reason: csrf.ErrMalformedToken},
		{name: "huge header", value: strings.Repeat("A", 32<<10), header: true, reason: csrf.ErrMalformedToken},
		{name: "NUL bytes", value: strings.Repeat("\x00", 86), reason: csrf.ErrMalformedToken},
		{name: "NUL inside a valid token", value: valid[:40] + "\x00" + valid[41:], reason: csrf.ErrMalformedToken},
		{name: "standard alphabet", value: strings.Repeat("+/", 43), reason: csrf.ErrMalformedToken},
		{name: "padded", value: valid[:84] + "==", reason: csrf.ErrMalformedToken},
		{name: "one short", value: valid[:85], reason: csrf.ErrMalformedToken},
		{name: "one long", value: valid + "A", header: true, reason: csrf.ErrMalformedToken},
		{name: "newline inside", value: valid[:40] + "\n" + valid[41:], reason: csrf.ErrMalformedToken},
		{name: "non-canonical spelling", value: nonCanonical, reason: csrf.ErrMalformedToken},
		{name: "non-ASCII", value: strings.Repeat("é", 43), reason: csrf.ErrMalformedToken},
		{name: "the session ID shape", value: strings.Repeat("a", 43), header: true, reason: csrf.ErrMalformedToken},
		{name: "well formed, wrong secret", value: strings.Repeat("A", 86), header: true, reason: csrf.ErrBadToken},
		{name: "well formed, random", value: "x" + valid[1:85] + "A", reason: csrf.ErrBadToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r response
			if tc.header {
				r = a.do(c, "POST", "/submit", nil, map[string]string{"X-CSRF-Token": tc.value})
			} else {
				r = a.do(c, "POST", "/submit", url.Values{"csrf_token": {tc.value}}, nil)
			}
			a.check(t, r, 403, tc.reason)
			if len(r.body) > 200 || strings.Contains(r.body, tc.value) {
				t.Fatalf("the response reflects the token: %.200q", r.body)
			}
		})
	}
}

func TestConcurrentFirstTokens(t *testing.T) {
	a := newApp(t, csrf.Options{})
	c := a.client()
	a.do(c, "GET", "/visit", nil, nil) // a session without a secret
	tokens := make([]string, 8)
	// All eight requests write their new secret at once: one wins, and the
	// others must adopt it.
	a.store.barrier.Store(newBarrier(len(tokens)))
	var wg sync.WaitGroup
	for i := range tokens {
		wg.Go(func() { tokens[i] = a.token(c) })
	}
	wg.Wait()
	for _, tok := range tokens {
		a.check(t, a.do(c, "POST", "/submit", nil, map[string]string{"X-CSRF-Token": tok}), 200, nil)
	}
}

func TestTemplateField(t *testing.T) {
	re := regexp.MustCompile(`^<input type="hidden" name="([a-z_]+)" value="([A-Za-z0-9_-]{76}|[A-Za-z0-9_-]{86})">$`)
	for _, tc := range []struct {
		name    string
		field   string
		want    string
		session bool
	}{
		{name: "default field", want: "csrf_token"},
		{name: "default field, with a session", want: "csrf_token", session: true},
		{name: "custom field", field: "authenticity_token", want: "authenticity_token"},
		{name: "custom field, with a session", field: "authenticity_token", want: "authenticity_token", session: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newApp(t, csrf.Options{FieldName: tc.field})
			c := a.client()
			if tc.session {
				a.do(c, "GET", "/visit", nil, nil)
			}
			r := a.do(c, "GET", "/field", nil, nil)
			m := re.FindStringSubmatch(r.body)
			if m == nil || m[1] != tc.want {
				t.Fatalf("field %q, want an input named %q", r.body, tc.want)
			}
			a.check(t, a.do(c, "POST", "/submit", url.Values{m[1]: {m[2]}}, nil), 200, nil)
			if tc.field != "" {
				a.check(t, a.do(c, "POST", "/submit", url.Values{"csrf_token": {m[2]}}, nil), 403, csrf.ErrMissingToken)
			}
		})
	}
}

func TestStoreDown(t *testing.T) {
	a := newApp(t, csrf.Options{})
	c := a.client()
	tok := a.sessionToken(c)
	a.store.down.Store(true)
	defer a.store.down.Store(false)
	r := a.do(c, "POST", "/submit", url.Values{"csrf_token": {tok}}, nil)
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("status %d (%s), want 503 from the session manager", r.status, r.body)
	}
	if err := a.lastRejection(); err == nil || errors.Is(err, csrf.ErrBadToken) {
		t.Fatalf("reason %v, want a store failure", err)
	}
}

func TestErrorHandler(t *testing.T) {
	var got error
	a := newApp(t, csrf.Options{
		OnReject: func(r *http.Request, err error) { got = err },
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, csrf.ErrMissingToken) {
				http.Error(w, "reload the page", http.StatusTeapot)
			}
		},
	})
	r := a.do(a.client(), "POST", "/submit", url.Values{}, nil)
	if r.status != http.StatusTeapot || r.body != "reload the page" {
		t.Fatalf("got %d %q", r.status, r.body)
	}
	if !errors.Is(got, csrf.ErrMissingToken) {
		t.Fatalf("OnReject got %v", got)
	}
}

func TestNew(t *testing.T) {
	if _, err := csrf.New(); err != nil {
		t.Fatalf("New() = %v; want the defaults", err)
	}
	if _, err := csrf.New(csrf.Options{}, csrf.Options{}); err == nil {
		t.Fatal("New with two Options succeeded")
	}
	for _, tc := range []struct {
		name string
		opts csrf.Options
		ok   bool
	}{
		{name: "zero", ok: true},
		{name: "trusted origins", opts: csrf.Options{TrustedOrigins: []string{"https://a.example", "http://localhost:8080"}}, ok: true},
		{name: "origin with a path", opts: csrf.Options{TrustedOrigins: []string{"https://a.example/"}}},
		{name: "origin without a scheme", opts: csrf.Options{TrustedOrigins: []string{"a.example"}}},
		{name: "wildcard origin", opts: csrf.Options{TrustedOrigins: []string{"https://*.example"}}},
		{name: "uppercase origin", opts: csrf.Options{TrustedOrigins: []string{"https://A.example"}}},
		{name: "origin with user info", opts: csrf.Options{TrustedOrigins: []string{"https://u@a.example"}}},
		{name: "origin with a query", opts: csrf.Options{TrustedOrigins: []string{"https://a.example?"}}},
		{name: "empty origin", opts: csrf.Options{TrustedOrigins: []string{""}}},
		{name: "bad header name", opts: csrf.Options{HeaderName: "X CSRF"}},
		{name: "key", opts: csrf.Options{Key: bytes.Repeat([]byte{1}, 32)}, ok: true},
		{name: "short key", opts: csrf.Options{Key: bytes.Repeat([]byte{1}, 31)}},
		{name: "empty key", opts: csrf.Options{Key: []byte{}}},
		{name: "TTL", opts: csrf.Options{SessionlessTTL: time.Minute}, ok: true},
		{name: "negative TTL", opts: csrf.Options{SessionlessTTL: -time.Minute}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := csrf.New(tc.opts)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v", err, tc.ok)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "csrf: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestTokenMisuse(t *testing.T) {
	t.Run("without the session middleware", func(t *testing.T) {
		_, err := csrf.Token(httptest.NewRequest("GET", "/", nil))
		if !errors.Is(err, session.ErrNoMiddleware) {
			t.Fatalf("err = %v, want ErrNoMiddleware", err)
		}
	})
	t.Run("first token of a session after the response started", func(t *testing.T) {
		mem := memstore.New(memstore.Options{})
		defer mem.Close()
		mgr, _ := session.New(mem, session.Config{Logger: slog.New(slog.DiscardHandler)})
		var err error
		h := mgr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/visit" {
				session.Put(r.Context(), "seen", true)
				return
			}
			w.WriteHeader(200)
			_, err = csrf.Token(r)
		}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/visit", nil))
		req := httptest.NewRequest("GET", "/", nil)
		for _, c := range w.Result().Cookies() {
			req.AddCookie(c)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
		if !errors.Is(err, session.ErrResponseStarted) {
			t.Fatalf("err = %v, want ErrResponseStarted", err)
		}
	})
	t.Run("sessionless token after the response started", func(t *testing.T) {
		// It needs no session write, so it can still be made.
		mem := memstore.New(memstore.Options{})
		defer mem.Close()
		mgr, _ := session.New(mem, session.Config{Logger: slog.New(slog.DiscardHandler)})
		var (
			tok string
			err error
		)
		h := mgr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			tok, err = csrf.Token(r)
		}))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		if err != nil || len(tok) != 76 {
			t.Fatalf("Token = %q, %v; want a sessionless token", tok, err)
		}
	})
}
