package frameworks_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
)

// newManager is the session manager every example shares.
func newManager() *session.Manager {
	mgr, err := session.New(memstore.New(memstore.Options{}), session.Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		panic(err)
	}
	return mgr
}

// login, addToCart and cart are the handlers' bodies, the same whatever
// routes them: the session lives in the request's context.
func login(r *http.Request) error { return session.Login(r.Context(), r.FormValue("user")) }

func addToCart(r *http.Request) ([]string, error) {
	return session.Update(r.Context(), "cart", func(cart []string) ([]string, error) {
		return append(cart, r.FormValue("item")), nil
	})
}

func cart(r *http.Request) (string, error) {
	user := session.Subject(r.Context())
	items, err := session.Get[[]string](r.Context(), "cart")
	return fmt.Sprintf("%s: %s", user, strings.Join(items, ", ")), err
}

// browse drives the app like a browser (a cookie jar over HTTPS) and prints
// what the cart page says.
func browse(h http.Handler) {
	srv := httptest.NewTLSServer(h)
	defer srv.Close()
	c := srv.Client()
	c.Jar, _ = cookiejar.New(nil)
	post := func(path string, form url.Values) {
		resp, err := c.PostForm(srv.URL+path, form)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			fmt.Println(path, resp.Status)
		}
	}
	post("/cart", url.Values{"item": {"apple"}}) // anonymous: the cart survives the login
	post("/login", url.Values{"user": {"alice"}})
	post("/cart", url.Values{"item": {"pear"}})
	resp, err := c.Get(srv.URL + "/cart")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
}
