package sqlitestore_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/sqlitestore"
	"github.com/sessionkit/session/storetest"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

func open(t *testing.T, path string, opts sqlitestore.Options) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func record(now time.Time, subject string) *session.Record {
	return &session.Record{
		ID:               storetest.NewID(),
		Version:          1,
		Subject:          subject,
		Created:          now,
		LastActive:       now,
		IdleDeadline:     now.Add(time.Hour),
		AbsoluteDeadline: now.Add(24 * time.Hour),
		Values:           []session.Value{{Key: "a", Data: []byte(`"x"`)}},
	}
}

func TestConformance(t *testing.T) {
	storetest.RunOptions(t, func(t *testing.T, now func() time.Time) session.Store {
		return open(t, filepath.Join(t.TempDir(), "sessions.db"), sqlitestore.Options{Now: now})
	}, storetest.Options{ReportsExpired: true})
}

// TestConformanceCallerOwnedDB runs the suite on a *sql.DB opened by the
// caller, with several connections that all write.
func TestConformanceCallerOwnedDB(t *testing.T) {
	storetest.RunOptions(t, func(t *testing.T, now func() time.Time) session.Store {
		db, err := sql.Open("sqlite", sqlitestore.DSN(filepath.Join(t.TempDir(), "sessions.db")))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s, err := sqlitestore.New(context.Background(), db, sqlitestore.Options{Now: now})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		t.Cleanup(func() {
			s.Close()
			if err := db.Ping(); err != nil {
				t.Errorf("Close closed the caller's db: %v", err)
			}
		})
		return s
	}, storetest.Options{ReportsExpired: true})
}

// TestRestart: sessions are kept in the file and survive the process.
func TestRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sessions.db")
	s := open(t, path, sqlitestore.Options{})
	rec := record(time.Now(), "alice")
	if err := s.Commit(ctx, rec, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.Load(ctx, rec.ID); err == nil {
		t.Fatal("Load after Close succeeded")
	}

	s = open(t, path, sqlitestore.Options{})
	got, err := s.Load(ctx, rec.ID)
	if err != nil {
		t.Fatalf("Load after reopening: %v", err)
	}
	if got.Version != 1 || got.Subject != "alice" || string(got.Values[0].Data) != `"x"` {
		t.Fatalf("Load after reopening = %+v", got)
	}
	next := *got
	next.Version = 2
	if err := s.Commit(ctx, &next, 1); err != nil {
		t.Fatalf("Commit after reopening: %v", err)
	}
}

