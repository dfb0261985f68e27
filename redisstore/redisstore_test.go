package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/internal/testenv"
	"github.com/sessionkit/session/redisstore"
	"github.com/sessionkit/session/storetest"
)

// localOptions returns the options of the Redis named by SESSION_TEST_REDIS.
func localOptions(t *testing.T) *redis.Options {
	t.Helper()
	opts, err := redis.ParseURL(testenv.Get(testenv.Redis))
	if err != nil {
		t.Fatalf("%s: %v", testenv.Redis, err)
	}
	return opts
}

// localClient returns a client of the Redis named by SESSION_TEST_REDIS, or
// ends the test if that Redis is unreachable.
func localClient(t *testing.T) *redis.Client {
	t.Helper()
	client := closeLater(t, redis.NewClient(localOptions(t)))
	if err := ping(client); err != nil {
		testenv.Unreachable(t, testenv.Redis, err)
	}
	return client
}

// ownClient returns client, a client of servers the test started, after
// checking that it answers.
func ownClient[C redis.UniversalClient](t *testing.T, client C) C {
	t.Helper()
	closeLater(t, client)
	if err := ping(client); err != nil {
		t.Fatalf("the servers started by the test do not answer: %v", err)
	}
	return client
}

func closeLater[C redis.UniversalClient](t *testing.T, client C) C {
	t.Cleanup(func() { client.Close() })
	return client
}

func ping(client redis.UniversalClient) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return client.Ping(ctx).Err()
}

// newStore returns a store under a random prefix whose keys are deleted when
// the test ends.
func newStore(t *testing.T, client redis.UniversalClient, now func() time.Time) *redisstore.Store {
	prefix := "sessionkit-test:" + storetest.NewID()[:12] + ":"
	t.Cleanup(func() { deletePrefix(t, client, prefix) })
	return redisstore.New(client, redisstore.Options{Prefix: prefix, Now: now})
}

func deletePrefix(t *testing.T, client redis.UniversalClient, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	scan := func(ctx context.Context, node *redis.Client) error {
		iter := node.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			// One key at a time: on a cluster, the keys live in different slots.
			if err := client.Del(ctx, iter.Val()).Err(); err != nil {
				return err
			}
		}
		return iter.Err()
	}
	var err error
	switch c := client.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, scan)
	case *redis.Client:
		err = scan(ctx, c)
	}
	if err != nil {
		t.Errorf("deleting the keys under %q: %v", prefix, err)
	}
}

func runSuite(t *testing.T, client redis.UniversalClient) {
	storetest.RunOptions(t, func(t *testing.T, now func() time.Time) session.Store {
		return newStore(t, client, now)
	}, storetest.Options{ReportsExpired: true})
}

func TestStore(t *testing.T) {
	runSuite(t, localClient(t))
}

func TestCluster(t *testing.T) {
	addrs := cluster(t)
	runSuite(t, ownClient(t, redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})))
}

func TestSentinel(t *testing.T) {
	addr := sentinel(t)
	runSuite(t, ownClient(t, redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName: sentinelMaster, SentinelAddrs: []string{addr},
	})))
}

// TestACL runs the suite as a Redis user allowed only what the README lists.
func TestACL(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	admin := ownClient(t, redis.NewClient(&redis.Options{Addr: srv.addr()}))
	args := []any{"ACL", "SETUSER", "sessions", "reset", "on", ">secret", "resetkeys"}
	for _, rule := range strings.Fields(aclRules) {
		args = append(args, rule)
	}
	if err := admin.Do(ctx, args...).Err(); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	// No PING: the user may run only what the store needs.
	client := closeLater(t, redis.NewClient(&redis.Options{Addr: srv.addr(), Username: "sessions", Password: "secret"}))
	storetest.RunOptions(t, func(t *testing.T, now func() time.Time) session.Store {
		return redisstore.New(client, redisstore.Options{Now: now}) // default prefix
	}, storetest.Options{ReportsExpired: true})
}

