package forwardauth

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strings"
)

// serveForward answers Traefik's forwardAuth and Caddy's forward_auth.
// Both send the original request's headers (Cookie included) and describe
// it in X-Forwarded-Method, X-Forwarded-Proto, X-Forwarded-Host and
// X-Forwarded-Uri; on a 2xx they copy the configured identity headers onto
// the request they forward (Traefik's authResponseHeaders, Caddy's
// copy_headers), on anything else they send this answer to the client.
//
// So a visitor who must sign in gets a redirect to the sign-in page when
// it is a browser (302 for GET and HEAD, 303 otherwise, which browsers
// follow with a GET), and 401 with a JSON body when it asked for JSON
// (Accept: application/json without text/html, or X-Requested-With:
// XMLHttpRequest). A forbidden request gets 403.
func (h *Handler) serveForward(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	d, t := h.check("forward", r, func() Target {
		return Target{
			Method: r.Header.Get("X-Forwarded-Method"),
			Scheme: r.Header.Get("X-Forwarded-Proto"),
			Host:   r.Header.Get("X-Forwarded-Host"),
			URI:    r.Header.Get("X-Forwarded-Uri"),
		}
	})
	if d.Outcome == Allowed {
		h.allow(w, d)
		return
	}
	h.deny(w, r, d, t)
}

// deny writes the answer a client gets for a refused request, for the
// proxies that pass it on (Traefik, Caddy, Envoy).
func (h *Handler) deny(w http.ResponseWriter, r *http.Request, d Decision, t Target) {
	api := wantsJSON(r)
	if d.Outcome == SignInRequired {
		login := h.loginLocation(t)
		if api {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "sign-in required", "login": login})
			return
		}
		code := http.StatusFound
		if t.Method != http.MethodGet && t.Method != http.MethodHead {
			code = http.StatusSeeOther
		}
		w.Header().Set("Location", login)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(code)
		page.ExecuteTemplate(w, "redirect", login)
		return
	}
	if api {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "forbidden"})
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	page.ExecuteTemplate(w, "forbidden", nil)
}

// wantsJSON reports whether the client is a script rather than a page
// load: it asked for JSON and not HTML, or said XMLHttpRequest.
func wantsJSON(r *http.Request) bool {
	if r.Header.Get("X-Requested-With") == "XMLHttpRequest" {
		return true
	}
	accept := strings.ToLower(strings.Join(r.Header.Values("Accept"), ","))
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// page holds the small pages of the check endpoints and the sign-in flow.
var page = template.Must(template.New("").Parse(pageTemplates))
