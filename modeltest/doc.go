// Package modeltest is a model-based concurrency test of the session
// manager's commit path: pgregory.net/rapid chooses random interleavings of
// requests from several clients (reads, Put, Update, Login, Renew, Destroy,
// RevokeDevice), administrative revokes and clock jumps, and a small
// reference model checks after every step what must be true whatever the
// interleaving:
//
//   - lost: no acknowledged write is lost (a Put or an Update increment whose
//     request saw session.Commit return nil stays visible through the current
//     token of its session, until that session ends or expires);
//   - logout: nothing is readable after an acknowledged logout or revoke,
//     through any token the session ever had;
//   - stale: a token the session was renewed away from opens nothing;
//   - crossing: no change crosses a change of subject (a request that loaded
//     the session anonymously, or as another user, cannot write into it after
//     a Login moved it);
//   - deadline: LastActive and IdleDeadline of one store ID never decrease;
//   - size: no record is larger than Config.MaxRecordBytes (only when the
//     Config has that field; otherwise the test says it skipped it).
//
// Each HTTP request runs in its own goroutine through the real middleware
// and parks at a gate inside the handler right after it loaded its session;
// rapid decides which parked request makes its change and commits next, so
// every interleaving is chosen, reproducible and shrinkable, and no step
// waits on luck (a request that does not reach its gate or answer within
// 15 s fails the test with every goroutine's stack). The clock is injected
// (Config.Now and the stores' Now). Clients are alice's two devices, bob and
// mallory, who plants her anonymous token in their jars; any of them may
// resend a token it held before. The test uses only the public API of
// package session and of its stores.
//
// Files: model_test.go is the reference model, harness_test.go the gates,
// clients and handler, machine_test.go the rapid state machine, and one
// file per store wires it up.
//
// It is a module of its own, so that the library's go.mod never lists rapid.
// It runs against memstore, the real Redis (SESSION_TEST_REDIS) and the real
// PostgreSQL (SESSION_TEST_POSTGRES); an unreachable server skips its store,
// except when CI is set:
//
//	cd modeltest && go test -race -count=1 ./...
//
// The bounded form runs a fixed number of rapid checks per store (about a
// minute in all under -race); -rapid.checks and -rapid.steps override it, and
// SESSION_SOAK (a duration, such as 2m) repeats the checks on each store for
// that long. Each store logs how many runs, steps, requests and interleavings
// it exercised. -invariants=crossing,logout checks only the named
// invariants, to find the minimal failing sequence of each in turn; a
// failure prints that sequence step by step, and -rapid.seed replays it.
package modeltest
