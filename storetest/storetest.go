package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

// NewStore opens a fresh, empty store for one test: Run calls it once per
// case, in that case's subtest. The store must read the time from
// now (for expiry) instead of the wall clock; the suite moves now forward to
// test expiry without sleeping. Clean-up (closing the store, dropping its
// table or key prefix) belongs in t.Cleanup.
type NewStore func(t *testing.T, now func() time.Time) session.Store

// Clock is a manual clock, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock set to the wall clock's current millisecond, so
// that stores whose server expires keys on its own clock agree with it.
func NewClock() *Clock { return &Clock{now: time.Now().Truncate(time.Millisecond)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// Options says what a store can do beyond what every store must, so that
// the suite checks it too. The zero value asks only for the contract's
// minimum.
type Options struct {
	// ReportsExpired declares that Load of a record that is still stored but
	// whose deadline has passed by the store's clock returns an error
	// wrapping session.ErrExpired, not just session.ErrNotFound. Stores that
	// keep expired records until a sweep (memory, SQL) can tell, and so can
	// stores whose server removes keys on its own clock (Redis, memcached)
	// while the key is still there, which is the case whenever the suite
	// moves its clock.
	ReportsExpired bool
}

// Run runs the whole suite, each case in a subtest with a fresh store,
// with the zero Options.
func Run(t *testing.T, newStore NewStore) { RunOptions(t, newStore, Options{}) }

// RunOptions runs the whole suite, each case in a subtest with a fresh store,
// checking the capabilities that opts declares.
func RunOptions(t *testing.T, newStore NewStore, opts Options) {
	cases := []struct {
		name string
		run  func(t *testing.T, h *harness)
	}{
		{"RoundTrip", testRoundTrip},
		{"LoadMissing", testLoadMissing},
		{"CreateOnlyIfAbsent", testCreateOnlyIfAbsent},
		{"CreateRace", testCreateRace},
		{"CompareAndSwap", testCompareAndSwap},
		{"CommitToAbsentNeverCreates", testCommitToAbsent},
		{"NoResurrectionAfterDelete", testNoResurrection},
		{"Values", testValues},
		{"Tombstone", testTombstone},
		{"Expiry", testExpiry},
		{"Touch", testTouch},
		{"TouchMonotonic", testTouchMonotonic},
		{"EndedTombstone", testEndedTombstone},
		{"ExpiredReported", testExpiredReported},
		{"SubjectIndex", testSubjectIndex},
		{"IterateAndCount", testIterateAndCount},
		{"ParallelWriters", testParallelWriters},
		{"Close", testClose},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := NewClock()
			h := &harness{t: t, clock: clock, store: newStore(t, clock.Now), ctx: context.Background(), opts: opts}
			c.run(t, h)
		})
	}
}

type harness struct {
	t     *testing.T
	clock *Clock
	store session.Store
	ctx   context.Context
	opts  Options
}

// NewID returns a random ID of the form the manager gives records (64
// lowercase hex digits), for a store's own tests beside the suite. It is
// safe for concurrent use.
func NewID() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// record returns a fresh version-1 record that lives for an hour.
func (h *harness) record() *session.Record {
	now := h.clock.Now()
	return &session.Record{
		ID:               NewID(),
		Version:          1,
		Created:          now,
		LastActive:       now,
		IdleDeadline:     now.Add(time.Hour),
		AbsoluteDeadline: now.Add(24 * time.Hour),
		ClientAddr:       "192.0.2.1",
		UserAgent:        "storetest/1.0",
		Values:           []session.Value{{Key: "a", Data: []byte(`"x"`)}},
	}
}

func (h *harness) commit(rec *session.Record, expected uint64) {
	h.t.Helper()
	if err := h.store.Commit(h.ctx, rec, expected); err != nil {
		h.t.Fatalf("Commit(version %d, expected %d): %v", rec.Version, expected, err)
	}
}

func (h *harness) load(id string) *session.Record {
	h.t.Helper()
	rec, err := h.store.Load(h.ctx, id)
	if err != nil {
		h.t.Fatalf("Load: %v", err)
	}
	return rec
}

