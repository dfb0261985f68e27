// Package testenv finds the services that tests run against.
//
// Each service is named by an environment variable with a local default.
// A test that cannot reach its service skips with a message naming the
// variable, except when CI is set: there a missing service fails the test,
// so a green CI run never hides a skipped store.
package testenv

import (
	"os"
	"testing"
)

// Variables and the local defaults.
const (
	Redis     = "SESSION_TEST_REDIS"     // redis://127.0.0.1:6379/0
	Postgres  = "SESSION_TEST_POSTGRES"  // postgres://postgres@127.0.0.1:5432/test?sslmode=disable
	MySQL     = "SESSION_TEST_MYSQL"     // root@tcp(127.0.0.1:3306)/test?parseTime=true
	Memcached = "SESSION_TEST_MEMCACHED" // 127.0.0.1:11211
)

var defaults = map[string]string{
	Redis:     "redis://127.0.0.1:6379/0",
	Postgres:  "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
	MySQL:     "root@tcp(127.0.0.1:3306)/test?parseTime=true",
	Memcached: "127.0.0.1:11211",
}

// Get returns the address of the service named by variable: its value, or the
// local default.
func Get(variable string) string {
	if v := os.Getenv(variable); v != "" {
		return v
	}
	return defaults[variable]
}

// Unreachable ends the test because the service named by variable could not
// be reached: a skip on a developer's machine, a failure under CI.
func Unreachable(t testing.TB, variable string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s=%s unreachable under CI: %v", variable, Get(variable), err)
	}
	t.Skipf("%s=%s unreachable (set %s to run this test): %v", variable, Get(variable), variable, err)
}

// InCI reports whether the tests run under CI, where nothing may be skipped
// for want of a service or a program.
func InCI() bool { return os.Getenv("CI") != "" }
