package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/session"
)

// ListSubject implements session.SubjectIndex: the live sessions of subject,
// oldest (by Created) first, tombstones left out. It reads the subject's set,
// pruning members whose absolute deadline has passed, then the records in
// one pipeline, and removes the members whose session is gone for good
// (deleted, expired, or a tombstone). Two or three round trips.
func (s *Store) ListSubject(ctx context.Context, subject string) ([]*session.Record, error) {
	if s.client == nil {
		return nil, fmt.Errorf("redisstore: list subject: %w", errNoClient)
	}
	if subject == "" {
		return nil, nil // anonymous sessions are not indexed
	}
	now := s.now()
	ids, err := s.members(ctx, subject, now)
	if err != nil || len(ids) == 0 {
		return nil, wrap("list subject", err)
	}
	cmds := make([]*redis.SliceCmd, len(ids))
	_, err = s.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = pipe.HMGet(ctx, s.recordKey(id), fieldData, fieldLastActive, fieldIdle)
		}
		return nil
	})
	if err != nil {
		return nil, wrap("list subject", err)
	}
	var recs []*session.Record
	var gone []any
	for i, cmd := range cmds {
		rec, err := decode(ids[i], cmd.Val(), now)
		switch {
		case errors.Is(err, session.ErrNotFound):
			gone = append(gone, ids[i]) // deleted or expired: never comes back
		case err != nil:
			// A record that does not decode is not listed; DeleteSubject
			// still deletes it.
		case rec.Tombstone():
			gone = append(gone, ids[i]) // a tombstone never becomes a session again
		case rec.Subject != subject:
			// Moved to another subject. The member stays until its score
			// passes: the session may move back while this runs, and
			// removing it then would lose it from the index.
		default:
			recs = append(recs, rec)
		}
	}
	if len(gone) > 0 {
		// Best effort: the result is complete either way, and the next
		// read tries again.
		_ = s.client.ZRem(ctx, s.subjectKey(subject), gone...).Err()
	}
	slices.SortStableFunc(recs, func(a, b *session.Record) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return recs, nil
}

// DeleteSubject implements session.SubjectIndex: it deletes every session of
// subject and reports how many of them were live. Each record is deleted by
// a script that checks its subject, so a session that moved to another
// subject is left alone. Three round trips.
func (s *Store) DeleteSubject(ctx context.Context, subject string) (int, error) {
	if s.client == nil {
		return 0, fmt.Errorf("redisstore: delete subject: %w", errNoClient)
	}
	if subject == "" {
		return 0, nil
	}
	now := s.now()
	ids, err := s.members(ctx, subject, now)
	if err != nil || len(ids) == 0 {
		return 0, wrap("delete subject", err)
	}
	calls := make([]scriptCall, len(ids))
	for i, id := range ids {
		calls[i] = scriptCall{deleteIfSubjectScript, []string{s.recordKey(id)}, []any{subject, now.UnixMilli()}}
	}
	n := 0
	var done []any
	var errs []error
	for i, cmd := range s.pipelineIndependent(ctx, calls) {
		res, err := cmd.Int64()
		switch {
		case err != nil:
			errs = append(errs, err)
		case res == deletedLive:
			n++
			done = append(done, ids[i])
		case res == deletedDead, res == staleMember:
			done = append(done, ids[i])
		}
	}
	if len(done) > 0 {
		if err := s.client.ZRem(ctx, s.subjectKey(subject), done...).Err(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		// Report the first: after a connection failure the others repeat it.
		return n, wrap("delete subject", errs[0])
	}
	return n, nil
}

// members returns the IDs in subject's set whose score (the absolute
// deadline) is after now, having removed the others, in one round trip.
func (s *Store) members(ctx context.Context, subject string, now time.Time) ([]string, error) {
	key := s.subjectKey(subject)
	nowMs := strconv.FormatInt(now.UnixMilli(), 10)
	var ids *redis.StringSliceCmd
	_, err := s.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.ZRemRangeByScore(ctx, key, "-inf", nowMs)
		ids = pipe.ZRangeArgs(ctx, redis.ZRangeArgs{Key: key, Start: "(" + nowMs, Stop: "+inf", ByScore: true})
		return nil
	})
	if err != nil {
		return nil, err
	}
	valid := ids.Val()[:0]
	for _, id := range ids.Val() {
		if validID(id) {
			valid = append(valid, id)
		}
	}
	return valid, nil
}

// pipelineIndependent runs calls in one pipeline with EVALSHA, and sends the
// calls whose script the server lacked again with EVAL. It repeats no call
// that ran.
func (s *Store) pipelineIndependent(ctx context.Context, calls []scriptCall) []*redis.Cmd {
	cmds := make([]*redis.Cmd, len(calls))
	pipe := s.client.Pipeline()
	for i, c := range calls {
		cmds[i] = c.script.EvalSha(ctx, pipe, c.keys, c.args...)
	}
	_, _ = pipe.Exec(ctx) // errors are in cmds
	var again []int
	for i, cmd := range cmds {
		if isNoScript(cmd.Err()) {
			again = append(again, i)
		}
	}
	if len(again) == 0 {
		return cmds
	}
	pipe = s.client.Pipeline()
	for _, i := range again {
		cmds[i] = calls[i].script.Eval(ctx, pipe, calls[i].keys, calls[i].args...)
	}
	_, _ = pipe.Exec(ctx)
	return cmds
}

// wrap prefixes err with the package and the operation; nil stays nil.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}
