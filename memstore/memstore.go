// Package memstore is an in-process session store: the fastest store, and the
// fake to use in tests. Sessions live as long as the process; use sqlitestore
// for sessions that survive a restart, or a shared store (redisstore, pgstore,
// mysqlstore, memcachedstore) for more than one app instance.
//
// Records are kept encoded (session.EncodeRecord), about 250 bytes for a small
// session, in 64 shards with their own locks. Expired records are removed by a
// background sweeper whose cost grows with the number of deadlines that came
// due, not with the number of sessions.
package memstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sessionkit/session"
)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// SweepInterval is how often expired sessions are removed in the
	// background. Default one minute; expired sessions never load in the
	// meantime.
	SweepInterval time.Duration
	// Now is the clock, for tests. Default time.Now.
	Now func() time.Time
}

// Store is an in-memory session store. It is safe for concurrent use. Call
// Close to stop its sweeper.
type Store struct {
	shards [numShards]shard
	now    func() time.Time

	// subjects indexes IDs by subject. It has its own lock, always taken
	// after a shard lock and never before one. A slice rather than a set:
	// most users have one or a few sessions, and a map per user would cost
	// several hundred bytes each; a user's keys are few enough to scan.
	mu       sync.Mutex
	subjects map[string][]key

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

var (
	_ session.Store        = (*Store)(nil)
	_ session.Toucher      = (*Store)(nil)
	_ session.SubjectIndex = (*Store)(nil)
	_ session.Iterator     = (*Store)(nil)
	_ session.Counter      = (*Store)(nil)
	_ session.Sweeper      = (*Store)(nil)
)

const numShards = 64

type key [32]byte

type shard struct {
	mu         sync.RWMutex
	entries    map[key]entry
	tombstones int // how many of entries are tombstones, which Count leaves out
	wheel      wheel
}

type entry struct {
	data      []byte // session.EncodeRecord output; never modified once stored
	subject   string // "" for anonymous sessions and tombstones
	expires   int64  // Unix ns
	wheelAt   int64  // the wheel slot holding this entry's one live reference
	tombstone bool   // the record is a tombstone (renewed or ended)
}

// New returns a Store and starts its sweeper: memstore.New() with the
// defaults, or memstore.New(memstore.Options{...}). It panics when given
// more than one Options, a programming error.
func New(options ...Options) *Store {
	if len(options) > 1 {
		panic("memstore: New takes at most one Options")
	}
	var opts Options
	if len(options) == 1 {
		opts = options[0]
	}
	s := &Store{now: opts.Now, subjects: map[string][]key{}, stop: make(chan struct{}), done: make(chan struct{})}
	if s.now == nil {
		s.now = time.Now
	}
	for i := range s.shards {
		s.shards[i].entries = map[key]entry{}
		s.shards[i].wheel.slots = map[int64][]key{}
	}
	interval := opts.SweepInterval
	if interval <= 0 {
		interval = time.Minute
	}
	go s.sweep(interval)
	return s
}

// Close stops the sweeper. The store still answers afterwards; it no longer
// removes expired sessions in the background. Close is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.stop); <-s.done })
	return nil
}

func (s *Store) sweep(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.DeleteExpired(context.Background(), s.now())
		}
	}
}

func (s *Store) shard(k *key) *shard { return &s.shards[k[0]%numShards] }

// Load implements session.Store.
func (s *Store) Load(ctx context.Context, id string) (*session.Record, error) {
	k, ok := parseID(id)
	if !ok {
		return nil, session.ErrNotFound
	}
	sh := s.shard(&k)
	sh.mu.RLock()
	e, ok := sh.entries[k]
	sh.mu.RUnlock()
	switch {
	case !ok:
		return nil, session.ErrNotFound
	case e.expires <= s.now().UnixNano():
		// Still here until the sweep: say that it expired, so that a
		// returning user does not count as someone guessing IDs.
		return nil, fmt.Errorf("memstore: load: %w", session.ErrExpired)
	}
	rec, err := session.DecodeRecord(id, e.data)
	if err != nil {
		return nil, fmt.Errorf("memstore: load: %w", err)
	}
	return rec, nil
}

