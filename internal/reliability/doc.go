// Package reliability holds the reliability tests of the session library:
// a manager served over HTTP under load while its store fails (a Redis
// server killed and restarted, PostgreSQL backends terminated, a store that
// hangs), and sessions that must survive an application restart. It has no
// code of its own; see the _test.go files and RELIABILITY.md at the root of
// the module.
//
// go test ./internal/reliability/ runs the bounded tests (part of make
// test). SESSION_SOAK=<duration> enables TestSoak, which repeats the outages
// for that long.
package reliability
