package session_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
)

func Example() {
	store := memstore.New(memstore.Options{})
	defer store.Close()
	mgr, err := session.New(store, session.Config{})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		n, err := session.Update(r.Context(), "visits", func(n int) (int, error) { return n + 1, nil })
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "visit %d", n)
	})
	h := mgr.Handler(mux)

	var cookie string
	for range 3 {
		req := httptest.NewRequest("GET", "https://example.com/", nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if c := rec.Result().Cookies(); len(c) > 0 {
			cookie = c[0].Name + "=" + c[0].Value
		}
		body, _ := io.ReadAll(rec.Body)
		fmt.Println(string(body))
	}
	// Output:
	// visit 1
	// visit 2
	// visit 3
}
