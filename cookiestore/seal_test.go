package cookiestore

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// testSecret returns a deterministic 32-byte secret for tests only.
func testSecret(seed byte) []byte {
	b := make([]byte, 32)
	for i := range b {
		b[i] = seed + byte(i)*7
	}
	return b
}

func testRing(t testing.TB, ids ...string) *KeyRing {
	t.Helper()
	keys := make([]Key, len(ids))
	for i, id := range ids {
		keys[i] = Key{ID: id, Secret: testSecret(id[len(id)-1])}
	}
	r, err := NewKeyRing(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustSeal(t testing.TB, r *KeyRing, name string, payload []byte) string {
	t.Helper()
	v, err := r.Seal(name, payload)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func wantInvalid(t *testing.T, r *KeyRing, name, value string) {
	t.Helper()
	p, kid, err := r.Open(name, value)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Open(%q, %.40q...) = %q, %q, %v; want ErrInvalid", name, value, p, kid, err)
	}
	if p != nil || kid != "" {
		t.Fatalf("Open returned payload %q, key %q with error %v", p, kid, err)
	}
}

func TestRoundTrip(t *testing.T) {
	r := testRing(t, "k1")
	for _, payload := range [][]byte{nil, {}, []byte("x"), []byte(`{"user":"ada","roles":["admin"]}`), bytes.Repeat([]byte{0, 0xff}, 500)} {
		v := mustSeal(t, r, "session", payload)
		if !strings.HasPrefix(v, "v1.k1.") {
			t.Fatalf("value %q: want prefix v1.k1.", v)
		}
		if got, want := len(v), sealedLen("k1", 1, len(payload)); got != want {
			t.Fatalf("len(value) = %d, sealedLen = %d", got, want)
		}
		got, kid, err := r.Open("session", v)
		if err != nil || kid != "k1" || !bytes.Equal(got, payload) {
			t.Fatalf("Open = %q, %q, %v; want %q, k1, nil", got, kid, err, payload)
		}
	}
}

func TestSealIsRandomized(t *testing.T) {
	r := testRing(t, "k1")
	a, b := mustSeal(t, r, "s", []byte("same")), mustSeal(t, r, "s", []byte("same"))
	if a == b {
		t.Fatal("two seals of the same payload are equal; nonce not random")
	}
}

func TestTamper(t *testing.T) {
	r := testRing(t, "k1")
	v := mustSeal(t, r, "session", []byte(`{"user":"ada","n":12345}`))
	// Every position, a few substitutions each: the value is short.
	for i := 0; i < len(v); i++ {
		for _, c := range []byte{'A', 'B', '_', '-', '0', '.', 'v', 0, '\n', 0xff} {
			if v[i] == c {
				continue
			}
			b := []byte(v)
			b[i] = c
			wantInvalid(t, r, "session", string(b))
		}
	}
	// Inserted and deleted bytes, including CR/LF that a base64 decoder
	// would otherwise skip.
	for i := 0; i <= len(v); i++ {
		for _, c := range []string{"\n", "\r", "A", "="} {
			wantInvalid(t, r, "session", v[:i]+c+v[i:])
		}
		if i < len(v) {
			wantInvalid(t, r, "session", v[:i]+v[i+1:])
		}
	}
}

func TestTruncate(t *testing.T) {
	r := testRing(t, "k1")
	v := mustSeal(t, r, "session", []byte("payload"))
	for i := 0; i < len(v); i++ {
		wantInvalid(t, r, "session", v[:i])
	}
	wantInvalid(t, r, "session", v+"A")
	wantInvalid(t, r, "session", v+v)
}

func TestSwapName(t *testing.T) {
	r := testRing(t, "k1")
	v := mustSeal(t, r, "session", []byte("payload"))
	for _, other := range []string{"Session", "session.1", "sessio", "csrf", "__Host-session"} {
		wantInvalid(t, r, other, v)
	}
	// Another app (another ring) with the same cookie name.
	wantInvalid(t, testRing(t, "k2"), "session", v)
}

func TestSameIDOtherSecret(t *testing.T) {
	a := testRing(t, "k1")
	b, err := NewKeyRing(Key{ID: "k1", Secret: testSecret(99)})
	if err != nil {
		t.Fatal(err)
	}
	wantInvalid(t, b, "session", mustSeal(t, a, "session", []byte("payload")))
}

func TestFormatVersion(t *testing.T) {
	r := testRing(t, "k1")
	v := mustSeal(t, r, "session", []byte("payload"))
	rest := strings.TrimPrefix(v, "v1.")
	for _, ver := range []string{"v0", "v2", "V1", "", "v1v1", "v10"} {
		wantInvalid(t, r, "session", ver+"."+rest)
	}
	p, _, err := r.Open("session", "v0."+rest)
	if !errors.Is(err, errVersion) {
		t.Fatalf("Open(v0...) = %q, %v; want errVersion", p, err)
	}
}

func TestUnknownKeyID(t *testing.T) {
	r := testRing(t, "k1")
	v := mustSeal(t, r, "session", []byte("payload"))
	_, _, err := r.Open("session", strings.Replace(v, "v1.k1.", "v1.k9.", 1))
	if !errors.Is(err, ErrInvalid) || !errors.Is(err, errUnknownKey) {
		t.Fatalf("err = %v; want errUnknownKey wrapping ErrInvalid", err)
	}
	// A known id that did not seal it: authentication fails.
	r2 := testRing(t, "k1", "k2")
	wantInvalid(t, r2, "session", strings.Replace(mustSeal(t, r2, "session", []byte("p")), "v1.k1.", "v1.k2.", 1))
}

func TestMalformed(t *testing.T) {
	r := testRing(t, "k1")
	for _, v := range []string{"", ".", "..", "v1", "v1.", "v1..", "v1.k1", "v1.k1.", "v1.k1.A", "v1.k1.AAAA",
		"v1.k1..AAAA", "v1.k1.1.AAAA", "v1.k1.2.AAAA", "v1.k1.02.AAAA", "v1.k1.x.AAAA", "v1.k1.AA.AA",
		"v1.k!.AAAA", "v1." + strings.Repeat("k", 17) + ".AAAA", strings.Repeat("A", maxSealedBytes+1),
		"v1.k1." + strings.Repeat("A", 100) + "=="} {
		wantInvalid(t, r, "session", v)
	}
}

func TestBadCookieName(t *testing.T) {
	r := testRing(t, "k1")
	for _, name := range []string{"", "a b", "a;b", "a=b", "a\x00", strings.Repeat("n", 257)} {
		if _, err := r.Seal(name, nil); !errors.Is(err, ErrCookieName) {
			t.Errorf("Seal(%q) err = %v; want ErrCookieName", name, err)
		}
		if _, _, err := r.Open(name, "v1.k1.AAAA"); !errors.Is(err, ErrCookieName) {
			t.Errorf("Open(%q) err = %v; want ErrCookieName", name, err)
		}
	}
}

func TestConcurrent(t *testing.T) {
	r := testRing(t, "k2", "k1")
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 200 {
				name := "s" + string(rune('a'+(g+i)%8))
				v, err := r.Seal(name, []byte(name))
				if err != nil {
					t.Error(err)
					return
				}
				if p, _, err := r.Open(name, v); err != nil || string(p) != name {
					t.Errorf("Open = %q, %v", p, err)
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	if got := r.Seals("k2"); got != 800 {
		t.Fatalf("Seals = %d; want 800", got)
	}
}

// TestManyNames goes past the per-key cipher cache: uncached names still
// seal and open.
func TestManyNames(t *testing.T) {
	r := testRing(t, "k1")
	for i := range maxCachedNames + 10 {
		name := "cookie" + strings.Repeat("x", i)
		v := mustSeal(t, r, name, []byte("p"))
		if _, _, err := r.Open(name, v); err != nil {
			t.Fatalf("name %d: %v", i, err)
		}
	}
	if n := len(r.keys[0].ciphers); n != maxCachedNames {
		t.Fatalf("cache holds %d names; want %d", n, maxCachedNames)
	}
}
