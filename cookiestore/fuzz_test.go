package cookiestore

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzOpen feeds arbitrary values to Open and OpenChunks. Nothing may panic,
// every failure must be ErrInvalid, and the only values that may open are
// the ones this ring actually sealed (seeded below), byte for byte.
func FuzzOpen(f *testing.F) {
	r := testRing(f, "k2", "k1")
	genuine := map[string][]byte{}
	add := func(name string, payload []byte) string {
		v := mustSeal(f, r, name, payload)
		genuine[name+"="+v] = payload
		return v
	}
	small := add("session", []byte(`{"sub":"ada","auth":1796300000}`))
	empty := add("session", nil)
	otherName := add("csrf", []byte("token"))
	chunks := sealChunks(f, r, "session", bytes.Repeat([]byte("z"), 5000), 2)
	joined := chunks[0] + chunks[1]

	for _, v := range []string{small, empty, otherName, chunks[0], joined, "", "v1.k1.", "v1.k2.2.AAAA", "v2.k1.AAAA"} {
		f.Add("session", v)
		// One byte changed, at the start, middle and end.
		for _, i := range []int{0, 3, len(v) / 2, len(v) - 1} {
			if i >= 0 && i < len(v) {
				b := []byte(v)
				b[i] ^= 0x01
				f.Add("session", string(b))
			}
		}
	}
	f.Add("csrf", small)
	f.Add("csrf", otherName)

	f.Fuzz(func(t *testing.T, name, value string) {
		p, kid, err := r.Open(name, value)
		if err == nil {
			want, ok := genuine[name+"="+value]
			if !ok || !bytes.Equal(p, want) || (kid != "k1" && kid != "k2") {
				t.Fatalf("forgery opened: name %q value %q -> %q, key %q", name, value, p, kid)
			}
		} else if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrCookieName) {
			t.Fatalf("error %v is neither ErrInvalid nor ErrCookieName", err)
		}
		// The same value as the first of two chunks, with the genuine
		// second chunk after it (ignored if the value says it is whole).
		p, _, err = r.OpenChunks(name, []string{value, chunks[1]})
		_, whole := genuine[name+"="+value]
		if err == nil && !whole && !(name == "session" && value == chunks[0]) {
			t.Fatalf("forged chunks opened: %q %q -> %.20q", name, value, p)
		}
		if err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrCookieName) {
			t.Fatalf("OpenChunks error %v", err)
		}
	})
}
