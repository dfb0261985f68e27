// Package memcachedstore is a session store in memcached, through
// github.com/bradfitz/gomemcache. Each session is one item, Prefix + ID,
// whose value is the record encoded by session.EncodeRecord and whose
// expiration is the session's, so memcached reclaims expired sessions itself.
//
// Commit is a compare-and-swap: memcached's add for a new session, and its
// gets/cas pair for the others, so concurrent requests on the same session
// never lose an update.
//
// memcached cannot index by subject: the store does not implement
// session.SubjectIndex, so "your devices", "log out everywhere" and
// concurrent-session limits are unavailable with it (the manager reports
// session.ErrUnsupported). Nor can it list or count its items: there is no
// Iterator or Counter either. memcached may also evict a session before it
// expires when it runs out of memory, which logs the user out; size it so
// that it never evicts (watch the evictions statistic), or use redisstore.
package memcachedstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/sessionkit/session"
)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Prefix is put before each session ID to make its key, so that
	// sessions share a memcached with other data. Default "session:".
	Prefix string
	// Now is the clock that decides expiry, for tests. Default time.Now.
	// memcached expires items on its own clock too, never before Now says
	// the session ends.
	Now func() time.Time
}

// DefaultPrefix is the key prefix used when Options.Prefix is empty.
const DefaultPrefix = "session:"

// Store is a session store in memcached. It is safe for concurrent use. It
// has no Close: the client belongs to the caller.
//
// gomemcache takes no context: the deadline of each call is the client's
// Timeout (500 ms by default), and a context is only checked before a call.
type Store struct {
	client *memcache.Client
	prefix string
	now    func() time.Time
}

var (
	_ session.Store   = (*Store)(nil)
	_ session.Toucher = (*Store)(nil)
)

// retries bounds the internal retries of Commit and Touch, which only
// happen when a touch, an eviction or an expiry races with them.
const retries = 5

// updateRetries bounds the retries of a commit that lost to touches.
const updateRetries = 50

// New returns a Store that keeps sessions in the memcached servers of client.
func New(client *memcache.Client, opts Options) *Store {
	s := &Store{client: client, prefix: opts.Prefix, now: opts.Now}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

func (s *Store) key(id string) string { return s.prefix + id }

// get returns the item under id and its decoded record, or an error wrapping
// memcache.ErrCacheMiss. An item whose key is not legal is missing, since
// none could have been stored.
func (s *Store) get(ctx context.Context, id string) (*memcache.Item, *session.Record, error) {
	if s.client == nil {
		return nil, nil, errors.New("nil *memcache.Client")
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	it, err := s.client.Get(s.key(id))
	if errors.Is(err, memcache.ErrMalformedKey) {
		err = memcache.ErrCacheMiss
	}
	if err != nil {
		return nil, nil, err
	}
	rec, err := session.DecodeRecord(id, it.Value)
	if err != nil {
		return nil, nil, err
	}
	return it, rec, nil
}

func (s *Store) live(rec *session.Record) bool { return rec.Expires().After(s.now()) }

// Load implements session.Store: one get. An item that memcached still holds
// but whose session has expired by the store's clock is reported as
// session.ErrExpired; once memcached has dropped it, it is not found.
func (s *Store) Load(ctx context.Context, id string) (*session.Record, error) {
	_, rec, err := s.get(ctx, id)
	switch {
	case errors.Is(err, memcache.ErrCacheMiss):
		return nil, fmt.Errorf("memcachedstore: load: %w", session.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("memcachedstore: load: %w", err)
	case !s.live(rec):
		return nil, fmt.Errorf("memcachedstore: load: %w", session.ErrExpired)
	}
	return rec, nil
}

// Commit implements session.Store.
//
// An expected version of zero adds the item, which memcached refuses if the
// key exists; an item that is still in memcached but expired by the store's
// clock counts as absent and is replaced by a cas. Any other version gets the
// item, checks its version and expiry, and replaces it by a cas with the CAS
// ID of that get. If the item changed in between without changing version
// (a Touch), the commit tries again; any other change is a conflict.
func (s *Store) Commit(ctx context.Context, rec *session.Record, expected uint64) error {
	if s.client == nil {
		return errors.New("memcachedstore: commit: nil *memcache.Client")
	}
	item := &memcache.Item{
		Key:        s.key(rec.ID),
		Value:      session.EncodeRecord(nil, rec),
		Expiration: expiration(rec.Expires().Sub(s.now()), time.Now()),
	}
	var err error
	if expected == 0 {
		err = s.create(ctx, item)
	} else {
		err = s.update(ctx, rec.ID, item, expected)
	}
	if err != nil {
		return fmt.Errorf("memcachedstore: commit: %w", tooLarge(err))
	}
	return nil
}

var errConflict = session.ErrConflict

// tooLarge makes memcached's refusal of an item larger than its item size
// (-I, 1 MiB by default), which retrying cannot cure, an error wrapping
// session.ErrTooLarge. gomemcache has no error value for it: it reports the
// server's reply line as an unexpected response.
func tooLarge(err error) error {
	if err != nil && strings.Contains(err.Error(), "SERVER_ERROR object too large for cache") {
		return fmt.Errorf("%w (the server's item size limit): %w", session.ErrTooLarge, err)
	}
	return err
}

func (s *Store) create(ctx context.Context, item *memcache.Item) error {
	id := item.Key[len(s.prefix):]
	for range retries {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := s.client.Add(item)
		if !errors.Is(err, memcache.ErrNotStored) {
			return err // nil: added
		}
		old, rec, err := s.get(ctx, id)
		switch {
		case errors.Is(err, memcache.ErrCacheMiss):
			continue // expired or deleted since the add: add again
		case errors.Is(err, session.ErrCorrupt):
			return fmt.Errorf("%w: the key holds a record that cannot be decoded (%v)", errConflict, err)
		case err != nil:
			return err
		case s.live(rec):
			return errConflict
		}
		item.CasID = old.CasID
		err = s.client.CompareAndSwap(item)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, memcache.ErrNotStored), errors.Is(err, memcache.ErrCacheMiss):
			continue // gone since the get: add again
		case errors.Is(err, memcache.ErrCASConflict):
			return errConflict
		default:
			return err
		}
	}
	return errConflict
}

func (s *Store) update(ctx context.Context, id string, item *memcache.Item, expected uint64) error {
	// Only a touch (which keeps the version) makes this loop go round, and
	// the manager touches a session at most once per TouchInterval: a larger
	// budget than Touch's own costs nothing in practice and means a touch
	// never fails a commit.
	for range updateRetries {
		old, rec, err := s.get(ctx, id)
		switch {
		case errors.Is(err, memcache.ErrCacheMiss):
			return errConflict
		case err != nil:
			return err
		case rec.Version != expected || !s.live(rec):
			return errConflict
		}
		item.CasID = old.CasID
		err = s.client.CompareAndSwap(item)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, memcache.ErrCASConflict):
			continue // changed since the get; a touch leaves the version as it was
		case errors.Is(err, memcache.ErrNotStored), errors.Is(err, memcache.ErrCacheMiss):
			return errConflict // deleted or evicted since the get
		default:
			return err
		}
	}
	return errConflict
}