func (h *harness) wantNotFound(id, why string) {
	h.t.Helper()
	rec, err := h.store.Load(h.ctx, id)
	if !errors.Is(err, session.ErrNotFound) {
		h.t.Fatalf("%s: Load = %+v, %v; want ErrNotFound", why, rec, err)
	}
}

// next returns a copy of rec as the following version, as the manager makes it.
func next(rec *session.Record) *session.Record {
	c := *rec
	c.Version++
	c.Values = append([]session.Value(nil), rec.Values...)
	return &c
}

func sameRecord(t *testing.T, got, want *session.Record) {
	t.Helper()
	// Stores may keep times with less precision than a nanosecond; a
	// millisecond is the coarsest the library accepts.
	norm := func(r *session.Record) session.Record {
		c := *r
		for _, p := range []*time.Time{&c.Created, &c.LastActive, &c.AuthTime, &c.IdleDeadline, &c.AbsoluteDeadline} {
			if !p.IsZero() {
				*p = p.Truncate(time.Millisecond).UTC()
			}
		}
		if len(c.Values) == 0 {
			c.Values = nil
		}
		c.Values = append([]session.Value(nil), c.Values...)
		for i := range c.Values {
			if len(c.Values[i].Data) == 0 {
				c.Values[i].Data = nil
			}
		}
		return c
	}
	g, w := norm(got), norm(want)
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("record mismatch\n got: %+v\nwant: %+v", g, w)
	}
}

func testRoundTrip(t *testing.T, h *harness) {
	rec := h.record()
	rec.Subject = "user-" + NewID()[:8]
	rec.AuthTime = h.clock.Now()
	rec.Persistent = true
	h.commit(rec, 0)
	sameRecord(t, h.load(rec.ID), rec)
}

func testLoadMissing(t *testing.T, h *harness) {
	h.wantNotFound(NewID(), "never stored")
}

func testCreateOnlyIfAbsent(t *testing.T, h *harness) {
	rec := h.record()
	h.commit(rec, 0)
	other := h.record()
	other.ID = rec.ID
	other.Values = []session.Value{{Key: "a", Data: []byte(`"overwritten"`)}}
	if err := h.store.Commit(h.ctx, other, 0); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("second create of the same ID = %v; want ErrConflict", err)
	}
	sameRecord(t, h.load(rec.ID), rec)
}

// testCreateRace creates one ID from several goroutines at once, over no
// record and over an expired one (which counts as absent): exactly one
// create wins, the others get ErrConflict, the winner is stored, and the
// expired record's owner no longer lists it.
func testCreateRace(t *testing.T, h *harness) {
	for _, overExpired := range []bool{false, true} {
		t.Run(fmt.Sprintf("overExpired=%v", overExpired), func(t *testing.T) {
			id := NewID()
			owner := "old-owner-" + id[:8]
			if overExpired {
				old := h.record()
				old.ID, old.Subject, old.IdleDeadline = id, owner, h.clock.Now().Add(time.Minute)
				h.commit(old, 0)
				h.clock.Advance(2 * time.Minute)
			}
			const racers = 8
			var wg sync.WaitGroup
			errs := make([]error, racers)
			recs := make([]*session.Record, racers)
			for i := range racers {
				rec := h.record()
				rec.ID, rec.Subject = id, fmt.Sprintf("racer-%d-%s", i, id[:8])
				recs[i] = rec
				wg.Go(func() { errs[i] = h.store.Commit(h.ctx, rec, 0) })
			}
			wg.Wait()
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil && winner >= 0:
					t.Fatalf("racers %d and %d both created the session", winner, i)
				case err == nil:
					winner = i
				case !errors.Is(err, session.ErrConflict):
					t.Fatalf("racer %d: %v; want nil or ErrConflict", i, err)
				}
			}
			if winner < 0 {
				t.Fatal("no racer created the session")
			}
			if got := h.load(id); got.Subject != recs[winner].Subject {
				t.Fatalf("Load has subject %q; want the winner's %q", got.Subject, recs[winner].Subject)
			}
			if idx, ok := h.store.(session.SubjectIndex); ok {
				if list, err := idx.ListSubject(h.ctx, owner); err != nil || len(list) != 0 {
					t.Fatalf("the expired record's owner still lists %d sessions, %v", len(list), err)
				}
			}
		})
	}
}

