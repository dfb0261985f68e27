package cookiestore

import (
	"errors"
	"fmt"
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
func (r *KeyRing) Primary() string { return r.keys[0].id }

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
func (r *KeyRing) NeedsReseal(keyID string) bool { return keyID != r.keys[0].id }

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
