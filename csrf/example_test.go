package csrf_test

import (
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/csrf"
	"github.com/sessionkit/session/memstore"
)

// A form page renders the token in a hidden field; its submission passes,
// a forged one without the token does not.
func Example() {
	store := memstore.New(memstore.Options{})
	defer store.Close()
	mgr, err := session.New(store, session.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	protect, err := csrf.New(csrf.Options{})
	if err != nil {
		panic(err)
	}

	page := template.Must(template.New("").Parse(
		`<form method="post" action="/comment">{{.CSRF}}<input name="text"></form>`))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /comment", func(w http.ResponseWriter, r *http.Request) {
		field, err := csrf.TemplateField(r)
		if err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
		page.Execute(w, map[string]any{"CSRF": field})
	})
	mux.HandleFunc("POST /comment", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "saved %q", r.PostFormValue("text"))
	})
	srv := httptest.NewTLSServer(mgr.Handler(protect.Handler(mux)))
	defer srv.Close()

	// A browser loads the form, then submits it.
	browser := srv.Client()
	browser.Jar, _ = cookiejar.New(nil)
	resp, err := browser.Get(srv.URL + "/comment")
	if err != nil {
		panic(err)
	}
	html, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	token := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(html)[1]

	show := func(resp *http.Response, err error) {
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	}
	show(browser.PostForm(srv.URL+"/comment", url.Values{"csrf_token": {string(token)}, "text": {"hello"}}))
	// A forged submission rides on the same cookies but cannot know the token.
	show(browser.PostForm(srv.URL+"/comment", url.Values{"text": {"spam"}}))
	// Output:
	// 200 saved "hello"
	// 403 Forbidden - CSRF check failed: missing token
}
