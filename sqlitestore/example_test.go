package sqlitestore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/sqlitestore"
)

// Sessions in an SQLite file, the default for an app on one machine: they
// survive restarts, and no server is needed (the driver is pure Go).
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "sessions")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	store, err := sqlitestore.Open(ctx, filepath.Join(dir, "sessions.db"), sqlitestore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // stops the sweeper and closes the database

	mgr, err := session.New(store, session.Config{})
	if err != nil {
		log.Fatal(err)
	}
	h := mgr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := session.Put(r.Context(), "theme", "dark"); err != nil {
			http.Error(w, "session store unavailable", http.StatusServiceUnavailable)
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "https://example.com/", nil))
	n, err := store.Count(ctx)
	fmt.Println(n, err)
	// Output:
	// 1 <nil>
}

// New puts the sessions in a database the app opened and keeps owning, for
// example the app's own SQLite file. Open it with DSN, which sets the busy
// timeout and WAL mode the store needs.
func ExampleNew() {
	ctx := context.Background()
	db, err := sql.Open("sqlite", sqlitestore.DSN("app.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	store, err := sqlitestore.New(ctx, db, sqlitestore.Options{}) // migrates its tables, sweeps every 5 minutes
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // stops the sweeper; db stays open

	mgr, err := session.New(store, session.Config{})
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe(":8080", mgr.Handler(http.NotFoundHandler())))
}
