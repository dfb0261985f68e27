package dbsc_test

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/dbsc"
	"github.com/sessionkit/session/memstore"
)

// clock is a manual clock for the session manager, its store and the
// binder: expiry is tested without sleeping.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// env is an application with DBSC behind session.Manager's middleware,
// over TLS, with the events the binder reported.
type env struct {
	t      *testing.T
	clock  *clock
	store  *memstore.Store
	mgr    *session.Manager
	binder *dbsc.Binder
	srv    *httptest.Server
	client *http.Client // follows no redirect: the tests look at each

	mu     sync.Mutex
	events []dbsc.Event
}

func newEnv(t *testing.T, cfg dbsc.Config) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}}
	e.store = memstore.New(memstore.Options{Now: e.clock.Now})
	mgr, err := session.New(e.store, session.Config{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.mgr = mgr
	cfg.OnEvent = func(_ context.Context, ev dbsc.Event) {
		ev.Request = nil
		e.mu.Lock()
		e.events = append(e.events, ev)
		e.mu.Unlock()
	}
	if e.binder, err = dbsc.New(mgr, cfg); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := session.Login(r.Context(), r.FormValue("user")); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		if err := e.binder.Offer(w, r); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("POST /renew", func(w http.ResponseWriter, r *http.Request) {
		if err := session.Renew(r.Context()); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		if err := e.binder.Offer(w, r); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		session.Logout(r.Context())
	})
	mux.Handle("POST /dbsc/registration", e.binder.Registration())
	mux.Handle("POST /dbsc/refresh", e.binder.Refresh())
	mux.Handle("GET /bound", e.binder.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "secret of "+session.Subject(r.Context()))
	})))
	mux.Handle("GET /prefer", e.binder.Prefer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello "+session.Subject(r.Context()))
	})))
	e.srv = httptest.NewUnstartedServer(mgr.Handler(mux))
	e.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut short by Close
	e.srv.StartTLS()
	e.client = &http.Client{
		Transport:     e.srv.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(e.srv.Close)
	return e
}

// takeEvents returns the events reported since the last call.
func (e *env) takeEvents() []dbsc.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	evs := e.events
	e.events = nil
	return evs
}

// lastEvent returns the last event reported, and forgets them all.
func (e *env) lastEvent() dbsc.Event {
	evs := e.takeEvents()
	if len(evs) == 0 {
		return dbsc.Event{}
	}
	return evs[len(evs)-1]
}

// jarCookie is a cookie the browser holds, with its deadline on the test
// clock.
type jarCookie struct {
	value   string
	expires time.Time // zero: a browser-session cookie
}

// browser plays a browser that implements DBSC: it keeps cookies on the
// test clock, registers when a response offers it, and refreshes the bound
// cookie before a request in scope when it is missing (spec sections
// "Process session registration", "Send request", "Identify session
// needing refresh").
type browser struct {
	t   *testing.T
	e   *env
	key *deviceKey

	cookies map[string]jarCookie

	offer      *offer // the last registration offered
	sessionID  string // the DBSC session identifier; "" when none
	refreshURL string
	credential string // the bound cookie's name
	// lastProof is the last refresh proof sent, for replay attacks.
	lastProof string
}

type offer struct {
	algs      []string
	path      string
	challenge string
}

func (e *env) newBrowser(key *deviceKey) *browser {
	return &browser{t: e.t, e: e, key: key, cookies: map[string]jarCookie{}}
}

// clone returns a browser with every cookie of br but another key (nil:
// none), and br's DBSC session: malware that copied the cookie store.
func (br *browser) clone(key *deviceKey) *browser {
	c := br.e.newBrowser(key)
	for k, v := range br.cookies {
		c.cookies[k] = v
	}
	c.sessionID, c.refreshURL, c.credential = br.sessionID, br.refreshURL, br.credential
	return c
}

