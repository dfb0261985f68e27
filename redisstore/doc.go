// Package redisstore keeps sessions in Redis through go-redis v9, on a single
// server, behind Sentinel (redis.NewFailoverClient) or on a Redis Cluster
// (redis.NewClusterClient). It needs Redis 6.2 or later (ZADD GT).
//
//	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
//	store := redisstore.New(client, redisstore.Options{})
//	mgr, err := session.New(store, session.Config{})
//
// # Keys
//
// With the default prefix "session:", a session is a hash under
// session:<id>, where <id> is the hex SHA-256 of the session token (the token
// itself never reaches Redis):
//
//	v     version, decimal; the compare-and-swap compares it as a string
//	exp   when the session ends (the earlier deadline), Unix milliseconds
//	abs   the absolute deadline, Unix milliseconds
//	d     the record, session.EncodeRecord
//	s     the subject, empty for anonymous sessions and tombstones
//	t     "1" for a tombstone (renewed or ended), else "0"
//	w     the writer of the last commit, so a commit retried by go-redis after a
//	      lost reply recognises itself instead of reporting a conflict
//	la    LastActive, Unix nanoseconds, written by Commit and moved by Touch
//	idle  IdleDeadline, Unix nanoseconds, written by Commit and moved by Touch
//
// The key expires (PEXPIRE) when the session does, measured with
// Options.Now, so Redis reclaims it; no sweeper is needed. Liveness itself
// never depends on the key's TTL: every script and every read compares exp
// with the store's clock, at millisecond precision. A key still there whose
// session has expired by that clock loads as session.ErrExpired.
//
// A subject's sessions are indexed in a sorted set under
// session:subject:<subject>, member the session ID, score the session's
// absolute deadline in Unix milliseconds: the latest the session can live,
// since Touch only moves the idle deadline and the session ends at the
// earlier of the two. Touch therefore never has to update the index.
// Members whose score has passed are removed whenever the set is written or
// read (ZREMRANGEBYSCORE), the set expires with its last member, and readers
// check every member against its record. Anonymous sessions and tombstones
// are not indexed.
//
// # Scripts and round trips
//
// Load is one HMGET. Touch and Delete are one round trip each, and so is
// Commit except on a cluster (below). Commit and Touch are Lua scripts
// (EVALSHA, then EVAL if the server lost its script cache) that read the
// stored fields once, then write the whole hash (HSET, no DEL) and its TTL
// (PEXPIRE) in one atomic step; Delete is a DEL.
//
// The subject index needs a step only when a commit makes the session new,
// changes its subject or absolute deadline, or finds an earlier step
// unconfirmed (below): prune, ZADD GT, expire. With a *redis.Client (one
// server, or Sentinel's failover client) the commit script runs that step
// itself on the subject's set, a second key it is given, in the same atomic
// step as the write: a commit is always one round trip and one script, a
// commit that loses its compare-and-swap indexes nothing, and one that wins
// leaves nothing pending.
//
// On a Redis Cluster a record and its subject's set hash to different slots,
// and with a Ring to different shards, so there every script touches exactly
// one key. The index step is then a small idempotent script on the set
// alone, run after the commit script, never before it, and confirmed by a
// third that clears the record's "index pending" mark: three round trips,
// only when the index needs a step; other commits are one. An index step
// that fails makes Commit return an error, and the next commit redoes it
// (the mark stays until a step is confirmed; its connection may drop after
// the commit landed).
//
// The index cannot rot: a live session with a subject is always a member of
// that subject's set with a score no earlier than its expiry, because every
// commit that sets the subject or moves the absolute deadline runs the index
// step with the write (one server) or after it (a cluster, where a step that
// fails stays pending until a later commit completes it), and ZADD GT never
// lowers a score. The set may hold stale members: sessions deleted, expired,
// turned into tombstones, or moved to another subject.
// ListSubject and DeleteSubject skip them after reading the records, and
// remove the members whose session can never come back (deleted, expired,
// tombstone); a member that moved to another subject stays until its score
// passes, because the session could move back while the set is being read.
// Delete does not touch the index, so that it stays one round trip.
//
// # Admin operations
//
// Range and Count scan the keyspace (SCAN ... TYPE hash, on every master of a
// cluster), which is O(number of keys): they are for admin tools and
// occasional metrics, not for request paths. They inherit SCAN's guarantees:
// a record present for the whole walk is seen, rarely twice.
//
// # Concurrency
//
// A Store is safe for concurrent use by many goroutines and many processes:
// the compare-and-swap runs inside Redis. It holds no resources of its own;
// closing the client is up to the caller.
package redisstore
