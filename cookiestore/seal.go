package cookiestore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Version is the format version written by [KeyRing.Seal]. It is the first
// field of every sealed value and part of the associated data, so a value
// sealed under one version never opens under another.
const Version = "v1"

// MaxCookieBytes is the budget for one cookie: len(name) + len("=") +
// len(value) must not exceed it. Chrome and Firefox reject a cookie whose
// name and value together exceed 4096 bytes (attributes such as Path,
// Domain, Expires and SameSite are not counted; each attribute value is
// limited to 1024 bytes on its own), and Safari has been measured a few
// bytes lower, so 4093 is the value that every current browser keeps.
//
// Servers and proxies limit the whole Cookie request header separately
// (nginx's default is 8 KiB per header line), which matters for
// [KeyRing.SealChunks].
const MaxCookieBytes = 4093

// Overhead is the number of payload bytes the AEAD adds: a 96-bit random
// nonce and a 128-bit tag. A payload of n bytes becomes a value of
// len("v1.") + len(keyID) + len(".") + base64url(n + Overhead) bytes.
const Overhead = 12 + 16

// maxSealedBytes bounds the input [KeyRing.Open] and [KeyRing.OpenChunks]
// are willing to decode.
const maxSealedBytes = MaxChunks * MaxCookieBytes

var (
	// ErrInvalid is returned (possibly wrapped with a reason) for any value
	// that does not open: malformed, truncated, tampered with, sealed for
	// another cookie name, under an unknown format version, or with a key
	// the ring does not hold (unknown or retired). Callers treat it as
	// "no session"; the reason is for logs, never for the client.
	ErrInvalid = errors.New("cookiestore: invalid sealed value")

	// ErrTooLarge is returned by Seal when the sealed cookie would exceed
	// MaxCookieBytes, and by SealChunks when it would not fit in maxChunks
	// cookies. Nothing is sealed and no seal is counted.
	ErrTooLarge = errors.New("cookiestore: sealed value too large for a cookie")

	// ErrKeyExhausted is returned by Seal once the primary key has sealed
	// 2^32 values in this process (see [KeyRing.Seals]); rotate the key.
	ErrKeyExhausted = errors.New("cookiestore: primary key has reached its 2^32 seal budget; rotate keys")

	// ErrCookieName is returned for a cookie name that is empty, longer than
	// 256 bytes or not an RFC 6265 token. Open and OpenChunks wrap it in
	// ErrInvalid as well.
	ErrCookieName = errors.New("cookiestore: invalid cookie name")

	// errNoKeys: a KeyRing not made by NewKeyRing or a loader.
	errNoKeys = errors.New("cookiestore: the key ring holds no key (make it with NewKeyRing, ParseKeyRing or a loader)")
)

var (
	errMalformed  = wrapInvalid("malformed value")
	errVersion    = wrapInvalid("unknown format version")
	errUnknownKey = wrapInvalid("unknown key id (not in the key ring, or retired)")
	errAuth       = wrapInvalid("authentication failed")
	errChunks     = wrapInvalid("missing or extra chunk")
)

type reasonError struct{ reason string }

func (e *reasonError) Error() string { return ErrInvalid.Error() + ": " + e.reason }
func (e *reasonError) Unwrap() error { return ErrInvalid }

func wrapInvalid(reason string) error { return &reasonError{reason} }

var b64 = base64.RawURLEncoding.Strict()

// subkeyInfo prefixes the HKDF info; the cookie name follows it.
const subkeyInfo = "sessionkit/cookiestore " + Version + " subkey\x00"

// aadPrefix starts the associated data; see buildAAD.
const aadPrefix = "sessionkit/cookiestore\x00" + Version + "\x00"

// buildAAD returns the associated data for a value sealed with key id under
// the cookie name, split into chunks cookies (1 for an unchunked value):
//
//	"sessionkit/cookiestore" 0x00 version 0x00 keyID 0x00 chunks 0x00 name
//
// Key ids and chunk counts cannot contain 0x00 and the name comes last, so
// the encoding is unambiguous.
func buildAAD(keyID string, chunks int, name string) []byte {
	b := make([]byte, 0, len(aadPrefix)+len(keyID)+1+3+len(name))
	b = append(b, aadPrefix...)
	b = append(b, keyID...)
	b = append(b, 0)
	b = strconv.AppendInt(b, int64(chunks), 10)
	b = append(b, 0)
	b = append(b, name...)
	return b
}

// cipherFor is the per-(key, cookie name) state: the AEAD keyed with the
// HKDF subkey and the associated data of an unchunked value.
type cipherFor struct {
	aead cipher.AEAD
	aad1 []byte
}

func newCipherFor(k *key, name string) (*cipherFor, error) {
	sub, err := hkdf.Key(sha256.New, k.secret, nil, subkeyInfo+name, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(sub)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, err
	}
	return &cipherFor{aead: aead, aad1: buildAAD(k.id, 1, name)}, nil
}

// maxCachedNames bounds the per-key cache of derived ciphers; names beyond
// it are derived on every call (correct, only slower).
const maxCachedNames = 64

func (k *key) cipher(name string) (*cipherFor, error) {
	k.mu.RLock()
	c := k.ciphers[name]
	k.mu.RUnlock()
	if c != nil {
		return c, nil
	}
	c, err := newCipherFor(k, name)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	if prev := k.ciphers[name]; prev != nil {
		c = prev
	} else if len(k.ciphers) < maxCachedNames {
		k.ciphers[name] = c
	}
	k.mu.Unlock()
	return c, nil
}

