// Package forwardauth gives apps behind a reverse proxy, in any language,
// sessionkit's sessions: the proxy asks it about every request ("is this
// visitor signed in, as whom, may they see this?") and passes the answer
// to the app as request headers. It is the library behind cmd/sessiond,
// for apps that want to embed the same handler.
//
// # Quick start
//
//	users, err := forwardauth.LoadUsers("users.txt") // name:argon2id-or-bcrypt-hash:groups:email
//	mgr, err := session.New(store, session.Config{ClearSiteData: true})
//	fa, err := forwardauth.New(forwardauth.Options{
//		Manager: mgr,
//		Users:   users,
//		Rules: []forwardauth.Rule{
//			{Path: "/public", Access: forwardauth.Anonymous},
//			{Path: "/admin", Groups: []string{"admins"}},
//		},
//	})
//	http.ListenAndServe("127.0.0.1:9091", fa)
//
// # Contracts
//
// One decision (Handler.Decide) is served to each proxy as it documents
// its protocol:
//
//   - nginx auth_request: PathNginx, with X-Original-Method and
//     X-Original-URI; answers 200, 401 (with a Location header for the
//     sign-in redirect) or 403 only.
//   - Traefik forwardAuth and Caddy forward_auth: PathForward, with
//     X-Forwarded-Method, -Proto, -Host and -Uri; answers 200, a 302 (303
//     for other methods than GET and HEAD) to the sign-in page for browsers,
//     401 for scripts that ask for JSON, 403.
//   - Envoy ext_authz, HTTP service: under PathEnvoy (its path_prefix),
//     with the original method, Host and path; 200 is the only allow.
//
// On allow the answer carries the identity headers (Headers: Authelia's
// Remote-User, Remote-Groups, Remote-Email by default, oauth2-proxy's
// X-Auth-Request-* as a preset, or names of your own) and the session's
// store ID. The sign-in page (PathLogin) and sign-out (PathLogout) are
// served by the same Handler.
//
// # Security
//
// A check is answered only for the proxies in Options.TrustedProxies
// (loopback by default); from any other address it is refused without
// reading its headers, so a client cannot describe a request of its own
// choosing. Paths are made canonical before the rules see them, and paths
// that servers read differently are refused. Every answer that allows
// carries every identity header, empty when there is nothing to say, so a
// proxy configured to copy them overwrites what the client sent; the proxy
// snippets in cmd/sessiond's documentation do. A redirect after sign-in
// goes only to a path on the sign-in host or an https URL on a host of
// Options.RedirectHosts. Sign-in and sign-out are POST only, CSRF-checked
// (package csrf), rate-limited per client address and per user name
// (package ratelimit), and sign-in renews the session ID.
//
// # Concurrency
//
// A Handler is safe for concurrent use; a UserFile too.
package forwardauth
