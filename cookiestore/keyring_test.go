package cookiestore

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func keyLine(id string, seed byte) string {
	return id + ":" + base64.StdEncoding.EncodeToString(testSecret(seed))
}

func TestParseKeyRing(t *testing.T) {
	text := "# session keys, newest first\n\n" + keyLine("k2", 2) + "\n  " + keyLine("k1", 1) + "  \r\n"
	r, err := ParseKeyRing(text)
	if err != nil {
		t.Fatal(err)
	}
	if r.Primary() != "k2" || strings.Join(r.IDs(), ",") != "k2,k1" {
		t.Fatalf("primary %q, ids %v; want k2, [k2 k1]", r.Primary(), r.IDs())
	}
	// One environment variable, comma separated, URL-safe unpadded.
	url := "k3:" + base64.RawURLEncoding.EncodeToString(testSecret(3))
	r, err = ParseKeyRing(url + "," + keyLine("k2", 2))
	if err != nil || strings.Join(r.IDs(), ",") != "k3,k2" {
		t.Fatalf("ids %v, err %v", r, err)
	}
}

func TestParseKeyRingErrors(t *testing.T) {
	short := "k1:" + base64.StdEncoding.EncodeToString(make([]byte, 31))
	for name, text := range map[string]string{
		"empty":         "",
		"comments only": "# nothing\n\n",
		"short":         short,
		"duplicate id":  keyLine("k1", 1) + "\n" + keyLine("k1", 2),
		"same secret":   keyLine("k1", 1) + "\n" + keyLine("k2", 1),
		"no colon":      base64.StdEncoding.EncodeToString(testSecret(1)),
		"bad base64":    "k1:!!!notbase64!!!",
		"bad id":        keyLine("k.1", 1),
		"long id":       keyLine(strings.Repeat("k", 17), 1),
		"empty id":      keyLine("", 1),
	} {
		_, err := ParseKeyRing(text)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(testSecret(1))) {
			t.Errorf("%s: error leaks the secret: %v", name, err)
		}
		if name != "bad id" && name != "long id" && name != "empty id" && name != "duplicate id" &&
			!strings.Contains(err.Error(), "head -c 32 /dev/urandom | base64") {
			t.Errorf("%s: error %q does not say how to generate a key", name, err)
		}
	}
}

func TestGenerateKey(t *testing.T) {
	a, err := GenerateKey("2026-12")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := GenerateKey("2027-01")
	r, err := ParseKeyRing(a + "\n" + b)
	if err != nil {
		t.Fatal(err)
	}
	if r.Primary() != "2026-12" {
		t.Fatalf("primary %q", r.Primary())
	}
	if _, err := GenerateKey("bad:id"); err == nil {
		t.Fatal("GenerateKey accepted a bad id")
	}
}

