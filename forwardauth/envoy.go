package forwardauth

import (
	"net/http"
	"strings"
)

// serveEnvoy answers Envoy's ext_authz filter in HTTP service mode, set up
// with path_prefix PathEnvoy. Envoy sends the original method, Host and
// the original path after the prefix, plus the headers listed in
// allowed_headers (list cookie, accept and x-forwarded-proto). Only 200
// allows; Envoy copies the headers listed in allowed_upstream_headers onto
// the upstream request and removes the ones named in
// x-envoy-auth-headers-to-remove. So every identity header is sent, and
// those without a value are also named for removal: whatever the client
// sent under those names never reaches the upstream. Refusals are as for
// Traefik and Caddy; list location in allowed_client_headers.
func (h *Handler) serveEnvoy(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	d, t := h.check("envoy", r, func() Target {
		uri := r.RequestURI
		if !strings.HasPrefix(uri, "/") { // absolute form: not what Envoy sends
			uri = ""
		}
		return Target{
			Method: r.Method,
			Scheme: r.Header.Get("X-Forwarded-Proto"),
			Host:   r.Host,
			URI:    strings.TrimPrefix(uri, PathEnvoy),
		}
	})
	if d.Outcome != Allowed {
		h.deny(w, r, d, t)
		return
	}
	h.headers.set(w.Header(), d)
	var remove []string
	for _, name := range h.headers.names() {
		lower := strings.ToLower(name)
		if w.Header().Get(name) == "" {
			remove = append(remove, lower)
		}
		// CGI, WSGI and PHP read Remote_User as HTTP_REMOTE_USER too: a
		// client's underscore spelling must not reach the upstream.
		if u := strings.ReplaceAll(lower, "-", "_"); u != lower {
			remove = append(remove, u)
		}
	}
	if len(remove) > 0 {
		w.Header().Set("X-Envoy-Auth-Headers-To-Remove", strings.Join(remove, ","))
	}
	w.WriteHeader(http.StatusOK)
}
