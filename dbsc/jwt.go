package dbsc

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"strings"
)

// maxProofBytes bounds a DBSC proof before any decoding. A proof with an
// RSA-8192 key in its header and an RSA-8192 signature stays well below it.
const maxProofBytes = 8 << 10

// maxJTIBytes bounds the jti claim: our challenges are 78 characters.
const maxJTIBytes = 256

// proofError is a reason a DBSC proof was refused. Each has its own Reason,
// so that a metric tells the causes apart.
type proofError struct {
	reason Reason
	msg    string
}

func (e *proofError) Error() string { return "dbsc: " + e.msg }

var (
	errOversize     = &proofError{ReasonOversize, "proof larger than 8 KiB"}
	errEncoding     = &proofError{ReasonEncoding, "proof is not three canonical base64url segments"}
	errJSON         = &proofError{ReasonJSON, "proof header or payload is not a JSON object with unique members"}
	errTyp          = &proofError{ReasonTyp, `proof typ is not "dbsc+jwt"`}
	errAlgNone      = &proofError{ReasonAlgNone, `proof alg "none" is refused`}
	errAlg          = &proofError{ReasonAlg, "proof alg is neither ES256 nor RS256"}
	errCrit         = &proofError{ReasonCrit, "proof has critical header parameters"}
	errJWK          = &proofError{ReasonJWK, "proof jwk is not a P-256 or 2048-8192 bit RSA public key"}
	errJWKMissing   = &proofError{ReasonJWKMissing, "registration proof has no jwk"}
	errJWKForbidden = &proofError{ReasonJWKForbidden, "refresh proof carries a jwk"}
	errAlgKey       = &proofError{ReasonAlgKeyMismatch, "proof alg does not match the key type"}
	errSignature    = &proofError{ReasonSignature, "proof signature does not verify"}
	errJTI          = &proofError{ReasonJTI, "proof has no usable jti"}
)

// proof is a verified DBSC proof (spec section "DBSC Proof JWT Syntax").
type proof struct {
	key *publicKey // the key that signed it
	jti string     // the challenge it answers
}

// verifyProof parses and verifies a DBSC proof, a compact JWS (RFC 7515).
// With registered nil it is a registration proof, which must carry its key
// in the jwk header parameter and is verified with it; otherwise it is a
// refresh proof, which must not carry a key (spec section "DBSC Proof JWT
// Syntax": jwk "MUST not be present for refresh requests") and is verified
// with the registered one.
//
// The claims are checked only for jti. Chrome sends no iat and no aud (aud
// only behind a flag); freshness comes from the challenge, which carries
// its own issue time and is bound to the session and the endpoint's
// purpose (challenge.go).
func verifyProof(token string, registered *publicKey) (*proof, error) {
	if len(token) > maxProofBytes {
		return nil, errOversize
	}
	h64, rest, ok1 := strings.Cut(token, ".")
	p64, s64, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s64, ".") {
		return nil, errEncoding
	}
	hb, err1 := decodeSegment(h64)
	pb, err2 := decodeSegment(p64)
	sig, err3 := decodeSegment(s64)
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, errEncoding
	}
	header, err := decodeObject(hb)
	if err != nil {
		return nil, errJSON
	}
	payload, err := decodeObject(pb)
	if err != nil {
		return nil, errJSON
	}

	var typ, alg string
	if !stringMember(header, "typ", &typ) || typ != "dbsc+jwt" {
		return nil, errTyp
	}
	if !stringMember(header, "alg", &alg) {
		return nil, errAlg
	}
	switch alg {
	case "ES256", "RS256":
	case "none":
		// The spec allows "none" for sessions registered without a key; a
		// server that offers only ES256 and RS256 never accepts it.
		return nil, errAlgNone
	default:
		return nil, errAlg
	}
	// RFC 7515 section 4.1.11: extensions listed in crit must be
	// understood; this verifier understands none.
	if _, ok := header["crit"]; ok {
		return nil, errCrit
	}

	key := registered
	rawJWK, hasJWK := header["jwk"]
	switch {
	case registered == nil && !hasJWK:
		return nil, errJWKMissing
	case registered != nil && hasJWK:
		return nil, errJWKForbidden
	case registered == nil:
		if key, err = parseJWK(rawJWK); err != nil {
			return nil, err
		}
	}
	// An RS256 header over an EC key (or the reverse) is refused before any
	// signature check: the algorithm is the key's, never the token's.
	if alg != key.alg {
		return nil, errAlgKey
	}

	// The signing input is the two encoded segments as sent (RFC 7515
	// section 5.2), so it is hashed from the token, not re-encoded.
	digest := sha256.Sum256([]byte(token[:len(h64)+1+len(p64)]))
	if !verifySignature(key, digest[:], sig) {
		return nil, errSignature
	}

	var jti string
	if !stringMember(payload, "jti", &jti) || jti == "" || len(jti) > maxJTIBytes {
		return nil, errJTI
	}
	return &proof{key: key, jti: jti}, nil
}

// verifySignature checks a JWS signature over digest, the SHA-256 of the
// signing input.
func verifySignature(key *publicKey, digest, sig []byte) bool {
	switch {
	case key.ec != nil:
		// RFC 7518 section 3.4: ES256 signatures are R and S as 32-byte
		// big-endian integers, concatenated; not ASN.1. ecdsa.Verify
		// refuses R or S outside [1, N-1]. ECDSA signatures are malleable
		// ((R, N-S) verifies too), which is harmless here: single use is
		// tracked by the challenge (jti), not by the signature bytes.
		if len(sig) != 64 {
			return false
		}
		r := new(big.Int).SetBytes(sig[:32])
		s := new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(key.ec, digest, r, s)
	case key.rsa != nil:
		// RFC 7518 section 3.3: RSASSA-PKCS1-v1_5 with SHA-256. The
		// signature is exactly as long as the modulus, which
		// VerifyPKCS1v15 checks.
		return rsa.VerifyPKCS1v15(key.rsa, crypto.SHA256, digest, sig) == nil
	}
	return false
}

// decodeSegment decodes unpadded base64url (RFC 7515 section 2) and
// refuses every input that is not the one canonical encoding of its bytes:
// padding, non-zero trailing bits (Strict), and the CR and LF that
// encoding/base64 would otherwise skip.
func decodeSegment(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return nil, errEncoding
		}
	}
	return base64.RawURLEncoding.Strict().DecodeString(s)
}

// decodeObject decodes a JSON object into its members, refusing duplicate
// member names (RFC 7515 section 4: a parser must reject them or take the
// last; taking the last lets two parsers read one token differently) and
// anything after the object.
func decodeObject(b []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, errJSON
	}
	obj := make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errJSON
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errJSON
		}
		if _, dup := obj[name]; dup {
			return nil, errJSON
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, errJSON
		}
		obj[name] = v
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, errJSON
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errJSON
	}
	return obj, nil
}

// stringMember reads obj[name] as a JSON string.
func stringMember(obj map[string]json.RawMessage, name string, dst *string) bool {
	v, ok := obj[name]
	return ok && json.Unmarshal(v, dst) == nil
}
