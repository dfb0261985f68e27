package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

// accountRoutes adds the account pages to routes.
func accountRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", routes())
	mux.HandleFunc("/devices", func(w http.ResponseWriter, r *http.Request) {
		list, err := session.Devices(r.Context())
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		json.NewEncoder(w).Encode(list)
	})
	mux.HandleFunc("/revoke", func(w http.ResponseWriter, r *http.Request) {
		if err := session.RevokeDevice(r.Context(), r.FormValue("id")); err != nil {
			http.Error(w, err.Error(), 404)
		}
	})
	mux.HandleFunc("/revoke-others", func(w http.ResponseWriter, r *http.Request) {
		n, err := session.RevokeOtherDevices(r.Context())
		if err != nil {
			http.Error(w, err.Error(), 500)
		}
		fmt.Fprint(w, n)
	})
	mux.Handle("/sensitive", session.RequireRecentAuth(5*time.Minute, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/login?next=/sensitive", http.StatusSeeOther)
	}))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "sensitive ok") })))
	return mux
}

func devices(t *testing.T, e *env, c *http.Client) []session.Metadata {
	t.Helper()
	_, body := e.do(c, "GET", "/devices")
	var list []session.Metadata
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("devices: %v: %s", err, body)
	}
	return list
}

func TestDevices(t *testing.T) {
	e := newEnv(t, session.Config{}, accountRoutes())
	phone, laptop, tablet := e.client, newClient(t, e.srv), newClient(t, e.srv)
	for _, c := range []*http.Client{phone, laptop, tablet} {
		e.clock.Advance(time.Second)
		e.do(c, "GET", "/login?u=alice")
	}
	other := newClient(t, e.srv)
	e.do(other, "GET", "/login?u=bob")

	list := devices(t, e, laptop)
	if len(list) != 3 {
		t.Fatalf("alice has %d devices; want 3", len(list))
	}
	if !list[1].Current || list[0].Current || list[2].Current {
		t.Fatalf("current device not marked: %+v", list)
	}
	if list[0].ClientAddr != "127.0.0.1" || list[0].UserAgent == "" || list[0].Created.IsZero() || list[0].LastActive.IsZero() {
		t.Fatalf("device lacks client details: %+v", list[0])
	}
	// A user cannot revoke someone else's session.
	bobs := devices(t, e, other)
	if resp, _ := e.do(laptop, "GET", "/revoke?id="+bobs[0].ID); resp.StatusCode != 404 {
		t.Fatalf("revoking another user's session: %d; want 404", resp.StatusCode)
	}
	if len(devices(t, e, other)) != 1 {
		t.Fatal("bob's session was revoked by alice")
	}
	// Revoke the phone from the laptop.
	e.do(laptop, "GET", "/revoke?id="+list[0].ID)
	if _, body := e.do(phone, "GET", "/info"); !strings.Contains(body, `"Subject":""`) {
		t.Fatal("the revoked phone is still logged in")
	}
	// Sign out all others from the laptop.
	if _, body := e.do(laptop, "GET", "/revoke-others"); body != "1" {
		t.Fatalf("revoke-others ended %s sessions; want 1 (the tablet)", body)
	}
	if _, body := e.do(tablet, "GET", "/info"); !strings.Contains(body, `"Subject":""`) {
		t.Fatal("the tablet is still logged in")
	}
	if list := devices(t, e, laptop); len(list) != 1 || !list[0].Current {
		t.Fatalf("after sign-out of others: %+v", list)
	}
	// Log out everywhere (account disabled).
	n, err := e.mgr.RevokeSubject(t.Context(), "alice")
	if err != nil || n != 1 {
		t.Fatalf("RevokeSubject = %d, %v", n, err)
	}
	if _, body := e.do(laptop, "GET", "/info"); !strings.Contains(body, `"Subject":""`) {
		t.Fatal("RevokeSubject left the laptop logged in")
	}
}

