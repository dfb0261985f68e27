package main

import (
	"bytes"
	"net/http"
)

// Error pages in the site's layout and language, for what net/http would
// answer in plain text: a path nobody serves (404), a method a path does
// not take (405), and failures (500, 503 with Retry-After).

// styledMisses serves mux, and answers requests that none of its patterns
// match with a 404 or 405 page in the site's layout instead of the mux's
// plain text. Its own redirects (a path to clean, a missing slash) pass
// through as they are.
func (a *app) styledMisses(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r) // sets the request's pattern and path values
			return
		}
		rec := &responseRecorder{header: http.Header{}}
		h.ServeHTTP(rec, r) // the mux's answer: which miss, and Allow
		switch rec.status {
		case http.StatusNotFound:
			a.render(w, r, http.StatusNotFound, "error", "error.not_found", errorPage{Text: "error.not_found.text"})
		case http.StatusMethodNotAllowed:
			w.Header().Set("Allow", rec.header.Get("Allow"))
			a.render(w, r, http.StatusMethodNotAllowed, "error", "error.method", errorPage{Text: "error.method.text"})
		default:
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.status)
			w.Write(rec.body.Bytes())
		}
	})
}

// responseRecorder keeps a small response in memory.
type responseRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *responseRecorder) Header() http.Header { return r.header }

func (r *responseRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *responseRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// failurePage writes a 500 or 503 page in the layout without touching the
// session, which may be what failed: the visitor's language comes from
// Accept-Language, the theme is the default.
func (a *app) failurePage(w http.ResponseWriter, r *http.Request, code int) {
	title, text := "error.internal", "error.internal.text"
	if code == http.StatusServiceUnavailable {
		title, text = "error.down", "error.down.text"
	}
	p := &page{r: r, Title: title, Lang: negotiateLanguage(r), Theme: themes[0], Languages: languages, Data: errorPage{Text: text}}
	var buf bytes.Buffer
	if err := a.pages["error"].ExecuteTemplate(&buf, "layout", p); err != nil {
		http.Error(w, http.StatusText(code), code)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", p.Lang)
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}
