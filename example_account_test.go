package session_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
)

// Login gives the session a new ID, so that an ID planted in the browser
// before the login is worth nothing, records the user and the time of login,
// and keeps what the visitor gathered before, such as a cart.
func ExampleLogin() {
	store := memstore.New(memstore.Options{})
	defer store.Close()
	mgr, err := session.New(store, session.Config{})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cart", func(w http.ResponseWriter, r *http.Request) {
		if err := session.Put(r.Context(), "cart", []string{"tea"}); err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// ... check the password ...
		if err := session.Login(r.Context(), "alice"); err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		cart, err := session.Get[[]string](r.Context(), "cart")
		if err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "%s %v", session.Subject(r.Context()), cart)
	})
	srv := httptest.NewTLSServer(mgr.Handler(mux))
	defer srv.Close()

	c := browser(srv)
	send(c, "POST", srv.URL+"/cart")
	anonymous := cookie(c, srv)
	send(c, "POST", srv.URL+"/login")
	fmt.Println("new ID:", cookie(c, srv) != anonymous)
	fmt.Println(send(c, "GET", srv.URL+"/me"))
	// Output:
	// new ID: true
	// alice [tea]
}

// Devices lists the user's sessions for an account page; RevokeOtherDevices
// logs the user out everywhere else, as after a password change.
func ExampleDevices() {
	store := memstore.New(memstore.Options{}) // memstore keeps the per-user index Devices needs
	defer store.Close()
	mgr, err := session.New(store, session.Config{})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := session.Login(r.Context(), "alice"); err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("GET /devices", func(w http.ResponseWriter, r *http.Request) {
		devices, err := session.Devices(r.Context())
		if err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
		for _, d := range devices {
			fmt.Fprintf(w, "%s current=%v\n", d.UserAgent, d.Current)
		}
	})
	mux.HandleFunc("POST /password", func(w http.ResponseWriter, r *http.Request) {
		// ... change the password, then:
		n, err := session.RevokeOtherDevices(r.Context())
		if err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "logged out on %d other devices", n)
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "subject %q", session.Subject(r.Context()))
	})
	srv := httptest.NewTLSServer(mgr.Handler(mux))
	defer srv.Close()

	laptop, phone := browser(srv), browser(srv)
	sendAs(phone, "Phone/1.0", "POST", srv.URL+"/login")
	sendAs(laptop, "Laptop/1.0", "POST", srv.URL+"/login")
	fmt.Println(sendAs(laptop, "Laptop/1.0", "GET", srv.URL+"/devices"))
	fmt.Println(sendAs(laptop, "Laptop/1.0", "POST", srv.URL+"/password"))
	fmt.Println("phone:", sendAs(phone, "Phone/1.0", "GET", srv.URL+"/me"))
	fmt.Println("laptop:", sendAs(laptop, "Laptop/1.0", "GET", srv.URL+"/me"))
	// Unordered output:
	// Phone/1.0 current=false
	// Laptop/1.0 current=true
	// logged out on 1 other devices
	// phone: subject ""
	// laptop: subject "alice"
}

// RequireRecentAuth guards a sensitive page: a user who logged in longer
// ago than the limit is sent to log in again, with the session (and the
// cart) kept.
func ExampleRequireRecentAuth() {
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now } // a test clock; apps leave Now unset
	store := memstore.New(memstore.Options{Now: clock})
	defer store.Close()
	mgr, err := session.New(store, session.Config{Now: clock})
	if err != nil {
		panic(err)
	}
	reauth := http.RedirectHandler("/login?next=/settings", http.StatusSeeOther)
	recent := session.RequireRecentAuth(15*time.Minute, reauth)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := session.Login(r.Context(), "alice"); err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
		}
	})
	mux.Handle("GET /settings", recent(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "change your e-mail address here")
	})))
	srv := httptest.NewTLSServer(mgr.Handler(mux))
	defer srv.Close()

	c := browser(srv)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	send(c, "POST", srv.URL+"/login")
	fmt.Println(send(c, "GET", srv.URL+"/settings"))
	mu.Lock()
	now = now.Add(20 * time.Minute)
	mu.Unlock()
	resp, err := c.Get(srv.URL + "/settings")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Location"))
	// Output:
	// change your e-mail address here
	// 303 /login?next=/settings
}

// With Config.Header set, the token travels in a request header instead of
// a cookie, for API clients: the login hands it out with Token, and the
// client sends it back as a bearer token.
func ExampleToken() {
	store := memstore.New(memstore.Options{})
	defer store.Close()
	mgr, err := session.New(store, session.Config{Header: "Authorization"})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		// ... check the credentials ...
		if err := session.Login(r.Context(), "alice"); err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
		token, err := session.Token(r.Context())
		if err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"token": token})
	})
	mux.HandleFunc("GET /api/me", func(w http.ResponseWriter, r *http.Request) {
		if session.Subject(r.Context()) == "" {
			http.Error(w, "log in first", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "hello, %s", session.Subject(r.Context()))
	})
	srv := httptest.NewTLSServer(mgr.Handler(mux))
	defer srv.Close()

	api := srv.Client() // no cookie jar: an API client
	resp, err := api.Post(srv.URL+"/api/login", "application/json", nil)
	if err != nil {
		panic(err)
	}
	var login struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	fmt.Println("cookies set:", len(resp.Cookies()))

	req, _ := http.NewRequest("GET", srv.URL+"/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+login.Token)
	fmt.Println(sendReq(api, req))
	// Output:
	// cookies set: 0
	// hello, alice
}

// browser returns a client of srv that keeps cookies, as a browser does.
func browser(srv *httptest.Server) *http.Client {
	c := *srv.Client() // a copy: srv.Client returns one shared client
	c.Jar, _ = cookiejar.New(nil)
	return &c
}

// cookie returns the session cookie c holds for srv.
func cookie(c *http.Client, srv *httptest.Server) string {
	u, _ := url.Parse(srv.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "__Host-session" {
			return ck.Value
		}
	}
	return ""
}

func send(c *http.Client, method, url string) string { return sendAs(c, "", method, url) }

// sendAs sends a request with the given User-Agent and returns the body.
func sendAs(c *http.Client, userAgent, method, url string) string {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		panic(err)
	}
	if userAgent != "" {
		req.Header.Set("User-Agent", userAgent)
	}
	return sendReq(c, req)
}

func sendReq(c *http.Client, req *http.Request) string {
	resp, err := c.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimRight(string(b), "\n")
}