// Touch implements session.Toucher: it gets the item and replaces it by a
// cas with the new LastActive and IdleDeadline, keeping its version, so a
// writer that loaded the session before the touch still commits. Tombstones
// are not touched, and no time moves back: a request that read the clock
// before a newer touch or commit leaves the later times in place, and its
// touch then writes nothing.
func (s *Store) Touch(ctx context.Context, id string, lastActive, idleDeadline time.Time) error {
	for range retries {
		old, rec, err := s.get(ctx, id)
		switch {
		case errors.Is(err, memcache.ErrCacheMiss):
			return fmt.Errorf("memcachedstore: touch: %w", session.ErrNotFound)
		case err != nil:
			return fmt.Errorf("memcachedstore: touch: %w", err)
		case !s.live(rec) || rec.Tombstone():
			return fmt.Errorf("memcachedstore: touch: %w", session.ErrNotFound)
		}
		if !lastActive.After(rec.LastActive) && !idleDeadline.After(rec.IdleDeadline) {
			return nil // the record already has these times or later ones
		}
		if lastActive.After(rec.LastActive) {
			rec.LastActive = lastActive
		}
		if idleDeadline.After(rec.IdleDeadline) {
			rec.IdleDeadline = idleDeadline
		}
		old.Value = session.EncodeRecord(nil, rec)
		old.Expiration = expiration(rec.Expires().Sub(s.now()), time.Now())
		err = s.client.CompareAndSwap(old)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, memcache.ErrCASConflict):
			continue // committed or touched since the get: touch the new record
		case errors.Is(err, memcache.ErrNotStored), errors.Is(err, memcache.ErrCacheMiss):
			return fmt.Errorf("memcachedstore: touch: %w", session.ErrNotFound)
		default:
			return fmt.Errorf("memcachedstore: touch: %w", err)
		}
	}
	// Writers keep changing the record, and each of their commits extends
	// the idle deadline itself: report a conflict, which the manager ignores.
	return fmt.Errorf("memcachedstore: touch: %d concurrent changes: %w", retries, session.ErrConflict)
}

// Delete implements session.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	if s.client == nil {
		return errors.New("memcachedstore: delete: nil *memcache.Client")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memcachedstore: delete: %w", err)
	}
	err := s.client.Delete(s.key(id))
	if err != nil && !errors.Is(err, memcache.ErrCacheMiss) && !errors.Is(err, memcache.ErrMalformedKey) {
		return fmt.Errorf("memcachedstore: delete: %w", err)
	}
	return nil
}

// maxRelative is the longest expiration memcached takes as relative to
// now; larger values are absolute Unix times.
const maxRelative = 30 * 24 * time.Hour

// expiration converts the time a record has left to live into memcached's
// expiration, in whole seconds: relative up to 30 days, an absolute Unix time
// beyond, computed from wall, which stands for memcached's clock. It rounds up
// and adds a second, as memcached's clock ticks in whole seconds, so that
// memcached never drops a session before the store's clock expires it. An
// already expired record gets one second; zero, which means "never", is
// never returned.
func expiration(ttl time.Duration, wall time.Time) int32 {
	secs := int64(1)
	if ttl > 0 {
		secs = int64(ttl/time.Second) + 1
		if ttl%time.Second != 0 {
			secs++
		}
	}
	if secs <= int64(maxRelative/time.Second) {
		return int32(secs)
	}
	abs := wall.Unix() + secs
	if abs > math.MaxInt32 || abs < 0 {
		return math.MaxInt32 // memcached's exptime is 32 bits: January 2038
	}
	return int32(abs)
}
