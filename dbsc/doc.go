// Package dbsc binds sessions to a key the browser holds, with Device Bound
// Session Credentials (W3C webappsec-dbsc), so that a stolen session cookie
// stops working within minutes.
//
// It implements the server side of the spec as of commit d346811 of
// github.com/w3c/webappsec-dbsc (spec.bs, 2026-02-17), in the additive
// mode: the session cookie of package session stays as it is, and a
// short-lived bound cookie rides beside it. Only a holder of the private
// key, which the browser keeps (in a TPM where it has one), can get a new
// bound cookie; routes that require a bound session refuse a request
// without one. Section names in comments are the spec's.
//
// # Quick start
//
//	mgr, _ := session.New(store, session.Config{})
//	binder, _ := dbsc.New(mgr, dbsc.Config{})   // the zero Config is the secure default
//	mux := http.NewServeMux()
//	mux.Handle("POST /dbsc/registration", binder.Registration())
//	mux.Handle("POST /dbsc/refresh", binder.Refresh())
//	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
//		// ... check the password ...
//		session.Login(r.Context(), user)
//		binder.Offer(w, r)                         // Secure-Session-Registration
//	})
//	mux.Handle("/account/", binder.Require(account)) // bound sessions only
//	mux.Handle("/", binder.Prefer(home))             // serve, report unbound requests
//	http.ListenAndServe(":8080", mgr.Handler(mux))
//
// # Protocol
//
// Offer adds Secure-Session-Registration (ES256 and RS256, a challenge,
// the registration path) to the response of a login. The browser makes a
// key and posts a dbsc+jwt proof to Registration, which verifies it, keeps
// the public key in the session, sets the bound cookie and answers the
// session instructions. When the bound cookie expires the browser calls
// Refresh, which answers 403 with a Secure-Session-Challenge, verifies the
// signed answer against the registered key and sets a new bound cookie.
// After a logout, a revocation, an expiry or a new login, Refresh answers
// {"continue": false}, which ends the browser's bound session.
//
// # Security
//
// Proofs are verified with the standard library: ES256 (P-256, raw R||S
// signatures) and RS256 (2048 to 8192 bit keys); "none", an algorithm that
// does not match the key, a typ other than dbsc+jwt, a key in a refresh
// proof, non-canonical base64url, duplicate JSON members and proofs over 8
// KiB are refused. Challenges are stateless, HMAC-signed, short-lived
// (Config.ChallengeTTL), and bound to the endpoint, the session's store ID
// and its binding. Each is answered at most once: the answered ones are
// kept in the session until they expire, so single use holds across app
// instances and rides the session's compare-and-swap commit, as the
// registered key does (of two racing registrations exactly one lands).
// A binding belongs to the login it was made in. Nothing here logs or
// reports a token, a proof or a cookie value; events carry the session's
// store ID and the key's RFC 7638 thumbprint.
//
// # Concurrency
//
// A Binder is safe for concurrent use. Its state lives in the session
// (ValueKey) and in Config.Secret, which app instances sharing a store
// must share.
package dbsc
