package cookiestore

import "testing"

// TestAllocs pins the allocations of the hot path: Seal allocates the
// value, Open the payload, and nothing else (the derived cipher is cached
// and Seal's scratch buffer is pooled).
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop buffers at random")
	}
	r := testRing(t, "k1")
	p := payload1K(t)
	v := mustSeal(t, r, "session", p)
	for _, c := range []struct {
		name string
		max  float64
		f    func()
	}{
		{"Seal", 1, func() { r.Seal("session", p) }},
		{"Open", 1, func() { r.Open("session", v) }},
		{"Seal+Open", 2, func() {
			v, _ := r.Seal("session", p)
			r.Open("session", v)
		}},
	} {
		if got := testing.AllocsPerRun(200, c.f); got > c.max {
			t.Errorf("%s: %v allocations, want at most %v", c.name, got, c.max)
		}
	}
}
