package mysqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"net/http"

	_ "github.com/go-sql-driver/mysql"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/mysqlstore"
)

// A web app whose sessions live in MySQL or MariaDB. New creates the table
// on the first start and migrates it on later ones; the *sql.DB belongs to
// the app. interpolateParams=true saves a round trip per statement.
func Example() {
	ctx := context.Background()
	db, err := sql.Open("mysql", "app:secret@tcp(db.internal:3306)/app?interpolateParams=true")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	store, err := mysqlstore.New(ctx, db, mysqlstore.Options{}) // table "sessions", sweep every 5 minutes
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
