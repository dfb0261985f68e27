package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/internal/testenv"
	"github.com/sessionkit/session/pgstore"
	"github.com/sessionkit/session/storetest"
)

// openPool connects to the test server, or skips (fails under CI) when it is
// unreachable. appName becomes the connections' application_name.
func openPool(t testing.TB, appName string, maxConns int32) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(testenv.Get(testenv.Postgres))
	if err != nil {
		t.Fatalf("%s: %v", testenv.Postgres, err)
	}
	if appName != "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = appName
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err == nil {
		if err = pool.Ping(ctx); err != nil {
			pool.Close()
		}
	}
	if err != nil {
		testenv.Unreachable(t, testenv.Postgres, err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// uniqueTable returns a table name no other test uses, and drops the table
// and its version table when the test ends.
func uniqueTable(t testing.TB, pool *pgxpool.Pool) string {
	table := "pgstore_test_" + randomHex(8)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, `DROP TABLE IF EXISTS "`+table+`", "`+table+`_schema_version"`); err != nil {
			t.Errorf("dropping %s: %v", table, err)
		}
	})
	return table
}

func newStore(t testing.TB, pool *pgxpool.Pool, opts pgstore.Options) *pgstore.Store {
	t.Helper()
	if opts.Table == "" {
		opts.Table = uniqueTable(t, pool)
	}
	s, err := pgstore.New(context.Background(), pool, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	pool := openPool(t, "", 0)
	storetest.RunOptions(t, func(t *testing.T, now func() time.Time) session.Store {
		return newStore(t, pool, pgstore.Options{Now: now})
	}, storetest.Options{ReportsExpired: true})
}

func TestOptions(t *testing.T) {
	pool := openPool(t, "", 0)
	for _, name := range []string{"1sessions", "public.sessions", `x"; DROP TABLE y; --`, "séssions", "a-b",
		"t_" + randomHex(24)} {
		if _, err := pgstore.New(context.Background(), pool, pgstore.Options{Table: name, SkipMigrate: true}); err == nil {
			t.Errorf("New(Table: %q) = nil error; want an invalid table name", name)
		}
	}
	if _, err := pgstore.New(context.Background(), nil, pgstore.Options{}); err == nil {
		t.Error("New(nil pool) = nil error")
	}
}

// TestMalformedInput checks that input no session ID looks like is answered
// without panicking and without reaching the table.
func TestMalformedInput(t *testing.T) {
	pool := openPool(t, "", 0)
	table := uniqueTable(t, pool)
	s := newStore(t, pool, pgstore.Options{Table: table, DisableSweeper: true, Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	for _, id := range []string{"", "x", "\x00", storetest.NewID()[:63], storetest.NewID() + "0", "ZZ" + storetest.NewID()[2:]} {
		if _, err := s.Load(ctx, id); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Load(%q) = %v; want ErrNotFound", id, err)
		}
		if err := s.Touch(ctx, id, time.Now(), time.Now().Add(time.Hour)); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Touch(%q) = %v; want ErrNotFound", id, err)
		}
		if err := s.Delete(ctx, id); err != nil {
			t.Errorf("Delete(%q) = %v", id, err)
		}
		if err := s.Commit(ctx, &session.Record{ID: id, Version: 1}, 0); err == nil {
			t.Errorf("Commit(ID %q) = nil error", id)
		}
	}
	// A corrupt row fails its Load with ErrCorrupt and is left out of lists.
	now := time.Now()
	rec := &session.Record{ID: storetest.NewID(), Version: 1, Subject: "carol", Created: now, LastActive: now,
		IdleDeadline: now.Add(time.Hour), AbsoluteDeadline: now.Add(time.Hour)}
	if err := s.Commit(ctx, rec, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE "`+table+`" SET data = '\xff'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, rec.ID); !errors.Is(err, session.ErrCorrupt) {
		t.Errorf("Load of a corrupt row = %v; want ErrCorrupt", err)
	}
	if list, err := s.ListSubject(ctx, "carol"); err != nil || len(list) != 0 {
		t.Errorf("ListSubject with a corrupt row = %v, %v; want none, nil", list, err)
	}
}