// aclRules are the permissions the README documents for the default prefix.
const aclRules = `~session:* resetchannels -@all
	+evalsha +eval +hget +hmget +hset +hdel +del +pexpire +zadd +zrange +zrem +zremrangebyscore +scan`

// newRecord returns a fresh version-1 record that lives for an hour.
func newRecord(subject string) *session.Record {
	now := time.Now()
	return &session.Record{
		ID: storetest.NewID(), Version: 1, Subject: subject,
		Created: now, LastActive: now, IdleDeadline: now.Add(time.Hour), AbsoluteDeadline: now.Add(24 * time.Hour),
		Values: []session.Value{{Key: "a", Data: []byte(`1`)}},
	}
}

func next(rec *session.Record) *session.Record {
	c := *rec
	c.Version++
	return &c
}

// counter counts what a client sends: every command, and every round trip
// (a command alone, or a pipeline).
type counter struct {
	mu    sync.Mutex
	trips int
	cmds  []string
}

func (c *counter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.record(cmd)
		return next(ctx, cmd)
	}
}

func (c *counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.record(cmds...)
		return next(ctx, cmds)
	}
}

func (c *counter) record(cmds ...redis.Cmder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.trips++
	for _, cmd := range cmds {
		c.cmds = append(c.cmds, cmd.Name())
	}
}

// measure returns the round trips and commands that f sends.
func (c *counter) measure(f func()) (int, string) {
	c.mu.Lock()
	c.trips, c.cmds = 0, nil
	c.mu.Unlock()
	f()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.trips, strings.Join(c.cmds, " ")
}

// TestRoundTrips counts the round trips of each operation with a hook, once
// the scripts are in the server's cache.
func TestRoundTrips(t *testing.T) {
	t.Run("single", func(t *testing.T) {
		testRoundTrips(t, localClient(t), 1, 1)
	})
	t.Run("cluster", func(t *testing.T) {
		addrs := cluster(t)
		testRoundTrips(t, ownClient(t, redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})), 3, 3)
	})
}

// indexedCreateTrips and reindexTrips are the round trips of a commit that
// runs the index step: creating a session with a subject, and an update that
// changes its absolute deadline.
func testRoundTrips(t *testing.T, client redis.UniversalClient, indexedCreateTrips, reindexTrips int) {
	ctx := context.Background()
	store := newStore(t, client, nil)
	anon, user := newRecord(""), newRecord("rt-"+storetest.NewID()[:8])
	warm := func(rec *session.Record) {
		t.Helper()
		// Caches the scripts on the nodes that hold rec and its subject.
		if err := store.Commit(ctx, rec, 0); err != nil {
			t.Fatal(err)
		}
		if err := store.Touch(ctx, rec.ID, rec.LastActive, rec.IdleDeadline); err != nil {
			t.Fatal(err)
		}
		if rec.Subject != "" {
			if _, err := store.DeleteSubject(ctx, rec.Subject); err != nil {
				t.Fatal(err)
			}
		}
		if err := store.Delete(ctx, rec.ID); err != nil {
			t.Fatal(err)
		}
	}
	warm(anon)
	warm(user)

	c := new(counter)
	client.AddHook(c)
	for _, op := range []struct {
		name  string
		run   func() error
		trips int
	}{
		{"Commit (create, anonymous)", func() error { return store.Commit(ctx, anon, 0) }, 1},
		{"Commit (create, with subject)", func() error { return store.Commit(ctx, user, 0) }, indexedCreateTrips},
		{"Load", func() error { _, err := store.Load(ctx, user.ID); return err }, 1},
		{"Touch", func() error { return store.Touch(ctx, user.ID, time.Now(), time.Now().Add(time.Hour)) }, 1},
		{"Commit (update, anonymous)", func() error { return store.Commit(ctx, next(anon), 1) }, 1},
		{"Commit (update, with subject)", func() error { return store.Commit(ctx, next(user), 1) }, 1},
		{"Commit (update, new absolute deadline)", func() error {
			rec := next(next(user))
			rec.AbsoluteDeadline = rec.AbsoluteDeadline.Add(time.Hour)
			return store.Commit(ctx, rec, 2)
		}, reindexTrips},
		{"Load (missing)", func() error {
			if _, err := store.Load(ctx, storetest.NewID()); !errors.Is(err, session.ErrNotFound) {
				return err
			}
			return nil
		}, 1},
		{"ListSubject", func() error { _, err := store.ListSubject(ctx, user.Subject); return err }, 2},
		{"Delete", func() error { return store.Delete(ctx, anon.ID) }, 1},
		{"DeleteSubject", func() error { _, err := store.DeleteSubject(ctx, user.Subject); return err }, 3},
	} {
		var err error
		trips, cmds := c.measure(func() { err = op.run() })
		if err != nil {
			t.Fatalf("%s: %v", op.name, err)
		}
		t.Logf("%-30s %d round trip(s): %s", op.name, trips, cmds)
		if trips != op.trips {
			t.Errorf("%s: %d round trips (%s); want %d", op.name, trips, cmds, op.trips)
		}
		if op.name == "Load" && cmds != "hmget" {
			t.Errorf("Load sent %q; want one HMGET", cmds)
		}
	}
}