// TestMigrations: reopening a database, or migrating it again, applies no
// migration twice (the first one creates tables without IF NOT EXISTS, so
// it would fail), and a newer schema than the package knows is refused.
func TestMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sessions.db")
	for i := range 3 {
		s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{DisableSweeper: true})
		if err != nil {
			t.Fatalf("Open #%d: %v", i+1, err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate after Open #%d: %v", i+1, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}

	db, err := sql.Open("sqlite", sqlitestore.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, versions int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT version) FROM schema_version`).Scan(&rows, &versions); err != nil {
		t.Fatal(err)
	}
	if rows != versions || rows == 0 {
		t.Fatalf("schema_version holds %d rows for %d versions", rows, versions)
	}
	var name string
	if err := db.QueryRow(`SELECT name FROM schema_version WHERE version = 1`).Scan(&name); err != nil || name != "001_init" {
		t.Fatalf("migration 1 recorded as %q, %v", name, err)
	}

	if _, err := db.Exec(`INSERT INTO schema_version (version, name, applied) VALUES (9999, '9999_future', 0)`); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlitestore.New(ctx, db, sqlitestore.Options{DisableSweeper: true}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("New on a database from the future = %v; want an error", err)
	}
}

// TestConcurrentMigrations: processes that open a new file at the same time
// apply each migration once.
func TestConcurrentMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			s, err := sqlitestore.Open(context.Background(), path, sqlitestore.Options{DisableSweeper: true})
			if err != nil {
				errs <- err
				return
			}
			errs <- s.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestTwoStoresOneFile: two stores on the same file, as two processes
// would have, see each other's writes and keep the CAS.
func TestTwoStoresOneFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sessions.db")
	a := open(t, path, sqlitestore.Options{})
	b := open(t, path, sqlitestore.Options{})
	rec := record(time.Now(), "")
	if err := a.Commit(ctx, rec, 0); err != nil {
		t.Fatal(err)
	}
	got, err := b.Load(ctx, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	next := *got
	next.Version = 2
	if err := b.Commit(ctx, &next, 1); err != nil {
		t.Fatal(err)
	}
	stale := *rec
	stale.Version = 2
	if err := a.Commit(ctx, &stale, 1); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("stale commit from the other store = %v; want ErrConflict", err)
	}
}

// TestTouchKeepsVersion: a touch changes the deadline, not the version, so
// a writer that loaded before it still commits.
func TestTouchKeepsVersion(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewClock()
	s := open(t, filepath.Join(t.TempDir(), "sessions.db"), sqlitestore.Options{Now: clock.Now})
	rec := record(clock.Now(), "alice")
	if err := s.Commit(ctx, rec, 0); err != nil {
		t.Fatal(err)
	}
	loaded, err := s.Load(ctx, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	now := clock.Now().Add(time.Minute)
	if err := s.Touch(ctx, rec.ID, now, now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 1 || !got.IdleDeadline.Equal(now.Add(2*time.Hour)) || !got.LastActive.Equal(now) {
		t.Fatalf("after Touch: version %d, last active %v, idle deadline %v", got.Version, got.LastActive, got.IdleDeadline)
	}
	next := *loaded
	next.Version = 2
	if err := s.Commit(ctx, &next, 1); err != nil {
		t.Fatalf("commit after a touch: %v", err)
	}

	// The absolute deadline still caps a touch.
	capped := record(clock.Now(), "")
	capped.AbsoluteDeadline = clock.Now().Add(90 * time.Minute)
	if err := s.Commit(ctx, capped, 0); err != nil {
		t.Fatal(err)
	}
	clock.Advance(50 * time.Minute)
	if err := s.Touch(ctx, capped.ID, clock.Now(), clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	clock.Advance(50 * time.Minute)
	if _, err := s.Load(ctx, capped.ID); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load past the absolute deadline after a touch = %v; want ErrNotFound", err)
	}
}

// TestTouchRefusesTombstones: a renewal tombstone is never extended.
func TestTouchRefusesTombstones(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "sessions.db"), sqlitestore.Options{})
	rec := record(time.Now(), "alice")
	if err := s.Commit(ctx, rec, 0); err != nil {
		t.Fatal(err)
	}
	tomb := *rec
	tomb.Version, tomb.Subject, tomb.RenewedTo, tomb.Values = 2, "", storetest.NewID(), nil
	if err := s.Commit(ctx, &tomb, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Touch(ctx, rec.ID, time.Now(), time.Now().Add(time.Hour)); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Touch of a tombstone = %v; want ErrNotFound", err)
	}
}

// TestSweeper: the background sweeper deletes expired rows in batches.
func TestSweeper(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewClock()
	path := filepath.Join(t.TempDir(), "sessions.db")
	s := open(t, path, sqlitestore.Options{Now: clock.Now, DisableSweeper: true})
	for range 25 {
		rec := record(clock.Now(), "")
		rec.IdleDeadline = clock.Now().Add(time.Minute)
		if err := s.Commit(ctx, rec, 0); err != nil {
			t.Fatal(err)
		}
	}
	live := record(clock.Now(), "")
	if err := s.Commit(ctx, live, 0); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)

	// A second store on the file, with a sweeper in batches of 10.
	sweeping := open(t, path, sqlitestore.Options{Now: clock.Now, SweepInterval: 10 * time.Millisecond, SweepBatch: 10})
	deadline := time.Now().Add(10 * time.Second)
	for {
		db, err := sql.Open("sqlite", sqlitestore.DSN(path))
		if err != nil {
			t.Fatal(err)
		}
		var n int
		err = db.QueryRow(`SELECT count(*) FROM sessions`).Scan(&n)
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d rows left after sweeping; want 1", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := sweeping.Load(ctx, live.ID); err != nil {
		t.Fatalf("the sweeper deleted a live session: %v", err)
	}
	if err := sweeping.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestQueryPlans: the queries that run often use the indexes.
func TestQueryPlans(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	open(t, path, sqlitestore.Options{DisableSweeper: true})
	db, err := sql.Open("sqlite", sqlitestore.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct {
		name, query, want string
	}{
		{"load", `SELECT data FROM sessions WHERE id = ? AND expires > ?`, "sqlite_autoindex_sessions_1"},
		{"list subject", `SELECT id FROM sessions WHERE subject = ? AND subject <> '' AND expires > ? ORDER BY created, id`, "sessions_subject"},
		{"sweep", `SELECT rowid FROM sessions WHERE expires <= ? LIMIT ?`, "sessions_expires"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := db.Query("EXPLAIN QUERY PLAN "+tc.query, "x", 1)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan strings.Builder
			for rows.Next() {
				var id, parent, notused int
				var detail string
				if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
					t.Fatal(err)
				}
				plan.WriteString(detail + "\n")
			}
			if !strings.Contains(plan.String(), tc.want) {
				t.Fatalf("plan does not use %s:\n%s", tc.want, plan.String())
			}
		})
	}
}

func TestFilePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	path := filepath.Join(t.TempDir(), "sessions.db")
	open(t, path, sqlitestore.Options{})
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Fatalf("database file mode %v; want no access for group and others", perm)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct {
		name, path string
	}{
		{"empty", ""},
		{"memory", ":memory:"},
		{"missing directory", filepath.Join(t.TempDir(), "missing", "sessions.db")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sqlitestore.Open(context.Background(), tc.path, sqlitestore.Options{})
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", tc.path)
			}
			if !strings.HasPrefix(err.Error(), "sqlitestore: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
		})
	}
}

// TestPathEscaping: characters that mean something in an SQLite URI are
// part of the file name.
func TestPathEscaping(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a?b#c%20d.db")
	open(t, path, sqlitestore.Options{})
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not created at %q: %v", path, err)
	}
}

// TestCorruptRecord: a row whose data cannot be decoded fails Load with
// session.ErrCorrupt (the manager replaces the session) and is skipped by
// Range.
func TestCorruptRecord(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sessions.db")
	s := open(t, path, sqlitestore.Options{})
	bad, good := record(time.Now(), ""), record(time.Now(), "")
	for _, rec := range []*session.Record{bad, good} {
		if err := s.Commit(ctx, rec, 0); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", sqlitestore.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE sessions SET data = x'ff00' WHERE id = ?`, bad.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, bad.ID); !errors.Is(err, session.ErrCorrupt) {
		t.Fatalf("Load of a corrupt row = %v; want ErrCorrupt", err)
	}
	seen := 0
	err = s.Range(ctx, func(r *session.Record) bool {
		if r.ID == bad.ID {
			t.Error("Range visited the corrupt row")
		}
		seen++
		return true
	})
	if err != nil || seen != 1 {
		t.Fatalf("Range saw %d records, %v; want 1", seen, err)
	}
	if err := s.Delete(ctx, bad.ID); err != nil {
		t.Fatal(err)
	}
}

