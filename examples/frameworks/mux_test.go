package frameworks_test

import (
	"fmt"
	"net/http"

	"github.com/gorilla/mux"
)

// gorilla/mux takes mgr.Handler as a mux.MiddlewareFunc.
func Example_gorillaMux() {
	mgr := newManager()
	r := mux.NewRouter()
	r.Use(mgr.Handler)
	r.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if err := login(r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}).Methods(http.MethodPost)
	r.HandleFunc("/cart", func(w http.ResponseWriter, r *http.Request) {
		if _, err := addToCart(r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}).Methods(http.MethodPost)
	r.HandleFunc("/cart", func(w http.ResponseWriter, r *http.Request) {
		s, err := cart(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, s)
	}).Methods(http.MethodGet)
	browse(r)
	// Output: alice: apple, pear
}
