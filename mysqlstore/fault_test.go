package mysqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/session/mysqlstore"
)

// TestKilledConnections kills every connection of the store's *sql.DB (KILL,
// from another connection) while commits and loads are running: operations
// fail with errors (not panics) or succeed, the same *sql.DB serves again
// within a second, and every acknowledged commit is still there.
func TestKilledConnections(t *testing.T) {
	// The store's connections are told apart by their database, one of its own.
	admin := openDB(t, "", 2)
	dbName := "mysqlstore_fault_" + randomHex(6)
	if _, err := admin.Exec("CREATE DATABASE `" + dbName + "`"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS `" + dbName + "`"); err != nil {
			t.Errorf("dropping database %s: %v", dbName, err)
		}
	})
	db := openDB(t, dbName, 4)
	s := newStore(t, db, mysqlstore.Options{Table: "sessions", DisableSweeper: true})

	var (
		mu    sync.Mutex
		acked = map[string]uint64{} // ID -> last version whose commit returned nil
		oks   atomic.Int64
		fails atomic.Int64
	)
	do := func(f func(ctx context.Context) error) bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := f(ctx); err != nil {
			fails.Add(1)
			return false
		}
		oks.Add(1)
		return true
	}
	ack := func(id string, v uint64) { mu.Lock(); acked[id] = v; mu.Unlock() }

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				rec := newRecord(time.Now())
				if !do(func(ctx context.Context) error { return s.Commit(ctx, rec, 0) }) {
					continue
				}
				ack(rec.ID, 1)
				for v := uint64(1); v < 3; v++ {
					next := *rec
					next.Version = v + 1
					ok := do(func(ctx context.Context) error {
						if _, err := s.Load(ctx, rec.ID); err != nil {
							return err
						}
						return s.Commit(ctx, &next, v)
					})
					if !ok {
						break
					}
					ack(rec.ID, v+1)
				}
			}
		})
	}

	kill := func() int {
		rows, err := admin.Query(`SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()`, dbName)
		if err != nil {
			t.Errorf("listing connections: %v", err)
			return 0
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Error(err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		n := 0
		for _, id := range ids {
			if _, err := admin.Exec(fmt.Sprintf("KILL %d", id)); err == nil {
				n++ // an error means the connection had ended already
			}
		}
		return n
	}
	time.Sleep(200 * time.Millisecond)
	killed := kill()
	time.Sleep(150 * time.Millisecond)
	killed += kill()
	time.Sleep(150 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("killed %d connections; %d operations succeeded, %d failed", killed, oks.Load(), fails.Load())
	if killed == 0 {
		t.Fatal("no connection was killed")
	}

	// database/sql replaces the dead connections: operations succeed again
	// within a second.
	start := time.Now()
	for {
		rec := newRecord(time.Now())
		if do(func(ctx context.Context) error { return s.Commit(ctx, rec, 0) }) {
			ack(rec.ID, 1)
			break
		}
		if time.Since(start) > time.Second {
			t.Fatal("operations still fail a second after the connections were killed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Operations now succeed every time.
	for range 20 {
		if !do(func(ctx context.Context) error { _, err := s.Count(ctx); return err }) {
			t.Fatal("an operation failed after recovery")
		}
	}

	// Every acknowledged commit survived. A commit that returned an error
	// may or may not have happened, so a version may be newer than acked.
	ctx := context.Background()
	for id, v := range acked {
		rec, err := s.Load(ctx, id)
		if err != nil {
			t.Fatalf("Load of an acknowledged record: %v", err)
		}
		if rec.Version < v {
			t.Fatalf("record at version %d; version %d was acknowledged", rec.Version, v)
		}
	}
	t.Logf("%d acknowledged records all present", len(acked))
}
