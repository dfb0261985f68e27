// Quickstart is the program of the README and the package doc: a login and
// a cart, with sessions kept in memory.
package main

import (
	"fmt"
	"log"
	"net/http"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
)

func main() {
	app, err := newApp()
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe("localhost:8080", app))
}

func newApp() (http.Handler, error) {
	store := memstore.New()                          // or sqlitestore, redisstore, pgstore, ...
	mgr, err := session.New(store, session.Config{}) // the zero Config is the secure default
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		user := r.PostFormValue("user")
		if !checkPassword(user, r.PostFormValue("password")) {
			http.Error(w, "wrong user or password", http.StatusUnauthorized)
			return
		}
		// A new session ID, the user as its subject, the time of login; the cart survives.
		if err := session.Login(r.Context(), user); err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "hello, %s\n", user)
	})
	mux.HandleFunc("POST /cart", func(w http.ResponseWriter, r *http.Request) {
		// Atomic: concurrent adds to one session all land.
		cart, err := session.Update(r.Context(), "cart", func(c []string) ([]string, error) {
			return append(c, r.PostFormValue("item")), nil
		})
		if err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "%d in the cart\n", len(cart))
	})
	mux.HandleFunc("GET /cart", func(w http.ResponseWriter, r *http.Request) {
		cart, err := session.Get[[]string](r.Context(), "cart")
		if err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "%s: %q\n", session.Subject(r.Context()), cart)
	})
	// An app with HTML forms also wraps mux in the csrf package's Handler.
	return mgr.Handler(mux), nil
}

// checkPassword stands in for the app's user database.
func checkPassword(user, password string) bool {
	return user == "alice" && password == "wonderland"
}
