// Package storetest is the conformance suite of session stores, in the shape
// of testing/slogtest: a store calls Run from its tests with a function that
// opens a fresh store, and is done when the suite passes against the real
// server under -race. Every store in this module runs it; a store written
// elsewhere runs it the same way to prove it keeps session.Store's contract.
//
// The suite checks what the session manager relies on: create-only-if-absent,
// compare-and-swap on the version, no resurrection after a delete,
// tombstones, expiry by the store's clock, touches that never move a deadline
// back, parallel writers of one record, and, for the optional capabilities a
// store implements (session.Counter, the subject index, iteration), that they
// agree with what was stored. Each case runs in its own subtest with its own
// store, and its name and failure messages say which part of the contract
// broke.
//
// # Using it from a third-party store
//
// The store reads time from the function it is given, so that the suite can
// move the clock past a deadline without sleeping:
//
//	package kvstore_test
//
//	import (
//		"testing"
//		"time"
//
//		"github.com/sessionkit/session"
//		"github.com/sessionkit/session/storetest"
//
//		"example.com/kvstore"
//	)
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, now func() time.Time) session.Store {
//			s, err := kvstore.Open(kvstore.Options{Addr: "localhost:7000", Prefix: storetest.NewID(), Now: now})
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// A store that can tell an expired record from a missing one declares it
// with RunOptions and Options.ReportsExpired, and the suite then checks that
// too. A store backed by a server whose keys expire on the server's clock
// should still take now for what it computes itself; NewClock starts the
// suite's clock at the wall clock's current millisecond so the two agree.
//
// The package imports the standard library, the testing package included,
// and the session package only: link it from tests, never from a program.
package storetest
