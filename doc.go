// Package session manages HTTP sessions: who is logged in, a cart,
// preferences, a half-filled form, a CSRF secret, remembered across
// stateless requests, safely and with few store round trips.
//
// # Quick start
//
//	store := memstore.New(memstore.Options{})          // or sqlitestore, redisstore, pgstore, ...
//	mgr, err := session.New(store, session.Config{})    // the zero Config is the secure default
//	if err != nil { ... }
//	mux := http.NewServeMux()
//	mux.HandleFunc("POST /cart/add", func(w http.ResponseWriter, r *http.Request) {
//		cart, err := session.Update(r.Context(), "cart", func(c Cart) (Cart, error) {
//			return c.Add(r.FormValue("item")), nil
//		})
//		...
//	})
//	http.ListenAndServe(":8080", mgr.Handler(mux))
//
// Inside handlers, Get, Put, Update, Pop, Delete, Clear, Keys and Has work on
// the session's values, each stored as JSON; Login, Renew, Destroy and
// RememberMe steer its lifecycle; Info reports its metadata.
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
// hour idle or 24 hours after login, enforced on the server. Login renews the
// ID; Destroy deletes the record and expires the cookie. A visitor who never
// gets session state gets no cookie and costs no store call.
//
// # Concurrency
//
// Requests on one session may run at once, on many app instances. Each
// request records its changes and commits them with a compare-and-swap on
// the record's version; on a conflict it reloads and replays them. Parallel
// requests that set different keys all land; Update never loses an
// increment; a destroyed session is never brought back by a slower request;
// a slower request on a just-renewed ID carries its changes to the new one.
// Changes are committed before the first byte of the response; a change after
// that returns ErrResponseStarted.
package session
