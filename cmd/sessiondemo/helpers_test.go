package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// instance is the real program, started by Run on a free port.
type instance struct {
	URL    string // http://127.0.0.1:PORT
	Addr   string // 127.0.0.1:PORT
	stderr *syncBuffer
	stop   func() error
}

// start runs the app with args (after -addr 127.0.0.1:0, so a later -addr
// wins) until the test ends, and waits for its "listening" line.
func start(t *testing.T, args ...string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdoutR, stdoutW := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		err := Run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), stdoutW, stderr)
		stdoutW.Close()
		done <- err
	}()
	first := make(chan string, 1)
	go func() {
		br := bufio.NewReader(stdoutR)
		line, _ := br.ReadString('\n')
		first <- line
		io.Copy(io.Discard, br)
	}()
	var line string
	select {
	case line = <-first:
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("no listening line after 30s; stderr:\n%s", stderr)
	}
	const prefix = "sessiondemo listening on http://"
	if !strings.HasPrefix(line, prefix) {
		cancel()
		err := <-done
		t.Fatalf("Run printed %q, returned %v; stderr:\n%s", line, err, stderr)
	}
	addr := strings.TrimSpace(strings.TrimPrefix(line, prefix))
	in := &instance{URL: "http://" + addr, Addr: addr, stderr: stderr}
	in.stop = sync.OnceValue(func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			t.Errorf("Run did not return 20s after its context ended")
			return nil
		}
	})
	t.Cleanup(func() {
		if err := in.stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
		if t.Failed() {
			t.Logf("stderr of %s:\n%s", in.URL, stderr)
		}
	})
	return in
}

// sqliteURL returns a store URL for a new SQLite file in the test's
// temporary directory.
func sqliteURL(t *testing.T) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "sessions.db")
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// client is a browser stand-in: a cookie jar, no automatic redirects, and
// the last CSRF token of the pages it fetched. It sends Origin and
// Sec-Fetch-Site on posts as a browser does.
type client struct {
	t     *testing.T
	base  string
	jar   *cookiejar.Jar
	http  *http.Client
	token string
	ua    string
	// header is sent with every request (X-Forwarded-For from a proxy).
	header http.Header
}

