// Package ratelimit limits how often a client address, a session or a user
// may do something: log in above all, but also any route or API. Limits
// hold across every app instance that shares a Redis backend.
//
// # Quick start
//
//	backend := ratelimit.NewMemory(ratelimit.MemoryOptions{})
//	defer backend.Close()
//
//	// Any route: 100 requests a minute per client address.
//	perIP := ratelimit.New(backend, ratelimit.Limit{Rate: 100, Per: time.Minute}, ratelimit.Options{Name: "ip"})
//	http.ListenAndServe(":8080", perIP.Handler(ratelimit.ByAddress, mux))
//
//	// Logins: 5 attempts per user name, then one every 3 minutes.
//	logins := ratelimit.New(backend, ratelimit.Limit{Rate: 5, Per: 15 * time.Minute}, ratelimit.Options{Name: "login"})
//	d, err := logins.Allow(ctx, username)
//	if err != nil || !d.Allowed {
//		// refuse: 503 on err (fail closed), 429 with d.RetryAfter otherwise
//	}
//
// Refused requests get 429 Too Many Requests, Retry-After and the IETF
// RateLimit and RateLimit-Policy headers; see Limiter.Handler. Counter counts
// abuse signals such as malformed session IDs and cuts off clients with too
// many.
//
// # Algorithm
//
// Limits are enforced with GCRA, the generic cell rate algorithm: each key
// holds one timestamp, its theoretical arrival time (TAT). A request of n
// units at time now moves TAT to max(TAT, now) + n*Per/Rate and is allowed
// when the new TAT is at most Burst*Per/Rate ahead of now. This is a token
// bucket without the tokens: exact (no window edges to game, no
// approximation), one integer per key, and O(1) per decision. A key whose
// TAT has passed is in the same state as a key never seen, so backends drop
// it.
//
// # Backends
//
// Memory keeps keys in the process: the choice for a single instance and for
// tests (its clock is injectable). redislimit (a subpackage, so apps that
// limit in memory compile no Redis client) keeps them in Redis, deciding with
// one atomic Lua script per request on the Redis server's clock, so many app
// instances enforce one limit together. Both implement Backend.
//
// # Keys
//
// ByAddress keys by client IP (IPv6 by /64); behind a reverse proxy use
// TrustedProxies.ByAddress, which reads X-Forwarded-For only from the
// proxies listed. ByKey adapts a function returning a session or user key.
// The Limiter hashes every key before the backend sees it, so keys of any
// size cost the same, and addresses and user names never reach Redis.
//
// # Security
//
// When the backend fails, requests are refused (503) by default: a limit
// that protects accounts must not vanish when Redis does.
// Options.FailOpenOnError changes that for limits that only protect capacity.
// Refusals are logged with the hashed key only.
//
// # Concurrency
//
// Limiters, Counters and both backends are safe for concurrent use; create
// them once at startup. Decisions are atomic: concurrent requests, from one
// process or many, never take more than the burst.
package ratelimit
