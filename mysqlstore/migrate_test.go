package mysqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/mysqlstore"
	"github.com/sessionkit/session/storetest"
)

func appliedVersions(t *testing.T, db *sql.DB, table string) []int {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), "SELECT version FROM `"+table+"_schema_version` ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestMigrate(t *testing.T) {
	db := openDB(t, "", 0)
	ctx := context.Background()

	t.Run("twice", func(t *testing.T) {
		table := uniqueTable(t, db)
		s := newStore(t, db, mysqlstore.Options{Table: table, DisableSweeper: true}) // migrates
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if got := appliedVersions(t, db, table); !slices.Equal(got, []int{1}) {
			t.Fatalf("applied versions = %v; want [1]", got)
		}
		roundTrip(t, s)
	})

	t.Run("concurrent", func(t *testing.T) {
		table := uniqueTable(t, db)
		const starts = 6
		stores := make([]*mysqlstore.Store, starts)
		for i := range stores {
			stores[i] = newStore(t, db, mysqlstore.Options{Table: table, SkipMigrate: true, DisableSweeper: true})
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
		if got := appliedVersions(t, db, table); !slices.Equal(got, []int{1}) {
			t.Fatalf("applied versions = %v; want [1]", got)
		}
		for _, s := range stores {
			roundTrip(t, s)
		}
	})

	t.Run("skipped", func(t *testing.T) {
		// Without the table, operations fail with an error, never a panic
		// and never a plain "not found".
		s := newStore(t, db, mysqlstore.Options{Table: "mysqlstore_test_missing_" + randomHex(4), SkipMigrate: true, DisableSweeper: true})
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
