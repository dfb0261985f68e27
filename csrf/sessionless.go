package csrf

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// A visitor who has no session yet (a catalog page, a login form) gets a
// token that needs no server state, so that rendering a form costs no store
// write and sets no cookie. It is a MAC, not a secret kept anywhere:
//
//	version (1) | issued, Unix seconds (8) | nonce (16) | HMAC-SHA256 (32)
//
// 57 bytes, 76 characters of base64url, a length no session-bound token has.
// The HMAC, under Options.Key, covers a label, the version, the issue time,
// the nonce, the request's host and the client's address key, so a token
// is good only on the site and for the client it was made for, and only for
// Options.SessionlessTTL. The fresh nonce makes every token differ, as the
// masking does for session-bound tokens (BREACH). Check accepts such a token
// only while the request has no session: once the visitor has one, only
// its session-bound token counts.
const (
	sessionlessVersion  = 1
	nonceLen            = 16
	macLen              = sha256.Size
	sessionlessLen      = 1 + 8 + nonceLen + macLen
	sessionlessTokenLen = 76 // base64.RawURLEncoding.EncodedLen(sessionlessLen)
	sessionlessLabel    = "sessionkit/csrf sessionless token\x00"

	// maxClockSkew is how far in the future an issue time may lie: the
	// clocks of app instances sharing a Key disagree a little.
	maxClockSkew = time.Minute
)

// Defaults of Options for sessionless tokens.
const (
	// DefaultSessionlessTTL is how long a token for a visitor without a
	// session stays valid: as long as a session left alone lives with the
	// session package's default idle timeout.
	DefaultSessionlessTTL = time.Hour
	// MinKeyLen is the shortest Options.Key New accepts.
	MinKeyLen = 32
)

// processKey is the Key of every Protection created without one: 32 bytes
// from crypto/rand, drawn once per process, so that Token and TemplateField
// called outside Handler make tokens such Protections accept.
var processKey = sync.OnceValue(func() []byte {
	k := make([]byte, MinKeyLen)
	rand.Read(k) // never fails (crypto/rand documents it)
	return k
})

// sessionlessToken is a decoded sessionless token.
type sessionlessToken [sessionlessLen]byte

// newSessionless returns a sessionless token for r, issued at now.
func (p *Protection) newSessionless(r *http.Request, now time.Time) string {
	var t sessionlessToken
	t[0] = sessionlessVersion
	binary.BigEndian.PutUint64(t[1:9], uint64(now.Unix()))
	rand.Read(t[9 : 9+nonceLen])
	copy(t[9+nonceLen:], p.mac(r, &t))
	return encoding.EncodeToString(t[:])
}

// mac computes the HMAC of t's version, issue time and nonce, bound to r's
// host and client.
func (p *Protection) mac(r *http.Request, t *sessionlessToken) []byte {
	h := hmac.New(sha256.New, p.key)
	h.Write([]byte(sessionlessLabel))
	h.Write(t[:9+nonceLen])
	writeField(h, strings.ToLower(r.Host))
	writeField(h, p.client(r))
	return h.Sum(nil)
}

// writeField writes s with its length in front, so that no two (host,
// client) pairs feed the MAC the same bytes.
func writeField(h interface{ Write([]byte) (int, error) }, s string) {
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
	h.Write([]byte(s))
}

// client returns the key that binds a sessionless token to r's client.
func (p *Protection) client(r *http.Request) string {
	if p.clientKey != nil {
		k, _ := p.clientKey(r)
		return k
	}
	return addressKey(r)
}

// addressKey is the default client binding: the IP address of
// r.RemoteAddr, IPv6 addresses by their /64 (privacy addresses rotate
// inside it), as ratelimit.ByAddress keys clients.
func addressKey(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	a := ap.Addr().Unmap()
	if a.Is6() {
		a = netip.PrefixFrom(a, 64).Masked().Addr()
	}
	return a.String()
}

// decodeSessionless decodes s if it has the exact shape of a sessionless
// token: 76 characters of unpadded base64url in their canonical spelling,
// of the current version.
func decodeSessionless(s string) (t sessionlessToken, ok bool) {
	if len(s) != sessionlessTokenLen {
		return t, false
	}
	var src [sessionlessTokenLen]byte
	copy(src[:], s)
	n, err := encoding.Decode(t[:], src[:])
	return t, err == nil && n == sessionlessLen && t[0] == sessionlessVersion
}

// verifySessionless reports why t is not a token p issued for r within its
// lifetime, or nil. The MAC is checked first and in constant time; the
// issue time is trusted only once it is.
func (p *Protection) verifySessionless(r *http.Request, t *sessionlessToken, now time.Time) error {
	if !hmac.Equal(t[9+nonceLen:], p.mac(r, t)) {
		return errForeignSessionless
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(t[1:9])), 0)
	if issued.After(now.Add(maxClockSkew)) || now.Sub(issued) > p.ttl {
		return errExpiredSessionless
	}
	return nil
}
