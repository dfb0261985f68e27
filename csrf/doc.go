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
//  2. A token the request must send back in a form field or a header.
//     For a visitor with a session it is a synchronizer token bound to the
//     session: made from a secret kept in the session, valid for that
//     session only. For a visitor without a session it is a signed token
//     that needs no server state (see "Visitors without a session").
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
// need no token. A visitor who only reads pages gets no session, even from a
// page full of forms: rendering a token for a visitor without a session
// writes nothing and sets no cookie. The session is created by the first
// real write (an item put in a cart, a login), and its secret by the first
// token rendered after that.
//
// # Visitors without a session
//
// A catalog page with "add to cart" buttons, or a login form, is often the
// first page a visitor sees. Binding its token to a session would create a
// session (a store write and a cookie) for every visitor who merely looks.
// So Token gives a visitor without a session a sessionless token instead:
//
//	base64url(version | issue time | 16-byte nonce | HMAC-SHA256(Key, ...))
//
// 76 characters, where a session-bound token has 86. The HMAC, under
// Options.Key, covers the issue time and the nonce, the request's Host and a
// key of the client (by default its IP address, IPv6 by /64). Check accepts
// it only when all of these hold:
//
//   - the request has no session: once it has one (the visitor put
//     something in the cart in another tab, or logged in), only that
//     session's token counts, so a sessionless token cannot stand in for a
//     session-bound one, nor be replayed after the login;
//   - the HMAC matches: it cannot be forged without the Key;
//   - it was issued to the same client key and host, so a token an
//     attacker fetched for themselves does not work from the victim's
//     browser (login CSRF) unless the attacker shares the victim's address;
//   - it is younger than Options.SessionlessTTL (default 1 hour).
//
// Fetch Metadata is checked as for every request, so a sessionless token
// never makes a cross-site request acceptable. What the token adds for a
// visitor without a session is the second layer where Fetch Metadata is
// missing (old browsers, proxies that strip the headers): a request without
// a token, or with a forged, stale or someone else's token, is refused.
// Login CSRF from a browser that sends Fetch Metadata is stopped by the
// first layer; from one that does not, by the binding to the client's
// address.
//
// The costs: a visitor whose address changes between loading a form and
// sending it (a phone moving from Wi-Fi to mobile data), whose form is
// older than the TTL, or who created a session in another tab meanwhile, is
// refused (ErrBadToken) and must reload the page: an ErrorHandler can say
// so. Behind
// a reverse proxy set Options.ClientKey, or every client shares the
// proxy's address. Instances behind one load balancer need the same
// Options.Key; without one, each process draws its own, and tokens do not
// survive a restart. Rotating the Key invalidates the sessionless tokens of
// pages already served, for at most the TTL.
//
// # Security
//
// A session's secret is 32 bytes from crypto/rand. Every call of Token masks
// it anew (base64url of a fresh random mask followed by mask XOR secret), so
// no two responses carry the same token and compression side channels such as
// BREACH learn nothing reusable. Tokens are compared in constant time and
// are read only from the request header or body, never the URL. A token is
// refused when it comes from another session, or from before the session
// was renewed: the secret is stored with the session ID it was issued for,
// and session.Login gives the session a new ID, so the old secret no longer
// counts and the next page gets a new one. Malformed tokens of any size are
// refused before the session is read, and so are sessionless tokens whose
// HMAC does not match: a forged token costs no store lookup. A fresh nonce
// makes every sessionless token differ too.
//
// # Concurrency
//
// A Protection is safe for concurrent use. Token and TemplateField may be
// called from several goroutines of one request; concurrent requests of one
// session that create its secret at once agree on a single secret.
package csrf
