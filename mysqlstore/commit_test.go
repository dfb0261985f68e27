package mysqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/mysqlstore"
	"github.com/sessionkit/session/storetest"
)

// TestCreateRace creates the same ID from several goroutines at once, over
// no row and over an expired row (which counts as absent): exactly one
// create wins, the others get ErrConflict, and the winner is stored.
func TestCreateRace(t *testing.T) {
	db := openDB(t, "", 8)
	clock := storetest.NewClock()
	s := newStore(t, db, mysqlstore.Options{Now: clock.Now, DisableSweeper: true})
	ctx := context.Background()
	for _, overExpired := range []bool{false, true} {
		t.Run(fmt.Sprintf("overExpired=%v", overExpired), func(t *testing.T) {
			id := storetest.NewID()
			if overExpired {
				old := newRecord(clock.Now())
				old.ID, old.Subject, old.IdleDeadline = id, "old-owner", clock.Now().Add(time.Minute)
				if err := s.Commit(ctx, old, 0); err != nil {
					t.Fatal(err)
				}
				clock.Advance(2 * time.Minute)
			}
			const racers = 8
			var wg sync.WaitGroup
			errs := make([]error, racers)
			recs := make([]*session.Record, racers)
			for i := range racers {
				rec := newRecord(clock.Now())
				rec.ID, rec.Subject = id, fmt.Sprintf("racer-%d", i)
				recs[i] = rec
				wg.Go(func() { errs[i] = s.Commit(ctx, rec, 0) })
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
			got, err := s.Load(ctx, id)
			if err != nil || got.Subject != recs[winner].Subject {
				t.Fatalf("Load = %+v, %v; want the winner's record", got, err)
			}
			if list, err := s.ListSubject(ctx, "old-owner"); err != nil || len(list) != 0 {
				t.Fatalf("the expired owner still lists %d sessions, %v", len(list), err)
			}
		})
	}
}

// TestTouch checks what the conformance suite leaves out: a touch keeps the
// version, and a tombstone cannot be touched.
func TestTouch(t *testing.T) {
	db := openDB(t, "", 0)
	clock := storetest.NewClock()
	s := newStore(t, db, mysqlstore.Options{Now: clock.Now, DisableSweeper: true})
	ctx := context.Background()
	rec := newRecord(clock.Now())
	if err := s.Commit(ctx, rec, 0); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if err := s.Touch(ctx, rec.ID, clock.Now(), clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx, rec.ID)
	if err != nil || got.Version != 1 || !got.IdleDeadline.Equal(clock.Now().Add(time.Hour)) {
		t.Fatalf("after Touch: %+v, %v; want version 1 and the new idle deadline", got, err)
	}
	// The idle deadline never outlives the absolute one.
	if err := s.Touch(ctx, rec.ID, clock.Now(), rec.AbsoluteDeadline.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	clock.Advance(rec.AbsoluteDeadline.Sub(clock.Now()) + time.Second)
	if _, err := s.Load(ctx, rec.ID); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load past the absolute deadline of a touched session = %v; want ErrNotFound", err)
	}

	live := newRecord(clock.Now())
	if err := s.Commit(ctx, live, 0); err != nil {
		t.Fatal(err)
	}
	tomb := *live
	tomb.Version, tomb.RenewedTo, tomb.Values = 2, storetest.NewID(), nil
	if err := s.Commit(ctx, &tomb, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Touch(ctx, live.ID, clock.Now(), clock.Now().Add(time.Hour)); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Touch of a tombstone = %v; want ErrNotFound", err)
	}
}
