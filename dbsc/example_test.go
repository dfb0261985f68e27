package dbsc_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/dbsc"
	"github.com/sessionkit/session/memstore"
)

// The wiring: the registration and refresh endpoints, an offer after each
// login, and per-route policies, all inside the session middleware.
func Example() {
	mgr, err := session.New(memstore.New(memstore.Options{}), session.Config{})
	if err != nil {
		log.Fatal(err)
	}
	binder, err := dbsc.New(mgr, dbsc.Config{})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("POST /dbsc/registration", binder.Registration())
	mux.Handle("POST /dbsc/refresh", binder.Refresh())
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// ... check the credentials ...
		if err := session.Login(r.Context(), "alice"); err != nil {
			http.Error(w, "login failed", http.StatusInternalServerError)
			return
		}
		binder.Offer(w, r) // asks the browser to bind the session to a key
	})
	mux.Handle("GET /account", binder.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "account of "+session.Subject(r.Context()))
	})))
	mux.Handle("GET /", binder.Prefer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "home")
	})))

	srv := httptest.NewTLSServer(mgr.Handler(mux))
	defer srv.Close()

	resp, err := srv.Client().Post(srv.URL+"/login", "", nil)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	offer := resp.Header.Get("Secure-Session-Registration")
	fmt.Println(resp.StatusCode, offer[:strings.Index(offer, ";challenge=")])

	// A client without the device key gets no bound cookie: the account
	// page refuses it.
	req, _ := http.NewRequest("GET", srv.URL+"/account", nil)
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	resp, err = srv.Client().Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// 200 (ES256 RS256);path="/dbsc/registration"
	// 403
}
