package session

import (
	"strings"
	"testing"
)

func FuzzCookieValue(f *testing.F) {
	f.Add("__Host-session=abc; other=1")
	f.Add(`__Host-session="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"`)
	f.Add(";;=;__Host-session")
	f.Fuzz(func(t *testing.T, header string) {
		v, ok := cookieValue([]string{header}, "__Host-session")
		if ok && !strings.Contains(header, v) {
			t.Fatalf("cookieValue(%q) = %q, which the header does not hold", header, v)
		}
	})
}
