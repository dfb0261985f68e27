package csrf

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var fuzzSecret = bytes.Repeat([]byte{0x5a}, secretLen)

func TestMaskRoundTrip(t *testing.T) {
	other := bytes.Repeat([]byte{0xa5}, secretLen)
	for range 100 {
		tok := mask(fuzzSecret)
		m, ok := decodeToken(tok)
		if !ok {
			t.Fatalf("decodeToken(%q) refused a token mask made", tok)
		}
		if !m.matches(fuzzSecret) {
			t.Fatalf("token %q does not match its secret", tok)
		}
		if m.matches(other) || m.matches(fuzzSecret[:31]) || m.matches(nil) {
			t.Fatalf("token %q matches another secret", tok)
		}
	}
}

// FuzzVerify: parsing and checking never panic, accept only the canonical
// spelling of 64 bytes, and a token matches only the secret it unmasks to.
func FuzzVerify(f *testing.F) {
	for _, s := range []string{
		mask(fuzzSecret), "", strings.Repeat("A", tokenLen), strings.Repeat("\x00", tokenLen),
		strings.Repeat("+/", tokenLen/2), mask(fuzzSecret)[:84] + "==", strings.Repeat("A", 85) + "\n",
		strings.Repeat("é", tokenLen/2), strings.Repeat("A", 10000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, ok := decodeToken(s)
		if !ok {
			return
		}
		if got := encoding.EncodeToString(m[:]); got != s {
			t.Fatalf("accepted %q, a non-canonical spelling of %q", s, got)
		}
		var secret [secretLen]byte
		for i := range secret {
			secret[i] = m[i] ^ m[secretLen+i]
		}
		if !m.matches(secret[:]) {
			t.Fatalf("%q does not match the secret it unmasks to", s)
		}
		if m.matches(fuzzSecret) != bytes.Equal(secret[:], fuzzSecret) {
			t.Fatalf("%q: matches disagrees with the unmasked secret", s)
		}
	})
}

// FuzzSessionless: decoding a sessionless token never panics and accepts
// only the canonical spelling of 57 bytes of the current version; a
// Protection accepts only what it signed.
func FuzzSessionless(f *testing.F) {
	p, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/", nil)
	now := time.Unix(1_800_000_000, 0)
	valid := p.newSessionless(r, now)
	for _, s := range []string{
		valid, "", strings.Repeat("A", sessionlessTokenLen), valid[:75] + "B", valid[:74] + "==",
		strings.Repeat("\x00", sessionlessTokenLen), strings.Repeat("é", sessionlessTokenLen/2),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, ok := decodeSessionless(s)
		if !ok {
			return
		}
		if got := encoding.EncodeToString(tok[:]); got != s {
			t.Fatalf("accepted %q, a non-canonical spelling of %q", s, got)
		}
		if err := p.verifySessionless(r, &tok, now); (err == nil) != (s == valid) {
			t.Fatalf("verify(%q) = %v", s, err)
		}
	})
}
