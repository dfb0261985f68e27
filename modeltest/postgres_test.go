package modeltest

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/pgstore"
)

// TestModelPostgres runs the model against the PostgreSQL named by
// SESSION_TEST_POSTGRES, on a table of its own, emptied before each run and
// dropped at the end.
func TestModelPostgres(t *testing.T) {
	const variable = "SESSION_TEST_POSTGRES"
	addr := service(variable, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, addr)
	if err == nil {
		if err = pool.Ping(ctx); err != nil {
			pool.Close()
		}
	}
	if err != nil {
		unreachable(t, variable, addr, err)
	}
	t.Cleanup(pool.Close)
	table := "modeltest_" + strings.ToLower(rand.Text()[:12])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, `DROP TABLE IF EXISTS "`+table+`", "`+table+`_schema_version"`); err != nil {
			t.Errorf("dropping %s: %v", table, err)
		}
	})
	c := &clock{}
	s, err := pgstore.New(ctx, pool, pgstore.Options{Table: table, Now: c.Now, DisableSweeper: true})
	if err != nil {
		t.Fatalf("pgstore.New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	fresh := func() (session.Store, error) { // the same table, emptied
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := pool.Exec(ctx, `DELETE FROM "`+table+`"`)
		return s, err
	}
	runModel(t, env{clock: c, fresh: fresh}, budget{checks: 200, steps: 150})
}
