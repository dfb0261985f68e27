package csrf_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sessionkit/session/csrf"
)

// TestAllocs: a safe request passes through Handler without an allocation.
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	p, err := csrf.New(csrf.Options{TrustedOrigins: []string{trusted}})
	if err != nil {
		t.Fatal(err)
	}
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	w := httptest.NewRecorder()
	if n := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, req) }); n != 0 {
		t.Errorf("a GET through Handler allocates %v times; budget 0", n)
	}
}
