package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestHistogram compares the histogram's percentiles with the exact ones of
// sorted samples: never below, and at most 1/16 above.
func TestHistogram(t *testing.T) {
	for v := uint64(0); v < 1<<20; v += 1 + v/7 {
		if b := bucketOf(v); upperBound(b) < v || (b > 0 && upperBound(b-1) >= v) {
			t.Fatalf("value %d in bucket %d, whose bounds are (%d, %d]", v, b, upperBound(b-1), upperBound(b))
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var h histogram
	var samples []time.Duration
	for range 10000 {
		d := time.Duration(rng.ExpFloat64() * float64(time.Millisecond))
		h.record(d)
		samples = append(samples, d)
	}
	slices.Sort(samples)
	for _, p := range []int{1, 50, 90, 99, 100} {
		exact := samples[(p*len(samples)+99)/100-1]
		got := h.percentile(p)
		if got < exact || float64(got) > float64(exact)*(1+1.0/16) {
			t.Errorf("p%d = %v, exact %v", p, got, exact)
		}
	}
	if h.max != samples[len(samples)-1] || h.n != 10000 {
		t.Errorf("max %v, n %d", h.max, h.n)
	}
	var empty histogram
	if empty.percentile(50) != 0 {
		t.Error("percentile of an empty histogram")
	}
}
