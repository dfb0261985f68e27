package mysqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/internal/testenv"
	"github.com/sessionkit/session/mysqlstore"
	"github.com/sessionkit/session/storetest"
)

// TestTooLarge checks against the real server that a record larger than its
// max_allowed_packet fails its commit with an error wrapping
// session.ErrTooLarge (the record's fault, not an outage), for a create and an
// update, with interpolated parameters and with server-side prepared
// statements; that the operation right after it, on the same one-connection
// pool, succeeds (a server sent too large a statement closes the connection);
// and that a record of a few megabytes that fits is not refused.
func TestTooLarge(t *testing.T) {
	probe := openDB(t, "", 1)
	var serverMax int64
	if err := probe.QueryRow("SELECT @@max_allowed_packet").Scan(&serverMax); err != nil {
		t.Fatal(err)
	}
	size := serverMax + 1<<20 // of the value that makes the record too large
	for _, tc := range []struct {
		name        string
		interpolate bool
		clientMax   int // Config.MaxAllowedPacket; 0 for the driver's default (64 MiB)
	}{
		// The record goes in one statement, which the server refuses (1153).
		{"interpolated", true, 0},
		// The record goes as a long parameter, in three pieces of about 6 MiB
		// at the driver's default, which the server refuses (1153)...
		{"prepared", false, 0},
		// ... or in many small ones, which it refuses with another error (1105).
		{"prepared in 64 KiB pieces", false, 64 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if size > 64<<20 {
				t.Skipf("the server's max_allowed_packet is %d bytes: too much to build a record above it in a test", serverMax)
			}
			cfg, err := mysql.ParseDSN(testenv.Get(testenv.MySQL))
			if err != nil {
				t.Fatal(err)
			}
			cfg.InterpolateParams = tc.interpolate
			if tc.clientMax > 0 {
				cfg.MaxAllowedPacket = tc.clientMax
			}
			connector, err := mysql.NewConnector(cfg)
			if err != nil {
				t.Fatal(err)
			}
			db := sql.OpenDB(connector)
			t.Cleanup(func() { db.Close() })
			db.SetMaxOpenConns(1) // the connection a refused statement leaves is the next operation's
			s := newStore(t, db, mysqlstore.Options{DisableSweeper: true})
			ctx := context.Background()

			now := time.Now()
			small := newRecord(now)
			if err := s.Commit(ctx, small, 0); err != nil {
				t.Fatal(err)
			}
			big := func(id string, version uint64) *session.Record {
				r := newRecord(now)
				r.ID, r.Version = id, version
				r.Values = []session.Value{{Key: "big", Data: []byte(`"` + strings.Repeat("x", int(size)) + `"`)}}
				return r
			}
			for _, c := range []struct {
				what     string
				rec      *session.Record
				expected uint64
			}{
				{"create", big(storetest.NewID(), 1), 0},
				{"update", big(small.ID, 2), 1},
			} {
				err := s.Commit(ctx, c.rec, c.expected)
				if !errors.Is(err, session.ErrTooLarge) {
					t.Fatalf("%s of a record of %d bytes = %v; want ErrTooLarge", c.what, size, err)
				}
				// Right after: the same pool serves the next operation.
				next := *small
				next.Version++
				if err := s.Commit(ctx, &next, small.Version); err != nil {
					t.Fatalf("commit right after the refused %s: %v", c.what, err)
				}
				small = &next
			}
			if got, err := s.Load(ctx, small.ID); err != nil || got.Version != small.Version {
				t.Fatalf("Load after the refused update = %+v, %v; want version %d", got, err, small.Version)
			}

			// A record of a few megabytes that fits is not refused.
			if serverMax < 8<<20 {
				return
			}
			fits := newRecord(now)
			fits.Values = []session.Value{{Key: "big", Data: []byte(`"` + strings.Repeat(`\"x`, 1<<20) + `"`)}}
			if err := s.Commit(ctx, fits, 0); err != nil {
				t.Fatalf("commit of a %d-byte record, max_allowed_packet %d: %v", len(fits.Values[0].Data), serverMax, err)
			}
			if got, err := s.Load(ctx, fits.ID); err != nil || len(got.Values) != 1 || len(got.Values[0].Data) != len(fits.Values[0].Data) {
				t.Fatalf("Load of the %d-byte record: %v", len(fits.Values[0].Data), err)
			}
		})
	}
}
