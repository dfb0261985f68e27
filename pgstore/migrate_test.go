package pgstore_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/pgstore"
	"github.com/sessionkit/session/storetest"
)

func appliedVersions(t *testing.T, pool *pgxpool.Pool, table string) []int {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT version FROM "`+table+`_schema_version" ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestMigrate(t *testing.T) {
	pool := openPool(t, "", 0)
	ctx := context.Background()

	t.Run("twice", func(t *testing.T) {
		table := uniqueTable(t, pool)
		s := newStore(t, pool, pgstore.Options{Table: table, DisableSweeper: true}) // migrates
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if got := appliedVersions(t, pool, table); !slices.Equal(got, []int{1}) {
			t.Fatalf("applied versions = %v; want [1]", got)
		}
		roundTrip(t, s)
	})

	t.Run("concurrent", func(t *testing.T) {
		table := uniqueTable(t, pool)
		const starts = 6
		stores := make([]*pgstore.Store, starts)
		for i := range stores {
			stores[i] = newStore(t, pool, pgstore.Options{Table: table, SkipMigrate: true, DisableSweeper: true})
		}
		var wg sync.WaitGroup
		errs := make([]error, starts)
		for i, s := range stores {
			wg.Go(func() { errs[i] = s.Migrate(ctx) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("concurrent Migrate: %v", err)
		}
		if got := appliedVersions(t, pool, table); !slices.Equal(got, []int{1}) {
			t.Fatalf("applied versions = %v; want [1]", got)
		}
		for _, s := range stores {
			roundTrip(t, s)
		}
	})

	t.Run("skipped", func(t *testing.T) {
		// Without the table, operations fail with an error, never a panic
		// and never a plain "not found".
		s := newStore(t, pool, pgstore.Options{Table: "pgstore_test_missing_" + randomHex(4), SkipMigrate: true, DisableSweeper: true})
		if _, err := s.Load(ctx, storetest.NewID()); err == nil || errors.Is(err, session.ErrNotFound) {
			t.Fatalf("Load without a table = %v; want a store error", err)
		}
	})
}

// roundTrip commits a fresh record and loads it back.
func roundTrip(t *testing.T, s session.Store) {
	t.Helper()
	ctx := context.Background()
	rec := newRecord(timeNow())
	if err := s.Commit(ctx, rec, 0); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	got, err := s.Load(ctx, rec.ID)
	if err != nil || got.Version != rec.Version {
		t.Fatalf("Load = %+v, %v", got, err)
	}
}
