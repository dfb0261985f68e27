package storeurl_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/internal/testenv"
	"github.com/sessionkit/session/memcachedstore"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/sqlitestore"
	"github.com/sessionkit/session/storetest"
	"github.com/sessionkit/session/storeurl"
)

// capabilities lists the optional interfaces s implements.
func capabilities(s session.Store) []string {
	var caps []string
	if _, ok := s.(session.Toucher); ok {
		caps = append(caps, "Toucher")
	}
	if _, ok := s.(session.SubjectIndex); ok {
		caps = append(caps, "SubjectIndex")
	}
	if _, ok := s.(session.Iterator); ok {
		caps = append(caps, "Iterator")
	}
	if _, ok := s.(session.Counter); ok {
		caps = append(caps, "Counter")
	}
	if _, ok := s.(session.Sweeper); ok {
		caps = append(caps, "Sweeper")
	}
	return caps
}

// check opens rawURL, runs a session through the store, checks that it has
// the capabilities of the package's store, and closes it twice. want is the
// type of the package's store.
func check(t *testing.T, rawURL string, want any) session.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := storeurl.Open(ctx, rawURL)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	c, ok := s.(io.Closer)
	if !ok {
		t.Fatalf("the store of %s is not an io.Closer", storeurl.Redact(rawURL))
	}
	t.Cleanup(func() { c.Close() })

	inner := s
	if u, ok := s.(interface{ Unwrap() session.Store }); ok {
		inner = u.Unwrap()
	}
	if reflect.TypeOf(inner) != reflect.TypeOf(want) {
		t.Fatalf("Open returned a %T; want a %T", inner, want)
	}
	if got, want := capabilities(s), capabilities(inner); !reflect.DeepEqual(got, want) {
		t.Fatalf("the store Open returned has capabilities %v; the %T has %v", got, inner, want)
	}

	now := time.Now()
	rec := &session.Record{
		ID: storetest.NewID(), Version: 1, Created: now, LastActive: now,
		IdleDeadline: now.Add(time.Hour), AbsoluteDeadline: now.Add(24 * time.Hour),
		Values: []session.Value{{Key: "a", Data: []byte(`"x"`)}},
	}
	if err := s.Commit(ctx, rec, 0); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	got, err := s.Load(ctx, rec.ID)
	if err != nil || got.Version != 1 || string(got.Values[0].Data) != `"x"` {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	if err := s.Delete(ctx, rec.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	return s
}

func TestOpenMemory(t *testing.T) {
	check(t, "memory:", (*memstore.Store)(nil))
	check(t, "memory://?sweep_interval=1s", (*memstore.Store)(nil))
}

func TestOpenSQLite(t *testing.T) {
	dir := t.TempDir()
	abs := filepath.Join(dir, "abs.db")
	check(t, "sqlite://"+filepath.ToSlash(abs), (*sqlitestore.Store)(nil))
	if _, err := os.Stat(abs); err != nil {
		t.Fatalf("sqlite:///abs/path did not create %s: %v", abs, err)
	}

	t.Chdir(dir)
	if err := os.Mkdir("data", 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, url, file string
	}{
		{"opaque", "sqlite:rel.db", "rel.db"},
		{"two slashes", "sqlite://data/rel.db", "data/rel.db"},
		{"sqlite3 with options", "sqlite3:opt.db?sweep_interval=1m&sweep_batch=10", "opt.db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, tc.url, (*sqlitestore.Store)(nil))
			if _, err := os.Stat(filepath.Join(dir, tc.file)); err != nil {
				t.Fatalf("%s did not create %s: %v", tc.url, tc.file, err)
			}
		})
	}
}

// TestSQLiteCloseClosesTheDatabase: after Close, the file is free: the
// store no longer answers.
func TestSQLiteCloseClosesTheDatabase(t *testing.T) {
	s := check(t, "sqlite://"+filepath.ToSlash(filepath.Join(t.TempDir(), "s.db")), (*sqlitestore.Store)(nil))
	if _, err := s.Load(context.Background(), storetest.NewID()); err == nil || errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load after Close = %v; want an error from the closed database", err)
	}
}

func memcachedAddr(t *testing.T) string {
	addr := testenv.Get(testenv.Memcached)
	conn, err := net.DialTimeout("tcp", strings.Split(addr, ",")[0], time.Second)
	if err != nil {
		testenv.Unreachable(t, testenv.Memcached, err)
	}
	conn.Close()
	return addr
}