func TestSessionLimit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy session.LimitPolicy
	}{{"evict oldest", session.EvictOldest}, {"refuse new", session.RefuseNew}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, session.Config{MaxSessionsPerUser: 2, LimitPolicy: tc.policy}, accountRoutes())
			clients := []*http.Client{e.client, newClient(t, e.srv), newClient(t, e.srv)}
			var codes []int
			for _, c := range clients {
				e.clock.Advance(time.Second)
				resp, _ := e.do(c, "GET", "/login?u=alice")
				codes = append(codes, resp.StatusCode)
			}
			n, _ := e.mgr.Sessions(t.Context(), "alice")
			if len(n) != 2 {
				t.Fatalf("alice has %d sessions; the limit is 2", len(n))
			}
			_, first := e.do(clients[0], "GET", "/info")
			_, third := e.do(clients[2], "GET", "/info")
			switch tc.policy {
			case session.EvictOldest:
				if codes[2] != 200 || strings.Contains(first, "alice") || !strings.Contains(third, "alice") {
					t.Fatalf("evict oldest: codes %v, first %s, third %s", codes, first, third)
				}
			case session.RefuseNew:
				if codes[2] != 500 || !strings.Contains(first, "alice") || strings.Contains(third, "alice") {
					t.Fatalf("refuse new: codes %v, first %s, third %s", codes, first, third)
				}
			}
		})
	}
	if _, err := session.New(unindexed{newMem(t)}, session.Config{MaxSessionsPerUser: 1}); err == nil {
		t.Fatal("a limit on a store without a subject index was accepted")
	}
	m, _ := session.New(unindexed{newMem(t)}, session.Config{})
	if _, err := m.Sessions(t.Context(), "alice"); !errors.Is(err, session.ErrUnsupported) {
		t.Fatalf("Sessions on a store without an index = %v; want ErrUnsupported", err)
	}
}

// unindexed hides every optional capability of a store.
type unindexed struct{ session.Store }

func TestRequireRecentAuth(t *testing.T) {
	e := newEnv(t, session.Config{}, accountRoutes())
	noRedirect := *e.client
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if resp, _ := e.do(&noRedirect, "GET", "/sensitive"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("anonymous: %d; want a redirect to log in", resp.StatusCode)
	}
	e.do(e.client, "GET", "/login?u=alice")
	if _, body := e.do(&noRedirect, "GET", "/sensitive"); body != "sensitive ok" {
		t.Fatalf("fresh login: %q", body)
	}
	e.clock.Advance(6 * time.Minute)
	if resp, _ := e.do(&noRedirect, "GET", "/sensitive"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login 6 minutes old: %d; want a redirect to log in again", resp.StatusCode)
	}
}

func TestClientChange(t *testing.T) {
	for _, tc := range []struct {
		name       string
		policy     session.ClientChangePolicy
		ua         string
		loggedIn   bool
		cartKept   bool
		wantEvents int
	}{
		{"same client", session.ClientChangeDestroy, "", true, true, 0},
		{"log", session.ClientChangeLog, "Other/1.0", true, true, 1},
		{"reauth", session.ClientChangeReauth, "Other/1.0", false, true, 1},
		{"destroy", session.ClientChangeDestroy, "Other/1.0", false, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events := make(chan session.Event, 10)
			e := newEnv(t, session.Config{ClientChange: tc.policy, OnEvent: func(_ context.Context, ev session.Event) {
				if ev.Kind == session.EventClientChanged {
					events <- ev
				}
			}}, accountRoutes())
			e.get("/put?k=cart&v=1")
			e.get("/login?u=alice")
			// The other client holds a copy of the cookie (a stolen one),
			// not the user's cookie jar.
			req, _ := http.NewRequest("GET", e.srv.URL+"/info", nil)
			req.Header.Set("Cookie", "__Host-session="+e.token(e.client))
			if tc.ua != "" {
				req.Header.Set("User-Agent", tc.ua)
			}
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			_, info := e.get("/info")
			_, cart := e.get("/get?k=cart")
			if got := strings.Contains(info, `"alice"`); got != tc.loggedIn {
				t.Errorf("logged in = %v; want %v (%s)", got, tc.loggedIn, info)
			}
			if got := cart == "1"; got != tc.cartKept {
				t.Errorf("cart kept = %v; want %v", got, tc.cartKept)
			}
			if len(events) != tc.wantEvents {
				t.Errorf("%d client-change events; want %d", len(events), tc.wantEvents)
			}
			if tc.wantEvents > 0 {
				if ev, tok := <-events, e.token(e.client); ev.ID == "" || (tok != "" && strings.Contains(ev.ID, tok)) {
					t.Errorf("event ID %q: want the hashed ID", ev.ID)
				}
			}
		})
	}
}

