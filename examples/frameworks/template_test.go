package frameworks_test

import (
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"

	"github.com/sessionkit/session/csrf"
)

var page = template.Must(template.New("cart").Parse(
	`<form method="post" action="/cart">{{.CSRF}}<input name="item"><button>Add</button></form>`))

// An html/template form carries the CSRF field; a post without it is
// refused even from the same origin.
func Example_template() {
	mgr := newManager()
	protect, err := csrf.New(csrf.Options{})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cart", func(w http.ResponseWriter, r *http.Request) {
		field, err := csrf.TemplateField(r) // before the response starts
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		page.Execute(w, struct{ CSRF template.HTML }{field})
	})
	mux.HandleFunc("POST /cart", func(w http.ResponseWriter, r *http.Request) {
		items, err := addToCart(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, items)
	})
	srv := httptest.NewTLSServer(mgr.Handler(protect.Handler(mux)))
	defer srv.Close()
	c := srv.Client()
	c.Jar, _ = cookiejar.New(nil)

	resp, _ := c.Get(srv.URL + "/cart")
	form, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	token := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(form)[1]

	for _, f := range []url.Values{
		{"item": {"apple"}}, // no token
		{"item": {"apple"}, "csrf_token": {string(token)}}, // the form's
	} {
		resp, _ := c.PostForm(srv.URL+"/cart", f)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%d %s", resp.StatusCode, body)
	}
	// Output:
	// 403 Forbidden - CSRF check failed: missing token
	// 200 [apple]
}
