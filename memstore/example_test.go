package memstore_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
)

// Sessions kept in this process: for one instance of an app, for tests, and
// as the in-process fake of the other stores. They do not survive a restart
// (sqlitestore does, on one machine).
func ExampleNew() {
	store := memstore.New(memstore.Options{}) // sweeps expired sessions every minute
	defer store.Close()                       // stops the sweeper

	mgr, err := session.New(store, session.Config{})
	if err != nil {
		panic(err)
	}
	h := mgr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := session.Put(r.Context(), "theme", "dark"); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "https://example.com/", nil))
	n, err := store.Count(context.Background())
	fmt.Println(n, err)
	// Output:
	// 1 <nil>
}
