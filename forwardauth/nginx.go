package forwardauth

import (
	"net/http"
	"strings"
)

// serveNginx answers nginx's auth_request subrequests. nginx takes 2xx as
// allow, 401 and 403 as deny, and anything else as an error, so those are
// the only answers: 200 with the identity headers, 401 with a Location
// header naming the sign-in page (for "auth_request_set $login
// $upstream_http_location; error_page 401 =302 $login;"), 403.
//
// The original request is described by X-Original-Method and
// X-Original-URI (proxy_set_header X-Original-URI $request_uri), its host
// by X-Forwarded-Host or else Host, its scheme by X-Forwarded-Proto.
func (h *Handler) serveNginx(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	d, t := h.check("nginx", r, func() Target {
		host := r.Header.Get("X-Forwarded-Host")
		if host == "" {
			host = r.Host
		}
		return Target{
			Method: r.Header.Get("X-Original-Method"),
			Scheme: r.Header.Get("X-Forwarded-Proto"),
			Host:   host,
			URI:    r.Header.Get("X-Original-URI"),
		}
	})
	switch d.Outcome {
	case Allowed:
		h.allow(w, d)
	case SignInRequired:
		loc := h.loginLocation(t)
		if strings.HasPrefix(loc, "/") {
			loc = t.Scheme + "://" + t.Host + loc
		}
		w.Header().Set("Location", loc)
		w.WriteHeader(http.StatusUnauthorized)
	default:
		w.WriteHeader(http.StatusForbidden)
	}
}