func newClient(t *testing.T, base string) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{
		t: t, base: base, jar: jar, ua: "sessiondemo-test/1.0 (Linux)",
		http: &http.Client{
			Jar:           jar,
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// at returns a client with the same cookies that talks to another instance
// (one browser, two app servers behind a load balancer).
func (c *client) at(base string) *client {
	d := *c
	d.base = base
	return &d
}

type response struct {
	*http.Response
	Body string
}

var tokenRE = regexp.MustCompile(`name="csrf_token" value="([A-Za-z0-9_-]+)"`)

func (c *client) do(req *http.Request) *response {
	c.t.Helper()
	req.Header.Set("User-Agent", c.ua)
	for k, v := range c.header {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	if m := tokenRE.FindSubmatch(body); m != nil {
		c.token = string(m[1])
	}
	return &response{Response: resp, Body: string(body)}
}

func (c *client) get(path string) *response {
	c.t.Helper()
	req, err := http.NewRequest("GET", c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

// post sends a form like a browser on this site: with the last CSRF token
// unless form has one, and same-origin Fetch Metadata.
func (c *client) post(path string, form url.Values) *response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", c.token)
	}
	return c.postHeaders(path, form, map[string]string{"Origin": c.base, "Sec-Fetch-Site": "same-origin"})
}

// postHeaders sends form as it is, with the given headers.
func (c *client) postHeaders(path string, form url.Values, headers map[string]string) *response {
	c.t.Helper()
	req, err := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return c.do(req)
}

// follow gets the page a 303 points to.
func (c *client) follow(r *response) *response {
	c.t.Helper()
	if r.StatusCode != http.StatusSeeOther && r.StatusCode != http.StatusFound {
		c.t.Fatalf("%s %s: status %d, want a redirect; body:\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, r.Body)
	}
	return c.get(r.Header.Get("Location"))
}

// sessionCookie returns the value of the session cookie in the jar.
func (c *client) sessionCookie() string {
	u, _ := url.Parse(c.base)
	for _, ck := range c.jar.Cookies(u) {
		if ck.Name == "__Host-session" || ck.Name == "session" {
			return ck.Value
		}
	}
	return ""
}

// login signs in through the form and returns the page it lands on.
func (c *client) login(name, password string) *response {
	c.t.Helper()
	c.get("/login")
	r := c.post("/login", url.Values{"username": {name}, "password": {password}})
	if r.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("login %s: status %d, want 303; body:\n%s", name, r.StatusCode, r.Body)
	}
	return c.follow(r)
}

// addToCart adds one of product id from the catalog, and follows the
// redirect as a browser does: the first addition creates the session, and
// the page after it carries the session's CSRF token.
func (c *client) addToCart(id string) {
	c.t.Helper()
	if c.token == "" {
		c.get("/")
	}
	r := c.post("/cart/add", url.Values{"product": {id}})
	wantStatus(c.t, r, http.StatusSeeOther)
	c.follow(r)
}

func wantStatus(t *testing.T, r *response, code int) {
	t.Helper()
	if r.StatusCode != code {
		t.Fatalf("%s %s: status %d, want %d; body:\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, code, r.Body)
	}
}

func wantBody(t *testing.T, r *response, substrings ...string) {
	t.Helper()
	for _, s := range substrings {
		if !strings.Contains(r.Body, s) {
			t.Fatalf("%s %s: body lacks %q:\n%s", r.Request.Method, r.Request.URL.Path, s, r.Body)
		}
	}
}

func wantNoBody(t *testing.T, r *response, substrings ...string) {
	t.Helper()
	for _, s := range substrings {
		if strings.Contains(r.Body, s) {
			t.Fatalf("%s %s: body contains %q:\n%s", r.Request.Method, r.Request.URL.Path, s, r.Body)
		}
	}
}

// wantRedirect checks a 303 to a location starting with prefix.
func wantRedirect(t *testing.T, r *response, prefix string) {
	t.Helper()
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), prefix) {
		t.Fatalf("%s %s: status %d Location %q, want 303 to %s…", r.Request.Method, r.Request.URL.Path,
			r.StatusCode, r.Header.Get("Location"), prefix)
	}
}

var qtyRE = regexp.MustCompile(`(?s)id="line-([a-z]+)">.*?class="num qty">(\d+)<`)

// cartOf reads the cart page into product → quantity.
func (c *client) cartOf() map[string]string {
	c.t.Helper()
	r := c.get("/cart")
	wantStatus(c.t, r, http.StatusOK)
	out := map[string]string{}
	for _, m := range qtyRE.FindAllStringSubmatch(r.Body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

var storeOpRE = regexp.MustCompile(`(?m)^sessionkit_store_operation_duration_seconds_count\{op="([a-z_]+)",store="[^"]*"\} (\d+)$`)

// storeWrites scrapes /metrics for the number of store calls that write
// (commit, delete, touch, delete_subject) since the instance started.
func storeWrites(t *testing.T, in *instance) int {
	t.Helper()
	r := newClient(t, in.URL).get("/metrics")
	wantStatus(t, r, http.StatusOK)
	n := 0
	for _, m := range storeOpRE.FindAllStringSubmatch(r.Body, -1) {
		switch m[1] {
		case "commit", "delete", "touch", "delete_subject":
			k, _ := strconv.Atoi(m[2])
			n += k
		}
	}
	return n
}

// fromAddress returns a client like c (no cookies) that connects from the
// local address ip: another machine, as far as the app can tell (Linux
// routes all of 127.0.0.0/8 to the loopback interface).
func fromAddress(t *testing.T, base, ip string) *client {
	c := newClient(t, base)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c.http.Transport = &http.Transport{DialContext: d.DialContext}
	return c
}
