package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/session"
)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Prefix starts every key the store writes: records are <Prefix><id>,
	// subject indexes <Prefix>subject:<subject>. Default "session:". Give
	// each application that shares a Redis database its own prefix. On a
	// cluster, a prefix holding a hash tag ("{...}") would put every key on
	// one node: leave hash tags out.
	Prefix string

	// Now is the clock that decides expiry. Default time.Now; tests set a
	// fake clock. Redis removes keys on its own clock as well (PEXPIRE,
	// measured from Now), but a record never outlives Now's verdict.
	Now func() time.Time
}

// Store is a session store in Redis. It is safe for concurrent use, and
// several processes may share one Redis: the compare-and-swap runs in
// Redis. The client stays the caller's to configure and close.
type Store struct {
	client redis.UniversalClient
	prefix string
	now    func() time.Time

	// oneServer: every key lives on the one server the client talks to,
	// so a script may touch a record and its subject's set together.
	oneServer bool

	// writer and seq name each commit, so that a commit retried by go-redis
	// after a lost reply recognises its own write.
	writer string
	seq    atomic.Uint64
}

var (
	_ session.Store        = (*Store)(nil)
	_ session.Toucher      = (*Store)(nil)
	_ session.SubjectIndex = (*Store)(nil)
	_ session.Iterator     = (*Store)(nil)
	_ session.Counter      = (*Store)(nil)
)

// DefaultPrefix is the key prefix used when Options.Prefix is empty.
const DefaultPrefix = "session:"

// Hash fields of a record; see the package documentation.
const (
	fieldData       = "d"
	fieldLastActive = "la"
	fieldIdle       = "idle"
)

var errNoClient = errors.New("no Redis client (redisstore.New was given nil)")

// New returns a Store that keeps sessions in client: a *redis.Client (one
// server, or Sentinel's redis.NewFailoverClient), a *redis.ClusterClient or
// a *redis.Ring. With a *redis.Client every operation on one session is one
// round trip; see the package documentation for the others.
//
// Set ContextTimeoutEnabled in the client's options so that request
// contexts bound how long a call to an unresponsive Redis can take.
func New(client redis.UniversalClient, opts Options) *Store {
	s := &Store{client: client, prefix: opts.Prefix, now: opts.Now, writer: rand.Text()[:16]}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if s.now == nil {
		s.now = time.Now
	}
	_, s.oneServer = client.(*redis.Client)
	return s
}

func (s *Store) recordKey(id string) string       { return s.prefix + id }
func (s *Store) subjectKey(subject string) string { return s.prefix + "subject:" + subject }

// Load implements session.Store with one HMGET.
func (s *Store) Load(ctx context.Context, id string) (*session.Record, error) {
	if s.client == nil {
		return nil, fmt.Errorf("redisstore: load: %w", errNoClient)
	}
	if !validID(id) {
		return nil, fmt.Errorf("redisstore: load: %w", session.ErrNotFound)
	}
	vals, err := s.client.HMGet(ctx, s.recordKey(id), fieldData, fieldLastActive, fieldIdle).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: load: %w", err)
	}
	rec, err := decode(id, vals, s.now())
	if err != nil {
		return nil, fmt.Errorf("redisstore: load: %w", err)
	}
	return rec, nil
}

// decode turns the reply of HMGET d la idle into a record, or ErrNotFound if
// there is no record, ErrExpired if there is one whose deadline has passed
// by now (Redis's own clock has not removed it yet).
func decode(id string, vals []any, now time.Time) (*session.Record, error) {
	if len(vals) != 3 || vals[0] == nil {
		return nil, session.ErrNotFound
	}
	data, ok := vals[0].(string)
	if !ok {
		return nil, fmt.Errorf("unexpected reply %T", vals[0])
	}
	rec, err := session.DecodeRecord(id, []byte(data))
	if err != nil {
		return nil, err
	}
	// Touch keeps its changes beside the encoded record, which Lua cannot
	// edit.
	if vals[1] != nil || vals[2] != nil {
		la, err1 := parseTime(vals[1])
		idle, err2 := parseTime(vals[2])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("touch fields: %w", err)
		}
		rec.LastActive, rec.IdleDeadline = la, idle
	}
	if !live(rec.Expires(), now) {
		return nil, session.ErrExpired
	}
	return rec, nil
}

// live reports whether a session that ends at expires is live at now. Like
// the scripts, it compares milliseconds, so Go and Lua always agree.
func live(expires, now time.Time) bool { return expires.UnixMilli() > now.UnixMilli() }

