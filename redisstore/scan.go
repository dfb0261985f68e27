package redisstore

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/session"
)

// scanCount is the COUNT hint of each SCAN, and so the size of the batches
// of records Range reads in one pipeline.
const scanCount = 256

var errStop = errors.New("stop")

// Range implements session.Iterator. It scans the keyspace (SCAN ... TYPE
// hash, on every master of a cluster) and reads the records it finds in
// batches, so its cost grows with the whole database: it is meant for admin
// tools, not request paths. fn sees every live record, tombstones included
// (RenewedTo or Ended set); as with SCAN, a record may rarely be
// seen twice, and one written during the walk may be missed. fn is never
// called concurrently, and may call the store.
func (s *Store) Range(ctx context.Context, fn func(*session.Record) bool) error {
	if s.client == nil {
		return wrap("range", errNoClient)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex // one node at a time, so fn is never called concurrently
	stopped := false
	err := s.forEachNode(ctx, func(ctx context.Context, node redis.Cmdable) error {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return errStop
		}
		return s.scan(ctx, node, func(ids []string) error {
			cmds := make([]*redis.SliceCmd, len(ids))
			_, err := s.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
				for i, id := range ids {
					cmds[i] = pipe.HMGet(ctx, s.recordKey(id), fieldData, fieldLastActive, fieldIdle)
				}
				return nil
			})
			if err != nil {
				return err
			}
			now := s.now()
			for i, cmd := range cmds {
				rec, err := decode(ids[i], cmd.Val(), now)
				if err != nil {
					continue // expired or deleted since the scan, or corrupt
				}
				if !fn(rec) {
					stopped = true
					cancel()
					return errStop
				}
			}
			return nil
		})
	})
	if err != nil && !errors.Is(err, errStop) {
		return wrap("range", err)
	}
	return nil
}

// Count implements session.Counter: the number of live sessions under the
// prefix, tombstones left out, found with SCAN on every master (so, rarely, a
// session counts twice) and an HMGET of two small fields per record. Its
// cost grows with the whole database: export it as a metric only if the
// database is small or the scrape interval long.
func (s *Store) Count(ctx context.Context) (int, error) {
	if s.client == nil {
		return 0, wrap("count", errNoClient)
	}
	var n atomic.Int64
	err := s.forEachNode(ctx, func(ctx context.Context, node redis.Cmdable) error {
		return s.scan(ctx, node, func(ids []string) error {
			cmds := make([]*redis.SliceCmd, len(ids))
			_, err := s.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
				for i, id := range ids {
					cmds[i] = pipe.HMGet(ctx, s.recordKey(id), "t", "exp")
				}
				return nil
			})
			if err != nil {
				return err
			}
			nowMs := s.now().UnixMilli()
			for _, cmd := range cmds {
				if liveSession(cmd.Val(), nowMs) {
					n.Add(1)
				}
			}
			return nil
		})
	})
	if err != nil {
		return 0, wrap("count", err)
	}
	return int(n.Load()), nil
}

// liveSession reports whether the reply of HMGET t exp is a session, not a
// tombstone, that is live at nowMs.
func liveSession(vals []any, nowMs int64) bool {
	if len(vals) != 2 || vals[0] != "0" {
		return false // deleted since the scan, or a tombstone
	}
	str, _ := vals[1].(string)
	exp, err := strconv.ParseInt(str, 10, 64)
	return err == nil && exp > nowMs
}

// forEachNode calls fn with each server holding part of the keyspace: every
// master of a cluster, every shard of a ring, or the one server. fn may run
// concurrently for different nodes.
func (s *Store) forEachNode(ctx context.Context, fn func(ctx context.Context, node redis.Cmdable) error) error {
	each := func(ctx context.Context, c *redis.Client) error { return fn(ctx, c) }
	switch c := s.client.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, each)
	case *redis.Ring:
		return c.ForEachShard(ctx, each)
	default:
		return fn(ctx, s.client)
	}
}

// scan calls fn with the IDs of the records on node, in batches.
func (s *Store) scan(ctx context.Context, node redis.Cmdable, fn func(ids []string) error) error {
	match := escapeGlob(s.prefix) + "*"
	var cursor uint64
	for {
		keys, next, err := node.ScanType(ctx, cursor, match, scanCount, "hash").Result()
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(keys))
		for _, k := range keys {
			if id, ok := strings.CutPrefix(k, s.prefix); ok && validID(id) {
				ids = append(ids, id)
			}
		}
		if len(ids) > 0 {
			if err := fn(ids); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// escapeGlob quotes the characters that SCAN's MATCH pattern treats
// specially.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch c {
		case '*', '?', '[', ']', '\\', '^', '-':
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}