func TestLoadKeyRing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(path, []byte(keyLine("k1", 1)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r, err := LoadKeyRingFile(path); err != nil || r.Primary() != "k1" {
		t.Fatalf("LoadKeyRingFile = %v, %v", r, err)
	}
	if _, err := LoadKeyRingFile(path + ".missing"); err == nil || !strings.Contains(err.Error(), "/dev/urandom") {
		t.Fatalf("missing file: err = %v", err)
	}
	t.Setenv("COOKIESTORE_TEST_KEYS", keyLine("k1", 1)+","+keyLine("k0", 0))
	if r, err := LoadKeyRingEnv("COOKIESTORE_TEST_KEYS"); err != nil || r.Primary() != "k1" {
		t.Fatalf("LoadKeyRingEnv = %v, %v", r, err)
	}
	t.Setenv("COOKIESTORE_TEST_KEYS", " ")
	if _, err := LoadKeyRingEnv("COOKIESTORE_TEST_KEYS"); err == nil || !strings.Contains(err.Error(), "/dev/urandom") {
		t.Fatalf("empty variable: err = %v", err)
	}
	if _, err := LoadKeyRingEnv("COOKIESTORE_TEST_UNSET_VARIABLE"); err == nil {
		t.Fatal("unset variable: no error")
	}
}

func TestNewKeyRingCopiesSecret(t *testing.T) {
	s := testSecret(1)
	r, err := NewKeyRing(Key{ID: "k1", Secret: s})
	if err != nil {
		t.Fatal(err)
	}
	v := mustSeal(t, r, "s", []byte("p"))
	s[0] ^= 1
	if _, _, err := r.Open("s", v); err != nil {
		t.Fatalf("ring changed with the caller's slice: %v", err)
	}
}

// TestRotation walks add, promote and retire.
func TestRotation(t *testing.T) {
	payload := []byte(`{"user":"ada"}`)
	old := testRing(t, "k1")
	v1 := mustSeal(t, old, "session", payload)

	// Add: k2 is listed but k1 stays primary.
	added := testRing(t, "k1", "k2")
	if v := mustSeal(t, added, "session", payload); !strings.HasPrefix(v, "v1.k1.") {
		t.Fatalf("after add, sealed with %q", v[:6])
	}

	// Promote: k2 first. Old values open and need a reseal; new ones use k2.
	promoted := testRing(t, "k2", "k1")
	got, kid, err := promoted.Open("session", v1)
	if err != nil || kid != "k1" || !bytes.Equal(got, payload) {
		t.Fatalf("old value under promoted ring: %q, %q, %v", got, kid, err)
	}
	if !promoted.NeedsReseal(kid) {
		t.Fatal("NeedsReseal(k1) = false after promoting k2")
	}
	v2 := mustSeal(t, promoted, "session", payload)
	if !strings.HasPrefix(v2, "v1.k2.") {
		t.Fatalf("after promote, sealed %q", v2[:6])
	}
	if _, kid, err := promoted.Open("session", v2); err != nil || kid != "k2" || promoted.NeedsReseal(kid) {
		t.Fatalf("new value: key %q, err %v, NeedsReseal %v", kid, err, promoted.NeedsReseal(kid))
	}
	// An instance not yet promoted (k1 first, k2 listed) opens v2 too.
	if _, kid, err := added.Open("session", v2); err != nil || kid != "k2" {
		t.Fatalf("k2 value on an instance that only added k2: %q, %v", kid, err)
	}

	// Retire: k1 removed; its values no longer open.
	retired := testRing(t, "k2")
	_, _, err = retired.Open("session", v1)
	if !errors.Is(err, ErrInvalid) || !errors.Is(err, errUnknownKey) {
		t.Fatalf("retired key: err = %v; want unknown key (ErrInvalid)", err)
	}
	if _, _, err := retired.Open("session", v2); err != nil {
		t.Fatalf("k2 value after retiring k1: %v", err)
	}
}

func TestSealCounts(t *testing.T) {
	r := testRing(t, "k2", "k1")
	for range 5 {
		mustSeal(t, r, "a", []byte("p"))
		mustSeal(t, r, "b", []byte("p"))
	}
	if _, err := r.Seal("a", make([]byte, MaxCookieBytes)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if got := r.Seals("k2"); got != 10 {
		t.Fatalf("Seals(k2) = %d; want 10 (a refused seal is not counted)", got)
	}
	if r.Seals("k1") != 0 || r.Seals("nope") != 0 {
		t.Fatal("non-primary keys counted seals")
	}
}

func TestSealBudget(t *testing.T) {
	r := testRing(t, "k1")
	r.keys[0].seals.Store(SealBudget - 1)
	mustSeal(t, r, "s", []byte("last"))
	if _, err := r.Seal("s", []byte("one too many")); !errors.Is(err, ErrKeyExhausted) {
		t.Fatalf("err = %v; want ErrKeyExhausted", err)
	}
	if got := r.Seals("k1"); got != SealBudget {
		t.Fatalf("Seals = %d; want %d", got, uint64(SealBudget))
	}
}
