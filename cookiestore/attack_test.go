package cookiestore

import (
	"bytes"
	"errors"
	"testing"
)

// TestAttackChunkBoundariesMalleable: chunk boundaries are not
// authenticated. Moving bytes from one chunk cookie to the next gives a
// different set of cookie values that still opens, including a set whose
// first cookie is far over MaxCookieBytes (a size no SealChunks output
// has). open() refuses CR/LF "so that no two different strings open to
// the same value"; chunked values break that.
func TestAttackChunkBoundariesMalleable(t *testing.T) {
	r := testRing(t, "k1")
	ch, err := r.SealChunks("session", bytes.Repeat([]byte("a"), 5000), 4)
	if err != nil || len(ch) != 2 {
		t.Fatalf("SealChunks: %d chunks, %v", len(ch), err)
	}
	all := ch[0] + ch[1]
	cases := map[string][]string{
		"shift 1000 bytes into chunk 1":    {ch[0][:len(ch[0])-1000], ch[0][len(ch[0])-1000:] + ch[1]},
		"everything but 1 byte in chunk 0": {all[:len(all)-1], all[len(all)-1:]},
		"chunk 0 is only the header":       {"v1.k1.2.", all[len("v1.k1.2."):]},
	}
	for what, c := range cases {
		if len("session")+1+len(c[0]) > MaxCookieBytes {
			t.Logf("%s: chunk 0 is %d bytes, over MaxCookieBytes", what, len(c[0]))
		}
		if p, _, err := r.OpenChunks("session", c); err == nil {
			t.Errorf("%s: re-split chunks open (payload %d bytes); want ErrInvalid", what, len(p))
		}
	}
}

// TestAttackOpenBadNameNotInvalid: the package doc says "Every value that
// does not open, for whatever reason, yields an error wrapping
// ErrInvalid". Open and OpenChunks with a name that is not a cookie token
// return ErrCookieName, which does not wrap ErrInvalid, so a caller that
// maps errors.Is(err, ErrInvalid) to "no session" treats it as a server
// error instead.
func TestAttackOpenBadNameNotInvalid(t *testing.T) {
	r := testRing(t, "k1")
	v := mustSeal(t, r, "session", []byte("x"))
	for _, name := range []string{"", "bad name", "a;b"} {
		if _, _, err := r.Open(name, v); !errors.Is(err, ErrInvalid) {
			t.Errorf("Open(%q): %v; want an error wrapping ErrInvalid", name, err)
		}
		if _, _, err := r.OpenChunks(name, []string{v}); !errors.Is(err, ErrInvalid) {
			t.Errorf("OpenChunks(%q): %v; want an error wrapping ErrInvalid", name, err)
		}
	}
}

// A KeyRing that no constructor made has no key: sealing is an error, and
// nothing panics.
func TestZeroKeyRing(t *testing.T) {
	var r KeyRing
	if _, err := r.Seal("s", []byte("x")); err == nil {
		t.Error("Seal on an empty ring succeeded")
	}
	if _, err := r.SealChunks("s", []byte("x"), 2); err == nil {
		t.Error("SealChunks on an empty ring succeeded")
	}
	if _, _, err := r.Open("s", "v1.k1.AAAA"); err == nil {
		t.Error("Open on an empty ring succeeded")
	}
	_ = r.Primary()
	_ = r.NeedsReseal("k1")
}
