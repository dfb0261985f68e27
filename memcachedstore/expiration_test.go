package memcachedstore

import (
	"math"
	"testing"
	"time"
)

func TestExpiration(t *testing.T) {
	wall := time.Unix(1_800_000_000, 0)
	const day = 24 * time.Hour
	for _, tc := range []struct {
		name string
		ttl  time.Duration
		want int32
	}{
		{"expired", -time.Hour, 1},
		{"now", 0, 1},
		{"sub-second", time.Millisecond, 2},
		{"one hour", time.Hour, 3601},
		{"one hour and a bit", time.Hour + time.Nanosecond, 3602},
		{"just under 30 days", 30*day - 2*time.Second, 30*86400 - 1},
		{"30 days minus one second", 30*day - time.Second, 30 * 86400},
		{"30 days: absolute", 30 * day, 1_800_000_000 + 30*86400 + 1},
		{"one year: absolute", 365 * day, 1_800_000_000 + 365*86400 + 1},
		{"past 2038: clamped", 100 * 365 * day, math.MaxInt32},
		{"forever: clamped", math.MaxInt64, math.MaxInt32},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := expiration(tc.ttl, wall); got != tc.want {
				t.Fatalf("expiration(%v) = %d; want %d", tc.ttl, got, tc.want)
			}
		})
	}
}