// TestKeys checks the layout the package documentation describes: TTLs,
// what is indexed, and how the index is cleaned.
func TestKeys(t *testing.T) {
	ctx := context.Background()
	client := localClient(t)
	prefix := "sessionkit-test:" + storetest.NewID()[:12] + ":"
	t.Cleanup(func() { deletePrefix(t, client, prefix) })
	store := redisstore.New(client, redisstore.Options{Prefix: prefix})
	subject := "keys-" + storetest.NewID()[:8]
	index := prefix + "subject:" + subject
	near := func(what string, got, want time.Duration) {
		t.Helper()
		if d := got - want; d < -2*time.Second || d > 2*time.Second {
			t.Errorf("%s = %v; want about %v", what, got, want)
		}
	}

	a, b := newRecord(subject), newRecord(subject)
	for _, rec := range []*session.Record{a, b} {
		if err := store.Commit(ctx, rec, 0); err != nil {
			t.Fatal(err)
		}
	}
	if v := client.HGet(ctx, prefix+a.ID, "v").Val(); v != "1" {
		t.Errorf("version field = %q; want 1", v)
	}
	near("record TTL", client.PTTL(ctx, prefix+a.ID).Val(), time.Hour)
	near("index TTL", client.PTTL(ctx, index).Val(), 24*time.Hour)
	if score := client.ZScore(ctx, index, a.ID).Val(); int64(score) != a.AbsoluteDeadline.UnixMilli() {
		t.Errorf("index score = %v; want the absolute deadline %d", score, a.AbsoluteDeadline.UnixMilli())
	}

	// Touch moves the record's expiry, not the version or the index.
	if err := store.Touch(ctx, a.ID, time.Now(), time.Now().Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	near("record TTL after Touch", client.PTTL(ctx, prefix+a.ID).Val(), 3*time.Hour)
	if v := client.HGet(ctx, prefix+a.ID, "v").Val(); v != "1" {
		t.Errorf("version after Touch = %q; want 1", v)
	}
	// A commit replaces the touch: the record it writes carries its own
	// times, in the touch fields too, where the touch script compares them.
	a2 := next(a)
	if err := store.Commit(ctx, a2, 1); err != nil {
		t.Fatal(err)
	}
	la, idle := client.HGet(ctx, prefix+a.ID, "la").Val(), client.HGet(ctx, prefix+a.ID, "idle").Val()
	if la != strconv.FormatInt(a2.LastActive.UnixNano(), 10) || idle != strconv.FormatInt(a2.IdleDeadline.UnixNano(), 10) {
		t.Errorf("touch fields after a commit = %s, %s; want the commit's times %d, %d",
			la, idle, a2.LastActive.UnixNano(), a2.IdleDeadline.UnixNano())
	}
	near("record TTL after Commit", client.PTTL(ctx, prefix+a.ID).Val(), time.Hour)

	// A record written before commits stored the touch fields has only exp
	// to compare with: a touch that would move it back leaves the record
	// alone, a later one writes both fields.
	if err := client.HDel(ctx, prefix+a.ID, "la", "idle").Err(); err != nil {
		t.Fatal(err)
	}
	stale := a2.LastActive.Add(-time.Minute)
	if err := store.Touch(ctx, a.ID, stale, stale.Add(time.Hour)); err != nil {
		t.Fatalf("stale Touch of a record without touch fields: %v", err)
	}
	if n := client.HExists(ctx, prefix+a.ID, "la").Val(); n {
		t.Errorf("a stale touch wrote the touch fields of a record that had none")
	}
	if got, err := store.Load(ctx, a.ID); err != nil || !got.IdleDeadline.Equal(a2.IdleDeadline) {
		t.Fatalf("Load after a stale touch = %+v, %v; want idle deadline %v", got, err, a2.IdleDeadline)
	}
	near("record TTL after a stale Touch", client.PTTL(ctx, prefix+a.ID).Val(), time.Hour)
	later := time.Now().Add(time.Minute)
	if err := store.Touch(ctx, a.ID, later, later.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, err := store.Load(ctx, a.ID); err != nil || !got.LastActive.Equal(later) || !got.IdleDeadline.Equal(later.Add(time.Hour)) {
		t.Fatalf("Load after a later touch = %+v, %v; want %v, %v", got, err, later, later.Add(time.Hour))
	}
	near("record TTL after a later Touch", client.PTTL(ctx, prefix+a.ID).Val(), time.Hour+time.Minute)

	// Anonymous sessions and tombstones are not indexed; deleted sessions
	// and tombstones leave the index when it is read.
	anon := newRecord("")
	if err := store.Commit(ctx, anon, 0); err != nil {
		t.Fatal(err)
	}
	if n := client.Exists(ctx, prefix+"subject:").Val(); n != 0 {
		t.Errorf("an anonymous session was indexed")
	}
	tomb := next(b)
	tomb.RenewedTo = storetest.NewID()
	if err := store.Commit(ctx, tomb, 1); err != nil {
		t.Fatal(err)
	}
	if err := store.Delete(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if n := client.ZCard(ctx, index).Val(); n != 2 {
		t.Fatalf("index holds %d members before it is read; want 2", n)
	}
	if list, err := store.ListSubject(ctx, subject); err != nil || len(list) != 0 {
		t.Fatalf("ListSubject = %d records, %v; want none", len(list), err)
	}
	if n := client.Exists(ctx, index).Val(); n != 0 {
		t.Errorf("index still exists after its members left")
	}

	// An ID that is not a store ID never reaches another key.
	if _, err := store.Load(ctx, "subject:"+subject); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Load of a malformed ID = %v; want ErrNotFound", err)
	}
	c := newRecord(subject)
	if err := store.Commit(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	if err := store.Delete(ctx, "subject:"+subject); err != nil {
		t.Fatal(err)
	}
	if n := client.Exists(ctx, index).Val(); n != 1 {
		t.Errorf("Delete of a malformed ID deleted the index")
	}

	// A corrupt record is an error, not a panic and not "not found".
	client.HSet(ctx, prefix+c.ID, "d", "\x01garbage")
	if _, err := store.Load(ctx, c.ID); err == nil || errors.Is(err, session.ErrNotFound) ||
		!strings.HasPrefix(err.Error(), "redisstore: load: ") {
		t.Errorf("Load of a corrupt record = %v; want a redisstore error", err)
	}
	if n, err := store.DeleteSubject(ctx, subject); err != nil || n != 1 {
		t.Errorf("DeleteSubject with a corrupt record = %d, %v; want 1, nil", n, err)
	}
}

// lossyConn loses the reply to the first command that contains target: the
// server runs it, the client sees the connection drop, and go-redis retries.
type lossyConn struct {
	net.Conn
	target []byte
	armed  *atomic.Bool
	lost   bool
}

func (c *lossyConn) Write(b []byte) (int, error) {
	if bytes.Contains(b, c.target) && bytes.Contains(bytes.ToLower(b), []byte("evalsha")) && c.armed.CompareAndSwap(true, false) {
		c.lost = true
	}
	return c.Conn.Write(b)
}

func (c *lossyConn) Read(b []byte) (int, error) {
	if c.lost {
		time.Sleep(100 * time.Millisecond) // let the server run the command
		c.Conn.Close()
		return 0, io.EOF
	}
	return c.Conn.Read(b)
}

// TestRetriedCommit loses the reply to a commit: go-redis sends the script
// again, and the script must recognise its own write instead of reporting a
// conflict (which would make the manager apply the changes twice).
func TestRetriedCommit(t *testing.T) {
	t.Run("anonymous", func(t *testing.T) { testRetriedCommit(t, "") })
	// With a subject, each lost commit moves the absolute deadline, so the
	// index step runs in the script whose reply is lost.
	t.Run("subject", func(t *testing.T) { testRetriedCommit(t, "retry-"+storetest.NewID()[:8]) })
}

func testRetriedCommit(t *testing.T, subject string) {
	ctx := context.Background()
	rec := newRecord(subject)
	armed := new(atomic.Bool)
	opts := localOptions(t)
	opts.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := new(net.Dialer).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &lossyConn{Conn: conn, target: []byte(rec.ID), armed: armed}, nil
	}
	client := closeLater(t, redis.NewClient(opts))
	if err := ping(client); err != nil {
		testenv.Unreachable(t, testenv.Redis, err)
	}
	prefix := "sessionkit-test:" + storetest.NewID()[:12] + ":"
	t.Cleanup(func() { deletePrefix(t, client, prefix) })
	store := redisstore.New(client, redisstore.Options{Prefix: prefix})
	if err := store.Commit(ctx, rec, 0); err != nil { // caches the script
		t.Fatal(err)
	}
	latest := rec
	for range 2 {
		rec := next(latest)
		if subject != "" {
			rec.AbsoluteDeadline = rec.AbsoluteDeadline.Add(time.Hour)
		}
		latest = rec
		armed.Store(true)
		if err := store.Commit(ctx, rec, rec.Version-1); err != nil {
			t.Fatalf("Commit of version %d whose reply was lost: %v", rec.Version, err)
		}
		if armed.Load() {
			t.Fatal("the reply was not lost: the test tests nothing")
		}
		got, err := store.Load(ctx, rec.ID)
		if err != nil || got.Version != rec.Version {
			t.Fatalf("Load = %+v, %v; want version %d", got, err, rec.Version)
		}
		if subject != "" {
			list, err := store.ListSubject(ctx, subject)
			if err != nil || len(list) != 1 || list[0].Version != rec.Version {
				t.Fatalf("ListSubject after a commit whose reply was lost = %v, %v; want version %d", list, err, rec.Version)
			}
			if score := client.ZScore(ctx, prefix+"subject:"+subject, rec.ID).Val(); int64(score) != rec.AbsoluteDeadline.UnixMilli() {
				t.Fatalf("index score after a commit whose reply was lost = %v; want the new absolute deadline %d", score, rec.AbsoluteDeadline.UnixMilli())
			}
		}
	}
	// A different commit of the same version is still a conflict.
	if err := store.Commit(ctx, next(next(rec)), 2); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("stale commit = %v; want ErrConflict", err)
	}
}

// TestFault stops the server under a live client: operations fail, promptly
// and with wrapped errors, and succeed again once the server is back.
func TestFault(t *testing.T) {
	srv := startServer(t)
	before := runtime.NumGoroutine()
	client := redis.NewClient(&redis.Options{Addr: srv.addr(), ContextTimeoutEnabled: true})
	store := redisstore.New(client, redisstore.Options{})
	ctx := context.Background()
	rec := newRecord("alice")
	ops := []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"Commit", func(ctx context.Context) error { return store.Commit(ctx, newRecord("alice"), 0) }},
		{"Load", func(ctx context.Context) error { _, err := store.Load(ctx, rec.ID); return err }},
		{"Touch", func(ctx context.Context) error {
			return store.Touch(ctx, rec.ID, time.Now(), time.Now().Add(time.Hour))
		}},
		{"ListSubject", func(ctx context.Context) error { _, err := store.ListSubject(ctx, "alice"); return err }},
		{"Count", func(ctx context.Context) error { _, err := store.Count(ctx); return err }},
		{"Delete", func(ctx context.Context) error { return store.Delete(ctx, storetest.NewID()) }},
	}
	if err := store.Commit(ctx, rec, 0); err != nil {
		t.Fatal(err)
	}
	for _, op := range ops {
		if err := op.run(ctx); err != nil {
			t.Fatalf("%s before the fault: %v", op.name, err)
		}
	}

	srv.stop()
	const deadline = 500 * time.Millisecond
	for _, op := range ops {
		ctx, cancel := context.WithTimeout(ctx, deadline)
		start := time.Now()
		err := op.run(ctx)
		elapsed := time.Since(start)
		cancel()
		switch {
		case err == nil:
			t.Errorf("%s with the server down succeeded", op.name)
		case errors.Is(err, session.ErrNotFound), errors.Is(err, session.ErrConflict):
			t.Errorf("%s with the server down = %v; a store failure must not look like an answer", op.name, err)
		case !strings.HasPrefix(err.Error(), "redisstore: ") || errors.Unwrap(err) == nil:
			t.Errorf("%s with the server down = %v; want a wrapped redisstore error", op.name, err)
		}
		if elapsed > deadline+400*time.Millisecond {
			t.Errorf("%s with the server down took %v; want about the %v deadline", op.name, elapsed, deadline)
		}
		t.Logf("%-11s failed after %4dms: %v", op.name, elapsed.Milliseconds(), err)
	}

	if err := srv.start(); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	// The server lost its data and its script cache: the first commit with a
	// subject also exercises the EVAL fallback of the script that writes
	// the record and its index entry.
	rec = newRecord("alice")
	for {
		ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		err := store.Commit(ctx, rec, 0)
		cancel()
		if err == nil || errors.Is(err, session.ErrConflict) { // a conflict: an attempt landed
			break
		}
		if time.Since(restarted) > time.Second {
			t.Fatalf("Commit still fails %v after the restart: %v", time.Since(restarted), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("recovered %v after the restart", time.Since(restarted).Round(time.Millisecond))
	for _, op := range ops {
		if err := op.run(ctx); err != nil {
			t.Errorf("%s after the restart: %v", op.name, err)
		}
	}
	if list, err := store.ListSubject(ctx, "alice"); err != nil || len(list) != 2 {
		t.Errorf("ListSubject after the restart = %d records, %v; want 2", len(list), err)
	}

	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	// The client's goroutines end once it is closed; allow a moment, and a
	// little slack for the runtime's own.
	for wait := time.Now(); runtime.NumGoroutine() > before+2; {
		if time.Since(wait) > 3*time.Second {
			pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
			t.Fatalf("%d goroutines after Close; %d before the client", runtime.NumGoroutine(), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestNilClient(t *testing.T) {
	store := redisstore.New(nil, redisstore.Options{})
	ctx := context.Background()
	id := storetest.NewID()
	if _, err := store.Load(ctx, id); err == nil {
		t.Error("Load with a nil client succeeded")
	}
	if err := store.Commit(ctx, newRecord(""), 0); err == nil {
		t.Error("Commit with a nil client succeeded")
	}
	if err := store.Commit(ctx, nil, 0); err == nil {
		t.Error("Commit of a nil record succeeded")
	}
}

// TestIndexStepRedone: an index step lost after its commit landed (the
// connection dropped between the two) leaves the record marked pending, and
// the next commit, though it changes neither subject nor deadline, redoes it.
func TestIndexStepRedone(t *testing.T) {
	ctx := context.Background()
	client := localClient(t)
	prefix := "sessionkit-test:" + storetest.NewID()[:12] + ":"
	t.Cleanup(func() { deletePrefix(t, client, prefix) })
	store := redisstore.New(client, redisstore.Options{Prefix: prefix})
	rec := newRecord("ix-" + storetest.NewID()[:8])
	if err := store.Commit(ctx, rec, 0); err != nil {
		t.Fatal(err)
	}
	recordKey, setKey := prefix+rec.ID, prefix+"subject:"+rec.Subject
	if n, _ := client.HExists(ctx, recordKey, "ixp").Result(); n {
		t.Fatal("index pending after a confirmed index step")
	}
	// An ordinary update leaves nothing pending.
	if err := store.Commit(ctx, next(rec), 1); err != nil {
		t.Fatal(err)
	}
	if n, _ := client.HExists(ctx, recordKey, "ixp").Result(); n {
		t.Fatal("index pending after an update that needed no index step")
	}
	// Now lose the index step: the member is gone and the flag stays.
	client.ZRem(ctx, setKey, rec.ID)
	client.HSet(ctx, recordKey, "ixp", "1")
	if list, _ := store.ListSubject(ctx, rec.Subject); len(list) != 0 {
		t.Fatalf("listed %d sessions after removing the member", len(list))
	}
	if err := store.Commit(ctx, next(next(rec)), 2); err != nil {
		t.Fatal(err)
	}
	list, err := store.ListSubject(ctx, rec.Subject)
	if err != nil || len(list) != 1 || list[0].ID != rec.ID {
		t.Fatalf("after the next commit ListSubject = %v, %v; want the session back in its index", list, err)
	}
	if n, _ := client.HExists(ctx, recordKey, "ixp").Result(); n {
		t.Fatal("index still pending after the step was redone")
	}
	// A commit writes the record over the old one without deleting it
	// first: a mark that the new record does not need must still go.
	client.HSet(ctx, recordKey, "ixp", "1")
	tomb := next(next(next(rec)))
	tomb.Ended = true
	if err := store.Commit(ctx, tomb, 3); err != nil {
		t.Fatal(err)
	}
	if n, _ := client.HExists(ctx, recordKey, "ixp").Result(); n {
		t.Fatal("a tombstone kept the index pending mark of the session it replaced")
	}
	if fields := client.HKeys(ctx, recordKey).Val(); len(fields) != 9 {
		t.Errorf("tombstone fields = %v; want v exp abs d s t w la idle", fields)
	}
}

// TestIndexWithCommit: on one server the index step runs in the commit's own
// script, so a commit that loses its compare-and-swap adds nothing to any
// index, and one that wins leaves nothing pending.
func TestIndexWithCommit(t *testing.T) {
	ctx := context.Background()
	client := localClient(t)
	prefix := "sessionkit-test:" + storetest.NewID()[:12] + ":"
	t.Cleanup(func() { deletePrefix(t, client, prefix) })
	store := redisstore.New(client, redisstore.Options{Prefix: prefix})
	rec := newRecord("a-" + storetest.NewID()[:8])
	if err := store.Commit(ctx, rec, 0); err != nil {
		t.Fatal(err)
	}
	if n, _ := client.HExists(ctx, prefix+rec.ID, "ixp").Result(); n {
		t.Error("index pending after a create on one server")
	}
	other := "b-" + storetest.NewID()[:8]
	moved := next(rec)
	moved.Subject = other
	for _, expected := range []uint64{0, 5} {
		if err := store.Commit(ctx, moved, expected); !errors.Is(err, session.ErrConflict) {
			t.Fatalf("Commit expecting version %d = %v; want ErrConflict", expected, err)
		}
		if n := client.Exists(ctx, prefix+"subject:"+other).Val(); n != 0 {
			t.Fatalf("a commit that lost its compare-and-swap (expected %d) indexed the session", expected)
		}
	}
	if err := store.Commit(ctx, moved, 1); err != nil {
		t.Fatal(err)
	}
	if list, err := store.ListSubject(ctx, other); err != nil || len(list) != 1 || list[0].ID != rec.ID {
		t.Fatalf("ListSubject(%s) = %v, %v; want the moved session", other, list, err)
	}
	if list, err := store.ListSubject(ctx, rec.Subject); err != nil || len(list) != 0 {
		t.Fatalf("ListSubject(%s) = %v, %v; want nothing once the session moved", rec.Subject, list, err)
	}
}
