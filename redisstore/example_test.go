package redisstore_test

import (
	"fmt"
	"log"
	"net/http"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/redisstore"
)

// A web application whose sessions live in Redis. The same code runs on
// Sentinel (redis.NewFailoverClient) or a cluster (redis.NewClusterClient).
func Example() {
	client := redis.NewClient(&redis.Options{
		Addr: "127.0.0.1:6379",
		// Let request contexts bound the time spent on an unresponsive Redis.
		ContextTimeoutEnabled: true,
	})
	defer client.Close()

	store := redisstore.New(client, redisstore.Options{}) // keys under "session:"
	mgr, err := session.New(store, session.Config{})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		n, err := session.Update(r.Context(), "visits", func(n int) (int, error) { return n + 1, nil })
		if err != nil {
			http.Error(w, "session unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "visit %d\n", n)
	})
	mux.HandleFunc("POST /logout-everywhere", func(w http.ResponseWriter, r *http.Request) {
		subject := session.Subject(r.Context())
		if subject == "" {
			http.Error(w, "not logged in", http.StatusUnauthorized)
			return
		}
		n, err := store.DeleteSubject(r.Context(), subject)
		if err != nil {
			http.Error(w, "session store unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "ended %d sessions\n", n)
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", mgr.Handler(mux)))
}

func ExampleNew_cluster() {
	client := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                 []string{"10.0.0.1:6379", "10.0.0.2:6379", "10.0.0.3:6379"},
		ContextTimeoutEnabled: true,
	})
	defer client.Close()
	store := redisstore.New(client, redisstore.Options{Prefix: "myapp:session:"})
	_ = store // session.New(store, session.Config{})
}
