package csrf_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/session/csrf"
)

// tokenRE finds tokens of either kind in a page.
var tokenRE = regexp.MustCompile(`[A-Za-z0-9_-]{76,}`)

// fromAddress returns a client of a that connects from the local address
// ip (another host on the loopback network, 127.0.0.0/8 on Linux).
func (a *app) fromAddress(ip string) *http.Client {
	c := a.client()
	tr := a.ts.Client().Transport.(*http.Transport).Clone()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr.DialContext = d.DialContext
	c.Transport = tr
	return c
}

// TestSessionlessPageWritesNothing: a visitor without a session who loads a
// page with a form gets a token, no cookie, and costs no store write.
func TestSessionlessPageWritesNothing(t *testing.T) {
	a := newApp(t, csrf.Options{})
	c := a.client()
	seen := map[string]bool{}
	for _, path := range []string{"/token?n=3", "/field", "/token"} {
		r := a.do(c, "GET", path, nil, nil)
		if r.status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		if sc := r.header.Values("Set-Cookie"); len(sc) > 0 {
			t.Fatalf("GET %s set a cookie: %q", path, sc)
		}
		for _, tok := range tokenRE.FindAllString(r.body, -1) {
			if len(tok) != 76 || seen[tok] {
				t.Fatalf("GET %s: token %q (length %d, seen before %v), want a new 76-character token", path, tok, len(tok), seen[tok])
			}
			seen[tok] = true
		}
	}
	if len(seen) != 5 {
		t.Fatalf("%d tokens, want 5", len(seen))
	}
	if n := a.store.commits.Load(); n != 0 {
		t.Fatalf("%d store writes for a visitor without a session, want 0", n)
	}
}

// TestSessionlessLogin: the login form of a visitor without a session
// works with its sessionless token; the same token is worthless once the
// session exists, and forged, foreign, stale or missing ones never work.
func TestSessionlessLogin(t *testing.T) {
	a := newApp(t, csrf.Options{TrustedOrigins: []string{trusted}})
	c := a.client()
	tok := a.token(c)
	if len(tok) != 76 {
		t.Fatalf("token %q for a visitor without a session, want 76 characters", tok)
	}
	sameOrigin := map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": a.ts.URL}
	login := func(c *http.Client, tok string, header map[string]string) response {
		form := url.Values{}
		if tok != "" {
			form.Set("csrf_token", tok)
		}
		return a.do(c, "POST", "/login", form, header)
	}

	// Refused before the login: none of these creates a session.
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	forged := bytes.Clone(raw)
	forged[len(forged)-1] ^= 1 // the MAC
	later := bytes.Clone(raw)
	later[8]++ // the issue time, one second later
	for _, tc := range []struct {
		name   string
		client *http.Client
		token  string
		header map[string]string
		reason error
	}{
		{name: "missing, though same-origin", client: c, header: sameOrigin, reason: csrf.ErrMissingToken},
		{name: "forged MAC", client: c, token: base64.RawURLEncoding.EncodeToString(forged), header: sameOrigin, reason: csrf.ErrBadToken},
		{name: "issue time changed", client: c, token: base64.RawURLEncoding.EncodeToString(later), header: sameOrigin, reason: csrf.ErrBadToken},
		{name: "all zero", client: c, token: base64.RawURLEncoding.EncodeToString(make([]byte, 57)), header: sameOrigin, reason: csrf.ErrMalformedToken},
		{name: "cross-site, valid token", client: c, token: tok, header: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, reason: csrf.ErrCrossOrigin},
		{name: "same-site, valid token", client: c, token: tok, header: map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://sub.127.0.0.1.nip.io"}, reason: csrf.ErrCrossOrigin},
		{name: "no Fetch Metadata, foreign Origin", client: c, token: tok, header: map[string]string{"Origin": "https://evil.example"}, reason: csrf.ErrCrossOrigin},
		// Login CSRF from a browser without Fetch Metadata: the attacker
		// fetched a token for itself; the victim is at another address.
		{name: "issued to another address", client: a.fromAddress("127.0.0.2"), token: tok, reason: csrf.ErrBadToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := login(tc.client, tc.token, tc.header)
			a.check(t, r, 403, tc.reason)
			if sc := r.header.Values("Set-Cookie"); len(sc) > 0 {
				t.Fatalf("a refused login set a cookie: %q", sc)
			}
		})
	}
	if n := a.store.commits.Load(); n != 0 {
		t.Fatalf("refused requests wrote %d times to the store", n)
	}

	// The login itself, from a trusted origin too.
	other := a.client()
	a.check(t, login(other, a.token(other), map[string]string{"Sec-Fetch-Site": "same-site", "Origin": trusted}), 200, nil)
	r := login(c, tok, sameOrigin)
	a.check(t, r, 200, nil)
	if len(r.header.Values("Set-Cookie")) == 0 {
		t.Fatal("the login set no cookie")
	}

	// Now that c has a session, its sessionless token is worthless, and
	// so is a new one made for someone without a session.
	a.check(t, login(c, tok, sameOrigin), 403, csrf.ErrBadToken)
	a.check(t, login(c, a.token(a.client()), sameOrigin), 403, csrf.ErrBadToken)
	a.check(t, a.do(c, "POST", "/submit", nil, map[string]string{"X-CSRF-Token": tok}), 403, csrf.ErrBadToken)
	// Its pages carry the session-bound kind, which works.
	own := a.token(c)
	if len(own) != 86 {
		t.Fatalf("token %q after the login, want the 86-character session-bound kind", own)
	}
	a.check(t, a.do(c, "POST", "/submit", nil, map[string]string{"X-CSRF-Token": own}), 200, nil)
}

