package pgstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/pgstore"
	"github.com/sessionkit/session/storetest"
)

// TestTouch checks what the conformance suite leaves out: a touch keeps the
// version, and a tombstone cannot be touched.
func TestTouch(t *testing.T) {
	pool := openPool(t, "", 0)
	clock := storetest.NewClock()
	s := newStore(t, pool, pgstore.Options{Now: clock.Now, DisableSweeper: true})
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
