// Package session manages HTTP sessions: who is logged in, a cart,
// preferences, a half-filled form, a CSRF secret, remembered across
// stateless requests, safely and with few store round trips.
//
// # Quick start
//
// A login and a cart, with sessions kept in memory: the program of the
// README, examples/quickstart/main.go, which go test builds and runs.
//
//	// Quickstart is the program of the README and the package doc: a login and
//	// a cart, with sessions kept in memory.
//	package main
//
//	import (
//		"fmt"
//		"log"
//		"net/http"
//
//		"github.com/sessionkit/session"
//		"github.com/sessionkit/session/memstore"
//	)
//
//	func main() {
//		app, err := newApp()
//		if err != nil {
//			log.Fatal(err)
//		}
//		log.Fatal(http.ListenAndServe("localhost:8080", app))
//	}
//
//	func newApp() (http.Handler, error) {
//		store := memstore.New()                          // or sqlitestore, redisstore, pgstore, ...
//		mgr, err := session.New(store, session.Config{}) // the zero Config is the secure default
//		if err != nil {
//			return nil, err
//		}
//		mux := http.NewServeMux()
//		mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
//			user := r.PostFormValue("user")
//			if !checkPassword(user, r.PostFormValue("password")) {
//				http.Error(w, "wrong user or password", http.StatusUnauthorized)
//				return
//			}
//			// A new session ID, the user as its subject, the time of login; the cart survives.
//			if err := session.Login(r.Context(), user); err != nil {
//				http.Error(w, "try again later", http.StatusServiceUnavailable)
//				return
//			}
//			fmt.Fprintf(w, "hello, %s\n", user)
//		})
//		mux.HandleFunc("POST /cart", func(w http.ResponseWriter, r *http.Request) {
//			// Atomic: concurrent adds to one session all land.
//			cart, err := session.Update(r.Context(), "cart", func(c []string) ([]string, error) {
//				return append(c, r.PostFormValue("item")), nil
//			})
//			if err != nil {
//				http.Error(w, "try again later", http.StatusServiceUnavailable)
//				return
//			}
//			fmt.Fprintf(w, "%d in the cart\n", len(cart))
//		})
//		mux.HandleFunc("GET /cart", func(w http.ResponseWriter, r *http.Request) {
//			cart, err := session.Get[[]string](r.Context(), "cart")
//			if err != nil {
//				http.Error(w, "try again later", http.StatusServiceUnavailable)
//				return
//			}
//			fmt.Fprintf(w, "%s: %q\n", session.Subject(r.Context()), cart)
//		})
//		// An app with HTML forms also wraps mux in the csrf package's Handler.
//		return mgr.Handler(mux), nil
//	}
//
//	// checkPassword stands in for the app's user database.
//	func checkPassword(user, password string) bool {
//		return user == "alice" && password == "wonderland"
//	}
//
// Inside handlers, Get, Put, Update, Pop, Delete, Clear, Keys and Has work on
// the session's values, each stored as JSON; Login, Renew, Logout (Destroy)
// and RememberMe steer its lifecycle; Info reports its metadata; Devices,
// RevokeDevice and RevokeOtherDevices list and end the user's other
// sessions; RequireRecentAuth guards sensitive actions. APIs that cannot use
// a cookie set Config.Header and hand the client Token.
//
// # Stores
//
// A Store keeps records keyed by the SHA-256 of the session token, so a
// leaked store opens no session. memstore keeps them in the process,
// sqlitestore in an embedded database (the default for one machine),
// redisstore, pgstore, mysqlstore and memcachedstore in a server shared by
// many app instances. Optional capabilities (Toucher, SubjectIndex, Iterator,
// Counter, Sweeper) are discovered by type assertion. A store failure fails
// the request closed (503 by default); it never reads as "no session".
//
// # Security
//
// Tokens are 256 bits from crypto/rand. A token of the wrong shape is refused
// before any store lookup and never echoed; an unknown one is never adopted.
// The cookie is __Host-session, Secure, HttpOnly, SameSite=Lax, Path=/, with
// no Max-Age unless the user asked to be remembered. Sessions end after an
// hour idle or 24 hours after creation or the last login, enforced on the
// server. Login renews the ID; Destroy drops the session's values, leaves an
// ended tombstone that never loads again, and expires the cookie. A visitor
// who never gets session state gets no cookie and costs no store call.
// SECURITY.md in the repository states the threat model, each guarantee with
// the tests that check it, and how to report a vulnerability.
//
// # Concurrency
//
// Requests on one session may run at once, on many app instances. Each
// request records its changes and commits them with a compare-and-swap on
// the record's version; on a conflict it reloads and replays them. Parallel
// requests that set different keys all land; Update never loses an
// increment; a destroyed session is never brought back by a slower request;
// a slower request on a just-renewed ID carries its changes to the new one,
// unless a login or logout changed the session's user in between: then its
// changes are dropped with ErrAuthChanged (409), so nothing a request wrote
// as one user, or as a visitor who may have planted the ID, lands in another
// user's session. Changes are committed before the first byte of the
// response; a change after that returns ErrResponseStarted.
//
// A Manager is safe for concurrent use, and so are the functions that take a
// request's context, from any goroutine while the request's handler runs.
package session
