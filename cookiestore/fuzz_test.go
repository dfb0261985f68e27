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
	// Values sealed once with the test keys. They are literals because
	// the fuzzing workers are separate processes: values sealed at run
	// time would differ (random nonces) between the coordinator that
	// passes the seeds and the worker that checks them.
	type sealed struct{ name, value, payload string }
	genuineList := []sealed{
		{"session", "v1.k2.m_wR-eJisV25WCQXBrybzGP9A9qf6WViz9Xc0vGeSRatuY_LbGmfnR1OxJypfF6VVbzrTQlAGQkENp0", `{"sub":"ada","auth":1796300000}`},
		{"session", "v1.k2.SeZbAekloCnZWWwWREvdO7O3v-DNo679K6ytLA", ""},
		{"csrf", "v1.k2._L9Wjh_RP9sM7PNZdI070fylOeoXtdgVfVoVDk2d_FfS", "token"},
		{"session", "v1.k1.0F9Yv49lS0BYZsxraDtLB3q8J1peSYd6O3GdtoF16pX955dOMVL3fDc", `{"sub":"bob"}`},
	}
	genuine := map[string][]byte{}
	for _, g := range genuineList {
		p, _, err := r.Open(g.name, g.value)
		if err != nil || string(p) != g.payload {
			f.Fatalf("seed %q does not open: %v", g.value, err)
		}
		genuine[g.name+"="+g.value] = p
	}
	small, empty, otherName, oldKey := genuineList[0].value, genuineList[1].value, genuineList[2].value, genuineList[3].value
	chunks := sealChunks(f, r, "session", bytes.Repeat([]byte("z"), 5000), 2)
	joined := chunks[0] + chunks[1]

	for _, v := range []string{small, empty, otherName, oldKey, chunks[0], joined, "", "v1.k1.", "v1.k2.2.AAAA", "v2.k1.AAAA"} {
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