func testCompareAndSwap(t *testing.T, h *harness) {
	v1 := h.record()
	h.commit(v1, 0)
	v2 := next(v1)
	v2.Values = append(v2.Values, session.Value{Key: "b", Data: []byte(`1`)})
	h.commit(v2, 1)
	stale := next(v1) // a writer that still holds version 1
	stale.Values = []session.Value{{Key: "a", Data: []byte(`"stale"`)}}
	if err := h.store.Commit(h.ctx, stale, 1); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("commit with stale version = %v; want ErrConflict", err)
	}
	sameRecord(t, h.load(v1.ID), v2)
	v3 := next(v2)
	h.commit(v3, 2)
	if got := h.load(v1.ID).Version; got != 3 {
		t.Fatalf("version after two updates = %d; want 3", got)
	}
}

func testCommitToAbsent(t *testing.T, h *harness) {
	rec := h.record()
	rec.Version = 6
	if err := h.store.Commit(h.ctx, rec, 5); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("update of a record that never existed = %v; want ErrConflict", err)
	}
	h.wantNotFound(rec.ID, "after a refused update")
}

func testNoResurrection(t *testing.T, h *harness) {
	rec := h.record()
	h.commit(rec, 0)
	if err := h.store.Delete(h.ctx, rec.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	h.wantNotFound(rec.ID, "after Delete")
	// A slower request that loaded version 1 before the logout commits now.
	late := next(rec)
	if err := h.store.Commit(h.ctx, late, 1); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("commit after delete = %v; want ErrConflict", err)
	}
	h.wantNotFound(rec.ID, "after a late commit")
	if err := h.store.Delete(h.ctx, rec.ID); err != nil {
		t.Fatalf("second Delete = %v; want nil", err)
	}
}

func testValues(t *testing.T, h *harness) {
	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = 'a' + byte(i%26)
	}
	for _, tc := range []struct {
		name   string
		values []session.Value
	}{
		{"none", nil},
		{"many", func() (vs []session.Value) {
			for i := range 20 {
				vs = append(vs, session.Value{Key: fmt.Sprintf("k%02d", i), Data: []byte(strconv.Itoa(i))})
			}
			return vs
		}()},
		{"unicode and binary", []session.Value{{Key: "\x00nul"}, {Key: "ключ", Data: []byte("\x00\xff\"")}}},
		{"64 KiB", []session.Value{{Key: "big", Data: append([]byte(`"`), append(big, '"')...)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := h.record()
			rec.Values = tc.values
			h.commit(rec, 0)
			sameRecord(t, h.load(rec.ID), rec)
		})
	}
}

func testTombstone(t *testing.T, h *harness) {
	rec := h.record()
	rec.Subject = "user-" + NewID()[:8]
	h.commit(rec, 0)
	tomb := &session.Record{
		ID: rec.ID, Version: 2, Created: rec.Created, LastActive: h.clock.Now(),
		IdleDeadline: h.clock.Now().Add(time.Minute), AbsoluteDeadline: rec.AbsoluteDeadline,
		RenewedTo: NewID(),
	}
	h.commit(tomb, 1)
	sameRecord(t, h.load(rec.ID), tomb)
	if idx, ok := h.store.(session.SubjectIndex); ok {
		list, err := idx.ListSubject(h.ctx, rec.Subject)
		if err != nil || len(list) != 0 {
			t.Fatalf("ListSubject after the session became a tombstone = %d records, %v; want none", len(list), err)
		}
	}
}

