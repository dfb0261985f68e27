package forwardauth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Argon2id parameters of HashPassword: OWASP's Password Storage Cheat
// Sheet's first choice (19 MiB of memory, 2 passes, 1 lane).
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
)

// Bounds on the parameters of a hash read from a users file, so that a
// mistyped line cannot make every login take a minute or a gigabyte.
const (
	maxArgonMemoryKiB = 1 << 20 // 1 GiB
	maxArgonTime      = 16
	maxPasswordLen    = 1024
)

// ErrBadHash is returned for a password hash of an unknown or malformed
// format.
var ErrBadHash = errors.New("forwardauth: unsupported password hash (want $argon2id$... or bcrypt $2a$/$2b$/$2y$)")

// HashPassword returns an argon2id hash of password in the PHC string format
// ($argon2id$v=19$m=19456,t=2,p=1$salt$hash), for a users file.
func HashPassword(password string) (string, error) {
	if len(password) > maxPasswordLen {
		return "", fmt.Errorf("forwardauth: password longer than %d bytes", maxPasswordLen)
	}
	salt := make([]byte, argonSaltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// passwordHash is a parsed hash, ready to check passwords against.
type passwordHash struct {
	bcrypt []byte // set for bcrypt

	// argon2id
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

func parseHash(s string) (*passwordHash, error) {
	switch {
	case strings.HasPrefix(s, "$2a$"), strings.HasPrefix(s, "$2b$"), strings.HasPrefix(s, "$2y$"):
		if _, err := bcrypt.Cost([]byte(s)); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadHash, err)
		}
		return &passwordHash{bcrypt: []byte(s)}, nil
	case strings.HasPrefix(s, "$argon2id$"):
		return parseArgon2id(s)
	}
	return nil, ErrBadHash
}

func parseArgon2id(s string) (*passwordHash, error) {
	parts := strings.Split(s, "$") // "", argon2id, v=19, m=..,t=..,p=.., salt, key
	if len(parts) != 6 {
		return nil, ErrBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return nil, fmt.Errorf("%w: argon2id version %q, want v=%d", ErrBadHash, parts[2], argon2.Version)
	}
	h := &passwordHash{}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.memory, &h.time, &threads); err != nil {
		return nil, fmt.Errorf("%w: argon2id parameters %q", ErrBadHash, parts[3])
	}
	if h.memory < 8 || h.memory > maxArgonMemoryKiB || h.time < 1 || h.time > maxArgonTime || threads < 1 || threads > 255 {
		return nil, fmt.Errorf("%w: argon2id parameters %q out of bounds", ErrBadHash, parts[3])
	}
	h.threads = uint8(threads)
	var err error
	b64 := base64.RawStdEncoding
	if h.salt, err = b64.DecodeString(parts[4]); err != nil || len(h.salt) < 8 {
		return nil, fmt.Errorf("%w: argon2id salt", ErrBadHash)
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil || len(h.key) < 16 || len(h.key) > 64 {
		return nil, fmt.Errorf("%w: argon2id hash", ErrBadHash)
	}
	return h, nil
}

// check reports whether password matches the hash, in time independent of
// where they differ.
func (h *passwordHash) check(password string) bool {
	if len(password) > maxPasswordLen {
		return false
	}
	if h.bcrypt != nil {
		return bcrypt.CompareHashAndPassword(h.bcrypt, []byte(password)) == nil
	}
	key := argon2.IDKey([]byte(password), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1
}
