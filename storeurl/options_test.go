package storeurl_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/internal/testenv"
	"github.com/sessionkit/session/storeurl"
)

// TestExistingSQLite: with Existing, a missing file or a database without the
// sessions table is ErrNotExist, and neither is created.
func TestExistingSQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	existing := storeurl.Options{Existing: true}

	typo := filepath.Join(dir, "typo.db")
	_, err := storeurl.OpenWith(ctx, "sqlite://"+filepath.ToSlash(typo), existing)
	if !errors.Is(err, storeurl.ErrNotExist) || !strings.Contains(err.Error(), "no database file") {
		t.Fatalf("missing file: %v, want ErrNotExist", err)
	}
	if _, err := os.Stat(typo); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("OpenWith(Existing) created %s: %v", typo, err)
	}

	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = storeurl.OpenWith(ctx, "sqlite://"+filepath.ToSlash(empty), existing)
	if !errors.Is(err, storeurl.ErrNotExist) || !strings.Contains(err.Error(), "no sessions table") {
		t.Fatalf("file without the table: %v, want ErrNotExist", err)
	}
	if fi, err := os.Stat(empty); err != nil || fi.Size() != 0 {
		t.Fatalf("OpenWith(Existing) wrote to a database without the table: %v, %v", fi, err)
	}

	// Once Open created it, OpenWith(Existing) opens it.
	raw := "sqlite://" + filepath.ToSlash(filepath.Join(dir, "sessions.db"))
	s, err := storeurl.Open(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	s.(io.Closer).Close()
	s, err = storeurl.OpenWith(ctx, raw, existing)
	if err != nil {
		t.Fatalf("existing database: %v", err)
	}
	s.(io.Closer).Close()

	if _, err := storeurl.OpenWith(ctx, raw, storeurl.Options{Table: "bench"}); err == nil {
		t.Fatal("sqlite with a Table: no error")
	}
}

// randomName is a table name or key prefix no other test uses.
func randomName() string { return "storeurl_test_" + strings.ToLower(rand.Text()[:8]) }

func TestExistingPostgres(t *testing.T) {
	raw := testenv.Get(testenv.Postgres)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := storeurl.Open(ctx, raw) // creates the default table
	if err != nil {
		testenv.Unreachable(t, testenv.Postgres, err)
	}
	s.(io.Closer).Close()
	testExistingTable(t, raw, func(table string) {
		conn, err := pgx.Connect(context.Background(), raw)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), `DROP TABLE "`+table+`", "`+table+`_schema_version"`); err != nil {
			t.Error(err)
		}
	})
}

func TestExistingMySQL(t *testing.T) {
	cfg, err := mysql.ParseDSN(testenv.Get(testenv.MySQL))
	if err != nil {
		t.Fatalf("%s: %v", testenv.MySQL, err)
	}
	u := url.URL{Scheme: "mysql", User: url.UserPassword(cfg.User, cfg.Passwd), Host: cfg.Addr, Path: "/" + cfg.DBName}
	if cfg.Passwd == "" {
		u.User = url.User(cfg.User)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := storeurl.Open(ctx, u.String())
	if err != nil {
		testenv.Unreachable(t, testenv.MySQL, err)
	}
	s.(io.Closer).Close()
	testExistingTable(t, u.String(), func(table string) {
		db, err := sql.Open("mysql", testenv.Get(testenv.MySQL))
		if err != nil {
			t.Error(err)
			return
		}
		defer db.Close()
		if _, err := db.Exec("DROP TABLE `" + table + "`, `" + table + "_schema_version`"); err != nil {
			t.Error(err)
		}
	})
}

// testExistingTable: a table that is missing is ErrNotExist with Existing;
// without, OpenWith creates it, and then opens it with Existing too. The
// default table exists.
func testExistingTable(t *testing.T, raw string, drop func(table string)) {
	ctx := context.Background()
	table := randomName()
	_, err := storeurl.OpenWith(ctx, raw, storeurl.Options{Existing: true, Table: table})
	if !errors.Is(err, storeurl.ErrNotExist) || !strings.Contains(err.Error(), table) {
		t.Fatalf("missing table: %v, want ErrNotExist naming %s", err, table)
	}
	s, err := storeurl.OpenWith(ctx, raw, storeurl.Options{Table: table})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.(io.Closer).Close()
		drop(table)
	})
	s2, err := storeurl.OpenWith(ctx, raw, storeurl.Options{Existing: true, Table: table})
	if err != nil {
		t.Fatalf("table just created: %v", err)
	}
	s2.(io.Closer).Close()
	s3, err := storeurl.OpenWith(ctx, raw, storeurl.Options{Existing: true})
	if err != nil {
		t.Fatalf("default table: %v", err)
	}
	s3.(io.Closer).Close()
	if _, err := storeurl.OpenWith(ctx, raw, storeurl.Options{Prefix: "x:"}); err == nil {
		t.Fatal("SQL store with a Prefix: no error")
	}
}

func TestRedisPrefix(t *testing.T) {
	u, err := url.Parse(testenv.Get(testenv.Redis))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	plain, err := storeurl.Open(ctx, u.String())
	if err != nil {
		testenv.Unreachable(t, testenv.Redis, err)
	}
	defer plain.(io.Closer).Close()
	prefix := randomName() + ":"
	s, err := storeurl.OpenWith(ctx, u.String(), storeurl.Options{Prefix: prefix, Existing: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.(io.Closer).Close()
	id := strings.Repeat("ab", 32)
	rec := &session.Record{ID: id, Version: 1, Created: time.Now(), IdleDeadline: time.Now().Add(time.Minute), AbsoluteDeadline: time.Now().Add(time.Minute)}
	if err := s.Commit(ctx, rec, 0); err != nil {
		t.Fatal(err)
	}
	defer s.Delete(ctx, id)
	if _, err := s.Load(ctx, id); err != nil {
		t.Fatalf("Load under the prefix: %v", err)
	}
	if _, err := plain.Load(ctx, id); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load under the default prefix: %v, want ErrNotFound", err)
	}
	if _, err := storeurl.OpenWith(ctx, u.String(), storeurl.Options{Table: "t"}); err == nil {
		t.Fatal("redis with a Table: no error")
	}
}