func testExpiry(t *testing.T, h *harness) {
	short := h.record()
	short.IdleDeadline = h.clock.Now().Add(10 * time.Minute)
	long := h.record()
	h.commit(short, 0)
	h.commit(long, 0)
	// The absolute deadline counts too, even when the idle one is later.
	abs := h.record()
	abs.AbsoluteDeadline = h.clock.Now().Add(10 * time.Minute)
	h.commit(abs, 0)

	h.clock.Advance(10*time.Minute + time.Second)
	h.wantNotFound(short.ID, "past its idle deadline")
	h.wantNotFound(abs.ID, "past its absolute deadline")
	h.load(long.ID)

	// An expired record never matches a version either.
	late := next(short)
	late.IdleDeadline = h.clock.Now().Add(time.Hour)
	if err := h.store.Commit(h.ctx, late, 1); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("commit to an expired record = %v; want ErrConflict", err)
	}
	h.wantNotFound(short.ID, "after a commit to the expired record")

	if sw, ok := h.store.(session.Sweeper); ok {
		n, err := sw.DeleteExpired(h.ctx, h.clock.Now())
		if err != nil {
			t.Fatalf("DeleteExpired: %v", err)
		}
		if n < 2 {
			t.Fatalf("DeleteExpired = %d; want at least the 2 expired records", n)
		}
		h.load(long.ID)
	}
}

func testTouch(t *testing.T, h *harness) {
	to, ok := h.store.(session.Toucher)
	if !ok {
		t.Skip("store has no Touch; the manager commits instead")
	}
	rec := h.record()
	h.commit(rec, 0)
	h.clock.Advance(50 * time.Minute)
	now := h.clock.Now()
	if err := to.Touch(h.ctx, rec.ID, now, now.Add(time.Hour)); err != nil {
		t.Fatalf("Touch: %v", err)
	}
	h.clock.Advance(30 * time.Minute) // past the original idle deadline
	got := h.load(rec.ID)
	want := *rec
	want.LastActive, want.IdleDeadline = now, now.Add(time.Hour)
	sameRecord(t, got, &want)

	missing := NewID()
	if err := to.Touch(h.ctx, missing, now, now.Add(time.Hour)); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Touch of an absent record = %v; want ErrNotFound", err)
	}
	h.wantNotFound(missing, "after Touch of an absent record")

	if err := h.store.Delete(h.ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	if err := to.Touch(h.ctx, rec.ID, now, now.Add(time.Hour)); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Touch after Delete = %v; want ErrNotFound", err)
	}
	h.wantNotFound(rec.ID, "after Touch of a deleted record")
}

// testTouchMonotonic: a request that loaded the session early and touches it
// late carries an old clock reading. Its touch must not undo a newer touch or
// commit: each of LastActive and IdleDeadline becomes the later of the stored
// and the given time, and the store keeps expiring on the later deadline.
func testTouchMonotonic(t *testing.T, h *harness) {
	to, ok := h.store.(session.Toucher)
	if !ok {
		t.Skip("store has no Touch; the manager commits instead")
	}
	touch := func(id string, lastActive, idleDeadline time.Time) {
		t.Helper()
		if err := to.Touch(h.ctx, id, lastActive, idleDeadline); err != nil {
			t.Fatalf("Touch(%v, %v): %v", lastActive, idleDeadline, err)
		}
	}
	rec := h.record()
	h.commit(rec, 0)
	early := h.clock.Now() // what the slow request read when it started

	// A newer touch, then the slow request's stale one.
	h.clock.Advance(20 * time.Minute)
	late := h.clock.Now()
	touch(rec.ID, late, late.Add(time.Hour))
	touch(rec.ID, early.Add(time.Minute), early.Add(time.Minute+time.Hour))
	want := *rec
	want.LastActive, want.IdleDeadline = late, late.Add(time.Hour)
	sameRecord(t, h.load(rec.ID), &want)

	// The store still expires on the later deadline: past the stale one,
	// the session lives on.
	h.clock.Advance(time.Hour - 10*time.Minute) // early+1h10m: past the stale deadline, before the newer one
	sameRecord(t, h.load(rec.ID), &want)

	// Each time is kept on its own: a touch with a newer LastActive but an
	// older IdleDeadline moves only LastActive.
	now := h.clock.Now()
	touch(rec.ID, now, late.Add(30*time.Minute))
	want.LastActive = now
	sameRecord(t, h.load(rec.ID), &want)

	// A commit that extends the deadline is not undone by a stale touch either.
	v2 := next(h.load(rec.ID))
	h.clock.Advance(time.Minute)
	now = h.clock.Now()
	v2.LastActive, v2.IdleDeadline = now, now.Add(time.Hour)
	h.commit(v2, 1)
	touch(rec.ID, early.Add(2*time.Minute), early.Add(2*time.Minute+time.Hour))
	sameRecord(t, h.load(rec.ID), v2)

	// And no touch passes the absolute deadline.
	short := h.record()
	short.AbsoluteDeadline = h.clock.Now().Add(30 * time.Minute)
	h.commit(short, 0)
	now = h.clock.Now()
	touch(short.ID, now, now.Add(2*time.Hour))
	h.clock.Advance(31 * time.Minute)
	h.wantNotFound(short.ID, "touched beyond its absolute deadline, then past that deadline")
}