// Commit implements session.Store. It runs a compare-and-swap script on the
// record, and for sessions with a subject the index step; see the package
// documentation for the round trips.
func (s *Store) Commit(ctx context.Context, rec *session.Record, expected uint64) error {
	switch {
	case s.client == nil:
		return fmt.Errorf("redisstore: commit: %w", errNoClient)
	case rec == nil:
		return errors.New("redisstore: commit: nil record")
	case !validID(rec.ID):
		return errors.New("redisstore: commit: malformed record ID")
	}
	nowMs := s.now().UnixMilli()
	expMs := rec.Expires().UnixMilli()
	absMs := rec.AbsoluteDeadline.UnixMilli()
	subject, tombstone := rec.Subject, "0"
	if rec.Tombstone() {
		subject, tombstone = "", "1" // tombstones are nobody's session
	}
	commit := scriptCall{commitScript, []string{s.recordKey(rec.ID)}, []any{
		strconv.FormatUint(expected, 10), strconv.FormatUint(rec.Version, 10),
		nowMs, expMs, absMs, expMs - nowMs,
		session.EncodeRecord(nil, rec), subject, tombstone,
		s.writer + strconv.FormatUint(s.seq.Add(1), 36),
		unixNano(rec.LastActive), unixNano(rec.IdleDeadline),
	}}
	if subject == "" {
		_, err := commitResult(commit.run(ctx, s.client))
		return err
	}
	if s.oneServer {
		// One server holds both keys: the script runs the index step
		// itself, in the same atomic step as the write.
		commit.keys = append(commit.keys, s.subjectKey(subject))
		commit.args = append(commit.args, rec.ID)
		_, err := commitResult(commit.run(ctx, s.client))
		return err
	}
	// On a cluster or a ring the set may live on another node. The index
	// step is needed only when the script says so (the session is new, its
	// subject or absolute deadline changed, or an earlier index step was
	// not confirmed): most updates are one round trip.
	needIndex, err := commitResult(commit.run(ctx, s.client))
	if err != nil || !needIndex {
		return err
	}
	index := scriptCall{indexScript, []string{s.subjectKey(subject)}, []any{nowMs, absMs, rec.ID}}
	if err := index.run(ctx, s.client).Err(); err != nil {
		return fmt.Errorf("redisstore: commit: subject index: %w", err)
	}
	// An unconfirmed step is redone by the next commit: nothing to report.
	confirm := scriptCall{clearIndexPendingScript, []string{s.recordKey(rec.ID)}, []any{strconv.FormatUint(rec.Version, 10)}}
	_ = confirm.run(ctx, s.client).Err()
	return nil
}

// commitResult reads commitScript's reply: an error wrapping ErrConflict, or
// whether the subject index step must run.
func commitResult(cmd *redis.Cmd) (needIndex bool, err error) {
	n, err := cmd.Int64()
	switch {
	case err != nil:
		return false, fmt.Errorf("redisstore: commit: %w", err)
	case n != 1 && n != 2:
		return false, fmt.Errorf("redisstore: commit: %w", session.ErrConflict)
	}
	return n == 2, nil
}

// Touch implements session.Toucher with one script, which writes LastActive
// and IdleDeadline beside the encoded record and moves the key's expiry. It
// leaves the version alone, never creates a record, refuses tombstones and
// never moves a time back.
// The subject index needs no update: it is scored by the absolute deadline,
// which a touch never passes.
func (s *Store) Touch(ctx context.Context, id string, lastActive, idleDeadline time.Time) error {
	if s.client == nil {
		return fmt.Errorf("redisstore: touch: %w", errNoClient)
	}
	if !validID(id) {
		return fmt.Errorf("redisstore: touch: %w", session.ErrNotFound)
	}
	touch := scriptCall{touchScript, []string{s.recordKey(id)}, []any{
		s.now().UnixMilli(), unixNano(lastActive), unixNano(idleDeadline), idleDeadline.UnixMilli(),
	}}
	n, err := touch.run(ctx, s.client).Int64()
	switch {
	case err != nil:
		return fmt.Errorf("redisstore: touch: %w", err)
	case n != 1:
		return fmt.Errorf("redisstore: touch: %w", session.ErrNotFound)
	}
	return nil
}

// Delete implements session.Store with one DEL. The subject index drops the
// session when it is next read.
func (s *Store) Delete(ctx context.Context, id string) error {
	if s.client == nil {
		return fmt.Errorf("redisstore: delete: %w", errNoClient)
	}
	if !validID(id) {
		return nil
	}
	if err := s.client.Del(ctx, s.recordKey(id)).Err(); err != nil {
		return fmt.Errorf("redisstore: delete: %w", err)
	}
	return nil
}

// scriptCall is one run of a script.
type scriptCall struct {
	script *redis.Script
	keys   []string
	args   []any
}

// run sends EVALSHA, and EVAL if the server does not have the script.
func (c scriptCall) run(ctx context.Context, client redis.Scripter) *redis.Cmd {
	return c.script.Run(ctx, client, c.keys, c.args...)
}

func isNoScript(err error) bool {
	return err != nil && (errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT"))
}

// validID reports whether id is a store ID: 64 lowercase hex digits, the
// SHA-256 of a token. Anything else cannot name a record, and must not reach
// another key, such as a subject index.
func validID(id string) bool {
	if len(id) != 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// unixNano is the encoding of Touch's fields, as in session.EncodeRecord:
// Unix nanoseconds, 0 for the zero time.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func parseTime(v any) (time.Time, error) {
	str, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("unexpected reply %T", v)
	}
	ns, err := strconv.ParseInt(str, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	if ns == 0 {
		return time.Time{}, nil
	}
	return time.Unix(0, ns).UTC(), nil
}
