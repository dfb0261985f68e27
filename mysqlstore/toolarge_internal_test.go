package mysqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sessionkit/session/internal/testenv"
)

// TestServerTooLargeErrors sends the real server a parameter larger than its
// max_allowed_packet, the way the driver sends a large record in a prepared
// statement (in pieces of about 6 MiB by default, or of Config.MaxAllowedPacket),
// and checks that isTooLarge recognises the errors it answers with. Commit
// never gets there for records above a megabyte (checkSize refuses them
// first), but a smaller record on a server whose max_allowed_packet is lower
// still would.
func TestServerTooLargeErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		clientMax int // Config.MaxAllowedPacket; 0 for the driver's default (64 MiB)
		// mayReset: the parameter goes in one packet above the server's
		// limit, and the server answers 1153 and closes the connection
		// while the client may still be writing, so the client sees either
		// the error or the reset. That race is why checkSize refuses such a
		// record before sending it; only the error, when it arrives, must be
		// recognised.
		mayReset bool
	}{
		{"default pieces", 0, true},
		{"64 KiB pieces", 64 << 10, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := mysql.ParseDSN(testenv.Get(testenv.MySQL))
			if err != nil {
				t.Fatalf("%s: %v", testenv.MySQL, err)
			}
			if tc.clientMax > 0 {
				cfg.MaxAllowedPacket = tc.clientMax
			}
			connector, err := mysql.NewConnector(cfg)
			if err != nil {
				t.Fatal(err)
			}
			db := sql.OpenDB(connector)
			defer db.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var limit int64
			if err := db.QueryRowContext(ctx, `SELECT @@max_allowed_packet`).Scan(&limit); err != nil {
				testenv.Unreachable(t, testenv.MySQL, err)
			}
			if limit > 64<<20 {
				t.Skipf("the server's max_allowed_packet is %d bytes: too much to send in a test", limit)
			}
			var n int64
			err = db.QueryRowContext(ctx, `SELECT LENGTH(?)`, make([]byte, limit+1<<20)).Scan(&n)
			var ne *net.OpError
			if tc.mayReset && errors.As(err, &ne) {
				t.Logf("the server closed the connection before its error arrived: %v", err)
				return
			}
			if !isTooLarge(err) {
				t.Fatalf("a parameter of %d bytes, max_allowed_packet %d: %v; want an error isTooLarge recognises", limit+1<<20, limit, describe(err))
			}
		})
	}
}

func describe(err error) string {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return fmt.Sprintf("MySQL error %d: %s", me.Number, me.Message)
	}
	return fmt.Sprintf("%T %v", err, err)
}
