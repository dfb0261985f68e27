package dbsc_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"testing"

	"github.com/sessionkit/session/dbsc"
)

// fixedECKey is a deterministic P-256 key, so that the fuzz corpus stays
// valid across runs.
func fixedECKey() *deviceKey {
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), []byte("sessionkit dbsc fuzz key, fixed!"))
	if err != nil {
		panic(err)
	}
	return &deviceKey{alg: "ES256", ec: k}
}

// FuzzVerifyProof: the proof parser never panics, and whatever it accepts
// is a proof signed by the key in question with a jti; whatever it refuses
// has a Reason.
func FuzzVerifyProof(f *testing.F) {
	key := fixedECKey()
	f.Add(key.proof("challenge", true), false)
	f.Add(key.proof("challenge", false), true)
	f.Add(segment(map[string]any{"typ": "dbsc+jwt", "alg": "none"})+"."+segment(map[string]any{"jti": "c"})+".", true)
	f.Add("e30.e30.", false)
	f.Add("..", true)
	f.Fuzz(func(t *testing.T, token string, refresh bool) {
		var reg []byte
		if refresh {
			reg = key.jwkJSON()
		}
		jti, thumb, err := dbsc.VerifyProof(token, reg)
		if err != nil {
			if dbsc.ReasonOf(err) == "" {
				t.Fatalf("refusal without a Reason: %v", err)
			}
			return
		}
		if jti == "" || len(thumb) != 43 {
			t.Fatalf("accepted a proof with jti %q, thumbprint %q", jti, thumb)
		}
	})
}

// FuzzParseSFString: the sf-string parser never panics and returns only
// printable ASCII.
func FuzzParseSFString(f *testing.F) {
	f.Add(`"abc"`)
	f.Add(`"a\"b";id="x"`)
	f.Add(`"unterminated`)
	f.Fuzz(func(t *testing.T, v string) {
		s, ok := dbsc.ParseSFString(v)
		if !ok {
			return
		}
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] > 0x7e {
				t.Fatalf("parsed %q from %q", s, v)
			}
		}
	})
}