// testEndedTombstone: a logout or revoke turns the live record into an ended
// tombstone by compare-and-swap, so that a concurrent renewal cannot slip
// past it. Like a renewal tombstone, it still loads (a slower request must
// learn that the session ended), but it is nobody's session any more: not
// listed or deleted by subject, not counted, not touched, and a writer that
// still holds the version before the logout cannot commit over it.
func testEndedTombstone(t *testing.T, h *harness) {
	subject := "user-" + NewID()[:8]
	var count func() int
	if ct, ok := h.store.(session.Counter); ok {
		count = func() int {
			t.Helper()
			n, err := ct.Count(h.ctx)
			if err != nil {
				t.Fatalf("Count: %v", err)
			}
			return n
		}
	}
	ended, renewed := h.record(), h.record()
	for _, rec := range []*session.Record{ended, renewed} {
		rec.Subject = subject
		rec.AuthTime = h.clock.Now()
		h.commit(rec, 0)
	}
	h.clock.Advance(time.Minute)
	now := h.clock.Now()
	before := 0
	if count != nil {
		before = count() // with the clock as it stays, so that no other record expires in between
	}
	// What the manager writes: the subject kept, the values gone, a short
	// grace to live.
	tombstone := func(rec *session.Record) *session.Record {
		return &session.Record{
			ID: rec.ID, Version: rec.Version + 1, Subject: rec.Subject, Created: rec.Created, LastActive: now,
			IdleDeadline: now.Add(time.Minute), AbsoluteDeadline: now.Add(time.Minute),
		}
	}
	endTomb := tombstone(ended)
	endTomb.Ended = true
	renewTomb := tombstone(renewed)
	renewTomb.RenewedTo = NewID()
	h.commit(endTomb, 1)
	h.commit(renewTomb, 1)

	got := h.load(ended.ID)
	if !got.Ended || !got.Tombstone() {
		t.Fatalf("Load of an ended tombstone = %+v; want Ended set", got)
	}
	sameRecord(t, got, endTomb)

	if idx, ok := h.store.(session.SubjectIndex); ok {
		list, err := idx.ListSubject(h.ctx, subject)
		if err != nil || len(list) != 0 {
			t.Fatalf("ListSubject after both sessions became tombstones = %d records, %v; want none", len(list), err)
		}
		n, err := idx.DeleteSubject(h.ctx, subject)
		if err != nil || n != 0 {
			t.Fatalf("DeleteSubject of a subject with only tombstones = %d, %v; want 0, nil", n, err)
		}
		sameRecord(t, h.load(ended.ID), endTomb)
	}
	if count != nil {
		if after := count(); after != before-2 {
			t.Fatalf("Count = %d after two of %d sessions became tombstones (one ended, one renewed); want %d",
				after, before, before-2)
		}
	}
	if it, ok := h.store.(session.Iterator); ok {
		// Whatever a store's Range does with tombstones, it does with both kinds.
		seen := map[string]bool{}
		err := it.Range(h.ctx, func(r *session.Record) bool {
			seen[r.ID] = true
			return true
		})
		if err != nil {
			t.Fatalf("Range: %v", err)
		}
		if seen[ended.ID] != seen[renewed.ID] {
			t.Fatalf("Range visited the ended tombstone: %v, the renewal tombstone: %v; want the same for both",
				seen[ended.ID], seen[renewed.ID])
		}
	}
	if to, ok := h.store.(session.Toucher); ok {
		if err := to.Touch(h.ctx, ended.ID, now, now.Add(time.Hour)); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("Touch of an ended tombstone = %v; want ErrNotFound", err)
		}
		sameRecord(t, h.load(ended.ID), endTomb)
	}

	// A request that loaded the session before the logout commits late.
	late := next(ended)
	late.Values = append(late.Values, session.Value{Key: "b", Data: []byte(`"after logout"`)})
	if err := h.store.Commit(h.ctx, late, 1); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("commit expecting the version before the logout = %v; want ErrConflict", err)
	}
	again := h.record()
	again.ID = ended.ID
	if err := h.store.Commit(h.ctx, again, 0); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("create over an ended tombstone = %v; want ErrConflict", err)
	}
	sameRecord(t, h.load(ended.ID), endTomb)
}

