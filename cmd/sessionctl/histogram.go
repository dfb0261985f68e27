package main

import (
	"math/bits"
	"time"
)

// histogram counts durations in log-linear buckets: 16 per power of two, so
// a percentile is within about 6% of the true one, in a fixed 8 KiB however
// long bench runs. The zero value is empty.
type histogram struct {
	counts [histBuckets]uint64
	n      uint64
	max    time.Duration
}

const (
	histSub     = 16 // buckets per power of two
	histShift   = 4  // log2(histSub)
	histBuckets = 64 * histSub
)

// bucketOf returns the bucket of v nanoseconds: v itself below histSub,
// else e*histSub + (v >> e), where e keeps the top five bits of v.
func bucketOf(v uint64) int {
	if v < histSub {
		return int(v)
	}
	e := bits.Len64(v) - histShift - 1
	return e*histSub + int(v>>e)
}

// upperBound is the largest value in bucket i.
func upperBound(i int) uint64 {
	if i < 2*histSub {
		return uint64(i)
	}
	e := i/histSub - 1
	return (uint64(i-e*histSub)+1)<<e - 1
}

func (h *histogram) record(d time.Duration) {
	d = max(d, 0)
	h.counts[bucketOf(uint64(d))]++
	h.n++
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// percentile returns the p-th percentile (nearest rank) as the upper bound
// of its bucket, never more than the maximum; zero when empty.
func (h *histogram) percentile(p int) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := max((uint64(p)*h.n+99)/100, 1) // ceil(p/100 × n)
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return min(time.Duration(upperBound(i)), h.max)
		}
	}
	return h.max
}