// validName reports whether name is a cookie name this package accepts: an
// RFC 6265 token of at most 256 bytes.
func validName(name string) bool {
	if name == "" || len(name) > 256 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

// sealedLen is the length of a value sealing n payload bytes with key id
// into chunks cookies.
func sealedLen(keyID string, chunks, n int) int {
	l := len(Version) + 1 + len(keyID) + 1 + b64.EncodedLen(n+Overhead)
	if chunks > 1 {
		l += len(strconv.Itoa(chunks)) + 1
	}
	return l
}

// Seal encrypts payload for the cookie called name with the primary key and
// returns the cookie value:
//
//	v1.<key id>.<base64url(nonce | ciphertext | tag)>
//
// It returns ErrTooLarge, without sealing, if len(name)+1+len(value) would
// exceed MaxCookieBytes; use SealChunks for larger payloads.
func (r *KeyRing) Seal(name string, payload []byte) (string, error) {
	if !validName(name) {
		return "", ErrCookieName
	}
	if len(r.keys) == 0 {
		return "", errNoKeys
	}
	p := r.keys[0]
	if len(name)+1+sealedLen(p.id, 1, len(payload)) > MaxCookieBytes {
		return "", ErrTooLarge
	}
	return r.seal(p, name, payload, 1)
}

// seal seals payload with key p for name split into chunks cookies. The
// caller has checked the name and the size.
func (r *KeyRing) seal(p *key, name string, payload []byte, chunks int) (string, error) {
	c, err := p.cipher(name)
	if err != nil {
		return "", err
	}
	aad := c.aad1
	if chunks > 1 {
		aad = buildAAD(p.id, chunks, name)
	}
	if p.seals.Add(1) > SealBudget {
		p.seals.Add(^uint64(0))
		return "", ErrKeyExhausted
	}
	// One scratch buffer holds the value being built and, past its end,
	// the raw nonce | ciphertext | tag that is encoded into it. It holds
	// no plaintext, so it can go back to the pool without clearing.
	total := sealedLen(p.id, chunks, len(payload))
	need := total + len(payload) + Overhead
	bp := scratch.Get().(*[]byte)
	if cap(*bp) < need {
		*bp = make([]byte, 0, need)
	}
	buf := append((*bp)[:0], Version...)
	buf = append(buf, '.')
	buf = append(buf, p.id...)
	buf = append(buf, '.')
	if chunks > 1 {
		buf = strconv.AppendInt(buf, int64(chunks), 10)
		buf = append(buf, '.')
	}
	hdr := len(buf)
	raw := c.aead.Seal(buf[total:total], nil, payload, aad)
	encodeURL(buf[hdr:total], raw)
	v := string(buf[:total])
	if cap(buf) <= maxScratch {
		*bp = buf[:0]
		scratch.Put(bp)
	}
	return v, nil
}

// maxScratch is the largest buffer kept in the scratch pool.
const maxScratch = 16 << 10

var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// Open authenticates and decrypts a value sealed by Seal for the cookie
// called name. It returns the payload and the id of the key that opened it;
// pass the id to NeedsReseal to learn whether the value should be sealed
// again with the primary key on the next write.
//
// Every value that does not open yields an error wrapping ErrInvalid.
func (r *KeyRing) Open(name, value string) (payload []byte, keyID string, err error) {
	return r.open(name, value, 1)
}

// open parses value (a whole sealed string, chunks already joined) that
// must declare chunks cookies, and opens it.
func (r *KeyRing) open(name, value string, chunks int) ([]byte, string, error) {
	if !validName(name) {
		// Still a value that does not open: callers treat ErrInvalid as
		// "no session" and must not answer 500 here.
		return nil, "", fmt.Errorf("%w: %w", ErrInvalid, ErrCookieName)
	}
	// The base64 decoder skips CR and LF; refuse them so that no two
	// different strings open to the same value.
	if len(value) > maxSealedBytes || strings.IndexByte(value, '\n') >= 0 || strings.IndexByte(value, '\r') >= 0 {
		return nil, "", errMalformed
	}
	ver, rest, ok := strings.Cut(value, ".")
	if !ok {
		return nil, "", errMalformed
	}
	if ver != Version {
		return nil, "", errVersion
	}
	kid, rest, ok := strings.Cut(rest, ".")
	if !ok || !validKeyID(kid) {
		return nil, "", errMalformed
	}
	n := 1
	if head, tail, ok := strings.Cut(rest, "."); ok {
		n, ok = parseChunkCount(head)
		if !ok || n < 2 {
			return nil, "", errMalformed
		}
		rest = tail
	}
	if n != chunks {
		return nil, "", errChunks
	}
	k := r.byID(kid)
	if k == nil {
		return nil, "", errUnknownKey
	}
	raw, err := b64.DecodeString(rest)
	if err != nil || len(raw) < Overhead {
		return nil, "", errMalformed
	}
	c, err := k.cipher(name)
	if err != nil {
		return nil, "", err
	}
	aad := c.aad1
	if n > 1 {
		aad = buildAAD(k.id, n, name)
	}
	// GCM with a random nonce decrypts in place: the plaintext starts
	// where the nonce was.
	out, err := c.aead.Open(raw[:0], nil, raw, aad)
	if err != nil {
		return nil, "", errAuth
	}
	return out, kid, nil
}

// parseChunkCount parses a chunk count: 1 or 2 decimal digits, no leading
// zero, at most MaxChunks.
func parseChunkCount(s string) (int, bool) {
	if len(s) == 0 || len(s) > 2 || s[0] == '0' {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n <= MaxChunks
}
