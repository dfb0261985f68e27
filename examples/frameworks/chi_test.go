package frameworks_test

import (
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"
)

// chi's middleware is func(http.Handler) http.Handler: mgr.Handler as it is.
func Example_chi() {
	mgr := newManager()
	r := chi.NewRouter()
	r.Use(mgr.Handler)
	r.Post("/login", func(w http.ResponseWriter, r *http.Request) {
		if err := login(r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	r.Post("/cart", func(w http.ResponseWriter, r *http.Request) {
		if _, err := addToCart(r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	r.Get("/cart", func(w http.ResponseWriter, r *http.Request) {
		s, err := cart(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, s)
	})
	browse(r)
	// Output: alice: apple, pear
}
