package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// A token is 32 bytes from crypto/rand, base64url without padding: 43
// characters. Only the client holds it; stores are keyed by its SHA-256, so a
// dump of a store holds nothing that opens a session.
const (
	tokenBytes = 32
	tokenLen   = 43 // base64.RawURLEncoding.EncodedLen(tokenBytes)
)

// newToken returns a fresh token and its store ID.
func newToken() (token, id string) {
	var raw [tokenBytes]byte
	rand.Read(raw[:]) // never fails (crypto/rand documents it)
	return base64.RawURLEncoding.EncodeToString(raw[:]), hashID(&raw)
}

// parseToken checks that s has the exact shape of a token this package issues
// and returns its store ID. Anything else (wrong length or alphabet,
// non-canonical encoding) is refused before any store lookup.
func parseToken(s string) (id string, ok bool) {
	if len(s) != tokenLen {
		return "", false
	}
	// Decoding by hand keeps a refused token, and an accepted one, free of
	// allocations: the standard decoder wants a []byte of the input.
	var raw [tokenBytes]byte
	var acc uint32
	bits, j := 0, 0
	for i := 0; i < len(s); i++ {
		v := b64val[s[i]]
		if v == 0xff {
			return "", false
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 8 {
			bits -= 8
			raw[j] = byte(acc >> bits)
			j++
		}
	}
	// 43 characters carry 258 bits: the 2 left over must be zero, so that
	// each token has exactly one spelling.
	if acc&(1<<bits-1) != 0 {
		return "", false
	}
	return hashID(&raw), true
}

func hashID(raw *[tokenBytes]byte) string {
	sum := sha256.Sum256(raw[:])
	var buf [2 * sha256.Size]byte
	hex.Encode(buf[:], sum[:])
	return string(buf[:]) // one allocation; EncodeToString takes two
}

// HashToken returns the store ID of a token, or false if the token is not
// well formed. Admin tools use it to find the record behind a token a user
// reports; the library itself never needs it outside this package.
func HashToken(token string) (string, bool) { return parseToken(token) }

var b64val = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()
