package dbsc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
)

// RSA keys outside these bounds are refused: below 2048 bits a key is too
// weak (NIST SP 800-131A), above 8192 bits it is only a way to make the
// server spend time on verification.
const (
	minRSABits = 2048
	maxRSABits = 8192
)

// publicKey is a parsed JWK (RFC 7517) of the two key types DBSC uses.
type publicKey struct {
	alg string // the one algorithm the key may be used with: "ES256" or "RS256"
	ec  *ecdsa.PublicKey
	rsa *rsa.PublicKey
	// canonical is the key's required members in the lexicographic order
	// of RFC 7638 section 3.2, without whitespace: what is hashed for the
	// thumbprint, and what is kept in the session.
	canonical []byte
}

// thumbprint returns the key's RFC 7638 JWK thumbprint (SHA-256), in
// unpadded base64url: the form DBSC uses for provider_key (spec section
// "Create session key pair").
func (k *publicKey) thumbprint() string {
	sum := sha256.Sum256(k.canonical)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// jwkMembers are the JWK members DBSC keys may carry. Private members
// ("d", "p", "q", ...) are refused rather than ignored: a client that sends
// its private key is broken, and the key must not land in a session.
type jwkMembers struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	N   string `json:"n"`
	E   string `json:"e"`
}

var privateMembers = [...]string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// parseJWK parses a public JWK and checks it is one DBSC accepts: EC on
// P-256 or RSA of 2048 to 8192 bits, with canonical base64url members.
func parseJWK(raw []byte) (*publicKey, error) {
	obj, err := decodeObject(raw)
	if err != nil {
		return nil, errJWK
	}
	for _, m := range privateMembers {
		if _, ok := obj[m]; ok {
			return nil, errJWK
		}
	}
	var m jwkMembers
	for name, dst := range map[string]*string{"kty": &m.Kty, "crv": &m.Crv, "x": &m.X, "y": &m.Y, "n": &m.N, "e": &m.E} {
		v, ok := obj[name]
		if !ok {
			continue
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return nil, errJWK
		}
	}
	switch m.Kty {
	case "EC":
		return parseECJWK(m)
	case "RSA":
		return parseRSAJWK(m)
	default:
		return nil, errJWK
	}
}

func parseECJWK(m jwkMembers) (*publicKey, error) {
	if m.Crv != "P-256" || m.N != "" || m.E != "" {
		return nil, errJWK
	}
	x, err1 := decodeSegment(m.X)
	y, err2 := decodeSegment(m.Y)
	// RFC 7518 section 6.2.1.2: the coordinates are the full size of the
	// field, 32 bytes for P-256, leading zeros included.
	if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
		return nil, errJWK
	}
	point := make([]byte, 0, 65)
	point = append(point, 4)
	point = append(point, x...)
	point = append(point, y...)
	// ParseUncompressedPublicKey refuses a point that is not on the curve.
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
	if err != nil {
		return nil, errJWK
	}
	canonical := `{"crv":"P-256","kty":"EC","x":"` + m.X + `","y":"` + m.Y + `"}`
	return &publicKey{alg: "ES256", ec: pub, canonical: []byte(canonical)}, nil
}

func parseRSAJWK(m jwkMembers) (*publicKey, error) {
	if m.Crv != "" || m.X != "" || m.Y != "" {
		return nil, errJWK
	}
	n, err1 := decodeSegment(m.N)
	e, err2 := decodeSegment(m.E)
	// RFC 7518 section 6.3.1: unsigned big-endian integers in the minimum
	// number of octets, so no leading zero byte. An exponent is at most 4
	// bytes here (and below 2^31, which crypto/rsa needs), odd and at
	// least 3.
	if err1 != nil || err2 != nil || len(n) == 0 || n[0] == 0 || len(e) == 0 || len(e) > 4 || e[0] == 0 {
		return nil, errJWK
	}
	bits := new(big.Int).SetBytes(n).BitLen()
	if bits < minRSABits || bits > maxRSABits {
		return nil, errJWK
	}
	var exp int64
	for _, b := range e {
		exp = exp<<8 | int64(b)
	}
	if exp < 3 || exp%2 == 0 || exp > 1<<31-1 {
		return nil, errJWK
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp)}
	canonical := `{"e":"` + m.E + `","kty":"RSA","n":"` + m.N + `"}`
	return &publicKey{alg: "RS256", rsa: pub, canonical: []byte(canonical)}, nil
}
