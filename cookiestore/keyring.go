package cookiestore

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
)

// SealBudget is the number of values one key may seal: with random 96-bit
// nonces, NIST SP 800-38D limits a GCM key to 2^32 encryptions so that the
// chance of a repeated nonce (which would reveal the XOR of two plaintexts
// and allow forgeries) stays below 2^-32.
const SealBudget = 1 << 32

// key is one master key of a ring.
type key struct {
	id     string
	secret []byte
	seals  atomic.Uint64

	mu      sync.RWMutex
	ciphers map[string]*cipherFor
}

// KeyRing holds the master keys that seal and open cookie values. The first
// key is the primary: Seal uses it, Open accepts any key of the ring. A
// KeyRing is safe for concurrent use and immutable once built; to change
// keys, load a new ring.
type KeyRing struct {
	keys []*key
	ids  map[string]*key
}

// MinKeyBytes is the shortest master key accepted.
const MinKeyBytes = 32

// maxKeyIDLen is the longest key id accepted.
const maxKeyIDLen = 16

const generateHint = "generate one with: head -c 32 /dev/urandom | base64 (or cookiestore.GenerateKey)"

// Key is a master key for NewKeyRing.
type Key struct {
	ID     string // 1 to 16 of [A-Za-z0-9_-]; written into every value it seals
	Secret []byte // at least MinKeyBytes random bytes
}

// NewKeyRing returns a ring holding keys, the first of which is the
// primary. It copies the secrets. It fails if there are no keys, or if a
// key id is invalid or repeated, or a secret is shorter than MinKeyBytes or
// repeated under another id.
func NewKeyRing(keys ...Key) (*KeyRing, error) {
	if len(keys) == 0 {
		return nil, errors.New("cookiestore: no keys; " + generateHint)
	}
	r := &KeyRing{ids: make(map[string]*key, len(keys))}
	secrets := make(map[string]string, len(keys))
	for _, k := range keys {
		if !validKeyID(k.ID) {
			return nil, fmt.Errorf("cookiestore: key id %q: want 1 to %d characters of A-Z a-z 0-9 _ -", k.ID, maxKeyIDLen)
		}
		if _, dup := r.ids[k.ID]; dup {
			return nil, fmt.Errorf("cookiestore: key id %q listed twice", k.ID)
		}
		if len(k.Secret) < MinKeyBytes {
			return nil, fmt.Errorf("cookiestore: key %q is %d bytes, want at least %d; %s", k.ID, len(k.Secret), MinKeyBytes, generateHint)
		}
		if other, dup := secrets[string(k.Secret)]; dup {
			return nil, fmt.Errorf("cookiestore: keys %q and %q have the same secret; %s", other, k.ID, generateHint)
		}
		secrets[string(k.Secret)] = k.ID
		nk := &key{id: k.ID, secret: append([]byte(nil), k.Secret...), ciphers: make(map[string]*cipherFor)}
		r.keys = append(r.keys, nk)
		r.ids[k.ID] = nk
	}
	return r, nil
}

func validKeyID(id string) bool {
	if id == "" || len(id) > maxKeyIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (r *KeyRing) byID(id string) *key {
	return r.ids[id]
}

// Primary returns the id of the key Seal uses.
func (r *KeyRing) Primary() string {
	if len(r.keys) == 0 {
		return ""
	}
	return r.keys[0].id
}

// IDs returns the key ids of the ring, primary first.
func (r *KeyRing) IDs() []string {
	ids := make([]string, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.id
	}
	return ids
}

// NeedsReseal reports whether a value that Open reported as opened by
// keyID was sealed with a key other than the primary, so the caller should
// seal it again on its next write (which moves live sessions off a key
// before it is retired).
func (r *KeyRing) NeedsReseal(keyID string) bool { return keyID != r.Primary() }

// Seals returns how many values the key called id has sealed through this
// ring in this process (0 for an unknown id). The count is per process and
// starts at zero with every ring: the key's true total across instances and
// restarts is higher. Rotate keys long before any estimate of that total
// nears SealBudget.
func (r *KeyRing) Seals(id string) uint64 {
	if k := r.ids[id]; k != nil {
		return k.seals.Load()
	}
	return 0
}

// GenerateKey returns a new key line "id:<base64url of 32 random bytes>"
// for a key file or environment variable read by ParseKeyRing.
func GenerateKey(id string) (string, error) {
	if !validKeyID(id) {
		return "", fmt.Errorf("cookiestore: key id %q: want 1 to %d characters of A-Z a-z 0-9 _ -", id, maxKeyIDLen)
	}
	secret := make([]byte, MinKeyBytes)
	rand.Read(secret) // never fails (crypto/rand since Go 1.24)
	return id + ":" + base64.RawURLEncoding.EncodeToString(secret), nil
}

// ParseKeyRing parses a key ring from text: one key per line, written
//
//	id:base64-secret
//
// The first key is the primary. The secret may be in standard or URL-safe
// base64, padded or not, and must decode to at least MinKeyBytes bytes.
// Blank lines and lines starting with # are ignored; so that a ring fits in
// one environment variable, keys may also be separated by commas or spaces.
//
// Rotation, with every instance reading the same file or variable:
//
//  1. Add: append a new key at the end. Instances that load it open values
//     sealed with it but do not yet seal with it, so a rolling restart is
//     safe.
//  2. Promote: once every instance has the new key, move it to the top. New
//     and rewritten values use it; values sealed with the old key still
//     open, and NeedsReseal reports them so they are sealed again on their
//     next write.
//  3. Retire: delete the old key once the longest absolute session lifetime
//     has passed since the promotion. Values still sealed with it then read
//     as ErrInvalid (no session).
//
// Rotate each key long before it could have sealed SealBudget (2^32)
// values across all instances; Seals reports this process's share.
func ParseKeyRing(text string) (*KeyRing, error) {
	var keys []Key
	for lineNo, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		for _, f := range strings.FieldsFunc(line, func(c rune) bool { return c == ',' || c == ' ' || c == '\t' || c == '\r' }) {
			id, enc, ok := strings.Cut(f, ":")
			if !ok {
				return nil, fmt.Errorf("cookiestore: line %d: want id:base64-secret; %s", lineNo+1, generateHint)
			}
			secret, err := decodeSecret(enc)
			if err != nil {
				return nil, fmt.Errorf("cookiestore: line %d: key %q: secret is not base64; %s", lineNo+1, id, generateHint)
			}
			keys = append(keys, Key{ID: id, Secret: secret})
		}
	}
	return NewKeyRing(keys...)
}

func decodeSecret(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "+/") {
		return base64.RawStdEncoding.DecodeString(s)
	}
	return base64.RawURLEncoding.DecodeString(s)
}

// LoadKeyRingFile reads a key ring from the file at path (see
// ParseKeyRing). The file should be readable by the server only.
func LoadKeyRingFile(path string) (*KeyRing, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cookiestore: key file: %w; %s", err, generateHint)
	}
	r, err := ParseKeyRing(string(b))
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return r, nil
}

// LoadKeyRingEnv reads a key ring from the environment variable called name
// (see ParseKeyRing). A missing or empty variable is an error.
func LoadKeyRingEnv(name string) (*KeyRing, error) {
	v, ok := os.LookupEnv(name)
	if !ok || strings.TrimSpace(v) == "" {
		return nil, fmt.Errorf("cookiestore: environment variable %s is not set; set it to id:secret lines, %s", name, generateHint)
	}
	r, err := ParseKeyRing(v)
	if err != nil {
		return nil, fmt.Errorf("%w (in $%s)", err, name)
	}
	return r, nil
}