// TestSessionlessBinding: a sessionless token is good for the key, host and
// client it was made for.
func TestSessionlessBinding(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	a := newApp(t, csrf.Options{Key: key})
	b := newApp(t, csrf.Options{Key: key})                             // another instance, same key
	other := newApp(t, csrf.Options{Key: bytes.Repeat([]byte{8}, 32)}) // another key
	dflt := newApp(t, csrf.Options{})                                  // the process key
	byHeader := newApp(t, csrf.Options{ClientKey: func(r *http.Request) (string, bool) {
		return r.Header.Get("X-Client"), true
	}})
	// The instances sit behind one name, as behind a load balancer: the
	// token is bound to the Host the browser sends.
	const host = "shop.example"
	tokenFor := func(from *app, header map[string]string) string {
		req, _ := http.NewRequest("GET", from.ts.URL+"/token", nil)
		req.Host = host
		for k, v := range header {
			req.Header.Set(k, v)
		}
		return from.send(from.client(), req).body
	}
	tok := tokenFor(a, nil)
	submit := func(to *app, tok string, header map[string]string) response {
		h := map[string]string{"X-CSRF-Token": tok}
		for k, v := range header {
			h[k] = v
		}
		req, _ := http.NewRequest("POST", to.ts.URL+"/submit", nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		req.Host = host
		if h := header["Host"]; h != "" {
			req.Host = h
		}
		return to.send(to.client(), req)
	}
	a.check(t, submit(a, tok, nil), 200, nil)
	b.check(t, submit(b, tok, nil), 200, nil)
	other.check(t, submit(other, tok, nil), 403, csrf.ErrBadToken)
	dflt.check(t, submit(dflt, tok, nil), 403, csrf.ErrBadToken)
	a.check(t, submit(a, tok, map[string]string{"Host": "other.example"}), 403, csrf.ErrBadToken)
	a.check(t, submit(a, tok, map[string]string{"Host": "SHOP.example"}), 200, nil) // host names are case-insensitive
	dflt.check(t, submit(dflt, tokenFor(dflt, nil), nil), 200, nil)

	// A custom client key: the header stands for the address behind a proxy.
	own := tokenFor(byHeader, map[string]string{"X-Client": "203.0.113.7"})
	byHeader.check(t, submit(byHeader, own, map[string]string{"X-Client": "203.0.113.7"}), 200, nil)
	byHeader.check(t, submit(byHeader, own, map[string]string{"X-Client": "203.0.113.8"}), 403, csrf.ErrBadToken)
}

// TestSessionlessExpiry: a sessionless token lasts SessionlessTTL, and one
// from the future (beyond a minute of clock skew) is refused.
func TestSessionlessExpiry(t *testing.T) {
	var now atomic.Pointer[time.Time]
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	now.Store(&start)
	clock := func() time.Time { return *now.Load() }
	a := newApp(t, csrf.Options{SessionlessTTL: 10 * time.Minute}, func(p *csrf.Protection) { csrf.SetClock(p, clock) })
	c := a.client()
	tok := a.token(c)
	post := func() response { return a.do(c, "POST", "/submit", nil, map[string]string{"X-CSRF-Token": tok}) }
	for _, tc := range []struct {
		at     time.Duration
		reason error
	}{
		{0, nil}, {10 * time.Minute, nil},
		{10*time.Minute + time.Second, csrf.ErrBadToken},
		{-time.Minute, nil},
		{-time.Minute - time.Second, csrf.ErrBadToken}, // issued "in the future"
	} {
		at := start.Add(tc.at)
		now.Store(&at)
		status := 200
		if tc.reason != nil {
			status = 403
		}
		a.check(t, post(), status, tc.reason)
	}
}

// TestSessionlessStoreDown: with a session cookie and the store down, a
// sessionless token does not pass for lack of a session: the request fails
// closed.
func TestSessionlessStoreDown(t *testing.T) {
	a := newApp(t, csrf.Options{})
	c := a.client()
	tok := a.token(c) // sessionless
	a.do(c, "GET", "/visit", nil, nil)
	a.store.down.Store(true)
	defer a.store.down.Store(false)
	r := a.do(c, "POST", "/submit", nil, map[string]string{"X-CSRF-Token": tok})
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("status %d (%s), want 503 from the session manager", r.status, r.body)
	}
}

// TestSessionlessConcurrent: concurrent sessionless posts from one client all
// pass, and none writes.
func TestSessionlessConcurrent(t *testing.T) {
	a := newApp(t, csrf.Options{})
	c := a.client()
	tok := a.token(c)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := make(chan int, 8)
	for range 8 {
		go func() {
			req, _ := http.NewRequestWithContext(ctx, "POST", a.ts.URL+"/submit", nil)
			req.Header.Set("X-CSRF-Token", tok)
			resp, err := c.Do(req)
			if err != nil {
				errs <- 0
				return
			}
			resp.Body.Close()
			errs <- resp.StatusCode
		}()
	}
	for range 8 {
		if s := <-errs; s != 200 {
			t.Fatalf("status %d, want 200", s)
		}
	}
	if n := a.store.commits.Load(); n != 0 {
		t.Fatalf("%d store writes, want 0", n)
	}
}
