// Package frameworks shows sessionkit under the routers Go apps use: chi,
// gorilla/mux, Gin and Echo, each through its net/http middleware adapter,
// and html/template forms with the CSRF field. Each example is a test: it
// starts the app, logs in, fills a cart and reads it back over HTTPS.
//
// The rule for any framework: the session middleware must see the
// http.ResponseWriter the handlers write to, so it can set the cookie before
// the body goes out. Routers whose middleware is func(http.Handler)
// http.Handler (chi, gorilla/mux) take mgr.Handler as it is; Echo adapts it
// with echo.WrapMiddleware; Gin, whose handlers write to its own writer,
// runs inside it: mgr.Handler(engine).
package frameworks
