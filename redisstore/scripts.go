package redisstore

import "github.com/redis/go-redis/v9"

// Every script but commitScript on a single server touches exactly one key
// (KEYS[1]), so each is valid on a Redis Cluster. Times are Unix
// milliseconds, which a Lua number holds exactly; the version is compared as
// a decimal string, so it may use all 64 bits.

// commitScript is the compare-and-swap of Commit.
//
//	KEYS[1]  the record
//	KEYS[2]  the subject's sorted set, only on a single server and only for
//	         a record with a subject
//	ARGV     expected version, new version, now, expires, absolute deadline,
//	         TTL (expires - now), record, subject, tombstone ("1"/"0"), writer,
//	         LastActive (ns), IdleDeadline (ns), and with KEYS[2] the ID
//
// The record's LastActive and IdleDeadline go in their own fields too, where
// touchScript compares them.
//
// The index step is needed when the session is new (or replaced an expired
// one), its subject or absolute deadline changed, or an earlier index step
// was never confirmed (the record holds an 'ixp' mark). With KEYS[2] the
// script runs the step itself, as indexScript does, in the same atomic step
// as the write, and the record never holds the mark. It returns 0 on a
// version conflict and 1 when the record was written.
//
// Without KEYS[2] (a cluster, where the set lives in another slot) it returns
// 0 on a version conflict, 1 when the record was written and its subject's
// index already holds it, and 2 when the record was written and the caller
// must run the index step: the record then keeps the 'ixp' mark until
// clearIndexPendingScript confirms the step, so an index step lost after its
// commit is redone by the next commit. A commit retried after its reply was
// lost returns 2: it cannot tell, and the index step is idempotent.
var commitScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'v', 'exp', 'w', 's', 'abs', 'ixp')
local v = cur[1]
if v and v == ARGV[2] and cur[3] == ARGV[10] then
	-- This very commit, retried after its reply was lost; with KEYS[2] its
	-- index step ran with it.
	if KEYS[2] then return 1 end
	return 2
end
local exp = tonumber(cur[2])
if v and (not exp or exp <= tonumber(ARGV[3])) then
	v = false -- expired: as good as absent, and never matches
end
if ARGV[1] == '0' then
	if v then return 0 end
elseif v ~= ARGV[1] then
	return 0
end
if tonumber(ARGV[6]) <= 0 then
	redis.call('DEL', KEYS[1])
	return 1 -- already expired: nothing to keep
end
local index = ARGV[8] ~= '' and (not v or cur[4] ~= ARGV[8] or cur[5] ~= ARGV[5] or cur[6])
local pending = index and not KEYS[2]
-- HSET writes every field but ixp, so what an older record held never
-- survives it: no DEL first.
if pending then
	redis.call('HSET', KEYS[1], 'v', ARGV[2], 'exp', ARGV[4], 'abs', ARGV[5], 'd', ARGV[7],
		's', ARGV[8], 't', ARGV[9], 'w', ARGV[10], 'la', ARGV[11], 'idle', ARGV[12], 'ixp', '1')
else
	redis.call('HSET', KEYS[1], 'v', ARGV[2], 'exp', ARGV[4], 'abs', ARGV[5], 'd', ARGV[7],
		's', ARGV[8], 't', ARGV[9], 'w', ARGV[10], 'la', ARGV[11], 'idle', ARGV[12])
	if cur[6] then
		redis.call('HDEL', KEYS[1], 'ixp') -- done below, or nothing to index
	end
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
if pending then return 2 end
if index then
	-- The index step of indexScript. The score, the absolute deadline, is
	-- after now: the record's TTL is positive.
	redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
	redis.call('ZADD', KEYS[2], 'GT', ARGV[5], ARGV[13])
	local top = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
	redis.call('PEXPIRE', KEYS[2], string.format('%.0f', tonumber(top[2]) - tonumber(ARGV[3])))
end
return 1
`)

// clearIndexPendingScript confirms an index step: it drops the record's
// 'ixp' field if the record still holds the version that asked for it (a
// later commit decides for itself).
//
//	KEYS[1]  the record
//	ARGV     the version the commit wrote
var clearIndexPendingScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'v') == ARGV[1] then
	redis.call('HDEL', KEYS[1], 'ixp')
end
return 1
`)

// touchScript moves the idle deadline of a live, non-tombstone record without
// changing its version. No time moves back: a request that read the clock
// before a newer touch or commit leaves the later LastActive, IdleDeadline
// and expiry in place, so the expiry stays in the range (now, abs].
//
//	KEYS[1]  the record
//	ARGV     now, LastActive (ns), IdleDeadline (ns), IdleDeadline (ms)
//
// The ns times are compared as decimal strings (a Lua number would round
// them): a longer string is a later time. A record written before commits
// stored 'la' and 'idle' has only 'exp' to compare with; a touch that would
// not move it later leaves such a record alone.
//
// It returns 1 when the record was touched (or already had later times), 0
// when there is no such record.
var touchScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'exp', 'abs', 't', 'la', 'idle')
local now = tonumber(ARGV[1])
local exp = tonumber(cur[1])
local abs = tonumber(cur[2])
if not exp or not abs or exp <= now or cur[3] ~= '0' then
	return 0
end
local function later(a, b)
	if #a ~= #b then return #a > #b end
	return a > b
end
local newExp = tonumber(ARGV[4])
if abs < newExp then newExp = abs end
if newExp <= exp then
	if not (cur[4] and cur[5]) then return 1 end
	newExp = exp
end
local la, idle = ARGV[2], ARGV[3]
if cur[4] and later(cur[4], la) then la = cur[4] end
if cur[5] and later(cur[5], idle) then idle = cur[5] end
redis.call('HSET', KEYS[1], 'la', la, 'idle', idle, 'exp', string.format('%.0f', newExp))
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', newExp - now))
return 1
`)

// indexScript adds a session to its subject's set, or raises its score, and
// prunes the members whose score has passed. It is idempotent.
//
//	KEYS[1]  the subject's sorted set
//	ARGV     now, score (the absolute deadline), session ID
var indexScript = redis.NewScript(`
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if tonumber(ARGV[2]) > now then
	redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[3])
end
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if top[2] then
	redis.call('PEXPIRE', KEYS[1], string.format('%.0f', tonumber(top[2]) - now))
end
return 1
`)

// deleteIfSubjectScript deletes a record if it belongs to a subject.
//
//	KEYS[1]  the record
//	ARGV     subject, now
//
// It returns what DeleteSubject should do with the index member:
const (
	keepMember  = 0 // keep it: the session belongs to another subject now
	deletedLive = 1 // the live session was deleted; remove the member
	deletedDead = 2 // the expired session was deleted; remove the member
	staleMember = 3 // no session or a tombstone; remove the member
)

var deleteIfSubjectScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 's', 'exp', 't')
if not cur[1] or cur[3] ~= '0' then
	return 3
end
if cur[1] ~= ARGV[1] then
	return 0
end
redis.call('DEL', KEYS[1])
local exp = tonumber(cur[2])
if exp and exp > tonumber(ARGV[2]) then
	return 1
end
return 2
`)
