package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// redactLogText decodes at most three times, and then shows the text it
// decoded. A token one of whose characters is percent-encoded four times
// is logged as the token with that one character still escaped once: two
// runs shorter than 43 characters, so neither is redacted, and one
// unescape by whoever reads the log gives the token back.
func TestAttackRedactMissesTokenEncodedFourTimes(t *testing.T) {
	var b [32]byte
	rand.Read(b[:])
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	c := fmt.Sprintf("%%%02X", tok[21])
	for range 3 {
		c = strings.ReplaceAll(c, "%", "%25")
	}
	for _, in := range []string{
		"/?q=" + tok[:21] + c + tok[22:],
		"/" + tok[:21] + c + tok[22:],
	} {
		got := redactLogText(in)
		plain, err := url.PathUnescape(got)
		if err != nil {
			plain = got
		}
		if strings.Contains(plain, tok) {
			t.Errorf("redactLogText(%q) = %q: one unescape gives the token back", in, got)
		}
	}
}