// TestTooBig checks that SQLite's SQLITE_TOOBIG, a record longer than the
// connection's SQLITE_LIMIT_LENGTH, is reported as session.ErrTooLarge (the
// record's fault, not an outage), and that the store keeps working for
// records that fit. The limit is lowered to 64 KiB on the one connection of a
// caller-owned database, so the test needs no gigabyte record.
func TestTooBig(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", sqlitestore.DSN(filepath.Join(t.TempDir(), "sessions.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Limit(conn, sqlite3.SQLITE_LIMIT_LENGTH, 64<<10); err != nil {
		t.Fatal(err)
	}
	conn.Close() // back to the pool, the only connection the store will use
	s, err := sqlitestore.New(ctx, db, sqlitestore.Options{DisableSweeper: true})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })

	now := time.Now()
	big := record(now, "")
	big.Values = []session.Value{{Key: "big", Data: []byte(`"` + strings.Repeat("x", 128<<10) + `"`)}}
	for _, expected := range []uint64{0, 1} {
		big.Version = expected + 1
		if expected == 1 {
			small := record(now, "")
			small.ID = big.ID
			if err := s.Commit(ctx, small, 0); err != nil {
				t.Fatalf("Commit of a small record: %v", err)
			}
		}
		err := s.Commit(ctx, big, expected)
		if !errors.Is(err, session.ErrTooLarge) {
			t.Fatalf("Commit(expected %d) of a 128 KiB record under a 64 KiB limit = %v; want ErrTooLarge", expected, err)
		}
	}
	if _, err := s.Load(ctx, big.ID); err != nil {
		t.Fatalf("Load of the small record after the refused update: %v", err)
	}
}
