package storetest_test

import (
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/storetest"
)

// A store's tests run the suite with a function that opens a fresh store on
// the suite's clock. This is memstore's; a store of another module does the
// same from its own _test.go file.
func ExampleRunOptions() {
	testConformance := func(t *testing.T) {
		storetest.RunOptions(t, func(t *testing.T, now func() time.Time) session.Store {
			s := memstore.New(memstore.Options{Now: now})
			t.Cleanup(func() { s.Close() })
			return s
		}, storetest.Options{ReportsExpired: true}) // memstore keeps expired records until its sweep
	}
	_ = testConformance // in a _test.go file: func TestConformance(t *testing.T) { ... }
}
