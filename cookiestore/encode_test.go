package cookiestore

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestEncodeURL(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 2100; n++ {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(rng.Uint32())
		}
		if n%7 == 0 {
			for i := range src {
				src[i] = 0xff
			}
		}
		want := b64.EncodeToString(src)
		got := make([]byte, b64.EncodedLen(n))
		encodeURL(got, src)
		if string(got) != want {
			t.Fatalf("n=%d: encodeURL = %q, want %q", n, got, want)
		}
	}
}

func FuzzEncodeURL(f *testing.F) {
	f.Add([]byte("hello, world"))
	f.Fuzz(func(t *testing.T, src []byte) {
		got := make([]byte, b64.EncodedLen(len(src)))
		encodeURL(got, src)
		if want := b64.EncodeToString(src); !bytes.Equal(got, []byte(want)) {
			t.Fatalf("encodeURL(%x) = %q, want %q", src, got, want)
		}
	})
}

func BenchmarkEncodeURL(b *testing.B) {
	src := make([]byte, 1024+Overhead)
	dst := make([]byte, b64.EncodedLen(len(src)))
	b.Run("pairs", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			encodeURL(dst, src)
		}
	})
	b.Run("stdlib", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			b64.Encode(dst, src)
		}
	})
}
