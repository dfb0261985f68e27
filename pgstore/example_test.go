package pgstore_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/pgstore"
)

// A web app whose sessions live in PostgreSQL. New creates the table on the
// first start and migrates it on later ones; the pool belongs to the app.
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://app@db.internal:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	store, err := pgstore.New(ctx, pool, pgstore.Options{}) // table "sessions", sweep every 5 minutes
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	mgr, err := session.New(store, session.Config{})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		n, err := session.Update(r.Context(), "visits", func(n int) (int, error) { return n + 1, nil })
		if err != nil {
			http.Error(w, "session store unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "visit number %d\n", n)
	})
	log.Fatal(http.ListenAndServe(":8080", mgr.Handler(mux)))
}
