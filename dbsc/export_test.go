package dbsc

import (
	"errors"
)

// VerifyProof exposes verifyProof to the tests: registeredJWK nil verifies
// a registration proof, otherwise a refresh proof against that key.
func VerifyProof(token string, registeredJWK []byte) (jti, thumbprint string, err error) {
	var reg *publicKey
	if registeredJWK != nil {
		if reg, err = parseJWK(registeredJWK); err != nil {
			return "", "", err
		}
	}
	p, err := verifyProof(token, reg)
	if err != nil {
		return "", "", err
	}
	return p.jti, p.key.thumbprint(), nil
}

// Thumbprint returns the RFC 7638 thumbprint of a JWK.
func Thumbprint(jwk []byte) (string, error) {
	key, err := parseJWK(jwk)
	if err != nil {
		return "", err
	}
	return key.thumbprint(), nil
}

// ReasonOf returns the Reason of a proof error, "" for another error.
func ReasonOf(err error) Reason {
	var pe *proofError
	if errors.As(err, &pe) {
		return pe.reason
	}
	return ""
}

// ParseSFString exposes parseSFString.
var ParseSFString = parseSFString
