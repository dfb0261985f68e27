package mysqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/internal/testenv"
	"github.com/sessionkit/session/mysqlstore"
	"github.com/sessionkit/session/storetest"
)

// openDB connects to the test server, in database dbName if it is not empty,
// or skips (fails under CI) when the server is unreachable.
func openDB(t testing.TB, dbName string, maxOpen int) *sql.DB {
	t.Helper()
	cfg, err := mysql.ParseDSN(testenv.Get(testenv.MySQL))
	if err != nil {
		t.Fatalf("%s: %v", testenv.MySQL, err)
	}
	if dbName != "" {
		cfg.DBName = dbName
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatalf("%s: %v", testenv.MySQL, err)
	}
	db := sql.OpenDB(connector)
	if maxOpen > 0 {
		db.SetMaxOpenConns(maxOpen)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		testenv.Unreachable(t, testenv.MySQL, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// uniqueTable returns a table name no other test uses, and drops the table
// and its version table when the test ends.
func uniqueTable(t testing.TB, db *sql.DB) string {
	table := "mysqlstore_test_" + randomHex(8)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS `"+table+"`, `"+table+"_schema_version`"); err != nil {
			t.Errorf("dropping %s: %v", table, err)
		}
	})
	return table
}

func newStore(t testing.TB, db *sql.DB, opts mysqlstore.Options) *mysqlstore.Store {
	t.Helper()
	if opts.Table == "" {
		opts.Table = uniqueTable(t, db)
	}
	s, err := mysqlstore.New(context.Background(), db, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	db := openDB(t, "", 0)
	storetest.RunOptions(t, func(t *testing.T, now func() time.Time) session.Store {
		return newStore(t, db, mysqlstore.Options{Now: now})
	}, storetest.Options{ReportsExpired: true})
}

func TestOptions(t *testing.T) {
	db := openDB(t, "", 0)
	for _, name := range []string{"1sessions", "test.sessions", "x`; DROP TABLE y; --", "séssions", "a-b",
		"t_" + randomHex(24)} {
		if _, err := mysqlstore.New(context.Background(), db, mysqlstore.Options{Table: name, SkipMigrate: true}); err == nil {
			t.Errorf("New(Table: %q) = nil error; want an invalid table name", name)
		}
	}
	if _, err := mysqlstore.New(context.Background(), nil, mysqlstore.Options{}); err == nil {
		t.Error("New(nil db) = nil error")
	}
}

// TestMalformedInput checks that input no session ID looks like is answered
// without panicking and without reaching the table, that the limits of the
// schema are errors, and that a corrupt row fails only its own load.
func TestMalformedInput(t *testing.T) {
	db := openDB(t, "", 0)
	table := uniqueTable(t, db)
	s := newStore(t, db, mysqlstore.Options{Table: table, DisableSweeper: true, Logger: slog.New(slog.DiscardHandler)})
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

	now := time.Now()
	rec := newRecord(now)
	rec.Subject = strings.Repeat("s", mysqlstore.MaxSubject+1)
	if err := s.Commit(ctx, rec, 0); err == nil {
		t.Error("Commit of a subject longer than MaxSubject = nil error")
	}
	rec.Subject = "carol"
	if err := s.Commit(ctx, rec, 0); err != nil {
		t.Fatal(err)
	}
	same := *rec // a swap that keeps the version cannot be told from a miss
	if err := s.Commit(ctx, &same, rec.Version); err == nil || errors.Is(err, session.ErrConflict) {
		t.Errorf("Commit keeping the version = %v; want a usage error", err)
	}

	// A repeated touch changes nothing and still succeeds.
	for range 2 {
		if err := s.Touch(ctx, rec.ID, now, now.Add(2*time.Hour)); err != nil {
			t.Fatalf("Touch: %v", err)
		}
	}

	if _, err := db.ExecContext(ctx, "UPDATE `"+table+"` SET data = X'ff'"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, rec.ID); !errors.Is(err, session.ErrCorrupt) {
		t.Errorf("Load of a corrupt row = %v; want ErrCorrupt", err)
	}
	if list, err := s.ListSubject(ctx, "carol"); err != nil || len(list) != 0 {
		t.Errorf("ListSubject with a corrupt row = %v, %v; want none, nil", list, err)
	}
}

// TestSubjectIsExact checks that subjects compare byte for byte, whatever
// the server's default collation.
func TestSubjectIsExact(t *testing.T) {
	db := openDB(t, "", 0)
	s := newStore(t, db, mysqlstore.Options{DisableSweeper: true})
	ctx := context.Background()
	rec := newRecord(time.Now())
	rec.Subject = "Alice"
	if err := s.Commit(ctx, rec, 0); err != nil {
		t.Fatal(err)
	}
	for _, other := range []string{"alice", "ALICE", "Alice "} {
		if list, err := s.ListSubject(ctx, other); err != nil || len(list) != 0 {
			t.Errorf("ListSubject(%q) = %d records, %v; want none", other, len(list), err)
		}
	}
	if list, err := s.ListSubject(ctx, "Alice"); err != nil || len(list) != 1 {
		t.Errorf("ListSubject(Alice) = %d records, %v; want 1", len(list), err)
	}
}