// send makes a request with the browser's live cookies and keeps the
// cookies of the response.
func (br *browser) send(method, path string, header http.Header) *http.Response {
	br.t.Helper()
	req, err := http.NewRequest(method, br.e.srv.URL+path, nil)
	if err != nil {
		br.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	now := br.e.clock.Now()
	for name, c := range br.cookies {
		if c.expires.IsZero() || now.Before(c.expires) {
			req.AddCookie(&http.Cookie{Name: name, Value: c.value})
		}
	}
	resp, err := br.e.client.Do(req)
	if err != nil {
		br.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	for _, c := range resp.Cookies() {
		switch {
		case c.MaxAge < 0:
			delete(br.cookies, c.Name)
		case c.MaxAge > 0:
			br.cookies[c.Name] = jarCookie{value: c.Value, expires: now.Add(time.Duration(c.MaxAge) * time.Second)}
		default:
			br.cookies[c.Name] = jarCookie{value: c.Value}
		}
	}
	if v := resp.Header.Get("Secure-Session-Registration"); v != "" {
		br.offer = parseOffer(br.t, v)
	}
	return resp
}

var offerRE = regexp.MustCompile(`^\(([A-Z0-9 ]+)\);path="([^"]+)";challenge="([^"]+)"$`)

func parseOffer(t *testing.T, v string) *offer {
	m := offerRE.FindStringSubmatch(v)
	if m == nil {
		t.Fatalf("Secure-Session-Registration %q is not (algs);path=...;challenge=...", v)
	}
	return &offer{algs: strings.Fields(m[1]), path: m[2], challenge: m[3]}
}

var challengeRE = regexp.MustCompile(`^"([^"]+)";id="([^"]+)"$`)

// challengeOf returns the challenge of a 403 refresh response.
func challengeOf(t *testing.T, resp *http.Response) string {
	t.Helper()
	m := challengeRE.FindStringSubmatch(resp.Header.Get("Secure-Session-Challenge"))
	if resp.StatusCode != http.StatusForbidden || m == nil {
		t.Fatalf("refresh answered %d with Secure-Session-Challenge %q; want 403 with a challenge", resp.StatusCode, resp.Header.Get("Secure-Session-Challenge"))
	}
	return m[1]
}

func sfString(s string) string { return `"` + s + `"` }

func readBody(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

type instructions struct {
	SessionIdentifier string `json:"session_identifier"`
	RefreshURL        string `json:"refresh_url"`
	Continue          *bool  `json:"continue"`
	Scope             *struct {
		Origin      string `json:"origin"`
		IncludeSite *bool  `json:"include_site"`
	} `json:"scope"`
	Credentials []struct {
		Type       string `json:"type"`
		Name       string `json:"name"`
		Attributes string `json:"attributes"`
	} `json:"credentials"`
}

// instructions reads a session instructions body; continue false ends the
// browser's DBSC session (spec section "Create session").
func (br *browser) instructions(resp *http.Response) instructions {
	br.t.Helper()
	var in instructions
	if err := json.Unmarshal([]byte(readBody(resp)), &in); err != nil {
		br.t.Fatalf("instructions: %v", err)
	}
	if in.Continue != nil && !*in.Continue {
		br.sessionID = ""
		return in
	}
	if in.SessionIdentifier == "" || in.Scope == nil || in.Scope.IncludeSite == nil || len(in.Credentials) != 1 {
		br.t.Fatalf("instructions %+v lack a required member", in)
	}
	br.sessionID, br.refreshURL, br.credential = in.SessionIdentifier, in.RefreshURL, in.Credentials[0].Name
	return in
}

// login logs in as user; the response offers registration.
func (br *browser) login(user string) {
	br.t.Helper()
	resp := br.send("POST", "/login?user="+user, nil)
	if resp.StatusCode != 200 || br.offer == nil {
		br.t.Fatalf("login: %d, offer %v", resp.StatusCode, br.offer)
	}
}

// registration posts a registration proof for the last offer.
func (br *browser) registration(proof string) *http.Response {
	return br.send("POST", br.offer.path, http.Header{"Secure-Session-Response": {sfString(proof)}})
}

// register registers br's key, as a browser does after an offer.
func (br *browser) register() instructions {
	br.t.Helper()
	resp := br.registration(br.key.proof(br.offer.challenge, true))
	if resp.StatusCode != 200 {
		br.t.Fatalf("registration: %d %s", resp.StatusCode, readBody(resp))
	}
	return br.instructions(resp)
}

// refreshRequest posts to the refresh URL with proof, if not "".
func (br *browser) refreshRequest(sessionID, proof string) *http.Response {
	h := http.Header{"Sec-Secure-Session-Id": {sfString(sessionID)}}
	if proof != "" {
		h.Set("Secure-Session-Response", sfString(proof))
	}
	return br.send("POST", br.refreshURL, h)
}

// refresh runs a refresh as the browser does: a request without proof,
// the 403 with a challenge, the signed answer.
func (br *browser) refresh() *http.Response {
	br.t.Helper()
	ch := challengeOf(br.t, br.refreshRequest(br.sessionID, ""))
	br.lastProof = br.key.proof(ch, false)
	return br.refreshRequest(br.sessionID, br.lastProof)
}

// get fetches path, refreshing first when the bound cookie is missing, as
// the browser defers a request in the session's scope.
func (br *browser) get(path string) *http.Response {
	br.t.Helper()
	if br.sessionID != "" && br.key != nil {
		c, ok := br.cookies[br.credential]
		if !ok || !br.e.clock.Now().Before(c.expires) {
			resp := br.refresh()
			if resp.StatusCode == 200 {
				br.instructions(resp)
			}
		}
	}
	return br.send("GET", path, nil)
}
