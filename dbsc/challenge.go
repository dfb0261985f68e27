package dbsc

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// Challenges are stateless: the server stores nothing when it issues one.
// A challenge is
//
//	version(1) | purpose(1) | issued, Unix seconds(8) | nonce(16) | HMAC-SHA256(32)
//
// in unpadded base64url (78 characters), where the HMAC, keyed with
// Config.Secret, covers the first 26 bytes and what the challenge is bound
// to: the session's store ID (the SHA-256 of its token, never the token)
// and, for a refresh, the DBSC session identifier. So a challenge is good
// only for the endpoint, the session and the binding it was issued for, and
// only for Config.ChallengeTTL (spec section "Server considerations": "New
// challenges issued should have a short lifetime. The server should reject
// signed responses that use a stale challenge."). Single use is enforced
// when a proof is accepted, by recording the nonce in the session
// (binding.go).
//
// Stored challenges would cost a store write per challenge (every refresh
// starts with one) and a cleanup; stateless ones cost an HMAC.

const (
	challengeVersion = 1
	nonceBytes       = 16
	challengeBytes   = 1 + 1 + 8 + nonceBytes + sha256.Size
)

type purpose byte

const (
	purposeRegistration purpose = 1
	purposeRefresh      purpose = 2
)

// clockSkew is how far in the future a challenge's issue time may be: app
// instances sharing a secret may disagree a little about the time.
const clockSkew = 5 * time.Second

type challenge struct {
	nonce  string // base64url of the nonce: what single use records
	issued time.Time
}

func (b *Binder) newChallenge(p purpose, storeID, bindingID string, now time.Time) string {
	var buf [challengeBytes]byte
	buf[0], buf[1] = challengeVersion, byte(p)
	binary.BigEndian.PutUint64(buf[2:10], uint64(now.Unix()))
	rand.Read(buf[10 : 10+nonceBytes])
	var mac [sha256.Size]byte
	copy(buf[10+nonceBytes:], b.challengeMAC(buf[:10+nonceBytes], storeID, bindingID, mac[:0]))
	return base64.RawURLEncoding.EncodeToString(buf[:])
}

// checkChallenge verifies that jti is a challenge this server issued for
// purpose p, the session storeID and binding bindingID, and that it is
// fresh at now.
func (b *Binder) checkChallenge(jti string, p purpose, storeID, bindingID string, now time.Time) (challenge, Reason) {
	raw, err := decodeSegment(jti)
	if err != nil || len(raw) != challengeBytes || raw[0] != challengeVersion || purpose(raw[1]) != p {
		return challenge{}, ReasonChallenge
	}
	var mac [sha256.Size]byte
	b.challengeMAC(raw[:10+nonceBytes], storeID, bindingID, mac[:0])
	if !hmac.Equal(mac[:], raw[10+nonceBytes:]) {
		return challenge{}, ReasonChallenge
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(raw[2:10])), 0)
	if issued.After(now.Add(clockSkew)) || !now.Before(issued.Add(b.cfg.ChallengeTTL)) {
		return challenge{}, ReasonChallengeExpired
	}
	return challenge{nonce: base64.RawURLEncoding.EncodeToString(raw[10 : 10+nonceBytes]), issued: issued}, ""
}

// challengeMAC appends to dst the MAC of a challenge's fixed part bound to
// storeID and bindingID. Each bound string is length-prefixed, so no two
// different bindings have the same MAC input.
func (b *Binder) challengeMAC(fixed []byte, storeID, bindingID string, dst []byte) []byte {
	m := hmac.New(sha256.New, b.secret)
	m.Write([]byte("dbsc challenge\x00"))
	m.Write(fixed)
	writeString(m, storeID)
	writeString(m, bindingID)
	return m.Sum(dst)
}

// The bound cookie is stateless too:
//
//	deadline, Unix seconds(8) | HMAC-SHA256 truncated to 16 bytes
//
// in unpadded base64url (32 characters), the HMAC covering the deadline,
// the DBSC session identifier and the key's thumbprint. The deadline inside
// the value is what counts; the cookie's Max-Age only tells the browser
// when to refresh. A bound cookie opens nothing by itself: it is checked
// against the binding of the session the session cookie opens.

const (
	cookieMACBytes = 16
	cookieBytes    = 8 + cookieMACBytes
)

func (b *Binder) newBoundCookie(bd *binding, deadline time.Time) string {
	var buf [cookieBytes]byte
	binary.BigEndian.PutUint64(buf[:8], uint64(deadline.Unix()))
	var mac [sha256.Size]byte
	copy(buf[8:], b.cookieMAC(buf[:8], bd, mac[:0]))
	return base64.RawURLEncoding.EncodeToString(buf[:])
}

// checkBoundCookie verifies a bound cookie's value against the binding.
func (b *Binder) checkBoundCookie(value string, bd *binding, now time.Time) Reason {
	raw, err := decodeSegment(value)
	if err != nil || len(raw) != cookieBytes {
		return ReasonCookieInvalid
	}
	var mac [sha256.Size]byte
	if !hmac.Equal(b.cookieMAC(raw[:8], bd, mac[:0])[:cookieMACBytes], raw[8:]) {
		return ReasonCookieInvalid
	}
	deadline := time.Unix(int64(binary.BigEndian.Uint64(raw[:8])), 0)
	if !now.Before(deadline) {
		return ReasonCookieExpired
	}
	return ""
}

func (b *Binder) cookieMAC(deadline []byte, bd *binding, dst []byte) []byte {
	m := hmac.New(sha256.New, b.secret)
	m.Write([]byte("dbsc bound cookie\x00"))
	m.Write(deadline)
	writeString(m, bd.ID)
	writeString(m, bd.Thumbprint)
	return m.Sum(dst)
}

func writeString(m interface{ Write([]byte) (int, error) }, s string) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(s)))
	m.Write(n[:])
	m.Write([]byte(s))
}
