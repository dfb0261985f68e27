package main

import (
	"strings"
	"testing"
)

// redactLogText promises to hide "the value of any parameter ... whose name
// mentions ... a password or a secret", but its secretParam ends the value
// at the first ';', '&', '?', '/' or '#' of the decoded text. In a query a
// value may hold a raw '/' or '?' (net/url's ParseQuery keeps them in the
// value), and an escaped '&', ';' or '#' (%26, %3B, %23) is decoded before
// the match, so it ends the hidden part too: the rest of the password is
// logged in clear.
func TestAttackRedactLogTextShowsTailOfSecretValue(t *testing.T) {
	const tail = "stapleHorse"
	for _, path := range []string{
		"/account?password=battery/" + tail,
		"/account?password=battery?" + tail,
		"/account?password=battery%26" + tail,
		"/account?api_key=battery%3B" + tail,
		"/account?secret=battery%23" + tail,
	} {
		if got := redactLogText(path); strings.Contains(got, tail) {
			t.Errorf("redactLogText(%q) = %q: part of the secret is logged", path, got)
		}
	}
}