func TestLogEventsNeverLogsTokens(t *testing.T) {
	var buf strings.Builder
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, session.Config{OnEvent: session.LogEvents(logger)}, accountRoutes())
	e.get("/put?k=a&v=1")
	tok := e.token(e.client)
	e.get("/login?u=alice")
	tok2 := e.token(e.client)
	e.get("/logout")
	e.withCookie("/get?k=a", "__Host-session=garbage")
	out := buf.String()
	for _, want := range []string{"event=created", "event=renewed", "event=destroyed", "event=malformed", "subject=alice"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, tok) || strings.Contains(out, tok2) || strings.Contains(out, "garbage") {
		t.Fatalf("a token reached the log:\n%s", out)
	}
}

// A "sign out other devices" request loaded its session before a concurrent
// request of the same browser renewed it: the session it keeps is the one
// the renewal moved it to, not every session but the stale ID.
func TestRevokeOthersKeepsRenewedCurrent(t *testing.T) {
	e, ss := newScriptedEnv(t, session.Config{}, accountRoutes())
	laptop, phone := e.client, newClient(t, e.srv)
	e.do(laptop, "GET", "/login?u=alice")
	e.do(phone, "GET", "/login?u=alice")
	var once atomic.Bool
	ss.script(func(s *scriptStore) {
		s.list = func(_ context.Context, _ string, next func() ([]*session.Record, error)) ([]*session.Record, error) {
			if once.CompareAndSwap(false, true) {
				e.do(laptop, "GET", "/renew") // the browser's other tab renews
			}
			return next()
		}
	})
	if _, body := e.do(laptop, "GET", "/revoke-others"); body != "1" {
		t.Fatalf("revoke-others ended %s sessions; want 1 (the phone)", body)
	}
	if _, body := e.do(laptop, "GET", "/info"); !strings.Contains(body, `"Subject":"alice"`) {
		t.Fatalf("signing out the other devices signed out this one: %s", body)
	}
	if _, body := e.do(phone, "GET", "/info"); !strings.Contains(body, `"Subject":""`) {
		t.Fatal("the phone is still logged in")
	}
}

// RequireLogin lets a signed-in user through, answers an anonymous visitor
// with its handler, and answers a store failure as one (503), never as a
// signed-out user.
func TestRequireLogin(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/", routes())
	mux.Handle("/account", session.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "sign in first", http.StatusUnauthorized)
	}))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "account of ", session.Subject(r.Context()))
	})))
	e, ss := newScriptedEnv(t, session.Config{}, mux)
	if resp, body := e.get("/account"); resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Set-Cookie") != "" {
		t.Fatalf("anonymous: %d %q, Set-Cookie %q; want 401 and no cookie", resp.StatusCode, body, resp.Header.Get("Set-Cookie"))
	}
	e.get("/put?k=a&v=1") // an anonymous session is not a login
	if resp, _ := e.get("/account"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous session: %d; want 401", resp.StatusCode)
	}
	e.get("/login?u=alice")
	if resp, body := e.get("/account"); resp.StatusCode != 200 || body != "account of alice" {
		t.Fatalf("signed in: %d %q", resp.StatusCode, body)
	}
	ss.script(func(s *scriptStore) {
		s.load = func(context.Context, string, func() (*session.Record, error)) (*session.Record, error) {
			return nil, errDown
		}
	})
	if resp, _ := e.get("/account"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("store down: %d; want 503", resp.StatusCode)
	}
}

// Config.ClientAddr is the one definition of the client's address: the
// devices list records it and the client-change check compares it.
func TestClientAddrHook(t *testing.T) {
	cfg := session.Config{
		ClientAddr:   func(r *http.Request) string { return r.Header.Get("X-Test-Client") },
		ClientChange: session.ClientChangeDestroy,
	}
	e := newEnv(t, cfg, accountRoutes())
	from := func(addr, path string) string {
		req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
		req.Header.Set("X-Test-Client", addr)
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	from("198.51.100.7", "/login?u=alice")
	var list []session.Metadata
	if err := json.Unmarshal([]byte(from("198.51.100.7", "/devices")), &list); err != nil || len(list) != 1 || list[0].ClientAddr != "198.51.100.7" {
		t.Fatalf("devices = %+v, %v; want one, from 198.51.100.7", list, err)
	}
	if body := from("203.0.113.9", "/info"); !strings.Contains(body, `"Subject":""`) {
		t.Fatalf("a request from another address, as Config.ClientAddr tells it, kept the login: %s", body)
	}
}
