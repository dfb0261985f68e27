package reliability

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/session/internal/testenv"
	"github.com/sessionkit/session/pgstore"
)

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// openPool connects to the test server, or skips (fails under CI) when it is
// unreachable. appName becomes the connections' application_name, by which
// the test finds them to terminate them.
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

// uniqueTable returns a table name no other test uses, and drops the table
// and its version table when the test ends, over a connection of its own.
func uniqueTable(t testing.TB) string {
	table := "reliability_" + randomHex(8)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, testenv.Get(testenv.Postgres))
		if err != nil {
			t.Errorf("dropping %s: %v", table, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP TABLE IF EXISTS "`+table+`", "`+table+`_schema_version"`); err != nil {
			t.Errorf("dropping %s: %v", table, err)
		}
	})
	return table
}

// pgPlan says how long to run the load and how often to terminate the
// store's backends.
type pgPlan struct {
	clients int
	before  time.Duration // load before the first termination
	gap     time.Duration // between terminations
	after   time.Duration // load after the last termination
	kills   int           // how many terminations; 0: as many as fit in until
	until   time.Time     // with kills 0: no termination after this
	leaks   bool          // check goroutines (not when scenarios run in parallel)
}

// TestPostgresTerminate terminates every backend of the store's pool twice
// under load, from another connection: requests fail with 503 or succeed,
// all succeed again within a second, and no acknowledged increment is lost.
func TestPostgresTerminate(t *testing.T) {
	runPostgres(t, pgPlan{clients: 16, before: 1500 * time.Millisecond, gap: 1500 * time.Millisecond, after: 2 * time.Second, kills: 2, leaks: true})
}

func runPostgres(t *testing.T, plan pgPlan) {
	baseline := goroutines()
	app := "reliability_" + randomHex(6)
	pool := openPool(t, app, 8)
	admin := openPool(t, "", 2)
	table := uniqueTable(t)
	store, err := pgstore.New(context.Background(), pool, pgstore.Options{Table: table})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	obs := newObserver()
	a := serve(t, newManager(t, store, obs), requestTimeout)
	l := newLoad(t, a.URL, plan.clients, obs)
	t.Cleanup(l.close)
	l.warmUp()

	type kill struct {
		start, done time.Time
		backends    int
	}
	var kills []kill
	terminate := func() kill {
		k := kill{start: time.Now()}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := admin.QueryRow(ctx,
			`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&k.backends)
		if err != nil {
			t.Errorf("terminating backends: %v", err)
		}
		k.done = time.Now()
		return k
	}
	begin := time.Now()
	l.start()
	time.Sleep(plan.before)
	for i := 0; ; i++ {
		if plan.kills > 0 && i == plan.kills || plan.kills == 0 && time.Now().After(plan.until) {
			break
		}
		if i > 0 {
			time.Sleep(plan.gap)
		}
		kills = append(kills, terminate())
	}
	time.Sleep(plan.after)
	l.stopAndWait()
	end := time.Now()
	acked, sent := l.verify()

	var quiet []window
	from := begin
	var terminated, failures int
	var worstRecovery, worstFail time.Duration
	for i, k := range kills {
		quiet = append(quiet, window{from, k.start})
		// The failures seen between this termination and the next.
		next := end.Add(time.Hour)
		if i+1 < len(kills) {
			next = kills[i+1].start
		}
		failed := func(s sample) bool { return !s.ok() && !s.end.Before(k.start) && s.end.Before(next) }
		st := l.stats(failed)
		var lastFail time.Duration
		for _, s := range l.samples {
			if failed(s) {
				lastFail = max(lastFail, s.end.Sub(k.done))
			}
		}
		if i < 3 || i == len(kills)-1 {
			t.Logf("termination %d at %v: %d backends terminated (the query took %v); %d requests failed (%d with 503), the last %v after, slowest failure %v",
				i+1, k.start.Sub(l.t0).Round(time.Millisecond), k.backends, k.done.Sub(k.start).Round(time.Millisecond), st.total, st.unavailable, lastFail.Round(time.Millisecond), st.maxFail.Round(time.Millisecond))
		}
		if k.backends == 0 {
			t.Errorf("termination %d found no backend of %s: is application_name set?", i+1, app)
		}
		terminated += k.backends
		failures += st.total
		worstRecovery = max(worstRecovery, lastFail)
		worstFail = max(worstFail, st.maxFail)
		from = k.done.Add(recoveryBound)
	}
	quiet = append(quiet, window{from, end.Add(time.Hour)})
	qs := l.checkQuiet(quiet)
	all := l.stats(func(sample) bool { return true })
	t.Logf("%d clients, %v of load, %d terminations (%d backends): %v (%s)", plan.clients, end.Sub(begin).Round(time.Millisecond), len(kills), terminated, all, l.opStats())
	t.Logf("around the terminations: %d requests failed, slowest failure %v, slowest recovery %v", failures, worstFail.Round(time.Millisecond), worstRecovery.Round(time.Millisecond))
	t.Logf("with the backends healthy (before the first termination, and from %v after each): %d requests, %d failed before the deadline, %d reached the %v deadline",
		recoveryBound, qs.total, qs.failed, qs.timedOut, requestTimeout)
	t.Logf("increments: %d acknowledged, %d sent; every final counter checked against them", acked, sent)
	t.Logf("manager: %s", obs.summary())
	t.Logf("unknown-session events (a cookie that opened nothing): %d; sessions lost by clients: %d", obs.eventCount("unknown"), l.lostSessions())
	if n := orphans(t, store, l); n > 0 {
		t.Logf("sessions of the load's users that no client holds (left by failed logins): %d", n)
	}
	l.report(t)
	a.checkPanics(t)

	if plan.leaks {
		l.close()
		a.Close()
		store.Close()
		pool.Close()
		admin.Close()
		checkLeaks(t, baseline)
	}
}
