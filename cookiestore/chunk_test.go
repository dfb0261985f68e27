package cookiestore

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// jsonPayload returns a JSON session record of exactly n bytes with
// incompressible-looking content.
func jsonPayload(t testing.TB, n int) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	fill := make([]byte, n)
	for i := range fill {
		fill[i] = alphabet[rng.IntN(len(alphabet))]
	}
	rec := map[string]any{"sub": "user-1234", "auth": 1796300000, "idle": 1796303600, "abs": 1796386400, "data": ""}
	base, _ := json.Marshal(rec)
	rec["data"] = string(fill[:n-len(base)])
	b, err := json.Marshal(rec)
	if err != nil || len(b) != n {
		t.Fatalf("payload is %d bytes, err %v; want %d", len(b), err, n)
	}
	return b
}

func TestThreeThousandBytesInOneCookie(t *testing.T) {
	r := testRing(t, "2026-12a") // an 8-character, date-like key id
	for _, name := range []string{"session", "__Host-session"} {
		payload := jsonPayload(t, 3000)
		v, err := r.Seal(name, payload)
		if err != nil {
			t.Fatalf("%s: 3000 bytes of JSON: %v", name, err)
		}
		if total := len(name) + 1 + len(v); total > MaxCookieBytes {
			t.Fatalf("%s: cookie is %d bytes > %d", name, total, MaxCookieBytes)
		}
		got, _, err := r.Open(name, v)
		if err != nil || !bytes.Equal(got, payload) {
			t.Fatalf("%s: Open: %v", name, err)
		}
		t.Logf("%s: 3000-byte payload -> %d-byte value, %d-byte cookie", name, len(v), len(name)+1+len(v))
	}
}

func TestTooLarge(t *testing.T) {
	r := testRing(t, "k1")
	// Find the largest payload that fits and check the boundary.
	name := "session"
	fit := 0
	for n := 2900; n < 4096; n++ {
		if _, err := r.Seal(name, make([]byte, n)); err != nil {
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Seal(%d bytes): %v; want ErrTooLarge", n, err)
			}
			break
		}
		fit = n
	}
	v := mustSeal(t, r, name, make([]byte, fit))
	if len(name)+1+len(v) > MaxCookieBytes {
		t.Fatalf("largest fit (%d bytes) makes a %d-byte cookie", fit, len(name)+1+len(v))
	}
	t.Logf("largest payload for %q with key id k1: %d bytes", name, fit)
	if _, err := r.SealChunks(name, make([]byte, 3*MaxCookieBytes), 2); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("SealChunks over 2 cookies: %v; want ErrTooLarge", err)
	}
	if _, err := r.SealChunks(name, nil, 0); err == nil || errors.Is(err, ErrTooLarge) {
		t.Fatalf("maxChunks 0: %v", err)
	}
	if _, err := r.SealChunks(name, nil, MaxChunks+1); err == nil {
		t.Fatal("maxChunks > MaxChunks: no error")
	}
}

func sealChunks(t testing.TB, r *KeyRing, name string, payload []byte, max int) []string {
	t.Helper()
	c, err := r.SealChunks(name, payload, max)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantChunksInvalid(t *testing.T, r *KeyRing, name string, chunks []string) {
	t.Helper()
	p, kid, err := r.OpenChunks(name, chunks)
	if !errors.Is(err, ErrInvalid) || p != nil || kid != "" {
		t.Fatalf("OpenChunks = %.20q, %q, %v; want ErrInvalid", p, kid, err)
	}
}

func TestChunksRoundTrip(t *testing.T) {
	r := testRing(t, "k1")
	for _, size := range []int{0, 100, 3000, 3100, 6000, 9000, 20000} {
		payload := bytes.Repeat([]byte("x"), size)
		chunks := sealChunks(t, r, "session", payload, MaxChunks)
		for i, c := range chunks {
			if l := len(ChunkName("session", i)) + 1 + len(c); l > MaxCookieBytes {
				t.Fatalf("size %d: chunk %d is a %d-byte cookie", size, i, l)
			}
		}
		got, kid, err := r.OpenChunks("session", chunks)
		if err != nil || kid != "k1" || !bytes.Equal(got, payload) {
			t.Fatalf("size %d (%d chunks): %v", size, len(chunks), err)
		}
		if len(chunks) == 1 {
			if _, _, err := r.Open("session", chunks[0]); err != nil {
				t.Fatalf("one chunk does not Open: %v", err)
			}
		} else {
			if !strings.HasPrefix(chunks[0], "v1.k1."+string(rune('0'+len(chunks)))+".") {
				t.Fatalf("first chunk %.12q", chunks[0])
			}
			// Extra (stale) cookies after the last chunk are ignored.
			if _, _, err := r.OpenChunks("session", append(chunks, "stale")); err != nil {
				t.Fatalf("extra chunk: %v", err)
			}
		}
	}
}

func TestChunksFailures(t *testing.T) {
	r := testRing(t, "k1")
	a := sealChunks(t, r, "session", bytes.Repeat([]byte("a"), 9000), 4)
	b := sealChunks(t, r, "session", bytes.Repeat([]byte("a"), 9000), 4)
	if len(a) != 3 || len(b) != 3 {
		t.Fatalf("want 3 chunks, got %d and %d", len(a), len(b))
	}
	mix := func(parts ...string) []string { return parts }

	// Stale and fresh mixed: same payload, same key, still rejected.
	wantChunksInvalid(t, r, "session", mix(a[0], b[1], a[2]))
	wantChunksInvalid(t, r, "session", mix(a[0], a[1], b[2]))
	wantChunksInvalid(t, r, "session", mix(b[0], a[1], a[2]))
	// Missing chunks.
	wantChunksInvalid(t, r, "session", mix(a[0], a[1]))
	wantChunksInvalid(t, r, "session", mix(a[0]))
	wantChunksInvalid(t, r, "session", nil)
	wantChunksInvalid(t, r, "session", mix(a[0], "", a[2]))
	wantChunksInvalid(t, r, "session", mix(a[1], a[2]))
	// Reordered.
	wantChunksInvalid(t, r, "session", mix(a[0], a[2], a[1]))
	// Another cookie name.
	wantChunksInvalid(t, r, "other", a)
	// The first chunk alone, or the joined value, through Open.
	wantInvalid(t, r, "session", a[0])
	wantInvalid(t, r, "session", strings.Join(a, ""))
	// The chunk count rewritten: authenticated, so it fails.
	two := sealChunks(t, r, "session", bytes.Repeat([]byte("a"), 5000), 4)
	if len(two) != 2 {
		t.Fatalf("want 2 chunks, got %d", len(two))
	}
	forged := strings.Replace(two[0], "v1.k1.2.", "v1.k1.3.", 1)
	wantChunksInvalid(t, r, "session", mix(forged, two[1], ""))
	wantChunksInvalid(t, r, "session", mix(forged, two[1], "AAAA"))
	// A single-cookie value with a count added, and the count removed.
	one := mustSeal(t, r, "session", []byte("small"))
	wantChunksInvalid(t, r, "session", mix(strings.Replace(one, "v1.k1.", "v1.k1.2.", 1), "A"))
	wantChunksInvalid(t, r, "session", mix(strings.Replace(two[0], "v1.k1.2.", "v1.k1.", 1)+two[1]))
}
