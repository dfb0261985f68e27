package dbsc_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"sync"
	"testing"
)

// deviceKey is the key pair a browser makes for a bound session.
type deviceKey struct {
	alg string
	ec  *ecdsa.PrivateKey
	rsa *rsa.PrivateKey
}

var b64 = base64.RawURLEncoding

func newECKey(t testing.TB) *deviceKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &deviceKey{alg: "ES256", ec: k}
}

// RSA keys are slow to make, all the more under -race: two are made once
// per test binary.
var (
	rsaOnce sync.Once
	rsaKeys [2]*rsa.PrivateKey
)

func newRSAKey(t testing.TB, i int) *deviceKey {
	t.Helper()
	rsaOnce.Do(func() {
		for j := range rsaKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys[j] = k
		}
	})
	return &deviceKey{alg: "RS256", rsa: rsaKeys[i]}
}

// jwk returns the public key as a JWK.
func (k *deviceKey) jwk() map[string]string {
	if k.ec != nil {
		x, y := make([]byte, 32), make([]byte, 32)
		k.ec.X.FillBytes(x)
		k.ec.Y.FillBytes(y)
		return map[string]string{"kty": "EC", "crv": "P-256", "x": b64.EncodeToString(x), "y": b64.EncodeToString(y)}
	}
	return map[string]string{"kty": "RSA", "n": b64.EncodeToString(k.rsa.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(k.rsa.E)).Bytes())}
}

func (k *deviceKey) jwkJSON() []byte {
	b, _ := json.Marshal(k.jwk())
	return b
}

// signRaw signs the signing input with the key's algorithm.
func (k *deviceKey) signRaw(input string) []byte {
	digest := sha256.Sum256([]byte(input))
	if k.ec != nil {
		r, s, err := ecdsa.Sign(rand.Reader, k.ec, digest[:])
		if err != nil {
			panic(err)
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig
	}
	sig, err := rsa.SignPKCS1v15(nil, k.rsa, crypto.SHA256, digest[:])
	if err != nil {
		panic(err)
	}
	return sig
}

// sign makes a compact JWS of header and payload.
func (k *deviceKey) sign(header, payload any) string {
	h, _ := json.Marshal(header)
	p, _ := json.Marshal(payload)
	input := b64.EncodeToString(h) + "." + b64.EncodeToString(p)
	return input + "." + b64.EncodeToString(k.signRaw(input))
}

// proof makes the DBSC proof a browser sends: with its public key for a
// registration, without for a refresh (spec section "DBSC Proof JWT
// Syntax"). Chromium's proofs carry jti only.
func (k *deviceKey) proof(jti string, registration bool) string {
	header := map[string]any{"typ": "dbsc+jwt", "alg": k.alg}
	if registration {
		header["jwk"] = k.jwk()
	}
	return k.sign(header, map[string]any{"jti": jti})
}