// Commit implements session.Store.
func (s *Store) Commit(ctx context.Context, rec *session.Record, expected uint64) error {
	k, ok := parseID(rec.ID)
	if !ok {
		return fmt.Errorf("memstore: commit: malformed id %q", rec.ID)
	}
	data := session.EncodeRecord(nil, rec)
	expires := rec.Expires().UnixNano()
	now := s.now().UnixNano()
	sh := s.shard(&k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old, exists := sh.entries[k]
	if exists && old.expires <= now {
		exists = false // expired: as good as absent, and never matches
	}
	switch {
	case expected == 0 && exists:
		return fmt.Errorf("memstore: commit: %w", session.ErrConflict)
	case expected != 0 && (!exists || storedVersion(old.data) != expected):
		return fmt.Errorf("memstore: commit: %w", session.ErrConflict)
	}
	subject, tombstone := rec.Subject, rec.Tombstone()
	if tombstone {
		subject = "" // tombstones are not a user's session
	}
	e := entry{data: data, subject: subject, expires: expires, wheelAt: old.wheelAt, tombstone: tombstone}
	if !exists || slotOf(expires) < old.wheelAt {
		e.wheelAt = slotOf(expires)
		sh.wheel.add(e.wheelAt, k)
	}
	sh.tombstones += b2i(tombstone) - b2i(old.tombstone) // old is the zero entry when there was none
	sh.entries[k] = e
	if old.subject != subject {
		s.reindex(k, old.subject, subject)
	}
	return nil
}

// storedVersion reads the version from an encoded record without decoding
// the rest.
func storedVersion(data []byte) uint64 {
	v, _ := session.RecordVersion(data)
	return v
}

// Touch implements session.Toucher.
func (s *Store) Touch(ctx context.Context, id string, lastActive, idleDeadline time.Time) error {
	k, ok := parseID(id)
	if !ok {
		return session.ErrNotFound
	}
	sh := s.shard(&k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.entries[k]
	if !ok || e.expires <= s.now().UnixNano() || e.tombstone {
		return fmt.Errorf("memstore: touch: %w", session.ErrNotFound)
	}
	rec, err := session.DecodeRecord(id, e.data)
	if err != nil {
		return fmt.Errorf("memstore: touch: %w", err)
	}
	// A request that read the clock early may touch after a newer write:
	// never move either time back, and never past the absolute deadline.
	if lastActive.After(rec.LastActive) {
		rec.LastActive = lastActive
	}
	if idle := minTime(idleDeadline, rec.AbsoluteDeadline); idle.After(rec.IdleDeadline) {
		rec.IdleDeadline = idle
	}
	e.data = session.EncodeRecord(nil, rec)
	e.expires = rec.Expires().UnixNano()
	if slotOf(e.expires) < e.wheelAt {
		e.wheelAt = slotOf(e.expires)
		sh.wheel.add(e.wheelAt, k)
	}
	sh.entries[k] = e
	return nil
}

// Delete implements session.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	k, ok := parseID(id)
	if !ok {
		return nil
	}
	sh := s.shard(&k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s.deleteLocked(sh, k)
	return nil
}

func (s *Store) deleteLocked(sh *shard, k key) bool {
	e, ok := sh.entries[k]
	if !ok {
		return false
	}
	delete(sh.entries, k)
	sh.tombstones -= b2i(e.tombstone)
	if e.subject != "" {
		s.reindex(k, e.subject, "")
	}
	return true
}

func (s *Store) reindex(k key, from, to string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if from != "" {
		keys := s.subjects[from]
		if i := slices.Index(keys, k); i >= 0 {
			last := len(keys) - 1
			keys[i] = keys[last]
			keys = keys[:last]
		}
		if len(keys) == 0 {
			delete(s.subjects, from)
		} else {
			s.subjects[from] = keys
		}
	}
	if to != "" {
		if keys := s.subjects[to]; !slices.Contains(keys, k) {
			s.subjects[to] = append(keys, k)
		}
	}
}

// subjectKeys returns a copy of subject's keys.
func (s *Store) subjectKeys(subject string) []key {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.subjects[subject])
}

// ListSubject implements session.SubjectIndex.
func (s *Store) ListSubject(ctx context.Context, subject string) ([]*session.Record, error) {
	keys := s.subjectKeys(subject)
	var recs []*session.Record
	for _, k := range keys {
		rec, err := s.Load(ctx, formatID(k))
		if err != nil || rec.Subject != subject || rec.Tombstone() {
			continue // changed or expired since the index was read
		}
		recs = append(recs, rec)
	}
	sortByCreated(recs)
	return recs, nil
}

func sortByCreated(recs []*session.Record) {
	slices.SortFunc(recs, func(a, b *session.Record) int { return a.Created.Compare(b.Created) })
}

// DeleteSubject implements session.SubjectIndex.
func (s *Store) DeleteSubject(ctx context.Context, subject string) (int, error) {
	keys := s.subjectKeys(subject)
	n := 0
	now := s.now().UnixNano()
	for _, k := range keys {
		sh := s.shard(&k)
		sh.mu.Lock()
		if e, ok := sh.entries[k]; ok && e.subject == subject {
			live := e.expires > now
			s.deleteLocked(sh, k)
			if live {
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n, nil
}

// Range implements session.Iterator. Each shard is copied before fn runs, so
// fn may call the store. fn sees tombstones too (RenewedTo or Ended set).
func (s *Store) Range(ctx context.Context, fn func(*session.Record) bool) error {
	type item struct {
		k    key
		data []byte
	}
	for i := range s.shards {
		if err := ctx.Err(); err != nil {
			return err
		}
		sh := &s.shards[i]
		now := s.now().UnixNano()
		sh.mu.RLock()
		items := make([]item, 0, len(sh.entries))
		for k, e := range sh.entries {
			if e.expires > now {
				items = append(items, item{k, e.data})
			}
		}
		sh.mu.RUnlock()
		for _, it := range items {
			rec, err := session.DecodeRecord(formatID(it.k), it.data)
			if err != nil {
				continue
			}
			if !fn(rec) {
				return nil
			}
		}
	}
	return nil
}

// Count implements session.Counter. It counts stored sessions, including
// expired ones the sweeper has not removed yet, but no tombstones.
func (s *Store) Count(ctx context.Context) (int, error) {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		n += len(sh.entries) - sh.tombstones
		sh.mu.RUnlock()
	}
	return n, nil
}

// DeleteExpired implements session.Sweeper. Its cost is proportional to the
// deadlines that came due since the last sweep, not to the number of sessions.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	n := 0
	nowNS := now.UnixNano()
	due := slotOf(nowNS)
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for {
			slot, keys, ok := sh.wheel.popDue(due)
			if !ok {
				break
			}
			for _, k := range keys {
				e, ok := sh.entries[k]
				if !ok || e.wheelAt != slot {
					continue // deleted, or referenced from an earlier slot
				}
				if e.expires <= nowNS {
					s.deleteLocked(sh, k)
					n++
					continue
				}
				// Extended since it was filed: file it again at its deadline.
				e.wheelAt = slotOf(e.expires)
				sh.entries[k] = e
				sh.wheel.add(e.wheelAt, k)
			}
		}
		sh.mu.Unlock()
	}
	return n, nil
}

// wheel files keys by the second their deadline falls in; a min-heap of the
// filled seconds finds the due ones without looking at the others.
type wheel struct {
	slots map[int64][]key
	order slotHeap
}

// slotOf returns the slot of a deadline: the first whole second at or after it,
// so a key is never found due before its deadline.
func slotOf(ns int64) int64 { return (ns + int64(time.Second) - 1) / int64(time.Second) }

func (w *wheel) add(slot int64, k key) {
	keys, ok := w.slots[slot]
	if !ok {
		w.order.push(slot)
	}
	w.slots[slot] = append(keys, k)
}

func (w *wheel) popDue(due int64) (int64, []key, bool) {
	if len(w.order) == 0 || w.order[0] > due {
		return 0, nil, false
	}
	slot := w.order.pop()
	keys := w.slots[slot]
	delete(w.slots, slot)
	return slot, keys, true
}

// slotHeap is a binary min-heap of slots. container/heap would box each
// int64 into an interface: one allocation per slot swept.
type slotHeap []int64

func (h *slotHeap) push(x int64) {
	*h = append(*h, x)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if a[p] <= a[i] {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *slotHeap) pop() int64 {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	for i := 0; ; {
		l, small := 2*i+1, i
		if l < n && a[l] < a[small] {
			small = l
		}
		if r := l + 1; r < n && a[r] < a[small] {
			small = r
		}
		if small == i {
			break
		}
		a[i], a[small] = a[small], a[i]
		i = small
	}
	*h = a
	return top
}

// parseID decodes a 64-character lowercase hex ID without allocating.
func parseID(id string) (k key, ok bool) {
	if len(id) != 64 {
		return k, false
	}
	for i := range k {
		hi, ok1 := unhex(id[2*i])
		lo, ok2 := unhex(id[2*i+1])
		if !ok1 || !ok2 {
			return k, false
		}
		k[i] = hi<<4 | lo
	}
	return k, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

func formatID(k key) string {
	const digits = "0123456789abcdef"
	var b [64]byte
	for i, c := range k {
		b[2*i], b[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(b[:])
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