// testExpiredReported: a record past its deadline is not found; a store that
// can still tell (Options.ReportsExpired) says it expired, so that the
// manager reports expiry rather than an unknown ID. An ID that holds nothing,
// never did, or was deleted is never reported as expired.
func testExpiredReported(t *testing.T, h *harness) {
	idle := h.record()
	idle.IdleDeadline = h.clock.Now().Add(10 * time.Minute)
	abs := h.record()
	abs.AbsoluteDeadline = h.clock.Now().Add(10 * time.Minute)
	deleted := h.record()
	for _, rec := range []*session.Record{idle, abs, deleted} {
		h.commit(rec, 0)
	}
	if err := h.store.Delete(h.ctx, deleted.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	h.clock.Advance(10*time.Minute + time.Second)

	for _, tc := range []struct {
		name string
		id   string
	}{
		{"past its idle deadline", idle.ID},
		{"past its absolute deadline", abs.ID},
	} {
		rec, err := h.store.Load(h.ctx, tc.id)
		if !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("Load of a record %s = %+v, %v; want ErrNotFound", tc.name, rec, err)
		}
		if h.opts.ReportsExpired && !errors.Is(err, session.ErrExpired) {
			t.Fatalf("Load of a record %s = %v; want ErrExpired (the store declares ReportsExpired)", tc.name, err)
		}
	}
	for _, tc := range []struct {
		name string
		id   string
	}{
		{"never stored", NewID()},
		{"deleted", deleted.ID},
	} {
		_, err := h.store.Load(h.ctx, tc.id)
		if !errors.Is(err, session.ErrNotFound) || errors.Is(err, session.ErrExpired) {
			t.Fatalf("Load of a record %s = %v; want ErrNotFound, not ErrExpired", tc.name, err)
		}
	}

	// Telling expiry apart changes nothing else: the expired record is
	// never touched, and a new session may take its ID.
	if to, ok := h.store.(session.Toucher); ok {
		now := h.clock.Now()
		if err := to.Touch(h.ctx, idle.ID, now, now.Add(time.Hour)); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("Touch of an expired record = %v; want ErrNotFound", err)
		}
		h.wantNotFound(idle.ID, "after Touch of the expired record")
	}
	fresh := h.record()
	fresh.ID = idle.ID
	h.commit(fresh, 0)
	sameRecord(t, h.load(idle.ID), fresh)
}

