// Package bench compares sessionkit with alexedwards/scs and gorilla/sessions.
// It is its own module, so the library's go.mod never lists its competitors.
//
// In-process benchmarks (issue "core"): the same handlers on sessionkit +
// memstore, scs + its memstore, gorilla/sessions + CookieStore and a bare
// handler, driven without a network; plus the memstore's live heap per
// session and the cost of an expiry sweep over a million sessions.
//
//	cd bench
//	go test -run '^$' -bench . -benchmem -count 5 | tee bench.out
//	go run golang.org/x/perf/cmd/benchstat@latest bench.out
//
// Add -benchtime 200ms for a quick look. The 1M-session sweeps and the heap
// measurement take a few seconds of setup each (outside the timer).
//
// Loopback load test (issue "stores"): cmd/loadtest serves the same endpoints
// over HTTP on 127.0.0.1 backed by Redis and PostgreSQL and drives them at
// fixed concurrency. It is a program, so `go test ./...` never runs it:
//
//	cd bench
//	go run ./cmd/loadtest                      # Redis 127.0.0.1:6379 DB 15, PostgreSQL .../test
//	go run ./cmd/loadtest -h                   # flags: -dur, -reps, -conns, -redis, -postgres, ...
//
// It FLUSHes only its own Redis database (15 by default) and keeps its
// PostgreSQL tables in a schema of its own (sessionkit_bench), both emptied
// before and after the run. See
// ../BENCHMARKS.md for the latest figures and the commands that made them.
package bench