func TestOpenMemcached(t *testing.T) {
	addr := memcachedAddr(t)
	s := check(t, "memcached://"+addr+"?prefix=storeurltest:&timeout=1s&max_idle_conns=4", (*memcachedstore.Store)(nil))
	if _, ok := s.(session.SubjectIndex); ok {
		t.Fatal("the memcached store has a subject index")
	}
}

func TestOpenRedis(t *testing.T) {
	raw := testenv.Get(testenv.Redis)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := storeurl.Open(ctx, raw)
	if err != nil {
		testenv.Unreachable(t, testenv.Redis, err)
	}
	s.(io.Closer).Close()
	inner := s.(interface{ Unwrap() session.Store }).Unwrap()
	check(t, raw, inner)
}

func TestOpenPostgres(t *testing.T) {
	raw := testenv.Get(testenv.Postgres)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := storeurl.Open(ctx, raw)
	if err != nil {
		testenv.Unreachable(t, testenv.Postgres, err)
	}
	s.(io.Closer).Close()
	inner := s.(interface{ Unwrap() session.Store }).Unwrap()
	check(t, raw, inner)
	check(t, strings.Replace(raw, "postgres://", "postgresql://", 1), inner)
}

func TestOpenMySQL(t *testing.T) {
	// The test DSN is go-sql-driver's; make it a URL.
	cfg, err := mysql.ParseDSN(testenv.Get(testenv.MySQL))
	if err != nil {
		t.Fatalf("%s: %v", testenv.MySQL, err)
	}
	u := url.URL{Scheme: "mysql", User: url.UserPassword(cfg.User, cfg.Passwd), Host: cfg.Addr, Path: "/" + cfg.DBName}
	if cfg.Passwd == "" {
		u.User = url.User(cfg.User)
	}
	raw := u.String()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := storeurl.Open(ctx, raw)
	if err != nil {
		testenv.Unreachable(t, testenv.MySQL, err)
	}
	s.(io.Closer).Close()
	inner := s.(interface{ Unwrap() session.Store }).Unwrap()
	check(t, raw, inner)
	check(t, strings.Replace(raw, "mysql://", "mariadb://", 1)+"?timeout=5s", inner)
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct {
		name, url, want string
	}{
		{name: "unknown scheme", url: "mongodb://127.0.0.1/sessions", want: `unknown scheme "mongodb"`},
		{name: "lists the schemes", url: "etcd://127.0.0.1", want: "memory, sqlite"},
		{name: "no scheme", url: "127.0.0.1:6379", want: "not a store URL"},
		{name: "empty", url: "", want: "not a store URL"},
		{name: "path", url: "/var/lib/sessions.db", want: "not a store URL"},
		{name: "sqlite without path", url: "sqlite:", want: "no database path"},
		{name: "sqlite in memory", url: "sqlite::memory:", want: "memory:"},
		{name: "sqlite missing directory", url: "sqlite:///nonexistent-dir-4a1b/sessions.db", want: "no such file"},
		{name: "sentinel without master", url: "redis-sentinel://127.0.0.1:1", want: "master"},
		{name: "memcached unreachable", url: "memcached://127.0.0.1:1?timeout=100ms", want: "ping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := storeurl.Open(context.Background(), tc.url)
			if err == nil {
				s.(io.Closer).Close()
				t.Fatalf("Open(%q) succeeded", tc.url)
			}
			if !strings.HasPrefix(err.Error(), "storeurl: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open(%q) = %v; want an error containing %q", tc.url, err, tc.want)
			}
		})
	}
}

func ExampleRedact() {
	fmt.Println(storeurl.Redact("redis://:s3cret@10.0.0.1:6379/0"))
	fmt.Println(storeurl.Redact("postgres://app:s3cret@db.internal/app?sslmode=verify-full"))
	fmt.Println(storeurl.Redact("redis-sentinel://s1,s2/?master=main&sentinel_password=s3cret"))
	// Output:
	// redis://:xxxxx@10.0.0.1:6379/0
	// postgres://app:xxxxx@db.internal/app?sslmode=verify-full
	// redis-sentinel://s1,s2/?master=main&sentinel_password=xxxxx
}
