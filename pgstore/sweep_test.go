package pgstore_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/pgstore"
	"github.com/sessionkit/session/storetest"
)

var timeNow = time.Now

// newRecord returns a version-1 record that lives for an hour from now.
func newRecord(now time.Time) *session.Record {
	return &session.Record{
		ID: storetest.NewID(), Version: 1, Created: now, LastActive: now,
		IdleDeadline: now.Add(time.Hour), AbsoluteDeadline: now.Add(24 * time.Hour),
		Values: []session.Value{{Key: "k", Data: []byte(`"v"`)}},
	}
}

// fill commits n records that expire after ttl, from a few goroutines.
func fill(t *testing.T, s session.Store, now time.Time, n int, ttl time.Duration) {
	t.Helper()
	var wg sync.WaitGroup
	var failed atomic.Value
	const workers = 4
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				rec := newRecord(now)
				rec.IdleDeadline = now.Add(ttl)
				if err := s.Commit(context.Background(), rec, 0); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func rowCount(t *testing.T, pool *pgxpool.Pool, table string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM "`+table+`"`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestConcurrentSweepers runs several stores' sweeps over the same table at
// once: every expired row is deleted, and counted, exactly once in total,
// and no live row is touched.
func TestConcurrentSweepers(t *testing.T) {
	pool := openPool(t, "", 8)
	table := uniqueTable(t, pool)
	clock := storetest.NewClock()
	writer := newStore(t, pool, pgstore.Options{Table: table, Now: clock.Now, DisableSweeper: true})
	const expired, live = 1500, 100
	fill(t, writer, clock.Now(), expired, time.Minute)
	fill(t, writer, clock.Now(), live, time.Hour)
	clock.Advance(2 * time.Minute)

	const sweepers = 4
	var wg sync.WaitGroup
	counts := make([]int, sweepers)
	errs := make([]error, sweepers)
	for i := range sweepers {
		s := newStore(t, pool, pgstore.Options{Table: table, Now: clock.Now, SkipMigrate: true, DisableSweeper: true, SweepBatch: 50})
		wg.Go(func() { counts[i], errs[i] = s.DeleteExpired(context.Background(), clock.Now()) })
	}
	wg.Wait()
	total := 0
	for i := range sweepers {
		if errs[i] != nil {
			t.Fatalf("sweeper %d: %v", i, errs[i])
		}
		total += counts[i]
	}
	t.Logf("deleted per sweeper: %v", counts)
	if total != expired {
		t.Fatalf("sweepers deleted %d rows in total; want %d", total, expired)
	}
	if n := rowCount(t, pool, table); n != live {
		t.Fatalf("%d rows left; want the %d live ones", n, live)
	}
	if n, err := writer.Count(context.Background()); err != nil || n != live {
		t.Fatalf("Count = %d, %v; want %d", n, err, live)
	}
}

// TestBackgroundSweeper checks that the store sweeps on its own, and stops
// when closed.
func TestBackgroundSweeper(t *testing.T) {
	pool := openPool(t, "", 0)
	table := uniqueTable(t, pool)
	clock := storetest.NewClock()
	s := newStore(t, pool, pgstore.Options{Table: table, Now: clock.Now, SweepInterval: 10 * time.Millisecond})
	fill(t, s, clock.Now(), 5, time.Minute)
	clock.Advance(2 * time.Minute)
	deadline := time.Now().Add(5 * time.Second)
	for rowCount(t, pool, table) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("expired rows still there 5s after they expired; the sweeper did not run")
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.Close()
	fill(t, s, clock.Now(), 1, time.Minute) // the store still works after Close
	clock.Advance(2 * time.Minute)
	time.Sleep(50 * time.Millisecond)
	if n := rowCount(t, pool, table); n != 1 {
		t.Fatalf("%d rows after Close; want the 1 that a stopped sweeper left", n)
	}
}
