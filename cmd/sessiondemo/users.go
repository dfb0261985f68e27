package main

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// Roles of the demo users.
const (
	roleAdmin    = "admin"
	roleCustomer = "customer"
)

// pbkdf2Iterations is deliberately modest so that the tests, which log in
// dozens of times under the race detector, stay fast. A real application
// wants OWASP's 600,000 iterations of PBKDF2-HMAC-SHA256 (2023), or argon2id
// or scrypt, and a per-user iteration count so it can raise it later.
const pbkdf2Iterations = 10_000

// maxPasswordLen bounds the input of a password check.
const maxPasswordLen = 1024

// user is an account of the demo. The password is kept only as a salted
// PBKDF2-HMAC-SHA256 hash.
type user struct {
	Name string
	Role string
	salt []byte
	hash []byte
}

// Admin reports whether the user may see the admin pages.
func (u *user) Admin() bool { return u.Role == roleAdmin }

// users is the demo's user table: alice / wonderland (admin) and
// bob / builder (customer). The hashes were made with a random 16-byte salt
// each and pbkdf2Iterations; TestDemoPasswords checks them.
var users = map[string]*user{
	"alice": {
		Name: "alice", Role: roleAdmin,
		salt: mustHex("efd8ecf71190badd2d0556b8af973f2d"),
		hash: mustHex("3e618fc3f60dfc5fe0fb17741ca4d8707be8ab42a579ff55cda75270084418da"),
	},
	"bob": {
		Name: "bob", Role: roleCustomer,
		salt: mustHex("ddee0067114ce8494a3574a58926f974"),
		hash: mustHex("e6708adee97befdbb0764b19f159ef43a41f89204278d901625830c288e50b2b"),
	},
}

// userNames lists the users in a stable order, for the admin page.
var userNames = []string{"alice", "bob"}

// dummy is hashed against when the user name is unknown, so that a login
// attempt takes as long whether or not the account exists.
var dummy = &user{salt: make([]byte, 16), hash: make([]byte, sha256.Size)}

// authenticate returns the user whose name and password these are, or nil.
// It runs one PBKDF2 whatever the input and compares in constant time.
func authenticate(name, password string) *user {
	u, ok := users[normalizeName(name)]
	if !ok {
		u = dummy
	}
	tooLong := len(password) > maxPasswordLen
	if tooLong {
		password = "" // bound the work an attacker can ask for
	}
	sum, err := pbkdf2.Key(sha256.New, password, u.salt, pbkdf2Iterations, sha256.Size)
	if err != nil || subtle.ConstantTimeCompare(sum, u.hash) != 1 || !ok || tooLong {
		return nil
	}
	return u
}

// lookupUser returns the user named by a session's subject, or nil.
func lookupUser(subject string) *user {
	if subject == "" {
		return nil
	}
	return users[subject]
}

// normalizeName is the form of a user name used as a key: the rate limit
// of "Alice" and "alice " must be the same.
func normalizeName(name string) string {
	return strings.ToLower(strings.TrimSpace(name))
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
