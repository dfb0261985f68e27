// Package csrf protects the handlers of a session-backed application from
// cross-site request forgery with two layers, both checked on every request
// with an unsafe method (anything but GET, HEAD, OPTIONS and TRACE):
//
//  1. Cross-site refusal. Browsers say where a request comes from: the
//     Sec-Fetch-Site header, and Origin for those that lack it. A request
//     from another site is refused, same-site ones (a sibling subdomain)
//     included, unless its origin is listed in Options.TrustedOrigins
//     exactly. This is net/http.CrossOriginProtection, which the package
//     uses.
//  2. A synchronizer token bound to the session. Token hands pages a token
//     made from a secret kept in the session; the request must send it back
//     in a form field or a header, and it must belong to the current
//     session.
//
// Each layer covers what the other cannot. Fetch Metadata stops forgeries
// from other sites at no cost, but trusts whatever the browser says and lets
// through requests that carry neither header (old browsers, some proxies
// strip them). The token does not depend on the browser, and it also defeats
// login CSRF and requests replayed from another session, but only for pages
// that remember to include it. So a missing or foreign token is refused even
// when Sec-Fetch-Site says same-origin, and a valid token is refused when
// the request comes from another site.
//
// # Quick start
//
//	protect, err := csrf.New(csrf.Options{})
//	...
//	http.ListenAndServe(addr, mgr.Handler(protect.Handler(mux)))
//
// Pages with forms render a hidden field:
//
//	field, err := csrf.TemplateField(r) // <input type="hidden" name="csrf_token" value="...">
//
// and scripts send csrf.Token(r) in the X-CSRF-Token header. Safe methods
// need no token, and a visitor who only reads pages gets no session; the
// session and its secret are created by the first call of Token.
//
// # Security
//
// The secret is 32 bytes from crypto/rand. Every call of Token masks it anew
// (base64url of a fresh random mask followed by mask XOR secret), so no two
// responses carry the same token and compression side channels such as
// BREACH learn nothing reusable. Tokens are compared in constant time and
// are read only from the request header or body, never the URL. A token is
// refused when it comes from another session, or from before the session
// was renewed: the secret is stored with the session ID it was issued for,
// and session.Login gives the session a new ID, so the old secret no longer
// counts and the next page gets a new one. Malformed tokens of any size are
// refused before the session is read.
//
// # Concurrency
//
// A Protection is safe for concurrent use. Token and TemplateField may be
// called from several goroutines of one request; concurrent requests of one
// session that create its secret at once agree on a single secret.
package csrf
