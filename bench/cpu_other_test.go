//go:build !unix

package bench_test

import "time"

// cpuTime is unknown here: no cpu-ns/op is reported.
func cpuTime() time.Duration { return 0 }
