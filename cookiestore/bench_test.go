package cookiestore

import (
	"testing"
)

// payload1K is a 1 KB session record.
func payload1K(tb testing.TB) []byte { return jsonPayload(tb, 1024) }

// BenchmarkSealOpen1K seals and opens a 1 KB payload: one request that
// reads a cookie session and writes it back.
func BenchmarkSealOpen1K(b *testing.B) {
	r := testRing(b, "k1")
	p := payload1K(b)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		v, err := r.Seal("session", p)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := r.Open("session", v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeal1K(b *testing.B) {
	r := testRing(b, "k1")
	p := payload1K(b)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Seal("session", p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen1K(b *testing.B) {
	r := testRing(b, "k1")
	p := payload1K(b)
	v := mustSeal(b, r, "session", p)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := r.Open("session", v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenInvalid is the cost of rejecting a tampered value.
func BenchmarkOpenInvalid(b *testing.B) {
	r := testRing(b, "k1")
	v := []byte(mustSeal(b, r, "session", payload1K(b)))
	v[len(v)/2] ^= 1
	s := string(v)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := r.Open("session", s); err == nil {
			b.Fatal("opened")
		}
	}
}
