package memcachedstore_test

import (
	"log"
	"net/http"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memcachedstore"
)

// Sessions in memcached, shared by every instance of the app. memcached
// cannot index, so there is no devices list, no "log out everywhere" and no
// MaxSessionsPerUser; an evicted item is a session that ended.
func ExampleNew() {
	client := memcache.New("cache1.internal:11211", "cache2.internal:11211")
	client.Timeout = 200 * time.Millisecond // the deadline of each store call: gomemcache takes no context

	store := memcachedstore.New(client, memcachedstore.Options{}) // keys "session:<id>"
	mgr, err := session.New(store, session.Config{})
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe(":8080", mgr.Handler(http.NotFoundHandler())))
}