func testSubjectIndex(t *testing.T, h *harness) {
	idx, ok := h.store.(session.SubjectIndex)
	if !ok {
		t.Skip("store has no subject index")
	}
	alice, bob := "alice-"+NewID()[:8], "bob-"+NewID()[:8]
	var recs []*session.Record
	for i := range 4 {
		rec := h.record()
		rec.Subject = alice
		rec.Created = h.clock.Now().Add(time.Duration(i) * time.Second)
		h.commit(rec, 0)
		recs = append(recs, rec)
	}
	b := h.record()
	b.Subject = bob
	h.commit(b, 0)

	list := func(subject string) []string {
		t.Helper()
		rs, err := idx.ListSubject(h.ctx, subject)
		if err != nil {
			t.Fatalf("ListSubject: %v", err)
		}
		ids := []string{}
		for _, r := range rs {
			if r.Subject != subject {
				t.Fatalf("ListSubject(%q) returned a record of %q", subject, r.Subject)
			}
			ids = append(ids, r.ID)
		}
		return ids
	}
	want := []string{recs[0].ID, recs[1].ID, recs[2].ID, recs[3].ID}
	if got := list(alice); !reflect.DeepEqual(got, want) {
		t.Fatalf("ListSubject = %v; want oldest first %v", got, want)
	}

	// The index follows the record: a session that changes hands or is
	// deleted leaves the list, and one that expires is not listed.
	moved := next(recs[1])
	moved.Subject = bob
	h.commit(moved, 1)
	if err := h.store.Delete(h.ctx, recs[2].ID); err != nil {
		t.Fatal(err)
	}
	short := next(recs[3])
	short.IdleDeadline = h.clock.Now().Add(time.Minute)
	h.commit(short, 1)
	h.clock.Advance(2 * time.Minute)
	if got := list(alice); !reflect.DeepEqual(got, []string{recs[0].ID}) {
		t.Fatalf("ListSubject after move, delete and expiry = %v; want [%s]", got, recs[0].ID)
	}
	if got := list(bob); len(got) != 2 {
		t.Fatalf("ListSubject(bob) = %v; want 2 sessions", got)
	}

	n, err := idx.DeleteSubject(h.ctx, alice)
	if err != nil || n != 1 {
		t.Fatalf("DeleteSubject = %d, %v; want 1, nil", n, err)
	}
	h.wantNotFound(recs[0].ID, "after DeleteSubject")
	if got := list(alice); len(got) != 0 {
		t.Fatalf("ListSubject after DeleteSubject = %v; want none", got)
	}
	if got := list(bob); len(got) != 2 {
		t.Fatalf("DeleteSubject(alice) touched bob: %v", got)
	}
	if got := list("nobody-" + NewID()[:8]); len(got) != 0 {
		t.Fatalf("ListSubject of an unknown subject = %v", got)
	}
}

func testIterateAndCount(t *testing.T, h *harness) {
	it, isIter := h.store.(session.Iterator)
	ct, isCounter := h.store.(session.Counter)
	if !isIter && !isCounter {
		t.Skip("store neither iterates nor counts")
	}
	ids := map[string]bool{}
	for range 3 {
		rec := h.record()
		h.commit(rec, 0)
		ids[rec.ID] = true
	}
	expired := h.record()
	expired.IdleDeadline = h.clock.Now().Add(time.Minute)
	h.commit(expired, 0)
	h.clock.Advance(2 * time.Minute)
	if isIter {
		seen := 0
		err := it.Range(h.ctx, func(r *session.Record) bool {
			if r.ID == expired.ID {
				t.Errorf("Range visited an expired record")
			}
			if ids[r.ID] {
				seen++
			}
			return true
		})
		if err != nil || seen != 3 {
			t.Fatalf("Range saw %d of 3 records, %v", seen, err)
		}
		calls := 0
		if err := it.Range(h.ctx, func(*session.Record) bool { calls++; return false }); err != nil || calls != 1 {
			t.Fatalf("Range did not stop when fn returned false: %d calls, %v", calls, err)
		}
	}
	if isCounter {
		n, err := ct.Count(h.ctx)
		if err != nil || n < 3 {
			t.Fatalf("Count = %d, %v; want at least 3", n, err)
		}
	}
}

// testParallelWriters increments one counter from many goroutines with
// load/compare-and-swap/retry, the way the manager does; the CAS must let
// exactly one writer win each version.
func testParallelWriters(t *testing.T, h *harness) {
	rec := h.record()
	rec.Values = []session.Value{{Key: "n", Data: []byte("0")}}
	h.commit(rec, 0)
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			for range each {
				for {
					cur, err := h.store.Load(h.ctx, rec.ID)
					if err != nil {
						errs <- err
						return
					}
					n, _ := strconv.Atoi(string(cur.Values[0].Data))
					upd := next(cur)
					upd.Values = []session.Value{{Key: "n", Data: []byte(strconv.Itoa(n + 1))}}
					err = h.store.Commit(h.ctx, upd, cur.Version)
					if err == nil {
						break
					}
					if !errors.Is(err, session.ErrConflict) {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := h.load(rec.ID)
	if string(got.Values[0].Data) != strconv.Itoa(writers*each) || got.Version != writers*each+1 {
		t.Fatalf("after %d increments: n=%s version=%d", writers*each, got.Values[0].Data, got.Version)
	}
}

func testClose(t *testing.T, h *harness) {
	c, ok := h.store.(io.Closer)
	if !ok {
		t.Skip("store has no Close")
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
